"""Shape layers: Flatten (images to vectors, before a discriminator's Linear) and
Unflatten (vectors to images, after a generator's Linear). Both are reshapes, whose
gradient is the reshape back."""
from minigan.autograd import Tensor
from minigan.nn.module import Module


class Flatten(Module):
    """Merge dims start_dim..end_dim into one.

    Shape: (N, C, H, W) -> (N, C·H·W) with the defaults start_dim=1, end_dim=-1.

    >>> import minigan
    >>> Flatten()(minigan.zeros(2, 1, 28, 28)).shape
    (2, 784)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"Flatten: expected a Tensor, found {type(x).__name__}")
        for dim in (self.start_dim, self.end_dim):
            if not -x.ndim <= dim < x.ndim:
                raise ValueError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"
                                 f": dim {dim} is out of range for an input of shape {x.shape}")
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim "
                             f"{self.end_dim} for an input of shape {x.shape}")
        return x.flatten(start, end)  # (..., d_start, ..., d_end, ...) -> (..., ∏d, ...)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``.

    Shape: (N, C·H·W) -> (N, C, H, W) for Unflatten(1, (C, H, W)).

    >>> import minigan
    >>> Unflatten(1, (1, 28, 28))(minigan.zeros(2, 784)).shape
    (2, 1, 28, 28)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)
        if not self.unflattened_size or any(
                isinstance(n, bool) or not isinstance(n, int) or n <= 0
                for n in self.unflattened_size):
            raise ValueError(f"Unflatten: unflattened_size must be positive ints, found "
                             f"{unflattened_size!r}")

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"Unflatten: expected a Tensor, found {type(x).__name__}")
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(f"Unflatten: dim {self.dim} is out of range for an input of "
                             f"shape {x.shape}")
        dim = self.dim % x.ndim
        count = 1
        for n in self.unflattened_size:
            count *= n
        if count != x.shape[dim]:
            raise ValueError(f"Unflatten: sizes {self.unflattened_size} hold {count} "
                             f"elements, but dim {self.dim} of the input (shape {x.shape}) "
                             f"has {x.shape[dim]}")
        # (..., d, ...) -> (..., *unflattened_size, ...)
        return x.reshape(x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
