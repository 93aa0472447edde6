"""VAE and VAE/GAN: the reparameterised sample and its gradient, the held-out bounds
against log p(b) computed by quadrature on a one-dimensional latent, sampling, and
VAE/GAN's rule that each network follows its own loss (no GAN gradient in the encoder)."""
import copy

import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.autograd import grad, no_grad
from minigan.functional import mean
from minigan.models.adversarial import frozen
from minigan.models.losses import (feature_reconstruction, gaussian_kl,
                                   g_loss_nonsaturating)
from minigan.models.vae import VAE, reparameterize
from minigan.models.vaegan import VAEGAN
from tests.helpers import randn64


# ==================== reparameterisation ====================

def test_reparameterised_sample_and_its_gradient():
    mu, logvar = randn64(3, 2), randn64(3, 2)
    eps = randn64(3, 2, requires_grad=False)
    z = reparameterize(mu, logvar, eps)
    sd = np.exp(logvar.numpy() / 2)
    np.testing.assert_allclose(z.numpy(), mu.numpy() + sd * eps.numpy(), rtol=1e-12)
    g_mu, g_lv = grad(z.sum(), [mu, logvar])
    np.testing.assert_array_equal(g_mu.numpy(), np.ones((3, 2)))           # ∂z/∂μ = 1
    np.testing.assert_allclose(g_lv.numpy(), 0.5 * sd * eps.numpy(), rtol=1e-12)
    f = lambda m, lv: reparameterize(m, lv, eps)                           # noqa: E731
    assert minigan.gradcheck(f, [mu, logvar]) and minigan.gradgradcheck(f, [mu, logvar])


def test_reparameterised_samples_have_the_posterior_moments():
    mu = minigan.tensor([[1.5, -2.0]] * 100_000, dtype="float64")
    logvar = minigan.tensor([[0.0, np.log(0.25)]] * 100_000, dtype="float64")
    z = reparameterize(mu, logvar).numpy()
    np.testing.assert_allclose(z.mean(axis=0), [1.5, -2.0], atol=0.01)
    np.testing.assert_allclose(z.std(axis=0), [1.0, 0.5], atol=0.01)


def test_negative_elbo_is_reconstruction_plus_kl():
    """The training loss per image, recomputed in NumPy from the encoder's (μ, logvar),
    the same ε and the decoder: −ELBO = Σ_i [softplus(l_i) − b_i l_i] + ½ Σ_j (μ_j² + σ_j²
    − 1 − log σ_j²)."""
    vae = VAE((1, 2, 3), latent_dim=2, hidden=5)
    x = minigan.tensor(np.sign(np.random.default_rng(4).standard_normal((3, 1, 2, 3))))
    minigan.manual_seed(5)
    loss, _, _ = vae.negative_elbo(x)
    with no_grad():
        mu, logvar = (t.numpy() for t in vae.encode(x))
        minigan.manual_seed(5)
        eps = minigan.randn(3, 2).numpy()             # the draw reparameterize makes
        z = mu + np.exp(logvar / 2) * eps
        logits = vae.decode(minigan.tensor(z)).numpy().reshape(3, -1)
    b = (x.numpy().reshape(3, -1) + 1) / 2
    recon = (np.logaddexp(0, logits) - b * logits).sum(axis=1)
    kl = 0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar).sum(axis=1)
    np.testing.assert_allclose(loss.numpy(), recon + kl, rtol=1e-5)


# ==================== the bounds against quadrature ====================

def tiny_vae(k):
    """A float64 VAE with a 1-d latent over 3 binary pixels, random weights."""
    vae = VAE((1, 1, 3), latent_dim=1, hidden=6, iw_samples=k)
    for net in (vae.encoder, vae.decoder):
        net.double()
    rng = np.random.default_rng(0)
    for p in list(vae.encoder.parameters()) + list(vae.decoder.parameters()):
        p.data[...] = rng.standard_normal(p.shape)
    return vae


def quadrature(vae, x):
    """By the trapezoid rule on 20,001 points of z over [−12, 12]: p(b) = ∫ p(b|z) p(z) dz,
    ELBO = ∫ q(z|b) log p(b|z) dz − KL(q ‖ p), and the variance under q of the importance
    weight w = p(b|z) p(z) / q(z|b), whose mean is p(b): Var = ∫ (p(b|z) p(z))² / q dz − p²,
    and that of log p(b|z) under q (the Monte Carlo part of the ELBO)."""
    z = np.linspace(-12, 12, 20_001)
    with no_grad():
        logits = vae.decode(minigan.tensor(z[:, None], dtype="float64")).numpy()
        mu, logvar = (t.numpy()[0, 0]
                      for t in vae.encode(minigan.tensor(x[None], dtype="float64")))
    logits = logits.reshape(len(z), 3)
    b = (x.ravel() + 1) / 2
    lik = np.exp(-(np.logaddexp(0, logits) - b * logits).sum(axis=1))    # p(b|z)
    prior = np.exp(-z ** 2 / 2) / np.sqrt(2 * np.pi)
    q = np.exp(-(z - mu) ** 2 / (2 * np.exp(logvar))) / np.sqrt(2 * np.pi * np.exp(logvar))

    def integral(f):
        return (f[1:] + f[:-1]).sum() / 2 * (z[1] - z[0])

    p = integral(lik * prior)
    kl = 0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar)
    expected_log_lik = integral(q * np.log(lik))
    return (p, expected_log_lik - kl, integral((lik * prior) ** 2 / q) - p ** 2,
            integral(q * np.log(lik) ** 2) - expected_log_lik ** 2)


