"""The sliced Wasserstein distance (minigan/metrics_swd.py) against closed forms: W₁ of
1-D samples, the mean |θᵀv| of a shifted set, identical sets; the Laplacian pyramid adds
back up to the image; patches come from where they say."""
import math

import numpy as np
import pytest

from minigan.metrics_swd import (laplacian_pyramid, random_patches, sliced_wasserstein,
                                 swd_per_level)


def test_one_dimensional_sets_give_w1_of_the_sorted_samples():
    a = np.array([[0.0], [2.0], [1.0]])
    b = np.array([[3.0], [1.0], [2.0]])
    assert sliced_wasserstein(a, b, directions=8) == pytest.approx(1.0, abs=1e-12)
    c = np.array([[0.0], [0.0], [3.0]])        # sorted pairs (0,0) (1,0) (2,3): mean |·| 2/3
    assert sliced_wasserstein(a, c, directions=8) == pytest.approx(2 / 3, abs=1e-12)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_a_shifted_set_gives_the_mean_absolute_projection_of_the_shift(d):
    """b = a + v: SW₁ = E|θᵀv| = ‖v‖ Γ(d/2) / (√π Γ((d+1)/2)) (2‖v‖/π for d = 2)."""
    rng = np.random.default_rng(d)
    a = rng.standard_normal((50, d))
    v = rng.standard_normal(d)
    expected = np.linalg.norm(v) * math.gamma(d / 2) / (math.sqrt(math.pi)
                                                         * math.gamma((d + 1) / 2))
    assert sliced_wasserstein(a, a + v, directions=40_000) == pytest.approx(expected, rel=0.01)


def test_identical_sets_are_at_distance_zero_at_every_level():
    images = np.random.default_rng(0).uniform(-1, 1, (40, 1, 28, 28))
    assert swd_per_level(images, images.copy(), levels=3, seed=3) == [0.0, 0.0, 0.0]
    noise = np.random.default_rng(1).uniform(-1, 1, (40, 1, 28, 28))
    assert min(swd_per_level(images, noise, levels=3)) > 0


def test_a_blurred_copy_differs_at_the_fine_band_only():
    """Replacing images by up(down(x)) empties their finest band and keeps the others."""
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (60, 1, 28, 28))
    blurred = real.reshape(60, 1, 14, 2, 14, 2).mean(axis=(3, 5)).repeat(2, 2).repeat(2, 3)
    fine, middle, coarse = swd_per_level(blurred, real, levels=3)
    assert fine > 0.1 and middle < 1e-9 and coarse < 1e-9


def test_the_laplacian_bands_add_back_up_to_the_image():
    x = np.random.default_rng(2).standard_normal((3, 2, 28, 28))
    bands = laplacian_pyramid(x, 3)
    assert [b.shape[-1] for b in bands] == [28, 14, 7]
    rebuilt = bands[2].repeat(4, 2).repeat(4, 3) + bands[1].repeat(2, 2).repeat(2, 3) + bands[0]
    np.testing.assert_allclose(rebuilt, x, atol=1e-12)
    with pytest.raises(ValueError, match="divisible by 4"):
        laplacian_pyramid(np.zeros((1, 1, 6, 6)), 3)


def test_random_patches_are_windows_of_their_image():
    band = np.arange(2 * 2 * 5 * 6, dtype=float).reshape(2, 2, 5, 6)
    patches = random_patches(band, 3, 4, np.random.default_rng(0))
    assert patches.shape == (8, 2 * 3 * 3)
    for k, p in enumerate(patches.reshape(8, 2, 3, 3)):
        image = band[k // 4]
        r, c = np.argwhere(image[0] == p[0, 0, 0])[0]
        np.testing.assert_array_equal(image[:, r:r + 3, c:c + 3], p)
