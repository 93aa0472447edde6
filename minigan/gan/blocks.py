"""What DCGAN, WGAN, WGAN-GP and CGAN share: networks, initialisation, and the D/G update.

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

from minigan import nn
from minigan.autograd import Tensor, no_grad
from minigan.backend import get_array_module
from minigan.creation import tensor
from minigan.functional.activation import sigmoid
from minigan.functional.math import broadcast_to, cat, reshape
from minigan.gan.base import GAN, frozen
from minigan.gan.losses import get_losses, score_stats
from minigan.nn import init
from minigan.nn.conv import (Conv2d, ConvTranspose2d, conv_output_size,
                             conv_transpose_output_size)
from minigan.nn.norm import BatchNorm2d, InstanceNorm2d, LayerNorm
from minigan.nn.resize import Upsample

NORMS = ("batch", "layer", "instance", "none")
UPSAMPLES = ("convtranspose", "nearest")
SAMPLE_BN = ("batch", "running")


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


def dcgan_discriminator(in_channels, data_shape, width=16, norm="batch"):
    """D: (N, in_channels, H, W) -> (N, 1) scores (logits, or critic values); ``width``:
    the channels of its first block, doubled by each following one.

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
    blocks, size, c_in = [], h, in_channels
    for c_out, kernel, stride, padding in plan:
        size = conv_output_size(size, kernel, stride, padding)
        blocks.append(nn.Sequential(Conv2d(c_in, c_out, kernel, stride, padding),
                                    norm_layer(norm, c_out, size), nn.LeakyReLU(0.2)))
        c_in = c_out
    assert conv_output_size(size, *head) == 1
    blocks.append(nn.Sequential(Conv2d(c_in, 1, *head), nn.Flatten()))  # (N, 1, 1, 1) -> (N, 1)
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


def mlp_discriminator(in_features, hidden=128, depth=2):
    """D for points: x -> (Linear+LReLU(0.2)) × depth -> Linear -> score (N, 1)."""
    return nn.Sequential(*_hidden_layers(in_features, hidden, depth,
                                         lambda: nn.LeakyReLU(0.2)),
                         nn.Linear(hidden, 1))


def _hidden_layers(in_features, hidden, depth, activation):
    layers = []
    for i in range(depth):
        layers += [nn.Linear(in_features if i == 0 else hidden, hidden), activation()]
    return layers


# ==================== conditioning (CGAN) ====================

