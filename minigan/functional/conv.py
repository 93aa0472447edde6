"""2-D convolution and transposed convolution: im2col + one GEMM, twice differentiable.

Three Functions close the set under differentiation (DESIGN.md, "Conv and transposed conv
are each other's adjoints"):

    Conv2d(x, w)           y  = x ⋆ w                    (notes 000: "Convolution 연산")
    ConvTranspose2d(x, w)  y  = the adjoint of x ↦ x ⋆ w  (notes 000: "Transposed Convolution")
    Conv2dGradWeight(x, gy) gw = ∂⟨gy, x ⋆ w⟩/∂w

The backward of each is made of the three, so ``grad(..., create_graph=True)`` goes through
any stack of convolutions (the gradient penalty of WGAN-GP, notes 002).

How the fast path works. im2col copies every receptive field of the padded input into a
column of a matrix, so the convolution becomes one matrix product (GEMM), which BLAS runs
near the machine's peak. Inside, arrays are laid out batch-last, (C, H, W, N), as in
cuda-convnet: a receptive field's element for the whole batch is then one contiguous run
of N numbers, so im2col (a strided view copied once) and col2im (a scatter-add, one strided
slice per kernel offset) move long contiguous runs instead of rows of a few pixels.

Outputs keep that memory layout: a convolution returns its (C, H, W, N) result seen as
(N, C, H, W), a strided view (what PyTorch calls a memory format). Shapes, values and
every op's semantics are those of (N, C, H, W); only the strides differ. Batch norm and
activations then run on contiguous per-channel blocks and the next convolution reads its
input without a transpose; a batch-first input (images from a dataset) is transposed once.
Removing the two transposes per convolution took the notes' DCGAN step from ~150 to
~115 ms (BENCHMARKS.md). Two CPU details, each explained where it is handled: rows whose
length would make that one transpose thrash the cache are padded ("pitched"), and the
temporaries of a call live in reused scratch blocks (fresh pages cost a page fault each).

>>> import minigan
>>> x = minigan.ones(1, 1, 4, 4)
>>> w = minigan.ones(1, 1, 3, 3)
>>> conv2d(x, w, padding=1)[0, 0].numpy()      # how many pixels each 3×3 window covers
array([[4., 6., 6., 4.],
       [6., 9., 9., 6.],
       [6., 9., 9., 6.],
       [4., 6., 6., 4.]], dtype=float32)
"""
import math
import numbers
import threading
from typing import NamedTuple

from minigan.autograd import Function, Tensor, is_grad_enabled
from minigan.backend import get_array_module
from minigan.functional.arguments import int_pair


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
        return tuple((n + p0 + p1 - d * (k - 1) - 1) // s + 1 for n, k, s, (p0, p1), d
                     in zip(hw, kernel_size, self.stride, self.padding, self.dilation))

    def transpose_size(self, hw, kernel_size):
        """Output (OH, OW) of a transposed convolution: (H − 1)s − pt − pb + d(k − 1) + 1."""
        return tuple((n - 1) * s - p0 - p1 + d * (k - 1) + 1 for n, k, s, (p0, p1), d
                     in zip(hw, kernel_size, self.stride, self.padding, self.dilation))

    def adjoint_for(self, hw, kernel_size):
        """The geometry whose transposed convolution maps this convolution's output back to
        exactly (H, W): rows past the last window (the remainder of the floor in conv_size)
        get no gradient, so they become extra zero rows at the bottom (bottom pad − r)."""
        pads = tuple((p0, p1 - (n + p0 + p1 - d * (k - 1) - 1) % s) for n, k, s, (p0, p1), d
                     in zip(hw, kernel_size, self.stride, self.padding, self.dilation))
        return self._replace(padding=pads)


# ==================== scratch memory ====================

