"""Losses: values against slow loop references and hand computations, first- and
second-order finite-difference checks for every reduction, and the error messages."""
import math

import numpy as np
import pytest

import minigan
from minigan.functional import loss as L
from tests.helpers import check, leaf, no_floating_point_trouble

REDUCTIONS = ["mean", "sum", "none"]


def probabilities(*shape, low=0.1, high=0.9, seed=0):
    return low + (high - low) * np.random.default_rng(seed).random(shape)


def reduce_reference(values, reduction):
    values = np.asarray(values, dtype=np.float64)
    if reduction == "none":
        return values
    return values.sum() if reduction == "sum" else values.mean()


# ==================== slow references, straight from the formulas ====================

def clamped_log(v):
    return -100.0 if v == 0 else max(math.log(v), -100.0)


def bce_reference(p, y, w=None):
    out = np.empty(p.shape)
    for i in np.ndindex(p.shape):
        out[i] = -(y[i] * clamped_log(p[i]) + (1 - y[i]) * clamped_log(1 - p[i]))
        if w is not None:
            out[i] *= np.broadcast_to(w, p.shape)[i]
    return out


def bce_logits_reference(z, y, pos_weight=None):
    """−[c·y·log σ(z) + (1 − y)·log(1 − σ(z))] with the textbook σ (fine for |z| < 30)."""
    c = np.broadcast_to(1.0 if pos_weight is None else pos_weight, z.shape)
    out = np.empty(z.shape)
    for i in np.ndindex(z.shape):
        s = 1 / (1 + math.exp(-z[i]))
        out[i] = -(c[i] * y[i] * math.log(s) + (1 - y[i]) * math.log(1 - s))
    return out


def nll_reference(logp, t, w=None, reduction="mean"):
    """Loops over N, C, d1, ...: ℓ = −w[t]·logp[n, t, ...]; mean divides by Σ w[t]."""
    losses, weights = np.empty(t.shape), np.empty(t.shape)
    for idx in np.ndindex(t.shape):
        c = t[idx]
        weights[idx] = 1.0 if w is None else w[c]
        losses[idx] = -weights[idx] * logp[(idx[0], c) + idx[1:]]
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / weights.sum()


def log_softmax_reference(x):
    """log softmax over axis 1 with explicit loops over the class axis."""
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape[:1] + x.shape[2:]):
        row = [x[(idx[0], c) + idx[1:]] for c in range(x.shape[1])]
        log_total = math.log(sum(math.exp(v) for v in row))
        for c in range(x.shape[1]):
            out[(idx[0], c) + idx[1:]] = row[c] - log_total
    return out


def kl_reference(logq, p):
    out = np.empty(p.shape)
    for i in np.ndindex(p.shape):
        out[i] = 0.0 if p[i] == 0 else p[i] * (math.log(p[i]) - logq[i])
    return out


# ==================== regression losses ====================

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(3, 4), (5,), (2, 1, 3)])
def test_mse_and_l1_values_and_gradients(device, reduction, shape):
    rng = np.random.default_rng(1)
    x_np, y_np = rng.standard_normal(shape), rng.standard_normal(shape)
    x, y = leaf(x_np, device), leaf(y_np, device)
    mse = L.mse_loss(x, y, reduction=reduction)
    l1 = L.l1_loss(x, y, reduction=reduction)
    np.testing.assert_allclose(mse.numpy(), reduce_reference((x_np - y_np) ** 2, reduction))
    np.testing.assert_allclose(l1.numpy(), reduce_reference(np.abs(x_np - y_np), reduction))
    check(lambda a, b: L.mse_loss(a, b, reduction=reduction), x, y)
    check(lambda a, b: L.l1_loss(a, b, reduction=reduction), x, y)


def test_mse_gradient_is_twice_the_residual_over_n():
    x = leaf([1.0, -2.0, 0.5], "cpu")
    L.mse_loss(x, np.array([0.0, 1.0, 0.5])).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, -3.0, 0.0]) / 3)


