"""The machinery under conv2d and conv_transpose2d: im2col, col2im, the batch-last memory
layout and reused scratch memory (functional/conv.py has the ops and their math).

im2col copies every receptive field of the padded input into a column of a matrix, so the
convolution becomes one matrix product (GEMM), which BLAS runs near the machine's peak.
Inside, arrays are laid out batch-last, (C, H, W, N), as in cuda-convnet: a receptive
field's element for the whole batch is then one contiguous run of N numbers, so im2col (a
strided view copied once) and col2im (a scatter-add, one strided slice per kernel offset)
move long contiguous runs instead of rows of a few pixels.

Outputs keep that memory layout: a convolution returns its (C, H, W, N) result seen as
(N, C, H, W), a strided view (what PyTorch calls a memory format). Shapes, values and
every op's semantics are those of (N, C, H, W); only the strides differ. Batch norm and
activations then run on contiguous per-channel blocks and the next convolution reads its
input without a transpose; a batch-first input (images from a dataset) is transposed once.
Removing the two transposes per convolution took the notes' DCGAN step from ~150 to
~115 ms (BENCHMARKS.md). Two CPU details, each explained where it is handled: rows whose
length would make that one transpose thrash the cache are padded ("pitched"), and the
temporaries of a call live in reused scratch blocks (fresh pages cost a page fault each).
"""
import math
import threading

from minigan.backend import get_array_module
from minigan.functional.arguments import conv_output_size


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
        if not is_numpy(xp):                     # CuPy: its pool does this already
            return xp.empty(shape, dtype=dtype)
        size, key = math.prod(shape), (role, xp.dtype(dtype).str)
        block = self.blocks.get(key)
        if block is None or block.size < size:
            block = self.blocks[key] = xp.empty(size, dtype=dtype)
        return block[:size].reshape(shape)


scratch = _Scratch()


def is_numpy(xp):
    return xp is get_array_module()  # the module of no array at all is NumPy


# ==================== batch-last layout ====================

def _row_pitch(m, itemsize, xp):
    """m, or m plus one cache line, so that a row of m numbers is not an even number of
    64-byte cache lines long (on the CPU; a GPU has no such problem).

    A transposing copy reads down a column: one number per row, a row's length apart. If
    that length is an even number of cache lines (m = 64, 128, 4608 floats...), the reads
    map to a few cache sets only and evict each other: 5 ns per number instead of 1.
    """
    return m + 64 // itemsize if is_numpy(xp) and (m * itemsize) % 128 == 0 else m


def _unaliased(a, axis):
    """``a``, or a scratch copy of it whose stride along ``axis`` is _row_pitch-ed (see
    there), for a transposing copy that will read along ``axis``."""
    xp = get_array_module(a)
    if a.shape[axis] == 1 or a.strides[axis] % 128 or not is_numpy(xp):
        return a
    rows, m = math.prod(a.shape[:axis + 1]), math.prod(a.shape[axis + 1:])
    staged = scratch.empty("stage", (rows, _row_pitch(m, a.dtype.itemsize, xp)), a.dtype, xp)
    staged = staged[:, :m].reshape(a.shape)           # (rows, pitch) -> a.shape, a view
    staged[...] = a
    return staged


def batch_last(x, padding=((0, 0), (0, 0))):
    """(N, C, H, W) -> zero-padded (C, H + pt + pb, W + pl + pr, N) (a negative bottom/right
    pad drops those rows/columns), for reading only: x's own memory seen batch-last when it
    is laid out that way already and needs no padding (the output of another convolution,
    see batch_first), else a copy in scratch memory."""
    xp = get_array_module(x)
    (pt, pb), (pl, pr) = padding
    N, C, H, W = x.shape
    view = x.transpose(1, 2, 3, 0)                    # (N, C, H, W) -> (C, H, W, N), a view
    if padding == ((0, 0), (0, 0)) and view.flags.c_contiguous:
        return view
    h, w = H + min(pb, 0), W + min(pr, 0)
    out = scratch.empty("input", (C, pt + h + max(pb, 0), pl + w + max(pr, 0), N), x.dtype, xp)
    out[:, pt:pt + h, pl:pl + w] = (view[:, :h, :w] if _is_batch_last(x)
                                    else _unaliased(x[:, :, :h, :w], 0).transpose(1, 2, 3, 0))
    for border in ((slice(None), slice(0, pt)), (slice(None), slice(pt + h, None)),
                   (slice(None), slice(None), slice(0, pl)),
                   (slice(None), slice(None), slice(pl + w, None))):
        out[border] = 0
    return out


