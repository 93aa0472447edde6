"""The graph walk of minigan/autograd.py and the Tensor API around it: shared nodes,
diamonds, accumulation, long chains, freed graphs, grad(), higher-order derivatives (a
Hessian-vector product and WGAN-GP's gradient penalty, both against finite differences),
no_grad, and the errors a user meets first."""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from minigan import Function
from tests.helpers import leaf, randn64


class LoggingIdentity(Function):
    """y = x; appends each gradient its backward receives to ``log`` (a list kept outside,
    since the walk frees the Function's own state)."""

    def __init__(self, log):
        self.log = log

    def forward(self, x):
        return x

    def backward(self, gy):
        self.log.append(gy.numpy().copy())
        return gy


# ==================== the walk ====================

def test_node_used_twice_sums_its_gradients(device):
    x_np = np.array([1.5, -2.0, 0.25])
    x = leaf(x_np, device)
    (x * x + x).sum().backward()  # d/dx (x² + x) = 2x + 1
    np.testing.assert_allclose(x.grad.numpy(), 2 * x_np + 1)


def test_diamond_runs_each_backward_once_with_the_full_gradient(device):
    x = leaf([0.5], device)
    received = []
    a = LoggingIdentity(received)(x)
    b, c = a * 2.0, a.exp()       # two paths from a ...
    y = (b * c + c).sum()         # ... that meet again
    y.backward()
    # y = 2a·eᵃ + eᵃ, dy/da = 2eᵃ + 2a·eᵃ + eᵃ, all of it delivered to a in one call
    expected = 3 * np.exp(0.5) + 2 * 0.5 * np.exp(0.5)
    assert len(received) == 1
    assert received[0].item() == pytest.approx(expected, rel=1e-14)
    assert x.grad.item() == pytest.approx(expected, rel=1e-14)


def test_two_level_diamond(device):
    x = leaf([0.3, -0.7], device)
    a = x * x              # a = x²
    b, c = a * 3.0, a * a  # b = 3x², c = x⁴
    d = b + c
    e, f = d.exp(), d * d
    (e + f).sum().backward()
    x_np, d_np = x.numpy(), 3 * x.numpy() ** 2 + x.numpy() ** 4
    dd_dx = 6 * x_np + 4 * x_np ** 3
    np.testing.assert_allclose(x.grad.numpy(), (np.exp(d_np) + 2 * d_np) * dd_dx, rtol=1e-13)


def test_gradients_accumulate_over_backward_calls_like_pytorch(device):
    x_np = np.array([1.0, -2.0])
    x = leaf(x_np, device)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x_np + 3)
    x.grad = None  # what zero_grad does
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_a_10000_op_chain_backward_has_no_recursion_error():
    x = leaf([2.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-9)


def test_backward_with_an_explicit_gradient(device):
    x = leaf([1.0, 2.0, 3.0], device)
    g = np.array([0.5, -1.0, 2.0])
    (x * x).backward(leaf(g, device, False))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * g)


def test_the_gradient_of_a_sum_of_graphs_reaches_only_the_leaves_that_need_it():
    a, b = leaf([1.0]), leaf([2.0], requires_grad=False)
    (a * b).sum().backward()
    assert a.grad.item() == 2.0
    assert b.grad is None


# ==================== errors of the walk ====================

def test_non_scalar_backward_needs_a_gradient():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(RuntimeError, match=r"non-scalar output \(shape \(2,\)\) needs a "
                                           "gradient"):
        y.backward()


def test_gradient_of_the_wrong_shape_is_refused():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has "
                                           r"shape \(2,\)"):
        y.backward(np.ones(3))


def test_backward_on_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (leaf([1.0], requires_grad=False) * 2.0).backward()


def test_second_backward_through_a_freed_graph_mentions_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        minigan.grad(y, x)


def test_retain_graph_allows_a_second_walk():
    x_np = np.array([1.0, 2.0])
    x = leaf(x_np)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * x_np))


