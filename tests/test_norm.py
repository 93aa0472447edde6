"""Batch, instance, layer and group norm: forward against loop references, running
statistics against the update formulas, the three-term backward against its closed form,
first and second derivatives against finite differences, and the layers."""
import numpy as np
import pytest

import minigan
from minigan import backend, nn
from minigan.autograd import Tensor
from minigan.functional.norm import (Normalize, batch_norm, group_norm, instance_norm,
                                     layer_norm)
from tests.helpers import check, host, randn64

EPS = 1e-5


# ==================== slow references, straight from the formulas ====================

def standardize(values, eps=EPS):
    """(v − μ)/√(σ² + ε) of one slice, μ and the biased σ² written as sums."""
    n = values.size
    mu = values.sum() / n
    sigma2 = ((values - mu) ** 2).sum() / n
    return (values - mu) / np.sqrt(sigma2 + eps)


def reference_batch_norm(x, weight, bias, eps=EPS):
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        y[:, c] = standardize(x[:, c], eps) * weight[c] + bias[c]
    return y


def reference_instance_norm(x, weight, bias, eps=EPS):
    y = np.empty_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            y[n, c] = standardize(x[n, c], eps) * weight[c] + bias[c]
    return y


def reference_layer_norm(x, normalized_shape, weight, bias, eps=EPS):
    y = np.empty_like(x)
    for index in np.ndindex(x.shape[:x.ndim - len(normalized_shape)]):
        y[index] = standardize(x[index], eps) * weight + bias
    return y


def reference_group_norm(x, groups, weight, bias, eps=EPS):
    y = np.empty_like(x)
    size = x.shape[1] // groups
    for n in range(x.shape[0]):
        for g in range(groups):
            y[n, g * size:(g + 1) * size] = standardize(x[n, g * size:(g + 1) * size], eps)
        for c in range(x.shape[1]):
            y[n, c] = y[n, c] * weight[c] + bias[c]
    return y


def reference_eval_norm(x, mean, var, weight, bias, eps=EPS):
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        y[:, c] = (x[:, c] - mean[c]) / np.sqrt(var[c] + eps) * weight[c] + bias[c]
    return y


def affine_params(shape, device):
    return randn64(*shape, device=device), randn64(*shape, device=device)


# ==================== forward vs the references ====================

@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 7), (3, 2, 5, 7), (2, 1, 3, 3)])
def test_batch_norm_train_forward(device, shape):
    x = randn64(*shape, device=device) * 3 + 1
    w, b = affine_params(shape[1:2], device)
    y = batch_norm(x, None, None, w, b, training=True)
    np.testing.assert_allclose(y.numpy(), reference_batch_norm(x.numpy(), w.numpy(),
                                                               b.numpy()), atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 5, 7)])
def test_batch_norm_eval_uses_running_stats(device, shape):
    x = randn64(*shape, device=device)
    w, b = affine_params(shape[1:2], device)
    mean = minigan.randn(shape[1], dtype="float64", device=device)
    var = minigan.rand(shape[1], dtype="float64", device=device) + 0.5
    y = batch_norm(x, mean, var, w, b, training=False)
    expected = reference_eval_norm(x.numpy(), mean.numpy(), var.numpy(), w.numpy(), b.numpy())
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)


def test_batch_norm_without_affine_is_standardised(device):
    x = randn64(6, 4, 3, device=device) * 5 - 2
    y = batch_norm(x, None, None, training=True, eps=0.0).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2)), 1, atol=1e-12)


@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 2, 5, 7), (1, 1, 3, 2)])
def test_instance_norm_forward(device, shape):
    x = randn64(*shape, device=device) * 2 + 3
    w, b = affine_params(shape[1:2], device)
    y = instance_norm(x, weight=w, bias=b)
    np.testing.assert_allclose(y.numpy(), reference_instance_norm(x.numpy(), w.numpy(),
                                                                  b.numpy()), atol=1e-12)


@pytest.mark.parametrize("shape, normalized_shape", [
    ((3, 5), (5,)), ((2, 3, 7), (7,)), ((2, 3, 4, 5), (4, 5)), ((3, 2, 3, 3), (2, 3, 3))])
def test_layer_norm_forward(device, shape, normalized_shape):
    x = randn64(*shape, device=device) * 2 - 1
    w, b = affine_params(normalized_shape, device)
    y = layer_norm(x, normalized_shape, w, b)
    expected = reference_layer_norm(x.numpy(), normalized_shape, w.numpy(), b.numpy())
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)


def test_layer_norm_accepts_an_int_shape(device):
    x = randn64(3, 5, device=device)
    np.testing.assert_allclose(layer_norm(x, 5).numpy(), layer_norm(x, (5,)).numpy())


@pytest.mark.parametrize("shape, groups", [
    ((2, 6, 5), 3), ((3, 4, 3, 5), 2), ((2, 6), 2), ((2, 3, 3, 3), 1), ((2, 3, 3, 3), 3)])
