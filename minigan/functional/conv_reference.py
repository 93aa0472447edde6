"""Slow, obviously-correct convolutions: loops straight from the formulas.

These are the oracles of the fast ops in ``conv.py`` (im2col + one GEMM), and the version
to read first: every output element is the sum the formula writes down, with the zero
padding expressed as "skip the terms that fall outside the input". They work on NumPy
(or CuPy) arrays and take PyTorch's arguments (int or pair; padding also "same" / "valid"),
read, with the output sizes, by functional/arguments.py like the fast ops' (the tests pin
those sizes by hand, on the notes' DCGAN walks).

>>> import numpy as np
>>> x = np.arange(9.0).reshape(1, 1, 3, 3)
>>> w = np.ones((1, 1, 2, 2))
>>> conv2d_reference(x, w)[0, 0]           # sums of each 2×2 window
array([[ 8., 12.],
       [20., 24.]])
>>> conv_transpose2d_reference(np.ones((1, 1, 2, 2)), w)[0, 0]   # overlapping stamps
array([[1., 2., 1.],
       [2., 4., 2.],
       [1., 2., 1.]])
"""
from minigan.backend import get_array_module
from minigan.functional.arguments import (conv_output_size, conv_padding,
                                          conv_transpose_output_size, int_pair)


def conv2d_reference(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, i, j] = b[o] + Σ_{c, kh, kw} w[o, c, kh, kw] · x[n, g·Cg + c, i·s − pt + kh·d,
    j·s − pl + kw·d] (terms outside the input are zero), g = o // (OC / groups)."""
    op = "conv2d_reference"
    N, C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    (sh, sw), (dh, dw) = int_pair(stride, op, "stride", 1), int_pair(dilation, op, "dilation", 1)
    (pt, pb), (pl, pr) = conv_padding(padding, (KH, KW), (sh, sw), (dh, dw), op)
    OH, OW = conv_output_size(H, KH, sh, (pt, pb), dh), conv_output_size(W, KW, sw, (pl, pr), dw)
    OCg = OC // groups
    y = get_array_module(x).zeros((N, OC, OH, OW), dtype=x.dtype)
    for n in range(N):
        for o in range(OC):
            g = o // OCg
            for i in range(OH):
                for j in range(OW):
                    total = 0.0 if b is None else b[o]
                    for c in range(Cg):
                        for kh in range(KH):
                            for kw in range(KW):
                                h = i * sh - pt + kh * dh
                                v = j * sw - pl + kw * dw
                                if 0 <= h < H and 0 <= v < W:
                                    total += w[o, c, kh, kw] * x[n, g * Cg + c, h, v]
                    y[n, o, i, j] = total
    return y


def conv2d_grad_weight_reference(x, gy, kernel_size, stride=1, padding=0, dilation=1,
                                 groups=1):
    """∂L/∂w of conv2d: gw[o, c, kh, kw] = Σ_{n, i, j} gy[n, o, i, j] ·
    x[n, g·Cg + c, i·s − pt + kh·d, j·s − pl + kw·d] (terms outside the input are zero)."""
    op = "conv2d_grad_weight_reference"
    N, C, H, W = x.shape
    _, OC, OH, OW = gy.shape
    KH, KW = int_pair(kernel_size, op, "kernel_size", 1)
    (sh, sw), (dh, dw) = int_pair(stride, op, "stride", 1), int_pair(dilation, op, "dilation", 1)
    (pt, _), (pl, _) = conv_padding(padding, (KH, KW), (sh, sw), (dh, dw), op)
    Cg, OCg = C // groups, OC // groups
    gw = get_array_module(x).zeros((OC, Cg, KH, KW), dtype=x.dtype)
    for o in range(OC):
        g = o // OCg
        for c in range(Cg):
            for kh in range(KH):
                for kw in range(KW):
                    for n in range(N):
                        for i in range(OH):
                            for j in range(OW):
                                h = i * sh - pt + kh * dh
                                v = j * sw - pl + kw * dw
                                if 0 <= h < H and 0 <= v < W:
                                    gw[o, c, kh, kw] += gy[n, o, i, j] * x[n, g * Cg + c, h, v]
    return gw


def conv_transpose2d_reference(x, w, b=None, stride=1, padding=0, output_padding=0,
                               groups=1, dilation=1):
    """Each input pixel stamps its weighted kernel onto the output:
    y[n, g·OCg + o, i·s − p + kh·d, j·s − p + kw·d] += x[n, c, i, j] · w[c, o, kh, kw]
    for c in group g = c // (C / groups); stamps falling outside the output are dropped.
    Output size: (H − 1)s − 2p + d(k − 1) + output_padding + 1."""
    op = "conv_transpose2d_reference"
    N, C, H, W = x.shape
    _, OCg, KH, KW = w.shape
    (sh, sw), (ph, pw) = int_pair(stride, op, "stride", 1), int_pair(padding, op, "padding", 0)
    oph, opw = int_pair(output_padding, op, "output_padding", 0)
    dh, dw = int_pair(dilation, op, "dilation", 1)
    OH = conv_transpose_output_size(H, KH, sh, ph, oph, dh)
    OW = conv_transpose_output_size(W, KW, sw, pw, opw, dw)
    Cg = C // groups
    y = get_array_module(x).zeros((N, OCg * groups, OH, OW), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            g = c // Cg
            for i in range(H):
                for j in range(W):
                    for o in range(OCg):
                        for kh in range(KH):
                            for kw in range(KW):
                                h = i * sh - ph + kh * dh
                                v = j * sw - pw + kw * dw
                                if 0 <= h < OH and 0 <= v < OW:
                                    y[n, g * OCg + o, h, v] += x[n, c, i, j] * w[c, o, kh, kw]
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y
