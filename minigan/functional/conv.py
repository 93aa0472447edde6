"""2-D convolution and transposed convolution: im2col + one GEMM, twice differentiable.

Three Functions close the set under differentiation (DESIGN.md, "Conv and transposed conv
are each other's adjoints"):

    Conv2d(x, w)           y  = x ⋆ w                    (notes 000: "Convolution 연산")
    ConvTranspose2d(x, w)  y  = the adjoint of x ↦ x ⋆ w  (notes 000: "Transposed Convolution")
    Conv2dGradWeight(x, gy) gw = ∂⟨gy, x ⋆ w⟩/∂w

The backward of each is made of the three, so ``grad(..., create_graph=True)`` goes through
any stack of convolutions (the gradient penalty of WGAN-GP, notes 002).

The fast path is im2col + one GEMM on batch-last arrays (functional/_im2col.py says how and
why). Outputs keep that memory layout: a convolution returns its (C, H, W, N) result seen
as (N, C, H, W), a strided view; shapes, values and semantics are those of (N, C, H, W).
Argument checks and size formulas are shared with the layers (functional/arguments.py).

>>> import minigan
>>> x = minigan.ones(1, 1, 4, 4)
>>> w = minigan.ones(1, 1, 3, 3)
>>> conv2d(x, w, padding=1)[0, 0].numpy()      # how many pixels each 3×3 window covers
array([[4., 6., 6., 4.],
       [6., 9., 9., 6.],
       [6., 9., 9., 6.],
       [4., 6., 6., 4.]], dtype=float32)
"""
from typing import NamedTuple

from minigan.autograd import Function, is_grad_enabled
from minigan.backend import get_array_module
from minigan.functional._im2col import batch_first, batch_last, col2im, im2col, scratch
from minigan.functional.arguments import (check_bias, check_groups, check_output_padding,
                                          check_tensor, check_window_fits, conv_output_size,
                                          conv_padding, conv_transpose_output_size, int_pair)


# ==================== geometry ====================

class ConvGeometry(NamedTuple):
    """Stride (sh, sw), padding ((top, bottom), (left, right)), dilation (dh, dw), groups.

    Padding is per side because padding="same" with an even kernel pads one more row at
    the bottom (as PyTorch does). A negative bottom/right pad crops instead: a transposed
    convolution's output_padding is a bottom pad of p − output_padding, and the gradient of
    that transposed convolution is a convolution with the same (cropping) geometry.
    """
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int

    def conv_size(self, hw, kernel_size):
        """Output (OH, OW) of a convolution: ⌊(H + pt + pb − d(k − 1) − 1) / s⌋ + 1."""
        return tuple(conv_output_size(n, k, s, p, d) for n, k, s, p, d
                     in zip(hw, kernel_size, self.stride, self.padding, self.dilation))

    def transpose_size(self, hw, kernel_size):
        """Output (OH, OW) of a transposed convolution: (H − 1)s − pt − pb + d(k − 1) + 1."""
        return tuple(conv_transpose_output_size(n, k, s, p, 0, d) for n, k, s, p, d
                     in zip(hw, kernel_size, self.stride, self.padding, self.dilation))

    def adjoint_for(self, hw, kernel_size):
        """The geometry whose transposed convolution maps this convolution's output back to
        exactly (H, W): the r = H − transpose_size(conv_size(H)) rows past the last window
        (the remainder of the floor in conv_size) get no gradient, so they become extra
        zero rows at the bottom (bottom pad − r)."""
        back = self.transpose_size(self.conv_size(hw, kernel_size), kernel_size)
        pads = tuple((p0, p1 - (n - m)) for n, m, (p0, p1) in zip(hw, back, self.padding))
        return self._replace(padding=pads)


# ==================== the three Functions ====================

