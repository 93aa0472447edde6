"""Tensor, Function and the reverse-mode graph walk.

A ``Function`` computes its forward on raw arrays and its backward on ``Tensor``s, built
from other Functions. So the backward pass is itself a graph that can be differentiated
again: ``grad(y, x, create_graph=True)`` returns gradients that carry their own history
(gradient penalty of WGAN-GP, unrolled GANs, Hessian-vector products). Without
``create_graph`` the backward runs with recording off and builds nothing.

The walk over the graph is iterative (no recursion, so a 10,000-op chain is fine), in
reverse topological order, and gradients of a tensor used several times are summed.

>>> import minigan
>>> x = minigan.tensor([3.0], requires_grad=True)
>>> y = x * x * x                       # y = x³
>>> (gx,) = minigan.grad(y, x, create_graph=True)
>>> gx.item(), minigan.grad(gx, x)[0].item()   # 3x², 6x
(27.0, 18.0)
"""
import contextlib
import weakref

import numpy as np

from minigan import backend

_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


@contextlib.contextmanager
def _set_grad_enabled(mode):
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, mode
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """Context manager: ops inside record no graph (evaluation, optimiser updates)."""
    return _set_grad_enabled(False)


def enable_grad():
    """Context manager: turn recording back on inside a ``no_grad`` block."""
    return _set_grad_enabled(True)


# ==================== Tensor ====================

class Tensor:
    """An n-dimensional array (NumPy or CuPy) that remembers the Function that made it.

    ``Tensor(array)`` wraps an array without copying it; ``minigan.tensor(data)`` copies and
    converts (floats become the default dtype, float32). ``.grad`` is a Tensor filled by
    ``backward()``; it accumulates over calls, like PyTorch, until ``zero_grad``.
    """
    __slots__ = ("data", "grad", "requires_grad", "creator", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            raise TypeError("Tensor(...) got a Tensor; use .detach() to share its data")
        if not isinstance(data, backend.ARRAY_TYPES):
            # NumPy scalars (what reductions return) keep their dtype; Python numbers and
            # lists become arrays, floating ones of the default dtype.
            python_value = not isinstance(data, np.generic)
            data = np.asarray(data)
            if python_value and data.dtype.kind == "f":
                data = data.astype(backend.get_default_dtype(), copy=False)
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad
        self.creator = None

    # ---- what it is ----
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)
    device = property(lambda self: backend.device_of(self.data))
    is_leaf = property(lambda self: self.creator is None)

    def __len__(self):
        return len(self.data)

    def __bool__(self):
        # Without this, Python would fall back on __len__: `if loss < 0.1` on a one-element
        # tensor would always be true. An ambiguous many-element truth value raises.
        return bool(self.data)

    def __repr__(self):
        body = np.array2string(backend.to_numpy(self.data), precision=4, separator=", ",
                               prefix="tensor(")
        extras = [f"dtype={self.dtype}"] if self.dtype != backend.get_default_dtype() else []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.creator is not None:
            extras.append(f"grad_fn=<{type(self.creator).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ---- leaving the graph, changing device ----
    def detach(self):
        """The same data, cut from the graph (no copy)."""
        return Tensor(self.data)

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    def numpy(self):
        """The data as a NumPy array on the host (a copy for CUDA tensors)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, found shape {self.shape}")
        return self.data.item()

    def to(self, device):
        """This tensor on ``device`` ("cpu" or "cuda"); differentiable, like PyTorch's."""
        device = backend.check_device(device)
        return self if device == self.device else ToDevice(device)(self)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    # ---- differentiation ----
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no input "
                               "of the ops that made it has requires_grad=True")
        _run_backward([self], [gradient], None, retain_graph, create_graph, False)


