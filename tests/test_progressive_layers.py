"""Progressive GAN's layers (minigan/nn/progressive.py): forward against slow references
written from the formulas, hand-derived derivatives, first and second derivatives against
finite differences (WGAN-GP's penalty differentiates the critic through them)."""
import math

import numpy as np
import pytest

import minigan
from minigan import gradcheck, gradgradcheck
from minigan.functional import conv2d
from minigan.functional.conv_reference import conv2d_reference
from minigan.nn.progressive import (EqualizedConv2d, EqualizedLinear, MinibatchStdDev,
                                    PixelNorm, fade_in)
from tests.helpers import randn64


def as64(layer):
    """The layer's parameters in float64, for finite differences."""
    for p in layer.parameters():
        p.data = p.data.astype(np.float64)
    return layer


# ==================== equalised learning rate ====================

@pytest.mark.parametrize("n, c, h, w, out, k, stride, pad", [
    (2, 3, 5, 5, 4, 3, 1, 1), (1, 2, 4, 6, 3, 1, 1, 0), (2, 2, 6, 5, 2, 3, 2, 0)])
def test_equalized_conv_is_a_conv_with_the_weight_scaled_by_c(n, c, h, w, out, k, stride,
                                                              pad):
    layer = as64(EqualizedConv2d(c, out, k, stride, pad, gain=1.7))
    layer.bias.data[:] = np.arange(out)
    assert layer.scale == pytest.approx(1.7 / math.sqrt(c * k * k))
    x = randn64(n, c, h, w)
    expected = conv2d_reference(x.numpy(), layer.scale * layer.weight.numpy(),
                                layer.bias.numpy(), stride, pad)
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=1e-12)
    assert gradcheck(lambda x, w, b: conv2d(x, w * layer.scale, b, stride, pad),
                     [x, layer.weight, layer.bias])
    assert gradgradcheck(lambda x, w, b: conv2d(x, w * layer.scale, b, stride, pad),
                         [x, layer.weight, layer.bias])
    assert gradgradcheck(lambda x: layer(x) * layer(x), [x])


def test_equalized_weights_are_standard_normal_and_their_gradient_is_c_times_the_plain_one():
    minigan.manual_seed(3)
    layer = as64(EqualizedConv2d(32, 64, 3))
    assert abs(layer.weight.numpy().std() - 1) < 0.02 and abs(layer.weight.numpy().mean()) < 0.02
    assert not layer.bias.numpy().any()
    x = randn64(2, 32, 5, 5, requires_grad=False)
    r = randn64(2, 64, 3, 3, requires_grad=False)
    (g_hat,) = minigan.grad((layer(x) * r).sum(), layer.weight)
    w = minigan.tensor(layer.scale * layer.weight.numpy(), dtype="float64", requires_grad=True)
    (g_plain,) = minigan.grad((conv2d(x, w, layer.bias) * r).sum(), w)
    np.testing.assert_allclose(g_hat.numpy(), layer.scale * g_plain.numpy(), rtol=1e-10)


@pytest.mark.parametrize("shape, out", [((3, 5), 4), ((2, 3, 6), 2)])
def test_equalized_linear(shape, out):
    layer = as64(EqualizedLinear(shape[-1], out, gain=1.0))
    layer.bias.data[:] = 0.5
    x = randn64(*shape)
    expected = x.numpy() @ (layer.weight.numpy() / math.sqrt(shape[-1])).T + 0.5
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=1e-12)
    f = lambda x, w, b: minigan.functional.linear(x, w * layer.scale, b)  # noqa: E731
    assert gradcheck(f, [x, layer.weight, layer.bias])
    assert gradgradcheck(f, [x, layer.weight, layer.bias])


# ==================== pixel norm ====================

@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (3, 5), (1, 1, 2, 3)])
def test_pixel_norm_forward_backward_and_second_order(shape):
    a = randn64(*shape)
    b = PixelNorm()(a)
    mean_square = (a.numpy() ** 2).mean(axis=1, keepdims=True)
    np.testing.assert_allclose(b.numpy(), a.numpy() / np.sqrt(mean_square + 1e-8), rtol=1e-12)
    # the hand-derived backward: ∂L/∂a = (g − b · mean_c(g · b)) / r
    g = np.random.default_rng(1).standard_normal(shape)
    (ga,) = minigan.grad((b * minigan.tensor(g, dtype="float64")).sum(), a)
    r = np.sqrt(mean_square + 1e-8)
    bn = b.numpy()
    np.testing.assert_allclose(ga.numpy(), (g - bn * (g * bn).mean(axis=1, keepdims=True)) / r,
                               rtol=1e-9, atol=1e-12)
    assert gradcheck(PixelNorm(), [a])
    assert gradgradcheck(PixelNorm(), [a])