def test_group_norm_forward(device, shape, groups):
    x = randn64(*shape, device=device) * 2 + 1
    w, b = affine_params(shape[1:2], device)
    y = group_norm(x, groups, w, b)
    expected = reference_group_norm(x.numpy(), groups, w.numpy(), b.numpy())
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)


def test_group_norm_extremes_are_layer_and_instance_norm(device):
    x = randn64(2, 4, 3, 5, device=device)
    np.testing.assert_allclose(group_norm(x, 1).numpy(),
                               layer_norm(x, (4, 3, 5)).numpy(), atol=1e-12)
    np.testing.assert_allclose(group_norm(x, 4).numpy(), instance_norm(x).numpy(), atol=1e-12)


def test_float32_stays_float32(device):
    x = minigan.randn(4, 3, 2, 2, device=device)
    for y in (batch_norm(x, None, None, training=True), instance_norm(x),
              layer_norm(x, (3, 2, 2)), group_norm(x, 3)):
        assert y.dtype == np.float32


# ==================== running statistics ====================

def running_update(running, batch_value, momentum):
    return (1 - momentum) * running + momentum * batch_value


@pytest.mark.parametrize("as_tensor", [False, True])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 3, 5)])
def test_batch_norm_running_stats_over_three_steps(device, shape, as_tensor):
    channels = shape[1]
    mean = backend.to_device(np.zeros(channels), device)
    var = backend.to_device(np.ones(channels), device)
    if as_tensor:
        mean, var = Tensor(mean), Tensor(var)
    expected_mean, expected_var = np.zeros(channels), np.ones(channels)
    for _ in range(3):
        x = minigan.randn(*shape, dtype="float64", device=device) * 2 + 0.5
        batch_norm(x, mean, var, training=True, momentum=0.1)
        xs = x.numpy()
        for c in range(channels):
            values = xs[:, c].ravel()
            mu = values.sum() / values.size
            unbiased = ((values - mu) ** 2).sum() / (values.size - 1)
            expected_mean[c] = running_update(expected_mean[c], mu, 0.1)
            expected_var[c] = running_update(expected_var[c], unbiased, 0.1)
    np.testing.assert_allclose(host(mean), expected_mean, atol=1e-12)
    np.testing.assert_allclose(host(var), expected_var, atol=1e-12)


def test_batch_norm_eval_leaves_running_stats_alone(device):
    mean = minigan.zeros(3, dtype="float64", device=device)
    var = minigan.ones(3, dtype="float64", device=device)
    batch_norm(randn64(4, 3, device=device), mean, var, training=False)
    np.testing.assert_array_equal(mean.numpy(), np.zeros(3))
    np.testing.assert_array_equal(var.numpy(), np.ones(3))


def test_instance_norm_running_stats_over_three_steps(device):
    mean = minigan.zeros(2, dtype="float64", device=device)
    var = minigan.ones(2, dtype="float64", device=device)
    expected_mean, expected_var = np.zeros(2), np.ones(2)
    for _ in range(3):
        x = minigan.randn(3, 2, 4, 5, dtype="float64", device=device) + 1
        instance_norm(x, mean, var, momentum=0.1)
        xs = x.numpy()
        for c in range(2):
            means = [xs[n, c].sum() / 20 for n in range(3)]
            unbiased = [((xs[n, c] - means[n]) ** 2).sum() / 19 for n in range(3)]
            expected_mean[c] = running_update(expected_mean[c], sum(means) / 3, 0.1)
            expected_var[c] = running_update(expected_var[c], sum(unbiased) / 3, 0.1)
    np.testing.assert_allclose(mean.numpy(), expected_mean, atol=1e-12)
    np.testing.assert_allclose(var.numpy(), expected_var, atol=1e-12)


def test_instance_norm_without_input_stats_uses_running_stats(device):
    x = randn64(2, 3, 4, 2, device=device)
    w, b = affine_params((3,), device)
    mean = minigan.randn(3, dtype="float64", device=device)
    var = minigan.rand(3, dtype="float64", device=device) + 0.5
    y = instance_norm(x, mean, var, w, b, use_input_stats=False)
    expected = reference_eval_norm(x.numpy(), mean.numpy(), var.numpy(), w.numpy(), b.numpy())
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)


# ==================== the three-term backward ====================

