"""Conv2d / ConvTranspose2d layers and the output-size formulas, on the notes' DCGAN walks."""
import math

import numpy as np
import pytest

import minigan
from minigan.functional.conv import conv2d, conv_transpose2d
from minigan.nn.conv import (Conv2d, ConvTranspose2d, conv_output_size,
                             conv_transpose_output_size)


def spatial(x):
    return x.shape[2]


# ==================== output sizes on the notes' walks ====================

def test_mnist_generator_walk_1_3_6_13_28(device):
    """notes 000, "gen block 계산": kernels 3, 4, 3, 4 with strides 2, 1, 2, 2 — the sizes
    are worked out by hand from (H − 1)s + (k − 1) + 1."""
    blocks = [(64, 256, 3, 2), (256, 128, 4, 1), (128, 64, 3, 2), (64, 1, 4, 2)]
    by_hand = [(1 - 1) * 2 + 2 + 1, (3 - 1) * 1 + 3 + 1, (6 - 1) * 2 + 2 + 1,
               (13 - 1) * 2 + 3 + 1]
    assert by_hand == [3, 6, 13, 28]
    x = minigan.randn(2, 64, 1, 1, device=device)
    h = 1
    for (c_in, c_out, k, s), expected in zip(blocks, by_hand):
        h = conv_transpose_output_size(h, k, stride=s)
        x = ConvTranspose2d(c_in, c_out, k, stride=s, device=device)(x)
        assert h == spatial(x) == expected
    assert x.shape == (2, 1, 28, 28)


def test_the_notes_slip_last_stride_1_gives_16_not_28(device):
    """The notes write stride 1 for the last block; 13 -> 28 needs stride 2."""
    assert conv_transpose_output_size(13, 4, stride=1) == (13 - 1) + 3 + 1 == 16
    layer = ConvTranspose2d(64, 1, 4, stride=1, device=device)
    assert layer(minigan.randn(1, 64, 13, 13, device=device)).shape == (1, 1, 16, 16)


def test_mnist_discriminator_walk_28_13_5_1(device):
    x = minigan.randn(2, 1, 28, 28, device=device)
    for (c_in, c_out), expected in zip([(1, 16), (16, 32), (32, 1)], [13, 5, 1]):
        h = conv_output_size(spatial(x), 4, stride=2)
        x = Conv2d(c_in, c_out, 4, stride=2, device=device)(x)
        assert h == spatial(x) == expected


def test_celeba_64x64_doubling_and_halving(device):
    """notes 000, DCGAN on CelebA: 1 -> 4 (k4 s1 p0), then k4 s2 p1 doubles 4 -> 64; the
    discriminator's k4 s2 p1 halves 64 -> 4."""
    x = ConvTranspose2d(4, 2, 4, device=device)(minigan.randn(1, 4, 1, 1, device=device))
    assert conv_transpose_output_size(1, 4) == spatial(x) == 4
    sizes = [4]
    for _ in range(4):
        assert conv_transpose_output_size(sizes[-1], 4, 2, 1) == 2 * sizes[-1]
        x = ConvTranspose2d(2, 2, 4, stride=2, padding=1, device=device)(x)
        sizes.append(spatial(x))
    assert sizes == [4, 8, 16, 32, 64]
    while spatial(x) > 4:
        h = conv_output_size(spatial(x), 4, stride=2, padding=1)
        x = Conv2d(2, 2, 4, stride=2, padding=1, device=device)(x)
        sizes.append(spatial(x))
        assert h == spatial(x)
    assert sizes[4:] == [64, 32, 16, 8, 4]


def test_output_size_helpers_with_padding_dilation_output_padding():
    assert conv_output_size(7, 3, stride=2, padding=1, dilation=2) == (7 + 2 - 4 - 1) // 2 + 1
    assert conv_transpose_output_size(5, 3, 2, 1, 1, 2) == 4 * 2 - 2 + 4 + 1 + 1
    y = ConvTranspose2d(1, 1, 3, 2, 1, 1, dilation=2)(minigan.randn(1, 1, 5, 5))
    assert spatial(y) == 12


# ==================== PyTorch's default initialisation ====================

@pytest.mark.parametrize("make, fan_in", [
    (lambda: Conv2d(16, 32, 4), 16 * 4 * 4),
    (lambda: Conv2d(8, 32, (3, 5), groups=4), 2 * 3 * 5),
    (lambda: ConvTranspose2d(4, 64, 3), 64 * 3 * 3),       # size(1) · KH · KW, not C_in
    (lambda: ConvTranspose2d(8, 32, 4, groups=2), 16 * 4 * 4),
])
def test_default_init_bounds(make, fan_in):
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.95 * bound                  # U(−bound, bound) fills it
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)