def test_elbo_and_iwae_bounds_against_the_exact_likelihood():
    """−ELBO is the quadrature's within 4 standard errors, and lies above −log p(b); the
    importance-weighted bound is −log of (1/k) Σ w_i, whose mean is p(b) exactly: it is
    checked against p(b) within 4 standard errors √(Var w / k)."""
    k = 4000
    x = np.array([[[[1.0, -1.0, 1.0]]], [[[-1.0, -1.0, 1.0]]]])         # (2, 1, 1, 3)
    vae = tiny_vae(k)
    bounds = vae.heldout_bounds(minigan.tensor(x, dtype="float64"))
    for i in range(2):
        p, elbo, var_w, var_log_lik = quadrature(vae, x[i])
        assert -elbo > -np.log(p) + 0.2                      # q is not the posterior
        assert abs(bounds["nll_bound_elbo"][i] + elbo) < 4 * np.sqrt(var_log_lik / k)
        assert abs(np.exp(-bounds[f"nll_bound_iwae{k}"][i]) - p) < 4 * np.sqrt(var_w / k)


# ==================== sampling and data ====================

def test_samples_are_means_or_binary_draws():
    vae = VAE((1, 28, 28))
    means, draws = vae.sample(3).numpy(), vae.sample(3, draw=True).numpy()
    assert means.shape == draws.shape == (3, 1, 28, 28)
    assert (np.abs(means) < 1).all() and set(np.unique(draws)) <= {-1.0, 1.0}


def test_a_few_steps_lower_the_bound_and_eval_needs_binarised_data():
    minigan.manual_seed(0)
    vae = VAE((1, 28, 28))
    x = minigan.ones(8, 1, 28, 28)
    x.data[..., 14:] = -1                                   # left half white, right black
    first = vae.step({"x": x})["loss"]
    for _ in range(10):
        last = vae.step({"x": x})["loss"]
    assert first > 500 and last < first - 100
    with pytest.raises(ValueError, match="likelihoods are reported on binarised digits"):
        vae.evaluate("mnist5k")
    with pytest.raises(ValueError, match="H and W must be multiples of 4, found 6×6"):
        VAE((1, 6, 6), arch="conv")


# ==================== VAE/GAN: each network its own loss ====================

def test_vaegan_encoder_gets_no_gan_gradient():
    """After a step, the encoder's gradient is ∇(KL + L_llike), the decoder's
    ∇(γ L_llike + (1 − γ) L_G), recomputed here from the same forward pass and D; and the
    GAN term does change the encoder's gradient when it is (wrongly) added."""
    minigan.manual_seed(0)
    model = VAEGAN((1, 8, 8), width=4, d_width=4, latent_dim=3, gamma=0.3)
    for net in model.networks.values():
        net.double()
    x = minigan.tensor(np.sign(np.random.default_rng(1).standard_normal((4, 1, 8, 8))),
                       dtype="float64")
    twin = copy.deepcopy(model)
    rng = backend.get_rng_state()
    model.step({"x": x})
    backend.set_rng_state(rng)
    recon, prior, mu, logvar = twin.losses(x)
    twin.discriminator_step(x, recon.detach(), prior.detach())
    with frozen(twin.D):
        recon_logits, recon_features = twin.D(recon)
        prior_logits, _ = twin.D(prior)
        llike = mean(feature_reconstruction(recon_features, twin.D(x)[1].detach()))
        kl = mean(gaussian_kl(mu, logvar))
        gan = g_loss_nonsaturating(recon_logits) + g_loss_nonsaturating(prior_logits)
        encoder = list(twin.encoder.parameters())
        decoder = list(twin.decoder.parameters())
        expected_enc = grad(kl + llike, encoder, retain_graph=True)
        with_gan = grad(kl + llike + gan, encoder, retain_graph=True)
        expected_dec = grad(0.3 * llike + 0.7 * gan, decoder)
    for p, g, wrong in zip(model.encoder.parameters(), expected_enc, with_gan):
        np.testing.assert_allclose(p.grad.numpy(), g.numpy(), rtol=1e-9, atol=1e-12)
    assert any(not np.allclose(g.numpy(), w.numpy()) for g, w in zip(expected_enc, with_gan))
    for p, g in zip(model.decoder.parameters(), expected_dec):
        np.testing.assert_allclose(p.grad.numpy(), g.numpy(), rtol=1e-9, atol=1e-12)


def test_vaegan_gamma_must_be_a_weight():
    with pytest.raises(ValueError, match=r"vaegan: gamma must be in \[0, 1\], found 1.5"):
        VAEGAN((1, 8, 8), width=4, gamma=1.5)