def test_batch_norm_gradients_match_the_three_term_formula(device):
    x = randn64(5, 3, 2, 3, device=device) * 2 + 1
    w, b = affine_params((3,), device)
    gy = minigan.randn(5, 3, 2, 3, dtype="float64", device=device)
    y = batch_norm(x, None, None, w, b, training=True)
    gx, gw, gb = minigan.grad(y, [x, w, b], grad_outputs=gy)

    xs, g, gamma = x.numpy(), gy.numpy(), w.numpy().reshape(1, 3, 1, 1)
    axes = (0, 2, 3)
    mu = xs.mean(axis=axes, keepdims=True)
    s = np.sqrt(((xs - mu) ** 2).mean(axis=axes, keepdims=True) + EPS)
    x_hat = (xs - mu) / s
    expected_gx = gamma / s * (g - g.mean(axis=axes, keepdims=True)
                               - x_hat * (g * x_hat).mean(axis=axes, keepdims=True))
    np.testing.assert_allclose(gx.numpy(), expected_gx, atol=1e-12)
    np.testing.assert_allclose(gw.numpy(), (g * x_hat).sum(axis=axes), atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), g.sum(axis=axes), atol=1e-12)


def test_normalize_gradient_is_orthogonal_to_one_and_x_hat(device):
    # x̂ is invariant to shifting x and (for ε = 0) to scaling it, so gx ⟂ 1 and gx ⟂ x − μ.
    x = randn64(4, 6, device=device)
    x_hat = Normalize((1,), 0.0)(x)
    gx, = minigan.grad(x_hat, x, grad_outputs=minigan.randn(4, 6, dtype="float64",
                                                            device=device))
    np.testing.assert_allclose(gx.numpy().sum(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose((gx.numpy() * x_hat.numpy()).sum(axis=1), 0, atol=1e-12)


# ==================== first and second derivatives ====================

@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 3), (2, 3, 2, 3)])
def test_batch_norm_train_gradients(device, shape):
    x = randn64(*shape, device=device)
    w, b = affine_params(shape[1:2], device)
    check(lambda x, w, b: batch_norm(x, None, None, w, b, training=True), x, w, b)


def test_batch_norm_train_gradients_without_affine(device):
    check(lambda x: batch_norm(x, None, None, training=True), randn64(4, 3, device=device))


def test_batch_norm_eval_gradients(device):
    x = randn64(3, 2, 3, 2, device=device)
    w, b = affine_params((2,), device)
    mean = backend.to_device(np.array([0.3, -1.0]), device)
    var = backend.to_device(np.array([0.5, 2.0]), device)
    check(lambda x, w, b: batch_norm(x, mean, var, w, b, training=False), x, w, b)


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 2, 3, 3)])
def test_instance_norm_gradients(device, shape):
    x = randn64(*shape, device=device)
    w, b = affine_params(shape[1:2], device)
    check(lambda x, w, b: instance_norm(x, weight=w, bias=b), x, w, b)


@pytest.mark.parametrize("shape, normalized_shape", [((3, 5), (5,)), ((2, 3, 2, 3), (2, 3))])
def test_layer_norm_gradients(device, shape, normalized_shape):
    x = randn64(*shape, device=device)
    w, b = affine_params(normalized_shape, device)
    check(lambda x, w, b: layer_norm(x, normalized_shape, w, b), x, w, b)


@pytest.mark.parametrize("shape, groups", [((2, 6, 3), 3), ((2, 4, 3, 2), 2)])
def test_group_norm_gradients(device, shape, groups):
    x = randn64(*shape, device=device)
    w, b = affine_params(shape[1:2], device)
    check(lambda x, w, b: group_norm(x, groups, w, b), x, w, b)


@pytest.mark.parametrize("affine", ["weight and bias", "weight", "bias", "none"])
@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_fused_array_backward_equals_the_tensor_backward(device, norm, affine):
    # The first-order walk takes Normalize.backward_arrays, create_graph=True takes the
    # Tensor-op backward: two codings of one formula, which must give the same numbers.
    shape = (3, 4, 5, 3)
    x = randn64(*shape, device=device)
    w, b = affine_params(shape[1:2], device)
    w = w if "weight" in affine else None
    b = b if "bias" in affine else None
    leaves = [t for t in (x, w, b) if t is not None]
    gy = randn64(*shape, device=device, requires_grad=False)

    def run():
        if norm == "batch":
            return batch_norm(x, None, None, w, b, training=True)
        return instance_norm(x, weight=w, bias=b)

    arrays = minigan.grad(run(), leaves, grad_outputs=gy)
    tensors = minigan.grad(run(), leaves, grad_outputs=gy, create_graph=True)
    for a, t in zip(arrays, tensors):
        np.testing.assert_allclose(host(a), host(t), rtol=1e-10, atol=1e-12)


def test_batch_norm_of_a_batch_last_input_is_the_same(device):
    # A convolution's output is batch-last in memory (functional/conv.py), which sends
    # batch norm's reductions down another path; the numbers must not change.
    x = randn64(6, 3, 4, 5, device=device)
    w, b = affine_params((3,), device)
    gy = randn64(6, 3, 4, 5, device=device, requires_grad=False)
    x_last = minigan.Tensor(x.data.transpose(1, 2, 3, 0).copy().transpose(3, 0, 1, 2),
                            requires_grad=True)
    results = []
    for leaf in (x, x_last):
        y = batch_norm(leaf, None, None, w, b, training=True)
        results.append([y] + list(minigan.grad(y, [leaf, w, b], grad_outputs=gy)))
    for first, last in zip(*results):
        np.testing.assert_allclose(host(last), host(first), rtol=1e-12, atol=1e-12)


