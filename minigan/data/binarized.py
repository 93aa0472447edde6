"""Binarised digits: mnist5k with every pixel 0 or 1, for models with a Bernoulli likelihood.

A Bernoulli model gives each pixel a probability p(x_i = 1 | ...) and an image the
probability Π_i p_i^{b_i} (1 − p_i)^{1 − b_i}, which is a probability only when every
b_i is 0 or 1: the negative log-likelihood −log p(x) in nats is then a code length, and
numbers of different models are comparable. Grey pixels b ∈ (0, 1) turn the same formula
into a cross-entropy that no model can bring to 0, and into no probability at all. So the
likelihood models (VAE, PixelCNN) report their numbers on binarised digits. Two
binarisations are in use, and their figures differ by ~15 nats on MNIST, so every number
names the one it was measured on:

    mnist5k-bin    threshold: b = 1 where the intensity v/255 > ½ (uint8 v ≥ 128)
    mnist5k-sbin   fixed stochastic: b ~ Bernoulli(v/255), drawn ONCE with the seed
                   SBIN_SEED for the 5,000 images in file order, so it is the same data
                   set on every machine and every run (the binarised MNIST of Salakhutdinov
                   & Murray 2008 is made this way; its edges are noisier, hence more nats)

Both keep mnist5k's fixed stratified 4,500/500 train/test split and its labels.

Values in ``x``: b ∈ {0, 1} is stored as x = 2b − 1 ∈ {−1, +1}, the range of every other
image data set of minigan. So the GANs (tanh outputs), the sample grids and the digit
classifier of ``minigan.metrics`` (trained on [−1, 1] digits) take binarised digits as
they are, and a likelihood model reads b = (x + 1)/2 (``bernoulli_targets`` in
``minigan.models.likelihood`` checks that x is ±1 wherever a likelihood is reported).

>>> ds = load_mnist5k_binary("test", "threshold")
>>> ds.x.shape, sorted(set(ds.x.ravel().tolist()))
((500, 1, 28, 28), [-1.0, 1.0])
"""
import numpy as np

from minigan.data.embedded import SPLITS, load_mnist5k, split_indices
from minigan.data.loader import Dataset

METHODS = ("threshold", "stochastic")
SBIN_SEED = 0  # the stochastic binarisation's seed: another seed is another data set


def binarize_threshold(images):
    """uint8 images -> uint8 {0, 1}: 1 where v/255 > ½, i.e. v ≥ 128."""
    _check_uint8(images)
    return (images >= 128).astype(np.uint8)


def binarize_stochastic(images, seed=SBIN_SEED):
    """uint8 images -> uint8 {0, 1}: b = 1 with probability v/255, independently per
    pixel, from ``numpy.random.default_rng(seed)`` (u ~ U[0, 1), b = [u < v/255]; a pixel of
    0 is always 0 and one of 255 always 1)."""
    _check_uint8(images)
    u = np.random.default_rng(seed).random(images.shape)
    return (u < images / 255.0).astype(np.uint8)


def _check_uint8(images):
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        raise ValueError(f"binarize: expected uint8 images, found "
                         f"{getattr(images, 'dtype', type(images).__name__)}")


def load_mnist5k_binary(split="train", method="threshold", dtype=None):
    """mnist5k binarised by ``method`` ("threshold" or "stochastic"), as a Dataset with x
    in {−1, +1} (N, 1, 28, 28) and the digit labels. The stochastic binarisation is drawn
    for all 5,000 images before splitting, so a test digit is binarised the same way
    whichever split is loaded."""
    if method not in METHODS:
        raise ValueError(f"unknown binarisation {method!r}: expected one of "
                         f"{', '.join(METHODS)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} for binarised mnist5k: expected one of "
                         f"{SPLITS}")
    images, labels = load_mnist5k("all")
    bits = binarize_threshold(images) if method == "threshold" else binarize_stochastic(images)
    if split != "all":
        train, test = split_indices(labels)
        keep = train if split == "train" else test
        bits, labels = bits[keep], labels[keep]
    name = "mnist5k-bin" if method == "threshold" else "mnist5k-sbin"
    # b·255 through from_uint8: 0 -> −1 and 255 -> +1 exactly, like every image data set
    return Dataset.from_uint8(bits * np.uint8(255), labels, name=name, dtype=dtype,
                              num_classes=10)
