"""Finite-difference checks of first and second derivatives (float64).

``gradcheck`` compares, for one fixed random vector v, the analytic vector-Jacobian product
vᵀ ∂f/∂x from the graph walk against central differences
    (vᵀ f(x + ε eᵢ) − vᵀ f(x − ε eᵢ)) / 2ε     for every element i of every input.
Their error is ε²/6 · |vᵀf'''| (truncation) plus about u·|vᵀf|/ε (rounding, u = 1.1e-16).
ε = 1e-5 balances the two for the ops and sizes of this package. Measured over the whole
test suite, the worst error is 5 % of the default tolerance (atol 1e-7, rtol 1e-6) on the
truncation side (second derivatives of kl_div's log) and 2 % on the rounding side (pad and
pooling of 70-pixel images, whose vᵀf is large); ε = 1e-6 takes the rounding side to 19 %,
ε = 1e-7 past 100 %.
A gradient off by 0.1 % misses these tolerances a thousandfold.

The analytic product is computed twice: by the usual first-order walk, which runs an op's
array fast path (``Function.backward_arrays``) when it has one, and with
``create_graph=True``, which runs the differentiable ``Function.backward`` (the path a
gradient penalty takes). Both must agree with the finite differences, so the two ways an
op computes its gradient cannot drift apart unnoticed.

``gradgradcheck`` runs the same check on the function (x, v) ↦ vᵀ ∂f/∂x built with
``create_graph=True``, i.e. it checks the backward pass's own backward.

A NaN or an infinity anywhere — in f's outputs, an analytic or a numeric derivative —
fails the check (it would otherwise compare as "not larger than the tolerance").
"""
import numpy as np

from minigan import backend
from minigan.autograd import Tensor, enable_grad, grad, no_grad

EPS, ATOL, RTOL = 1e-5, 1e-7, 1e-6

# (what the message calls it, create_graph) for the two analytic walks
_PATHS = (("first-order backward", False), ("backward with create_graph=True", True))


class GradcheckError(AssertionError):
    """A gradient disagrees with its finite-difference estimate."""


def gradcheck(fn, inputs, eps=EPS, atol=ATOL, rtol=RTOL, seed=0, name=None):
    """Check d fn / d inputs against central differences; returns True or raises.

    ``inputs``: a sequence of Tensors (those with requires_grad=True, all float64 and
    non-empty, are checked) and other arguments passed through. An element passes when
    |analytic − numeric| ≤ atol + rtol·|numeric|, for both the first-order walk and the
    walk with create_graph=True. The error names the input index, its shape, which walk,
    the worst element, and the analytic and numeric values there.

    >>> import minigan
    >>> x = minigan.randn(3, dtype="float64", requires_grad=True)
    >>> minigan.gradcheck(lambda x: (x * x).sum(), [x])
    True
    """
    inputs = tuple(inputs)
    checked = _checked_inputs(inputs, "gradcheck")
    name = name or getattr(fn, "__name__", "fn")
    outputs = _as_tuple(fn(*inputs))
    _check_outputs(outputs, name)
    rng = _projection_rng(seed, order=1)
    vs = [backend.to_device(rng.standard_normal(y.shape), y.device) for y in outputs]
    wrt = [inputs[i] for i in checked]
    # The create_graph walk keeps the graph, so the first-order walk can reuse it.
    analytic = {create: _vector_jacobian(outputs, vs, wrt, create_graph=create)
                for _, create in reversed(_PATHS)}

    def projected(*args):
        with no_grad():
            return float(sum((y.data * v).sum() for y, v in zip(_as_tuple(fn(*args)), vs)))

    for k, i in enumerate(checked):
        numeric = _central_differences(projected, inputs, i, eps)
        where = f"gradcheck of {name} failed for input {i} (shape {inputs[i].shape})"
        for path, create in _PATHS:
            g = analytic[create][k]
            g = backend.to_numpy(g.data) if g is not None else np.zeros(inputs[i].shape)
            _compare(g, numeric, f"{where}, {path}", atol, rtol)
    return True


def gradgradcheck(fn, inputs, eps=EPS, atol=ATOL, rtol=RTOL, seed=0, name=None):
    """Check second derivatives: gradcheck of (x, v) ↦ vᵀ ∂fn/∂x, made with create_graph=True.

    The incoming gradient v is itself a checked input (as in PyTorch's gradgradcheck), so a
    backward that treats ∂L/∂y as a constant — cutting it from the graph — fails too.
    Being a gradcheck, it also compares both walks over that backward graph.

    >>> import minigan
    >>> x = minigan.randn(3, dtype="float64", requires_grad=True)
    >>> minigan.gradgradcheck(lambda x: x ** 3, [x])
    True
    """
    inputs = tuple(inputs)
    checked = _checked_inputs(inputs, "gradgradcheck")
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


def _checked_inputs(inputs, who):
    """Indices of the inputs to check; refuses what finite differences cannot check."""
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"{who}: no input has requires_grad=True")
    for i in checked:
        x = inputs[i]
        if x.dtype != np.float64:
            raise TypeError(f"{who}: input {i} is {x.dtype}; finite differences need float64 "
                            "inputs")
        if x.size == 0:
            raise ValueError(f"{who}: input {i} has no elements (shape {x.shape}); an empty "
                             "gradient agrees with any backward, so it checks nothing")
        if not x.data.flags.c_contiguous:  # _central_differences needs reshape(-1) a view
            x.data = backend.get_array_module(x.data).ascontiguousarray(x.data)
    return checked


def _check_outputs(outputs, name):
    if all(y.size == 0 for y in outputs):
        raise ValueError(f"gradcheck of {name}: every output is empty (shapes "
                         f"{[y.shape for y in outputs]}); there is no derivative to check")
    for j, y in enumerate(outputs):
        values = backend.to_numpy(y.data)
        bad = ~np.isfinite(values)
        if bad.any():
            worst = _first(bad)
            raise GradcheckError(f"gradcheck of {name} failed: output {j} (shape {y.shape}) "
                                 f"is not finite at element {worst}: {values[worst]}")


def _compare(analytic, numeric, where, atol, rtol):
    """Raise GradcheckError naming the worst element unless every element is finite on
    both sides and within atol + rtol·|numeric|."""
    for label, values in (("analytic", analytic), ("numeric", numeric)):
        bad = ~np.isfinite(values)
        if bad.any():
            worst = _first(bad)
            raise GradcheckError(
                f"{where}: the {label} derivative is not finite at element {worst}: "
                f"analytic {analytic[worst]:.10g} vs numeric {numeric[worst]:.10g}")
    error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if error.max(initial=-np.inf) > 0:
        worst = tuple(int(k) for k in np.unravel_index(np.argmax(error), error.shape))
        raise GradcheckError(
            f"{where}: worst element {worst}: analytic {analytic[worst]:.10g} vs numeric "
            f"{numeric[worst]:.10g} (atol={atol}, rtol={rtol})")


def _first(mask):
    """The index (a tuple) of the first True element of a boolean array."""
    return tuple(int(k) for k in np.unravel_index(np.argmax(mask), mask.shape))


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
