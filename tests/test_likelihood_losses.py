"""The losses of the likelihood models against closed forms, Monte Carlo and finite
differences (first and second order): the Gaussian KL, the Bernoulli NLL, VAE/GAN's
feature reconstruction and discriminator loss, the Gaussian log-density, log-mean-exp."""
import math

import numpy as np
import pytest

import minigan
from minigan.models import losses as L
from minigan.models.likelihood import bits_per_dim, log_mean_exp, log_normal
from tests.helpers import randn64

SHAPES = [(3, 2), (2, 5), (2, 1, 3, 2)]


def sigma(l):
    return 1 / (1 + np.exp(-l))


# ==================== Gaussian KL ====================

def test_gaussian_kl_closed_form_values_and_gradient(device):
    mu, logvar = randn64(4, 3, device=device), randn64(4, 3, device=device)
    m, lv = mu.numpy(), logvar.numpy()
    kl = L.gaussian_kl(mu, logvar)
    # KL(N(m, s²) ‖ N(0, 1)) = log(1/s) + (s² + m²)/2 − ½, per coordinate, summed
    expected = (-0.5 * lv + (np.exp(lv) + m ** 2) / 2 - 0.5).sum(axis=1)
    assert kl.shape == (4,)
    np.testing.assert_allclose(kl.numpy(), expected, rtol=1e-12)
    g_mu, g_lv = minigan.grad(kl.sum(), [mu, logvar])
    np.testing.assert_allclose(g_mu.numpy(), m, rtol=1e-12)
    np.testing.assert_allclose(g_lv.numpy(), 0.5 * (np.exp(lv) - 1), rtol=1e-12)
    zero = minigan.zeros(2, 3, dtype="float64", device=device)
    np.testing.assert_array_equal(L.gaussian_kl(zero, zero).numpy(), [0.0, 0.0])


def test_gaussian_kl_agrees_with_monte_carlo():
    """KL(q ‖ p) = E_q[log q(z) − log p(z)], estimated from 200,000 draws of q."""
    rng = np.random.default_rng(0)
    m, lv = np.array([[0.5, -1.0, 2.0]]), np.array([[0.3, -1.2, 0.0]])
    z = m + np.exp(lv / 2) * rng.standard_normal((200_000, 3))
    log_q = -0.5 * (((z - m) ** 2) / np.exp(lv) + lv + math.log(2 * math.pi)).sum(axis=1)
    log_p = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(axis=1)
    terms = log_q - log_p
    closed = L.gaussian_kl(minigan.tensor(m), minigan.tensor(lv)).item()
    assert abs(terms.mean() - closed) < 4 * terms.std() / math.sqrt(len(terms))


@pytest.mark.parametrize("shape", SHAPES)
def test_gaussian_kl_gradcheck(shape):
    mu, logvar = randn64(*shape), randn64(*shape)
    assert minigan.gradcheck(L.gaussian_kl, [mu, logvar])
    assert minigan.gradgradcheck(L.gaussian_kl, [mu, logvar])


def test_gaussian_kl_shapes_are_checked():
    with pytest.raises(ValueError, match=r"gaussian_kl: expected two tensors of the same "
                                         r"shape \(N, ...\).* found \(2, 3\) and \(2, 4\)"):
        L.gaussian_kl(minigan.zeros(2, 3), minigan.zeros(2, 4))


# ==================== Bernoulli NLL ====================

def test_bernoulli_nll_is_minus_log_probability_of_binary_pixels(device):
    logits = randn64(3, 1, 2, 2, device=device)
    b = (np.random.default_rng(1).random((3, 1, 2, 2)) < 0.5).astype(np.float64)
    nll = L.bernoulli_nll(logits, minigan.tensor(b, dtype="float64", device=device))
    p = sigma(logits.numpy())
    expected = -(b * np.log(p) + (1 - b) * np.log(1 - p)).sum(axis=(1, 2, 3))
    assert nll.shape == (3,)
    np.testing.assert_allclose(nll.numpy(), expected, rtol=1e-12)
    (g,) = minigan.grad(nll.sum(), logits)
    np.testing.assert_allclose(g.numpy(), p - b, rtol=1e-10)            # σ(l) − b


