"""Resampling images to a new size: PyTorch's ``F.interpolate``, modes "nearest" and
"bilinear" (the generator's "upsample + conv" alternative to transposed convolution).

Both are separable linear maps along H and W, y = A_H x A_Wᵀ: nearest is an index map
(``Gather``, or ``RepeatPixels`` for whole factors), bilinear a pair of small weight
matrices (``Resample2d``); see functional/_linear_maps.py for why their backward passes
are the adjoint maps.
"""
import math

from minigan.autograd import Function
from minigan.backend import get_array_module
from minigan.functional._linear_maps import Gather, Resample2d, gather, ravel_grid
from minigan.functional.arguments import check_interpolation, check_tensor, int_pair


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
    check_tensor(x, "interpolate", ("(N, C, H, W)",))
    check_interpolation(size, scale_factor, mode, align_corners, "interpolate")
    sizes, scales = _target_size(x.shape[-2:], size, scale_factor)
    xp = get_array_module(x.data)
    if mode == "nearest":
        sources = [_nearest_source(xp, n, m, s)
                   for n, m, s in zip(x.shape[-2:], sizes, scales)]
        factors = [m // n if m % n == 0 else 0 for n, m in zip(x.shape[-2:], sizes)]
        if all(k and xp.array_equal(i, xp.arange(i.size) // k)  # PyTorch's index = ⌊j/k⌋
               for i, k in zip(sources, factors)):
            return RepeatPixels(*factors)(x)  # whole blocks: a reshape, not a gather
        return Gather(ravel_grid(sources, x.shape[-2:]), 2)(x)
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
        return gather(x, rows[:, None] * W + cols[None, :], 2)

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
    """(OH, OW) and the scale factors PyTorch interpolates with (None when size is given),
    for arguments that passed check_interpolation."""
    if size is not None:
        return int_pair(size, "interpolate", "size", 1), (None, None)
    scales = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * 2
    sizes = tuple(math.floor(n * s) for n, s in zip(in_size, scales))
    if min(sizes) < 1:
        raise ValueError(f"interpolate: scale_factor={scale_factor!r} turns the input size "
                         f"{tuple(in_size)} into an empty output {sizes}")
    return sizes, tuple(float(s) for s in scales)
