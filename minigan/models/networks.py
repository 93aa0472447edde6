"""The networks of the adversarial models: DCGAN's conv nets, MLPs for 2-D points, their init.

Networks (notes 000, DCGAN); G's width w (``width``) and D's width v (``d_width``, the
channels of its first block):

    MNIST 28×28, z (N, 64, 1, 1); ConvT(in, out, kernel, stride), for w = 64 and v = 16:
      G: ConvT(64, 256, 3, 2)+BN+ReLU → ConvT(256, 128, 4, 1)+BN+ReLU
         → ConvT(128, 64, 3, 2)+BN+ReLU → ConvT(64, 1, 4, 2)+tanh      1 → 3 → 6 → 13 → 28
      D: Conv(1, 16, 4, 2)+norm+LReLU(0.2) → Conv(16, 32, 4, 2)+norm+LReLU
         → Conv(32, 1, 4, 2) → logit                                  28 → 13 → 5 → 1
    2ᵏ×2ᵏ images (the notes' 64×64 CelebA geometry, any power of two ≥ 8):
      G: ConvT(z, 8w, 4, 1, 0) 1 → 4, then ConvT(·, ·/2, 4, 2, 1) doubling 4 → 8 → … → H,
         each +BN+ReLU, the last to C channels +tanh
      D: Conv(C, v, 4, 2, 1) halving H → … → 4, each +norm+LReLU(0.2), doubling the
         channels, then Conv(·, 1, 4, 1, 0) 4 → 1

    D's width by default (``default_d_width``): the notes' DCGAN pairs G's 64 with D's 16
    on MNIST (v = w/4) and uses v = w at 64×64; their CGAN pairs 64 with 64 (v = w).

    with H_out = (H_in − 1)·stride − 2·padding + kernel (transposed) and
    H_out = ⌊(H_in + 2·padding − kernel) / stride⌋ + 1 (conv).

``upsample="nearest"`` (notes 002's remedy for checkerboard artefacts) replaces every
stride-2 ConvT by Upsample(×2, nearest) + Conv2d(kernel k, padding p, stride 1) with the
same output size T: after the ×2 the conv gives 2H + 2p − k + 1 = T, i.e. k − 2p = 2H + 1 − T.
The kernel is 3 when that difference is odd and 4 when it is even, p = (k − (2H + 1 − T))/2:

    1 → 2 → 3:  k 4, p 2       6 → 12 → 13:  k 4, p 2       13 → 26 → 28:  k 3, p 2
    doubling 4 → 8 → 8 (64×64 geometry):  k 3, p 1 (the usual "same" convolution)

D's normalisation (``norm``): "batch" (DCGAN), "layer" (over C·H·W per sample, WGAN-GP's
critic: notes 002, no batch norm), "instance" or "none". 2-D points use MLPs instead
(``depth`` hidden layers of ``hidden`` units, no normalisation).

Initialisation (DCGAN): conv weights N(0, 0.02²), biases 0; batch-norm γ N(1, 0.02²), β 0.
"""
import contextlib
import math
from functools import partial

from minigan import nn
from minigan.models.options import Option
from minigan.nn import init
from minigan.nn.constant_channels import ConstantChannelsConv2d, SNConstantChannelsConv2d
from minigan.nn.conv import (Conv2d, ConvTranspose2d, conv_output_size,
                             conv_transpose_output_size)
from minigan.nn.norm import BatchNorm2d, InstanceNorm2d, LayerNorm
from minigan.nn.resize import Upsample
from minigan.nn.spectral import SNConv2d, SNLinear

NORMS = ("batch", "layer", "instance", "none")
UPSAMPLES = ("convtranspose", "nearest")
SAMPLE_BN = ("batch", "running")

# The options of these networks, shared by every model built on them; ``norm`` is D's
# normalisation, whose default a model may change (WGAN-GP: "layer").
NETWORK_OPTIONS = (
    Option("latent_dim", 64, "size of the noise z (notes 000)", least=1),
    Option("upsample", "convtranspose", "G's stride-2 layers: transposed convolutions, or "
           "nearest ×2 + conv, free of checkerboards (notes 002)", choices=UPSAMPLES),
    Option("norm", "batch", "normalisation in D's hidden blocks", choices=NORMS),
    Option("width", 64, "channel width of G (the notes' MNIST nets: 64)", least=4),
    Option("d_width", None, "channels of D's first block, doubled by each next one (none: "
           "the model's choice, width/4 on 28×28 images as in the notes' DCGAN, width on "
           "2^k×2^k images and in cgan)", least=1, type=int),
    Option("hidden", 128, "hidden units of the MLPs used for 2-D points", least=1),
    Option("depth", 2, "hidden layers of those MLPs (the WGAN-GP authors' toy networks "
           "have 3)", least=1),
    Option("sample_bn", "batch", "batch-norm statistics of samples: the batch's own or the "
           "running averages", choices=SAMPLE_BN),
)