class _Scratch(threading.local):
    """Reusable blocks for the temporaries that die inside one call (the padded batch-last
    input, GEMM results, col2im's sums), one block per role and thread.

    Why: a DCGAN step allocates and frees tens of MB of such temporaries; the C allocator
    hands big freed blocks back to the OS, and the first touch of each fresh 4 KiB page
    is a page fault (~4 µs in a VM): about 7,700 faults, ~30 ms, per step of the notes'
    MNIST DCGAN at batch 128. The price is memory: each role keeps the largest block it
    has needed, for the life of the thread. Arrays that leave a call are never scratch.
    CuPy's memory pool already reuses blocks, so on the GPU this is plain allocation.
    """

    def __init__(self):
        self.blocks = {}

    def empty(self, role, shape, dtype, xp):
        if not _is_numpy(xp):                     # CuPy: its pool does this already
            return xp.empty(shape, dtype=dtype)
        size, key = math.prod(shape), (role, xp.dtype(dtype).str)
        block = self.blocks.get(key)
        if block is None or block.size < size:
            block = self.blocks[key] = xp.empty(size, dtype=dtype)
        return block[:size].reshape(shape)


_scratch = _Scratch()


def _is_numpy(xp):
    return xp is get_array_module()  # the module of no array at all is NumPy


# ==================== batch-last layout ====================

def _row_pitch(m, itemsize, xp):
    """m, or m plus one cache line, so that a row of m numbers is not an even number of
    64-byte cache lines long (on the CPU; a GPU has no such problem).

    A transposing copy reads down a column: one number per row, a row's length apart. If
    that length is an even number of cache lines (m = 64, 128, 4608 floats...), the reads
    map to a few cache sets only and evict each other: 5 ns per number instead of 1.
    """
    return m + 64 // itemsize if _is_numpy(xp) and (m * itemsize) % 128 == 0 else m


def _unaliased(a, axis):
    """``a``, or a scratch copy of it whose stride along ``axis`` is _row_pitch-ed (see
    there), for a transposing copy that will read along ``axis``."""
    xp = get_array_module(a)
    if a.shape[axis] == 1 or a.strides[axis] % 128 or not _is_numpy(xp):
        return a
    rows, m = math.prod(a.shape[:axis + 1]), math.prod(a.shape[axis + 1:])
    staged = _scratch.empty("stage", (rows, _row_pitch(m, a.dtype.itemsize, xp)), a.dtype, xp)
    staged = staged[:, :m].reshape(a.shape)           # (rows, pitch) -> a.shape, a view
    staged[...] = a
    return staged


def _batch_last(x, padding=((0, 0), (0, 0))):
    """(N, C, H, W) -> zero-padded (C, H + pt + pb, W + pl + pr, N) (a negative bottom/right
    pad drops those rows/columns), for reading only: x's own memory seen batch-last when it
    is laid out that way already and needs no padding (the output of another convolution,
    see _batch_first), else a copy in scratch memory."""
    xp = get_array_module(x)
    (pt, pb), (pl, pr) = padding
    N, C, H, W = x.shape
    view = x.transpose(1, 2, 3, 0)                    # (N, C, H, W) -> (C, H, W, N), a view
    if padding == ((0, 0), (0, 0)) and view.flags.c_contiguous:
        return view
    h, w = H + min(pb, 0), W + min(pr, 0)
    out = _scratch.empty("input", (C, pt + h + max(pb, 0), pl + w + max(pr, 0), N), x.dtype, xp)
    out[:, pt:pt + h, pl:pl + w] = (view[:, :h, :w] if _is_batch_last(x)
                                    else _unaliased(x[:, :, :h, :w], 0).transpose(1, 2, 3, 0))
    for border in ((slice(None), slice(0, pt)), (slice(None), slice(pt + h, None)),
                   (slice(None), slice(None), slice(0, pl)),
                   (slice(None), slice(None), slice(pl + w, None))):
        out[border] = 0
    return out


def _is_batch_last(x):
    """Whether x (N, C, H, W) is laid out with N varying fastest, as _batch_first leaves it."""
    return x.strides[0] == x.itemsize and x.shape[0] > 1


