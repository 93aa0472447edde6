"""Finite-difference checks of first and second derivatives (float64).

``gradcheck`` compares, for one fixed random vector v, the analytic vector-Jacobian product
vᵀ ∂f/∂x from the graph walk against central differences
    (vᵀ f(x + ε eᵢ) − vᵀ f(x − ε eᵢ)) / 2ε     for every element i of every input,
which is accurate to O(ε²) — hence float64 and ε = 1e-6. ``gradgradcheck`` runs the same
check on the function x ↦ vᵀ ∂f/∂x built with ``create_graph=True``, i.e. it checks the
backward pass's own backward.
"""
import numpy as np

from minigan import backend
from minigan.autograd import Tensor, enable_grad, grad, no_grad


class GradcheckError(AssertionError):
    """A gradient disagrees with its finite-difference estimate."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, name=None):
    """Check d fn / d inputs against central differences; returns True or raises.

    ``inputs``: a sequence of Tensors (those with requires_grad=True, all float64, are
    checked) and other arguments passed through. The error names the input index, its shape,
    the worst element, and the analytic and numeric values there.

    >>> import minigan
    >>> x = minigan.randn(3, dtype="float64", requires_grad=True)
    >>> minigan.gradcheck(lambda x: (x * x).sum(), [x])
    True
    """
    inputs = tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences "
                            "need float64 inputs")
        if not inputs[i].data.flags.c_contiguous:  # reshape(-1) below must be a view
            inputs[i].data = backend.get_array_module(inputs[i].data).ascontiguousarray(
                inputs[i].data)
    name = name or getattr(fn, "__name__", "fn")
    outputs = _as_tuple(fn(*inputs))
    rng = _projection_rng(seed, order=1)
    vs = [backend.to_device(rng.standard_normal(y.shape), y.device) for y in outputs]
    analytic = _vector_jacobian(outputs, vs, [inputs[i] for i in checked])

    def projected(*args):
        with no_grad():
            return float(sum((y.data * v).sum() for y, v in zip(_as_tuple(fn(*args)), vs)))

    for i, g in zip(checked, analytic):
        numeric = _central_differences(projected, inputs, i, eps)
        g = backend.to_numpy(g.data) if g is not None else np.zeros(inputs[i].shape)
        error = np.abs(g - numeric) - (atol + rtol * np.abs(numeric))
        if error.max(initial=-np.inf) > 0:
            worst = np.unravel_index(np.argmax(error), error.shape)
            raise GradcheckError(
                f"gradcheck of {name} failed for input {i} (shape {inputs[i].shape}): worst "
                f"element {tuple(int(k) for k in worst)}: analytic {g[worst]:.10g} vs numeric "
                f"{numeric[worst]:.10g} (atol={atol}, rtol={rtol})")
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, name=None):
    """Check second derivatives: gradcheck of (x, v) ↦ vᵀ ∂fn/∂x, made with create_graph=True.

    The incoming gradient v is itself a checked input (as in PyTorch's gradgradcheck), so a
    backward that treats ∂L/∂y as a constant — cutting it from the graph — fails too.
    """
    inputs = tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outputs = _as_tuple(fn(*inputs))
    rng = _projection_rng(seed, order=2)
    vs = tuple(Tensor(backend.to_device(rng.standard_normal(y.shape), y.device),
                      requires_grad=True) for y in outputs)
    count = len(inputs)

    def first_derivative(*args):
        xs, gys = args[:count], args[count:]
        with enable_grad():
            grads = _vector_jacobian(_as_tuple(fn(*xs)), gys, [xs[i] for i in checked],
                                     create_graph=True)
        return tuple(g if g is not None else Tensor(
            backend.get_array_module(xs[i].data).zeros_like(xs[i].data))
            for g, i in zip(grads, checked))

    name = name or getattr(fn, "__name__", "fn")
    return gradcheck(first_derivative, inputs + vs, eps, atol, rtol, seed,
                     name=f"d/dx of {name}")


def _projection_rng(seed, order):
    """The generator of the random projections v, on a stream of its own.

    A plain default_rng(seed) would be PCG64(seed), the stream ``manual_seed(seed)`` gives
    the inputs: with seed 0 in both, v would equal x exactly, and for ops that are
    invariant along x (normalisation: ∂f/∂x · x = 0) the check would compare zeros.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x6D67, order)))


def _vector_jacobian(outputs, vs, wrt, create_graph=False):
    pairs = [(y, v) for y, v in zip(outputs, vs) if y.requires_grad]
    if not pairs:
        return [None] * len(wrt)
    ys, gs = zip(*pairs)
    gs = [g if isinstance(g, Tensor) else Tensor(g) for g in gs]
    return grad(list(ys), wrt, grad_outputs=gs, create_graph=create_graph, allow_unused=True)


def _central_differences(projected, inputs, i, eps):
    flat = inputs[i].data.reshape(-1)  # a view: writing to it perturbs the input
    numeric = np.empty(flat.size)
    for k in range(flat.size):
        original = float(flat[k])
        flat[k] = original + eps
        plus = projected(*inputs)
        flat[k] = original - eps
        minus = projected(*inputs)
        flat[k] = original
        numeric[k] = (plus - minus) / (2 * eps)
    return numeric.reshape(inputs[i].shape)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)