def test_a_broken_backward_of_the_wrong_shape_is_named():
    class ForgetsToBroadcast(Function):
        """y = Σ over axis 0; the backward forgets to broadcast gy back to x's shape."""

        def forward(self, x):
            return x.sum(axis=0)

        def backward(self, gy):
            return gy

    x = leaf(np.ones((2, 3)))
    with pytest.raises(AssertionError, match=r"ForgetsToBroadcast.backward returned a "
                                             r"gradient of shape \(3,\) for an input of "
                                             r"shape \(2, 3\)"):
        ForgetsToBroadcast()(x).sum().backward()


# ==================== grad() ====================

def test_grad_returns_without_accumulating():
    x = leaf([1.0, 2.0])
    (gx,) = minigan.grad((x * x * x).sum(), x)
    np.testing.assert_allclose(gx.numpy(), 3 * x.numpy() ** 2)
    assert x.grad is None


def test_grad_with_respect_to_a_non_leaf():
    x = leaf([1.0, -2.0])
    h = x * 3.0
    gh, gx = minigan.grad((h * h).sum(), [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())         # ∂/∂h h² = 2h
    np.testing.assert_allclose(gx.numpy(), 2 * h.numpy() * 3.0)   # chain rule through h


def test_grad_allow_unused():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\) was not used.*"
                                           "allow_unused=True"):
        minigan.grad(y, [x, unused], retain_graph=True)
    gx, gu = minigan.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert gu is None


def test_grad_of_several_outputs_is_the_sum_of_vector_jacobian_products():
    x = leaf([1.0, 2.0])
    y1, y2 = x * x, x * 3.0
    v1, v2 = np.array([1.0, -1.0]), np.array([0.5, 2.0])
    (gx,) = minigan.grad([y1, y2], x, grad_outputs=[leaf(v1, requires_grad=False),
                                                    leaf(v2, requires_grad=False)])
    np.testing.assert_allclose(gx.numpy(), v1 * 2 * x.numpy() + v2 * 3.0)


def test_grad_needs_inputs_that_require_grad():
    x = leaf([1.0], requires_grad=False)
    with pytest.raises(RuntimeError, match=r"input 0 \(shape \(1,\)\) does not require grad"):
        minigan.grad(x * 2.0, x)


# ==================== higher order ====================

def test_create_graph_gives_differentiable_gradients():
    x = leaf([3.0])
    (gx,) = minigan.grad(x * x * x, x, create_graph=True)
    (ggx,) = minigan.grad(gx, x, create_graph=True)
    (gggx,) = minigan.grad(ggx, x)
    assert (gx.item(), ggx.item(), gggx.item()) == (27.0, 18.0, 6.0)  # 3x², 6x, 6


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = leaf([1.0, 2.0])
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.creator is not None
    grad_sum = x.grad.sum()
    x.grad = None
    grad_sum.backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, 2.0]))


def test_hessian_vector_product_against_finite_differences(device):
    """f(x) = Σ xᵢ³ + (Σ xᵢ)² + Σ tanh(xᵢ): ∇f = 3x² + 2Σx + (1 − tanh²x). Hv by double
    backprop vs (∇f(x + εv) − ∇f(x − εv)) / 2ε, and vs H = diag(6x − 2 tanh x (1 − tanh² x))
    + 2·11ᵀ."""
    x_np = np.array([0.5, -1.0, 2.0, 0.1])
    v_np = np.array([1.0, 0.5, -2.0, 3.0])

    def gradient(z):
        return 3 * z ** 2 + 2 * z.sum() + (1 - np.tanh(z) ** 2)

    x, v = leaf(x_np, device), leaf(v_np, device, False)
    f = (x * x * x).sum() + x.sum() * x.sum() + x.tanh().sum()
    (g,) = minigan.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), gradient(x_np), rtol=1e-12)
    (hv,) = minigan.grad((g * v).sum(), x)
    eps = 1e-6
    numeric = (gradient(x_np + eps * v_np) - gradient(x_np - eps * v_np)) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), numeric, rtol=1e-6)
    t = np.tanh(x_np)
    hessian = np.diag(6 * x_np - 2 * t * (1 - t ** 2)) + 2 * np.ones((4, 4))
    np.testing.assert_allclose(hv.numpy(), hessian @ v_np, rtol=1e-12)


