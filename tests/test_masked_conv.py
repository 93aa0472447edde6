"""Masked convolution: the masks, the layer against a slow loop, its gradients (first and
second order), and causality: ∂ output_i / ∂ input_j = 0 exactly for j ≥ i and for the
blind spot, with the set of reached pixels predicted from the masks alone."""
import numpy as np
import pytest

import minigan
from minigan.functional.conv_reference import conv2d_reference
from minigan.models.pixelcnn import PixelCNN, causal_masks
from minigan.nn.masked_conv import (MaskedConv2d, causal_mask, receptive_field,
                                    wavefront_skew)
from tests.helpers import randn64


# ==================== the masks ====================

@pytest.mark.parametrize("k", [1, 3, 5, 7])
def test_mask_a_excludes_the_centre_and_mask_b_includes_it(k):
    a, b = causal_mask(k, "A"), causal_mask(k, "B")
    c = k // 2
    assert a[c, c] == 0 and b[c, c] == 1
    a[c, c] = 1
    np.testing.assert_array_equal(a, b)          # the centre is their only difference
    rows, cols = np.indices((k, k))
    before = (rows < c) | ((rows == c) & (cols <= c))     # raster order up to the centre
    assert b.sum() == before.sum() and (b[~before] == 0).all()


def test_bad_masks_are_refused():
    with pytest.raises(ValueError, match="mask must be 'A' or 'B', found 'C'"):
        causal_mask(3, "C")
    with pytest.raises(ValueError, match="kernel_size must be an odd positive int.* 4"):
        MaskedConv2d(1, 2, 4)


# ==================== the layer ====================

@pytest.mark.parametrize("mask", ["A", "B"])
@pytest.mark.parametrize("shape,k", [((2, 1, 5, 6), 3), ((1, 3, 4, 4), 5), ((2, 2, 3, 5), 1)])
def test_masked_conv_is_a_convolution_with_the_masked_kernel(mask, shape, k):
    layer = MaskedConv2d(shape[1], 4, k, mask).double()
    x = randn64(*shape, requires_grad=False)
    w = layer.weight.numpy() * causal_mask(k, mask)
    expected = conv2d_reference(x.numpy(), w, layer.bias.numpy(), padding=k // 2)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mask", ["A", "B"])
@pytest.mark.parametrize("shape,k", [((2, 1, 4, 5), 3), ((1, 2, 3, 3), 5)])
def test_masked_conv_gradcheck(mask, shape, k):
    layer = MaskedConv2d(shape[1], 2, k, mask).double()
    x = randn64(*shape)

    def f(x, w, b):
        layer.weight, layer.bias = w, b
        return layer(x)

    inputs = [x, layer.weight, layer.bias]
    assert minigan.gradcheck(f, inputs)
    assert minigan.gradgradcheck(f, inputs)


def test_masked_taps_get_exactly_zero_gradient():
    layer = MaskedConv2d(2, 3, 5, "A").double()
    layer(randn64(2, 2, 6, 6)).sum().backward()
    dead = np.broadcast_to(causal_mask(5, "A") == 0, layer.weight.shape)
    assert (layer.weight.grad.numpy()[dead] == 0).all()
    assert (layer.weight.grad.numpy()[~dead] != 0).all()


def test_the_mask_is_not_saved_and_follows_the_dtype():
    layer = MaskedConv2d(1, 2, 3, "B").double()
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert layer.mask.dtype == np.float64


# ==================== causality and the blind spot ====================

def input_gradient_support(net, shape, pixel, positive=False):
    """Where ∂ logit[pixel] / ∂ x is nonzero, for a random input (positive: in [0, 1))."""
    rng = np.random.default_rng(0)
    x = rng.random((1, 1) + shape) if positive else rng.standard_normal((1, 1) + shape)
    x = minigan.tensor(x, dtype="float64", requires_grad=True)
    (g,) = minigan.grad(net(x)[0, 0][pixel], x)
    return g.numpy()[0, 0] != 0


@pytest.mark.parametrize("pixel", [(4, 2), (0, 3), (6, 0), (5, 9)])
def test_no_gradient_from_future_pixels_and_the_blind_spot_is_predicted(pixel):
    """A PixelCNN's output logit at a pixel: its input gradient is exactly 0 at the pixel
    itself and after it in raster order (random weights and input), and it is nonzero
    exactly where the masks' offsets reach (``receptive_field``): with positive weights
    and inputs no ReLU is off and no paths cancel, so every path shows. The causal pixels
    outside that set (the wedge up and to the right) are a blind spot."""
    shape = (7, 10)
    model = PixelCNN((1,) + shape, channels=4, blocks=3)
    model.net.double()
    order = np.arange(shape[0] * shape[1]).reshape(shape)
    future = order >= order[pixel]
    assert not input_gradient_support(model.net, shape, pixel)[future].any()
    for p in model.net.parameters():
        p.data[...] = np.abs(p.data)
    support = input_gradient_support(model.net, shape, pixel, positive=True)
    reach = receptive_field(causal_masks(model.net), shape, pixel)
    np.testing.assert_array_equal(support, reach)
    blind = ~future & ~reach
    if pixel == (4, 2):
        # 7×7 mask A reaches 3 columns right in the rows above; a 3×3 mask B one more
        # column right only by going one more row up: 1 row up +3 is seen, +4 is not,
        # 2 rows up +4 is seen, +5 is not
        assert reach[3, 5] and blind[3, 6] and reach[2, 6] and blind[2, 7]


def test_receptive_field_by_hand():
    """One 3×3 mask A then one 3×3 mask B, output (2, 2) of a 3×5 image: A reads (1, 1..3)
    and (2, 1); B adds one step up-left, up, up-right or left (or stays)."""
    reach = receptive_field([causal_mask(3, "A"), causal_mask(3, "B")], (3, 5), (2, 2))
    np.testing.assert_array_equal(reach.astype(int), [[1, 1, 1, 1, 1],
                                                      [1, 1, 1, 1, 0],
                                                      [1, 1, 0, 0, 0]])


def test_wavefront_skew():
    assert wavefront_skew([causal_mask(7, "A")]) == 4          # tap (−1, +3): 3 < 4·1
    assert wavefront_skew([causal_mask(3, "A"), causal_mask(3, "B")]) == 2
    assert wavefront_skew([np.ones((1, 1))]) == 1
    with pytest.raises(ValueError, match="not a causal mask"):
        wavefront_skew([np.ones((3, 3))])