class Function:
    """One differentiable operation.

    Subclasses implement ``forward(*arrays) -> array`` and ``backward(gy) -> Tensor | tuple``
    (one gradient per input, None where an input needs none; ``self.needs_input_grad`` says
    which). ``backward`` must use Tensor ops only, so that it is differentiable again.

    A hot op may also define ``backward_arrays(gy) -> array | tuple``: the same gradients
    computed on plain arrays, which the walk uses for the usual first-order backward
    (create_graph=False), where no graph of the backward is wanted. It may fuse steps and
    work in place, which Tensor code cannot; ``backward`` stays the definition and serves
    create_graph=True. gradcheck exercises the first, gradgradcheck the second.
    Inputs are available as ``self.inputs`` (Tensors) and the output as ``self.output()``.
    A Function has exactly one output: ops with several results (split, chunk) are built
    from several single-output Functions, which keeps the walk simple.
    """
    inputs = ()
    backward_arrays = None

    def __call__(self, *inputs):
        xs = [x.data for x in inputs]
        _check_same_device_and_dtype(self, inputs, xs)
        needs = [x.requires_grad for x in inputs] if _grad_enabled else ()
        record = any(needs)
        y = Tensor(self.forward(*xs), record)
        if record:
            self.inputs = inputs
            self.needs_input_grad = needs
            self._output = weakref.ref(y)
            y.creator = self
        return y

    def output(self):
        """The output Tensor (held weakly, so the graph owns no reference cycle)."""
        return self._output()

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError

    def _free(self):
        """Drop saved inputs and arrays; a second walk then fails with a clear error."""
        name = type(self).__name__
        self.__dict__.clear()
        self.inputs = None
        self.freed_name = name


def _check_same_device_and_dtype(fn, inputs, xs):
    first = xs[0]
    for x in xs[1:]:
        if type(x) is not type(first):
            raise RuntimeError(
                f"{type(fn).__name__}: inputs on different devices: "
                f"{backend.device_of(first)} and {backend.device_of(x)}; "
                "move them with .to(device) first")
        if x.dtype != first.dtype:
            raise TypeError(
                f"{type(fn).__name__}: inputs of different dtypes: {first.dtype} and "
                f"{x.dtype}; convert one of them (minigan does not up-cast silently)")


class ToDevice(Function):
    """y = x on another device; ∂L/∂x = ∂L/∂y moved back."""

    def __init__(self, device):
        self.device = device

    def forward(self, x):
        self.source = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return ToDevice(self.source)(gy)


# ==================== the graph walk ====================

