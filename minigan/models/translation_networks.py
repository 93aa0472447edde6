"""The networks of the translation models: the U-Net generator, its skip-less twin (the
encoder-decoder), the PatchGAN discriminator and its receptive field.

U-Net (notes 000, pix2pix "generator"; Ronneberger et al. 2015) on H×H images, H padded to
the next power of two P (28 → 32, two pixels each side; the padding is cut off again at
the end), width w, depth D = log₂ P levels by default (32 → 16 → 8 → 4 → 2 → 1):

    encoder  e₀ = Conv(C_in, c₀, 4, 2, 1)                          (no norm: pix2pix's C64)
             eᵢ = LReLU(0.2) → Conv(cᵢ₋₁, cᵢ, 4, 2, 1) → norm      (innermost: no norm,
                                                                      a 1×1 map has no spread)
    decoder  d_{D−1} = ReLU → ConvT(c_{D−1}, c_{D−2}, 4, 2, 1) → norm (→ Dropout)
             dᵢ = ReLU → ConvT(2cᵢ, cᵢ₋₁, 4, 2, 1) → norm (→ Dropout)    input [dᵢ₊₁, eᵢ]
             d₀ = ReLU → ConvT(2c₀, C_out, 4, 2, 1) → tanh
    cᵢ = w · 2^min(i, 3)  (pix2pix: 64, 128, 256, 512, 512, ...)

Each skip *concatenates* the encoder's output eᵢ (cᵢ channels, P/2^(i+1) pixels) with the
decoder's output of the same size, so dᵢ reads 2cᵢ channels; the notes' "같은 shape 끼리
concate". Dropout (p = 0.5 in pix2pix, ``dropout``) sits in the three innermost decoder
blocks (pix2pix's CD512 ×3) and is pix2pix's only noise: G(x) has no z input. Without the
skips (``skips=False``) the same stack is the *encoder-decoder* of the pix2pix paper's
Figure 3, the generator of DiscoGAN: everything passes through the 1×1 bottleneck.

Notes 000 give the 256×256 U-Net as 8 encoder blocks "256 x 256 x 3 -> 1 x 1 x 512" and
8 decoder blocks "1 x 1 x 512 -> 512 x 512 x 3"; 8 doublings of 1×1 make 256×256, not
512×512 (the generator maps an image to an image of the same size).

PatchGAN (notes 000, 001; pix2pix's N-layer discriminator) with ``layers`` = n strided
convolutions: Conv(C, w, 4, 2, 1) → LReLU, then (n − 1) × [Conv(·, 2·, 4, 2, 1) → norm →
LReLU], Conv(·, 2·, 4, 1, 1) → norm → LReLU, Conv(·, 1, 4, 1, 1): one logit per patch,
(N, 1, H', W'). Its receptive field r (the input pixels one logit sees) follows from the
layer list alone (``receptive_field``): r = 1 + Σ_l (k_l − 1) · Π_{m<l} s_m, so

    layers 1:  1 + 3 + 3·2 + 3·2  = 16   (28×28 → 12×12 logits)
    layers 2:  1 + 3 + 6 + 12 + 12 = 34   (28×28 → 5×5)
    layers 3:  70                         (pix2pix's 70×70 PatchGAN on 256×256 → 30×30)
"""
import math

from minigan import nn
from minigan.functional import cat
from minigan.functional import pad
from minigan.models.networks import norm_layer
from minigan.nn.conv import Conv2d, ConvTranspose2d, conv_output_size
from minigan.nn.module import Module

DROPOUT_BLOCKS = 3   # pix2pix: dropout in the three innermost decoder blocks
MAX_WIDTH_DOUBLINGS = 3  # channels stop doubling at 8w (pix2pix: 512 for w = 64)


def unet_channels(width, depth):
    """cᵢ = w · 2^min(i, 3), the channels of encoder level i.

    >>> unet_channels(64, 8)
    [64, 128, 256, 512, 512, 512, 512, 512]
    """
    return [width * 2 ** min(i, MAX_WIDTH_DOUBLINGS) for i in range(depth)]


