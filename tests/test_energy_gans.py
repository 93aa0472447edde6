"""EBGAN's and BEGAN's losses (notes 003) against hand derivations and finite differences,
and the two models' own rules: the pull-away term's square, k_t's control, k_t's resume."""
import os

import numpy as np
import pytest

import minigan
from minigan.models import losses as L
from minigan.models.began import BEGAN
from minigan.models.ebgan import EBGAN
from tests.helpers import randn64


def squared_cosines_by_loops(s):
    """The pull-away term straight from its definition, with loops (the slow oracle)."""
    n = len(s)
    total = 0.0
    for i in range(n):
        for j in range(n):
            if i != j:
                total += (s[i] @ s[j] / (np.linalg.norm(s[i]) * np.linalg.norm(s[j]))) ** 2
    return total / (n * (n - 1))


# ==================== reconstruction energy ====================

@pytest.mark.parametrize("p", [1, 2])
def test_reconstruction_energy_value_and_gradients(p):
    r, x = randn64(3, 1, 2, 2), randn64(3, 1, 2, 2)
    expected = (np.abs(r.numpy() - x.numpy()) ** p).reshape(3, -1).mean(axis=1)
    np.testing.assert_allclose(L.reconstruction_energy(r, x, p).numpy(), expected, rtol=1e-12)
    assert minigan.gradcheck(lambda r, x: L.reconstruction_energy(r, x, p), [r, x])
    assert minigan.gradgradcheck(lambda r, x: L.reconstruction_energy(r, x, p), [r, x])
    with pytest.raises(ValueError, match="p must be 1 or 2"):
        L.reconstruction_energy(r, x, 3)


# ==================== EBGAN's margin loss ====================

def test_ebgan_margin_loss_gradient_by_hand():
    """∂L_D/∂E(x_i) = 1/N; ∂L_D/∂E(G(z_j)) = −1/N below the margin, 0 at or above it."""
    real = minigan.tensor([0.2, 0.7, 0.1], dtype="float64", requires_grad=True)
    fake = minigan.tensor([0.5, 1.5, 0.9, 3.0], dtype="float64", requires_grad=True)
    loss = L.d_loss_ebgan(real, fake, margin=1.0)
    assert np.isclose(loss.item(), np.mean([0.2, 0.7, 0.1]) + np.mean([0.5, 0, 0.1, 0]))
    g_real, g_fake = minigan.grad(loss, [real, fake])
    np.testing.assert_allclose(g_real.numpy(), [1 / 3] * 3)
    np.testing.assert_allclose(g_fake.numpy(), [-1 / 4, 0, -1 / 4, 0])


@pytest.mark.parametrize("n_real, n_fake", [(2, 3), (5, 1)])
def test_ebgan_margin_loss_gradcheck(n_real, n_fake):
    real = randn64(n_real)
    fake = minigan.tensor(np.linspace(0.1, 2.3, n_fake) + 0.05, dtype="float64",
                          requires_grad=True)   # none exactly at the kink m = 1.2

    def loss(real, fake):
        return L.d_loss_ebgan(real, fake, margin=1.2)

    assert minigan.gradcheck(loss, [real, fake])
    assert minigan.gradgradcheck(loss, [real, fake])


# ==================== the pull-away term ====================

@pytest.mark.parametrize("n, d", [(2, 3), (5, 4), (7, 2)])
def test_pull_away_term_is_the_mean_squared_cosine(n, d):
    s = randn64(n, d)
    assert np.isclose(L.pull_away_term(s).item(), squared_cosines_by_loops(s.numpy()),
                      rtol=1e-12)
    assert minigan.gradcheck(L.pull_away_term, [s])
    assert minigan.gradgradcheck(L.pull_away_term, [s])


def test_pull_away_term_squares_the_cosines():
    """Antiparallel codes are as collapsed as parallel ones: f_PT = 1 for both (a mean
    cosine without the square would give −1 and 1); orthogonal codes give 0; every value
    lies in [0, 1] and ignores each code's length."""
    for codes, expected in (([[1.0, 0.0], [-3.0, 0.0]], 1.0), ([[1.0, 0.0], [2.0, 0.0]], 1.0),
                            ([[1.0, 0.0], [0.0, 5.0]], 0.0),
                            ([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], 1 / 3)):
        s = minigan.tensor(codes, dtype="float64")
        assert np.isclose(L.pull_away_term(s).item(), expected, atol=1e-12), codes
    s = randn64(6, 3)
    scaled = minigan.tensor(s.numpy() * np.arange(1, 7)[:, None], dtype="float64")
    value = L.pull_away_term(s).item()
    assert 0 <= value <= 1 and np.isclose(L.pull_away_term(scaled).item(), value)


def test_pull_away_term_gradient_by_hand():
    """∂f_PT/∂s_i = 4/(N(N−1)) Σ_{j≠i} c_ij (I − ŝ_iŝ_iᵀ) ŝ_j / ‖s_i‖."""
    s = randn64(4, 3)
    (g,) = minigan.grad(L.pull_away_term(s), s)
    v = s.numpy()
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    u = v / norms
    c = u @ u.T
    n = len(v)
    expected = np.zeros_like(v)
    for i in range(n):
        projector = np.eye(3) - np.outer(u[i], u[i])
        for j in range(n):
            if j != i:
                expected[i] += c[i, j] * projector @ u[j] / norms[i, 0]
    np.testing.assert_allclose(g.numpy(), 4 / (n * (n - 1)) * expected, rtol=1e-9)


# ==================== BEGAN ====================

