"""Padding, resampling and pooling: the ops that change an image's spatial size.

Every op here but max pooling is *linear*: y = A x for a fixed matrix A that depends only on
the shapes. Then ∂L/∂x = Aᵀ ∂L/∂y, the *adjoint* map, and the adjoint of the adjoint is A
again. So each op's backward calls its adjoint's Function and the adjoint's backward calls
the op: the set is closed under differentiation and double backprop needs nothing more.
Max pooling is linear once the argmax of each window is fixed (a gather), so it is closed
the same way: its backward is a scatter-add, whose backward is the gather.

A is applied in one of three ways, chosen by its structure:

    index maps   each output element copies one input element: pad (reflect, replicate),
                 nearest interpolation, max pooling. Gather forward, scatter-add backward.
    matrices     the 2-D op is separable, y = A_H x A_Wᵀ with a small (out, in) matrix per
                 axis: bilinear interpolation, adaptive average pooling. Matmul both ways.
    windows      a sliding KH×KW window: average pooling. Stride tricks forward, a loop
                 over the KH·KW offsets backward.

Shapes are (N, C, H, W) (or (C, H, W) for the pools) and PyTorch's names and semantics are
kept, so ``pad(x, (1, 1, 2, 0), mode="reflect")`` means what it means in PyTorch.
"""
import math
import numbers

from minigan.autograd import Function, Tensor
from minigan.backend import get_array_module
from minigan.functional.arguments import int_pair

PAD_MODES = ("constant", "reflect", "replicate")
INTERPOLATE_MODES = ("nearest", "bilinear")


# ==================== index maps: gather and scatter-add ====================

def _gather(x, index, k):
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


