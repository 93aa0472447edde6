"""Activations: closed-form values and derivatives, first- and second-order finite-difference
checks in float64, and the extreme inputs a saturated discriminator produces (|x| = 1000)."""
import math

import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan.functional import activation as A
from tests.helpers import check, leaf, no_floating_point_trouble


def away_from_zero(shape, seed=0):
    """Samples with |x| ≥ 0.2, so finite differences never straddle the kink of relu at 0."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return x + 0.2 * np.where(x >= 0, 1.0, -1.0)


def sigmoid_reference(x):
    return 1 / (1 + np.exp(-x))


def softmax_reference(x, axis):
    """e^{xᵢ} / Σⱼ e^{xⱼ}, with an explicit loop over the other axes."""
    x = np.moveaxis(x, axis, -1)
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape[:-1]):
        e = [math.exp(v) for v in x[idx]]
        out[idx] = [v / sum(e) for v in e]
    return np.moveaxis(out, -1, axis)


# (function, closed form of the value, closed form of the derivative)
ELEMENTWISE = {
    "relu": (F.relu, lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "leaky_relu": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x),
                   lambda x: np.where(x > 0, 1.0, 0.01)),
    "leaky_relu_0.2": (lambda t: F.leaky_relu(t, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
                       lambda x: np.where(x > 0, 1.0, 0.2)),
    # slopes outside [0, 1] take the op's other branch (max(x, a·x) no longer holds)
    "leaky_relu_-0.5": (lambda t: F.leaky_relu(t, -0.5),
                        lambda x: np.where(x > 0, x, -0.5 * x),
                        lambda x: np.where(x > 0, 1.0, -0.5)),
    "leaky_relu_1.5": (lambda t: F.leaky_relu(t, 1.5), lambda x: np.where(x > 0, x, 1.5 * x),
                       lambda x: np.where(x > 0, 1.0, 1.5)),
    "sigmoid": (F.sigmoid, sigmoid_reference,
                lambda x: sigmoid_reference(x) * (1 - sigmoid_reference(x))),
    "tanh": (F.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "softplus": (F.softplus, lambda x: np.log1p(np.exp(x)), sigmoid_reference),
    "logsigmoid": (F.logsigmoid, lambda x: -np.log1p(np.exp(-x)),
                   lambda x: 1 - sigmoid_reference(x)),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("shape", [(3, 4), (5,), (2, 1, 3), ()], ids=str)
def test_elementwise_activations(device, name, shape):
    fn, value, derivative = ELEMENTWISE[name]
    x_np = 2 * away_from_zero(shape)
    x = leaf(x_np, device)
    y = fn(x)
    np.testing.assert_allclose(y.numpy(), value(x_np), rtol=1e-12, atol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), derivative(x_np), rtol=1e-12, atol=1e-15)
    check(fn, x)


def test_tensor_methods_are_the_activations():
    x_np = away_from_zero((2, 3))
    x = leaf(x_np, "cpu")
    for method, fn in [(x.relu, F.relu), (x.sigmoid, F.sigmoid), (x.tanh, F.tanh),
                       (x.softmax, F.softmax), (x.log_softmax, F.log_softmax)]:
        np.testing.assert_array_equal(method().numpy(), fn(x).numpy())


# ==================== softmax family ====================

@pytest.mark.parametrize("shape,axis", [((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1),
                                        ((5,), 0), ((2, 1, 3), 1)], ids=str)
def test_softmax_and_log_softmax(device, shape, axis):
    x_np = np.random.default_rng(1).standard_normal(shape)
    x = leaf(x_np, device)
    expected = softmax_reference(x_np, axis)
    np.testing.assert_allclose(F.softmax(x, axis).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x, axis).numpy(), np.log(expected), rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(F.softmax(x, axis).sum(axis).numpy(), 1.0, rtol=1e-14)
    check(lambda t: F.softmax(t, axis), x)
    check(lambda t: F.log_softmax(t, axis), x)


def test_softmax_jacobian_by_hand():
    """∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ): the row of the Jacobian for output i is y_i (e_i − y)."""
    x_np = np.array([0.3, -1.2, 2.0])
    y_np = softmax_reference(x_np, 0)
    for i in range(3):
        x = leaf(x_np, "cpu")
        F.softmax(x)[i].backward()
        np.testing.assert_allclose(x.grad.numpy(), y_np[i] * (np.eye(3)[i] - y_np),
                                   rtol=1e-12, atol=1e-16)


def test_log_softmax_gradient_by_hand():
    """∂/∂x Σᵢ gᵢ log softmax(x)ᵢ = g − softmax(x) Σᵢ gᵢ."""
    x_np, g_np = np.array([1.0, 0.0, -2.0, 0.5]), np.array([1.0, -2.0, 0.5, 3.0])
    x = leaf(x_np, "cpu")
    F.log_softmax(x).backward(minigan.tensor(g_np, dtype="float64"))
    np.testing.assert_allclose(x.grad.numpy(), g_np - softmax_reference(x_np, 0) * g_np.sum(),
                               rtol=1e-12)


@pytest.mark.parametrize("shape", [(4, 6), (3, 5, 2)], ids=str)
def test_softmax_rows_sum_to_one_even_for_huge_logits(shape):
    x = leaf(np.random.default_rng(2).standard_normal(shape) * 300, "cpu", False)
    with no_floating_point_trouble():
        y = F.softmax(x, axis=1)
    np.testing.assert_allclose(y.sum(1).numpy(), 1.0, rtol=1e-14)


# ==================== extreme inputs ====================

def test_sigmoid_of_plus_minus_1000_is_exactly_one_and_zero(device):
    x = leaf([1000.0, -1000.0], device)
    with no_floating_point_trouble():
        y = F.sigmoid(x)
        y.sum().backward()
    assert y.numpy().tolist() == [1.0, 0.0]
    assert x.grad.numpy().tolist() == [0.0, 0.0]


def test_sigmoid_in_float32_saturates_cleanly(device):
    x = minigan.tensor([1000.0, -1000.0, 0.0, -100.0], device=device)
    with no_floating_point_trouble():
        y = F.sigmoid(x).numpy()
    assert y.dtype == np.float32
    assert y[:3].tolist() == [1.0, 0.0, 0.5]
    # σ(−100) ≈ e^{−100} = 3.7e−44 is a float32 subnormal: few significant bits, but not 0
    assert y[3] == pytest.approx(math.exp(-100), rel=0.05)


def test_logsigmoid_and_softplus_far_out(device):
    x = leaf([-1000.0, 1000.0], device)
    with no_floating_point_trouble():
        log_s = F.logsigmoid(x)
        soft = F.softplus(x)
        log_s.sum().backward()
    assert log_s.numpy().tolist() == [-1000.0, 0.0]
    assert soft.numpy().tolist() == [0.0, 1000.0]
    assert x.grad.numpy().tolist() == [1.0, 0.0]  # d/dx log σ(x) = 1 − σ(x)


def test_log_softmax_far_out(device):
    x = leaf([[1000.0, 0.0], [-1000.0, 1000.0]], device)
    with no_floating_point_trouble():
        y = F.log_softmax(x)
    assert y.numpy().tolist() == [[0.0, -1000.0], [-2000.0, 0.0]]


@pytest.mark.parametrize("slope", [0.01, 0.2, -0.5, 1.5])
def test_leaky_relu_keeps_the_dtype(slope):
    x = minigan.tensor([-1.0, 2.0])
    y = F.leaky_relu(x, slope)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), [-slope, 2.0], rtol=1e-6)


def strided_layouts():
    """The same (4, 3, 5, 6) values in the memory layouts activations meet: batch-first,
    batch-last (a convolution's output), and a strided slice that is not one dense block."""
    values = np.random.default_rng(1).standard_normal((4, 3, 5, 6)).astype(np.float32)
    batch_last = values.transpose(1, 2, 3, 0).copy().transpose(3, 0, 1, 2)
    sliced = np.concatenate([values, values], axis=3)[:, :, :, ::2]
    return {"batch-first": values, "batch-last": batch_last, "sliced": sliced}


@pytest.mark.parametrize("layout", ["batch-first", "batch-last", "sliced"])
@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_leaky_relu_family_in_every_memory_layout(layout, slope):
    # The fast paths view dense memory as rows (activation.rows_in_memory); each layout
    # takes a different branch and must give max(u, a·u) and its derivative exactly.
    array = strided_layouts()[layout]
    expected = np.where(array > 0, array, np.float32(slope) * array)
    x = minigan.Tensor(array, requires_grad=True)
    y = F.relu(x) if slope == 0 else F.leaky_relu(x, slope)
    np.testing.assert_array_equal(y.numpy(), expected)
    y.backward(minigan.ones(*array.shape))
    np.testing.assert_array_equal(x.grad.numpy(), np.where(array > 0, 1, np.float32(slope)))
    in_place = strided_layouts()[layout]                # fresh arrays of the same layout
    assert A.leaky_relu_(in_place, slope) is in_place
    np.testing.assert_array_equal(in_place, expected)
    np.testing.assert_array_equal(A.leaky_relu_gains(expected, slope),
                                  np.where(array > 0, 1, np.float32(slope)))


def test_rows_in_memory_views_dense_blocks_only():
    layouts = strided_layouts()
    rows = A.rows_in_memory(layouts["batch-last"], least=16)
    assert rows.shape == (3 * 5, 6 * 4)       # memory order (C, H, W, N): rows of W·N ≥ 16
    assert np.shares_memory(rows, layouts["batch-last"])
    np.testing.assert_array_equal(rows, layouts["batch-first"].transpose(1, 2, 3, 0)
                                  .reshape(15, 24))
    assert A.rows_in_memory(layouts["batch-first"]).shape == (1, 360)   # smaller than least
    assert A.rows_in_memory(layouts["sliced"]) is None
    assert A.rows_in_memory(np.zeros((0, 3), np.float32)) is None