# ==================== binary cross-entropy on probabilities ====================

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(3, 4), (5,)])
def test_bce_values_and_gradients(device, reduction, shape):
    p_np, y_np = probabilities(*shape), probabilities(*shape, low=0.0, high=1.0, seed=1)
    p, y = leaf(p_np, device), leaf(y_np, device)
    out = L.binary_cross_entropy(p, y, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), reduce_reference(bce_reference(p_np, y_np),
                                                             reduction))
    check(lambda a, b: L.binary_cross_entropy(a, b, reduction=reduction), p, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_weight(device, reduction):
    p_np, y_np = probabilities(3, 4), probabilities(3, 4, low=0.0, high=1.0, seed=1)
    w_np = probabilities(4, low=0.5, high=2.0, seed=2)  # broadcast over the rows
    p, y, w = leaf(p_np, device), leaf(y_np, device), leaf(w_np, device)
    out = L.binary_cross_entropy(p, y, weight=w, reduction=reduction)
    np.testing.assert_allclose(out.numpy(),
                               reduce_reference(bce_reference(p_np, y_np, w_np), reduction))
    check(lambda a, b, c: L.binary_cross_entropy(a, b, weight=c, reduction=reduction), p, y, w)


def test_bce_clamps_each_log_at_minus_100(device):
    p = leaf([0.0, 1.0, 0.0, 1.0], device)
    y = leaf([1.0, 0.0, 0.0, 1.0], device)
    with no_floating_point_trouble():
        out = L.binary_cross_entropy(p, y, reduction="none")
        out.sum().backward()
    assert out.numpy().tolist() == [100.0, 100.0, 0.0, 0.0]
    # the clamp is flat where it bites, so the gradient there is 0, never NaN
    assert p.grad.numpy().tolist() == [0.0, 0.0, 1.0, -1.0]


def test_bce_gradient_is_the_hand_derivative():
    p_np, y_np = np.array([0.2, 0.7, 0.5]), np.array([1.0, 0.0, 0.3])
    p = leaf(p_np, "cpu")
    L.binary_cross_entropy(p, y_np, reduction="sum").backward()
    np.testing.assert_allclose(p.grad.numpy(), (1 - y_np) / (1 - p_np) - y_np / p_np)


# ==================== binary cross-entropy on logits ====================

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [None, [0.5, 2.0, 3.0, 1.0]])
def test_bce_with_logits_values_and_gradients(device, reduction, pos_weight):
    rng = np.random.default_rng(3)
    z_np, y_np = 2 * rng.standard_normal((3, 4)), rng.random((3, 4))
    z, y = leaf(z_np, device), leaf(y_np, device)
    c = None if pos_weight is None else leaf(pos_weight, device, requires_grad=False)
    out = L.binary_cross_entropy_with_logits(z, y, reduction=reduction, pos_weight=c)
    expected = bce_logits_reference(z_np, y_np, None if c is None else np.array(pos_weight))
    np.testing.assert_allclose(out.numpy(), reduce_reference(expected, reduction))
    check(lambda a, b: L.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                          pos_weight=c), z, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_weight(device, reduction):
    rng = np.random.default_rng(4)
    z, y = leaf(rng.standard_normal(5), device), leaf(rng.random(5), device)
    w = leaf(rng.random(5) + 0.5, device)
    plain = L.binary_cross_entropy_with_logits(z, y, reduction="none")
    weighted = L.binary_cross_entropy_with_logits(z, y, weight=w, reduction="none")
    np.testing.assert_allclose(weighted.numpy(), plain.numpy() * w.numpy())
    check(lambda a, b, c: L.binary_cross_entropy_with_logits(a, b, c, reduction=reduction),
          z, y, w)


def test_d_bce_with_logits_dz_is_sigma_minus_y_over_n(device):
    z_np = np.array([-2.0, -0.3, 0.0, 1.5, 4.0])
    y_np = np.array([0.0, 1.0, 1.0, 0.0, 0.25])
    z = leaf(z_np, device)
    L.binary_cross_entropy_with_logits(z, leaf(y_np, device, False)).backward()
    sigma = 1 / (1 + np.exp(-z_np))
    np.testing.assert_allclose(z.grad.numpy(), (sigma - y_np) / z_np.size, rtol=1e-12)


def test_bce_with_logits_is_exact_at_plus_minus_1000(device):
    z = leaf([1000.0, 1000.0, -1000.0, -1000.0, 1000.0], device)
    y = leaf([1.0, 0.0, 1.0, 0.0, 0.25], device, requires_grad=False)
    with no_floating_point_trouble():
        out = L.binary_cross_entropy_with_logits(z, y, reduction="none")
        out.sum().backward()
    # closed form: ℓ = max(z, 0) − z·y + log(1 + e^{−|z|}) with e^{−1000} = 0 in float64
    assert out.numpy().tolist() == [0.0, 1000.0, 1000.0, 0.0, 750.0]
    assert z.grad.numpy().tolist() == [0.0, 1.0, -1.0, 0.0, 0.75]  # σ(z) − y


