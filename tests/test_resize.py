"""Padding, interpolation and pooling: forward against slow loop references and values
computed by hand, the adjoint identity of the linear ops, first and second derivatives
against finite differences, max pooling's ties, the errors, and the layers."""
import math

import numpy as np
import pytest

import minigan
from minigan.autograd import Tensor
from minigan.functional import adaptive_avg_pool2d, avg_pool2d, interpolate, max_pool2d, pad
from minigan.nn.resize import (AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, ReflectionPad2d,
                               ReplicationPad2d, Upsample, ZeroPad2d)
from tests.helpers import host, randn64


def randn_np(*shape):
    return minigan.randn(*shape, dtype="float64").numpy()


def distinct(*shape, device="cpu"):
    """float64 values 0.1 apart in random order: every max is unique, and a perturbation of
    1e-5 (gradcheck's ε) cannot change which element of a window is largest."""
    n = math.prod(shape)
    values = 0.1 * minigan.randint(0, 2 ** 30, (n,)).numpy().argsort().reshape(shape)
    return minigan.tensor(values, dtype="float64", device=device, requires_grad=True)


# ==================== slow references, straight from the formulas ====================

def pad_source(i, n, mode):
    """The input index copied by position i along an axis (i counted from the first input
    pixel, so the border is i < 0 or i ≥ n); None for the constant border."""
    if 0 <= i < n:
        return i
    if mode == "constant":
        return None
    if mode == "replicate":
        return 0 if i < 0 else n - 1
    return -i if i < 0 else 2 * (n - 1) - i  # reflect about pixel 0 or pixel n − 1


def reference_pad(x, widths, mode, value=0.0):
    """x (N, C, H, W) with widths = (left, right, top, bottom), one output pixel at a time."""
    left, right, top, bottom = widths
    n, c, h, w = x.shape
    y = np.empty((n, c, top + h + bottom, left + w + right))
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            si, sj = pad_source(i - top, h, mode), pad_source(j - left, w, mode)
            y[:, :, i, j] = value if si is None or sj is None else x[:, :, si, sj]
    return y


