"""The GAN losses against their hand derivations: values, gradients w.r.t. the logits or
scores from the closed forms, finite differences (first and second order), and the
gradient penalty's gradient w.r.t. a critic's weights (MLP and conv critics)."""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan.models import losses as L
from tests.helpers import randn64


def sigma(l):
    return 1 / (1 + np.exp(-l))


def logits(n, device, scale=2.0):
    """float64 leaf tensor of n logits spread over [-scale, scale] (not near saturation)."""
    values = np.linspace(-scale, scale, n) + 0.1
    return minigan.tensor(values, dtype="float64", device=device, requires_grad=True)


def grads(loss, *inputs):
    return [g.numpy() for g in minigan.grad(loss, list(inputs))]


# ==================== BCE family: values and closed-form gradients ====================

def test_d_loss_bce_value_and_gradient(device):
    real, fake = logits(5, device), logits(3, device, scale=1.0)
    lr, lf = real.numpy(), fake.numpy()
    loss = L.d_loss_bce(real, fake)
    expected = -np.mean(np.log(sigma(lr))) - np.mean(np.log(1 - sigma(lf)))
    assert np.isclose(loss.item(), expected, rtol=1e-12)
    g_real, g_fake = grads(loss, real, fake)
    # d/dl softplus(-l) = -(1 - σ(l)); d/dl softplus(l) = σ(l); each mean divides by n
    np.testing.assert_allclose(g_real, -(1 - sigma(lr)) / 5, rtol=1e-12)
    np.testing.assert_allclose(g_fake, sigma(lf) / 3, rtol=1e-12)


def test_generator_losses_value_and_gradient(device):
    fake = logits(4, device)
    lf = fake.numpy()
    minimax = L.g_loss_minimax(fake)
    assert np.isclose(minimax.item(), np.mean(np.log(1 - sigma(lf))), rtol=1e-12)
    np.testing.assert_allclose(grads(minimax, fake)[0], -sigma(lf) / 4, rtol=1e-12)
    ns = L.g_loss_nonsaturating(fake)
    assert np.isclose(ns.item(), -np.mean(np.log(sigma(lf))), rtol=1e-12)
    np.testing.assert_allclose(grads(ns, fake)[0], -(1 - sigma(lf)) / 4, rtol=1e-12)


def test_saturation_minimax_stalls_where_nonsaturating_pulls(device):
    """notes 004: when D rejects the fakes (logit −10) the minimax gradient is ~σ(−10)
    while the non-saturating one is ~1."""
    fake = minigan.tensor([-10.0], dtype="float64", device=device, requires_grad=True)
    (g_mm,) = grads(L.g_loss_minimax(fake), fake)
    (g_ns,) = grads(L.g_loss_nonsaturating(fake), fake)
    assert abs(g_mm[0]) < 1e-4 and np.isclose(g_ns[0], -(1 - sigma(-10.0)))


def test_bce_losses_are_finite_at_extreme_logits(device):
    real = minigan.tensor([1000.0, -1000.0], dtype="float64", device=device, requires_grad=True)
    fake = minigan.tensor([-1000.0, 1000.0], dtype="float64", device=device, requires_grad=True)
    loss = L.d_loss_bce(real, fake)
    # softplus(-1000) = 0 and softplus(1000) = 1000 exactly, halved by each mean
    assert loss.item() == pytest.approx(1000.0)
    g_real, g_fake = grads(loss, real, fake)
    np.testing.assert_allclose(g_real, [0.0, -0.5])
    np.testing.assert_allclose(g_fake, [0.0, 0.5])
    assert np.isfinite(L.g_loss_nonsaturating(fake).item())


# ==================== Wasserstein, least squares, hinge ====================

