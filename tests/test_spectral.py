"""Spectral normalisation (minigan/nn/spectral.py): the power-iteration step against its
formula, the gradient against its closed form and finite differences (first and second
order), convergence to the largest singular value (NumPy's SVD), and the layers' state."""
import numpy as np
import pytest

import minigan
from minigan.functional.conv import conv2d
from minigan.nn.spectral import (SNConv2d, SNLinear, power_iteration, spectral_divide,
                                 spectral_normalize)
from tests.helpers import randn64


def unit(n, seed=1):
    u = np.random.default_rng(seed).standard_normal(n)
    return u / np.linalg.norm(u)


SHAPES = [(3, 4), (4, 3), (1, 5), (5, 2, 3, 3), (2, 3, 2, 1)]


@pytest.mark.parametrize("shape", SHAPES)
def test_one_power_iteration_step_follows_the_formula(shape):
    w = randn64(*shape, requires_grad=False)
    u = unit(shape[0])
    w_sn, u_new = spectral_normalize(w, u)
    matrix = w.numpy().reshape(shape[0], -1)
    v = matrix.T @ u / np.linalg.norm(matrix.T @ u)
    expected_u = matrix @ v / np.linalg.norm(matrix @ v)
    sigma = expected_u @ matrix @ v
    np.testing.assert_allclose(u_new, expected_u, rtol=1e-9)
    np.testing.assert_allclose(w_sn.numpy(), w.numpy() / sigma, rtol=1e-9)


@pytest.mark.parametrize("shape", SHAPES)
def test_gradient_is_the_closed_form(shape):
    """∂L/∂W = (G − ⟨G, W_SN⟩ u'vᵀ) / σ̂ with G = ∂L/∂W_SN, u and v held constant."""
    w = randn64(*shape)
    u = unit(shape[0])
    w_sn, u_new = spectral_normalize(w, u)
    g = np.random.default_rng(2).standard_normal(shape)
    (gw,) = minigan.grad((w_sn * minigan.tensor(g, dtype="float64")).sum(), [w])
    matrix = w.numpy().reshape(shape[0], -1)
    v = matrix.T @ u / np.linalg.norm(matrix.T @ u)
    sigma = u_new @ matrix @ v
    expected = (g - (g * w_sn.numpy()).sum() * np.outer(u_new, v).reshape(shape)) / sigma
    np.testing.assert_allclose(gw.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_finite_differences_first_and_second_order(shape):
    """W ↦ W / (uᵀ W̄ v) with u, v the constants of one power-iteration step."""
    w = randn64(*shape)
    u, v = power_iteration(w.numpy().reshape(shape[0], -1), unit(shape[0]))
    assert minigan.gradcheck(lambda w: spectral_divide(w, u, v), [w])
    assert minigan.gradgradcheck(lambda w: spectral_divide(w, u, v), [w])


def test_power_iteration_reaches_the_largest_singular_value():
    layer = SNLinear(7, 4, dtype="float64")
    for _ in range(100):
        w_sn = layer.normalized_weight().numpy()
    w = layer.weight.numpy()
    assert np.linalg.svd(w_sn, compute_uv=False)[0] == pytest.approx(1.0, abs=1e-6)
    # W_SN = W / σ̂ with σ̂ the largest singular value of W
    sigma = np.linalg.svd(w, compute_uv=False)[0]
    np.testing.assert_allclose(w_sn * sigma, w, rtol=1e-6)


def test_u_is_a_saved_buffer_that_moves_in_training_mode_only():
    layer = SNConv2d(2, 3, 3)
    assert "u" in layer.state_dict() and layer.u.shape == (3,)
    x = minigan.randn(2, 2, 5, 5)
    before = layer.u.numpy().copy()
    layer.eval()
    layer(x)
    np.testing.assert_array_equal(layer.u.numpy(), before)
    layer.train()
    layer(x)
    assert np.abs(layer.u.numpy() - before).max() > 0
    assert np.linalg.norm(layer.u.numpy()) == pytest.approx(1.0, rel=1e-5)


def test_layers_apply_their_op_to_the_normalized_weight():
    conv = SNConv2d(2, 3, 3, stride=2, padding=1, dtype="float64").eval()
    x = randn64(2, 2, 6, 6, requires_grad=False)
    w_sn, _ = spectral_normalize(conv.weight, conv.u.numpy())
    np.testing.assert_allclose(conv(x).numpy(),
                               conv2d(x, w_sn, conv.bias, stride=2, padding=1).numpy(),
                               rtol=1e-12)
    linear = SNLinear(3, 2, dtype="float64").eval()
    x = randn64(4, 3, requires_grad=False)
    w_sn, _ = spectral_normalize(linear.weight, linear.u.numpy())
    np.testing.assert_allclose(linear(x).numpy(),
                               x.numpy() @ w_sn.numpy().T + linear.bias.numpy(), rtol=1e-12)
