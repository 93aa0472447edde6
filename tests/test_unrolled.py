"""The unrolled GAN (notes 003): forward_with, the differentiable Adam step, and G's
surrogate gradient against central differences of the K-step loss (float64, tiny nets)."""
import numpy as np
import pytest

import minigan
from minigan import backend

from minigan import nn, optim
from minigan.gradcheck import GradcheckError
from minigan.models.losses import g_loss_minimax
from minigan.models.unrolled import Unrolled, adam_step, sgd_step
from minigan.nn.functional_call import forward_with
from tests.helpers import randn64


@pytest.fixture(autouse=True)
def _float64():
    """Models built and run in float64 here (their noise too): finite differences need it."""
    backend.set_default_dtype("float64")
    yield
    backend.set_default_dtype("float32")


def tiny(**options):
    """An unrolled GAN of 4-unit nets in float64, after two real steps (so D's Adam state
    is not empty), with a fixed batch and noise."""
    options = dict(dict(hidden=4, depth=2, latent_dim=2), **options)
    model = Unrolled((2,), **options)
    for _ in range(2):
        model.step({"x": randn64(6, 2, requires_grad=False)})
    real = randn64(6, 2, requires_grad=False)
    z = randn64(6, options["latent_dim"], requires_grad=False)
    return model, real, z


def objective_of_g(model, real, z):
    """G's loss −f_K as a function of G's parameters (gradcheck perturbs them in place)."""
    return lambda *params: -model.unrolled_objective(real, model.G(z))[0]


# ==================== forward_with ====================

def test_forward_with_own_parameters_is_the_forward_and_restores_them():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = minigan.randn(5, 3)
    own = dict(net.named_parameters())
    np.testing.assert_array_equal(forward_with(net, own, x).numpy(), net(x).numpy())
    doubled = {name: p * 2 for name, p in own.items()}
    assert not np.allclose(forward_with(net, doubled, x).numpy(), net(x).numpy())
    assert all(p is own[name] for name, p in net.named_parameters())
    with pytest.raises(ValueError, match=r"missing \['2.bias'\]"):
        forward_with(net, {k: v for k, v in own.items() if k != "2.bias"}, x)
    with pytest.raises(ValueError, match="'0.weight' must be a Tensor of shape"):
        forward_with(net, {**own, "0.weight": minigan.zeros(2, 2)}, x)
    assert all(p is own[name] for name, p in net.named_parameters())


@pytest.mark.parametrize("net", [
    lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)),
    lambda: nn.Sequential(nn.Conv2d(1, 2, 3, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
                          nn.Linear(8, 1)),
], ids=["mlp", "conv"])
def test_forward_with_differentiates_in_the_given_parameters(net):
    """First and second derivatives w.r.t. the substituted tensors and the input."""
    net = net().double()
    names = [name for name, _ in net.named_parameters()]
    x = randn64(2, 3) if isinstance(net[0], nn.Linear) else randn64(2, 1, 4, 4)
    params = [randn64(*p.shape) for _, p in net.named_parameters()]

    def f(x, *params):
        return forward_with(net, dict(zip(names, params)), x)

    assert minigan.gradcheck(f, [x, *params])
    assert minigan.gradgradcheck(f, [x, *params])


# ==================== the differentiable optimiser steps ====================

@pytest.mark.parametrize("steps_before", [0, 3])
def test_adam_step_is_optim_adam(steps_before):
    """θ' of ``adam_step`` from the optimiser's (m, v, t) equals optim.Adam's own update."""
    w = nn.Parameter(minigan.randn(4, 3))
    opt = optim.Adam([w], lr=0.01, betas=(0.5, 0.999))
    for _ in range(steps_before):
        w.grad = minigan.randn(4, 3)
        opt.step()
    g = minigan.randn(4, 3)
    state = opt.state.get(w)
    m, v, t = ((minigan.tensor(state["exp_avg"]), minigan.tensor(state["exp_avg_sq"]),
                state["step"]) if state else (minigan.zeros(4, 3), minigan.zeros(4, 3), 0))
    new, _, _ = adam_step(w.detach(), g, m, v, t + 1, lr=0.01, betas=(0.5, 0.999))
    w.grad = g
    opt.step()
    np.testing.assert_allclose(new.numpy(), w.numpy(), rtol=1e-6, atol=1e-7)