def reference_nearest(x, out_size, scale=None):
    """y[p, q] = x[⌊p · H/OH⌋, ⌊q · W/OW⌋] (H/OH replaced by 1/scale when given)."""
    (h, w), (oh, ow) = x.shape[-2:], out_size
    y = np.empty(x.shape[:-2] + (oh, ow))
    for p in range(oh):
        i = min(p * h // oh if scale is None else math.floor(p / scale[0]), h - 1)
        for q in range(ow):
            j = min(q * w // ow if scale is None else math.floor(q / scale[1]), w - 1)
            y[..., p, q] = x[..., i, j]
    return y


def linear_source(dst, n_in, n_out, align_corners, scale):
    """Where output index dst samples the input (PyTorch's bilinear convention)."""
    if align_corners:
        return dst * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    ratio = n_in / n_out if scale is None else 1 / scale
    return max((dst + 0.5) * ratio - 0.5, 0.0)


def reference_bilinear(x, out_size, align_corners, scale=(None, None)):
    """Each output pixel mixes the 2×2 input pixels around its source point."""
    (h, w), (oh, ow) = x.shape[-2:], out_size
    y = np.empty(x.shape[:-2] + (oh, ow))
    for p in range(oh):
        sh = linear_source(p, h, oh, align_corners, scale[0])
        h0 = int(math.floor(sh))
        h1, lh = min(h0 + 1, h - 1), sh - h0
        for q in range(ow):
            sw = linear_source(q, w, ow, align_corners, scale[1])
            w0 = int(math.floor(sw))
            w1, lw = min(w0 + 1, w - 1), sw - w0
            y[..., p, q] = ((1 - lh) * (1 - lw) * x[..., h0, w0] + (1 - lh) * lw * x[..., h0, w1]
                            + lh * (1 - lw) * x[..., h1, w0] + lh * lw * x[..., h1, w1])
    return y


def pool_windows(h, w, kernel, stride, padding):
    """(p, q, [(i, j) of the in-range input pixels of window (p, q)]) for every window."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    for p in range(oh):
        for q in range(ow):
            pixels = [(p * sh + a - ph, q * sw + b - pw) for a in range(kh) for b in range(kw)]
            yield p, q, [(i, j) for i, j in pixels if 0 <= i < h and 0 <= j < w], (oh, ow)


def reference_avg_pool(x, kernel, stride, padding):
    """Sum of the in-range pixels over KH·KW: the zero padding counts in the mean."""
    windows = list(pool_windows(*x.shape[-2:], kernel, stride, padding))
    y = np.empty(x.shape[:-2] + windows[0][3])
    for p, q, pixels, _ in windows:
        y[..., p, q] = sum(x[..., i, j] for i, j in pixels) / (kernel[0] * kernel[1])
    return y


def reference_max_pool(x, kernel, stride, padding):
    """Max of each window of a (N, C, H, W) array, and where it is: the first max on ties."""
    windows = list(pool_windows(*x.shape[-2:], kernel, stride, padding))
    y = np.empty(x.shape[:-2] + windows[0][3])
    where = {}
    for n, c in np.ndindex(x.shape[:2]):
        for p, q, pixels, _ in windows:
            best = pixels[0]
            for i, j in pixels:
                if x[n, c, i, j] > x[n, c][best]:
                    best = (i, j)
            y[n, c, p, q] = x[n, c][best]
            where[n, c, p, q] = best
    return y, where


def reference_adaptive(x, out_size):
    """Mean over the windows [⌊p·H/OH⌋, ⌈(p+1)·H/OH⌉) × [⌊q·W/OW⌋, ⌈(q+1)·W/OW⌉)."""
    (h, w), (oh, ow) = x.shape[-2:], out_size
    y = np.empty(x.shape[:-2] + (oh, ow))
    for p in range(oh):
        h0, h1 = math.floor(p * h / oh), math.ceil((p + 1) * h / oh)
        for q in range(ow):
            w0, w1 = math.floor(q * w / ow), math.ceil((q + 1) * w / ow)
            y[..., p, q] = x[..., h0:h1, w0:w1].mean(axis=(-2, -1))
    return y


# ==================== pad ====================

PADS = [(1, 2, 3, 0), (2, 2, 2, 2), (0, 0, 1, 3), (4, 1, 0, 2)]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
@pytest.mark.parametrize("widths", PADS)
def test_pad_matches_reference(device, mode, widths):
    x = randn_np(2, 3, 5, 7)
    y = pad(minigan.tensor(x, device=device, dtype="float64"), widths, mode=mode)
    assert y.shape == (2, 3, 5 + widths[2] + widths[3], 7 + widths[0] + widths[1])
    np.testing.assert_allclose(host(y), reference_pad(x, widths, mode), rtol=0, atol=0)


def test_pad_constant_value(device):
    x = randn_np(1, 2, 3, 4)
    y = pad(minigan.tensor(x, device=device, dtype="float64"), (1, 2, 0, 1), value=-1.5)
    np.testing.assert_array_equal(host(y), reference_pad(x, (1, 2, 0, 1), "constant", -1.5))


@pytest.mark.parametrize("mode, numpy_mode",
                         [("constant", "constant"), ("reflect", "reflect"), ("replicate", "edge")])
def test_pad_last_one_and_three_axes_match_numpy_pad(device, mode, numpy_mode):
    """PyTorch's order, the last axis first: (1, 2) pads W; (1, 2, 0, 1, 2, 1) pads W, H, C."""
    x = randn_np(2, 3, 4, 5)
    t = minigan.tensor(x, device=device, dtype="float64")
    np.testing.assert_array_equal(host(pad(t, (1, 2), mode=mode)),
                                  np.pad(x, ((0, 0), (0, 0), (0, 0), (1, 2)), mode=numpy_mode))
    np.testing.assert_array_equal(host(pad(t, (1, 2, 0, 1, 2, 1), mode=mode)),
                                  np.pad(x, ((0, 0), (2, 1), (0, 1), (1, 2)), mode=numpy_mode))


def test_pad_values_by_hand(device):
    x = minigan.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]], device=device)
    assert pad(x, (2, 1, 1, 0), mode="reflect").data.tolist() == [[[
        [6.0, 5.0, 4.0, 5.0, 6.0, 5.0],
        [3.0, 2.0, 1.0, 2.0, 3.0, 2.0],
        [6.0, 5.0, 4.0, 5.0, 6.0, 5.0]]]]
    assert pad(x, (2, 1, 1, 0), mode="replicate").data.tolist() == [[[
        [1.0, 1.0, 1.0, 2.0, 3.0, 3.0],
        [1.0, 1.0, 1.0, 2.0, 3.0, 3.0],
        [4.0, 4.0, 4.0, 5.0, 6.0, 6.0]]]]
    assert pad(x, (1, 0, 0, 1), value=9.0).data.tolist() == [[[
        [9.0, 1.0, 2.0, 3.0], [9.0, 4.0, 5.0, 6.0], [9.0, 9.0, 9.0, 9.0]]]]