def test_batch_norm_with_bias_only_gradients(device):
    x = randn64(4, 3, 2, device=device)
    b = randn64(3, device=device)
    check(lambda x, b: batch_norm(x, None, None, None, b, training=True), x, b)


def test_normalize_refuses_a_scale_that_varies_along_the_normalised_axes(device):
    x = randn64(2, 3, 4, device=device)
    with pytest.raises(ValueError, match=r"size 1 along the normalised axes \(2,\)"):
        Normalize((2,), 1e-5)(x, randn64(1, 3, 4, device=device))


# ==================== batch norm fused with its activation ====================

def leaky(u, slope):
    """φ(u) = u for u > 0, a·u otherwise, straight from the definition."""
    return np.where(u > 0, u, slope * u)


def leaky_derivative(u, slope):
    return np.where(u > 0, 1.0, slope)


@pytest.mark.parametrize("slope", [0.0, 0.2, 1.0])
def test_batch_norm_with_activation_forward_and_gradients_by_hand(device, slope):
    # y = φ(u), u = γ x̂ + β: the value from the loop reference, the gradients from the chain
    # rule by hand, ∂L/∂u = gy φ'(u) put into the three-term formula.
    x = randn64(5, 3, 2, 3, device=device) * 2 + 1
    w, b = affine_params((3,), device)
    gy = minigan.randn(5, 3, 2, 3, dtype="float64", device=device)
    y = batch_norm(x, None, None, w, b, training=True, negative_slope=slope)
    u = reference_batch_norm(x.numpy(), w.numpy(), b.numpy())
    np.testing.assert_allclose(y.numpy(), leaky(u, slope), atol=1e-12)

    gx, gw, gb = minigan.grad(y, [x, w, b], grad_outputs=gy)
    xs, g, gamma = x.numpy(), gy.numpy() * leaky_derivative(u, slope), w.numpy()
    axes = (0, 2, 3)
    mu = xs.mean(axis=axes, keepdims=True)
    s = np.sqrt(((xs - mu) ** 2).mean(axis=axes, keepdims=True) + EPS)
    x_hat = (xs - mu) / s
    expected_gx = gamma.reshape(1, 3, 1, 1) / s * (
        g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes,
                                                                        keepdims=True))
    np.testing.assert_allclose(gx.numpy(), expected_gx, atol=1e-12)
    np.testing.assert_allclose(gw.numpy(), (g * x_hat).sum(axis=axes), atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), g.sum(axis=axes), atol=1e-12)


@pytest.mark.parametrize("slope", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 3), (2, 3, 2, 3)])
def test_batch_norm_with_activation_gradients(device, shape, slope):
    # Batch-normalised values are spread around 0, with β shifting them: the finite
    # differences (ε = 1e-6) straddle the kink only if some u is within 1e-6 of 0.
    x = randn64(*shape, device=device)
    w, b = affine_params(shape[1:2], device)
    check(lambda x, w, b: batch_norm(x, None, None, w, b, training=True,
                                     negative_slope=slope), x, w, b)


def test_batch_norm_with_relu_without_affine_gradients(device):
    check(lambda x: batch_norm(x, None, None, training=True, negative_slope=0.0),
          randn64(4, 3, device=device))


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_batch_norm_with_activation_eval(device, slope):
    x = randn64(3, 2, 3, 2, device=device)
    w, b = affine_params((2,), device)
    mean = backend.to_device(np.array([0.3, -1.0]), device)
    var = backend.to_device(np.array([0.5, 2.0]), device)
    y = batch_norm(x, mean, var, w, b, training=False, negative_slope=slope)
    u = reference_eval_norm(x.numpy(), host(mean), host(var), w.numpy(), b.numpy())
    np.testing.assert_allclose(y.numpy(), leaky(u, slope), atol=1e-12)
    check(lambda x, w, b: batch_norm(x, mean, var, w, b, training=False,
                                     negative_slope=slope), x, w, b)