# ==================== sizes ====================

def check_image_size(h, w):
    """The geometry of a (C, H, W) data shape: "mnist" for 28×28, "pow2" for 2ᵏ×2ᵏ ≥ 8.

    >>> check_image_size(28, 28), check_image_size(64, 64)
    ('mnist', 'pow2')
    """
    if h == w == 28:
        return "mnist"
    if h == w and h >= 8 and h & (h - 1) == 0:
        return "pow2"
    raise ValueError(f"the DCGAN networks take square images of 28×28 or 2^k×2^k with k >= 3 "
                     f"(8, 16, 32, 64, ...), found {h}×{w}")


# ==================== layers ====================

def up_layer(in_ch, out_ch, kernel, stride, padding, h, upsample):
    """A layer that maps (N, in_ch, h, h) to (N, out_ch, T, T), T the size of
    ConvT(kernel, stride, padding): that ConvT, or Upsample(×2) + Conv2d with the same T.

    >>> layer, size = up_layer(64, 1, 4, 2, 0, 13, "nearest")      # 13 -> 26 -> 28
    >>> size, layer[1]
    (28, Conv2d(64, 1, kernel_size=(3, 3), stride=(1, 1), padding=(2, 2)))
    """
    target = conv_transpose_output_size(h, kernel, stride, padding)
    if upsample == "convtranspose" or stride == 1:
        return ConvTranspose2d(in_ch, out_ch, kernel, stride, padding), target
    diff = 2 * h + 1 - target                  # k − 2p
    k = 3 if diff % 2 else 4
    p = (k - diff) // 2
    layer = nn.Sequential(Upsample(scale_factor=2, mode="nearest"),
                          Conv2d(in_ch, out_ch, k, 1, p))
    assert conv_output_size(2 * h, k, 1, p) == target
    return layer, target


def norm_layer(norm, channels, h):
    """The discriminator's normalisation of a (N, channels, h, h) activation."""
    if norm == "batch":
        return BatchNorm2d(channels)
    if norm == "layer":
        return LayerNorm([channels, h, h])
    if norm == "instance":
        return InstanceNorm2d(channels, affine=True)
    return nn.Identity()


# ==================== DCGAN networks ====================

def dcgan_d_width(data_shape, width):
    """The notes' DCGAN discriminator width for G's ``width``: a quarter on 28×28 MNIST
    (G 64, D 16), the same on 2^k×2^k images (64 and 64 at 64×64)."""
    return width // 4 if check_image_size(*data_shape[1:]) == "mnist" else width


