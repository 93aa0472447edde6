"""The loss zoo of the notes: what each player of a GAN minimises.

Notation (notes 000, 004): x a real sample, z noise, G(z) a fake; the discriminator's raw
output is a score l = D̃(·) (a *logit* for the BCE losses, a *critic value* for the others),
and for the BCE losses D(·) = σ(l) is the probability "real". Every loss takes the raw
scores, never probabilities: log σ(l) = −softplus(−l) and log(1 − σ(l)) = −softplus(l) are
finite for every l, while log(σ(l)) of a saturated σ is log 0 = −inf.

Each loss is written with minigan's differentiable ops, so its gradient is differentiable
again (the gradient penalty needs that). E[·] is the mean over every element of a score
tensor: a batch of scalar scores (N, 1) or a PatchGAN map (N, 1, H, W) alike.

    family        discriminator / critic minimises        generator minimises
    minimax       −E log D(x) − E log(1 − D(G(z)))         E log(1 − D(G(z)))
    bce (NS)      the same                                 −E log D(G(z))
    wasserstein   E D(G(z)) − E D(x)                        −E D(G(z))
    lsgan         ½E (D(x) − 1)² + ½E D(G(z))²              ½E (D(G(z)) − 1)²
    hinge         E relu(1 − D(x)) + E relu(1 + D(G(z)))    −E D(G(z))

``LOSSES[name]`` gives the (discriminator loss, generator loss) pair of each family.
"""
import numpy as np

from minigan import backend
from minigan.autograd import Tensor, enable_grad, grad, is_grad_enabled
from minigan.creation import rand
from minigan.functional.activation import relu, softplus
from minigan.functional.math import exp, mean, sqrt, sum


# ==================== binary cross-entropy on logits (notes 000, 004) ====================

def d_loss_bce(real_logits, fake_logits):
    """Discriminator loss of the original GAN, on logits l = logit D(·):

        L_D = −E[log D(x)] − E[log(1 − D(G(z)))] = E[softplus(−l_real)] + E[softplus(l_fake)]

    Derivatives (per element, before the 1/n of the mean), with σ the sigmoid:
        ∂/∂l_real softplus(−l_real) = −σ(−l_real) = −(1 − D(x)),
        ∂/∂l_fake softplus(l_fake)  =  σ(l_fake)  =  D(G(z)).
    So D stops learning from a sample it already classifies right (D(x) → 1, D(G(z)) → 0).

    >>> import minigan
    >>> round(d_loss_bce(minigan.tensor([0.0]), minigan.tensor([0.0])).item(), 4)  # 2 log 2
    1.3863
    """
    return mean(softplus(-real_logits)) + mean(softplus(fake_logits))


def d_loss_matching_aware(real_logits, wrong_logits, fake_logits):
    """The matching-aware discriminator loss of text-to-image GANs (Reed et al. 2016,
    GAN-CLS; StackGAN): D scores (image, caption) pairs, and a real image with a caption
    of another class is a negative, like a fake:

        L_D = −E[log D(x, φ)] − ½ (E[log(1 − D(x, φ̂))] + E[log(1 − D(G(z, φ), φ))])
            = E[softplus(−l_real)] + ½ (E[softplus(l_wrong)] + E[softplus(l_fake)])

    (φ̂: a caption of another class). Derivatives per element, before the 1/n of each
    mean: −(1 − D(x, φ)), ½ D(x, φ̂) and ½ D(G(z, φ), φ). Without the wrong pairs, D could
    accept every real image whatever the caption, and G could ignore the caption.

    >>> import minigan
    >>> zero = minigan.tensor([0.0])                     # log 2 + ½ (log 2 + log 2)
    >>> round(d_loss_matching_aware(zero, zero, zero).item(), 4)
    1.3863
    """
    return mean(softplus(-real_logits)) + 0.5 * (mean(softplus(wrong_logits))
                                                 + mean(softplus(fake_logits)))


def g_loss_minimax(fake_logits):
    """The generator's side of the min-max game (saturating):

        L_G = E[log(1 − D(G(z)))] = −E[softplus(l_fake)],
        ∂L_G/∂l_fake = −σ(l_fake) = −D(G(z)).

    Early in training D(G(z)) ≈ 0, so the gradient ≈ 0 and G barely moves (notes 004:
    "the saturating loss stalls early").

    >>> import minigan
    >>> round(g_loss_minimax(minigan.tensor([0.0])).item(), 4)  # log ½
    -0.6931
    """
    return -mean(softplus(fake_logits))