def test_bce_with_logits_agrees_with_bce_of_sigmoid(device):
    z_np = np.array([-3.0, -0.5, 0.2, 2.5])
    y_np = np.array([0.0, 1.0, 0.4, 1.0])
    z, y = leaf(z_np, device), leaf(y_np, device, False)
    via_logits = L.binary_cross_entropy_with_logits(z, y, reduction="none")
    via_probs = L.binary_cross_entropy(z.sigmoid(), y, reduction="none")
    np.testing.assert_allclose(via_logits.numpy(), via_probs.numpy(), rtol=1e-12)


# ==================== classification losses ====================

def test_cross_entropy_by_hand_on_a_2x3_example():
    x = minigan.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype="float64",
                       requires_grad=True)
    out = L.cross_entropy(x, np.array([2, 0]))
    # row 0: log(e + e² + e³) − 3; row 1: log 3 − 0
    row0 = math.log(math.e + math.e ** 2 + math.e ** 3) - 3
    assert out.item() == pytest.approx((row0 + math.log(3)) / 2, rel=1e-12)
    out.backward()
    e = np.exp([1.0, 2.0, 3.0])
    expected = np.array([e / e.sum() - [0, 0, 1], np.full(3, 1 / 3) - [1, 0, 0]]) / 2
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2, 2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_and_nll_values_and_gradients(device, reduction, shape, weighted):
    rng = np.random.default_rng(5)
    x_np = rng.standard_normal(shape)
    t_np = rng.integers(0, shape[1], size=shape[:1] + shape[2:])
    w_np = rng.random(shape[1]) + 0.5 if weighted else None
    w = None if w_np is None else leaf(w_np, device, requires_grad=False)
    x = leaf(x_np, device)
    ce = L.cross_entropy(x, t_np, weight=w, reduction=reduction)
    nll = L.nll_loss(x, t_np, weight=w, reduction=reduction)
    np.testing.assert_allclose(
        ce.numpy(), nll_reference(log_softmax_reference(x_np), t_np, w_np, reduction))
    np.testing.assert_allclose(nll.numpy(), nll_reference(x_np, t_np, w_np, reduction))
    check(lambda a: L.cross_entropy(a, t_np, weight=w, reduction=reduction), x)
    check(lambda a: L.nll_loss(a, t_np, weight=w, reduction=reduction), x)


def test_nll_accepts_an_integer_tensor_target(device):
    x = leaf(np.log([[0.2, 0.8], [0.6, 0.4]]), device)
    t = minigan.tensor([1, 0], device=device)
    assert L.nll_loss(x, t).item() == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_weighted_nll_mean_divides_by_the_sum_of_target_weights():
    x = leaf([[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]], "cpu")
    w = minigan.tensor([1.0, 3.0], dtype="float64")
    out = L.nll_loss(x, [1, 1, 0], weight=w)
    assert out.item() == pytest.approx((3 * 2 + 3 * 4 + 1 * 5) / (3 + 3 + 1))


# ==================== KL divergence ====================

@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_values_and_gradients(device, reduction, log_target):
    rng = np.random.default_rng(6)
    q = rng.random((3, 4)) + 0.1
    p = rng.random((3, 4)) + 0.1
    q, p = q / q.sum(1, keepdims=True), p / p.sum(1, keepdims=True)
    logq = leaf(np.log(q), device)
    target = leaf(np.log(p) if log_target else p, device)
    out = L.kl_div(logq, target, reduction=reduction, log_target=log_target)
    pointwise = kl_reference(np.log(q), p)
    expected = (pointwise.sum() / 3 if reduction == "batchmean"
                else reduce_reference(pointwise, reduction))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    check(lambda a, b: L.kl_div(a, b, reduction=reduction, log_target=log_target),
          logq, target)


def test_kl_div_batchmean_is_sum_p_log_p_over_q(device):
    p = np.array([[0.5, 0.25, 0.25], [0.0, 0.5, 0.5]])   # 0 · log 0 = 0 in row 1
    q = np.array([[0.25, 0.25, 0.5], [0.2, 0.3, 0.5]])
    out = L.kl_div(leaf(np.log(q), device), leaf(p, device, False), reduction="batchmean")
    terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / q), 0.0)
    assert out.item() == pytest.approx(terms.sum() / 2, rel=1e-12)


