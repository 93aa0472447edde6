"""StackGAN's conditioning augmentation: the reparameterised sample and its gradient against
the derivative of a closed-form expectation, finite differences of first and second order,
the layer against a hand computation. Its KL term, ``losses.gaussian_kl``, is tested against
its closed form and Monte Carlo in tests/test_likelihood_losses.py."""
import math

import numpy as np
import pytest

import minigan
from minigan import gradcheck, gradgradcheck
from minigan.nn.conditioning_augmentation import ConditioningAugmentation, reparameterize
from tests.helpers import randn64


def f64(values, requires_grad=True):
    return minigan.tensor(np.asarray(values, dtype=np.float64), dtype="float64",
                          requires_grad=requires_grad)


# ==================== the reparameterisation ====================

@pytest.mark.parametrize("shape", [(3, 4), (2, 5)])
def test_reparameterize_gradients(shape):
    mu, logvar, eps = randn64(*shape), randn64(*shape), randn64(*shape)
    c = reparameterize(mu, logvar, eps)
    np.testing.assert_allclose(c.numpy(), mu.numpy() + np.exp(0.5 * logvar.numpy()) *
                               eps.numpy(), rtol=1e-12)
    assert gradcheck(reparameterize, [mu, logvar, eps])
    assert gradgradcheck(reparameterize, [mu, logvar, eps])


def test_the_reparameterised_gradient_estimates_the_gradient_of_the_expectation():
    """f(c) = c²: E[f] = μ² + e^{logvar}, so ∂E/∂μ = 2μ and ∂E/∂logvar = e^{logvar}; the
    mean of ∂f(μ + σε)/∂(μ, logvar) over 200,000 draws of ε must match both."""
    n = 200_000
    mu, logvar = f64(np.full(n, 0.7)), f64(np.full(n, -0.4))
    eps = f64(np.random.default_rng(1).standard_normal(n), requires_grad=False)
    c = reparameterize(mu, logvar, eps)
    g_mu, g_lv = minigan.grad((c * c).sum(), [mu, logvar])
    assert g_mu.numpy().mean() == pytest.approx(2 * 0.7, abs=4 * g_mu.numpy().std() / n ** .5)
    assert g_lv.numpy().mean() == pytest.approx(math.exp(-0.4),
                                                abs=4 * g_lv.numpy().std() / n ** .5)


def test_conditioning_augmentation_layer():
    ca = ConditioningAugmentation(6, 3)
    for p in ca.parameters():
        p.data = p.data.astype(np.float64)
    phi, eps = randn64(4, 6, requires_grad=False), randn64(4, 3, requires_grad=False)
    c, mu, logvar = ca(phi, eps)
    h = phi.numpy() @ ca.fc.weight.numpy().T + ca.fc.bias.numpy()
    np.testing.assert_allclose(mu.numpy(), h[:, :3], rtol=1e-12)
    np.testing.assert_allclose(logvar.numpy(), h[:, 3:], rtol=1e-12)
    np.testing.assert_allclose(c.numpy(), h[:, :3] + np.exp(0.5 * h[:, 3:]) * eps.numpy(),
                               rtol=1e-12)
    # ∂Σc/∂b: 1 per sample on the μ half, Σ_n ½ σ ε on the log σ² half
    (g_bias,) = minigan.grad(c.sum(), ca.fc.bias)
    half = (0.5 * np.exp(0.5 * h[:, 3:]) * eps.numpy()).sum(axis=0)
    np.testing.assert_allclose(g_bias.numpy(), np.r_[np.full(3, 4.0), half], rtol=1e-12)
    ca.augment = False
    c, mu, _ = ca(phi)
    assert c is mu