def g_loss_nonsaturating(fake_logits):
    """The non-saturating generator loss the notes recommend (000: "maximise D(G(z))"):

        L_G = −E[log D(G(z))] = E[softplus(−l_fake)],
        ∂L_G/∂l_fake = −σ(−l_fake) = −(1 − D(G(z))),

    largest exactly when D rejects the fakes (D(G(z)) ≈ 0), where the minimax loss stalls.

    >>> import minigan
    >>> round(g_loss_nonsaturating(minigan.tensor([0.0])).item(), 4)  # log 2
    0.6931
    """
    return mean(softplus(-fake_logits))


# ==================== Wasserstein (notes 000, 002, 003) ====================

def critic_loss_wasserstein(real_scores, fake_scores):
    """WGAN critic loss: the negative of the Kantorovich–Rubinstein estimate of W₁,

        L_C = E[D(G(z))] − E[D(x)],   ∂L_C/∂D(x) = −1/n,   ∂L_C/∂D(G(z)) = +1/n

    (D a 1-Lipschitz critic with no sigmoid). The Keras chapter (notes 002) writes it with
    labels y = +1 for real and y = −1 for fake and the loss −E[y · D(·)]:
        −E[(+1) D(x)] − E[(−1) D(G(z))] = E[D(G(z))] − E[D(x)],
    the same number, as this example checks:

    >>> import minigan
    >>> real, fake = minigan.tensor([0.5, 2.0]), minigan.tensor([-1.0, 0.25])
    >>> labelled = -(1 * real).mean() - (-1 * fake).mean()
    >>> critic_loss_wasserstein(real, fake).item() == labelled.item()
    True
    """
    return mean(fake_scores) - mean(real_scores)


def g_loss_wasserstein(fake_scores):
    """WGAN generator loss (label +1 on the fakes, notes 002):

        L_G = −E[D(G(z))],   ∂L_G/∂D(G(z)) = −1/n.

    >>> import minigan
    >>> g_loss_wasserstein(minigan.tensor([1.0, 3.0])).item()
    -2.0
    """
    return -mean(fake_scores)


def gradient_penalty(critic, real, fake, lam=10.0):
    """WGAN-GP's penalty on the critic's gradient at random interpolates (notes 002):

        x̂ = ε x + (1 − ε) G(z),   ε ~ U[0, 1] one per sample,
        GP = λ · E[(‖∇_x̂ D(x̂)‖₂ − 1)²].

    ∇_x̂ D(x̂) is taken with ``grad(..., create_graph=True)``, so GP is a differentiable
    function of the critic's weights, and ``GP.backward()`` differentiates through that
    gradient (double backprop); under ``no_grad`` only the value is computed. Per sample,
    ∂GP/∂(∇_x̂ D) = (2λ/N)(‖g‖ − 1) g/‖g‖.
    ``real`` and ``fake`` are detached first: the penalty trains the critic only.
    ε comes from minigan's seeded generator (``minigan.manual_seed``).

    Returns (penalty Tensor, mean gradient norm E‖∇_x̂ D(x̂)‖₂ as a float).

    >>> import minigan
    >>> w = minigan.tensor([[3.0], [4.0]], requires_grad=True)   # D(x) = x·w, ‖∇D‖ = 5
    >>> gp, norm = gradient_penalty(lambda x: x @ w, minigan.randn(4, 2), minigan.randn(4, 2))
    >>> round(gp.item(), 6), round(norm, 6)                        # 10 · (5 − 1)²
    (160.0, 5.0)
    """
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real and fake must have the same shape, found "
                         f"{real.shape} and {fake.shape}")
    n = real.shape[0]
    eps = rand(n, *(1,) * (real.ndim - 1), dtype=real.dtype, device=real.device)  # (N, 1, ..)
    x_hat = Tensor(eps.data * real.data + (1 - eps.data) * fake.data, requires_grad=True)
    record = is_grad_enabled()
    with enable_grad():  # ∇D(x̂) is part of the value, even under no_grad (evaluation)
        (g,) = grad(sum(critic(x_hat)), x_hat, create_graph=record)
    # The tiny constant keeps √ differentiable where a dead critic has ∇ = 0 (d√u/du = ∞).
    norms = sqrt(sum(g * g, axis=tuple(range(1, g.ndim))) + 1e-12)  # (N, ...) -> (N,)
    return lam * mean((norms - 1) ** 2), float(backend.to_numpy(norms.data).mean())


def drift_penalty(real_scores, epsilon=1e-3):
    """Progressive GAN's drift term (Karras et al. 2018, appendix A.1), added to the WGAN-GP
    critic's loss so its scores on real data stay near 0 (the Wasserstein loss only sees
    differences, so they could drift without bound):

        drift = ε_drift · E[D(x)²],   ∂drift/∂D(x) = 2 ε_drift D(x) / n,   ε_drift = 1e-3.

    >>> import minigan
    >>> drift_penalty(minigan.tensor([10.0, -20.0])).item()          # 1e-3 · (100 + 400)/2
    0.25
    """
    return epsilon * mean(real_scores * real_scores)