@pytest.mark.parametrize("slope", [0.0, 0.2])
@pytest.mark.parametrize("affine", ["weight and bias", "none"])
def test_fused_activation_array_backward_equals_the_tensor_backward(device, slope, affine):
    shape = (3, 4, 5, 3)
    x = randn64(*shape, device=device)
    w, b = affine_params(shape[1:2], device) if affine != "none" else (None, None)
    leaves = [t for t in (x, w, b) if t is not None]
    gy = randn64(*shape, device=device, requires_grad=False)

    def run():
        return batch_norm(x, None, None, w, b, training=True, negative_slope=slope)

    arrays = minigan.grad(run(), leaves, grad_outputs=gy)
    tensors = minigan.grad(run(), leaves, grad_outputs=gy, create_graph=True)
    for a, t in zip(arrays, tensors):
        np.testing.assert_allclose(host(a), host(t), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("slope", [-0.1, 1.5])
def test_fused_activation_refuses_slopes_outside_0_1(device, slope):
    # Outside [0, 1], max(u, a·u) is not the leaky ReLU and y > 0 no longer marks u > 0.
    x = randn64(4, 3, device=device)
    with pytest.raises(ValueError, match=r"negative_slope must be in \[0, 1\]"):
        batch_norm(x, None, None, training=True, negative_slope=slope)
    with pytest.raises(ValueError, match="0 <= negative_slope <= 1"):
        Normalize((0,), EPS, slope)


@pytest.mark.parametrize("activation", [nn.ReLU(), nn.LeakyReLU(0.2)])
def test_sequential_fuses_batch_norm_and_activation(device, activation):
    # The fused block must be indistinguishable from the two layers run one after the
    # other: outputs, every gradient and the running statistics, in float32 as trained.
    slope = getattr(activation, "negative_slope", 0.0)
    fused_bn, plain_bn = BatchNorm2d(3, device=device), BatchNorm2d(3, device=device)
    for bn in (fused_bn, plain_bn):
        bn.weight.data[...] = backend.to_device(np.array([1.5, -0.5, 2.0], np.float32), device)
        bn.bias.data[...] = backend.to_device(np.array([0.1, 0.2, -0.3], np.float32), device)
    block = nn.Sequential(fused_bn, activation)
    x = minigan.randn(6, 3, 4, 5, device=device, requires_grad=True)
    gy = minigan.randn(6, 3, 4, 5, device=device)
    y = block(x)
    assert isinstance(y.creator, Normalize) and y.creator.slope == slope   # one op
    reference = activation(plain_bn(x))
    assert not isinstance(reference.creator, Normalize)
    fused = [y] + list(minigan.grad(y, [x, fused_bn.weight, fused_bn.bias], grad_outputs=gy))
    plain = [reference] + list(minigan.grad(reference, [x, plain_bn.weight, plain_bn.bias],
                                            grad_outputs=gy))
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(host(a), host(b))
    np.testing.assert_array_equal(host(fused_bn.running_mean), host(plain_bn.running_mean))
    np.testing.assert_array_equal(host(fused_bn.running_var), host(plain_bn.running_var))


def test_sequential_fuses_only_what_it_can(device):
    class Shifted(BatchNorm2d):                 # a subclass with its own forward
        def forward(self, x):
            return super().forward(x) + 1

    x = minigan.randn(4, 2, 3, 3, device=device)
    for block in (nn.Sequential(BatchNorm2d(2, device=device), nn.LeakyReLU(1.5)),
                  nn.Sequential(Shifted(2, device=device), nn.ReLU()),
                  nn.Sequential(BatchNorm2d(2, device=device), nn.Tanh()),
                  nn.Sequential(nn.ReLU(), BatchNorm2d(2, device=device))):
        op = block(x).creator
        assert not (isinstance(op, Normalize) and op.slope is not None)  # nothing fused
    shifted = nn.Sequential(Shifted(2, device=device), nn.ReLU())(x)
    assert float(shifted.numpy().min()) == 0.0 and float(shifted.numpy().max()) > 1.0


# ==================== batch norm: train vs eval ====================

def test_batch_norm_train_and_eval_differ(device):
    x = randn64(6, 3, device=device) * 4 + 2
    w, b = affine_params((3,), device)
    mean = minigan.zeros(3, dtype="float64", device=device)
    var = minigan.ones(3, dtype="float64", device=device)
    gy = minigan.randn(6, 3, dtype="float64", device=device)

    train = batch_norm(x, None, None, w, b, training=True)
    evaluated = batch_norm(x, mean, var, w, b, training=False)
    # train: batch statistics, so every channel has mean β and std |γ|·√(σ²/(σ²+ε))
    np.testing.assert_allclose(train.numpy().mean(axis=0), b.numpy(), atol=1e-12)
    # eval with fresh running stats (0, 1): just γ x/√(1 + ε) + β, no centring at all
    np.testing.assert_allclose(evaluated.numpy(),
                               w.numpy() * x.numpy() / np.sqrt(1 + EPS) + b.numpy())
    assert np.abs(train.numpy() - evaluated.numpy()).max() > 1.0

    gx_train, = minigan.grad(train, x, grad_outputs=gy)
    gx_eval, = minigan.grad(evaluated, x, grad_outputs=gy)
    # train: shifting a whole channel changes nothing, so its gradient sums to zero
    np.testing.assert_allclose(gx_train.numpy().sum(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(gx_eval.numpy(), gy.numpy() * w.numpy() / np.sqrt(1 + EPS))


# ==================== double backprop: a gradient penalty through layer norm ====================

def test_gradient_penalty_through_layer_norm_matches_finite_differences(device):
    """WGAN-GP (notes 002): P = meanₙ (‖∇ₓ D(xₙ)‖ − 1)² for a critic with layer norm instead
    of batch norm; ∂P/∂θ needs the critic's gradient differentiated again."""
    data = backend.to_device(np.random.default_rng(1).standard_normal((4, 3)), device)

    def penalty(w1, gamma, beta, v):
        with minigan.enable_grad():
            x = Tensor(data.copy(), requires_grad=True)
            scores = layer_norm(x @ w1, 5, gamma, beta).tanh() @ v       # (4, 1)
            gx, = minigan.grad(scores.sum(), x, create_graph=True)      # (4, 3)
            norms = (gx * gx).sum(axis=1).sqrt()
            return ((norms - 1) ** 2).mean()

    params = [randn64(3, 5, device=device), *affine_params((5,), device),
              randn64(5, 1, device=device)]
    penalty(*params).backward()
    assert all(p.grad is not None for p in params)
    assert minigan.gradcheck(penalty, params)


def test_layer_norm_keeps_samples_independent(device):
    # the per-sample gradient of the penalty is only meaningful if D(xₙ) ignores x_m, m ≠ n
    x = randn64(3, 4, device=device)
    gx, = minigan.grad(layer_norm(x, 4)[0].sum(), x)
    np.testing.assert_array_equal(gx.numpy()[1:], 0)
    gx, = minigan.grad(batch_norm(x, None, None, training=True)[0].sum(), x)
    assert np.abs(gx.numpy()[1:]).max() > 0


# ==================== bad inputs ====================

def test_batch_norm_errors(device):
    x = randn64(4, 3, device=device)
    stats = minigan.zeros(3, dtype="float64", device=device)
    wrong = minigan.zeros(4, dtype="float64", device=device)
    with pytest.raises(ValueError, match=r"at least 2 dimensions\), found shape \(3,\)"):
        batch_norm(randn64(3, device=device), None, None, training=True)
    with pytest.raises(ValueError, match=r"running_mean has shape \(4,\), expected \(3,\)"):
        batch_norm(x, wrong, stats, training=True)
    with pytest.raises(ValueError, match=r"weight has shape \(4,\), expected \(3,\)"):
        batch_norm(x, None, None, wrong, training=True)
    with pytest.raises(ValueError, match="eval mode .* running_mean and running_var are None"):
        batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="both running_mean and running_var"):
        batch_norm(x, stats, None, training=True)
    with pytest.raises(ValueError, match="momentum=None"):
        batch_norm(x, stats, minigan.ones(3, dtype="float64", device=device), training=True,
                   momentum=None)
    with pytest.raises(ValueError, match=r"more than 1 value per channel .* \(1, 3\)"):
        batch_norm(randn64(1, 3, device=device), None, None, training=True)
    with pytest.raises(TypeError, match="expected a Tensor input, found ndarray"):
        batch_norm(np.zeros((4, 3)), None, None, training=True)
    with pytest.raises(TypeError, match="floating-point input, found dtype int64"):
        batch_norm(minigan.tensor([[1, 2], [3, 4]], device=device), None, None, training=True)


def test_instance_layer_group_norm_errors(device):
    with pytest.raises(ValueError, match=r"instance_norm: .*spatial.*found shape \(4, 3\)"):
        instance_norm(randn64(4, 3, device=device))
    with pytest.raises(ValueError, match=r"more than 1 spatial element .* \(2, 3, 1, 1\)"):
        instance_norm(randn64(2, 3, 1, 1, device=device))
    with pytest.raises(ValueError, match=r"normalized_shape \(4,\), found shape \(2, 3\)"):
        layer_norm(randn64(2, 3, device=device), 4)
    with pytest.raises(ValueError, match=r"layer_norm: weight has shape \(3,\), expected "
                                         r"\(2, 3\)"):
        layer_norm(randn64(4, 2, 3, device=device), (2, 3), randn64(3, device=device))
    with pytest.raises(ValueError, match=r"C=6 channels .* not divisible into num_groups=4"):
        group_norm(randn64(2, 6, 3, device=device), 4)
    with pytest.raises(ValueError, match=r"group_norm: bias has shape \(3,\), expected \(6,\)"):
        group_norm(randn64(2, 6, 3, device=device), 3, bias=randn64(3, device=device))


# ==================== layers ====================

from minigan.nn.norm import (BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d,  # noqa: E402
                             LayerNorm)


def test_batchnorm_state_dict_like_pytorch(device):
    bn = BatchNorm2d(3, device=device)
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var",
                           "num_batches_tracked"]
    np.testing.assert_array_equal(state["weight"].numpy(), np.ones(3))
    np.testing.assert_array_equal(state["bias"].numpy(), np.zeros(3))
    np.testing.assert_array_equal(state["running_mean"].numpy(), np.zeros(3))
    np.testing.assert_array_equal(state["running_var"].numpy(), np.ones(3))
    assert state["running_mean"].dtype == np.float32
    assert state["num_batches_tracked"].dtype == np.int64
    assert state["num_batches_tracked"].shape == () and state["num_batches_tracked"].item() == 0
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]


