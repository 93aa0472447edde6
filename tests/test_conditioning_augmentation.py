"""The Gaussian KL (losses.gaussian_kl) and StackGAN's conditioning augmentation: the KL
against its closed form and a Monte Carlo estimate, the reparameterised gradient against
the derivative of a closed-form expectation, finite differences of first and second order."""
import doctest
import math

import numpy as np
import pytest

import minigan
from minigan import gradcheck, gradgradcheck
from minigan.models.losses import gaussian_kl
from minigan.nn import conditioning_augmentation
from minigan.nn.conditioning_augmentation import ConditioningAugmentation, reparameterize
from tests.conftest import randn64


def f64(values, requires_grad=True):
    return minigan.tensor(np.asarray(values, dtype=np.float64), dtype="float64",
                          requires_grad=requires_grad)


# ==================== the KL ====================

def test_gaussian_kl_against_the_textbook_one_dimensional_form():
    """KL(N(μ, σ²) ‖ N(0, 1)) = −log σ + (σ² + μ²)/2 − ½, summed over independent axes."""
    mu, sigma = np.array([[0.5, -1.0, 0.0]]), np.array([[2.0, 0.3, 1.0]])
    one_d = -np.log(sigma) + (sigma ** 2 + mu ** 2) / 2 - 0.5
    kl = gaussian_kl(f64(mu), f64(2 * np.log(sigma)))
    assert kl.shape == (1,)
    assert kl.item() == pytest.approx(one_d.sum(), rel=1e-12)
    assert gaussian_kl(f64([[0.0, 0.0]]), f64([[0.0, 0.0]])).item() == 0.0


def test_gaussian_kl_against_monte_carlo():
    """E_q[log q(c) − log p(c)] over 400,000 draws of c ~ q, within 4 standard errors."""
    rng = np.random.default_rng(0)
    mu, logvar = np.array([0.8, -0.3, 1.5]), np.array([-1.0, 0.7, 0.2])
    sigma = np.exp(0.5 * logvar)
    c = mu + sigma * rng.standard_normal((400_000, 3))
    log_q = (-0.5 * ((c - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * math.log(2 * math.pi))
    log_p = -0.5 * c ** 2 - 0.5 * math.log(2 * math.pi)
    terms = (log_q - log_p).sum(axis=1)
    closed = gaussian_kl(f64(mu[None]), f64(logvar[None])).item()
    assert abs(terms.mean() - closed) < 4 * terms.std() / math.sqrt(len(terms))


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2), (5,)])
def test_gaussian_kl_gradients(shape):
    mu, logvar = randn64(*shape), randn64(*shape)
    (g_mu, g_lv) = minigan.grad(gaussian_kl(mu, logvar).sum(), [mu, logvar])
    np.testing.assert_allclose(g_mu.numpy(), mu.numpy(), rtol=1e-12)
    np.testing.assert_allclose(g_lv.numpy(), 0.5 * (np.exp(logvar.numpy()) - 1), rtol=1e-12)
    assert gradcheck(gaussian_kl, [mu, logvar])
    assert gradgradcheck(gaussian_kl, [mu, logvar])


def test_gaussian_kl_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"mu and logvar of one shape"):
        gaussian_kl(minigan.zeros(2, 3), minigan.zeros(2, 4))


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


def test_docstring_examples_run():
    for module in (conditioning_augmentation, minigan.models.losses):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0
