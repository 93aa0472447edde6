"""The argument checks and size formulas that convolution, padding, resampling and pooling
share, written once: the ops (functional/conv.py, padding.py, interpolation.py,
pooling.py), the slow references (conv_reference.py) and the layers (nn/conv.py,
nn/resize.py) all call these, so an op and its layer accept the same arguments and fail
with the same message.

Every check raises a ValueError (TypeError for a wrong type) that names the op or layer,
the argument, what was expected and what was found.
"""
import numbers

from minigan.autograd import Tensor


# ==================== numbers ====================

def int_pair(value, op, name, minimum):
    """(a, b) from an int or a pair of ints, each ≥ ``minimum`` — PyTorch's "int or tuple"
    arguments.

    >>> int_pair(3, "conv2d", "stride", 1), int_pair((1, 2), "conv2d", "padding", 0)
    ((3, 3), (1, 2))
    """
    if isinstance(value, numbers.Integral):
        pair = (value, value)
    else:
        pair = tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or any(not _is_int(v) or v < minimum for v in pair):
        raise ValueError(f"{op}: {name} must be an int ≥ {minimum} or a pair of them, found "
                         f"{value!r}")
    return int(pair[0]), int(pair[1])


def positive_int(value, op, name):
    """``value`` if it is an int ≥ 1 (channels, groups)."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, found {value!r}")
    return int(value)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# ==================== tensors ====================

IMAGE_LAYOUTS = ("(C, H, W)", "(N, C, H, W)")  # an image, or a batch of them


def check_tensor(x, op, layouts=None, what="input", floating=False):
    """x must be a Tensor; with ``layouts`` (e.g. ("(C, H, W)", "(N, C, H, W)")) of one of
    their ranks; with ``floating``, of a floating-point dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor {what}, found {type(x).__name__}")
    if layouts is not None:
        ranks = {layout.count(",") + 1: layout for layout in layouts}
        if x.ndim not in ranks:
            expected = " or ".join(f"{r}-D {layout}" for r, layout in ranks.items())
            raise ValueError(f"{op}: expected a {expected} {what}, found shape {x.shape}")
    if floating and x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point {what} (float32 or float64), "
                        f"found {x.dtype}")


# ==================== convolution ====================

def conv_output_size(h, kernel, stride=1, padding=0, dilation=1):
    """Output size of a convolution along one axis: ⌊(H + pt + pb − d(k − 1) − 1) / s⌋ + 1,
    for ``padding`` p on each side (pt = pb = p) or a pair (pt, pb). Pooling windows are
    the case d = 1.

    >>> conv_output_size(28, 4, stride=2), conv_output_size(5, 3, 1, (1, 2))
    (13, 6)
    """
    top, bottom = (padding, padding) if _is_int(padding) else padding
    return (h + top + bottom - dilation * (kernel - 1) - 1) // stride + 1


def conv_transpose_output_size(h, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    """Output size of a transposed convolution along one axis (notes 000, "gen block 계산"):
    (H − 1)s − pt − pb + d(k − 1) + output_padding + 1, for ``padding`` p on each side or a
    pair (pt, pb). It inverts conv_output_size where the floor there drops nothing.

    >>> conv_transpose_output_size(13, 4, stride=2), conv_output_size(28, 4, stride=2)
    (28, 13)
    """
    top, bottom = (padding, padding) if _is_int(padding) else padding
    return (h - 1) * stride - top - bottom + dilation * (kernel - 1) + output_padding + 1


def conv_padding(padding, kernel_size, stride, dilation, op):
    """((top, bottom), (left, right)) from PyTorch's conv padding: an int, a pair, "valid"
    (none) or "same" (stride 1: the output keeps the input's size; the odd row of an even
    dilated kernel goes last, as in PyTorch).

    >>> conv_padding("same", (4, 3), (1, 1), (1, 2), "conv2d")
    ((1, 2), (2, 2))
    """
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        if tuple(stride) != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, found stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int, a pair, 'same' or 'valid', "
                         f"found {padding!r}")
    ph, pw = int_pair(padding, op, "padding", 0)
    return (ph, ph), (pw, pw)


def check_output_padding(output_padding, stride, dilation, op):
    """The output_padding pair of a transposed convolution: each entry must be smaller than
    the stride or the dilation along its axis (else it would add rows no input reaches)."""
    pair = int_pair(output_padding, op, "output_padding", 0)
    if any(o >= s and o >= d for o, s, d in zip(pair, stride, dilation)):
        raise ValueError(f"{op}: output_padding {pair} must be smaller than either stride "
                         f"{tuple(stride)} or dilation {tuple(dilation)}")
    return pair


def check_groups(groups, in_channels, out_channels, op):
    """groups must be a positive int dividing both channel counts."""
    groups = positive_int(groups, op, "groups")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{op}: groups={groups} must divide both in_channels "
                         f"({in_channels}) and out_channels ({out_channels})")
    return groups