def test_batchnorm_without_affine_or_tracking_has_no_state(device):
    bn = BatchNorm1d(4, affine=False, track_running_stats=False, device=device)
    assert list(bn.state_dict()) == [] and list(bn.parameters()) == []
    x = randn64(5, 4, device=device)
    bn.double().eval()  # no running statistics: eval mode falls back to batch statistics
    np.testing.assert_allclose(bn(x).numpy(), reference_batch_norm(x.numpy(), np.ones(4),
                                                                    np.zeros(4)), atol=1e-12)


@pytest.mark.parametrize("layer, shape", [(BatchNorm1d, (6, 3)), (BatchNorm1d, (4, 3, 5)),
                                          (BatchNorm2d, (3, 3, 4, 5))])
def test_batchnorm_layer_running_stats_momentum_0_1(device, layer, shape):
    bn = layer(3, momentum=0.1, dtype="float64", device=device)
    expected_mean, expected_var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = minigan.randn(*shape, dtype="float64", device=device) * 3 - 1
        bn(x)
        per_channel = np.moveaxis(x.numpy(), 1, 0).reshape(3, -1)   # (C, N·L or N·H·W)
        n = per_channel.shape[1]
        mu = per_channel.sum(axis=1) / n
        unbiased = ((per_channel - mu[:, None]) ** 2).sum(axis=1) / (n - 1)
        expected_mean = 0.9 * expected_mean + 0.1 * mu
        expected_var = 0.9 * expected_var + 0.1 * unbiased
    np.testing.assert_allclose(bn.running_mean.numpy(), expected_mean, atol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), expected_var, atol=1e-12)
    assert bn.num_batches_tracked.item() == 3


