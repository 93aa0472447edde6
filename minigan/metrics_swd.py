"""Sliced Wasserstein distance between image sets, level by level of a Laplacian pyramid
(Karras et al. 2018, section 5): how far generated images are from real ones at each scale.

Each image is split into frequency bands, finest first (``laplacian_pyramid``):

    band_0 = x − up(down(x)),  band_1 = down(x) − up(down²(x)),  …,  band_last = down^L(x)

with down = 2×2 average pooling and up = nearest ×2 (the pooling and upsampling Progressive
GAN itself uses; Karras et al. build their pyramid with a 5-tap Gaussian filter instead,
so the numbers here are not comparable to theirs). From each band, random 7×7 patches are
cut (``random_patches``); each set of patch descriptors is normalised per channel (mean 0,
std 1 over that set, as in Karras et al.), and the two sets are compared by the sliced
Wasserstein distance:

    SW₁(A, B) = E_θ W₁(θᵀA, θᵀB),   θ uniform on the unit sphere,

where W₁ of two 1-D samples of equal size is the mean absolute difference of their sorted
values (``sliced_wasserstein``). A generator that gets the coarse shapes right but not the
strokes scores well on the coarse band and badly on the fine one.

>>> rng = np.random.default_rng(0)
>>> a = rng.standard_normal((500, 3))
>>> sliced_wasserstein(a, a), round(sliced_wasserstein(np.zeros((2, 1)), np.ones((2, 1))), 6)
(0.0, 1.0)
"""
import numpy as np


def sliced_wasserstein(a, b, directions=512, seed=0):
    """SW₁ between two point sets a, b (N, D) of the same size, averaged over
    ``directions`` random unit directions θ: mean_θ mean_i |sort(aθ)_i − sort(bθ)_i|.

    For D = 1 every direction is ±1 and this is W₁ of the two samples exactly. For b = a
    shifted by v, each projection is shifted by θᵀv (sorting keeps the order), so
    SW₁ = E|θᵀv| = ‖v‖ Γ(D/2) / (√π Γ((D+1)/2)): 2‖v‖/π in the plane.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"sliced_wasserstein: expected two point sets (N, D) of one shape, "
                         f"found {a.shape} and {b.shape}")
    theta = np.random.default_rng(seed).standard_normal((a.shape[1], directions))
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)                # unit columns
    pa, pb = np.sort(a @ theta, axis=0), np.sort(b @ theta, axis=0)      # (N, directions)
    return float(np.abs(pa - pb).mean())


def _down(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))  # (N, C, H/2, W/2)


def _up(x):
    return x.repeat(2, axis=2).repeat(2, axis=3)                     # (N, C, 2H, 2W)


def laplacian_pyramid(images, levels):
    """The ``levels`` bands of images (N, C, H, W), finest first (see the module
    docstring); H and W must be divisible by 2^(levels − 1). The bands add back up:
    x = Σ_k up^k(band_k)."""
    x = np.asarray(images, np.float64)
    if x.ndim != 4 or x.shape[2] % 2 ** (levels - 1) or x.shape[3] % 2 ** (levels - 1):
        raise ValueError(f"laplacian_pyramid: expected images (N, C, H, W) with H and W "
                         f"divisible by {2 ** (levels - 1)}, found {x.shape}")
    bands = []
    for _ in range(levels - 1):
        low = _down(x)
        bands.append(x - _up(low))
        x = low
    return bands + [x]


def random_patches(band, size, per_image, rng):
    """``per_image`` random size×size patches of every image of ``band`` (N, C, H, W), as
    descriptors (N·per_image, C·size·size); a band smaller than ``size`` is used whole."""
    n, c, h, w = band.shape
    size = min(size, h, w)
    rows = rng.integers(0, h - size + 1, (n, per_image))
    cols = rng.integers(0, w - size + 1, (n, per_image))
    offsets = np.arange(size)
    r = rows[:, :, None, None] + offsets[None, None, :, None]         # (N, P, size, 1)
    q = cols[:, :, None, None] + offsets[None, None, None, :]         # (N, P, 1, size)
    picked = band[np.arange(n)[:, None, None, None], :, r, q]          # (N, P, size, size, C)
    return picked.transpose(0, 1, 4, 2, 3).reshape(n * per_image, c * size * size)


def _normalised(descriptors, channels):
    """Each channel's values over all descriptors of the set: mean 0, std 1."""
    d = descriptors.reshape(len(descriptors), channels, -1)          # (M, C, size²)
    d = (d - d.mean(axis=(0, 2), keepdims=True)) / (d.std(axis=(0, 2), keepdims=True) + 1e-12)
    return d.reshape(len(descriptors), -1)


def swd_per_level(fake, real, levels, patch=7, per_image=16, directions=512, seed=0):
    """SW₁ between the patches of ``fake`` and ``real`` images (N, C, H, W), one value per
    pyramid band, finest first. Both sets must hold the same number of images; patches
    are cut at the same random positions in both (``seed``)."""
    fake, real = np.asarray(fake, np.float64), np.asarray(real, np.float64)
    if fake.shape != real.shape:
        raise ValueError(f"swd_per_level: expected two image sets of one shape, found "
                         f"{fake.shape} and {real.shape}")
    channels = fake.shape[1]
    distances = []
    for k, (f, r) in enumerate(zip(laplacian_pyramid(fake, levels),
                                   laplacian_pyramid(real, levels))):
        # the same patch positions in both sets: identical sets are at distance 0, and
        # two runs scored with one seed are compared on the same windows
        a = _normalised(random_patches(f, patch, per_image, np.random.default_rng(
            (seed, k))), channels)
        b = _normalised(random_patches(r, patch, per_image, np.random.default_rng(
            (seed, k))), channels)
        distances.append(sliced_wasserstein(a, b, directions, seed + k))
    return distances