# ==================== least squares and hinge ====================

def d_loss_lsgan(real_scores, fake_scores):
    """Least-squares GAN discriminator loss (targets 1 for real, 0 for fake):

        L_D = ½E[(D(x) − 1)²] + ½E[D(G(z))²],
        ∂L_D/∂D(x) = (D(x) − 1)/n,   ∂L_D/∂D(G(z)) = D(G(z))/n.

    Unlike the BCE loss, samples that are classified right but far from the target still
    pull, so gradients do not vanish.

    >>> import minigan
    >>> d_loss_lsgan(minigan.tensor([1.0, 3.0]), minigan.tensor([2.0])).item()  # ½·2 + ½·4
    3.0
    """
    return 0.5 * mean((real_scores - 1) ** 2) + 0.5 * mean(fake_scores ** 2)


def g_loss_lsgan(fake_scores):
    """Least-squares GAN generator loss: L_G = ½E[(D(G(z)) − 1)²],
    ∂L_G/∂D(G(z)) = (D(G(z)) − 1)/n.

    >>> import minigan
    >>> g_loss_lsgan(minigan.tensor([3.0])).item()
    2.0
    """
    return 0.5 * mean((fake_scores - 1) ** 2)


def d_loss_hinge(real_scores, fake_scores):
    """Hinge discriminator loss:

        L_D = E[relu(1 − D(x))] + E[relu(1 + D(G(z)))],
        ∂L_D/∂D(x) = −[D(x) < 1]/n,   ∂L_D/∂D(G(z)) = [D(G(z)) > −1]/n:

    only samples inside the margin (real scored below 1, fake above −1) give a gradient.

    >>> import minigan
    >>> d_loss_hinge(minigan.tensor([2.0, 0.5]), minigan.tensor([-3.0, 0.0])).item()
    0.75
    """
    return mean(relu(1 - real_scores)) + mean(relu(1 + fake_scores))


def g_loss_hinge(fake_scores):
    """Hinge generator loss: L_G = −E[D(G(z))] (the Wasserstein generator loss),
    ∂L_G/∂D(G(z)) = −1/n."""
    return g_loss_wasserstein(fake_scores)


# ==================== Gaussian KL (conditioning augmentation, VAE) ====================

def gaussian_kl(mu, logvar):
    """Per-sample KL divergence of a diagonal Gaussian from the standard normal,

        KL(N(μ, diag e^{logvar}) ‖ N(0, I)) = ½ Σ_j (μ_j² + e^{logvar_j} − 1 − logvar_j),

    summed over every axis but the first: shape (N,). It is ≥ 0, and 0 only at μ = 0,
    logvar = 0. Derivatives: ∂KL/∂μ_j = μ_j, ∂KL/∂logvar_j = ½ (e^{logvar_j} − 1).
    (StackGAN's conditioning augmentation adds λ_KL·E[KL] to G's loss; the VAE's
    encoder pays the same KL in its evidence lower bound.)

    >>> import minigan
    >>> gaussian_kl(minigan.tensor([[1.0, 0.0]]), minigan.tensor([[0.0, 0.0]])).numpy().tolist()
    [0.5]
    """
    if mu.shape != logvar.shape or mu.ndim < 1:
        raise ValueError(f"gaussian_kl: expected mu and logvar of one shape (N, ...), found "
                         f"{mu.shape} and {logvar.shape}")
    terms = mu * mu + exp(logvar) - 1 - logvar
    return 0.5 * sum(terms, axis=tuple(range(1, mu.ndim))) if mu.ndim > 1 else 0.5 * terms


# ==================== registry ====================

LOSSES = {
    "bce": (d_loss_bce, g_loss_nonsaturating),
    "minimax": (d_loss_bce, g_loss_minimax),
    "wasserstein": (critic_loss_wasserstein, g_loss_wasserstein),
    "lsgan": (d_loss_lsgan, g_loss_lsgan),
    "hinge": (d_loss_hinge, g_loss_hinge),
}


def get_losses(name):
    """(discriminator loss, generator loss) of the family ``name`` (see ``LOSSES``)."""
    if name not in LOSSES:
        raise ValueError(f"unknown GAN loss {name!r}: expected one of {', '.join(LOSSES)}")
    return LOSSES[name]


def score_stats(real_scores, fake_scores):
    """Mean raw score on real and on fake samples, as floats (for the training log)."""
    return (float(np.mean(backend.to_numpy(real_scores.data))),
            float(np.mean(backend.to_numpy(fake_scores.data))))
