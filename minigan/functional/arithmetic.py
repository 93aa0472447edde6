"""Elementwise arithmetic and functions, and matrix products: the core differentiable ops.

Each op is a Function whose backward is written with differentiable ops, so every gradient
is differentiable again. Operands broadcast as in NumPy; backward sums each gradient back
to its operand's shape with ``sum_to`` (functional/reductions.py). A Python number operand
becomes a constant of the other operand's dtype and device (``as_tensor_like``).
"""
from minigan.autograd import Function, Tensor
from minigan.backend import get_array_module
from minigan.functional.reductions import sum, sum_to
from minigan.functional.shapes import _unwrap, inverse_permutation


def as_tensor_like(value, like):
    """``value`` as a constant Tensor with ``like``'s dtype and device (Tensors pass through)."""
    if isinstance(value, Tensor):
        return value
    xp = get_array_module(like.data)
    return Tensor(xp.asarray(value, dtype=like.dtype))


# ==================== arithmetic ====================

def laid_out_like_full(ufunc, a, b):
    """ufunc(a, b) with its result laid out in memory as the operand of the result's full
    shape, when the other operand is smaller and broadcast against it.

    NumPy lays a broadcast result out in C order when its operands' memory orders disagree:
    a batch-last activation (functional/_im2col.batch_first) plus an (N, C, 1, 1)
    per-sample bias came out batch-first, and the batch norm and convolution after it lost
    their batch-last fast paths (a dcgan step took 57 ms instead of 45, BENCHMARKS.md). So
    the small operand is copied into the full one's axis order (a few numbers) and the
    result written in the full one's layout; both then advance contiguously in the inner
    loop. Each element is the same number in any layout."""
    full, small = (a, b) if a.size >= b.size else (b, a)
    if (full.flags.c_contiguous or not 1 < small.size < full.size
            or a.dtype.kind != "f" or b.dtype.kind != "f"):   # (int / int is a float)
        return ufunc(a, b)
    xp = get_array_module(full)
    small = small.reshape((1,) * (full.ndim - small.ndim) + small.shape)
    order = sorted(range(full.ndim), key=lambda axis: -full.strides[axis])  # outermost first
    small = xp.ascontiguousarray(small.transpose(order)).transpose(inverse_permutation(order))
    out = xp.empty_like(full, dtype=xp.result_type(a, b))
    return ufunc(a, small, out=out) if full is a else ufunc(small, b, out=out)


class Add(Function):
    """y = a + b; ∂L/∂a = ∂L/∂y, ∂L/∂b = ∂L/∂y (each summed back to its shape)."""

    def forward(self, a, b):
        return laid_out_like_full(get_array_module(a).add, a, b)

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(gy, b.shape)


class Sub(Function):
    """y = a − b; ∂L/∂a = ∂L/∂y, ∂L/∂b = −∂L/∂y."""

    def forward(self, a, b):
        return laid_out_like_full(get_array_module(a).subtract, a, b)

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(-gy, b.shape)


class Mul(Function):
    """y = a · b; ∂L/∂a = ∂L/∂y · b, ∂L/∂b = ∂L/∂y · a."""

    def forward(self, a, b):
        return laid_out_like_full(get_array_module(a).multiply, a, b)

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy * b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b; ∂L/∂a = ∂L/∂y / b, ∂L/∂b = −∂L/∂y · a / b²."""

    def forward(self, a, b):
        return laid_out_like_full(get_array_module(a).divide, a, b)

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy / b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-gy * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """y = −x; ∂L/∂x = −∂L/∂y."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """y = xᶜ for a constant real c; ∂L/∂x = ∂L/∂y · c · xᶜ⁻¹."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x ** x.dtype.type(self.c)

    def backward(self, gy):
        x, = self.inputs
        if self.c == 0:  # x⁰ = 1 is constant; c·x⁻¹ would be 0·∞ = NaN at x = 0
            return gy * 0.0
        return gy * self.c * x ** (self.c - 1)


def add(a, b):
    return Add()(*_pair(a, b))


def sub(a, b):
    return Sub()(*_pair(a, b))


def mul(a, b):
    return Mul()(*_pair(a, b))


def div(a, b):
    return Div()(*_pair(a, b))


def neg(x):
    return Neg()(x)


def pow(x, exponent):
    """xᵉ. A number e uses ``Pow``; a Tensor e uses exp(e · log x), defined for x > 0."""
    if isinstance(exponent, Tensor):
        return exp(exponent * log(as_tensor_like(x, exponent)))
    if not isinstance(x, Tensor):  # number ** Tensor never reaches here via __rpow__
        raise TypeError(f"pow: expected a Tensor base, found {type(x).__name__}")
    return Pow(exponent)(x)