def test_adam_and_sgd_steps_gradcheck():
    theta, g, m = randn64(3, 2), randn64(3, 2), randn64(3, 2)
    v = minigan.tensor(np.random.default_rng(1).uniform(0.5, 2.0, (3, 2)), dtype="float64",
                       requires_grad=True)

    def adam(theta, g, m, v):
        return adam_step(theta, g, m, v, t=3, lr=0.1, betas=(0.5, 0.999))

    for check in (minigan.gradcheck, minigan.gradgradcheck):
        assert check(adam, [theta, g, m, v])
        assert check(lambda theta, g: sgd_step(theta, g, 0.1), [theta, g])


def test_adam_step_derivative_in_g_by_hand():
    """From zero moments at t = 1: θ' = θ − γ·g/(|g| + ε(1)) ≈ θ − γ sign(g), so ∂θ'/∂g =
    −γε/(|g| + ε)² — tiny, the docstring's formula with m' = (1−β₁)g, v' = (1−β₂)g²."""
    b1, b2, lr, eps = 0.5, 0.999, 0.1, 1e-3
    g = minigan.tensor([0.3, -2.0], dtype="float64", requires_grad=True)
    zero = minigan.zeros(2, dtype="float64")
    new, _, _ = adam_step(zero, g, zero, zero, t=1, lr=lr, betas=(b1, b2), eps=eps)
    (dg,) = minigan.grad(new.sum(), g)
    gv = g.numpy()
    np.testing.assert_allclose(dg.numpy(), -lr * eps / (np.abs(gv) + eps) ** 2, rtol=1e-6)


# ==================== the surrogate gradient ====================

@pytest.mark.parametrize("unroll, d_optimizer", [(1, "adam"), (2, "adam"), (3, "adam"),
                                                  (2, "sgd")])
def test_surrogate_gradient_matches_finite_differences_of_the_k_step_loss(unroll, d_optimizer):
    """∇_G of −f_K (through the K differentiable D updates) = central differences of the
    K-step loss as a function of G's parameters."""
    lr = 0.05 if d_optimizer == "adam" else 0.5   # steps large enough to matter
    model, real, z = tiny(unroll=unroll, d_optimizer=d_optimizer, d_lr=lr)
    assert minigan.gradcheck(objective_of_g(model, real, z), list(model.G.parameters()),
                             atol=1e-7, rtol=1e-4)


def test_first_order_gradient_is_not_the_k_step_gradient():
    """The first-order surrogate drops (∂θ_D^K/∂θ_G)ᵀ∂f/∂θ_D: finite differences of f_K
    disagree with it, and it points elsewhere than the exact gradient."""
    model, real, z = tiny(unroll=2, d_lr=0.05, first_order=True)
    with pytest.raises(GradcheckError):
        minigan.gradcheck(objective_of_g(model, real, z), list(model.G.parameters()),
                          atol=1e-7, rtol=1e-4)
    exact = model.generator_gradient(real, z, first_order=False)
    first = model.generator_gradient(real, z, first_order=True)
    assert 0.0 < exact @ first / np.linalg.norm(exact) / np.linalg.norm(first) < 0.9999


def test_surrogate_gradient_second_order():
    """gradgradcheck of −f_1 w.r.t. G's parameters: the surrogate's gradient (built with
    create_graph) is itself differentiable, third order through D's update."""
    model, real, z = tiny(unroll=1, d_lr=0.05, hidden=3)
    assert minigan.gradgradcheck(objective_of_g(model, real, z),
                                 list(model.G.parameters())[-2:], atol=1e-6, rtol=1e-3)


def test_k0_is_the_minimax_gradient_and_d_update_does_not_depend_on_k():
    """K = 0: ∇_G(−f_0) = ∇_G E log(1 − D(G(z))). For every K, D's own update is one
    plain step on its loss at θ_D⁰, the same for K = 0 and K = 3 from the same state (to
    rounding: with K > 0 its gradient is built as a graph, in another order)."""
    model, real, z = tiny(unroll=0)
    expected = minigan.grad(g_loss_minimax(model.D(model.G(z))), list(model.G.parameters()))
    np.testing.assert_allclose(model.generator_gradient(real, z),
                               np.concatenate([g.numpy().ravel() for g in expected]),
                               rtol=1e-12, atol=1e-15)
    after = {}
    state = model.state_dict()
    for unroll in (0, 3):
        again = Unrolled((2,), hidden=4, depth=2, latent_dim=2, unroll=unroll)
        again.load_state_dict(state)
        minigan.manual_seed(5)               # the same noise batch
        again.step({"x": real})
        after[unroll] = [p.numpy().copy() for p in again.D.parameters()]
    for a, b in zip(after[0], after[3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