def test_pad_gradient_collects_the_border(device):
    """Reflect (1, 1) on [a b c] gives [b a b c b]: b is copied three times, so with
    ∂L/∂y = 1 everywhere ∂L/∂b = 3; replicate gives [a a b c c]: 2, 1, 2."""
    x = minigan.tensor([[[[1.0, 2.0, 3.0]]]], device=device, requires_grad=True)
    pad(x, (1, 1), mode="reflect").sum().backward()
    assert x.grad.data.tolist() == [[[[1.0, 3.0, 1.0]]]]
    x.grad = None
    pad(x, (1, 1), mode="replicate").sum().backward()
    assert x.grad.data.tolist() == [[[[2.0, 1.0, 2.0]]]]


# ==================== interpolate ====================

SIZES = [((5, 7), (8, 3)), ((5, 7), (10, 14)), ((7, 3), (3, 5)), ((4, 6), (1, 1)),
         ((5, 7), (5, 7)), ((3, 4), (7, 9))]


@pytest.mark.parametrize("shape, size", SIZES)
def test_nearest_matches_reference(device, shape, size):
    x = randn_np(2, 3, *shape)
    y = interpolate(minigan.tensor(x, device=device, dtype="float64"), size=size)
    np.testing.assert_array_equal(host(y), reference_nearest(x, size))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape, size", SIZES)
def test_bilinear_matches_reference(device, shape, size, align_corners):
    x = randn_np(2, 3, *shape)
    y = interpolate(minigan.tensor(x, device=device, dtype="float64"), size=size,
                    mode="bilinear", align_corners=align_corners)
    np.testing.assert_allclose(host(y), reference_bilinear(x, size, align_corners), atol=1e-12)


@pytest.mark.parametrize("scale", [2, 1.5, (2.0, 0.5), (1.7, 3)])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_scale_factor_is_used_as_given(device, scale, mode):
    """With scale_factor s, OH = ⌊H·s⌋ and the source points use 1/s (PyTorch's default,
    recompute_scale_factor=None), not H/OH."""
    x = randn_np(1, 2, 5, 4)
    scales = scale if isinstance(scale, tuple) else (scale, scale)
    size = (math.floor(5 * scales[0]), math.floor(4 * scales[1]))
    y = interpolate(minigan.tensor(x, device=device, dtype="float64"), scale_factor=scale,
                    mode=mode)
    assert y.shape == (1, 2) + size
    expected = (reference_nearest(x, size, scales) if mode == "nearest"
                else reference_bilinear(x, size, False, scales))
    np.testing.assert_allclose(host(y), expected, atol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_axis_of_unchanged_size_is_copied(device, mode):
    """PyTorch copies an axis whose size stays the same, even when the scale_factor that
    gave it (⌊4 · 1.2⌋ = 4) would put the source points elsewhere (1/1.2 ≠ 4/4)."""
    x = minigan.randn(1, 2, 4, 3, dtype="float64", device=device)
    y = interpolate(x, scale_factor=(1.2, 1.0), mode=mode)
    np.testing.assert_array_equal(host(y), host(x))


def test_nearest_indices_by_hand(device):
    """5 → 8: ⌊q · 5/8⌋ = 0 0 1 1 2 3 3 4;  7 → 3: ⌊q · 7/3⌋ = 0 2 4;  4 → 6 with scale
    1.7: ⌊q/1.7⌋ = 0 0 1 1 2 2 (H/OH would give 0 0 1 2 2 3)."""
    row = minigan.tensor([[[[0.0, 1.0, 2.0, 3.0, 4.0]]]], device=device)
    assert interpolate(row, size=(1, 8)).data.tolist() == [[[[0, 0, 1, 1, 2, 3, 3, 4]]]]
    row7 = minigan.tensor([[[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]]], device=device)
    assert interpolate(row7, size=(1, 3)).data.tolist() == [[[[0, 2, 4]]]]
    row4 = minigan.tensor([[[[0.0, 1.0, 2.0, 3.0]]]], device=device)
    assert interpolate(row4, scale_factor=(1, 1.7)).data.tolist() == [[[[0, 0, 1, 1, 2, 2]]]]


def test_bilinear_2x2_to_4x4_by_hand(device):
    """x = [[0, 3], [6, 9]].
    align_corners=True: src = dst/3, so each row of 4 runs evenly from its first to its last
    value: [0 1 2 3], [6 7 8 9] and between them rows at 1/3 and 2/3.
    align_corners=False: src = (dst + ½)/2 − ½ = 0 (clamped), ¼, ¾, 1¼ → weights on the two
    inputs (1, 0), (¾, ¼), (¼, ¾), (0, 1); along W: [0, .75, 2.25, 3] and [6, 6.75, 8.25, 9],
    then rows mixed the same way."""
    x = minigan.tensor([[[[0.0, 3.0], [6.0, 9.0]]]], dtype="float64", device=device)
    corners = [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]]
    y = interpolate(x, size=4, mode="bilinear", align_corners=True)
    np.testing.assert_allclose(host(y)[0, 0], corners, atol=1e-12)
    centers = [[0, 0.75, 2.25, 3], [1.5, 2.25, 3.75, 4.5], [4.5, 5.25, 6.75, 7.5],
               [6, 6.75, 8.25, 9]]
    y = interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(host(y)[0, 0], centers, atol=1e-12)
    y = interpolate(x, size=(4, 4), mode="bilinear")  # align_corners=None means False
    np.testing.assert_allclose(host(y)[0, 0], centers, atol=1e-12)


