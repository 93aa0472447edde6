"""How a class label y enters a conditional model: one component, asked by the model only.

``Unconditioned`` is the plain GAN's (no label anywhere); ``OneHot`` is the notes' CGAN
(notes 000: "latent vector and one-hot vector concatenated"): G's input is [z, onehot(y)]
and D's input is x with the one-hot label appended, as K constant channels for images.
(A D built for images by ``AdversarialModel`` takes the K values beside x instead,
``discriminator_inputs``: its first layer adds them as those planes would, without the
planes being built.)
``CaptionEmbedding`` stands in for StackGAN's text embeddings (notes 001, "StackGAN"): a
fixed random vector per class, the class's "caption", plus fresh jitter at every use (no
two captions of one image are worded alike), in place of the one-hot vector.
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
from minigan.creation import randn
from minigan.functional import broadcast_to, cat, reshape


class Unconditioned:
    """No condition: G sees z, D sees x, and there are no labels to draw."""
    num_classes = None
    extra = 0  # numbers the condition adds to G's latent and to D's input per sample

    def latent(self, z, labels=None):
        return z

    def input(self, x, labels=None):
        return x

    def discriminator_inputs(self, x, labels=None):
        return (x,)

    def grid_labels(self, per_class, device="cpu"):
        return None

    def cycle_labels(self, n, device="cpu"):
        return None


class OneHot(Unconditioned):
    """The label as a one-hot vector: joined to z for G, to x for D (K constant channels
    of an image, K more features of a point)."""

    def __init__(self, num_classes):
        self.num_classes = self.extra = int(num_classes)

    def vector(self, labels, like):
        """What a label adds to a sample: onehot(y) (N, K), with the dtype and device of
        ``like``."""
        return one_hot(labels, self.num_classes, like)

    def latent(self, z, labels):
        """[z, vector(y)] (N, Z + K)."""
        return cat([z, self.vector(labels, z)], axis=1)

    def input(self, x, labels):
        """x with vector(y) appended: (N, C + K, H, W), K constant planes, or (N, D + K)."""
        y = self.vector(labels, x)
        if x.ndim == 4:
            y = broadcast_to(reshape(y, y.shape + (1, 1)),  # (N, K) -> (N, K, 1, 1)
                             (x.shape[0], self.extra) + x.shape[2:])  # -> (N, K, H, W)
        return cat([x, y], axis=1)

    def discriminator_inputs(self, x, labels):
        """D's arguments: (x, vector(y)) for images, whose D's first layer takes the values
        of the K planes beside x (``nn.ConstantChannelsConv2d``: the same function as on
        ``input(x, y)``, without K full-size planes and their gradient); (input(x, y),)
        for points."""
        if x.ndim == 4:
            return x, self.vector(labels, x)
        return (self.input(x, labels),)

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


class CaptionEmbedding(OneHot):
    """A fixed random "caption" per class plus jitter, in place of a text embedding:

        φ(y) = e_y + jitter · ξ,   e_y ~ N(0, I_dim) drawn once per class from ``seed``,
        ξ ~ N(0, I_dim) drawn afresh each time (minigan's generator).

    The table e depends on ``seed`` only, so a model rebuilt from its options has the same
    captions. G's input is [z, φ(y)], D's input x with φ(y) appended (``dim`` constant
    channels for images), as ``OneHot`` does with the one-hot vector.

    >>> import minigan
    >>> c = CaptionEmbedding(3, dim=4, jitter=0.0)
    >>> phi = c.embed(minigan.tensor([2, 2]), minigan.zeros(1))     # (N, dim): class 2's row
    >>> phi.shape, bool(np.allclose(phi.numpy(), c.table[2], atol=1e-6))
    ((2, 4), True)
    """

    def __init__(self, num_classes, dim=32, jitter=0.1, seed=0):
        super().__init__(num_classes)
        self.extra, self.jitter = int(dim), float(jitter)
        self.table = np.random.default_rng(seed).standard_normal(
            (self.num_classes, self.extra))                      # (K, dim)

    def embed(self, labels, like):
        """φ(y) (N, dim) for labels (N,), with the dtype and device of ``like``."""
        rows = one_hot(labels, self.num_classes, like)            # (N, K)
        phi = rows @ Tensor(to_device(self.table, like.device).astype(like.dtype))
        if self.jitter:
            phi = phi + self.jitter * randn(*phi.shape, dtype=like.dtype, device=like.device)
        return phi

    def vector(self, labels, like):
        """φ(y) (N, dim): what ``latent`` joins to z and ``input`` appends to x."""
        return self.embed(labels, like)