def _batch_first(y, bias=None, owned=False):
    """(C, H, W, N) -> (N, C, H, W) as a view: the numbers stay batch-last in memory, plus
    bias[c] when given. The result must own its memory (never a scratch block): ``owned``
    says y's memory is fresh and may be used as it is, else it is copied.

    Why a view and not a transposed copy: the next op of a network is usually batch norm,
    an activation or another convolution. Elementwise ops keep the layout (NumPy's ufuncs
    follow the input's memory order), batch norm's per-channel statistics then read
    contiguous (H, W, N) blocks, and the next convolution's _batch_last needs no copy at
    all. Only a network's input (images, batch-first) pays one transpose.
    """
    if not owned:
        y = y.copy()                                   # contiguous (C, H, W, N), its own memory
    if bias is not None:
        y += bias.reshape(-1, 1, 1, 1)                 # (C,) -> (C, 1, 1, 1)
    return y.transpose(3, 0, 1, 2)                     # (C, H, W, N) -> (N, C, H, W), a view


# ==================== im2col / col2im ====================

def im2col(x, geometry, kernel_size, keep=False):
    """Every receptive field of x as a column: (N, C, H, W) -> (G, C/G·KH·KW, OH·OW·N).

    A strided view (G, Cg, KH, KW, OH, OW, N) of the padded batch-last input reads, for
    kernel offset (kh, kw) and output pixel (i, j), the input pixel (i·s + kh·d, j·s + kw·d):
    stride and dilation are just the view's strides. One copy makes it a GEMM operand, a
    new array if ``keep`` (it outlives the call), else in scratch memory.
    """
    xp = get_array_module(x)
    xc = _batch_last(x, geometry.padding)                        # (C, Hp, Wp, N)
    C, Hp, Wp, N = xc.shape
    (KH, KW), G = kernel_size, geometry.groups
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    OH, OW = (Hp - dh * (KH - 1) - 1) // sh + 1, (Wp - dw * (KW - 1) - 1) // sw + 1
    bc, bh, bw, bn = xc.strides
    fields = xp.lib.stride_tricks.as_strided(
        xc, (G, C // G, KH, KW, OH, OW, N),
        (C // G * bc, bc, dh * bh, dw * bw, sh * bh, sw * bw, bn))  # a view, no copy
    shape = (G, C // G * KH * KW, OH * OW * N)
    cols = (xp.empty(shape, dtype=x.dtype) if keep
            else _scratch.empty("cols", shape, x.dtype, xp))
    cols.reshape(fields.shape)[...] = fields  # into (G, Cg·KH·KW, OH·OW·N) seen as fields' shape
    return cols


def col2im(cols, geometry, kernel_size, in_hw, out_hw, bias=None):
    """The adjoint of im2col: each column added back onto the receptive field it came from
    (overlaps sum), the padding cut off: (G, OCg·KH·KW, H·W·N) -> (N, OC, OH, OW), plus
    bias[o] if given.

    One strided slice-add per kernel offset (kh, kw) moves the contributions of all pixels,
    channels and images at once. The offsets are taken phase by phase: with stride s, the
    output rows r, r + s, r + 2s, ... (phase r) receive exactly the offsets with kh·d ≡ r
    (mod s), each as a window of H consecutive phase rows starting at ⌊kh·d / s⌋ (see
    _phase_taps). So a phase's first offset is copied in (the bias added on the way) and
    only the phase rows and columns outside its window are filled; the others add. That
    saves the zero-fill pass over the whole output and one read per phase, and keeps one
    phase (a quarter of the output at stride 2) in cache while its offsets add up: 25 %
    off the col2im of the DCGAN's stride-2 layers (BENCHMARKS.md). Each output pixel still
    sums its offsets in (kh, kw) order, so results are the same to the bit.
    """
    xp = get_array_module(cols)
    (KH, KW), (H, W), (OH, OW) = kernel_size, in_hw, out_hw
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    (pt, pb), (pl, pr) = geometry.padding
    G, rows, HWN = cols.shape
    OCg, N = rows // (KH * KW), HWN // (H * W)
    if (H, W) == (1, 1) and (dh, dw) == (1, 1) and min(pt, pb, pl, pr) >= 0:
        # One input pixel (a generator's first layer, z -> 3×3 or 4×4): its kernel stamp is
        # the whole output, nothing overlaps, and the GEMM result is already the output's
        # (OC, KH, KW, N) batch-last layout; only the padding is cut off.
        stamp = cols.reshape(G * OCg, KH, KW, N)[:, pt:KH - pb, pl:KW - pr]
        y = stamp.copy() if bias is None else stamp + bias.reshape(-1, 1, 1, 1)
        return _batch_first(y, owned=True)
    cols = cols.reshape(G, OCg, KH, KW, H, W, N)   # (G, OCg·KH·KW, H·W·N) -> (G, OCg, KH, KW, H, W, N)
    Hp, Wp = pt + OH + max(pb, 0), pl + OW + max(pr, 0)
    cropped = max(pt, pb, pl, pr) > 0              # a negative pad adds rows; it crops nothing
    padded = (_scratch.empty("sum", (G * OCg, Hp, Wp, N), cols.dtype, xp) if cropped
              else xp.empty((G * OCg, Hp, Wp, N), dtype=cols.dtype))  # the output itself
    grouped = padded.reshape(G, OCg, Hp, Wp, N)    # (OC, Hp, Wp, N) -> (G, OCg, Hp, Wp, N), a view
    fill = (xp.zeros((G, OCg, 1, 1, 1), cols.dtype) if bias is None
            else bias.reshape(G, OCg, 1, 1, 1))            # sliced per block of channels below
    phases = [(rh, rw, [(kh, oh, kw, ow) for kh, oh in _phase_taps(KH, dh, sh, rh)
                        for kw, ow in _phase_taps(KW, dw, sw, rw)])
              for rh in range(sh) for rw in range(sw)]
    step = _channel_block(OCg, Hp * Wp * N, cols.itemsize, xp)
    for c in range(0, OCg, step):
        out, src, fl = grouped[:, c:c + step], cols[:, c:c + step], fill[:, c:c + step]
        for rh, rw, taps in phases:
            phase = out[:, :, rh::sh, rw::sw]      # the output pixels of phase (rh, rw), a view
            if not taps:                           # stride > dilated kernel: pixels no field covers
                phase[...] = fl
                continue
            (kh, oh, kw, ow), *rest = taps
            phase[:, :, :oh] = fl                  # the rows and columns around the first window
            phase[:, :, oh + H:] = fl
            phase[:, :, oh:oh + H, :ow] = fl
            phase[:, :, oh:oh + H, ow + W:] = fl
            xp.add(src[:, :, kh, kw], fl, out=phase[:, :, oh:oh + H, ow:ow + W])
            for kh, oh, kw, ow in rest:
                phase[:, :, oh:oh + H, ow:ow + W] += src[:, :, kh, kw]
    return _batch_first(padded[:, pt:pt + OH, pl:pl + OW], owned=not cropped)


def _channel_block(channels, per_channel, itemsize, xp, budget=1 << 20):
    """How many output channels col2im sums at a time: as many as fit in ``budget`` bytes
    (1 MiB, half this VM's 2 MiB L2), so the adds of a block's offsets re-read a block
    still in cache; all channels at once on a GPU."""
    if not _is_numpy(xp):
        return channels
    return max(1, min(channels, budget // (per_channel * itemsize)))


def _phase_taps(kernel, dilation, stride, phase):
    """The kernel offsets k whose input rows land on output rows ≡ phase (mod stride), each
    with the phase row its window starts at: [(k, ⌊k·d / s⌋) for k·d ≡ phase (mod s)].

    >>> _phase_taps(3, 1, 2, 0), _phase_taps(3, 1, 2, 1)   # k 3, s 2: even rows get 2 taps
    ([(0, 0), (2, 1)], [(1, 0)])
    """
    return [(k, k * dilation // stride) for k in range(kernel)
            if k * dilation % stride == phase]


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
        return _batch_first(y, b, owned=True)              # -> (N, OC, OH, OW), a view

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
        xc = _batch_last(x).reshape(G, C // G, H * W * N)     # (C, H, W, N) -> (G, Cg, H·W·N)
        wt = w.reshape(G, C // G, OCg * KH * KW).transpose(0, 2, 1)  # -> (G, OCg·KH·KW, Cg), a view
        cols = _scratch.empty("gemm", (G, OCg * KH * KW, H * W * N), x.dtype, xp)
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
        gyc = _batch_last(gy).reshape(G, OC // G, -1)     # (OC, OH, OW, N) -> (G, OCg, OH·OW·N)
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


# ==================== argument checks ====================

def _check_tensor(op, t, what, layout):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected {what} to be a Tensor, found {type(t).__name__}")
    if t.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D {what} {layout}, found shape {t.shape}")
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point {what} (float32 or float64), "
                        f"found {t.dtype}")


def _check_groups(op, groups, in_channels, out_channels):
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, found {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{op}: groups={groups} must divide both in_channels "
                         f"({in_channels}) and out_channels ({out_channels})")


def _check_bias(op, bias, out_channels):
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (out_channels,)):
        raise ValueError(f"{op}: expected bias of shape ({out_channels},), found "
                         f"{getattr(bias, 'shape', type(bias).__name__)}")


def _conv_padding(padding, kernel_size, stride, dilation, op="conv2d"):
    """((top, bottom), (left, right)) from an int, a pair, "valid" or "same"."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, found stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)  # the odd row goes last
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int, a pair, 'same' or 'valid', "
                         f"found {padding!r}")
    ph, pw = int_pair(padding, op, "padding", 0)
    return (ph, ph), (pw, pw)


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
    _check_tensor(op, x, "input", "(N, C, H, W)")
    _check_tensor(op, weight, "weight", "(OC, C/groups, KH, KW)")
    _check_groups(op, groups, x.shape[1], weight.shape[0])
    _check_bias(op, bias, weight.shape[0])
    if x.shape[1] != weight.shape[1] * groups:
        raise ValueError(
            f"{op}: expected an input with C = {weight.shape[1] * groups} channels (weight "
            f"{weight.shape}, groups={groups}), found C = {x.shape[1]} (input {x.shape})")
    stride, dilation = int_pair(stride, op, "stride", 1), int_pair(dilation, op, "dilation", 1)
    kernel_size = weight.shape[2:]
    geometry = ConvGeometry(stride, _conv_padding(padding, kernel_size, stride, dilation),
                            dilation, groups)
    padded = [n + p0 + p1 for n, (p0, p1) in zip(x.shape[2:], geometry.padding)]
    dilated = [d * (k - 1) + 1 for k, d in zip(kernel_size, dilation)]
    if any(k > n for k, n in zip(dilated, padded)):
        raise ValueError(f"{op}: the (dilated) kernel {dilated[0]}×{dilated[1]} is larger "
                         f"than the padded input {padded[0]}×{padded[1]}")
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
    _check_tensor(op, x, "input", "(N, C, H, W)")
    _check_tensor(op, weight, "weight", "(C, OC/groups, KH, KW)")
    _check_groups(op, groups, weight.shape[0], weight.shape[1] * groups)
    _check_bias(op, bias, weight.shape[1] * groups)
    if x.shape[1] != weight.shape[0]:
        raise ValueError(
            f"{op}: expected an input with C = {weight.shape[0]} channels (weight "
            f"{weight.shape}), found C = {x.shape[1]} (input {x.shape})")
    stride, dilation = int_pair(stride, op, "stride", 1), int_pair(dilation, op, "dilation", 1)
    (ph, pw), (oph, opw) = (int_pair(padding, op, "padding", 0),
                            int_pair(output_padding, op, "output_padding", 0))
    for o, s, d in zip((oph, opw), stride, dilation):
        if o >= s and o >= d:
            raise ValueError(f"{op}: output_padding {(oph, opw)} must be smaller than either "
                             f"stride {stride} or dilation {dilation}")
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
    _check_tensor(op, x, "input", "(N, C, H, W)")
    _check_tensor(op, gy, "output gradient", "(N, OC, OH, OW)")
    _check_groups(op, groups, x.shape[1], gy.shape[1])
    kernel_size = int_pair(kernel_size, op, "kernel_size", 1)
    stride, dilation = int_pair(stride, op, "stride", 1), int_pair(dilation, op, "dilation", 1)
    geometry = ConvGeometry(stride, _conv_padding(padding, kernel_size, stride, dilation, op),
                            dilation, groups)
    expected = (x.shape[0], gy.shape[1]) + geometry.conv_size(x.shape[2:], kernel_size)
    if gy.shape != expected:
        raise ValueError(f"{op}: expected an output gradient of shape {expected} for input "
                         f"{x.shape} and kernel {kernel_size}, found {gy.shape}")
    return Conv2dGradWeight(geometry, kernel_size)(x, gy)