def test_init_is_reproducible_and_float32_by_default():
    minigan.manual_seed(3)
    a = Conv2d(3, 4, 3)
    minigan.manual_seed(3)
    b = Conv2d(3, 4, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    assert a.weight.dtype == np.float32 and a.weight.requires_grad


# ==================== parameters, repr, forward ====================

def test_parameters_and_shapes():
    conv = Conv2d(6, 4, (3, 5), groups=2)
    assert conv.weight.shape == (4, 3, 3, 5) and conv.bias.shape == (4,)
    convt = ConvTranspose2d(6, 4, 3, groups=2, bias=False)
    assert convt.weight.shape == (6, 2, 3, 3) and convt.bias is None
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    assert list(convt.state_dict()) == ["weight"]


def test_extra_repr_like_pytorch():
    assert repr(Conv2d(1, 16, 4, stride=2)) == "Conv2d(1, 16, kernel_size=(4, 4), stride=(2, 2))"
    assert repr(Conv2d(3, 8, (3, 5), padding=(1, 2), dilation=2, bias=False)) == (
        "Conv2d(3, 8, kernel_size=(3, 5), stride=(1, 1), padding=(1, 2), dilation=(2, 2), "
        "bias=False)")
    assert repr(Conv2d(4, 4, 3, padding="same", groups=2)) == (
        "Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=2)")
    assert repr(ConvTranspose2d(128, 64, 3, 2, 1, 1)) == (
        "ConvTranspose2d(128, 64, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
        "output_padding=(1, 1))")


def test_forward_is_the_functional_op(device):
    x = minigan.randn(2, 4, 7, 5, device=device)
    conv = Conv2d(4, 6, 3, stride=2, padding=1, dilation=(1, 2), groups=2, device=device)
    expected = conv2d(x, conv.weight, conv.bias, 2, 1, (1, 2), 2)
    np.testing.assert_array_equal(conv(x).numpy(), expected.numpy())
    convt = ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                            device=device)
    expected = conv_transpose2d(x, convt.weight, convt.bias, 2, 1, 1, 2)
    np.testing.assert_array_equal(convt(x).numpy(), expected.numpy())


@pytest.mark.parametrize("make", [
    lambda d: Conv2d(2, 2, 3, stride=2, padding=1, groups=2, device=d),
    lambda d: ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1, device=d),
])
def test_layer_gradients_first_and_second_order(device, make):
    layer = make(device).double()
    x = minigan.randn(2, 2, 4, 3, dtype="float64", device=device, requires_grad=True)
    fn = lambda x, w, b: layer(x)  # noqa: E731  (w, b are the layer's own parameters)
    inputs = (x, layer.weight, layer.bias)
    assert minigan.gradcheck(fn, inputs) and minigan.gradgradcheck(fn, inputs)


def test_backward_fills_parameter_grads(device):
    layer = Conv2d(1, 3, 3, device=device)
    x = minigan.randn(2, 1, 5, 5, device=device)
    layer(x).sum().backward()
    assert layer.weight.grad.shape == (3, 1, 3, 3)
    # ∂Σy/∂b[o] counts the output pixels: N · OH · OW = 2 · 3 · 3
    np.testing.assert_allclose(layer.bias.grad.numpy(), 18.0)


# ==================== errors ====================

def test_wrong_input_is_named():
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8, .*\): expected an input of shape "
                                         r"\(N, 3, H, W\), found \(2, 4, 5, 5\)"):
        Conv2d(3, 8, 3)(minigan.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, 3, H, W\), "
                                         r"found \(3, 5, 5\)"):
        ConvTranspose2d(3, 8, 3)(minigan.randn(3, 5, 5))
    with pytest.raises(TypeError, match="expected a Tensor input, found ndarray"):
        Conv2d(3, 8, 3)(np.ones((1, 3, 5, 5)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"Conv2d: groups=2 must divide both in_channels \(3\) "
                                         r"and out_channels \(4\)"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"kernel_size must be an int ≥ 1 .* found 0"):
        Conv2d(3, 4, 0)
    with pytest.raises(ValueError, match="in_channels must be a positive int, found 0"):
        ConvTranspose2d(0, 4, 3)
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than "
                                         r"either stride \(2, 2\) or dilation \(1, 1\)"):
        ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="ConvTranspose2d: padding must be an int ≥ 0 or a "
                                         "pair of them, found 'same'"):
        ConvTranspose2d(3, 4, 3, padding="same")
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        Conv2d(3, 4, 3, stride=2, padding="same")