def test_wasserstein_losses_and_label_form(device):
    real, fake = logits(4, device), logits(6, device, scale=3.0)
    critic = L.critic_loss_wasserstein(real, fake)
    assert np.isclose(critic.item(), fake.numpy().mean() - real.numpy().mean(), rtol=1e-12)
    g_real, g_fake = grads(critic, real, fake)
    np.testing.assert_allclose(g_real, np.full(4, -1 / 4))
    np.testing.assert_allclose(g_fake, np.full(6, 1 / 6))
    # notes 002: labels y = +1 (real), −1 (fake) with loss −E[y·D] give the same number
    labelled = -np.mean(1 * real.numpy()) - np.mean(-1 * fake.numpy())
    assert np.isclose(critic.item(), labelled, rtol=1e-12)
    gen = L.g_loss_wasserstein(fake)
    assert np.isclose(gen.item(), -fake.numpy().mean(), rtol=1e-12)
    np.testing.assert_allclose(grads(gen, fake)[0], np.full(6, -1 / 6))


def test_lsgan_losses(device):
    real, fake = logits(3, device), logits(5, device)
    r, f = real.numpy(), fake.numpy()
    d = L.d_loss_lsgan(real, fake)
    assert np.isclose(d.item(), 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2))
    g_real, g_fake = grads(d, real, fake)
    np.testing.assert_allclose(g_real, (r - 1) / 3, rtol=1e-12)
    np.testing.assert_allclose(g_fake, f / 5, rtol=1e-12)
    g = L.g_loss_lsgan(fake)
    assert np.isclose(g.item(), 0.5 * np.mean((f - 1) ** 2))
    np.testing.assert_allclose(grads(g, fake)[0], (f - 1) / 5, rtol=1e-12)


def test_hinge_losses_only_margin_samples_pull(device):
    real = minigan.tensor([2.0, 0.5, -1.0], dtype="float64", device=device, requires_grad=True)
    fake = minigan.tensor([-3.0, 0.0], dtype="float64", device=device, requires_grad=True)
    d = L.d_loss_hinge(real, fake)
    # relu(1−2)=0, relu(1−0.5)=0.5, relu(1+1)=2 -> 2.5/3; relu(1−3)=0, relu(1+0)=1 -> 1/2
    assert np.isclose(d.item(), 2.5 / 3 + 0.5)
    g_real, g_fake = grads(d, real, fake)
    np.testing.assert_allclose(g_real, [0.0, -1 / 3, -1 / 3])
    np.testing.assert_allclose(g_fake, [0.0, 1 / 2])
    g = L.g_loss_hinge(fake)
    assert np.isclose(g.item(), 1.5)
    np.testing.assert_allclose(grads(g, fake)[0], [-0.5, -0.5])


def test_patch_shaped_scores_average_over_every_element(device):
    """A PatchGAN map (N, 1, H, W) is averaged over all its elements like a batch."""
    real, fake = randn64(2, 1, 3, 3, device=device), randn64(2, 1, 3, 3, device=device)
    flat = L.d_loss_bce(real.reshape(-1), fake.reshape(-1)).item()
    assert np.isclose(L.d_loss_bce(real, fake).item(), flat, rtol=1e-12)


# ==================== finite differences, first and second order ====================

PAIRS = [L.d_loss_bce, L.critic_loss_wasserstein, L.d_loss_lsgan, L.d_loss_hinge]
SINGLES = [L.g_loss_minimax, L.g_loss_nonsaturating, L.g_loss_wasserstein, L.g_loss_lsgan,
           L.g_loss_hinge]


@pytest.mark.parametrize("loss", PAIRS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shapes", [((5,), (3,)), ((4, 1), (4, 1)), ((2, 1, 2, 3), (2, 1, 2, 3))])
def test_discriminator_losses_gradcheck(loss, shapes, device):
    real, fake = randn64(*shapes[0], device=device), randn64(*shapes[1], device=device)
    if loss is L.d_loss_hinge:  # keep finite differences off the kinks at ±1
        real.data[abs(real.data - 1) < 1e-3] += 0.1
        fake.data[abs(fake.data + 1) < 1e-3] += 0.1
    assert minigan.gradcheck(loss, [real, fake])
    assert minigan.gradgradcheck(loss, [real, fake])


@pytest.mark.parametrize("loss", SINGLES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(5,), (3, 1), (2, 1, 3, 3)])
def test_generator_losses_gradcheck(loss, shape, device):
    fake = randn64(*shape, device=device)
    assert minigan.gradcheck(loss, [fake])
    assert minigan.gradgradcheck(loss, [fake])