def _is_batch_last(x):
    """Whether x (N, C, H, W) is laid out with N varying fastest, as batch_first leaves it."""
    return x.strides[0] == x.itemsize and x.shape[0] > 1


def batch_first(y, bias=None, owned=False):
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
    xc = batch_last(x, geometry.padding)                        # (C, Hp, Wp, N)
    C, Hp, Wp, N = xc.shape
    (KH, KW), G = kernel_size, geometry.groups
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    OH, OW = conv_output_size(Hp, KH, sh, 0, dh), conv_output_size(Wp, KW, sw, 0, dw)
    bc, bh, bw, bn = xc.strides
    fields = xp.lib.stride_tricks.as_strided(
        xc, (G, C // G, KH, KW, OH, OW, N),
        (C // G * bc, bc, dh * bh, dw * bw, sh * bh, sw * bw, bn))  # a view, no copy
    shape = (G, C // G * KH * KW, OH * OW * N)
    cols = (xp.empty(shape, dtype=x.dtype) if keep
            else scratch.empty("cols", shape, x.dtype, xp))
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
    if (H, W) == (1, 1) and (dh, dw) == (1, 1) and min(pt, pl) >= 0:
        # One input pixel (a generator's first layer, z -> 3×3 or 4×4; the input gradient
        # of a critic's last layer, 1 -> 5×5): its kernel stamp is the whole output, nothing
        # overlaps, and the GEMM result is already the output's (OC, KH, KW, N) batch-last
        # layout; the padding is cut off, and a negative bottom/right pad adds rows/columns
        # no field reaches (the bias alone).
        stamp = cols.reshape(G * OCg, KH, KW, N)[:, pt:KH - max(pb, 0), pl:KW - max(pr, 0)]
        if stamp.shape[1:3] == (OH, OW):
            y = stamp.copy() if bias is None else stamp + bias.reshape(-1, 1, 1, 1)
            return batch_first(y, owned=True)
        fill = 0 if bias is None else bias.reshape(-1, 1, 1, 1)
        y = xp.empty((G * OCg, OH, OW, N), dtype=cols.dtype)
        h, w = stamp.shape[1:3]
        xp.add(stamp, fill, out=y[:, :h, :w])
        y[:, h:] = fill
        y[:, :h, w:] = fill
        return batch_first(y, owned=True)
    # (G, OCg·KH·KW, H·W·N) -> (G, OCg, KH, KW, H, W, N)
    cols = cols.reshape(G, OCg, KH, KW, H, W, N)
    Hp, Wp = pt + OH + max(pb, 0), pl + OW + max(pr, 0)
    cropped = max(pt, pb, pl, pr) > 0              # a negative pad adds rows; it crops nothing
    padded = (scratch.empty("sum", (G * OCg, Hp, Wp, N), cols.dtype, xp) if cropped
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
    return batch_first(padded[:, pt:pt + OH, pl:pl + OW], owned=not cropped)


def _channel_block(channels, per_channel, itemsize, xp, budget=1 << 20):
    """How many output channels col2im sums at a time: as many as fit in ``budget`` bytes
    (1 MiB, half this VM's 2 MiB L2), so the adds of a block's offsets re-read a block
    still in cache; all channels at once on a GPU."""
    if not is_numpy(xp):
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