def test_bernoulli_nll_is_finite_for_saturated_logits():
    nll = L.bernoulli_nll(minigan.tensor([[1000.0, -1000.0]]), minigan.tensor([[0.0, 1.0]]))
    assert nll.item() == 2000.0


@pytest.mark.parametrize("shape", SHAPES)
def test_bernoulli_nll_gradcheck(shape):
    logits = randn64(*shape)
    targets = minigan.tensor(np.random.default_rng(2).random(shape), dtype="float64",
                             requires_grad=True)
    assert minigan.gradcheck(L.bernoulli_nll, [logits, targets])
    assert minigan.gradgradcheck(L.bernoulli_nll, [logits, targets])


# ==================== VAE/GAN ====================

def test_feature_reconstruction_value_and_gradient():
    fake, real = randn64(2, 3, 2, 2), randn64(2, 3, 2, 2)
    d = fake.numpy() - real.numpy()
    loss = L.feature_reconstruction(fake, real)
    np.testing.assert_allclose(loss.numpy(), 0.5 * (d ** 2).sum(axis=(1, 2, 3)), rtol=1e-12)
    g_fake, g_real = minigan.grad(loss.sum(), [fake, real])
    np.testing.assert_allclose(g_fake.numpy(), d, rtol=1e-12)
    np.testing.assert_allclose(g_real.numpy(), -d, rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_feature_reconstruction_gradcheck(shape):
    fake, real = randn64(*shape), randn64(*shape)
    assert minigan.gradcheck(L.feature_reconstruction, [fake, real])
    assert minigan.gradgradcheck(L.feature_reconstruction, [fake, real])


def test_d_loss_vaegan_value_and_gradient():
    real, recon, prior = randn64(4, 1), randn64(3, 1), randn64(2, 1)
    lr_, lt, lp = real.numpy(), recon.numpy(), prior.numpy()
    loss = L.d_loss_vaegan(real, recon, prior)
    # −[log D(x) + log(1 − D(x̃)) + log(1 − D(x_p))], each expectation its own mean
    expected = (-np.log(sigma(lr_)).mean() - np.log(1 - sigma(lt)).mean()
                - np.log(1 - sigma(lp)).mean())
    assert np.isclose(loss.item(), expected, rtol=1e-12)
    g_real, g_recon, g_prior = minigan.grad(loss, [real, recon, prior])
    np.testing.assert_allclose(g_real.numpy(), -sigma(-lr_) / 4, rtol=1e-12)
    np.testing.assert_allclose(g_recon.numpy(), sigma(lt) / 3, rtol=1e-12)
    np.testing.assert_allclose(g_prior.numpy(), sigma(lp) / 2, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 3])
def test_d_loss_vaegan_gradcheck(n):
    inputs = [randn64(n, 1), randn64(n + 1, 1), randn64(2, 1, 2, 2)]
    assert minigan.gradcheck(L.d_loss_vaegan, inputs)
    assert minigan.gradgradcheck(L.d_loss_vaegan, inputs)


# ==================== densities and units ====================

def test_log_normal_is_the_gaussian_log_density():
    z, mu, logvar = randn64(3, 2), randn64(3, 2), randn64(3, 2)
    s2 = np.exp(logvar.numpy())
    density = np.exp(-(z.numpy() - mu.numpy()) ** 2 / (2 * s2)) / np.sqrt(2 * np.pi * s2)
    np.testing.assert_allclose(log_normal(z, mu, logvar).numpy(),
                               np.log(density).sum(axis=1), rtol=1e-12)
    assert minigan.gradcheck(log_normal, [z, mu, logvar])
    assert minigan.gradgradcheck(log_normal, [z, mu, logvar])


def test_log_mean_exp_does_not_overflow():
    a = np.array([[1000.0, 1.0], [1000.0 + math.log(3), 1.0]])
    np.testing.assert_allclose(log_mean_exp(a, axis=0),
                               [1000.0 + math.log(2), 1.0], rtol=1e-14)


def test_bits_per_dim_divides_by_the_true_pixel_count():
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0, rel=1e-15)
