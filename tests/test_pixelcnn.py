"""PixelCNN: its p(b) is a normalised distribution, its NLL is the chain rule's sum, its
fast sampler draws the same images as the plain raster loop and with the right
frequencies, and a likelihood is reported on binary pixels only."""
import itertools
import math

import numpy as np
import pytest

import minigan
from minigan.autograd import no_grad
from minigan.models.pixelcnn import PixelCNN

SHAPE = (1, 2, 3)   # 6 pixels: all 64 images can be listed


def model_with_weights(shape=SHAPE, scale=0.4, seed=1, channels=8, blocks=2):
    """A float64 PixelCNN with random, non-saturating weights."""
    model = PixelCNN(shape, channels=channels, blocks=blocks)
    model.net.double()
    rng = np.random.default_rng(seed)
    for p in model.net.parameters():
        p.data[...] = rng.standard_normal(p.shape) * scale
    return model


def every_image(shape=SHAPE):
    """All 2^D binary images as x ∈ {−1, +1}, (2^D, C, H, W) float64."""
    d = int(np.prod(shape))
    bits = np.array(list(itertools.product([0.0, 1.0], repeat=d)))
    return minigan.tensor(bits.reshape((-1,) + shape) * 2 - 1, dtype="float64")


def test_probabilities_of_all_images_sum_to_one():
    """Π_i p(b_i | b_<i) is normalised for any weights: Σ_b p(b) = 1 over all 64 images."""
    model = model_with_weights()
    with no_grad():
        nll = model.nll(every_image()).numpy()
    assert abs(np.exp(-nll).sum() - 1) < 1e-12


def test_nll_is_the_sum_of_the_conditionals():
    """−log p(b) = −Σ_i log p(b_i | b_<i), each conditional read from a pass in which every
    pixel from i on is replaced by noise (so it cannot depend on them)."""
    model = model_with_weights()
    x = every_image()[[5, 42]]
    rng = np.random.default_rng(3)
    total = np.zeros(2)
    with no_grad():
        for i in range(6):
            noisy = x.numpy().reshape(2, 6).copy()
            noisy[:, i:] = rng.standard_normal((2, 6 - i))
            logits = model.net(minigan.tensor(noisy.reshape(x.shape), dtype="float64"))
            l, b = logits.numpy().reshape(2, 6)[:, i], (x.numpy().reshape(2, 6)[:, i] + 1) / 2
            p = 1 / (1 + np.exp(-l))
            total -= b * np.log(p) + (1 - b) * np.log(1 - p)
        np.testing.assert_allclose(model.nll(x).numpy(), total, rtol=1e-12)


def test_fast_sampling_draws_the_raster_loops_images():
    model = model_with_weights((1, 9, 11), seed=2, blocks=3)
    u = minigan.rand(4, 1, 9, 11, dtype="float64")
    fast, slow = model.sample(4, noise=u).numpy(), model.sample_raster(4, noise=u).numpy()
    assert set(np.unique(slow)) == {-1.0, 1.0} and 0.2 < (slow > 0).mean() < 0.8
    np.testing.assert_array_equal(fast, slow)


def test_samples_follow_the_model_distribution():
    """4,000 samples of a 2×2 model: the frequency of each of the 16 images matches
    p(b) = e^{−NLL(b)} within 4 standard errors."""
    shape = (1, 2, 2)
    model = model_with_weights(shape, scale=0.6)
    images = every_image(shape)
    with no_grad():
        p = np.exp(-model.nll(images).numpy())
    samples = model.sample(4000).numpy().reshape(4000, 4)
    codes = ((samples + 1) / 2) @ (2 ** np.arange(3, -1, -1))    # image -> its row in images
    freq = np.bincount(codes.astype(int), minlength=16) / 4000
    assert np.all(np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / 4000) + 1e-3)


def test_nll_needs_binary_pixels_and_heldout_reports_nats():
    model = PixelCNN((1, 4, 4), channels=4, blocks=1)
    with pytest.raises(ValueError, match="pixelcnn: a likelihood is reported on binary pixels"):
        model.heldout(np.zeros((2, 1, 4, 4), np.float32))
    x = np.sign(np.random.default_rng(0).standard_normal((3, 1, 4, 4))).astype(np.float32)
    nats = model.heldout(x)["nll"]
    with no_grad():
        expected = model.nll(minigan.tensor(x)).numpy().mean()
    assert math.isclose(nats, expected, rel_tol=1e-6)