def one_hot(labels, num_classes, like):
    """(N,) integer labels -> (N, num_classes) one-hot rows (a constant), with the dtype
    and device of ``like``.

    >>> import minigan
    >>> one_hot(minigan.tensor([2, 0]), 3, minigan.zeros(1)).data.tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    xp = get_array_module(like.data)
    index = xp.asarray(labels.data).astype(xp.int64)
    if index.ndim != 1 or (index.size and not 0 <= int(index.min()) <= int(index.max())
                           < num_classes):
        raise ValueError(f"expected labels (N,) in 0..{num_classes - 1}, found shape "
                         f"{tuple(index.shape)} with values "
                         f"{sorted(set(index.tolist()))[:5]}")
    rows = xp.zeros((index.shape[0], num_classes), dtype=like.dtype)
    rows[xp.arange(index.shape[0]), index] = 1
    return Tensor(rows)


def condition_latent(z, labels, num_classes):
    """[z, onehot(y)] (N, Z + K): the condition vector joins the noise (notes 000, CGAN)."""
    return cat([z, one_hot(labels, num_classes, z)], axis=1)


def condition_input(x, labels, num_classes):
    """x with the one-hot label appended: as K constant channels (N, C + K, H, W) for
    images, as K more features (N, D + K) for points."""
    y = one_hot(labels, num_classes, x)
    if x.ndim == 4:
        y = broadcast_to(reshape(y, y.shape + (1, 1)),  # (N, K) -> (N, K, 1, 1)
                         (x.shape[0], num_classes) + x.shape[2:])  # -> (N, K, H, W)
    return cat([x, y], axis=1)


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


# ==================== the shared D/G update ====================

class AdversarialGAN(GAN):
    """A GAN defined by a (discriminator loss, generator loss) pair of ``losses.LOSSES``,
    on DCGAN networks for images and MLPs for points. Subclasses choose the losses, the
    optimisers (``set_optimizers``) and two hooks: ``critic_penalty`` (a term added to D's
    loss, e.g. the gradient penalty) and ``after_critic_step`` (e.g. weight clipping).

    One discriminator update (every ``step``):
        fake = G(z) (no graph);  L_D = d_loss(D(x), D(fake)) + penalty;  D ← D − opt(∇L_D)
    one generator update (every k-th ``step``), D frozen:
        L_G = g_loss(D(G(z)));  G ← G − opt(∇L_G)
    Conditional subclasses feed the labels to both networks.

    ``options``: every keyword of the subclass's ``__init__`` (they become ``config()``),
    among them k, latent_dim and the network options of ``add_network_arguments``.
    """
    data_kinds = ("image", "points")

    def __init__(self, data_shape, num_classes, device, loss, options):
        for what, value, choices in (("loss", loss, tuple(self.loss_choices())),
                                     ("norm", options["norm"], NORMS),
                                     ("upsample", options["upsample"], UPSAMPLES),
                                     ("sample_bn", options["sample_bn"], SAMPLE_BN)):
            if value not in choices:
                raise ValueError(f"{self.name}: {what} must be one of {', '.join(choices)}, "
                                 f"found {value!r}")
        width, d_width, hidden = options["width"], options["d_width"], options["hidden"]
        depth = options["depth"]
        checks = [("width", width, 4), ("hidden", hidden, 1), ("depth", depth, 1)]
        if d_width is not None:                    # None: the variant's default_d_width
            checks.append(("d_width", d_width, 1))
        for what, value, least in checks:
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{self.name}: {what} must be an int >= {least}, found "
                                 f"{value!r}")
        super().__init__(data_shape, num_classes, device, **options)
        extra = self.num_classes if self.conditional else 0
        if self.data_kind == "image":
            self.G = dcgan_init_(dcgan_generator(self.latent_dim + extra, self.data_shape,
                                                 width, options["upsample"]))
            self.D = dcgan_init_(dcgan_discriminator(
                self.data_shape[0] + extra, self.data_shape,
                d_width or self.default_d_width(self.data_shape, width), options["norm"]))
        else:
            self.G = mlp_generator(self.latent_dim + extra, self.num_features, hidden, depth)
            self.D = mlp_discriminator(self.num_features + extra, hidden, depth)
        self.G.to(self.device)
        self.D.to(self.device)
        self.models = {"G": self.G, "D": self.D}
        self.d_loss, self.g_loss = get_losses(loss)
        self.probabilities = loss in ("bce", "minimax")  # D's scores are logits of D(·)
        self.sample_bn = options["sample_bn"]

    def set_optimizers(self, optimizer, **hyperparameters):
        """One ``optimizer`` (an optim class) for G and one for D, same hyperparameters."""
        self.optimizers = {name: optimizer(model.parameters(), **hyperparameters)
                           for name, model in self.models.items()}

    @classmethod
    def default_d_width(cls, data_shape, width):
        """D's first-block channels when ``d_width`` is not given, for G's ``width``: the
        notes' DCGAN pairs G's 64 with D's 16 on 28×28 MNIST, and 64 with 64 at 64×64."""
        return dcgan_d_width(data_shape, width)

    @classmethod
    def upgrade_config(cls, config, data_shape):
        """Checkpoints written before ``d_width`` existed built every variant's D with the
        DCGAN's width; where today's default differs (cgan), that width is made explicit."""
        config = dict(config)
        if "d_width" not in config:
            old = dcgan_d_width(data_shape, config["width"]) if len(data_shape) == 3 else None
            new = cls.default_d_width(data_shape, config["width"]) if old else None
            config["d_width"] = None if old == new else old
        return super().upgrade_config(config, data_shape)

    @classmethod
    def loss_choices(cls):
        """The loss families this variant accepts."""
        return ("bce", "minimax", "lsgan", "hinge")

    @classmethod
    def add_network_arguments(cls, parser, norm):
        """The options every variant of this family has (``norm``: D's default)."""
        parser.add_argument("--latent-dim", type=int, default=64,
                            help="size of the noise z (default 64, notes 000)")
        parser.add_argument("--upsample", choices=UPSAMPLES, default="convtranspose",
                            help="G's stride-2 layers: transposed convolutions (default), or "
                                 "nearest ×2 + conv, free of checkerboards (notes 002)")
        parser.add_argument("--norm", choices=NORMS, default=norm,
                            help=f"normalisation in D's hidden blocks (default {norm})")
        parser.add_argument("--width", type=int, default=64,
                            help="channel width of G (default 64, the notes' MNIST nets)")
        parser.add_argument("--d-width", type=int, default=None,
                            help="channels of D's first block, doubled by each next one "
                                 "(default, the notes' choice: width/4 on 28×28 images, "
                                 "width on 2^k×2^k images and in cgan)")
        parser.add_argument("--hidden", type=int, default=128,
                            help="hidden units of the MLPs used for 2-D points (default 128)")
        parser.add_argument("--depth", type=int, default=2,
                            help="hidden layers of those MLPs (default 2; the WGAN-GP "
                                 "authors' toy networks have 3)")
        parser.add_argument("--sample-bn", choices=SAMPLE_BN, default="batch",
                            help="batch-norm statistics of sample pictures: the batch's own "
                                 "(default) or the running averages")

    # ---- the two networks, with the labels when conditional ----
    def generate(self, z, labels=None):
        if self.conditional:
            z = condition_latent(z, labels, self.num_classes)
        if self.data_kind == "image":
            z = z.reshape(z.shape + (1, 1))  # (N, Z) -> (N, Z, 1, 1)
        if self.G.training or self.sample_bn == "running":
            return self.G(z)
        with batch_statistics(self.G):
            return self.G(z)

    def sample_class(self, label, n):
        """n samples of class ``label`` from a conditional variant (``sample --label``).

        With batch statistics (sample_bn "batch") they are drawn inside batches whose
        labels cycle over all classes, as in training, and the rows of ``label`` kept: in
        a batch of one class, the first batch norm subtracts the label's own channel means
        as "the batch mean", and part of the condition is lost (the CGAN of BENCHMARKS.md
        at 4,000 iterations, 100 samples per class: label accuracy 0.97 drawn in mixed
        batches, 0.92 in one-class batches; 0.67 and 0.53 with a narrower D).
        """
        if not self.conditional:
            raise ValueError(f"{self.name} is not conditional: it has no class to sample")
        if not 0 <= label < self.num_classes:
            raise ValueError(f"{self.name}: expected a class in 0..{self.num_classes - 1}, "
                             f"found {label}")
        every = self.num_classes if self.sample_bn == "batch" else 1
        labels = [(label + i % every) % self.num_classes    # label at rows 0, every, 2·every..
                  for i in range(n * every)]
        samples = self.sample(self.noise(n * every), tensor(labels, device=self.device))
        return samples[::every]

    def discriminate(self, x, labels=None):
        """D's raw scores (N, 1): logits for the BCE losses, critic values otherwise."""
        if self.conditional:
            x = condition_input(x, labels, self.num_classes)
        return self.D(x)

    # ---- hooks ----
    def critic_penalty(self, real, fake, labels):
        """A term added to D's loss, and the floats to log about it (default: none)."""
        return None, {}

    def after_critic_step(self):
        """Called after each D update (WGAN clips the weights here)."""

    # ---- the updates ----
    def discriminator_step(self, real, fake, labels=None):
        real_scores = self.discriminate(real, labels)
        fake_scores = self.discriminate(fake, labels)
        loss = self.d_loss(real_scores, fake_scores)
        penalty, logs = self.critic_penalty(real, fake, labels)
        total = loss if penalty is None else loss + penalty
        self.optimizers["D"].zero_grad()
        total.backward()
        self.optimizers["D"].step()
        self.after_critic_step()
        if self.probabilities:
            with no_grad():
                real_scores, fake_scores = sigmoid(real_scores), sigmoid(fake_scores)
        d_real, d_fake = score_stats(real_scores, fake_scores)
        return {"loss_D": total.item(), "D(x)": d_real, "D(G(z))": d_fake, **logs}

    def generator_step(self, fake, labels=None):
        with frozen(self.D):
            loss = self.g_loss(self.discriminate(fake, labels))
            self.optimizers["G"].zero_grad()
            loss.backward()
            self.optimizers["G"].step()
        return {"loss_G": loss.item()}