# ==================== minibatch standard deviation ====================

def reference_mbstd(x, group_size):
    """Loops over the groups (sample n in group n mod M) straight from the formula."""
    n, c, h, w = x.shape
    g = min(group_size, n)
    m = n // g
    out = np.concatenate([x, np.zeros((n, 1, h, w))], axis=1)
    for group in range(m):
        members = [k for k in range(n) if k % m == group]
        values = x[members]                                       # (G, C, H, W)
        std = np.sqrt(((values - values.mean(axis=0)) ** 2).mean(axis=0) + 1e-8)
        out[members, c] = std.mean()
    return out


@pytest.mark.parametrize("shape, group", [((4, 2, 3, 3), 2), ((4, 3, 2, 2), 4),
                                          ((2, 1, 3, 2), 4), ((6, 2, 1, 1), 3)])
def test_minibatch_stddev_forward_and_gradients(shape, group):
    x = randn64(*shape)
    layer = MinibatchStdDev(group)
    np.testing.assert_allclose(layer(x).numpy(), reference_mbstd(x.numpy(), group),
                               rtol=1e-12)
    assert gradcheck(layer, [x])
    # With G = 2, s = √((a − b)²/4 + ε) ≈ |a − b|/2 bends on the scale of |a − b|, which is
    # 0.0025 for one pair of the first input: the central difference's truncation error,
    # ∝ (step/|a − b|)², reaches 3e-5 relative at the default step 1e-5 and 3e-7 at 1e-6
    # (the analytic second derivative is the limit of both).
    assert gradgradcheck(layer, [x], eps=1e-6)


def test_minibatch_stddev_gradient_of_the_group_mean_std_by_hand():
    """∂s̄/∂x_{g,k} = (x_{g,k} − x̄_k) / (G · K · s_k) for one group (G = N)."""
    x = randn64(3, 2, 2, 2)
    (gx,) = minigan.grad(MinibatchStdDev(3)(x)[0, 2, 0, 0], x)
    v = x.numpy()
    s = np.sqrt(v.var(axis=0) + 1e-8)
    np.testing.assert_allclose(gx.numpy(), (v - v.mean(axis=0)) / (3 * 8 * s), rtol=1e-9)


def test_minibatch_stddev_refuses_a_batch_that_is_not_a_multiple_of_the_group():
    with pytest.raises(ValueError, match="batch size 6 must be a multiple of the group size 4"):
        MinibatchStdDev(4)(minigan.randn(6, 1, 2, 2))


# ==================== fade-in ====================

@pytest.mark.parametrize("shape", [(2, 1, 4, 4), (3, 5)])
def test_fade_in_blend_and_its_gradient_with_respect_to_alpha(shape):
    old, new = randn64(*shape), randn64(*shape)
    alpha = minigan.tensor(0.3, dtype="float64", requires_grad=True)
    y = fade_in(old, new, alpha)
    np.testing.assert_allclose(y.numpy(), 0.7 * old.numpy() + 0.3 * new.numpy(), rtol=1e-12)
    v = np.random.default_rng(2).standard_normal(shape)
    v_t = minigan.tensor(v, dtype="float64")
    g_old, g_new, g_alpha = minigan.grad((y * v_t).sum(), [old, new, alpha])
    np.testing.assert_allclose(g_old.numpy(), 0.7 * v, rtol=1e-12)
    np.testing.assert_allclose(g_new.numpy(), 0.3 * v, rtol=1e-12)
    assert g_alpha.item() == pytest.approx((v * (new.numpy() - old.numpy())).sum(), rel=1e-12)
    assert gradcheck(fade_in, [old, new, alpha])
    assert gradgradcheck(fade_in, [old, new, alpha])
    assert fade_in(old, new, 0.0).numpy().tolist() == old.numpy().tolist()
    assert fade_in(old, new, 1.0).numpy().tolist() == new.numpy().tolist()


def test_fade_in_checks_its_arguments():
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\], found 1.5"):
        fade_in(minigan.zeros(2), minigan.ones(2), 1.5)
    with pytest.raises(ValueError, match="one shape"):
        fade_in(minigan.zeros(2), minigan.ones(3), 0.5)