def test_batchnorm_momentum_none_is_the_cumulative_average(device):
    bn = BatchNorm2d(2, momentum=None, dtype="float64", device=device)
    means, variances = [], []
    for _ in range(3):
        x = minigan.randn(4, 2, 3, 3, dtype="float64", device=device) * 2 + 1
        bn(x)
        per_channel = np.moveaxis(x.numpy(), 1, 0).reshape(2, -1)   # (C, N·H·W)
        means.append(per_channel.mean(axis=1))
        variances.append(per_channel.var(axis=1, ddof=1))
    # m = 1/k at step k: the first step replaces the initial (0, 1), later ones average in
    np.testing.assert_allclose(bn.running_mean.numpy(), sum(means) / 3, atol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), sum(variances) / 3, atol=1e-12)
    assert bn.num_batches_tracked.item() == 3


def test_batchnorm_layer_train_then_eval(device):
    bn = BatchNorm2d(3, dtype="float64", device=device)
    bn.weight.data[...] = backend.to_device(np.array([1.5, -0.5, 2.0]), device)
    bn.bias.data[...] = backend.to_device(np.array([0.1, 0.2, -0.3]), device)
    x = Tensor(randn64(4, 3, 2, 3, device=device).data * 2 + 1, requires_grad=True)
    w, b = bn.weight.numpy(), bn.bias.numpy()

    np.testing.assert_allclose(bn(x).numpy(), reference_batch_norm(x.numpy(), w, b),
                               atol=1e-12)
    mean, var = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    bn.eval()
    y = bn(x)
    np.testing.assert_allclose(y.numpy(), reference_eval_norm(x.numpy(), mean, var, w, b),
                               atol=1e-12)
    # eval changes neither the running statistics nor the batch count
    np.testing.assert_array_equal(bn.running_mean.numpy(), mean)
    assert bn.num_batches_tracked.item() == 1
    y.sum().backward()
    assert bn.weight.grad.shape == (3,) and bn.bias.grad.shape == (3,)
    assert x.grad.shape == x.shape


def test_batchnorm_without_tracking_uses_batch_stats_in_eval(device):
    bn = BatchNorm2d(2, track_running_stats=False, dtype="float64", device=device).eval()
    assert bn.running_mean is None and "running_mean" not in bn.state_dict()
    x = randn64(3, 2, 2, 2, device=device)
    np.testing.assert_allclose(bn(x).numpy(), reference_batch_norm(x.numpy(), np.ones(2),
                                                                    np.zeros(2)), atol=1e-12)


def test_instancenorm2d(device):
    layer = InstanceNorm2d(3, dtype="float64", device=device)
    assert list(layer.state_dict()) == []
    x = randn64(2, 3, 4, 5, device=device)
    expected = reference_instance_norm(x.numpy(), np.ones(3), np.zeros(3))
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(layer.eval()(x).numpy(), expected, atol=1e-12)


