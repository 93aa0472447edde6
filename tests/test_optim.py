"""minigan.optim: SGD, Adam, RMSprop against hand-derived steps and a NumPy re-implementation
written straight from PyTorch's pseudo-code; state dict round trips are bit-exact."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan
from minigan import backend, nn, optim


def _param(values, device="cpu", dtype="float64"):
    return nn.Parameter(minigan.tensor(values, dtype=dtype, device=device))


def _set_grad(p, values):
    p.grad = minigan.tensor(values, dtype=p.dtype, device=p.device)


# ==================== NumPy references from the pseudo-code ====================

def reference_sgd(theta, grads, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
    theta, b = theta.copy(), None
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * theta
        if momentum != 0:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
    return theta


def reference_adam(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                   amsgrad=False):
    beta1, beta2 = betas
    theta = theta.copy()
    m = v = v_max = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        if amsgrad:  # PyTorch's code keeps the maximum of the raw v, then corrects it
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2 ** t)
        else:
            v_hat = v / (1 - beta2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def reference_rmsprop(theta, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                      centered=False):
    theta = theta.copy()
    v = g_ave = b = np.zeros_like(theta)
    for g in grads:
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g ** 2
        v_tilde = v
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v_tilde - g_ave ** 2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
    return theta


def _run(make_optimizer, theta, grads, device):
    p = _param(theta, device)
    opt = make_optimizer([p])
    for g in grads:
        _set_grad(p, g)
        opt.step()
    return p.numpy()


def _gradients(steps=6, n=5, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n), [rng.standard_normal(n) * 3 for _ in range(steps)]


# ==================== SGD ====================

def test_sgd_first_steps_by_hand():
    p = _param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    _set_grad(p, [1.0, 1.0])
    opt.step()  # b = g (no dampening at t = 1): θ = θ − 0.1 g
    np.testing.assert_allclose(p.numpy(), [0.9, -2.1])
    _set_grad(p, [2.0, 0.0])
    opt.step()  # b = 0.9 · 1 + 0.5 · g = [1.9, 0.9]
    np.testing.assert_allclose(p.numpy(), [0.9 - 0.19, -2.1 - 0.09])


@pytest.mark.parametrize("options", [
    dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.8, nesterov=True), dict(lr=0.1, weight_decay=0.01, momentum=0.5)])
def test_sgd_matches_reference(device, options):
    theta, grads = _gradients()
    got = _run(lambda ps: optim.SGD(ps, **options), theta, grads, device)
    np.testing.assert_allclose(got, reference_sgd(theta, grads, **options), rtol=1e-12)


def test_sgd_checks_nesterov():
    with pytest.raises(ValueError, match="Nesterov momentum needs momentum > 0 and dampening "
                       "= 0, found momentum=0"):
        optim.SGD([_param([1.0])], lr=0.1, nesterov=True)


# ==================== Adam ====================

@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3), min_size=1, max_size=6),
       st.floats(1e-4, 1.0))
def test_adam_first_step_is_minus_lr_sign_g(g, lr):
    # m̂₁ = g and √v̂₁ = |g|, so Δθ = −lr · g / (|g| + ε) = −lr · sign(g) up to ε/|g| ≤ 1e-5
    p = _param(np.zeros(len(g)))
    opt = optim.Adam([p], lr=lr)
    _set_grad(p, g)
    opt.step()
    np.testing.assert_allclose(p.numpy(), -lr * np.sign(g), rtol=1e-5)


@pytest.mark.parametrize("options", [
    dict(), dict(lr=2e-4, betas=(0.5, 0.999)), dict(lr=1e-2, weight_decay=0.1),
    dict(lr=1e-2, amsgrad=True), dict(lr=1e-2, eps=1e-3, betas=(0.0, 0.9))])
def test_adam_matches_reference(device, options):
    theta, grads = _gradients(steps=8)
    grads[4] = grads[4] * 10  # a spike, so amsgrad's maximum differs from v
    got = _run(lambda ps: optim.Adam(ps, **options), theta, grads, device)
    np.testing.assert_allclose(got, reference_adam(theta, grads, **options), rtol=1e-10)


def test_adam_checks_betas():
    with pytest.raises(ValueError, match=r"Invalid betas: expected two numbers in \[0, 1\)"):
        optim.Adam([_param([1.0])], betas=(0.9, 1.0))


# ==================== RMSprop ====================

@pytest.mark.parametrize("options", [
    dict(), dict(lr=5e-5), dict(momentum=0.9), dict(centered=True),
    dict(centered=True, momentum=0.5, weight_decay=0.01, alpha=0.9)])
def test_rmsprop_matches_reference(device, options):
    theta, grads = _gradients()
    got = _run(lambda ps: optim.RMSprop(ps, **options), theta, grads, device)
    np.testing.assert_allclose(got, reference_rmsprop(theta, grads, **options), rtol=1e-10)


def test_rmsprop_first_step_by_hand():
    # v = (1 − α) g², so Δθ = −lr · g / (√(1 − α) |g| + ε) = −lr · sign(g) / √(1 − α)
    p = _param([0.0, 0.0])
    opt = optim.RMSprop([p], lr=0.01, alpha=0.96)
    _set_grad(p, [3.0, -0.5])
    opt.step()
    np.testing.assert_allclose(p.numpy(), [-0.05, 0.05], rtol=1e-6)


# ==================== shared behaviour ====================

@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps, lr=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5)])
def test_converges_on_a_quadratic(make):
    # f(θ) = ½ (θ − c)ᵀ A (θ − c), minimum at c
    a = minigan.tensor(np.diag([1.0, 4.0, 0.5]), dtype="float64")
    c = minigan.tensor([1.0, -2.0, 3.0], dtype="float64")
    theta = _param([0.0, 0.0, 0.0])
    opt = make([theta])
    for _ in range(600):
        opt.zero_grad()
        d = theta - c
        (0.5 * (d @ a @ d)).backward()
        opt.step()
    np.testing.assert_allclose(theta.numpy(), c.numpy(), atol=1e-3)


def test_param_groups_have_their_own_hyperparameters():
    fast, slow = _param([1.0]), _param([1.0])
    opt = optim.SGD([{"params": [fast], "lr": 1.0}, {"params": [slow]}], lr=0.1)
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0
    _set_grad(fast, [1.0])
    _set_grad(slow, [1.0])
    opt.step()
    assert fast.numpy().tolist() == [0.0] and slow.numpy().tolist() == [0.9]
    opt.param_groups[1]["lr"] = 0.5  # schedules change a group's lr in place
    opt.step()
    assert slow.numpy().tolist() == [0.4]


def test_parameters_without_grad_are_skipped_and_zero_grad_clears():
    a, b = _param([1.0]), _param([1.0])
    opt = optim.Adam([a, b], lr=0.1)
    _set_grad(a, [1.0])
    opt.step()
    assert b.numpy().tolist() == [1.0] and b not in opt.state and a in opt.state
    opt.zero_grad()
    assert a.grad is None
    _set_grad(a, [1.0])
    opt.zero_grad(set_to_none=False)
    assert a.grad.numpy().tolist() == [0.0]


def test_step_records_no_graph_and_keeps_arrays():
    net = nn.Linear(3, 2)
    arrays = [p.data for p in net.parameters()]
    opt = optim.Adam(net.parameters())
    net(minigan.randn(4, 3)).sum().backward()
    opt.step()
    assert [p.data for p in net.parameters()] == arrays  # updated in place
    assert all(p.is_leaf and p.requires_grad for p in net.parameters())


def test_closure_is_evaluated_with_gradients():
    p = _param([2.0])
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with minigan.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0 and p.numpy().tolist() == [1.0]  # 2 − 0.25 · 4


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid lr value: -1"):
        optim.Adam([_param([1.0])], lr=-1)
    p = _param([1.0])
    with pytest.raises(ValueError, match="appears in more than one place"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="only optimize leaf tensors"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="found a single Tensor; wrap it in a list"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match=r"unknown hyperparameter\(s\) \['betas'\] for SGD"):
        optim.SGD([{"params": [p], "betas": (0.5, 0.9)}], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors.*ndarray"):
        optim.SGD([np.zeros(2)], lr=0.1)


# ==================== state dicts ====================

OPTIMIZERS = [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=2e-3, betas=(0.5, 0.999), amsgrad=True),
    lambda ps: optim.RMSprop(ps, lr=1e-3, centered=True, momentum=0.3)]


def _train(net, opt, batches):
    for x in batches:
        opt.zero_grad()
        (net(x) ** 2).mean().backward()
        opt.step()


def _mlp(device, seed):
    minigan.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1)).to(device)


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_state_dict_round_trip_is_bit_exact(device, make):
    # N steps + save + load into a fresh model and optimizer + N steps == 2N steps
    batches = [minigan.randn(8, 4, device=device) for _ in range(10)]
    straight = _mlp(device, seed=1)
    _train(straight, make(list(straight.parameters())), batches)

    first = _mlp(device, seed=1)
    first_opt = make(list(first.parameters()))
    _train(first, first_opt, batches[:5])
    model_state = {k: v.numpy().copy() for k, v in first.state_dict().items()}
    opt_state = first_opt.state_dict()

    resumed = _mlp(device, seed=2)
    resumed.load_state_dict(model_state)
    resumed_opt = make(list(resumed.parameters()))
    resumed_opt.load_state_dict(opt_state)
    _train(resumed, resumed_opt, batches[5:])
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert np.array_equal(a.numpy(), b.numpy())


def test_state_dict_is_a_snapshot():
    p = _param([1.0, 2.0])
    opt = optim.Adam([p])
    _set_grad(p, [1.0, -1.0])
    opt.step()
    saved = opt.state_dict()
    exp_avg = saved["state"][0]["exp_avg"].numpy().copy()
    opt.step()
    assert saved["state"][0]["step"] == 1
    assert np.array_equal(saved["state"][0]["exp_avg"].numpy(), exp_avg)


def test_state_dict_layout_is_pytorch_like():
    a, b = _param([1.0, 2.0]), _param([3.0])
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}])
    _set_grad(a, [1.0, 1.0])
    opt.step()
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1]["lr"] == 0.5
    assert state["param_groups"][0]["betas"] == (0.9, 0.999)
    assert list(state["state"]) == [0]  # b has no state yet
    assert state["state"][0]["step"] == 1
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    np.testing.assert_allclose(state["state"][0]["exp_avg"].numpy(), [0.1, 0.1])


def test_load_state_dict_restores_hyperparameters_and_casts():
    p = _param([1.0, 2.0], dtype="float32")
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    state = {"state": {0: {"momentum_buffer": np.array([1.0, 2.0])}},
             "param_groups": [{"lr": 0.5, "momentum": 0.9, "dampening": 0,
                               "weight_decay": 0, "nesterov": False, "params": [0]}]}
    opt.load_state_dict(state)
    assert opt.param_groups[0]["lr"] == 0.5
    buffer = opt.state[p]["momentum_buffer"]
    assert buffer.dtype == np.float32 and buffer.tolist() == [1.0, 2.0]
    state["state"][0]["momentum_buffer"][0] = 99  # loading copied, not aliased
    assert opt.state[p]["momentum_buffer"][0] == 1.0


def test_load_state_dict_mismatches_are_clear_errors():
    p, q = _param([1.0]), _param([1.0, 2.0])
    opt = optim.Adam([p, q])
    two_groups = optim.Adam([{"params": [p]}, {"params": [q]}]).state_dict()
    with pytest.raises(ValueError, match=r"has 2 parameter group\(s\), but the optimizer has 1"):
        opt.load_state_dict(two_groups)
    one_param = optim.Adam([p]).state_dict()
    with pytest.raises(ValueError, match="group 0: loaded state dict has 1 parameters, the "
                       "optimizer has 2"):
        opt.load_state_dict(one_param)
    swapped = optim.Adam([q, p])
    _set_grad(q, [1.0, 1.0])
    swapped.step()
    with pytest.raises(ValueError, match=r"'exp_avg' has shape \(2,\), but its parameter has "
                       r"shape \(1,\)"):
        opt.load_state_dict(swapped.state_dict())


def test_cuda_state_moves_with_parameters(device):
    p = _param([1.0, -1.0], device=device)
    opt = optim.Adam([p])
    _set_grad(p, [1.0, 1.0])
    opt.step()
    assert backend.device_of(opt.state[p]["exp_avg"]) == device
    assert math.isclose(float(opt.state[p]["exp_avg"][0]), 0.1)