# ==================== gradient penalty ====================

def test_gradient_penalty_of_linear_critic_closed_form(device):
    """D(x) = x·w has ∇D = w at every x̂: GP = λ(‖w‖ − 1)², ∂GP/∂w = 2λ(‖w‖ − 1) w/‖w‖."""
    w = randn64(3, 1, device=device)
    real, fake = randn64(5, 3, device=device, requires_grad=False), \
        randn64(5, 3, device=device, requires_grad=False)
    gp, norm = L.gradient_penalty(lambda x: x @ w, real, fake, lam=10.0)
    wn = np.linalg.norm(w.numpy())
    assert np.isclose(gp.item(), 10 * (wn - 1) ** 2, rtol=1e-9)
    assert np.isclose(norm, wn, rtol=1e-9)
    (gw,) = grads(gp, w)
    np.testing.assert_allclose(gw, 2 * 10 * (wn - 1) * w.numpy() / wn, rtol=1e-7)


def test_gradient_penalty_interpolates_per_sample(device):
    """x̂ₙ = εₙxₙ + (1−εₙ)G(z)ₙ with its own εₙ ∈ [0, 1] per sample (the same for all its
    pixels); for D(x) = ½‖x‖², ∇D(x̂) = x̂ and the reported mean norm is E‖x̂‖."""
    seen = []

    def critic(x):
        seen.append(x.numpy())
        return 0.5 * (x * x).sum(axis=(1, 2, 3))

    real = randn64(6, 1, 2, 2, device=device, requires_grad=False)
    fake = randn64(6, 1, 2, 2, device=device, requires_grad=False)
    gp, norm = L.gradient_penalty(critic, real, fake, lam=1.0)
    x_hat, r, f = (a.reshape(6, -1) for a in (seen[0], real.numpy(), fake.numpy()))
    # εₙ by least squares on sample n's own segment, x̂ₙ − fₙ = εₙ(rₙ − fₙ); then x̂ₙ must lie
    # on that segment exactly (one ε for all its pixels)
    eps = ((x_hat - f) * (r - f)).sum(axis=1) / ((r - f) ** 2).sum(axis=1)
    np.testing.assert_allclose(x_hat, eps[:, None] * r + (1 - eps[:, None]) * f, atol=1e-12)
    assert ((eps >= 0) & (eps <= 1)).all()
    # one ε per sample, not one per batch: every pair differs far beyond round-off
    gaps = np.abs(eps[:, None] - eps[None, :])[~np.eye(6, dtype=bool)]
    assert gaps.min() > 1e-6, eps
    norms = np.sqrt((x_hat ** 2).sum(axis=1))
    assert np.isclose(norm, norms.mean(), rtol=1e-9)
    assert np.isclose(gp.item(), np.mean((norms - 1) ** 2), rtol=1e-9)


def test_gradient_penalty_epsilon_comes_from_the_seeded_generator(device):
    real, fake = minigan.ones(4, 2, dtype="float64"), minigan.zeros(4, 2, dtype="float64")
    seen = []

    def critic(x):
        seen.append(x.numpy())
        return (x * x).sum()

    for _ in range(2):
        minigan.manual_seed(7)
        L.gradient_penalty(critic, real.to(device), fake.to(device))
    np.testing.assert_array_equal(seen[0], seen[1])


def _mlp_critic(w1, b1, w2):
    return lambda x: (x @ w1 + b1).tanh() @ w2