def test_instancenorm2d_tracking_running_stats(device):
    layer = InstanceNorm2d(2, momentum=None, affine=True, track_running_stats=True,
                           dtype="float64", device=device)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                        "num_batches_tracked"]
    means, variances = [], []
    for _ in range(3):
        x = minigan.randn(3, 2, 3, 4, dtype="float64", device=device) + 2
        layer(x)
        xs = x.numpy().reshape(3, 2, -1)                                # (N, C, H·W)
        means.append(xs.mean(axis=2).mean(axis=0))
        variances.append(xs.var(axis=2, ddof=1).mean(axis=0))
    np.testing.assert_allclose(layer.running_mean.numpy(), sum(means) / 3, atol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), sum(variances) / 3, atol=1e-12)
    x = randn64(2, 2, 3, 3, device=device)
    expected = reference_eval_norm(x.numpy(), layer.running_mean.numpy(),
                                   layer.running_var.numpy(), np.ones(2), np.zeros(2))
    np.testing.assert_allclose(layer.eval()(x).numpy(), expected, atol=1e-12)


def test_layernorm(device):
    layer = LayerNorm((3, 4), dtype="float64", device=device)
    assert layer.weight.shape == (3, 4) and list(layer.state_dict()) == ["weight", "bias"]
    layer.weight.data[...] = backend.to_device(np.arange(12.0).reshape(3, 4) / 6, device)
    layer.bias.data[...] = backend.to_device(np.linspace(-1, 1, 12).reshape(3, 4), device)
    x = randn64(2, 5, 3, 4, device=device)
    expected = reference_layer_norm(x.numpy(), (3, 4), layer.weight.numpy(),
                                    layer.bias.numpy())
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(layer.eval()(x).numpy(), expected, atol=1e-12)
    assert list(LayerNorm(4, elementwise_affine=False).parameters()) == []


def test_groupnorm(device):
    layer = GroupNorm(3, 6, dtype="float64", device=device)
    layer.weight.data[...] = backend.to_device(np.linspace(0.5, 2, 6), device)
    x = randn64(2, 6, 3, 3, device=device)
    expected = reference_group_norm(x.numpy(), 3, layer.weight.numpy(), np.zeros(6))
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=1e-12)
    assert list(GroupNorm(2, 4, affine=False).parameters()) == []


def test_extra_repr_like_pytorch():
    assert repr(BatchNorm1d(3)) == ("BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, "
                                    "track_running_stats=True)")
    assert repr(BatchNorm2d(8, eps=1e-3, momentum=None, affine=False)) == (
        "BatchNorm2d(8, eps=0.001, momentum=None, affine=False, track_running_stats=True)")
    assert repr(InstanceNorm2d(4, affine=True)) == (
        "InstanceNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=False)")
    assert repr(LayerNorm([3, 4])) == "LayerNorm((3, 4), eps=1e-05, elementwise_affine=True)"
    assert repr(GroupNorm(2, 6)) == "GroupNorm(2, 6, eps=1e-05, affine=True)"


def test_layer_errors(device):
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected a 4-D input \(N, C, H, W\), "
                                         r"found shape \(2, 3, 4\) \(3-D\)"):
        BatchNorm2d(3, device=device)(minigan.randn(2, 3, 4, device=device))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected a 2-D or 3-D input .* "
                                         r"found shape \(2, 3, 4, 4\) \(4-D\)"):
        BatchNorm1d(3, device=device)(minigan.randn(2, 3, 4, 4, device=device))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected 3 channels, found 5 "
                                         r"\(input of shape \(2, 5, 4, 4\)\)"):
        BatchNorm2d(3, device=device)(minigan.randn(2, 5, 4, 4, device=device))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected a 4-D input"):
        InstanceNorm2d(3, device=device)(minigan.randn(3, 4, 4, device=device))
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(3\): expected 3 channels, found 2"):
        InstanceNorm2d(3, device=device)(minigan.randn(1, 2, 4, 4, device=device))
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups, "
                                         "found num_channels=6, num_groups=4"):
        GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 6\): expected an input \(N, 6, \*\), "
                                         r"found shape \(2, 4, 3\)"):
        GroupNorm(2, 6, device=device)(minigan.randn(2, 4, 3, device=device))
    with pytest.raises(ValueError, match=r"layer_norm: .*normalized_shape \(5,\), found shape "
                                         r"\(2, 4\)"):
        LayerNorm(5, device=device)(minigan.randn(2, 4, device=device))
    with pytest.raises(ValueError, match="num_features must be a positive int, found 0"):
        BatchNorm1d(0)
    with pytest.raises(TypeError, match="BatchNorm1d: expected a Tensor input, found ndarray"):
        BatchNorm1d(3)(np.zeros((2, 3)))
