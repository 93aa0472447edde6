"""The linear maps that padding, resampling and pooling are made of, as Functions.

Every resizing op but max pooling is *linear*: y = A x for a fixed matrix A that depends
only on the shapes. Then ∂L/∂x = Aᵀ ∂L/∂y, the *adjoint* map, and the adjoint of the
adjoint is A again. So each op's backward calls its adjoint's Function and the adjoint's
backward calls the op: the set is closed under differentiation and double backprop needs
nothing more. Max pooling is linear once the argmax of each window is fixed (a gather), so
it is closed the same way: its backward is a scatter-add, whose backward is the gather.

A is applied in one of three ways, chosen by its structure:

    index maps   each output element copies one input element: pad (reflect, replicate),
                 nearest interpolation, max pooling. ``Gather`` forward, ``ScatterAdd``
                 backward (this file).
    matrices     the 2-D op is separable, y = A_H x A_Wᵀ with a small (out, in) matrix per
                 axis: bilinear interpolation, adaptive average pooling. ``Resample2d``
                 (this file), matmul both ways.
    windows      a sliding KH×KW window: average pooling (functional/pooling.py). Stride
                 tricks forward, a loop over the KH·KW offsets backward.

The ops themselves are in functional/padding.py, interpolation.py and pooling.py.
"""
import math

from minigan.autograd import Function
from minigan.backend import get_array_module


# ==================== index maps: gather and scatter-add ====================

def gather(x, index, k):
    """x[..., index] over x's last k axes read as one flat axis of length L.

    ``index`` holds flat positions in [0, L): shape (*out_tail) for one map shared by every
    leading position, or (*lead, *out_tail) for one map per position (max pooling).
    """
    xp = get_array_module(x)
    lead = x.shape[:x.ndim - k]
    flat = x.reshape(lead + (-1,))  # (*lead, *in_tail) -> (*lead, L)
    if index.ndim == k:
        return xp.take(flat, index, axis=-1)  # (*lead, L) -> (*lead, *out_tail)
    picked = xp.take_along_axis(flat, index.reshape(lead + (-1,)), axis=-1)  # (*lead, M)
    return picked.reshape(index.shape)  # (*lead, M) -> (*lead, *out_tail)


def scatter_add(g, index, in_tail):
    """The adjoint of ``gather``: zeros of shape (*lead, *in_tail) with every g[..., m]
    added at flat position index[..., m] (repeated positions accumulate)."""
    xp = get_array_module(g)
    lead = g.shape[:g.ndim - len(in_tail)]
    rows, length = math.prod(lead), math.prod(in_tail)
    # One flat axis for everything, so that a single add.at does the whole scatter.
    offsets = xp.arange(rows).reshape(lead + (1,) * len(in_tail)) * length
    y = xp.zeros(rows * length, dtype=g.dtype)
    xp.add.at(y, (offsets + index).reshape(-1), g.reshape(-1))
    return y.reshape(lead + tuple(in_tail))  # (rows·L,) -> (*lead, *in_tail)


class Gather(Function):
    """y[..., p] = x[..., index[p]]: each output element copies one input element, the last
    ``k`` axes of x being read as one flat axis (row-major positions);
    ∂L/∂x[..., l] = Σ_{p : index[p] = l} ∂L/∂y[..., p], the scatter-add ``ScatterAdd``.

    Shapes: x (*lead, *in_tail) with k = len(in_tail) -> y (*lead, *out_tail), where
    ``index`` is (*out_tail) or, one map per leading position, (*lead, *out_tail).
    """

    def __init__(self, index, k):
        self.index, self.k = index, k

    def forward(self, x):
        return gather(x, self.index, self.k)

    def backward(self, gy):
        return ScatterAdd(self.index, self.inputs[0].shape[-self.k:])(gy)


class ScatterAdd(Function):
    """y[..., l] = Σ_{p : index[p] = l} x[..., p] over an ``in_tail``-shaped output of zeros:
    the adjoint of ``Gather``, so ∂L/∂x = Gather(index)(∂L/∂y).

    Shapes: x (*lead, *out_tail) -> y (*lead, *in_tail).
    """

    def __init__(self, index, in_tail):
        self.index, self.in_tail = index, tuple(in_tail)

    def forward(self, x):
        return scatter_add(x, self.index, self.in_tail)

    def backward(self, gy):
        return Gather(self.index, len(self.in_tail))(gy)


def ravel_grid(sources, sizes):
    """Flat row-major positions of the grid of per-axis source indices: for axes of sizes
    (n₁, n₂, …) and index vectors i₁ (m₁,), i₂ (m₂,), … the (m₁, m₂, …) array of
    (…(i₁ · n₂ + i₂) · n₃ + i₃ …), as ``numpy.ravel_multi_index`` would give on a grid."""
    flat = sources[0]
    for i, n in zip(sources[1:], sizes[1:]):
        flat = flat[..., None] * n + i  # (m₁, …, mₐ) -> (m₁, …, mₐ, mₐ₊₁)
    return flat


# ==================== separable linear maps: y = A_H x A_Wᵀ ====================

class Resample2d(Function):
    """y[..., p, q] = Σᵢⱼ A_H[p, i] · x[..., i, j] · A_W[q, j], i.e. y = A_H x A_Wᵀ on the
    last two axes, for constant matrices A_H (OH, H) and A_W (OW, W).

    ∂L/∂x = A_Hᵀ (∂L/∂y) A_W: the same op with the transposed matrices, whose own backward
    is this op again. Shapes: (*, H, W) -> (*, OH, OW).
    """

    def __init__(self, a_h, a_w):
        self.a_h, self.a_w = a_h, a_w

    def forward(self, x):
        xp = get_array_module(x)
        rows = xp.matmul(self.a_h, x)  # (OH, H) @ (*, H, W) -> (*, OH, W)
        return xp.matmul(rows, self.a_w.T)  # (*, OH, W) @ (W, OW) -> (*, OH, OW)

    def backward(self, gy):
        return Resample2d(self.a_h.T, self.a_w.T)(gy)