def check_bias(bias, out_channels, op):
    """bias must be None or a Tensor of shape (out_channels,)."""
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (out_channels,)):
        raise ValueError(f"{op}: expected bias of shape ({out_channels},), found "
                         f"{getattr(bias, 'shape', type(bias).__name__)}")


# ==================== sliding windows (pooling) ====================

def window_args(kernel_size, stride, padding, op):
    """kernel_size, stride (default: kernel_size) and padding (at most half the kernel) of
    a pooling window, as pairs."""
    kernel = int_pair(kernel_size, op, "kernel_size", 1)
    stride = kernel if stride is None else int_pair(stride, op, "stride", 1)
    padding = int_pair(padding, op, "padding", 0)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding must be at most half the kernel size, found "
                         f"padding={padding} for kernel_size={kernel}")
    return kernel, stride, padding


def check_window_fits(in_hw, kernel, padding, dilation, op):
    """The (dilated) window must fit in the padded input — conv_output_size ≥ 1 — for
    ``padding`` ((top, bottom), (left, right))."""
    padded = tuple(n + p0 + p1 for n, (p0, p1) in zip(in_hw, padding))
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(k > n for k, n in zip(spans, padded)):
        what = "dilated kernel" if tuple(dilation) != (1, 1) else "kernel"
        raise ValueError(f"{op}: the {what} {spans[0]}×{spans[1]} is larger than the padded "
                         f"input {padded[0]}×{padded[1]} (input {in_hw[0]}×{in_hw[1]})")


def adaptive_size(output_size, in_size, op):
    """(OH, OW) of adaptive pooling from an int or a pair whose None entries keep the
    input's size."""
    pair = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(pair) == 2 and any(s is not None for s in pair):
        pair = tuple(n if s is None else s for n, s in zip(in_size, pair))
    if len(pair) != 2 or any(not _is_int(s) or s < 1 for s in pair):
        raise ValueError(f"{op}: output_size must be an int ≥ 1 or a pair of them (None "
                         f"keeps that input size), found {output_size!r}")
    return int(pair[0]), int(pair[1])


# ==================== padding ====================

PAD_MODES = ("constant", "reflect", "replicate")


def pad_widths(pad, op, shape=None, sides=None):
    """PyTorch's flat pad tuple (left, right, top, bottom, …), last axis first, as
    ((before, after), …) in axis order, first padded axis first. ``shape``: the input's,
    which must have that many axes; ``sides``: the exact length required (4 for a 2-D
    padding layer, which is checked before any input exists).

    >>> pad_widths((1, 2, 3, 4), "pad")
    ((3, 4), (1, 2))
    """
    if sides is not None:
        if not isinstance(pad, (tuple, list)) or len(pad) != sides:
            raise ValueError(f"{op}: padding must be a non-negative int or (left, right, top, "
                             f"bottom), found {pad!r}")
    elif not isinstance(pad, (tuple, list)) or not pad or len(pad) % 2:
        raise ValueError(f"{op}: expected a non-empty tuple of even length (left, right, top, "
                         f"bottom, ...), found {pad!r}")
    if any(not _is_int(p) or p < 0 for p in pad):
        raise ValueError(f"{op}: paddings must be non-negative ints, found {tuple(pad)}")
    k = len(pad) // 2
    if shape is not None and k > len(shape):
        raise ValueError(f"{op}: {tuple(pad)} pads {k} axes but the input has shape "
                         f"{tuple(shape)} ({len(shape)} axes)")
    return tuple((int(pad[2 * i]), int(pad[2 * i + 1])) for i in reversed(range(k)))


def check_pad_mode(mode, op):
    if mode not in PAD_MODES:
        raise ValueError(f"{op}: unknown mode {mode!r}: expected one of {PAD_MODES}")


# ==================== interpolation ====================

INTERPOLATE_MODES = ("nearest", "bilinear")


def check_interpolation(size, scale_factor, mode, align_corners, op):
    """The arguments of interpolate / Upsample that do not depend on the input."""
    if mode not in INTERPOLATE_MODES:
        raise ValueError(f"{op}: unknown mode {mode!r}: expected one of {INTERPOLATE_MODES}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{op}: align_corners can only be set with mode='bilinear', "
                         f"found mode='nearest' with align_corners={align_corners}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor, found "
                         f"size={size!r} and scale_factor={scale_factor!r}")
    if size is not None:
        int_pair(size, op, "size", 1)
        return
    scales = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * 2
    if len(scales) != 2 or any(isinstance(s, bool) or not isinstance(s, numbers.Real)
                               or not s > 0 for s in scales):
        raise ValueError(f"{op}: scale_factor must be a positive number or a pair of "
                         f"them, found {scale_factor!r}")