def dcgan_generator(in_channels, data_shape, width=64, upsample="convtranspose"):
    """G: (N, in_channels, 1, 1) -> (N, C, H, W) in [−1, 1]; a Sequential of blocks, one per
    resolution, so the layer walk can be checked block by block.

    >>> import minigan
    >>> G = dcgan_generator(64, (1, 28, 28), width=8)
    >>> x, sizes = minigan.randn(2, 64, 1, 1), []
    >>> for block in G:
    ...     x = block(x)
    ...     sizes.append(x.shape[-1])
    >>> sizes                                     # notes 000: 1 -> 3 -> 6 -> 13 -> 28
    [3, 6, 13, 28]
    """
    channels, h, _ = data_shape
    if check_image_size(h, data_shape[2]) == "mnist":
        plan = [(4 * width, 3, 2, 0), (2 * width, 4, 1, 0), (width, 3, 2, 0), (channels, 4, 2, 0)]
    else:
        doublings = int(math.log2(h // 4))
        plan = [(width * 2 ** (doublings - 1 - i), 4, 1 if i == 0 else 2, 0 if i == 0 else 1)
                for i in range(doublings)]  # 8w, 4w, 2w, w for 64×64
        plan += [(channels, 4, 2, 1)]
    blocks, size, c_in = [], 1, in_channels
    for i, (c_out, kernel, stride, padding) in enumerate(plan):
        layer, size = up_layer(c_in, c_out, kernel, stride, padding, size, upsample)
        last = i == len(plan) - 1
        tail = [nn.Tanh()] if last else [BatchNorm2d(c_out), nn.ReLU()]
        blocks.append(nn.Sequential(layer, *tail))
        c_in = c_out
    assert size == h
    return nn.Sequential(*blocks)


def dcgan_discriminator(in_channels, data_shape, width=16, norm="batch", spectral=False,
                        constant_channels=0):
    """D: (N, in_channels, H, W) -> (N, 1) scores (logits, or critic values); ``width``:
    the channels of its first block, doubled by each following one; ``spectral``: every
    convolution spectrally normalised (``nn.spectral.SNConv2d``, Miyato et al. 2018).
    ``constant_channels`` K > 0: the last K input channels are a label's constant planes,
    which the first convolution takes without convolving them
    (``nn.constant_channels``; the same function of the same weights): D(x) with the planes
    inside x, or D(x_img, v) with their values v (N, K) beside the image.

    >>> import minigan
    >>> D = dcgan_discriminator(1, (1, 64, 64), width=4, norm="layer")   # 64 -> 32 -> .. -> 4 -> 1
    >>> D(minigan.randn(2, 1, 64, 64)).shape
    (2, 1)
    """
    h = data_shape[1]
    if check_image_size(h, data_shape[2]) == "mnist":
        plan = [(width, 4, 2, 0), (2 * width, 4, 2, 0)]
        head = (4, 2, 0)
    else:
        plan = [(width * 2 ** i, 4, 2, 1) for i in range(int(math.log2(h // 4)))]
        head = (4, 1, 0)
    conv = SNConv2d if spectral else Conv2d
    if constant_channels:
        planes_conv = SNConstantChannelsConv2d if spectral else ConstantChannelsConv2d
        first_conv = partial(planes_conv, constant_channels=constant_channels)
    else:
        first_conv = conv
    blocks, size, c_in = [], h, in_channels
    for c_out, kernel, stride, padding in plan:
        size = conv_output_size(size, kernel, stride, padding)
        layer = first_conv if not blocks else conv
        blocks.append(nn.Sequential(layer(c_in, c_out, kernel, stride, padding),
                                    norm_layer(norm, c_out, size), nn.LeakyReLU(0.2)))
        c_in = c_out
    assert conv_output_size(size, *head) == 1
    blocks.append(nn.Sequential(conv(c_in, 1, *head), nn.Flatten()))  # (N, 1, 1, 1) -> (N, 1)
    return nn.Sequential(*blocks)


def dcgan_init_(module):
    """DCGAN's initialisation, in place: conv and transposed-conv weights N(0, 0.02²),
    their biases 0; batch-norm γ N(1, 0.02²), β 0. Returns ``module``."""
    for m in module.modules():
        if isinstance(m, (Conv2d, ConvTranspose2d)):
            init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, BatchNorm2d):
            init.normal_(m.weight, 1.0, 0.02)
            init.zeros_(m.bias)
    return module


# ==================== MLPs for 2-D points ====================

def mlp_generator(in_features, out_features, hidden=128, depth=2):
    """G for points: z -> (Linear+ReLU) × depth -> Linear (no squashing: a ring of radius 2
    or a grid up to ±4 lies outside tanh's range)."""
    return nn.Sequential(*_hidden_layers(in_features, hidden, depth, nn.ReLU),
                         nn.Linear(hidden, out_features))


def mlp_discriminator(in_features, hidden=128, depth=2, spectral=False):
    """D for points: x -> (Linear+LReLU(0.2)) × depth -> Linear -> score (N, 1); with
    ``spectral``, every Linear spectrally normalised (``nn.spectral.SNLinear``)."""
    linear = SNLinear if spectral else nn.Linear
    return nn.Sequential(*_hidden_layers(in_features, hidden, depth,
                                         lambda: nn.LeakyReLU(0.2), linear),
                         linear(hidden, 1))


def mlp(in_features, out_features, hidden=128, depth=2, activation=nn.Tanh):
    """x -> (Linear+activation) × depth -> Linear: the unrolled GAN's networks (Metz et al.'s
    toy G and D: two tanh layers of 128), G with out_features = 2, D with 1.

    >>> import minigan
    >>> mlp(256, 2)(minigan.randn(5, 256)).shape
    (5, 2)
    """
    return nn.Sequential(*_hidden_layers(in_features, hidden, depth, activation),
                         nn.Linear(hidden, out_features))


def _hidden_layers(in_features, hidden, depth, activation, linear=nn.Linear):
    layers = []
    for i in range(depth):
        layers += [linear(in_features if i == 0 else hidden, hidden), activation()]
    return layers


# ==================== sampling with batch statistics ====================

@contextlib.contextmanager
def batch_statistics(module):
    """Inside the block ``module`` runs in training mode, so batch norm normalises with the
    batch's own statistics (the usual way to draw DCGAN samples); its buffers (running
    statistics) are restored on exit, so sampling changes no state."""
    saved = [(b, b.data.copy()) for b in module.buffers()]
    was_training = module.training
    module.train()
    try:
        yield module
    finally:
        module.train(was_training)
        for buffer, data in saved:
            buffer.data[...] = data


# ==================== autoencoder discriminators (EBGAN, BEGAN) ====================

def _quarter(data_shape):
    """(C, H/4, W/4): the feature map an image is encoded to by two stride-2 convolutions."""
    channels, h, w = data_shape
    if h % 4 or w % 4:
        raise ValueError(f"the autoencoder networks halve the image twice: expected H and W "
                         f"divisible by 4 (28×28, 32×32, 64×64, ...), found {h}×{w}")
    return channels, h // 4, w // 4


def conv_encoder(data_shape, width=32, code=32):
    """x (N, C, H, W) -> code h (N, code):

        Conv(C, w, 4, 2, 1)+LReLU(0.2) → Conv(w, 2w, 4, 2, 1)+LReLU → flatten
        → Linear(2w·H/4·W/4, code)                       28 → 14 → 7 on MNIST

    >>> import minigan
    >>> conv_encoder((1, 28, 28), width=4, code=8)(minigan.zeros(2, 1, 28, 28)).shape
    (2, 8)
    """
    channels, h, w = _quarter(data_shape)
    return nn.Sequential(Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
                         Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
                         nn.Flatten(),  # (N, 2w, H/4, W/4) -> (N, 2w·H/4·W/4)
                         nn.Linear(2 * width * h * w, code))


def conv_decoder(code, data_shape, width=32, squash=True, norm="none"):
    """h (N, code) -> image (N, C, H, W), the mirror of ``conv_encoder``:

        Linear(code, 2w·H/4·W/4)+[BN]+ReLU → unflatten → ConvT(2w, w, 4, 2, 1)+[BN]+ReLU
        → ConvT(w, C, 4, 2, 1) → tanh (squash) or nothing     7 → 14 → 28 on MNIST

    The generator of EBGAN and BEGAN (squashed into the data's [−1, 1]) and the decoder
    of their autoencoder discriminators (unsquashed, as in BEGAN: a reconstruction may
    reach −1 exactly, where tanh's gradient vanishes). ``norm="batch"`` puts batch norm
    before the two hidden ReLUs (DCGAN's generator blocks, notes 000).

    >>> import minigan
    >>> conv_decoder(8, (1, 28, 28), width=4)(minigan.zeros(2, 8)).shape
    (2, 1, 28, 28)
    """
    if norm not in ("none", "batch"):
        raise ValueError(f"conv_decoder: norm must be 'none' or 'batch', found {norm!r}")
    channels, h, w = _quarter(data_shape)
    batch = norm == "batch"
    return nn.Sequential(nn.Linear(code, 2 * width * h * w),
                         *([nn.BatchNorm1d(2 * width * h * w)] if batch else []), nn.ReLU(),
                         nn.Unflatten(1, (2 * width, h, w)),  # (N, 2w·h·w) -> (N, 2w, h, w)
                         ConvTranspose2d(2 * width, width, 4, 2, 1),
                         *([BatchNorm2d(width)] if batch else []), nn.ReLU(),
                         ConvTranspose2d(width, channels, 4, 2, 1),
                         *([nn.Tanh()] if squash else []))


class AutoEncoder(nn.Module):
    """D of the energy-based GANs: x -> (reconstruction Dec(Enc(x)), code Enc(x)).

    >>> import minigan
    >>> ae = AutoEncoder((1, 28, 28), width=4, code=8)
    >>> [t.shape for t in ae(minigan.zeros(2, 1, 28, 28))]
    [(2, 1, 28, 28), (2, 8)]
    """

    def __init__(self, data_shape, width=32, code=32):
        super().__init__()
        self.encoder = conv_encoder(data_shape, width, code)
        self.decoder = conv_decoder(code, data_shape, width, squash=False)

    def forward(self, x):
        code = self.encoder(x)
        return self.decoder(code), code