def test_gradient_penalty_gradient_wrt_mlp_critic_weights(device):
    """∂GP/∂θ needs the backward of the backward (double backprop): finite differences."""
    real = randn64(4, 3, device=device, requires_grad=False)
    fake = randn64(4, 3, device=device, requires_grad=False)
    w1, b1, w2 = (randn64(3, 5, device=device), randn64(5, device=device),
                  randn64(5, 1, device=device))

    def penalty(w1, b1, w2):
        minigan.manual_seed(3)  # the same ε at every finite-difference evaluation
        return L.gradient_penalty(_mlp_critic(w1, b1, w2), real, fake, lam=10.0)[0]

    assert minigan.gradcheck(penalty, [w1, b1, w2])


def test_gradient_penalty_gradient_wrt_conv_critic_weights(device):
    real = randn64(2, 1, 5, 5, device=device, requires_grad=False)
    fake = randn64(2, 1, 5, 5, device=device, requires_grad=False)
    w1, w2 = randn64(3, 1, 3, 3, device=device), randn64(1, 3, 2, 2, device=device)

    def critic(x, w1, w2):
        h = F.conv2d(x, w1, stride=2).tanh()          # (2, 1, 5, 5) -> (2, 3, 2, 2)
        return F.conv2d(h, w2).reshape(-1)            # (2, 3, 2, 2) -> (2,)

    def penalty(w1, w2):
        minigan.manual_seed(3)
        return L.gradient_penalty(lambda x: critic(x, w1, w2), real, fake, lam=10.0)[0]

    assert minigan.gradcheck(penalty, [w1, w2])


def test_gradient_penalty_does_not_reach_the_generator(device):
    fake = randn64(3, 2, device=device)
    w = randn64(2, 1, device=device)
    gp, _ = L.gradient_penalty(lambda x: (x @ w).tanh(), randn64(3, 2, device=device), fake)
    (g_fake,) = minigan.grad(gp, [fake], allow_unused=True)
    assert g_fake is None


CRITIC_ACTIVATIONS = {
    "tanh": F.tanh,
    "leaky_relu": lambda h: F.leaky_relu(h, 0.2),   # these two have an array fast path,
    "relu": F.relu,                                 # which only the no_grad value runs
}


@pytest.mark.parametrize("activation", sorted(CRITIC_ACTIVATIONS))
def test_gradient_penalty_under_no_grad_gives_the_value_only(device, activation):
    """Under no_grad ∇D(x̂) comes from the first-order walk (the ops' fast paths), with a
    graph from their differentiable backward: the two values must agree. The critic
    x ↦ act(x W₁) W₂ has ∇D = W₁ diag(act′) W₂, which depends on every unit's slope."""
    act = CRITIC_ACTIVATIONS[activation]
    w1, w2 = randn64(2, 5, device=device), randn64(5, 1, device=device)
    real, fake = randn64(3, 2, device=device), randn64(3, 2, device=device)
    seen = []

    def critic(x):
        seen.append(x.numpy())
        return act(x @ w1) @ w2

    minigan.manual_seed(1)
    gp, norm = L.gradient_penalty(critic, real, fake)
    minigan.manual_seed(1)
    with minigan.no_grad():
        value, same_norm = L.gradient_penalty(critic, real, fake)
    assert value.creator is None and not value.requires_grad
    assert value.item() == pytest.approx(gp.item(), rel=1e-12)
    assert same_norm == pytest.approx(norm, rel=1e-12)
    h = seen[0] @ w1.numpy()                   # the hidden pre-activations at x̂
    assert (h > 0).any() and (h < 0).any()     # both sides of the kink are exercised


# ==================== bad input ====================

def test_gradient_penalty_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"same shape, found \(2, 3\) and \(3, 3\)"):
        L.gradient_penalty(lambda x: x.sum(), minigan.zeros(2, 3), minigan.zeros(3, 3))


def test_unknown_loss_family_is_an_error():
    with pytest.raises(ValueError, match="unknown GAN loss 'wgan'.*bce, minimax"):
        L.get_losses("wgan")
    assert L.get_losses("hinge") == (L.d_loss_hinge, L.g_loss_hinge)