def test_bilinear_keeps_constants_and_linear_ramps(device):
    """Weights of each output pixel sum to 1, and with align_corners=True a linear ramp in
    the input is sampled exactly: x[i] = i gives y[p] = p · (H − 1)/(OH − 1)."""
    ones = minigan.ones(1, 1, 5, 7, dtype="float64", device=device)
    y = interpolate(ones, size=(8, 3), mode="bilinear")
    np.testing.assert_allclose(host(y), 1.0, atol=1e-14)
    ramp = minigan.tensor(np.arange(5.0).reshape(1, 1, 5, 1) * np.ones((1, 1, 1, 2)),
                          dtype="float64", device=device)
    y = interpolate(ramp, size=(9, 2), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(host(y)[0, 0, :, 0], np.arange(9) * 4 / 8, atol=1e-14)


def test_interpolate_keeps_float32(device):
    x = minigan.randn(1, 2, 3, 4, device=device)
    for mode in ("nearest", "bilinear"):
        y = interpolate(x, scale_factor=2, mode=mode)
        assert y.dtype == np.float32 and y.device == device


# ==================== pooling ====================

POOLS = [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 0)), (3, 1, 1), ((1, 3), 2, (0, 1))]


def _pairs(kernel, stride, padding):
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    return pair(kernel), pair(kernel if stride is None else stride), pair(padding)


@pytest.mark.parametrize("kernel, stride, padding", POOLS)
def test_avg_pool_matches_reference(device, kernel, stride, padding):
    x = randn_np(2, 3, 5, 7)
    y = avg_pool2d(minigan.tensor(x, device=device, dtype="float64"), kernel, stride, padding)
    np.testing.assert_allclose(host(y), reference_avg_pool(x, *_pairs(kernel, stride, padding)),
                               atol=1e-12)


@pytest.mark.parametrize("kernel, stride, padding", POOLS)
def test_max_pool_matches_reference(device, kernel, stride, padding):
    x = randn_np(2, 3, 5, 7)
    y = max_pool2d(minigan.tensor(x, device=device, dtype="float64"), kernel, stride, padding)
    np.testing.assert_array_equal(host(y), reference_max_pool(x, *_pairs(kernel, stride,
                                                                         padding))[0])