class UNet(Module):
    """pix2pix's U-Net generator (``skips=True``) or its encoder-decoder (``skips=False``):
    (N, C_in, H, H) -> (N, C_out, H, H) in [−1, 1], see the module docstring.

    size: H; width: c₀; depth: levels (default log₂ of H padded to a power of two, down to
    1×1); norm: "batch" or "instance" (``networks.norm_layer``); dropout: p of the three
    innermost decoder blocks (0: none).

    >>> import minigan
    >>> G = UNet(1, 1, 28, width=4)
    >>> G.padded, G.depth, G(minigan.randn(2, 1, 28, 28)).shape
    (32, 5, (2, 1, 28, 28))
    """

    def __init__(self, in_channels, out_channels, size, width=64, depth=None, skips=True,
                 norm="batch", dropout=0.5):
        super().__init__()
        self.size, self.skips = int(size), bool(skips)
        self.padded = 1 << (self.size - 1).bit_length()   # the next power of two ≥ H
        full = int(math.log2(self.padded))
        self.depth = full if depth is None else int(depth)
        if not 1 <= self.depth <= full:
            raise ValueError(f"UNet: depth must be in 1..{full} for {size}×{size} images "
                             f"(padded to {self.padded}), found {depth}")
        channels = unet_channels(width, self.depth)
        sizes = [self.padded >> (i + 1) for i in range(self.depth)]   # eᵢ is sizes[i]²
        down, up = [Conv2d(in_channels, channels[0], 4, 2, 1)], []
        for i in range(1, self.depth):
            innermost = i == self.depth - 1
            down.append(nn.Sequential(nn.LeakyReLU(0.2),
                                      Conv2d(channels[i - 1], channels[i], 4, 2, 1),
                                      nn.Identity() if innermost
                                      else norm_layer(norm, channels[i], sizes[i])))
        for i in range(self.depth):
            c_in = channels[i] * (2 if self.skips and i < self.depth - 1 else 1)
            if i == 0:
                up.append(nn.Sequential(nn.ReLU(), ConvTranspose2d(c_in, out_channels, 4, 2, 1),
                                        nn.Tanh()))
                continue
            block = [nn.ReLU(), ConvTranspose2d(c_in, channels[i - 1], 4, 2, 1),
                     norm_layer(norm, channels[i - 1], sizes[i - 1])]
            if dropout and i >= self.depth - DROPOUT_BLOCKS:
                block.append(nn.Dropout(dropout))
            up.append(nn.Sequential(*block))
        self.down, self.up = nn.ModuleList(down), nn.ModuleList(up)

    def encode(self, x):
        """The encoder's outputs [e₀, …, e_{D−1}], from the padded input."""
        before = (self.padded - self.size) // 2
        h = pad(x, (before, self.padded - self.size - before) * 2)  # (N, C, H, H) -> (N, C, P, P)
        features = []
        for block in self.down:
            h = block(h)
            features.append(h)
        return features

    def forward(self, x):
        if x.ndim != 4 or x.shape[2:] != (self.size, self.size):
            raise ValueError(f"UNet: expected images (N, C, {self.size}, {self.size}), found "
                             f"{x.shape}")
        features = self.encode(x)
        h = self.up[-1](features[-1])
        for i in range(self.depth - 2, -1, -1):
            # (N, cᵢ, s, s) and (N, cᵢ, s, s) -> (N, 2cᵢ, s, s): the skip of level i
            h = self.up[i](cat([h, features[i]], axis=1) if self.skips else h)
        before = (self.padded - self.size) // 2
        return h[:, :, before:before + self.size, before:before + self.size]  # P×P -> H×H


def patchgan(in_channels, width=64, layers=3, norm="batch"):
    """PatchGAN discriminator: (N, in_channels, H, W) -> one logit per patch (N, 1, H', W')
    (see the module docstring; ``receptive_field`` gives its patch size).

    >>> import minigan
    >>> D = patchgan(2, width=8, layers=1)
    >>> D(minigan.randn(3, 2, 28, 28)).shape, receptive_field(D)[0]
    ((3, 1, 12, 12), 16)
    """
    blocks = [Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
    c = width
    for n in range(1, layers + 1):
        c_out = width * 2 ** min(n, MAX_WIDTH_DOUBLINGS)
        stride = 2 if n < layers else 1
        blocks += [Conv2d(c, c_out, 4, stride, 1), norm_layer(norm, c_out, None),
                   nn.LeakyReLU(0.2)]
        c = c_out
    blocks.append(Conv2d(c, 1, 4, 1, 1))
    return nn.Sequential(*blocks)


def receptive_field(network):
    """(r, jump, start) of a stack of convolutions, from its layer list alone: output
    pixel (i, j) sees the input pixels [i·jump + start, i·jump + start + r − 1] along each
    axis (start < 0 reaches into the zero padding). Going through the conv layers in
    order, with J the product of the strides before a layer (k kernel, s stride, p padding,
    d dilation):

        r ← r + d(k − 1)·J,    start ← start − p·J,    J ← J·s      (from r = 1, J = 1, 0)

    >>> D = nn.Sequential(Conv2d(1, 1, 4, 2, 1), Conv2d(1, 1, 4, 2, 1), Conv2d(1, 1, 4, 1, 1),
    ...                   Conv2d(1, 1, 4, 1, 1))
    >>> receptive_field(D)       # pix2pix's 34×34 PatchGAN (layers = 2)
    (34, 4, -11)
    """
    r, jump, start = 1, 1, 0
    for m in network.modules():
        if isinstance(m, ConvTranspose2d):
            raise ValueError("receptive_field: a transposed convolution has no receptive "
                             "field of this form")
        if isinstance(m, Conv2d):
            if len(set(m.kernel_size)) != 1 or len(set(m.stride)) != 1 or \
                    isinstance(m.padding, str) or len(set(m.padding)) != 1:
                raise ValueError(f"receptive_field: expected square kernels, strides and "
                                 f"paddings, found {m}")
            k, s, p, d = m.kernel_size[0], m.stride[0], m.padding[0], m.dilation[0]
            r, start, jump = r + d * (k - 1) * jump, start - p * jump, jump * s
    return r, jump, start


def patch_map_size(size, network):
    """The side of the logit map of ``network`` on size×size inputs (conv layers only)."""
    for m in network.modules():
        if isinstance(m, Conv2d):
            size = conv_output_size(size, m.kernel_size[0], m.stride[0], m.padding[0],
                                    m.dilation[0])
    return size
