"""How a class label y enters a conditional model: one component, asked by the model only.

``Unconditioned`` is the plain GAN's (no label anywhere); ``OneHot`` is the notes' CGAN
(notes 000: "latent vector and one-hot vector concatenated"): G's input is [z, onehot(y)]
and D's input is x with the one-hot label appended, as K constant channels for images.
The training loop, the CLI and the metrics never look at labels themselves: they ask the
model's component for the labels of a picture grid (``grid_labels``: one row per class)
or of a batch of samples (``cycle_labels``: the classes in turn), so both are built one
way.

>>> import minigan
>>> c = OneHot(3)
>>> c.latent(minigan.zeros(2, 4), minigan.tensor([2, 0])).shape      # [z, onehot(y)]
(2, 7)
>>> c.grid_labels(per_class=2).numpy().tolist(), c.cycle_labels(4).numpy().tolist()
([0, 0, 1, 1, 2, 2], [0, 1, 2, 0])
"""
import numpy as np

from minigan.autograd import Tensor
from minigan.backend import get_array_module, to_device
from minigan.functional import broadcast_to, cat, reshape


class Unconditioned:
    """No condition: G sees z, D sees x, and there are no labels to draw."""
    num_classes = None
    extra = 0  # numbers the condition adds to G's latent and to D's input per sample

    def latent(self, z, labels=None):
        return z

    def input(self, x, labels=None):
        return x

    def grid_labels(self, per_class, device="cpu"):
        return None

    def cycle_labels(self, n, device="cpu"):
        return None


class OneHot(Unconditioned):
    """The label as a one-hot vector: joined to z for G, to x for D (K constant channels
    of an image, K more features of a point)."""

    def __init__(self, num_classes):
        self.num_classes = self.extra = int(num_classes)

    def latent(self, z, labels):
        """[z, onehot(y)] (N, Z + K)."""
        return cat([z, one_hot(labels, self.num_classes, z)], axis=1)

    def input(self, x, labels):
        """x with the one-hot label appended: (N, C + K, H, W) or (N, D + K)."""
        y = one_hot(labels, self.num_classes, x)
        if x.ndim == 4:
            y = broadcast_to(reshape(y, y.shape + (1, 1)),  # (N, K) -> (N, K, 1, 1)
                             (x.shape[0], self.num_classes) + x.shape[2:])  # -> (N, K, H, W)
        return cat([x, y], axis=1)

    def grid_labels(self, per_class, device="cpu"):
        """0 … 0 1 … 1 …, ``per_class`` of each: a grid with one row per class."""
        return Tensor(to_device(np.repeat(np.arange(self.num_classes), per_class), device))

    def cycle_labels(self, n, device="cpu"):
        """0 1 … K−1 0 1 …, n labels: every batch of samples mixes all classes."""
        return Tensor(to_device(np.arange(n) % self.num_classes, device))


def one_hot(labels, num_classes, like):
    """(N,) integer labels -> (N, num_classes) one-hot rows (a constant), with the dtype
    and device of ``like``.

    >>> import minigan
    >>> one_hot(minigan.tensor([2, 0]), 3, minigan.zeros(1)).data.tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    xp = get_array_module(like.data)
    index = xp.asarray(labels.data).astype(xp.int64)
    if index.ndim != 1 or (index.size and not 0 <= int(index.min()) <= int(index.max())
                           < num_classes):
        raise ValueError(f"expected labels (N,) in 0..{num_classes - 1}, found shape "
                         f"{tuple(index.shape)} with values "
                         f"{sorted(set(index.tolist()))[:5]}")
    rows = xp.zeros((index.shape[0], num_classes), dtype=like.dtype)
    rows[xp.arange(index.shape[0]), index] = 1
    return Tensor(rows)
