"""Masked convolution, PixelCNN's causal layer (van den Oord et al. 2016; notes 003, PixelCNN).

An autoregressive image model writes p(x) = Π_i p(x_i | x_<i) over the pixels in raster
order (row by row, left to right in a row). A network predicting all the conditionals in
one pass must not let output i see input pixels j ≥ i. A convolution does so when its
kernel is zero on the "future" taps:

    mask A (first layer)      mask B (every later layer)     k = 5; 1 = tap kept
        1 1 1 1 1                 1 1 1 1 1
        1 1 1 1 1                 1 1 1 1 1
        1 1 0 0 0                 1 1 1 0 0
        0 0 0 0 0                 0 0 0 0 0
        0 0 0 0 0                 0 0 0 0 0

Mask A drops the centre: the first layer's feature at pixel i sees x_<i only. Later
layers may keep the centre (mask B), because their input at pixel i already depends on
x_<i alone. Stacked, output i depends only on x_<i: ∂ logit_i / ∂x_j = 0 exactly for every
j ≥ i (``tests/test_masked_conv.py``, lesson 17). For one colour channel, as here, the
mask is the same for every (output, input) channel pair; RGB PixelCNNs also split the
channels into R, G, B groups, which minigan does not need.

The layer multiplies the weight by the fixed mask M inside ``forward``:

    y = conv2d(x, W ⊙ M, b),   ∂L/∂W = M ⊙ ∂L/∂W̃ (W̃ = W ⊙ M),   ∂L/∂x = conv2d's input
                                gradient with W̃ (a transposed convolution)

so it is differentiable to any order through existing ops, and the masked-out weights get
exactly zero gradient (they keep their initial values, which never matter).

>>> import minigan
>>> layer = MaskedConv2d(1, 8, 7, mask="A")
>>> layer(minigan.randn(2, 1, 28, 28)).shape
(2, 8, 28, 28)
>>> causal_mask(3, "B").tolist()
[[1.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
"""
import numpy as np

from minigan import backend
from minigan.autograd import Tensor
from minigan.functional.conv import conv2d
from minigan.nn.conv import Conv2d

MASKS = ("A", "B")


def causal_mask(kernel_size, mask):
    """The (K, K) float mask of a raster-order causal kernel (K odd): 1 on the rows above
    the centre, on the centre row left of the centre, and on the centre itself for mask
    "B"; 0 elsewhere."""
    if mask not in MASKS:
        raise ValueError(f"causal_mask: mask must be 'A' or 'B', found {mask!r}")
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) \
            or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"causal_mask: kernel_size must be an odd positive int (the mask "
                         f"is centred on a pixel), found {kernel_size!r}")
    k, c = kernel_size, kernel_size // 2
    m = np.zeros((k, k))
    m[:c] = 1                               # every row above the centre
    m[c, :c + (mask == "B")] = 1            # the centre row: left of the centre (+ centre)
    return m


def receptive_field(masks, shape, pixel):
    """The input pixels a stack of causal convolutions lets one output pixel depend on.

    masks: the layers' masks in order (``causal_mask`` arrays; a 1×1 layer is [[1]]), shape:
    (H, W) of the image, pixel: (i, j) of the output. Returns a bool (H, W) array, True
    where a path of nonzero taps joins input (i', j') to output (i, j): the offsets the
    stack reaches are the sums of one kept tap per layer (a residual connection adds the
    offset (0, 0), which mask B holds already). Where it is False, ∂ output / ∂ input is
    exactly 0 for every weight: every pixel after (i, j) in raster order, and, for stacked
    3×3 masks, a wedge of pixels above and to the right of (i, j), PixelCNN's blind spot.

    >>> receptive_field([causal_mask(3, "A")], (3, 3), (1, 1)).astype(int).tolist()
    [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    """
    reach = np.zeros(shape, dtype=bool)
    reach[pixel] = True
    for m in masks:
        c = m.shape[0] // 2
        grown = np.zeros_like(reach)
        for dr, dc in zip(*np.nonzero(m)):  # tap (dr, dc) reads input (i + dr − c, j + dc − c)
            grown |= _shift(reach, int(dr) - c, int(dc) - c)
        reach = grown
    return reach


def wavefront_skew(masks):
    """The smallest whole k such that every kept tap of every mask, d rows above and e
    columns right of the centre, has e < k·d (taps on the centre row lie left of it, or
    on it for mask B): then a unit at (i, j) of any layer reads only units (i', j') of
    the layer below with j' + k·i' < j + k·i, or its own position.

    So a whole anti-diagonal line j + k·i = t of pixels can be drawn in one pass once the
    lines before t are: (W − 1) + k(H − 1) + 1 passes draw an H×W image instead of H·W,
    and each pixel still sees exactly the pixels it sees in raster order. For a 7×7 mask
    A, whose tap (−1, +3) is the steepest, k = 4; 3×3 masks need k = 2.

    >>> wavefront_skew([causal_mask(7, "A")] + [causal_mask(3, "B")] * 4)
    4
    """
    skew = 1
    for m in masks:
        c = m.shape[0] // 2
        for i, j in zip(*np.nonzero(m)):
            d, e = c - int(i), int(j) - c          # d rows above, e columns to the right
            if d < 0 or (d == 0 and e > 0):
                raise ValueError(f"wavefront_skew: not a causal mask, it reads the tap "
                                 f"{-d:+d}, {e:+d} (rows below, columns right)")
            if d > 0:
                skew = max(skew, e // d + 1)
    return skew


def _shift(a, dr, dc):
    """``a`` moved by (dr, dc), zeros shifted in: out[i + dr, j + dc] = a[i, j]."""
    out = np.zeros_like(a)
    h, w = a.shape
    out[max(dr, 0):h + min(dr, 0), max(dc, 0):w + min(dc, 0)] = \
        a[max(-dr, 0):h - max(dr, 0), max(-dc, 0):w - max(dc, 0)]
    return out


class MaskedConv2d(Conv2d):
    """Conv2d whose weight is multiplied by a causal mask (see the module docstring).

    in_channels, out_channels, kernel_size (odd, square), mask "A" or "B"; stride 1 and
    padding K // 2, so the output has the input's size and output pixel (i, j) sits over
    input pixel (i, j). The mask is a buffer that is not saved (it follows from ``mask``
    and ``kernel_size``).

    Shape:
        input (N, C_in, H, W) -> output (N, C_out, H, W); weight (C_out, C_in, K, K).
    """

    def __init__(self, in_channels, out_channels, kernel_size, mask="B", bias=True,
                 device=None, dtype=None):
        m = causal_mask(kernel_size, mask)  # checks mask and kernel_size first
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                         bias=bias, device=device, dtype=dtype)
        self.mask_type = mask
        array = backend.to_device(m[None, None].astype(self.weight.dtype),  # (1, 1, K, K)
                                  self.weight.device)
        self.register_buffer("mask", Tensor(array), persistent=False)

    def forward(self, x):
        self._check_input(x)
        return conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)

    def extra_repr(self):
        return super().extra_repr() + f", mask={self.mask_type}"
