"""Pooling: average and max over sliding windows, and adaptive average pooling.

Average pooling is linear, with a window-shaped adjoint (``AvgPool2dAdjoint``); adaptive
average pooling is the separable linear map y = A_H x A_Wᵀ (``Resample2d``); max pooling
is a gather of each window's argmax, whose adjoint is a scatter-add (``ScatterAdd``). See
functional/_linear_maps.py. Output size along each axis: conv_output_size with dilation 1,
OH = ⌊(H + 2·PH − KH)/SH⌋ + 1 (functional/arguments.py).
"""
from minigan.autograd import Function
from minigan.backend import get_array_module
from minigan.functional._linear_maps import Resample2d, ScatterAdd, gather
from minigan.functional.arguments import (IMAGE_LAYOUTS, adaptive_size, check_tensor,
                                          check_window_fits, window_args)


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
    check_tensor(x, "adaptive_avg_pool2d", IMAGE_LAYOUTS)
    sizes = adaptive_size(output_size, x.shape[-2:], "adaptive_avg_pool2d")
    xp = get_array_module(x.data)
    a_h, a_w = (_adaptive_weights(xp, n, m).astype(x.dtype)
                for n, m in zip(x.shape[-2:], sizes))
    return Resample2d(a_h, a_w)(x)


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
        return gather(x, self.index, 2)

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


def _pool_args(x, op, kernel_size, stride, padding):
    """Check the input and the window arguments; returns the arguments as pairs."""
    check_tensor(x, op, IMAGE_LAYOUTS)
    kernel, stride, padding = window_args(kernel_size, stride, padding, op)
    check_window_fits(x.shape[-2:], kernel, [(p, p) for p in padding], (1, 1), op)
    return kernel, stride, padding