@pytest.mark.parametrize("kernel, stride, padding", POOLS)
def test_max_pool_gradient_goes_to_the_reference_argmax(device, kernel, stride, padding):
    x = randn_np(2, 3, 5, 7)
    g = randn_np(*max_pool2d(minigan.tensor(x), kernel, stride, padding).shape)
    t = minigan.tensor(x, device=device, dtype="float64", requires_grad=True)
    gx, = minigan.grad(max_pool2d(t, kernel, stride, padding), t,
                       grad_outputs=minigan.tensor(g, dtype="float64", device=device))
    expected = np.zeros_like(x)
    for (n, c, p, q), (i, j) in reference_max_pool(x, *_pairs(kernel, stride, padding))[1].items():
        expected[n, c, i, j] += g[n, c, p, q]
    np.testing.assert_allclose(host(gx), expected, atol=1e-12)


def test_pools_by_hand(device):
    x = minigan.tensor([[[[1.0, 2.0, 3.0, 4.0],
                          [5.0, 6.0, 7.0, 8.0],
                          [9.0, 8.0, 7.0, 6.0],
                          [5.0, 4.0, 3.0, 2.0]]]], device=device)
    assert max_pool2d(x, 2).data.tolist() == [[[[6.0, 8.0], [9.0, 7.0]]]]
    assert avg_pool2d(x, 2).data.tolist() == [[[[3.5, 5.5], [6.5, 4.5]]]]
    # padding 1, kernel 2, stride 2: corner windows hold one real pixel; the mean still
    # divides by 4 (count_include_pad), the max ignores the padding
    assert avg_pool2d(x, 2, 2, 1).data.tolist()[0][0][0] == [0.25, 1.25, 1.0]
    assert max_pool2d(x, 2, 2, 1).data.tolist()[0][0][0] == [1.0, 3.0, 4.0]


def test_max_pool_of_negative_values_ignores_padding(device):
    x = -minigan.ones(1, 1, 2, 2, device=device) - minigan.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert max_pool2d(x, 3, 1, 1).data.tolist() == [[[[-1.0, -1.0], [-1.0, -1.0]]]]


