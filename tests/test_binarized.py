"""Binarised digits: the two binarisations against their definitions, the ±1 storage, the
split, and the checks that keep a likelihood from being reported on grey pixels."""
import numpy as np
import pytest

import minigan
from minigan.data import DATASETS, load_dataset
from minigan.data.binarized import (binarize_stochastic, binarize_threshold,
                                    load_mnist5k_binary)
from minigan.data.embedded import load_mnist5k, split_indices
from minigan.models.likelihood import bernoulli_targets, data_label


def test_threshold_is_one_above_half_intensity():
    v = np.array([0, 1, 127, 128, 200, 255], np.uint8)
    np.testing.assert_array_equal(binarize_threshold(v), [0, 0, 0, 1, 1, 1])  # v/255 > ½


def test_stochastic_binarisation_has_the_intensity_as_probability_and_is_fixed():
    v = np.full(100_000, 64, np.uint8)
    b = binarize_stochastic(v)
    p = 64 / 255
    assert abs(b.mean() - p) < 4 * np.sqrt(p * (1 - p) / v.size)       # 4 standard errors
    np.testing.assert_array_equal(b, binarize_stochastic(v))           # fixed seed
    assert not np.array_equal(b, binarize_stochastic(v, seed=1))
    edges = binarize_stochastic(np.array([0, 255] * 1000, np.uint8))
    np.testing.assert_array_equal(edges, [0, 1] * 1000)                # never flips 0 or 255


def test_binarisation_needs_uint8():
    with pytest.raises(ValueError, match="expected uint8 images, found float64"):
        binarize_threshold(np.zeros(3))


@pytest.mark.parametrize("name", ["mnist5k-bin", "mnist5k-sbin"])
def test_binarised_mnist5k_is_plus_minus_one_with_the_mnist5k_split(name):
    grey_test = load_dataset("mnist5k", split="test")
    test = load_dataset(name, split="test")
    assert name in DATASETS and test.x.shape == (500, 1, 28, 28)
    assert set(np.unique(test.x)) == {-1.0, 1.0}
    np.testing.assert_array_equal(test.labels, grey_test.labels)
    assert len(load_dataset(name)) == 4500
    # about as much ink as the grey digits: E[b] = v/255 (stochastic), and the threshold
    # moves each pixel by less than ½
    ink, grey_ink = (test.x + 1).mean() / 2, (grey_test.x + 1).mean() / 2
    assert abs(ink - grey_ink) < 0.02


def test_threshold_data_is_the_grey_digits_above_zero():
    grey, binary = load_dataset("mnist5k"), load_dataset("mnist5k-bin")
    np.testing.assert_array_equal(binary.x, np.where(grey.x > 0, 1.0, -1.0))  # v/127.5−1 > 0


def test_stochastic_binarisation_does_not_depend_on_the_split():
    """Drawn for all 5,000 digits in file order, then split: a test digit is binarised the
    same way whichever split is loaded."""
    images, _ = load_mnist5k("all")
    everything = binarize_stochastic(images) * 2.0 - 1
    test = load_mnist5k_binary("test", "stochastic")
    _, test_index = split_indices(load_mnist5k("all")[1])
    np.testing.assert_array_equal(test.x[:, 0], everything[test_index])


def test_bad_names_and_splits():
    with pytest.raises(ValueError, match="is embedded"):
        load_dataset("mnist5k-bin:somewhere")
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        load_dataset("mnist5k-sbin", split="validation")
    with pytest.raises(ValueError, match="unknown binarisation 'otsu'"):
        load_mnist5k_binary("train", "otsu")


def test_every_reported_number_names_its_binarisation():
    assert data_label("mnist5k-bin") == "mnist5k-bin (threshold at 1/2)"
    assert data_label("mnist5k-sbin") == "mnist5k-sbin (stochastic, fixed seed)"
    with pytest.raises(ValueError, match="binarised digits .* found 'mnist5k'"):
        data_label("mnist5k")


def test_bernoulli_targets_map_and_check_the_pixels():
    x = minigan.tensor([[-1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(bernoulli_targets(x, "m").numpy(), [[0.0, 1.0, 0.5]])
    with pytest.raises(ValueError, match="m: a likelihood is reported on binary pixels only"
                                         ".* found 0"):
        bernoulli_targets(x, "m", exact=True)
    with pytest.raises(ValueError, match=r"m: expected images in \[-1, 1\].* from -1 to 2"):
        bernoulli_targets(minigan.tensor([[-1.0, 2.0]]), "m")