def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    ``grad_outputs`` are the vectors v of the vector-Jacobian products vᵀ ∂outputs/∂inputs
    (default 1 for scalar outputs). With ``create_graph=True`` the returned gradients are
    differentiable; the graph is then kept (``retain_graph`` defaults to ``create_graph``).
    An input the outputs do not depend on is an error unless ``allow_unused=True``, in
    which case its gradient is None.
    """
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grad_outputs = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad(): input {i} (shape {x.shape}) does not require grad")
    result = _run_backward(outputs, grad_outputs, inputs, retain_graph, create_graph, True)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad(): input {i} (shape {inputs[i].shape}) was not used to compute the "
                "outputs; pass allow_unused=True if that is intended")
    return tuple(result)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _initial_gradient(y, g):
    if g is None:
        if y.data.size != 1:
            raise RuntimeError(
                f"backward of a non-scalar output (shape {y.shape}) needs a gradient: pass "
                "`gradient=` (or `grad_outputs=`) of the same shape")
        xp = backend.get_array_module(y.data)
        return Tensor(xp.ones_like(y.data))
    if not isinstance(g, Tensor):
        g = Tensor(backend.get_array_module(y.data).asarray(g, dtype=y.dtype))
    if g.shape != y.shape:
        raise RuntimeError(f"gradient has shape {g.shape} but the output has shape {y.shape}")
    return g


def _topological_order(roots):
    """Functions reachable from ``roots``, each after every Function that uses its output."""
    order, seen = [], set()
    for root in roots:
        f = root.creator
        if f is None or id(f) in seen:
            continue
        seen.add(id(f))
        stack = [(f, iter(_saved_inputs(f)))]
        while stack:
            f, pending = stack[-1]
            for x in pending:
                parent = x.creator
                if parent is not None and id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append((parent, iter(_saved_inputs(parent))))
                    break
            else:
                stack.pop()
                order.append(f)
    order.reverse()
    return order


def _saved_inputs(f):
    if f.inputs is None:
        raise RuntimeError(
            f"trying to backward through the graph a second time (op {f.freed_name}): its "
            "saved values were freed by the first backward; pass retain_graph=True to the "
            "first backward()/grad() if you need to walk the graph twice")
    return f.inputs


def _run_backward(outputs, grad_outputs, inputs, retain_graph, create_graph, return_grads):
    if retain_graph is None:
        retain_graph = create_graph
    grads = {}   # id(Tensor) -> gradient Tensor accumulated so far
    alive = {}   # id(Tensor) -> Tensor, so ids stay unique while the walk runs
    for y, g in zip(outputs, grad_outputs):
        g = _initial_gradient(y, g)
        grads[id(y)] = grads[id(y)] + g if id(y) in grads else g
        alive[id(y)] = y
    targets = {id(x): i for i, x in enumerate(inputs)} if return_grads else {}
    result = [None] * len(inputs) if return_grads else None

    order = _topological_order(outputs)
    needed = _functions_leading_to(order, targets) if return_grads else None
    with _set_grad_enabled(create_graph):
        for f in order:
            if needed is not None and id(f) not in needed:
                continue
            y = f.output()
            gy = grads.pop(id(y), None) if y is not None else None
            if gy is None:  # no gradient reached this op (its output fed nothing we walked)
                continue
            if id(y) in targets:
                result[targets[id(y)]] = gy
            gxs = _gradients_of_inputs(f, gy, create_graph)
            for x, gx, need in zip(f.inputs, gxs, f.needs_input_grad):
                if gx is None or not need:
                    continue
                if gx.shape != x.shape:
                    raise AssertionError(f"{type(f).__name__}.backward returned a gradient of "
                                         f"shape {gx.shape} for an input of shape {x.shape}")
                key = id(x)
                grads[key] = grads[key] + gx if key in grads else gx
                alive[key] = x
            if not retain_graph:
                f._free()
    claimed = set()  # ids of the memory blocks already stored in some leaf's .grad
    for key, g in grads.items():
        x = alive[key]
        if return_grads:
            if key in targets:
                result[targets[key]] = g
        elif x.creator is None and x.requires_grad:
            if not create_graph:
                g = _own_gradient(g, claimed)
            x.grad = g if x.grad is None else x.grad + g
    return result


def _gradients_of_inputs(f, gy, create_graph):
    """f's backward as a tuple of Tensors (or None), through its array path when it has one
    and no graph of the backward is being recorded."""
    if create_graph or f.backward_arrays is None:
        gxs = f.backward(gy)
        return gxs if isinstance(gxs, tuple) else (gxs,)
    gxs = f.backward_arrays(gy.data)
    if not isinstance(gxs, tuple):
        gxs = (gxs,)
    return tuple(None if g is None else Tensor(g) for g in gxs)


def _own_gradient(g, claimed):
    """A graph-free gradient whose array belongs to one leaf alone.

    Backward passes may hand the same array to several inputs (y = a + b gives both a and b
    ∂L/∂y itself), views of one block to several (split), or a read-only broadcast view; an
    optimiser that updates one .grad in place must not change another's. So an array is
    copied when it is read-only or its memory block is already some other leaf's; a view
    of a fresh block (a reshaped GEMM result, say) is kept as it is.
    """
    array = g.data
    block = array if array.base is None else array.base
    broadcast = array.size > 1 and 0 in array.strides  # CuPy has no read-only flag for it
    if id(block) in claimed or broadcast or not getattr(array.flags, "writeable", True):
        array = array.copy()
        block = array
    claimed.add(id(block))
    return Tensor(array)


def _functions_leading_to(order, targets):
    """ids of the Functions from which some target tensor can be reached going backwards."""
    needed = set()
    for f in reversed(order):  # inputs before the Functions that consume them
        if any(id(x) in targets or (x.creator is not None and id(x.creator) in needed)
               for x in f.inputs):
            needed.add(id(f))
    return needed