class Conv2d(Function):
    """y = x ⋆ w + b, cross-correlation as in PyTorch:

        y[n, o, i, j] = b[o] + Σ_{c,kh,kw} w[o, c, kh, kw] · x̃[n, g·Cg + c, i·s + kh·d, j·s + kw·d]

    x̃ the zero-padded input, g = o // OCg the group of output channel o. One GEMM:
    Y (G, OCg, OH·OW·N) = W (G, OCg, Cg·KH·KW) @ im2col(x) (G, Cg·KH·KW, OH·OW·N).

        ∂L/∂x = conv_transpose2d(gy, w)  (same stride, padding, dilation, groups: the adjoint)
        ∂L/∂w[o, c, kh, kw] = Σ_{n, i, j} gy[n, o, i, j] · x̃[n, g·Cg + c, i·s + kh·d, j·s + kw·d]
              = conv2d_grad_weight(x, gy)
        ∂L/∂b[o] = Σ_{n, i, j} gy[n, o, i, j]

    Shapes: x (N, C, H, W), w (OC, C/groups, KH, KW), b (OC,), y (N, OC, OH, OW).
    With ``keep_cols`` the im2col matrix stays with the Function for the weight gradient:
    memory (KH·KW/s² times the input) traded for one im2col less per backward.
    """

    def __init__(self, geometry, cols=None, keep_cols=False):
        self.geometry, self.cols, self.keep_cols = geometry, cols, keep_cols

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        OC, Cg, KH, KW = w.shape
        G, (OH, OW) = self.geometry.groups, self.geometry.conv_size(x.shape[2:], (KH, KW))
        N = x.shape[0]
        cols = self.cols
        if cols is None:
            cols = im2col(x, self.geometry, (KH, KW), keep=self.keep_cols)
            self.cols = cols if self.keep_cols else None
        w2 = w.reshape(G, OC // G, Cg * KH * KW)        # (OC, Cg, KH, KW) -> (G, OCg, Cg·KH·KW)
        y = xp.matmul(w2, cols)                            # (G, OCg, OH·OW·N), a new array
        y = y.reshape(OC, OH, OW, N)                       # (G, OCg, OH·OW·N) -> (OC, OH, OW, N)
        return batch_first(y, b, owned=True)              # -> (N, OC, OH, OW), a view

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = ConvTranspose2d(self.geometry.adjoint_for(x.shape[2:], w.shape[2:]))(gy, w)
        if need[1]:
            gw = Conv2dGradWeight(self.geometry, w.shape[2:], cols=self.cols)(x, gy)
        if len(need) == 3 and need[2]:
            gb = gy.sum(axis=(0, 2, 3))
        return gx, gw, gb


class ConvTranspose2d(Function):
    """y = the adjoint of the convolution x ↦ x ⋆ w: each input pixel stamps its weighted
    kernel onto the output (notes 000: the H_out formula of the DCGAN generator),

        y[n, g·OCg + o, i·s + kh·d − pt, j·s + kw·d − pl] += x[n, c, i, j] · w[c, o, kh, kw]

    for c in group g. ConvTranspose2d can be seen as the gradient of Conv2d with respect to
    its input; the GEMM is W (G, Cg, OCg·KH·KW)ᵀ @ x (G, Cg, H·W·N), then col2im.

        ∂L/∂x = conv2d(gy, w)  (same stride, padding, dilation, groups)
        ∂L/∂w = conv2d_grad_weight(gy, x)  (the roles swap: ⟨gy, convᵀ(x, w)⟩ = ⟨conv(gy, w), x⟩)
        ∂L/∂b[o] = Σ_{n, i, j} gy[n, o, i, j]

    Shapes: x (N, C, H, W), w (C, OC/groups, KH, KW), b (OC,), y (N, OC, OH, OW) with
    OH = (H − 1)s − pt − pb + d(KH − 1) + 1.
    """

    def __init__(self, geometry):
        self.geometry = geometry

    def forward(self, x, w, b=None):
        xp = get_array_module(x)
        C, OCg, KH, KW = w.shape
        N, _, H, W = x.shape
        G = self.geometry.groups
        xc = batch_last(x).reshape(G, C // G, H * W * N)     # (C, H, W, N) -> (G, Cg, H·W·N)
        wt = w.reshape(G, C // G, OCg * KH * KW).transpose(0, 2, 1)  # -> (G, OCg·KH·KW, Cg), a view
        cols = scratch.empty("gemm", (G, OCg * KH * KW, H * W * N), x.dtype, xp)
        xp.matmul(wt, xc, out=cols)                           # (G, OCg·KH·KW, H·W·N)
        out_hw = self.geometry.transpose_size((H, W), (KH, KW))
        return col2im(cols, self.geometry, (KH, KW), (H, W), out_hw, bias=b)

    def backward(self, gy):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        gx = gw = gb = None
        conv = Conv2d(self.geometry, keep_cols=need[1])  # im2col(gy) serves gx and gw
        if need[0]:
            gx = conv(gy, w)
        if need[1]:
            gw = Conv2dGradWeight(self.geometry, w.shape[2:], cols=conv.cols)(gy, x)
        if len(need) == 3 and need[2]:
            gb = gy.sum(axis=(0, 2, 3))
        return gx, gw, gb


class Conv2dGradWeight(Function):
    """gw = ∂⟨gy, x ⋆ w⟩/∂w, the weight gradient of Conv2d as an op of its own (bilinear in
    x and gy):

        gw[o, c, kh, kw] = Σ_{n, i, j} gy[n, o, i, j] · x̃[n, g·Cg + c, i·s + kh·d, j·s + kw·d]

    One GEMM: gy (G, OCg, OH·OW·N) @ im2col(x)ᵀ (G, OH·OW·N, Cg·KH·KW). Since
    ⟨ggw, gw⟩ = ⟨gy, x ⋆ ggw⟩, its own derivatives are again convolutions:

        ∂L/∂x = conv_transpose2d(gy, ggw),   ∂L/∂gy = conv2d(x, ggw)

    Shapes: x (N, C, H, W), gy (N, OC, OH, OW), gw (OC, C/groups, KH, KW).
    """

    def __init__(self, geometry, kernel_size, cols=None):
        self.geometry, self.kernel_size, self.cols = geometry, tuple(kernel_size), cols

    def forward(self, x, gy):
        xp = get_array_module(x)
        N, C, _, _ = x.shape
        OC, (KH, KW), G = gy.shape[1], self.kernel_size, self.geometry.groups
        if self.cols is None:
            self.cols = im2col(x, self.geometry, self.kernel_size, keep=True)  # for ∂L/∂gy
        gyc = batch_last(gy).reshape(G, OC // G, -1)     # (OC, OH, OW, N) -> (G, OCg, OH·OW·N)
        gw = xp.matmul(gyc, self.cols.transpose(0, 2, 1))   # (G, OCg, Cg·KH·KW)
        return gw.reshape(OC, C // G, KH, KW)               # (G, OCg, Cg·KH·KW) -> (OC, Cg, KH, KW)

    def backward(self, ggw):
        x, gy = self.inputs
        gx = ggy = None
        if self.needs_input_grad[0]:
            gx = ConvTranspose2d(self.geometry.adjoint_for(x.shape[2:], self.kernel_size))(
                gy, ggw)
        if self.needs_input_grad[1]:
            ggy = Conv2d(self.geometry, cols=self.cols)(x, ggw)
        return gx, ggy


# ==================== what users call ====================

def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of x (N, C, H, W) with weight (OC, C/groups, KH,
    KW), PyTorch's arguments; padding may also be "same" (stride 1) or "valid".
    Output (N, OC, OH, OW), OH = ⌊(H + 2p − d(KH − 1) − 1) / s⌋ + 1.

    >>> import minigan
    >>> x = minigan.randn(2, 3, 28, 28)
    >>> conv2d(x, minigan.randn(16, 3, 4, 4), stride=2, padding=1).shape
    (2, 16, 14, 14)
    >>> conv2d(x, minigan.randn(6, 1, 5, 5), padding="same", groups=3).shape
    (2, 6, 28, 28)
    """
    op = "conv2d"
    check_tensor(x, op, ("(N, C, H, W)",), floating=True)
    check_tensor(weight, op, ("(OC, C/groups, KH, KW)",), "weight", floating=True)
    groups = check_groups(groups, x.shape[1], weight.shape[0], op)
    check_bias(bias, weight.shape[0], op)
    if x.shape[1] != weight.shape[1] * groups:
        raise ValueError(
            f"{op}: expected an input with C = {weight.shape[1] * groups} channels (weight "
            f"{weight.shape}, groups={groups}), found C = {x.shape[1]} (input {x.shape})")
    stride, dilation = int_pair(stride, op, "stride", 1), int_pair(dilation, op, "dilation", 1)
    kernel_size = weight.shape[2:]
    geometry = ConvGeometry(stride, conv_padding(padding, kernel_size, stride, dilation, op),
                            dilation, groups)
    check_window_fits(x.shape[2:], kernel_size, geometry.padding, dilation, op)
    keep_cols = is_grad_enabled() and weight.requires_grad
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d(geometry, keep_cols=keep_cols)(*inputs)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution of x (N, C, H, W) with weight (C, OC/groups, KH, KW),
    PyTorch's arguments: the gradient of conv2d with respect to its input.
    Output (N, OC, OH, OW), OH = (H − 1)s − 2p + d(KH − 1) + output_padding + 1.

    >>> import minigan
    >>> z = minigan.randn(2, 64, 1, 1)           # the DCGAN walk of notes 000: 1 -> 3
    >>> conv_transpose2d(z, minigan.randn(64, 256, 3, 3), stride=2).shape
    (2, 256, 3, 3)
    """
    op = "conv_transpose2d"
    check_tensor(x, op, ("(N, C, H, W)",), floating=True)
    check_tensor(weight, op, ("(C, OC/groups, KH, KW)",), "weight", floating=True)
    groups = check_groups(groups, weight.shape[0], weight.shape[1] * groups, op)
    check_bias(bias, weight.shape[1] * groups, op)
    if x.shape[1] != weight.shape[0]:
        raise ValueError(
            f"{op}: expected an input with C = {weight.shape[0]} channels (weight "
            f"{weight.shape}), found C = {x.shape[1]} (input {x.shape})")
    stride, dilation = int_pair(stride, op, "stride", 1), int_pair(dilation, op, "dilation", 1)
    ph, pw = int_pair(padding, op, "padding", 0)
    oph, opw = check_output_padding(output_padding, stride, dilation, op)
    geometry = ConvGeometry(stride, ((ph, ph - oph), (pw, pw - opw)), dilation, groups)
    out_hw = geometry.transpose_size(x.shape[2:], weight.shape[2:])
    if min(out_hw) < 1:
        raise ValueError(f"{op}: the output would be {out_hw[0]}×{out_hw[1]} for input "
                         f"{x.shape} (expected a positive size; reduce the padding)")
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return ConvTranspose2d(geometry)(*inputs)


def conv2d_grad_weight(x, gy, kernel_size, stride=1, padding=0, dilation=1, groups=1):
    """∂L/∂w of ``conv2d(x, w, stride=, padding=, dilation=, groups=)`` for the output
    gradient gy (N, OC, OH, OW): a tensor of shape (OC, C/groups, KH, KW).

    >>> import minigan
    >>> x, w = minigan.randn(2, 3, 5, 5), minigan.randn(4, 3, 3, 3, requires_grad=True)
    >>> gy = minigan.ones(2, 4, 3, 3)
    >>> gw = conv2d_grad_weight(x, gy, (3, 3))
    >>> bool((gw - minigan.grad(conv2d(x, w).sum(), w)[0]).abs().max().item() < 1e-4)
    True
    """
    op = "conv2d_grad_weight"
    check_tensor(x, op, ("(N, C, H, W)",), floating=True)
    check_tensor(gy, op, ("(N, OC, OH, OW)",), "output gradient", floating=True)
    groups = check_groups(groups, x.shape[1], gy.shape[1], op)
    kernel_size = int_pair(kernel_size, op, "kernel_size", 1)
    stride, dilation = int_pair(stride, op, "stride", 1), int_pair(dilation, op, "dilation", 1)
    geometry = ConvGeometry(stride, conv_padding(padding, kernel_size, stride, dilation, op),
                            dilation, groups)
    expected = (x.shape[0], gy.shape[1]) + geometry.conv_size(x.shape[2:], kernel_size)
    if gy.shape != expected:
        raise ValueError(f"{op}: expected an output gradient of shape {expected} for input "
                         f"{x.shape} and kernel {kernel_size}, found {gy.shape}")
    return Conv2dGradWeight(geometry, kernel_size)(x, gy)