def test_began_d_loss_gradient_by_hand():
    real, fake = randn64(3), randn64(2)
    g_real, g_fake = minigan.grad(L.d_loss_began(real, fake, k=0.3), [real, fake])
    np.testing.assert_allclose(g_real.numpy(), [1 / 3] * 3)
    np.testing.assert_allclose(g_fake.numpy(), [-0.3 / 2] * 2)
    assert minigan.gradgradcheck(lambda r, f: L.d_loss_began(r, f, k=0.3), [real, fake])


def test_began_balance_fixed_point_direction_and_clip():
    # L(G) = γ L(x): k does not move, whatever k is
    for k in (0.0, 0.4, 1.0):
        assert L.began_balance(k, 2.0, 1.0, gamma=0.5, lambda_k=0.01) == k
    # G wins (L(G) below γ L(x)): k grows by λ_k(γL(x) − L(G)); D wins: it shrinks
    assert np.isclose(L.began_balance(0.4, 2.0, 0.6, gamma=0.5, lambda_k=0.01), 0.404)
    assert np.isclose(L.began_balance(0.4, 2.0, 1.6, gamma=0.5, lambda_k=0.01), 0.394)
    assert L.began_balance(0.001, 1.0, 5.0, gamma=0.5, lambda_k=0.01) == 0.0
    assert L.began_balance(0.999, 5.0, 0.0, gamma=0.5, lambda_k=0.01) == 1.0
    assert L.began_convergence(2.0, 1.0, gamma=0.5) == 2.0
    assert L.began_convergence(2.0, 1.5, gamma=0.5) == 2.5


def small(cls, **options):
    return cls((1, 28, 28), width=4, code=6, latent_dim=5, **options)


def digits(n=8):
    return {"x": minigan.rand(n, 1, 28, 28) * 2 - 1}


def test_began_step_updates_k_by_its_rule():
    model = small(BEGAN, gamma=0.7, lambda_k=0.05)
    k = 0.0
    for _ in range(3):
        logs = model.step(digits())
        k = min(max(k + 0.05 * (0.7 * logs["E(x)"] - logs["E(G(z))"]), 0.0), 1.0)
        assert model.k == logs["k"] and np.isclose(model.k, k, rtol=0, atol=1e-15)
        assert np.isclose(logs["ratio"], logs["E(G(z))"] / logs["E(x)"])
        assert np.isclose(logs["M_global"],
                          logs["E(x)"] + abs(0.7 * logs["E(x)"] - logs["E(G(z))"]))


def test_began_k_survives_a_checkpoint_bit_for_bit(tmp_path):
    model = small(BEGAN)
    model.step(digits())
    model.k = 0.1 + 1 / 3          # a float with a long binary expansion
    path = os.fspath(tmp_path / "state.npz")
    minigan.save(model.state_dict(), path)
    again = small(BEGAN)
    again.load_state_dict(minigan.load(path))
    assert again.k == model.k
    batch = digits()
    rng = minigan.backend.get_rng_state()
    logs = model.step(batch)
    minigan.backend.set_rng_state(rng)
    assert again.step(batch) == logs
    state = model.state_dict()
    del state["balance"]
    with pytest.raises(ValueError, match="no balance"):
        again.load_state_dict(state)


def learning_rates(model):
    return {group["lr"] for optimizer in model.optimizers.values()
            for group in optimizer.param_groups}


def test_began_lr_halving_follows_its_formula_and_survives_a_checkpoint(tmp_path):
    # lr_t = lr · 2^−⌊t / 2⌋ for the step after t steps: 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4
    model = small(BEGAN, lr=1e-3, lr_halving=2)
    for expected in (1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4):
        model.step(digits())
        assert learning_rates(model) == {expected}
    # a resumed model knows its step count, so its next step is the sixth's: still 2.5e-4,
    # then 1.25e-4
    path = os.fspath(tmp_path / "state.npz")
    minigan.save(model.state_dict(), path)
    again = small(BEGAN, lr=1e-3, lr_halving=2)
    again.load_state_dict(minigan.load(path))
    for expected in (2.5e-4, 1.25e-4):
        again.step(digits())
        assert learning_rates(again) == {expected}
    constant = small(BEGAN, lr=1e-3, lr_halving=0)     # the lr never changes
    for _ in range(3):
        constant.step(digits())
    assert learning_rates(constant) == {1e-3}


def test_ebgan_generator_loss_adds_the_weighted_pull_away_term():
    energies, codes = randn64(4) ** 2, randn64(4, 3)
    expected_pt = squared_cosines_by_loops(codes.numpy())
    for weight in (0.0, 0.1):
        loss, logs = small(EBGAN, pt_weight=weight).generator_loss(energies, codes)
        assert np.isclose(loss.item(), energies.numpy().mean() + weight * expected_pt)
        assert np.isclose(logs["pt"], expected_pt)


def test_ebgan_discriminator_sees_fakes_only_below_the_margin():
    """A fake batch far above the margin gives D's weights no gradient from the fakes:
    L_D's gradient is that of E_x[E(x)] alone."""
    model = small(EBGAN, margin=1e-6)
    x, fake = digits(4)["x"], digits(4)["x"] * 0 + 1   # constant images: high energy
    e_real, _ = model.energy(x)
    e_fake, _ = model.energy(fake)
    assert float(e_fake.data.min()) > 1e-6
    params = list(model.D.parameters())
    full = minigan.grad(model.discriminator_loss(e_real, e_fake)[0], params,
                        allow_unused=True)
    e_real, _ = model.energy(x)
    real_only = minigan.grad(e_real.mean(), params)
    for a, b in zip(full, real_only):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
