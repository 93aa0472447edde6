"""conv2d, conv_transpose2d and conv2d_grad_weight: against the loop references, the adjoint
identity, first and second derivatives by finite differences, a gradient penalty through a
convolution, and the error messages."""
import numpy as np
import pytest

import minigan
from minigan.functional.conv import (Conv2d, ConvTranspose2d, ConvGeometry, conv2d,
                                     conv2d_grad_weight, conv_transpose2d)
from minigan.functional.conv_reference import (conv2d_grad_weight_reference,
                                               conv2d_reference, conv_transpose2d_reference)
from tests.helpers import randn64


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def t64(a, device, requires_grad=False):
    return minigan.tensor(a, dtype="float64", device=device, requires_grad=requires_grad)


# ==================== forward against the loop references ====================

# (N, C, H, W, OC, kernel, stride, padding, dilation, groups, bias)
CONV_CASES = [
    (1, 1, 5, 7, 1, 3, 1, 0, 1, 1, False),
    (3, 2, 5, 7, 4, 3, 1, 1, 1, 1, True),
    (3, 2, 5, 7, 4, 3, 2, 1, 1, 1, True),
    (2, 3, 7, 5, 2, 2, 3, 2, 1, 1, False),
    (2, 2, 7, 7, 4, 3, 2, 2, 2, 2, True),
    (1, 4, 6, 5, 6, (3, 2), (2, 1), (1, 0), (1, 2), 2, True),
    (3, 2, 5, 7, 3, (2, 4), 1, (0, 2), 1, 1, False),
    (2, 4, 5, 5, 4, 1, 2, 0, 1, 4, True),
    (1, 2, 9, 8, 2, 3, 3, 1, 3, 1, True),
    (2, 2, 5, 7, 2, 4, 1, "same", 1, 1, True),
    (2, 2, 5, 7, 4, (3, 4), 1, "same", (2, 1), 2, False),
    (3, 2, 5, 7, 2, 3, 1, "valid", 1, 1, True),
    (16, 2, 4, 3, 2, 3, 1, 1, 1, 1, True),  # float64 batch rows of 2 cache lines: staged path
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_matches_reference(device, case):
    N, C, H, W, OC, k, s, p, d, g, with_bias = case
    KH, KW = pair(k)
    x, w, b = arrays((N, C, H, W), (OC, C // g, KH, KW), (OC,))
    b = b if with_bias else None
    y = conv2d(t64(x, device), t64(w, device), None if b is None else t64(b, device),
               stride=s, padding=p, dilation=d, groups=g)
    expected = conv2d_reference(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


# (N, C, H, W, OC, kernel, stride, padding, output_padding, dilation, groups, bias)
CONVT_CASES = [
    (1, 1, 1, 1, 3, 3, 2, 0, 0, 1, 1, True),      # the DCGAN's first step 1 -> 3
    # one input pixel: the stamp is the output (cropped by the padding) ...
    (3, 4, 1, 1, 6, 4, 1, 0, 0, 1, 2, False),     # 64×64 geometry's first step 1 -> 4
    (2, 3, 1, 1, 2, (4, 3), (2, 1), (1, 0), 0, 1, 1, True),
    (5, 2, 1, 1, 3, 5, 3, (2, 1), 0, 1, 1, True),
    # ... plus rows/columns of bias alone where output padding puts pixels outside it ...
    (2, 2, 1, 1, 3, 3, 2, 0, 1, 1, 1, True),
    (3, 2, 1, 1, 2, (4, 3), 2, (1, 0), (1, 1), 1, 1, False),
    # ... except where dilation puts gaps inside it
    (2, 2, 1, 1, 3, 3, 1, 0, 0, 2, 1, True),
    (3, 2, 5, 7, 4, 3, 1, 0, 0, 1, 1, False),
    (3, 2, 5, 7, 4, 3, 2, 1, 1, 1, 1, True),
    (2, 3, 4, 5, 2, 2, 3, 2, 2, 1, 1, True),
    (2, 4, 5, 5, 2, 3, 2, 1, 0, 2, 2, True),
    (1, 4, 3, 4, 6, (3, 2), (2, 1), (1, 0), (1, 0), (1, 2), 2, False),
    (2, 2, 4, 4, 2, 3, 1, 1, 1, 2, 1, True),      # output_padding < dilation, ≥ stride
    (2, 2, 3, 5, 3, (4, 2), (3, 2), (2, 1), (2, 1), 1, 1, True),
    (16, 2, 3, 2, 2, 3, 2, 1, 1, 1, 2, True),     # staged path in float64
]


@pytest.mark.parametrize("case", CONVT_CASES)
def test_conv_transpose2d_matches_reference(device, case):
    N, C, H, W, OC, k, s, p, op, d, g, with_bias = case
    KH, KW = pair(k)
    x, w, b = arrays((N, C, H, W), (C, OC // g, KH, KW), (OC,))
    b = b if with_bias else None
    y = conv_transpose2d(t64(x, device), t64(w, device), None if b is None else t64(b, device),
                         stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    expected = conv_transpose2d_reference(x, w, b, stride=s, padding=p, output_padding=op,
                                          groups=g, dilation=d)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CONV_CASES[:8] + CONV_CASES[9:11])
def test_conv2d_grad_weight_matches_reference(device, case):
    N, C, H, W, OC, k, s, p, d, g, _ = case
    KH, KW = pair(k)
    x, w = arrays((N, C, H, W), (OC, C // g, KH, KW))
    out_shape = conv2d_reference(x, w, stride=s, padding=p, dilation=d, groups=g).shape
    gy, = arrays(out_shape, seed=1)
    gw = conv2d_grad_weight(t64(x, device), t64(gy, device), (KH, KW), stride=s, padding=p,
                            dilation=d, groups=g)
    expected = conv2d_grad_weight_reference(x, gy, (KH, KW), stride=s, padding=p, dilation=d,
                                            groups=g)
    np.testing.assert_allclose(gw.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_dcgan_geometry_in_float32_matches_float64(device):
    """The DCGAN's layers at a batch whose rows are staged (32 floats = 2 cache lines)."""
    x, w1, w2 = arrays((32, 8, 6, 6), (8, 4, 3, 3), (2, 4, 4, 4))
    for dtype, tol in (("float64", 1e-12), ("float32", 1e-4)):
        xs, w1s, w2s = (minigan.tensor(a, dtype=dtype, device=device) for a in (x, w1, w2))
        y = conv_transpose2d(xs, w1s, stride=2)                     # 6 -> 13
        z = conv2d(y, w2s, stride=2)                                # 13 -> 5
        assert y.dtype == z.dtype == np.dtype(dtype)
        expected = conv2d_reference(conv_transpose2d_reference(x, w1, stride=2), w2, stride=2)
        np.testing.assert_allclose(z.numpy(), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("N", [1, 16])
def test_results_survive_later_calls(device, N):
    """Temporaries are reused between calls; results must never live in them."""
    x1, x2, w = arrays((N, 2, 4, 5), (N, 2, 4, 5), (2, 2, 3, 3))
    wt = t64(w, device)
    first = [conv2d(t64(x1, device), wt), conv_transpose2d(t64(x1, device), wt),
             conv2d_grad_weight(t64(x1, device), t64(x1, device)[:, :, 1:3, 1:4], (3, 3))]
    for _ in range(2):
        conv2d(t64(x2, device), wt), conv_transpose2d(t64(x2, device), wt)
        conv2d_grad_weight(t64(x2, device), t64(x2, device)[:, :, 1:3, 1:4], (3, 3))
    np.testing.assert_allclose(first[0].numpy(), conv2d_reference(x1, w), atol=1e-12)
    np.testing.assert_allclose(first[1].numpy(), conv_transpose2d_reference(x1, w), atol=1e-12)
    np.testing.assert_allclose(first[2].numpy(), conv2d_grad_weight_reference(
        x1, x1[:, :, 1:3, 1:4], (3, 3)), atol=1e-12)


def test_input_gradient_with_uncovered_rows_survives_later_calls(device):
    """conv 6 -> 2 (k 3, s 2) leaves input row and column 5 outside every window: its input
    gradient is a transposed convolution with a negative bottom pad, whose sums are the
    result itself (nothing to crop), so they must not live in reused memory either."""
    gy1, gy2, w = arrays((16, 2, 2, 2), (16, 2, 2, 2), (2, 2, 3, 3))
    geometry = ConvGeometry((2, 2), ((0, 0), (0, 0)), (1, 1), 1).adjoint_for((6, 6), (3, 3))
    assert geometry.padding == ((0, -1), (0, -1))
    first = ConvTranspose2d(geometry)(t64(gy1, device), t64(w, device))
    ConvTranspose2d(geometry)(t64(gy2, device), t64(w, device))
    expected = conv_transpose2d_reference(gy1, w, stride=2, output_padding=1)  # 2 -> 6
    np.testing.assert_allclose(first.numpy(), expected, atol=1e-12)
    assert np.all(expected[:, :, 5, :] == 0) and np.all(expected[:, :, :, 5] == 0)


def test_outputs_stay_batch_last_and_feed_the_next_convolution(device):
    """A convolution's output is its batch-last result seen as (N, C, H, W); every op that
    reads it (with and without padding, conv, convT, the weight gradient) must see the
    same numbers as for a batch-first copy, and must not write into it."""
    x, w1, w2, w3 = arrays((5, 3, 4, 4), (3, 2, 3, 3), (4, 2, 3, 3), (2, 3, 2, 2))
    y = conv_transpose2d(t64(x, device), t64(w1, device), stride=2)      # (5, 2, 9, 9)
    assert y.data.strides[0] == y.data.itemsize                          # N varies fastest
    y_ref = conv_transpose2d_reference(x, w1, stride=2)
    before = y.numpy().copy()
    for got, expected in [
            (conv2d(y, t64(w2, device)), conv2d_reference(y_ref, w2)),
            (conv2d(y, t64(w2, device), stride=2, padding=1),
             conv2d_reference(y_ref, w2, stride=2, padding=1)),
            (conv_transpose2d(y, t64(w3, device), stride=2, padding=1),
             conv_transpose2d_reference(y_ref, w3, stride=2, padding=1)),
            (conv2d_grad_weight(y, conv2d(y, t64(w2, device)), (3, 3)),
             conv2d_grad_weight_reference(y_ref, conv2d_reference(y_ref, w2), (3, 3)))]:
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-12)
    np.testing.assert_array_equal(y.numpy(), before)


def test_plain_allocation_branch(monkeypatch):
    """What CuPy runs (no scratch reuse, no row pitching), exercised here on NumPy."""
    from minigan.functional import _im2col
    monkeypatch.setattr(_im2col, "is_numpy", lambda xp: False)
    x, w, b = arrays((16, 2, 5, 4), (2, 2, 3, 3), (2,))
    y = conv_transpose2d(t64(x, "cpu"), t64(w, "cpu"), t64(b, "cpu"), stride=2, padding=1)
    np.testing.assert_allclose(y.numpy(), conv_transpose2d_reference(x, w, b, 2, 1), atol=1e-12)
    inputs, kw = conv_args(GRAD_CASES[0], "cpu")
    assert minigan.gradgradcheck(lambda x, w, b: conv2d(x, w, b, **kw), inputs)


# ==================== the adjoint identity ====================

# (N, C, H, W, OC, kernel, stride, padding, dilation, groups)
ADJOINT_CASES = [
    (1, 1, 5, 5, 1, 3, 1, 0, 1, 1), (2, 2, 5, 7, 3, 3, 1, 1, 1, 1),
    (2, 2, 5, 7, 3, 3, 2, 0, 1, 1), (2, 2, 5, 7, 3, 3, 2, 1, 1, 1),
    (2, 2, 6, 6, 2, 3, 2, 1, 1, 1), (2, 3, 7, 5, 2, 2, 3, 0, 1, 1),
    (2, 3, 8, 7, 2, 3, 3, 2, 1, 1), (1, 2, 7, 7, 2, 3, 1, 0, 2, 1),
    (2, 2, 9, 8, 4, 3, 2, 1, 2, 2), (2, 4, 7, 7, 4, 3, 2, 2, 2, 4),
    (2, 4, 6, 5, 6, (3, 2), (2, 1), (1, 0), (1, 2), 2), (3, 2, 5, 7, 2, (2, 4), 1, (0, 2), 1, 1),
    (2, 2, 5, 5, 2, 1, 2, 0, 1, 1), (2, 2, 5, 5, 2, 5, 1, 2, 1, 2),
    (1, 2, 10, 10, 3, 4, 2, 1, 1, 1), (1, 2, 11, 11, 3, 4, 2, 1, 1, 1),
    (2, 1, 28, 28, 2, 4, 2, 1, 1, 1), (2, 2, 13, 13, 3, 4, 2, 0, 1, 1),
    (2, 2, 6, 6, 2, 4, 1, 0, 1, 1), (2, 3, 9, 9, 3, 3, 3, 1, 2, 3),
    (1, 2, 4, 9, 2, (1, 3), (1, 3), (0, 1), (1, 2), 1), (4, 2, 3, 3, 2, 3, 1, 1, 1, 2),
]


@pytest.mark.parametrize("case", ADJOINT_CASES)
def test_adjoint_identity(device, case):
    """⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose2d(y, w)⟩, output_padding matching x's size."""
    N, C, H, W, OC, k, s, p, d, g = case
    (KH, KW), (sh, sw), (ph, pw), (dh, dw) = pair(k), pair(s), pair(p), pair(d)
    OH, OW = conv_size(H, KH, sh, ph, dh), conv_size(W, KW, sw, pw, dw)
    output_padding = (H + 2 * ph - dh * (KH - 1) - 1 - (OH - 1) * sh,
                      W + 2 * pw - dw * (KW - 1) - 1 - (OW - 1) * sw)
    x, w, y = arrays((N, C, H, W), (OC, C // g, KH, KW), (N, OC, OH, OW))
    x, w, y = t64(x, device), t64(w, device), t64(y, device)
    left = (conv2d(x, w, stride=s, padding=p, dilation=d, groups=g) * y).sum().item()
    xt = conv_transpose2d(y, w, stride=s, padding=p, output_padding=output_padding, groups=g,
                          dilation=d)
    right = (x * xt).sum().item()
    assert left == pytest.approx(right, rel=1e-10, abs=1e-12)


def test_adjoint_identity_with_same_padding(device):
    """Asymmetric ("same", even kernel) padding: the Functions' own adjoint geometry."""
    x, w = randn64(2, 2, 5, 6, device=device), randn64(3, 2, 4, 2, device=device)
    y = randn64(2, 3, 5, 6, device=device)
    geometry = ConvGeometry((1, 1), ((1, 2), (0, 1)), (1, 1), 1)
    left = (Conv2d(geometry)(x, w) * y).sum().item()
    right = (x * ConvTranspose2d(geometry.adjoint_for((5, 6), (4, 2)))(y, w)).sum().item()
    assert conv2d(x, w, padding="same").shape == (2, 3, 5, 6)
    assert left == pytest.approx(right, rel=1e-10)


# ==================== first and second derivatives ====================

# (N, C, H, W, OC, kernel, stride, padding, dilation, groups)
GRAD_CASES = [
    (2, 2, 5, 5, 2, 3, 2, 1, 2, 2),      # the brief's case: everything at once
    (1, 2, 4, 5, 3, (2, 3), (1, 2), (1, 0), 1, 1),
    (2, 1, 5, 4, 2, 3, 1, "same", (1, 2), 1),
    (3, 2, 5, 5, 2, 4, 2, 0, 1, 1),      # D3: one output pixel, no window reaches row 4
]


def conv_args(case, device):
    N, C, H, W, OC, k, s, p, d, g = case
    x = randn64(N, C, H, W, device=device)
    w = randn64(OC, C // g, *pair(k), device=device)
    b = randn64(OC, device=device)
    return (x, w, b), dict(stride=s, padding=p, dilation=d, groups=g)


@pytest.mark.parametrize("case", GRAD_CASES)
def test_conv2d_gradcheck_and_gradgradcheck(device, case):
    inputs, kw = conv_args(case, device)
    fn = lambda x, w, b: conv2d(x, w, b, **kw)  # noqa: E731
    assert minigan.gradcheck(fn, inputs, name="conv2d")
    assert minigan.gradgradcheck(fn, inputs, name="conv2d")


# (N, C, H, W, OC, kernel, stride, padding, output_padding, dilation, groups)
@pytest.mark.parametrize("case", [
    (2, 2, 3, 3, 2, 3, 2, 1, 1, 2, 2),
    (3, 2, 1, 1, 4, (4, 3), 2, (1, 0), 0, 1, 2),  # one input pixel
    (1, 2, 2, 3, 3, (2, 3), (1, 2), (0, 1), (0, 1), 1, 1),
    (2, 1, 3, 2, 2, 3, 1, 1, 1, 2, 1),
])
def test_conv_transpose2d_gradcheck_and_gradgradcheck(device, case):
    N, C, H, W, OC, k, s, p, op, d, g = case
    x = randn64(N, C, H, W, device=device)
    w = randn64(C, OC // g, *pair(k), device=device)
    b = randn64(OC, device=device)
    fn = lambda x, w, b: conv_transpose2d(x, w, b, s, p, op, g, d)  # noqa: E731
    assert minigan.gradcheck(fn, (x, w, b), name="conv_transpose2d")
    assert minigan.gradgradcheck(fn, (x, w, b), name="conv_transpose2d")


@pytest.mark.parametrize("case", GRAD_CASES)
def test_conv2d_grad_weight_gradcheck_and_gradgradcheck(device, case):
    (x, w, _), kw = conv_args(case, device)
    with minigan.no_grad():
        out_shape = conv2d(x, w, **kw).shape
    gy = randn64(*out_shape, device=device)
    fn = lambda x, gy: conv2d_grad_weight(x, gy, w.shape[2:], **kw)  # noqa: E731
    assert minigan.gradcheck(fn, (x, gy), name="conv2d_grad_weight")
    assert minigan.gradgradcheck(fn, (x, gy), name="conv2d_grad_weight")


@pytest.mark.parametrize("which", [0, 1, 2])
def test_each_input_alone(device, which):
    """Gradients when only one input needs one (no im2col kept, or one shared by nobody)."""
    inputs, kw = conv_args(GRAD_CASES[0], device)
    for i, t in enumerate(inputs):
        t.requires_grad = i == which
    assert minigan.gradgradcheck(lambda x, w, b: conv2d(x, w, b, **kw), inputs)
    x, w, b = inputs
    xt = randn64(2, 2, 3, 3, device=device, requires_grad=which == 0)
    assert minigan.gradgradcheck(
        lambda x, w, b: conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1,
                                         groups=2, dilation=2), (xt, w, b))


def test_kept_im2col_serves_repeated_backward(device):
    """The forward's im2col, kept for ∂L/∂w, is reused by a second walk (retain_graph)."""
    x, w = randn64(2, 2, 5, 5, device=device), randn64(3, 2, 3, 3, device=device)
    y = conv_transpose2d(conv2d(x, w, stride=2), w, stride=2)  # w used twice
    y.sum().backward(retain_graph=True)
    first = w.grad.numpy().copy()
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first, rtol=1e-12)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


# ==================== a gradient penalty through convolutions ====================

def penalty(x, w):
    """g = ∂/∂x Σ conv(x, w)², L = (‖g‖ − 1)² (notes 002, WGAN-GP), differentiable in w."""
    y = conv2d(x, w, stride=2, padding=1)
    (g,) = minigan.grad((y * y).sum(), x, create_graph=True)
    return ((g * g).sum().sqrt() - 1) ** 2


def critic_penalty(x, w):
    """The same through a small critic: conv -> tanh -> transposed conv -> conv -> sum."""
    h = conv2d(x, w, stride=2, padding=1).tanh()
    h = conv_transpose2d(h, w, stride=2, padding=1, output_padding=1)
    (g,) = minigan.grad(conv2d(h, w, padding=1).sum(), x, create_graph=True)
    return ((g * g).sum().sqrt() - 1) ** 2


@pytest.mark.parametrize("loss", [penalty, critic_penalty])
def test_gradient_penalty_against_finite_differences(device, loss):
    x = randn64(2, 2, 6, 6, device=device)
    w = randn64(2, 2, 3, 3, device=device)
    (gw,) = minigan.grad(loss(x, w), w)
    numeric = np.empty(w.shape)
    flat, eps = w.data.reshape(-1), 1e-6
    for i in range(flat.size):
        original = float(flat[i])
        flat[i] = original + eps
        plus = loss(x, w).item()
        flat[i] = original - eps
        minus = loss(x, w).item()
        flat[i] = original
        numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(gw.numpy(), numeric, rtol=1e-5, atol=1e-7)


# ==================== errors ====================

def test_wrong_rank_names_the_expected_layout():
    x, w = minigan.randn(3, 5, 5), minigan.randn(2, 3, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-D \(N, C, H, W\) input, found "
                                         r"shape \(3, 5, 5\)"):
        conv2d(x, w)
    with pytest.raises(ValueError, match=r"4-D \(OC, C/groups, KH, KW\) weight, found shape "
                                         r"\(2, 3, 3\)"):
        conv2d(minigan.randn(1, 3, 5, 5), minigan.randn(2, 3, 3))
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\) input, found shape \(3, 5, 5\)"):
        conv_transpose2d(x, w)


def test_channel_mismatch():
    with pytest.raises(ValueError, match=r"expected an input with C = 3 channels .* found "
                                         r"C = 4"):
        conv2d(minigan.randn(1, 4, 5, 5), minigan.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"expected an input with C = 6 channels .* found "
                                         r"C = 4"):
        conv2d(minigan.randn(1, 4, 5, 5), minigan.randn(2, 3, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"expected an input with C = 2 channels .* found "
                                         r"C = 3"):
        conv_transpose2d(minigan.randn(1, 3, 5, 5), minigan.randn(2, 3, 3, 3))


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"dilated kernel 5×5 is larger than the padded "
                                         r"input 4×4 \(input 2×2\)"):
        conv2d(minigan.randn(1, 1, 2, 2), minigan.randn(1, 1, 3, 3), padding=1, dilation=2)
    with pytest.raises(ValueError, match=r"the kernel 3×3 is larger than the padded input 2×2"):
        conv2d(minigan.randn(1, 1, 2, 2), minigan.randn(1, 1, 3, 3))


def test_non_positive_output_size():
    with pytest.raises(ValueError, match=r"output would be -1×-1 for input \(1, 1, 1, 1\) "
                                         r"\(expected a positive size"):
        conv_transpose2d(minigan.randn(1, 1, 1, 1), minigan.randn(1, 1, 3, 3), padding=2)
    with pytest.raises(ValueError, match=r"output would be 0×4"):
        conv_transpose2d(minigan.randn(1, 1, 2, 2), minigan.randn(1, 1, 1, 3), padding=(1, 0))


def test_non_float_input():
    ints = minigan.tensor(np.ones((1, 1, 5, 5), dtype=np.int64))
    with pytest.raises(TypeError, match="expected a floating-point input .* found int64"):
        conv2d(ints, minigan.randn(1, 1, 3, 3))
    with pytest.raises(TypeError, match="floating-point weight .* found int64"):
        conv_transpose2d(minigan.randn(1, 1, 3, 3), minigan.tensor(np.ones((1, 1, 3, 3),
                                                                          dtype=np.int64)))
    with pytest.raises(TypeError, match="conv2d: expected a Tensor input, found ndarray"):
        conv2d(np.ones((1, 1, 5, 5)), minigan.randn(1, 1, 3, 3))


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match=r"groups=2 must divide both in_channels \(3\) and "
                                         r"out_channels \(4\)"):
        conv2d(minigan.randn(1, 3, 5, 5), minigan.randn(4, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"groups=2 must divide both in_channels \(3\)"):
        conv_transpose2d(minigan.randn(1, 3, 5, 5), minigan.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="groups must be a positive int, found 0"):
        conv2d(minigan.randn(1, 3, 5, 5), minigan.randn(4, 3, 3, 3), groups=0)


def test_output_padding_too_large():
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than either "
                                         r"stride \(2, 2\) or dilation \(1, 1\)"):
        conv_transpose2d(minigan.randn(1, 1, 3, 3), minigan.randn(1, 1, 3, 3), stride=2,
                         output_padding=2)


def test_other_bad_arguments():
    x, w = minigan.randn(1, 2, 5, 5), minigan.randn(3, 2, 3, 3)
    with pytest.raises(ValueError, match="padding='same' needs stride 1, found stride"):
        conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be an int, a pair, 'same' or 'valid', "
                                         "found 'full'"):
        conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match=r"stride must be an int ≥ 1 or a pair of them, "
                                         r"found 0"):
        conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"expected bias of shape \(3,\), found \(2,\)"):
        conv2d(x, w, minigan.randn(2))
    with pytest.raises(ValueError, match=r"expected an output gradient of shape "
                                         r"\(1, 3, 3, 3\) .* found \(1, 3, 5, 5\)"):
        conv2d_grad_weight(x, minigan.randn(1, 3, 5, 5), 3)
    with pytest.raises(TypeError, match="inputs of different dtypes: float32 and float64"):
        conv2d(x, minigan.randn(3, 2, 3, 3, dtype="float64"))
