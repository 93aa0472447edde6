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
from minigan.functional import (binary_cross_entropy_with_logits, exp, l1_loss, mean,
                                mse_loss, sqrt, sum)


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


# ==================== latent-variable and likelihood models (notes 003) ====================

def gaussian_kl(mu, logvar):
    """KL(N(μ, diag e^{logvar}) ‖ N(0, I)) per sample, in nats: the VAE's prior term.

    For one sample, with σ_j² = e^{logvar_j} over the latent coordinates j,

        KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²),
        ∂KL/∂μ_j = μ_j,   ∂KL/∂logvar_j = ½ (e^{logvar_j} − 1),

    0 exactly when μ = 0 and logvar = 0, positive otherwise. ``mu`` and ``logvar`` are
    (N, ...) alike; every axis but the first is summed: the result is (N,). The encoder
    predicts logvar rather than σ so that σ = e^{logvar/2} > 0 needs no constraint.

    >>> import minigan
    >>> mu, logvar = minigan.tensor([[0.0, 0.0], [1.0, 0.0]]), minigan.zeros(2, 2)
    >>> gaussian_kl(mu, logvar).numpy().tolist()    # ½ μ² for the second sample
    [0.0, 0.5]
    """
    _check_same_batch("gaussian_kl", mu, logvar)
    return 0.5 * sum(mu * mu + exp(logvar) - 1 - logvar, axis=tuple(range(1, mu.ndim)))


def bernoulli_nll(logits, targets):
    """−log p(b | l) per sample, in nats, of pixels b under Bernoulli(σ(l)):

        −log p = Σ_i [−b_i log σ(l_i) − (1 − b_i) log(1 − σ(l_i))]
               = Σ_i [softplus(l_i) − b_i l_i],
        ∂/∂l_i = σ(l_i) − b_i,

    computed by ``binary_cross_entropy_with_logits`` (finite for any logit). ``logits`` and
    ``targets`` (b) are (N, ...) alike; every axis but the first is summed: (N,). For b in
    {0, 1} this is a code length; for grey b in (0, 1) a cross-entropy, bounded below by
    the entropy of b, and not the log-probability of anything.

    >>> import minigan
    >>> round(bernoulli_nll(minigan.zeros(1, 3), minigan.tensor([[0.0, 1.0, 1.0]])).item(), 4)
    2.0794
    """
    _check_same_batch("bernoulli_nll", logits, targets)
    per_pixel = binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return sum(per_pixel, axis=tuple(range(1, logits.ndim)))


def feature_reconstruction(fake_features, real_features):
    """VAE/GAN's reconstruction error in D's feature space (Larsen et al. 2016), per sample:

        L_llike = −log N(D_l(x) | D_l(x̃), I) + const = ½ Σ_j (D_l(x̃)_j − D_l(x)_j)²,
        ∂/∂D_l(x̃)_j = D_l(x̃)_j − D_l(x)_j      (and the opposite for D_l(x)),

    with D_l the activations of D's l-th layer: a Gaussian likelihood, but of D's features
    rather than of the pixels. Both (N, ...) alike; result (N,).

    >>> import minigan
    >>> fake, real = minigan.tensor([[1.0, 2.0]]), minigan.zeros(1, 2)
    >>> feature_reconstruction(fake, real).numpy().tolist()     # ½ (1 + 4)
    [2.5]
    """
    _check_same_batch("feature_reconstruction", fake_features, real_features)
    d = fake_features - real_features
    return 0.5 * sum(d * d, axis=tuple(range(1, d.ndim)))


def d_loss_vaegan(real_logits, recon_logits, prior_logits):
    """VAE/GAN's discriminator loss (Larsen et al. 2016): two kinds of fakes, the
    reconstructions x̃ = Dec(z), z ~ q(z|x), and the prior samples x_p = Dec(z_p),
    z_p ~ N(0, I). D maximises L_GAN = log D(x) + log(1 − D(x̃)) + log(1 − D(x_p)), so it
    minimises, on logits l (D = σ(l)),

        L_D = E softplus(−l_x) + E softplus(l_x̃) + E softplus(l_xp),
        ∂/∂l_x = −σ(−l_x)/n,   ∂/∂l_x̃ = σ(l_x̃)/n,   ∂/∂l_xp = σ(l_xp)/n

    (each mean over its own n scores).

    >>> import minigan
    >>> zero = minigan.zeros(2, 1)
    >>> round(d_loss_vaegan(zero, zero, zero).item(), 4)         # 3 log 2
    2.0794
    """
    return d_loss_bce(real_logits, recon_logits) + mean(softplus(prior_logits))


def _check_same_batch(name, a, b):
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"{name}: expected two tensors of the same shape (N, ...), with "
                         f"at least one axis after the batch, found {a.shape} and {b.shape}")


# ==================== reconstruction terms of the translation models ====================

def reconstruction_loss(pairs, distance="l1"):
    """Σ_k E[d(outputₖ, targetₖ)] over the (output, target) pairs, d per pixel:

        "l1"  d = |o − t|,   ∂/∂o = sign(o − t)/n  (0 where o = t)   CycleGAN, pix2pix
        "mse" d = (o − t)²,  ∂/∂o = 2(o − t)/n                       DiscoGAN

    with n the elements of that pair. CycleGAN's cycle loss (notes 000 "CycleGAN") is
    ``reconstruction_loss([(F(G(a)), a), (G(F(b)), b)])`` and its identity loss
    ``reconstruction_loss([(G(b), b), (F(a), a)])``; DiscoGAN's L_CONST_A + L_CONST_B
    (notes 003) is the first with d the squared error. The target gets a gradient too
    (−∂/∂o), so a target that is itself a network's output (G(b) against b) trains it.

    >>> import minigan
    >>> o, t = minigan.tensor([1.0, -1.0]), minigan.tensor([0.0, 0.0])
    >>> reconstruction_loss([(o, t), (t, t)]).item(), reconstruction_loss([(o, t)], "mse").item()
    (1.0, 1.0)
    """
    if distance not in DISTANCES:
        raise ValueError(f"unknown distance {distance!r}: expected one of "
                         f"{', '.join(DISTANCES)}")
    if not pairs:
        raise ValueError("reconstruction_loss: expected at least one (output, target) pair")
    terms = [DISTANCES[distance](output, target) for output, target in pairs]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


DISTANCES = {"l1": l1_loss, "mse": mse_loss}