def test_gradient_penalty_of_an_mlp_against_finite_differences(device):
    """WGAN-GP's mechanism (notes 002): GP(θ) = mean over n of (‖∂D(xₙ)/∂xₙ‖ − 1)² for the
    critic D(x) = w₂ · tanh(W₁x + b₁) + b₂, differentiated w.r.t. θ = (W₁, b₁, w₂) by double
    backprop, against central differences of GP computed in NumPy from the closed form
    ∂D/∂x = W₁ᵀ (w₂ ⊙ (1 − tanh²(W₁x + b₁)))."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((3, 2))
    params_np = {"W1": rng.standard_normal((4, 2)), "b1": rng.standard_normal(4),
                 "w2": rng.standard_normal(4), "b2": rng.standard_normal(())}

    def input_gradients(p):
        t = np.tanh(x_np @ p["W1"].T + p["b1"])  # (N, H)
        return (p["w2"] * (1 - t ** 2)) @ p["W1"]   # (N, H) @ (H, D) -> (N, D)

    def penalty(p):
        return ((np.linalg.norm(input_gradients(p), axis=1) - 1) ** 2).mean()

    x = leaf(x_np, device)
    params = {k: leaf(v, device) for k, v in params_np.items()}
    scores = (x @ params["W1"].T + params["b1"]).tanh() @ params["w2"] + params["b2"]  # (N,)
    (gx,) = minigan.grad(scores.sum(), x, create_graph=True)  # samples are independent
    np.testing.assert_allclose(gx.numpy(), input_gradients(params_np), rtol=1e-12)
    gp = (((gx * gx).sum(1).sqrt() - 1) ** 2).mean()
    assert gp.item() == pytest.approx(penalty(params_np), rel=1e-12)

    names = ["W1", "b1", "w2"]
    analytic = minigan.grad(gp, [params[k] for k in names])
    eps = 1e-6
    for name, g in zip(names, analytic):
        numeric = np.zeros(params_np[name].shape)
        for i in np.ndindex(numeric.shape):
            plus = {k: v.copy() for k, v in params_np.items()}
            minus = {k: v.copy() for k, v in params_np.items()}
            plus[name][i] += eps
            minus[name][i] -= eps
            numeric[i] = (penalty(plus) - penalty(minus)) / (2 * eps)
        np.testing.assert_allclose(g.numpy(), numeric, rtol=1e-5, atol=1e-8, err_msg=name)


# ==================== recording on and off ====================

def test_no_grad_builds_no_graph():
    x = leaf([1.0, 2.0])
    with minigan.no_grad():
        y = x * 2.0
        assert not minigan.is_grad_enabled()
    assert y.creator is None and not y.requires_grad
    assert minigan.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = leaf([1.0, 2.0])
    with minigan.no_grad():
        with minigan.enable_grad():
            y = x * 2.0
        z = x * 2.0
    assert y.creator is not None and y.requires_grad
    assert z.creator is None


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with minigan.no_grad():
            1 / 0
    assert minigan.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = leaf([1.0])
    y = (x * 2.0).detach()
    assert y.creator is None and not y.requires_grad
    assert y.item() == 2.0


# ==================== Tensor API errors and conversions ====================

def test_mixing_float32_and_float64_names_both_dtypes():
    a32, b64 = minigan.ones(2), minigan.ones(2, dtype="float64")
    with pytest.raises(TypeError, match="Add: inputs of different dtypes: float32 and float64"):
        a32 + b64
    with pytest.raises(TypeError, match="float64 and float32"):
        minigan.ones(2, 2, dtype="float64") @ minigan.ones(2, 2)


def test_mismatched_matmul_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(2, 3\) do not match"):
        minigan.ones(2, 3) @ minigan.ones(2, 3)


def test_item():
    assert minigan.tensor([[2.5]]).item() == 2.5
    with pytest.raises(ValueError, match=r"item\(\) needs a tensor with one element, found "
                                         r"shape \(2, 2\)"):
        minigan.ones(2, 2).item()


def test_numpy_to_and_device():
    x = minigan.tensor([[1.0, 2.0]])
    array = x.numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    np.testing.assert_array_equal(array, [[1.0, 2.0]])
    assert x.device == "cpu"
    assert x.to("cpu") is x and x.cpu() is x
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        x.to("tpu")


@pytest.mark.skipif(minigan.cuda_available(), reason="a CUDA device is available here")
def test_cuda_without_cupy_or_gpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        minigan.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        minigan.zeros(2).to("cuda")


def test_default_dtype_is_float32_and_integers_stay_integers():
    assert minigan.tensor([1.0]).dtype == np.float32
    assert minigan.randn(2).dtype == np.float32
    assert minigan.tensor([1, 2]).dtype.kind == "i"
    assert minigan.tensor([1.0], dtype="float64").dtype == np.float64


# ==================== random numbers ====================

def test_manual_seed_makes_randn_and_rand_reproducible():
    minigan.manual_seed(123)
    first = [minigan.randn(3, 4).numpy(), minigan.rand(5, dtype="float64").numpy()]
    minigan.manual_seed(123)
    second = [minigan.randn(3, 4).numpy(), minigan.rand(5, dtype="float64").numpy()]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    minigan.manual_seed(124)
    assert not np.array_equal(minigan.randn(3, 4).numpy(), first[0])


def test_random_values_have_the_right_distribution():
    minigan.manual_seed(0)
    normal = minigan.randn(100_000, dtype="float64").numpy()
    uniform = minigan.rand(100_000, dtype="float64").numpy()
    # the standard errors of these means are 1/√n ≈ 0.003 and 0.29/√n ≈ 0.001
    assert abs(normal.mean()) < 0.02 and abs(normal.std() - 1) < 0.02
    assert uniform.min() >= 0 and uniform.max() < 1 and abs(uniform.mean() - 0.5) < 0.01


def test_randn64_helper_gives_float64_leaves():
    x = randn64(2, 3)
    assert x.dtype == np.float64 and x.requires_grad and x.is_leaf
    assert F.sum(x).requires_grad


def test_leaf_gradients_own_their_memory(device):
    """An optimiser may update .grad in place: no leaf's gradient may alias another's, nor
    be a read-only broadcast view (y = a + b hands ∂L/∂y itself to both a and b)."""
    a, b = randn64(3, device=device), randn64(3, device=device)
    (a + b).sum().backward()
    a.grad.data[...] = 7.0                          # must not reach b.grad
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(3))
    x, c = randn64(6, device=device), randn64(1, device=device)
    first, second = minigan.functional.split(x * c, 3)
    (first.sum() + 2 * second.sum()).backward()
    x.grad.data[:3] += 1.0                          # writable, and independent of c.grad
    np.testing.assert_allclose(c.grad.numpy(), [x.numpy()[:3].sum() + 2 * x.numpy()[3:].sum()])


class Twice(Function):
    """y = 2x, with an array backward that marks which path the walk took."""
    paths = []

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        Twice.paths.append("tensor")
        return gy * 2.0

    def backward_arrays(self, gy):
        Twice.paths.append("arrays")
        return 2 * gy


def test_the_array_backward_serves_first_order_and_the_tensor_backward_create_graph():
    x = minigan.tensor([1.0, -3.0], requires_grad=True)
    Twice.paths.clear()
    g, = minigan.grad(Twice()(x).sum(), x)
    assert Twice.paths == ["arrays"]
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0])
    g, = minigan.grad(Twice()(x).sum(), x, create_graph=True)
    assert Twice.paths == ["arrays", "tensor"]
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0])