def test_max_pool_ties_take_the_first_max(device):
    """Like PyTorch: on a tie the first element of the window in row-major order wins and
    gets the whole gradient."""
    x = minigan.tensor([[[[1.0, 1.0, 0.0, 2.0],
                          [1.0, 1.0, 2.0, 1.0]]]], device=device, requires_grad=True)
    max_pool2d(x, 2).sum().backward()
    assert x.grad.data.tolist() == [[[[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]]]


def test_max_pool_overlapping_windows_accumulate(device):
    """With stride 1 one pixel can be the max of several windows: its gradient is the sum."""
    x = minigan.tensor([[[[0.0, 0.1, 0.2], [0.3, 9.0, 0.4], [0.5, 0.6, 0.7]]]],
                       device=device, requires_grad=True)
    max_pool2d(x, 2, 1).sum().backward()
    assert x.grad.data.tolist() == [[[[0, 0, 0], [0, 4.0, 0], [0, 0, 0]]]]


@pytest.mark.parametrize("shape, size", [((5, 7), (3, 4)), ((7, 3), (3, 1)), ((5, 7), (5, 7)),
                                         ((4, 6), (2, 3)), ((5, 7), (1, 1)), ((3, 4), (5, 7))])
def test_adaptive_avg_pool_matches_reference(device, shape, size):
    x = randn_np(2, 3, *shape)
    y = adaptive_avg_pool2d(minigan.tensor(x, device=device, dtype="float64"), size)
    np.testing.assert_allclose(host(y), reference_adaptive(x, size), atol=1e-12)


def test_adaptive_avg_pool_by_hand(device):
    """7 → 3: windows [0, 3), [2, 5), [4, 7) (they overlap), means 1, 3, 5 of 0..6; an
    even split is plain average pooling; (1, 1) is the global mean; None keeps a size."""
    row = minigan.tensor([[[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]]], device=device)
    assert adaptive_avg_pool2d(row, (1, 3)).data.tolist() == [[[[1.0, 3.0, 5.0]]]]
    x = minigan.randn(2, 3, 4, 6, dtype="float64", device=device)
    np.testing.assert_allclose(host(adaptive_avg_pool2d(x, (2, 3))), host(avg_pool2d(x, 2)))
    np.testing.assert_allclose(host(adaptive_avg_pool2d(x, 1))[..., 0, 0],
                               host(x).mean(axis=(2, 3)))
    assert adaptive_avg_pool2d(x, (None, 2)).shape == (2, 3, 4, 2)


def test_pools_accept_unbatched_input(device):
    x = randn_np(3, 5, 7)
    t = minigan.tensor(x, device=device, dtype="float64")
    np.testing.assert_allclose(host(avg_pool2d(t, 3, 2, 1)),
                               reference_avg_pool(x, (3, 3), (2, 2), (1, 1)), atol=1e-12)
    np.testing.assert_array_equal(host(max_pool2d(t, 2))[None],
                                  reference_max_pool(x[None], (2, 2), (2, 2), (0, 0))[0])
    assert adaptive_avg_pool2d(t, 2).shape == (3, 2, 2)


# ==================== linearity: the adjoint identity ====================

LINEAR_OPS = {
    "pad_constant": lambda x: pad(x, (1, 2, 3, 0), value=0.0),
    "pad_reflect": lambda x: pad(x, (1, 2, 3, 0), mode="reflect"),
    "pad_replicate": lambda x: pad(x, (2, 0, 1, 3), mode="replicate"),
    "nearest_5x7_to_8x3": lambda x: interpolate(x, size=(8, 3)),
    "nearest_x2": lambda x: interpolate(x, scale_factor=2),
    "bilinear_to_8x3": lambda x: interpolate(x, size=(8, 3), mode="bilinear"),
    "bilinear_corners_x2": lambda x: interpolate(x, scale_factor=2, mode="bilinear",
                                                 align_corners=True),
    "bilinear_to_3x4": lambda x: interpolate(x, size=(3, 4), mode="bilinear"),
    "avg_pool_3_2_1": lambda x: avg_pool2d(x, 3, 2, 1),
    "avg_pool_2x3": lambda x: avg_pool2d(x, (2, 3), (1, 2)),
    "adaptive_3x4": lambda x: adaptive_avg_pool2d(x, (3, 4)),
    "adaptive_7x9": lambda x: adaptive_avg_pool2d(x, (7, 9)),
}


@pytest.mark.parametrize("name", LINEAR_OPS)
def test_adjoint_identity(device, name):
    """<A x, v> = <x, Aᵀ v> where Aᵀ v is what backward computes: the backward is exactly
    the transposed map, and the op is linear (A(2x + z) = 2Ax + Az)."""
    op = LINEAR_OPS[name]
    x = randn64(2, 3, 5, 7, device=device)
    y = op(x)
    v = minigan.randn(*y.shape, dtype="float64", device=device)
    gx, = minigan.grad(y, x, grad_outputs=v)
    np.testing.assert_allclose((host(y) * host(v)).sum(), (host(x) * host(gx)).sum(),
                               rtol=1e-12)
    z = randn64(2, 3, 5, 7, device=device)
    np.testing.assert_allclose(host(op(2 * x + z)), 2 * host(y) + host(op(z)), atol=1e-12)


# ==================== first and second derivatives ====================

ALL_OPS = dict(LINEAR_OPS, **{
    "pad_constant_value": lambda x: pad(x, (0, 1, 2, 1), value=2.5),
    "pad_reflect_w_only": lambda x: pad(x, (3, 1), mode="reflect"),
    "max_pool_2": lambda x: max_pool2d(x, 2),
    "max_pool_3_2_1": lambda x: max_pool2d(x, 3, 2, 1),
    "max_pool_2x3_overlap": lambda x: max_pool2d(x, (2, 3), 1, (1, 1)),
})


@pytest.mark.parametrize("name", ALL_OPS)
def test_gradcheck(device, name):
    x = distinct(2, 2, 5, 7, device=device)
    assert minigan.gradcheck(ALL_OPS[name], [x], name=name)


@pytest.mark.parametrize("name", ALL_OPS)
def test_gradgradcheck(device, name):
    """On op(x)², whose gradient 2 Aᵀ(v ⊙ A x) runs the adjoint on a tensor that depends on
    x, so the adjoint's own backward is checked (for op(x) alone it would be trivial)."""
    op = ALL_OPS[name]
    x = distinct(1, 2, 5, 7, device=device)
    assert minigan.gradgradcheck(lambda x: op(x) ** 2, [x], name=name)


@pytest.mark.parametrize("name", ALL_OPS)
def test_backward_is_differentiable_in_the_incoming_gradient(device, name):
    """v ↦ Aᵀ v (the backward as a function of ∂L/∂y) against finite differences: its
    derivative is the op again, which closes the set under differentiation."""
    op = ALL_OPS[name]
    x = distinct(1, 2, 5, 7, device=device)
    v = randn64(*op(x).shape, device=device)

    def backward_of_op(v):
        with minigan.enable_grad():  # gradcheck evaluates under no_grad
            return minigan.grad(op(x), x, grad_outputs=v, create_graph=True)[0]

    assert minigan.gradcheck(backward_of_op, [v], name=f"backward of {name}")


def test_gradcheck_unbatched_and_3d_pad(device):
    x = distinct(2, 5, 6, device=device)
    assert minigan.gradcheck(lambda x: max_pool2d(x, 3, 2, 1) ** 2, [x])
    assert minigan.gradgradcheck(lambda x: avg_pool2d(x, 2, 1) ** 2, [x])
    assert minigan.gradgradcheck(lambda x: pad(x, (1, 1, 0, 2, 1, 0), mode="reflect") ** 2, [x])


def test_gradient_chains_through_two_resizes(device):
    """upsample ∘ pool, as in an encoder-decoder: checked to second order end to end."""
    x = distinct(1, 1, 6, 6, device=device)

    def chain(x):
        y = interpolate(max_pool2d(pad(x, (1, 1, 1, 1), mode="reflect"), 2), size=(5, 7),
                        mode="bilinear")
        return adaptive_avg_pool2d(y.tanh(), 2)

    assert minigan.gradcheck(chain, [x])
    assert minigan.gradgradcheck(chain, [x])


# ==================== errors ====================

def test_pad_errors():
    x = minigan.zeros(1, 1, 3, 4)
    with pytest.raises(ValueError, match=r"unknown mode 'circular': expected one of "
                                         r"\('constant', 'reflect', 'replicate'\)"):
        pad(x, (1, 1), mode="circular")
    with pytest.raises(ValueError, match=r"even length .* found \(1, 2, 3\)"):
        pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match=r"non-negative ints, found \(1, -1\)"):
        pad(x, (1, -1))
    with pytest.raises(ValueError, match=r"pads 5 axes but the input has shape \(1, 1, 3, 4\)"):
        pad(x, (1,) * 10)
    with pytest.raises(ValueError, match=r"reflect padding must be smaller than the padded "
                                         r"axis: axis -2 .* has size 3, found padding \(3, 0\)"):
        pad(x, (1, 1, 3, 0), mode="reflect")
    with pytest.raises(ValueError, match="mode 'replicate' takes no value"):
        pad(x, (1, 1), mode="replicate", value=1.0)
    with pytest.raises(TypeError, match="pad: expected a Tensor input, found ndarray"):
        pad(np.zeros((1, 1, 3, 4)), (1, 1))


