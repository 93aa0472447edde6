"""Embedding: a lookup table of learned vectors, one row per class (conditional GANs embed
the label y and feed it to G and D with the noise or the image).

y = W[i];  ∂L/∂W[k] = Σ over positions with i = k of ∂L/∂y  — a scatter-add, so a label that
occurs several times in a batch collects the gradients of every occurrence.
"""
import numpy as np

from minigan import backend, creation
from minigan.autograd import Tensor
from minigan.functional.shapes import getitem
from minigan.nn import init
from minigan.nn.module import Module, Parameter


class Embedding(Module):
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by integer indices,
    initialised N(0, 1) like PyTorch's.

    Shape: indices (*) of integers in [0, num_embeddings) -> (*, embedding_dim).

    >>> import minigan
    >>> emb = Embedding(10, 4)
    >>> emb(minigan.tensor([3, 3, 7])).shape
    (3, 4)
    """

    def __init__(self, num_embeddings, embedding_dim, device=None, dtype=None):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings),
                            ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Embedding: {name} must be a positive int, found {value!r}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(creation.zeros(num_embeddings, embedding_dim, dtype=dtype,
                                               device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, indices):
        if isinstance(indices, Tensor):
            array = indices.data
        elif isinstance(indices, backend.ARRAY_TYPES):
            array = indices
        else:
            array = np.asarray(indices)
        if array.dtype.kind not in "iu":
            raise TypeError(f"Embedding: expected integer indices, found dtype {array.dtype}")
        if array.size and (int(array.min()) < 0 or int(array.max()) >= self.num_embeddings):
            raise IndexError(f"Embedding: indices must lie in [0, {self.num_embeddings}), "
                             f"found values from {int(array.min())} to {int(array.max())}")
        return getitem(self.weight, backend.to_device(array, self.weight.device))

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