def _pair(a, b):
    """Both operands as Tensors; a Python number takes the other operand's dtype/device."""
    if not isinstance(a, Tensor):
        a = as_tensor_like(a, b)
    elif not isinstance(b, Tensor):
        b = as_tensor_like(b, a)
    return a, b


# ==================== elementwise functions ====================

class Exp(Function):
    """y = eˣ; ∂L/∂x = ∂L/∂y · y."""

    def forward(self, x):
        return get_array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.output()


class Log(Function):
    """y = ln x; ∂L/∂x = ∂L/∂y / x."""

    def forward(self, x):
        return get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


class Sqrt(Function):
    """y = √x; ∂L/∂x = ∂L/∂y / (2y)."""

    def forward(self, x):
        return get_array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (2 * self.output())


class Abs(Function):
    """y = |x|; ∂L/∂x = ∂L/∂y · sign(x) (0 at x = 0, like PyTorch)."""

    def forward(self, x):
        return get_array_module(x).abs(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * as_tensor_like(get_array_module(x.data).sign(x.data), x)


class Clamp(Function):
    """y = min(max(x, lo), hi); ∂L/∂x = ∂L/∂y where lo ≤ x ≤ hi, else 0."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return get_array_module(x).clip(x, self.lo, self.hi)

    def backward(self, gy):
        x, = self.inputs
        inside = x.data == x.data  # all True; NaN stays out of the mask
        if self.lo is not None:
            inside = inside & (x.data >= self.lo)
        if self.hi is not None:
            inside = inside & (x.data <= self.hi)
        return gy * as_tensor_like(inside, x)


def exp(x):
    return Exp()(x)


def log(x):
    return Log()(x)


def sqrt(x):
    return Sqrt()(x)


def abs(x):
    return Abs()(x)


def clamp(x, min=None, max=None):
    """x limited to [min, max] (either may be None)."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    return Clamp(min, max)(x)


class Where(Function):
    """y = a where cond else b (cond a constant boolean array, broadcast);
    ∂L/∂a = ∂L/∂y where cond else 0, ∂L/∂b = ∂L/∂y where not cond else 0."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return get_array_module(a).where(self.cond, a, b)

    def backward(self, gy):
        a, b = self.inputs
        zero = as_tensor_like(0.0, gy)
        ga = sum_to(where(self.cond, gy, zero), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(where(self.cond, zero, gy), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def where(cond, a, b):
    """Elementwise choice: a where ``cond`` (bool array or Tensor, no gradient) else b."""
    return Where(_unwrap(cond))(*_pair(a, b))


# ==================== matrix product ====================

class MatMul(Function):
    """Y = A @ B over the last two axes, leading axes broadcast (batched);
    ∂L/∂A = ∂L/∂Y @ Bᵀ, ∂L/∂B = Aᵀ @ ∂L/∂Y (summed back over broadcast batch axes)."""

    def forward(self, a, b):
        return a @ b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy @ b.mT, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(a.mT @ gy, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def matmul(a, b):
    """Matrix product with NumPy's rules: 1-D operands are promoted to a row/column."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, found shapes "
                         f"{a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match: "
                         f"{a.shape[-1]} (last of the first) != "
                         f"{b.shape[-2 if b.ndim > 1 else 0]} (rows of the second)")
    a2 = a.reshape(1, -1) if a.ndim == 1 else a  # (k,) -> (1, k)
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b  # (k,) -> (k, 1)
    y = MatMul()(a2, b2)
    if a.ndim == 1:
        y = y.reshape(y.shape[:-2] + y.shape[-1:])
    if b.ndim == 1:
        y = y.reshape(y.shape[:-1])
    return y


class Linear(Function):
    """y = x Wᵀ + b for x (N, in), W (out, in), b (out,) — one op instead of three, which
    keeps the graph of an MLP small; ∂L/∂x = gy W, ∂L/∂W = gyᵀ x, ∂L/∂b = Σₙ gy."""

    def forward(self, x, w, b=None):
        y = x @ w.T  # (N, in) @ (in, out) -> (N, out)
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w = self.inputs[:2]
        needs = self.needs_input_grad
        gx = gy @ w if needs[0] else None
        gw = gy.mT @ x if needs[1] else None
        gb = sum(gy, (0,)) if len(needs) > 2 and needs[2] else None
        return gx, gw, gb


def linear(x, weight, bias=None):
    """x Wᵀ + b over the last axis of x (any leading axes), PyTorch's F.linear."""
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1]} features in its last axis, but "
                         f"the weight {weight.shape} expects {weight.shape[1]}")
    x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x  # (..., in) -> (N, in)
    y = Linear()(x2, weight) if bias is None else Linear()(x2, weight, bias)
    return y.reshape(x.shape[:-1] + (weight.shape[0],)) if x.ndim != 2 else y