def test_interpolate_errors():
    x = minigan.zeros(1, 1, 3, 4)
    with pytest.raises(ValueError, match=r"expected a 4-D \(N, C, H, W\) input, found shape "
                                         r"\(1, 3, 4\)"):
        interpolate(minigan.zeros(1, 3, 4), scale_factor=2)
    with pytest.raises(ValueError, match=r"unknown mode 'bicubic': expected one of "
                                         r"\('nearest', 'bilinear'\)"):
        interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        interpolate(x, size=4, scale_factor=2)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        interpolate(x)
    with pytest.raises(ValueError, match="align_corners can only be set with mode='bilinear'"):
        interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match=r"turns the input size \(3, 4\) into an empty output "
                                         r"\(0, 1\)"):
        interpolate(x, scale_factor=0.3)
    with pytest.raises(ValueError, match=r"size must be an int ≥ 1 or a pair of them, found "
                                         r"\(0, 2\)"):
        interpolate(x, size=(0, 2))
    with pytest.raises(ValueError, match="scale_factor must be a positive number"):
        interpolate(x, scale_factor=-2)


def test_pool_errors():
    x = minigan.zeros(1, 1, 4, 5)
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 3-D \(C, H, W\) or 4-D "
                                         r"\(N, C, H, W\) input, found shape \(4, 5\)"):
        max_pool2d(minigan.zeros(4, 5), 2)
    with pytest.raises(ValueError, match=r"padding must be at most half the kernel size, "
                                         r"found padding=\(2, 2\) for kernel_size=\(3, 3\)"):
        avg_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"max_pool2d: the kernel 5×5 is larger than the "
                                         r"padded input 4×5 \(input 4×5\)"):
        max_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"stride must be an int ≥ 1 or a pair of them, found 0"):
        avg_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"kernel_size must be an int ≥ 1 or a pair of them, "
                                         r"found \(2, 2, 2\)"):
        max_pool2d(x, (2, 2, 2))
    with pytest.raises(ValueError, match=r"output_size must be an int ≥ 1 .* found \(0, 2\)"):
        adaptive_avg_pool2d(x, (0, 2))
    with pytest.raises(TypeError, match="avg_pool2d: expected a Tensor input, found list"):
        avg_pool2d([[1.0]], 1)


