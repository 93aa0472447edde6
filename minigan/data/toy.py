"""2-D Gaussian mixtures, the standard test of mode collapse (notes: unrolled GAN, VEEGAN).

Each point picks a mode uniformly, then adds isotropic Gaussian noise of std ``std``.
The modes and std are kept on the data set so metrics can count which modes a generator
covers (e.g. a sample within 3*std of a mode counts for it).
"""
import numpy as np

from minigan import backend
from minigan.data.loader import Dataset


class MixtureDataset(Dataset):
    """Points (N, 2) of a Gaussian mixture; ``labels`` is each point's mode index.

    modes: (K, 2) float64 centres; std: the noise std of every mode.
    """

    def __init__(self, x, labels, modes, std, name):
        super().__init__(x, labels, name, num_classes=len(modes))
        self.modes = modes
        self.std = std


def mixture(modes, n, std, name):
    """n points of the mixture with the given (K, 2) ``modes`` and ``std``, drawn from
    ``backend.generator()`` in the default dtype."""
    rng = backend.generator()
    labels = rng.integers(0, len(modes), size=n)
    x = modes[labels] + std * rng.standard_normal((n, 2))
    return MixtureDataset(x.astype(backend.get_default_dtype()), labels, modes, std, name)


def ring8(n, radius=2.0, std=0.02):
    """8 modes evenly spaced on a circle of ``radius``, mode k at angle 2*pi*k/8."""
    angles = 2 * np.pi * np.arange(8) / 8
    modes = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (8, 2)
    return mixture(modes, n, std, "ring8")


def grid25(n, std=0.05):
    """25 modes on the 5x5 grid {-4, -2, 0, 2, 4}^2."""
    ticks = np.arange(-4.0, 5.0, 2.0)
    modes = np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1).reshape(25, 2)
    return mixture(modes, n, std, "grid25")