def _scatter_add(g, index, in_tail):
    """The adjoint of ``_gather``: zeros of shape (*lead, *in_tail) with every g[..., m]
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
        return _gather(x, self.index, self.k)

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
        return _scatter_add(x, self.index, self.in_tail)

    def backward(self, gy):
        return Gather(self.index, len(self.in_tail))(gy)


def _ravel(sources, sizes):
    """Flat row-major positions of the grid of per-axis source indices: for axes of sizes
    (n₁, n₂, …) and index vectors i₁ (m₁,), i₂ (m₂,), … the (m₁, m₂, …) array of
    (…(i₁ · n₂ + i₂) · n₃ + i₃ …), as ``numpy.ravel_multi_index`` would give on a grid."""
    flat = sources[0]
    for i, n in zip(sources[1:], sizes[1:]):
        flat = flat[..., None] * n + i  # (m₁, …, mₐ) -> (m₁, …, mₐ, mₐ₊₁)
    return flat


# ==================== pad ====================

class ConstantPad(Function):
    """y = x surrounded by ``value`` on its last k axes; ``widths`` holds (before, after)
    for each of them: y[..., b₁ + i₁, …, bₖ + iₖ] = x[..., i₁, …, iₖ], ``value`` elsewhere.

    ∂L/∂x = ∂L/∂y cropped to the inside (``Crop``): value is a constant, so the border's
    gradient goes nowhere. Shapes: (*lead, n₁, …) -> (*lead, b₁ + n₁ + a₁, …).
    """

    def __init__(self, widths, value):
        self.widths, self.value = tuple(widths), value

    def forward(self, x):
        xp = get_array_module(x)
        lead = ((0, 0),) * (x.ndim - len(self.widths))
        return xp.pad(x, lead + self.widths, mode="constant", constant_values=self.value)

    def backward(self, gy):
        return Crop(self.widths)(gy)


class Crop(Function):
    """y = the inside of x: x without ``widths`` = ((before, after), …) on its last axes.
    The adjoint of ConstantPad: ∂L/∂x = ∂L/∂y padded with zeros (``ConstantPad``, value 0).
    """

    def __init__(self, widths):
        self.widths = tuple(widths)

    def forward(self, x):
        k = len(self.widths)
        inside = tuple(slice(b, n - a) for n, (b, a) in zip(x.shape[-k:], self.widths))
        return x[(Ellipsis,) + inside]

    def backward(self, gy):
        return ConstantPad(self.widths, 0.0)(gy)


def _pad_source(xp, n, before, after, mode):
    """For each of the before + n + after positions along a padded axis, the input index it
    copies: j ↦ i = j − before, folded back into [0, n)."""
    i = xp.arange(-before, n + after)
    if mode == "reflect":  # mirror about the edge pixels 0 and n − 1, which are not repeated
        return (n - 1) - xp.abs((n - 1) - xp.abs(i))
    return xp.clip(i, 0, n - 1)  # replicate: the edge pixel repeats


def pad(x, pad, mode="constant", value=0.0):
    """Pad the last len(pad)/2 axes of x, with PyTorch's order: the last axis first,
    ``pad = (left, right, top, bottom, …)``.

    mode "constant": ``value`` outside;  "reflect": mirrored about the edge pixel (which is
    not repeated: 1 2 3 → 3 2 [1 2 3] 2);  "replicate": the edge pixel repeated
    (1 2 3 → 1 1 [1 2 3] 3). Each is linear, y = A x, and ∂L/∂x = Aᵀ ∂L/∂y: for constant
    a crop; for reflect/replicate a scatter-add of each border pixel's gradient back onto
    the pixel it copies (``Gather``/``ScatterAdd`` with the index map A stands for).

    Shape: (*, H, W) -> (*, top + H + bottom, left + W + right) for a 4-tuple.

    >>> import minigan
    >>> x = minigan.tensor([[[[1.0, 2.0, 3.0]]]])
    >>> pad(x, (2, 1), mode="reflect").data.tolist()
    [[[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]]
    >>> pad(x, (1, 2), mode="replicate").data.tolist()
    [[[[1.0, 1.0, 2.0, 3.0, 3.0, 3.0]]]]
    """
    _check_tensor(x, "pad")
    if mode not in PAD_MODES:
        raise ValueError(f"pad: unknown mode {mode!r}: expected one of {PAD_MODES}")
    widths = _pad_widths(pad, x)
    if mode == "constant":
        return ConstantPad(widths, value)(x)
    if value != 0:
        raise ValueError(f"pad: mode {mode!r} takes no value (found value={value}); "
                         "value is for mode='constant'")
    tail = x.shape[x.ndim - len(widths):]
    if mode == "reflect":
        for axis, n, (before, after) in zip(range(-len(tail), 0), tail, widths):
            if before >= n or after >= n:
                raise ValueError(
                    f"pad: reflect padding must be smaller than the padded axis: axis {axis} "
                    f"of the input (shape {x.shape}) has size {n}, found padding "
                    f"({before}, {after})")
    xp = get_array_module(x.data)
    sources = [_pad_source(xp, n, b, a, mode) for n, (b, a) in zip(tail, widths)]
    return Gather(_ravel(sources, tail), len(tail))(x)


def _pad_widths(pad, x):
    """PyTorch's flat pad tuple -> ((before, after), …) in axis order, first padded axis first."""
    if not isinstance(pad, (tuple, list)) or not pad or len(pad) % 2:
        raise ValueError(f"pad: expected a non-empty tuple of even length (left, right, top, "
                         f"bottom, ...), found {pad!r}")
    if any(isinstance(p, bool) or not isinstance(p, numbers.Integral) or p < 0 for p in pad):
        raise ValueError(f"pad: paddings must be non-negative ints, found {tuple(pad)}")
    k = len(pad) // 2
    if k > x.ndim:
        raise ValueError(f"pad: {tuple(pad)} pads {k} axes but the input has shape {x.shape} "
                         f"({x.ndim} axes)")
    return tuple((int(pad[2 * i]), int(pad[2 * i + 1])) for i in reversed(range(k)))


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


# ==================== interpolate ====================

def _nearest_source(xp, n_in, n_out, scale):
    """PyTorch's legacy "nearest" source index, i = min(⌊j · s⌋, n_in − 1) with s = 1/scale
    (or n_in/n_out) in float32, as ``nearest_idx`` in aten/src/ATen/native/cpu/
    UpSampleKernel.cpp and ``nearest_neighbor_compute_source_index`` in UpSample.h."""
    j = xp.arange(n_out)
    if n_out == n_in:  # PyTorch copies, even when a scale_factor would say otherwise
        return j
    if n_out == 2 * n_in:  # and halves the index
        return j // 2
    ratio = xp.float32(1.0 / scale) if scale else xp.float32(n_in) / xp.float32(n_out)
    src = xp.floor(j.astype(xp.float32) * ratio).astype(xp.int64)
    return xp.minimum(src, n_in - 1)


def _linear_weights(xp, n_in, n_out, align_corners, scale):
    """(n_out, n_in) matrix of 1-D linear interpolation, PyTorch's ``area_pixel_compute_scale``
    and ``area_pixel_compute_source_index`` (aten/src/ATen/native/UpSample.h):

        align_corners=True:   src = j · (n_in − 1)/(n_out − 1)   (0 when n_out = 1)
        align_corners=False:  src = max((j + ½) · s − ½, 0),  s = 1/scale or n_in/n_out

    then i₀ = min(⌊src⌋, n_in − 1), i₁ = min(i₀ + 1, n_in − 1), λ = clip(src − i₀, 0, 1),
    and row j holds 1 − λ at i₀ and λ at i₁ (both at i₀ = i₁ on the last pixel)
    (``compute_source_index_and_lambda`` and ``guard_index_and_lambda``, same file).
    """
    if n_out == n_in:  # PyTorch copies, even when a scale_factor would say otherwise
        return xp.eye(n_in)
    j = xp.arange(n_out, dtype=xp.float64)
    if align_corners:
        src = j * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        ratio = 1.0 / scale if scale else n_in / n_out
        src = xp.maximum((j + 0.5) * ratio - 0.5, 0.0)
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
    i1 = xp.minimum(i0 + 1, n_in - 1)
    lam = xp.clip(src - i0, 0.0, 1.0)[:, None]  # (n_out, 1)
    columns = xp.arange(n_in)  # (n_in,)
    return (1 - lam) * (columns == i0[:, None]) + lam * (columns == i1[:, None])


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Resize the images x (N, C, H, W) to ``size`` = (OH, OW), or by ``scale_factor``
    (OH = ⌊H · s_H⌋), with PyTorch's ``F.interpolate`` conventions.

    Both modes are separable linear maps along H and W, y = A_H x A_Wᵀ, so
    ∂L/∂x = A_Hᵀ (∂L/∂y) A_W:

    - "nearest" (PyTorch's legacy nearest): y[p, q] = x[i(p), j(q)] with
      i(p) = min(⌊p · H/OH⌋, H − 1) (H/OH replaced by 1/scale_factor when one is given).
      A is a 0/1 index map: gather forward, scatter-add backward.
    - "bilinear": each output pixel mixes the 2×2 input pixels around its source point
      (src_h, src_w), with align_corners=False (the default) src = (dst + ½) · in/out − ½
      clamped at 0, and with align_corners=True src = dst · (in − 1)/(out − 1), which keeps
      the four corner pixels. A holds the weights 1 − λ, λ (see ``_linear_weights``).

    The index formulas are PyTorch's, read in aten/src/ATen/native/UpSample.h
    (``area_pixel_compute_scale``, ``area_pixel_compute_source_index``,
    ``nearest_neighbor_compute_source_index``) and aten/src/ATen/native/cpu/
    UpSampleKernel.cpp (``nearest_idx``). As in PyTorch's default (recompute_scale_factor=None),
    a given scale_factor s is used as is in those formulas (1/s in place of in/out, which can
    differ from H/⌊H·s⌋), except that an axis whose size does not change is copied.

    Shape: (N, C, H, W) -> (N, C, OH, OW).

    >>> import minigan
    >>> x = minigan.tensor([[[[0.0, 3.0]]]])
    >>> interpolate(x, size=(1, 4), mode="bilinear", align_corners=True).data.tolist()
    [[[[0.0, 1.0, 2.0, 3.0]]]]
    >>> interpolate(x, scale_factor=2).data.tolist()
    [[[[0.0, 0.0, 3.0, 3.0], [0.0, 0.0, 3.0, 3.0]]]]
    """
    _check_image(x, "interpolate", ranks=(4,))
    if mode not in INTERPOLATE_MODES:
        raise ValueError(f"interpolate: unknown mode {mode!r}: expected one of "
                         f"{INTERPOLATE_MODES}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"interpolate: align_corners can only be set with mode='bilinear', "
                         f"found mode='nearest' with align_corners={align_corners}")
    sizes, scales = _target_size(x.shape[-2:], size, scale_factor)
    xp = get_array_module(x.data)
    if mode == "nearest":
        sources = [_nearest_source(xp, n, m, s)
                   for n, m, s in zip(x.shape[-2:], sizes, scales)]
        factors = [m // n if m % n == 0 else 0 for n, m in zip(x.shape[-2:], sizes)]
        if all(k and xp.array_equal(i, xp.arange(i.size) // k)  # PyTorch's index = ⌊j/k⌋
               for i, k in zip(sources, factors)):
            return RepeatPixels(*factors)(x)  # whole blocks: a reshape, not a gather
        return Gather(_ravel(sources, x.shape[-2:]), 2)(x)
    a_h, a_w = (_linear_weights(xp, n, m, bool(align_corners), s).astype(x.dtype)
                for n, m, s in zip(x.shape[-2:], sizes, scales))
    return Resample2d(a_h, a_w)(x)


class RepeatPixels(Function):
    """y[..., i, j] = x[..., ⌊i/kh⌋, ⌊j/kw⌋]: every pixel repeated into a kh×kw block, which
    is nearest upsampling by whole factors; ∂L/∂x = the sum of ∂L/∂y over each block
    (``BlockSum``) — a Gather whose backward needs no scatter (add.at) because the blocks
    do not overlap. Shapes: (*, H, W) -> (*, H·kh, W·kw)."""

    def __init__(self, kh, kw):
        self.kh, self.kw = kh, kw

    def forward(self, x):
        xp = get_array_module(x)
        H, W = x.shape[-2:]
        rows = xp.arange(H * self.kh) // self.kh
        cols = xp.arange(W * self.kw) // self.kw
        # one take over the flattened (H, W) axes: faster than repeat or a broadcast copy
        return _gather(x, rows[:, None] * W + cols[None, :], 2)

    def backward(self, gy):
        return BlockSum(self.kh, self.kw)(gy)


class BlockSum(Function):
    """y[..., p, q] = Σ of x over the kh×kw block at (p, q); the adjoint of RepeatPixels:
    ∂L/∂x = RepeatPixels(∂L/∂y). Shapes: (*, H·kh, W·kw) -> (*, H, W)."""

    def __init__(self, kh, kw):
        self.kh, self.kw = kh, kw

    def forward(self, x):
        # One strided add per offset (a, b) inside the block, all blocks at once: ~4x
        # faster than reshaping to (*, H, kh, W, kw) and reducing two strided axes.
        y = x[..., 0::self.kh, 0::self.kw].copy()
        for a in range(self.kh):
            for b in range(self.kw):
                if a or b:
                    y += x[..., a::self.kh, b::self.kw]
        return y

    def backward(self, gy):
        return RepeatPixels(self.kh, self.kw)(gy)


def _target_size(in_size, size, scale_factor):
    """(OH, OW) and the scale factors PyTorch interpolates with (None when size is given)."""
    if (size is None) == (scale_factor is None):
        raise ValueError(f"interpolate: give exactly one of size and scale_factor, found "
                         f"size={size!r} and scale_factor={scale_factor!r}")
    if size is not None:
        return int_pair(size, "interpolate", "size", 1), (None, None)
    scales = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * 2
    if len(scales) != 2 or any(isinstance(s, bool) or not isinstance(s, numbers.Real)
                               or not s > 0 for s in scales):
        raise ValueError(f"interpolate: scale_factor must be a positive number or a pair of "
                         f"them, found {scale_factor!r}")
    sizes = tuple(math.floor(n * s) for n, s in zip(in_size, scales))
    if min(sizes) < 1:
        raise ValueError(f"interpolate: scale_factor={scale_factor!r} turns the input size "
                         f"{tuple(in_size)} into an empty output {sizes}")
    return sizes, tuple(float(s) for s in scales)


# ==================== adaptive average pooling ====================

def _adaptive_weights(xp, n_in, n_out):
    """(n_out, n_in) averaging matrix over PyTorch's adaptive windows
    [⌊i · n_in/n_out⌋, ⌈(i + 1) · n_in/n_out⌉) (``start_index``/``end_index`` in PyTorch's
    aten/src/ATen/native/AdaptivePooling.h, also in exact integers); windows may overlap."""
    i = xp.arange(n_out)[:, None]
    start = (i * n_in) // n_out
    end = ((i + 1) * n_in + n_out - 1) // n_out  # ceil with integers only
    columns = xp.arange(n_in)[None, :]
    return ((columns >= start) & (columns < end)) / (end - start)


def adaptive_avg_pool2d(x, output_size):
    """Average over the windows that split H (and W) into ``output_size`` nearly equal parts:
    y[..., p, q] = mean of x[..., h₀(p):h₁(p), w₀(q):w₁(q)] with h₀(p) = ⌊p·H/OH⌋ and
    h₁(p) = ⌈(p+1)·H/OH⌉. Separable and linear, y = A_H x A_Wᵀ with A's rows the window
    averages, so ∂L/∂x = A_Hᵀ (∂L/∂y) A_W.

    ``output_size``: OH or (OH, OW); None keeps that input size.
    Shape: (N, C, H, W) or (C, H, W) -> (…, OH, OW).

    >>> import minigan
    >>> x = minigan.tensor([[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]])
    >>> adaptive_avg_pool2d(x, (1, 3)).data.tolist()
    [[[1.0, 3.0, 5.0]]]
    """
    _check_image(x, "adaptive_avg_pool2d")
    sizes = _adaptive_size(output_size, x.shape[-2:], "adaptive_avg_pool2d")
    xp = get_array_module(x.data)
    a_h, a_w = (_adaptive_weights(xp, n, m).astype(x.dtype)
                for n, m in zip(x.shape[-2:], sizes))
    return Resample2d(a_h, a_w)(x)


def _adaptive_size(output_size, in_size, op):
    """(OH, OW) from an int or a pair whose None entries keep the input's size."""
    pair = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(pair) == 2 and any(s is not None for s in pair):
        pair = tuple(n if s is None else s for n, s in zip(in_size, pair))
    if len(pair) != 2 or any(isinstance(s, bool) or not isinstance(s, numbers.Integral)
                             or s < 1 for s in pair):
        raise ValueError(f"{op}: output_size must be an int ≥ 1 or a pair of them (None "
                         f"keeps that input size), found {output_size!r}")
    return int(pair[0]), int(pair[1])


# ==================== sliding windows: average and max pooling ====================

def _windows(x, kernel, stride):
    """A view (no copy) of x's KH×KW windows at the given stride:
    (*, H, W) -> (*, OH, OW, KH, KW) with OH = ⌊(H − KH)/SH⌋ + 1."""
    xp = get_array_module(x)
    view = xp.lib.stride_tricks.sliding_window_view(x, kernel, axis=(-2, -1))
    return view[..., ::stride[0], ::stride[1], :, :]


def _pad_hw(x, padding, value):
    """x with ``padding`` = (PH, PW) rows/columns of ``value`` around its last two axes."""
    xp = get_array_module(x)
    widths = ((0, 0),) * (x.ndim - 2) + ((padding[0],) * 2, (padding[1],) * 2)
    return xp.pad(x, widths, mode="constant", constant_values=value)


class AvgPool2d(Function):
    """y[..., p, q] = (1/(KH·KW)) Σ_{a<KH, b<KW} x̃[..., p·SH + a, q·SW + b], with x̃ = x
    padded by PH, PW zeros that count in the mean (PyTorch's count_include_pad=True).

    ∂L/∂x[..., i, j] = (1/(KH·KW)) Σ over the windows (p, q) that cover (i, j) of
    ∂L/∂y[..., p, q]: ``AvgPool2dAdjoint``, whose backward is this op again.
    Shapes: (*, H, W) -> (*, OH, OW), OH = ⌊(H + 2·PH − KH)/SH⌋ + 1.
    """

    def __init__(self, kernel, stride, padding):
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def forward(self, x):
        windows = _windows(_pad_hw(x, self.padding, 0), self.kernel, self.stride)
        return windows.mean(axis=(-2, -1))  # (*, OH, OW, KH, KW) -> (*, OH, OW)

    def backward(self, gy):
        size = self.inputs[0].shape[-2:]
        return AvgPool2dAdjoint(self.kernel, self.stride, self.padding, size)(gy)


class AvgPool2dAdjoint(Function):
    """y = the transpose of average pooling applied to x (shape (*, OH, OW)): each x[p, q]
    spread evenly, x[p, q]/(KH·KW), over the KH×KW input pixels of window (p, q), the
    padding cropped off. The adjoint of AvgPool2d: ∂L/∂x = AvgPool2d(∂L/∂y).
    Shapes: (*, OH, OW) -> (*, H, W) with (H, W) = ``size``.
    """

    def __init__(self, kernel, stride, padding, size):
        self.kernel, self.stride, self.padding, self.size = kernel, stride, padding, size

    def forward(self, x):
        xp = get_array_module(x)
        (kh, kw), (sh, sw), (ph, pw), (h, w) = self.kernel, self.stride, self.padding, self.size
        oh, ow = x.shape[-2:]
        share = x / (kh * kw)
        padded = xp.zeros(x.shape[:-2] + (h + 2 * ph, w + 2 * pw), dtype=x.dtype)
        for a in range(kh):  # one strided add per kernel offset, all windows at once
            for b in range(kw):
                padded[..., a:a + sh * oh:sh, b:b + sw * ow:sw] += share
        return padded[..., ph:ph + h, pw:pw + w]

    def backward(self, gy):
        return AvgPool2d(self.kernel, self.stride, self.padding)(gy)


class MaxPool2d(Function):
    """y[..., p, q] = max_{a<KH, b<KW} x̃[..., p·SH + a, q·SW + b], with x̃ = x padded by
    −∞ (padding never wins). With (i, j)(p, q) the position of that max in x (the first
    one in row-major window order on ties, as PyTorch), y is a gather of x and
    ∂L/∂x[..., i, j] = Σ_{(p, q) : (i, j)(p, q) = (i, j)} ∂L/∂y[..., p, q], a scatter-add
    (``ScatterAdd``) whose own backward is the gather (``Gather``).
    Shapes: (*, H, W) -> (*, OH, OW), OH = ⌊(H + 2·PH − KH)/SH⌋ + 1.
    """

    def __init__(self, kernel, stride, padding):
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def forward(self, x):
        xp = get_array_module(x)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        windows = _windows(_pad_hw(x, self.padding, -xp.inf), self.kernel, self.stride)
        oh, ow = windows.shape[-4:-2]
        # (*, OH, OW, KH, KW) -> (*, OH, OW, KH·KW); argmax takes the first max on ties
        best = windows.reshape(windows.shape[:-2] + (kh * kw,)).argmax(axis=-1)
        rows = xp.arange(oh)[:, None] * sh + best // kw - ph  # (*, OH, OW), x's coordinates
        cols = xp.arange(ow) * sw + best % kw - pw
        self.index = rows * x.shape[-1] + cols  # flat position in x's (H, W) plane
        return _gather(x, self.index, 2)

    def backward(self, gy):
        return ScatterAdd(self.index, self.inputs[0].shape[-2:])(gy)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over KH×KW windows every (SH, SW) pixels, zero padding counted in the mean
    (PyTorch's defaults: count_include_pad=True, ceil_mode=False). Linear; its backward
    spreads each ∂L/∂y evenly over its window (see ``AvgPool2d``).

    ``kernel_size``, ``stride`` (default: kernel_size), ``padding`` (at most half the
    kernel): an int or a pair. Shape: (N, C, H, W) or (C, H, W) -> (…, OH, OW) with
    OH = ⌊(H + 2·PH − KH)/SH⌋ + 1.

    >>> import minigan
    >>> x = minigan.tensor([[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]])
    >>> avg_pool2d(x, 2).data.tolist()
    [[[3.5, 5.5]]]
    """
    kernel, stride, padding = _pool_args(x, "avg_pool2d", kernel_size, stride, padding)
    return AvgPool2d(kernel, stride, padding)(x)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over KH×KW windows every (SH, SW) pixels, padding never chosen; the gradient goes
    to the (first) argmax of each window (see ``MaxPool2d``).

    ``kernel_size``, ``stride`` (default: kernel_size), ``padding`` (at most half the
    kernel): an int or a pair. Shape: (N, C, H, W) or (C, H, W) -> (…, OH, OW) with
    OH = ⌊(H + 2·PH − KH)/SH⌋ + 1.

    >>> import minigan
    >>> x = minigan.tensor([[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]])
    >>> max_pool2d(x, 2).data.tolist()
    [[[6.0, 8.0]]]
    """
    kernel, stride, padding = _pool_args(x, "max_pool2d", kernel_size, stride, padding)
    return MaxPool2d(kernel, stride, padding)(x)


def _window_args(op, kernel_size, stride, padding):
    """kernel_size, stride (default: kernel_size) and padding as checked pairs."""
    kernel = int_pair(kernel_size, op, "kernel_size", 1)
    stride = kernel if stride is None else int_pair(stride, op, "stride", 1)
    padding = int_pair(padding, op, "padding", 0)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding must be at most half the kernel size, found "
                         f"padding={padding} for kernel_size={kernel}")
    return kernel, stride, padding


def _pool_args(x, op, kernel_size, stride, padding):
    """Check the input and the window arguments; returns the arguments as pairs."""
    _check_image(x, op)
    kernel, stride, padding = _window_args(op, kernel_size, stride, padding)
    padded = tuple(n + 2 * p for n, p in zip(x.shape[-2:], padding))
    if any(n < k for n, k in zip(padded, kernel)):
        raise ValueError(f"{op}: kernel_size {kernel} is larger than the input's "
                         f"{x.shape[-2]}×{x.shape[-1]} plane padded to {padded[0]}×{padded[1]} "
                         f"(input shape {x.shape})")
    return kernel, stride, padding


# ==================== argument checks ====================

def _check_tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, found {type(x).__name__}")


def _check_image(x, op, ranks=(3, 4)):
    _check_tensor(x, op)
    if x.ndim not in ranks:
        expected = " or ".join({3: "3-D (C, H, W)", 4: "4-D (N, C, H, W)"}[r] for r in ranks)
        raise ValueError(f"{op}: expected a {expected} input, found shape {x.shape}")