# ==================== layers ====================

def test_layers_match_the_functional_ops(device):
    x = minigan.randn(2, 3, 5, 7, device=device)
    cases = [
        (Upsample(scale_factor=2), interpolate(x, scale_factor=2)),
        (Upsample(size=(8, 3), mode="bilinear", align_corners=True),
         interpolate(x, size=(8, 3), mode="bilinear", align_corners=True)),
        (ReflectionPad2d((1, 2, 3, 0)), pad(x, (1, 2, 3, 0), mode="reflect")),
        (ReplicationPad2d(2), pad(x, (2, 2, 2, 2), mode="replicate")),
        (ZeroPad2d((0, 1, 1, 0)), pad(x, (0, 1, 1, 0))),
        (AvgPool2d(3, 2, 1), avg_pool2d(x, 3, 2, 1)),
        (MaxPool2d(2), max_pool2d(x, 2)),
        (AdaptiveAvgPool2d((3, None)), adaptive_avg_pool2d(x, (3, 7))),
    ]
    for layer, expected in cases:
        y = layer(x)
        assert y.shape == expected.shape, layer
        np.testing.assert_array_equal(host(y), host(expected))
        assert list(layer.parameters()) == [], layer


def test_layer_reprs():
    assert repr(Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert (repr(Upsample(size=(8, 3), mode="bilinear", align_corners=False))
            == "Upsample(size=(8, 3), mode='bilinear', align_corners=False)")
    assert repr(ReflectionPad2d((1, 2, 3, 0))) == "ReflectionPad2d((1, 2, 3, 0))"
    assert repr(ReplicationPad2d(2)) == "ReplicationPad2d((2, 2, 2, 2))"
    assert repr(ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(AvgPool2d(3, 2, 1)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)"


def test_layer_errors():
    with pytest.raises(ValueError, match=r"Upsample: unknown mode 'area': expected one of"):
        Upsample(scale_factor=2, mode="area")
    with pytest.raises(ValueError, match="Upsample: give exactly one of size and scale_factor"):
        Upsample()
    with pytest.raises(ValueError, match="Upsample: align_corners can only be set with "
                                         "mode='bilinear'"):
        Upsample(scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="Upsample: scale_factor must be a positive number"):
        Upsample(scale_factor=0)
    with pytest.raises(ValueError, match=r"ReflectionPad2d: padding must be a non-negative int "
                                         r"or \(left, right, top, bottom\), found \(1, 2\)"):
        ReflectionPad2d((1, 2))
    with pytest.raises(ValueError, match=r"ZeroPad2d: expected a 3-D \(C, H, W\) or 4-D "
                                         r"\(N, C, H, W\) input, found shape \(5,\)"):
        ZeroPad2d(1)(minigan.zeros(5))
    with pytest.raises(ValueError, match=r"Upsample: expected a 4-D \(N, C, H, W\) input"):
        Upsample(scale_factor=2)(minigan.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="MaxPool2d: padding must be at most half the kernel"):
        MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="AvgPool2d: stride must be an int"):
        AvgPool2d(2, stride=(1, 2, 3))


def test_layer_gradient_in_a_sequential(device):
    from minigan.nn.container import Sequential
    net = Sequential(ReflectionPad2d(1), MaxPool2d(2), Upsample(scale_factor=2, mode="bilinear"),
                     AdaptiveAvgPool2d(1))
    x = distinct(1, 2, 4, 4, device=device)
    assert net(x).shape == (1, 2, 1, 1)
    assert minigan.gradcheck(net, [x])