def test_kl_div_of_a_distribution_with_itself_is_zero(device):
    p = leaf([[0.1, 0.2, 0.7]], device)
    assert L.kl_div(p.log(), p, reduction="sum").item() == pytest.approx(0.0, abs=1e-15)


# ==================== bad arguments ====================

ALL_LOSSES = [
    (L.mse_loss, "mse_loss"), (L.l1_loss, "l1_loss"),
    (L.binary_cross_entropy, "binary_cross_entropy"),
    (L.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits"),
    (L.kl_div, "kl_div")]


@pytest.mark.parametrize("fn,name", ALL_LOSSES)
def test_unknown_reduction_lists_the_choices(fn, name):
    p = leaf([0.5, 0.5], "cpu")
    with pytest.raises(ValueError, match=f"{name}: reduction must be one of 'mean', 'sum', "
                                         "'none'.*found 'average'"):
        fn(p, p, reduction="average")


def test_unknown_reduction_for_class_losses():
    x = leaf([[0.1, 0.2]], "cpu")
    for fn in (L.cross_entropy, L.nll_loss):
        with pytest.raises(ValueError, match="'mean', 'sum', 'none'; found 'elementwise'"):
            fn(x, [0], reduction="elementwise")


def test_kl_div_lists_batchmean_among_its_choices():
    p = leaf([0.5, 0.5], "cpu")
    with pytest.raises(ValueError, match="'none', 'batchmean'; found 'batch'"):
        L.kl_div(p, p, reduction="batch")


@pytest.mark.parametrize("fn,name", ALL_LOSSES)
def test_shape_mismatch_names_both_shapes(fn, name):
    with pytest.raises(ValueError, match=rf"{name}: input has shape \(2, 3\) but target has "
                                         r"shape \(3, 2\)"):
        fn(leaf(np.full((2, 3), 0.5), "cpu"), leaf(np.full((3, 2), 0.5), "cpu"))


def test_target_of_another_dtype_is_named():
    with pytest.raises(TypeError, match="input is float64 but target is float32"):
        L.mse_loss(leaf([1.0], "cpu"), minigan.tensor([1.0]))


def test_input_must_be_a_tensor():
    with pytest.raises(TypeError, match="mse_loss: input must be a Tensor, found ndarray"):
        L.mse_loss(np.ones(2), np.ones(2))


def test_bce_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], found values in "
                                         r"\[-0.5, 2.0\].*with_logits"):
        L.binary_cross_entropy(leaf([-0.5, 2.0], "cpu"), leaf([0.0, 1.0], "cpu"))


def test_reduction_passed_where_weight_goes_is_explained():
    z = leaf([0.5], "cpu")
    with pytest.raises(TypeError, match="weight must be a Tensor or None.*reduction='sum'"):
        L.binary_cross_entropy_with_logits(z, z, "sum")


def test_pos_weight_that_does_not_broadcast():
    z = leaf(np.zeros((2, 3)), "cpu")
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast to "
                                         r"the input's shape \(2, 3\)"):
        L.binary_cross_entropy_with_logits(z, z, pos_weight=minigan.tensor([1.0, 2.0],
                                                                           dtype="float64"))


@pytest.mark.parametrize("target,error,message", [
    (np.array([0.0, 1.0]), TypeError, "integer class indices, found dtype float64"),
    (np.array([0, 1, 1]), ValueError,
     r"input has shape \(2, 3\), so target must have shape \(2,\); found target shape "
     r"\(3,\)"),
    (np.array([0, 3]), ValueError, r"must be in \[0, 3\), found values in \[0, 3\]"),
    (np.array([-1, 0]), ValueError, r"must be in \[0, 3\), found values in \[-1, 0\]"),
])
def test_class_targets_are_validated(target, error, message):
    x = leaf(np.zeros((2, 3)), "cpu")
    for fn in (L.cross_entropy, L.nll_loss):
        with pytest.raises(error, match=message):
            fn(x, target)


def test_class_input_needs_a_class_axis():
    with pytest.raises(ValueError, match=r"input must have shape \(N, C\) .*found shape "
                                         r"\(3,\)"):
        L.cross_entropy(leaf([0.1, 0.2, 0.3], "cpu"), np.array(0))


def test_class_weight_needs_one_entry_per_class():
    x = leaf(np.zeros((2, 3)), "cpu")
    with pytest.raises(ValueError, match=r"one entry per class, shape \(3,\); found shape "
                                         r"\(2,\)"):
        L.nll_loss(x, [0, 1], weight=minigan.tensor([1.0, 2.0], dtype="float64"))
