"""StackGAN-lite (Zhang et al. 2017; notes 001, "StackGAN" and "Conditional + Stack GAN"):
two generators in sequence, a sketch and then its refinement, both conditioned on a caption.

Notes 001: a text description goes to stage I, which draws a low-resolution image, and
stage II draws the high-resolution one from it; noise and the text embedding are the
input. Here the "text" is the class: each class has a fixed random 32-d caption embedding
plus jitter (``conditioning.CaptionEmbedding``). On 28×28 digits:

    φ = caption(y);  c₁ = μ₁(φ) + σ₁(φ) ⊙ ε   (conditioning augmentation, ``nn/
                                               conditioning_augmentation.py``)
    stage I:   s₁ = G₁(z, c₁)                   14×14: Linear → 7×7 → up + conv → 14×14, tanh
    stage II:  s₂ = G₂(up(s₁), c₂)              28×28: the upsampled sketch encoded to 14×14,
               c₂ = μ₂(φ) + σ₂(φ) ⊙ ε            joined with c₂, residual blocks, up + conv,
                                                the sketch joined again, conv, tanh (its
                                                own CA, no noise z)

Each stage has its own matching-aware discriminator D_i(x, φ) (real image with its caption:
real; real image with a caption of another class: fake; generated image: fake;
``losses.d_loss_matching_aware``) and G_i minimises

    L_G = −E[log D_i(s_i, φ)] + λ_KL · E[KL(N(μ_i, σ_i²) ‖ N(0, I))]     (λ_KL = 0.02)

Stage I trains for ``stage1_steps`` steps, then stage II trains with stage I frozen, as in
the paper. λ_KL: the paper's 1 held the KL at 0.1–0.5 nat here and stage I's label
accuracy to chance (0.10–0.19 after 1,500 steps, batch 32): ten captions need only
log 10 ≈ 2.3 nats, and the KL takes them away faster than the adversarial loss asks for
them; 0.02 kept 0.72–0.78 (d_width 32–64), no CA 0.90. Samples are the current stage's
images (stage I upsampled to 28×28 while it trains). ``--no-ca`` feeds c = μ(φ) with no
sampling and no KL: the ablation.

Not to be confused with Progressive GAN (``progan.py``), which notes 001 describe in the
same breath ("two steps"): ProGAN grows ONE generator through any number of resolutions,
fading layers in, trained by one loss; StackGAN has TWO generators with their own
discriminators and losses, the second trained after the first, refining its output.

>>> import minigan
>>> gan = StackGAN((1, 28, 28), num_classes=10, width=8, stage1_steps=1)
>>> batch = {"x": minigan.rand(4, 1, 28, 28) * 2 - 1, "y": minigan.tensor([0, 1, 2, 3])}
>>> [gan.step(batch)["stage"] for _ in range(2)]
[1.0, 2.0]
>>> gan.sample(2, 7).shape
(2, 1, 28, 28)
"""
import contextlib

from minigan import optim
from minigan.autograd import Tensor, no_grad
from minigan.backend import get_array_module
from minigan.creation import randint
from minigan.functional import avg_pool2d, broadcast_to, cat, interpolate, mean, reshape
from minigan.models.adversarial import AdversarialModel, eval_mode, frozen
from minigan.models.conditioning import CaptionEmbedding
from minigan.models.losses import d_loss_matching_aware, gaussian_kl, g_loss_nonsaturating
from minigan.models.networks import SAMPLE_BN, batch_statistics
from minigan.models.options import Option
from minigan.nn.activation import LeakyReLU, ReLU, Tanh
from minigan.nn.conditioning_augmentation import ConditioningAugmentation
from minigan.nn.container import Sequential
from minigan.nn.conv import Conv2d
from minigan.nn.linear import Linear
from minigan.nn.module import Module
from minigan.nn.norm import BatchNorm1d, BatchNorm2d
from minigan.nn.resize import Upsample
from minigan.nn.shape import Flatten, Unflatten

COMPRESSED = 8  # the discriminators' compressed caption (StackGAN's N_d)


# ==================== generators ====================

def _up_block(in_ch, out_ch):
    """Nearest ×2 + 3×3 conv + BN + ReLU: doubles the resolution."""
    return [Upsample(scale_factor=2), Conv2d(in_ch, out_ch, 3, 1, 1), BatchNorm2d(out_ch),
            ReLU()]


class ResidualBlock(Module):
    """y = ReLU(x + BN(conv(ReLU(BN(conv(x)))))), 3×3 convs keeping C×H×W (StackGAN's
    stage II); ∂y/∂x = ReLU′ ⊙ (I + ∂branch/∂x): the identity path carries the sketch."""

    def __init__(self, channels):
        super().__init__()
        self.branch = Sequential(Conv2d(channels, channels, 3, 1, 1), BatchNorm2d(channels),
                                 ReLU(), Conv2d(channels, channels, 3, 1, 1),
                                 BatchNorm2d(channels))
        self.act = ReLU()

    def forward(self, x):
        return self.act(x + self.branch(x))


def _replicate(c, h, w):
    """(N, K) -> (N, K, h, w): a vector as constant feature maps."""
    return broadcast_to(reshape(c, c.shape + (1, 1)), c.shape + (h, w))


class StageOne(Module):
    """[z, c₁] (N, Z + c) -> sketch (N, C, H/2, W/2) in [−1, 1]:
    Linear → BN → ReLU → (2w, H/4, W/4) → up ×2 + conv + BN + ReLU → conv 3×3 → tanh."""

    def __init__(self, in_features, channels, size, width):
        super().__init__()
        base = size // 4
        self.net = Sequential(Linear(in_features, 2 * width * base * base),
                              BatchNorm1d(2 * width * base * base), ReLU(),
                              Unflatten(1, (2 * width, base, base)),
                              *_up_block(2 * width, width),
                              Conv2d(width, channels, 3, 1, 1), Tanh())

    def forward(self, zc):
        return self.net(zc)


class StageTwo(Module):
    """(sketch upsampled to (N, C, H, W), c₂) -> image (N, C, H, W) in [−1, 1]:
    encode (conv, conv stride 2: H/2) → join with c₂ as constant maps → residual blocks
    → up ×2 + conv → [·, sketch] → conv 3×3 → tanh. The sketch also enters the last
    convolution: a skip path, so stage II starts out able to pass the sketch on and
    learns the refinement."""

    def __init__(self, channels, c_dim, width, res_blocks):
        super().__init__()
        self.encode = Sequential(Conv2d(channels, width, 3, 1, 1), ReLU(),
                                 Conv2d(width, 2 * width, 4, 2, 1), BatchNorm2d(2 * width),
                                 ReLU())
        self.join = Sequential(Conv2d(2 * width + c_dim, 2 * width, 3, 1, 1),
                               BatchNorm2d(2 * width), ReLU())
        self.refine = Sequential(*[ResidualBlock(2 * width) for _ in range(res_blocks)])
        self.up = Sequential(*_up_block(2 * width, width))
        self.out = Sequential(Conv2d(width + channels, channels, 3, 1, 1), Tanh())

    def forward(self, sketch, c):
        h = self.encode(sketch)
        h = self.join(cat([h, _replicate(c, *h.shape[2:])], axis=1))
        return self.out(cat([self.up(self.refine(h)), sketch], axis=1))


class StackGenerator(Module):
    """Both stages and their conditioning augmentations: ``stage1(z, φ)`` and
    ``stage2(sketch, φ)`` each return (image, μ, log σ²)."""

    def __init__(self, data_shape, latent_dim, caption_dim, c_dim, width, res_blocks, ca):
        super().__init__()
        channels, size, _ = data_shape
        self.ca1 = ConditioningAugmentation(caption_dim, c_dim, augment=ca)
        self.one = StageOne(latent_dim + c_dim, channels, size, width)
        self.ca2 = ConditioningAugmentation(caption_dim, c_dim, augment=ca)
        self.two = StageTwo(channels, c_dim, width, res_blocks)

    def stage1(self, z, phi):
        c, mu, logvar = self.ca1(phi)
        return self.one(cat([z, c], axis=1)), mu, logvar

    def stage2(self, sketch, phi):
        c, mu, logvar = self.ca2(phi)
        return self.two(interpolate(sketch, scale_factor=2), c), mu, logvar

    def stage_parameters(self, stage):
        """The parameters stage ``stage`` trains (its CA's and its generator's)."""
        modules = (self.ca1, self.one) if stage == 1 else (self.ca2, self.two)
        return [p for m in modules for p in m.parameters()]


# ==================== discriminators ====================

class StageDiscriminator(Module):
    """(image (N, C, S, S), caption φ (N, E)) -> logit (N, 1), S = 14 or 28:
    conv 4×4 stride 2 + LReLU (S → S/2), [conv 4×4 stride 2 + BN + LReLU] to 7×7; the
    caption compressed by Linear(E, 8) + LReLU and appended as 8 constant maps; conv 1×1 +
    BN + LReLU; conv 7×7 → one logit (StackGAN's joint head)."""

    def __init__(self, channels, size, caption_dim, width):
        super().__init__()
        layers, c_in, s = [Conv2d(channels, width, 4, 2, 1), LeakyReLU(0.2)], width, size // 2
        while s > 7:
            layers += [Conv2d(c_in, 2 * c_in, 4, 2, 1), BatchNorm2d(2 * c_in), LeakyReLU(0.2)]
            c_in, s = 2 * c_in, s // 2
        self.down = Sequential(*layers)
        self.compress = Sequential(Linear(caption_dim, COMPRESSED), LeakyReLU(0.2))
        self.head = Sequential(Conv2d(c_in + COMPRESSED, c_in, 1), BatchNorm2d(c_in),
                               LeakyReLU(0.2), Conv2d(c_in, 1, s), Flatten())

    def forward(self, x, phi):
        h = self.down(x)
        return self.head(cat([h, _replicate(self.compress(phi), *h.shape[2:])], axis=1))


class StackDiscriminator(Module):
    """D₁ for the H/2 sketches and D₂ for the full images."""

    def __init__(self, data_shape, caption_dim, width):
        super().__init__()
        channels, size, _ = data_shape
        self.one = StageDiscriminator(channels, size // 2, caption_dim, width)
        self.two = StageDiscriminator(channels, size, caption_dim, width)


# ==================== the model ====================

class StackGAN(AdversarialModel):
    """Two-stage text(class)-to-image GAN with conditioning augmentation, matching-aware D."""
    name = "stackgan"
    data_kinds = ("image",)
    needs = ("x", "y")
    options = (
        Option("latent_dim", 32, "size of the noise z of stage I", least=1),
        Option("width", 16, "channel width of the generators", least=4),
        Option("d_width", 64, "channels of the discriminators' first block (wide: the "
               "caption reaches D only through 8 channels)", least=1),
        Option("caption_dim", 32, "size of the class captions φ", least=1),
        Option("jitter", 0.1, "std of the noise added to a caption at each use", least=0),
        Option("caption_seed", 0, "seed of the fixed caption table", least=0),
        Option("c_dim", 16, "size of the conditioning vector c", least=1),
        Option("ca", True, "conditioning augmentation (--no-ca: c = μ(φ), no KL)"),
        Option("kl", 0.02, "weight λ_KL of the KL term (the paper's 1 erases the class "
               "here: see the module docstring)", least=0),
        Option("res_blocks", 2, "residual blocks of stage II", least=0),
        Option("stage1_steps", 3000, "steps that train stage I before stage II", least=0),
        Option("lr", 2e-4, "Adam learning rate of every network", least=0),
        Option("beta1", 0.5, "Adam β₁", least=0),
        Option("beta2", 0.999, "Adam β₂", least=0),
        Option("sample_bn", "batch", "batch-norm statistics of samples: the batch's own or "
               "the running averages", choices=SAMPLE_BN),
    )

    def build_networks(self):
        channels, h, w = self.data_shape
        if h != w or h % 4:
            raise ValueError(f"stackgan draws square images whose side is a multiple of 4 "
                             f"(stage I at half size), found {h}×{w}")
        hp = self.hp
        # this model's condition is a caption, not AdversarialModel's one-hot vector
        self.condition = CaptionEmbedding(self.num_classes, hp.caption_dim, hp.jitter,
                                          hp.caption_seed)
        return (StackGenerator(self.data_shape, hp.latent_dim, hp.caption_dim, hp.c_dim,
                               hp.width, hp.res_blocks, hp.ca),
                StackDiscriminator(self.data_shape, hp.caption_dim, hp.d_width))

    def loss_family(self):
        return "bce"  # G's non-saturating loss; D's is the matching-aware one (``step``)

    def build_optimizers(self):
        hp = self.hp
        adam = dict(lr=hp.lr, betas=(hp.beta1, hp.beta2))
        return {"G1": optim.Adam(self.G.stage_parameters(1), **adam),
                "D1": optim.Adam(self.D.one.parameters(), **adam),
                "G2": optim.Adam(self.G.stage_parameters(2), **adam),
                "D2": optim.Adam(self.D.two.parameters(), **adam)}

    @property
    def stage(self):
        """1 for the first ``stage1_steps`` steps, 2 afterwards."""
        return 1 if self.d_updates < self.hp.stage1_steps else 2

    # ---- the generators ----
    def generate_stages(self, z, labels, stages=(1, 2)):
        """{stage: (image, μ, log σ²)}: stage I, and stage II from stage I's sketch when
        ``stages`` asks for it; one caption draw φ(y) for both."""
        phi = self.condition.embed(labels, z)
        out = {1: self.G.stage1(z, phi)}
        if 2 in stages:
            out[2] = self.G.stage2(out[1][0], phi)
        return out

    def generate(self, z, labels=None):
        """The current stage's images at the data size (stage I's sketch upsampled ×2)."""
        if self.G.training or self.hp.sample_bn == "running":
            return self._current(z, labels)
        with batch_statistics(self.G):
            return self._current(z, labels)

    def _current(self, z, labels):
        if self.stage == 1:
            return interpolate(self.generate_stages(z, labels, (1,))[1][0], scale_factor=2)
        return self.generate_stages(z, labels, (1, 2))[2][0]

    def sketches_and_images(self, z, labels):
        """(stage-I sketches upsampled to the data size, stage-II images), no graph, drawn
        as ``sample`` draws: the two stages of the same z and captions."""
        statistics = (batch_statistics(self.G) if self.hp.sample_bn == "batch"
                      else contextlib.nullcontext())
        with eval_mode(self.G), no_grad(), statistics:
            out = self.generate_stages(z, labels, (1, 2))
        return interpolate(out[1][0], scale_factor=2), out[2][0]

    # ---- one training step ----
    def step(self, batch):
        """One update of the current stage's D, then of its G (stage I frozen in stage II)."""
        real = self.batch_field(batch, "x")
        labels = self.batch_field(batch, "y", shape=(real.shape[0],))
        stage = self.stage
        phi = self.condition.embed(labels, real)
        wrong = self.condition.embed(self._wrong_labels(labels), real)
        z = self.noise(real.shape[0])
        if stage == 1:
            fake, mu, logvar = self.G.stage1(z, phi)
            real, D, names = avg_pool2d(real, 2), self.D.one, ("G1", "D1")
        else:
            with no_grad(), batch_statistics(self.G.one):
                sketch, _, _ = self.G.stage1(z, phi)
            fake, mu, logvar = self.G.stage2(sketch, phi)
            D, names = self.D.two, ("G2", "D2")
        d_loss = d_loss_matching_aware(D(real, phi), D(real, wrong), D(fake.detach(), phi))
        self._update(names[1], d_loss)
        with frozen(D):
            adversarial = g_loss_nonsaturating(D(fake, phi))
            kl = mean(gaussian_kl(mu, logvar))
            g_loss = adversarial + self.hp.kl * kl if self.hp.ca else adversarial
            self._update(names[0], g_loss)
        self.d_updates += 1
        self.g_updates += 1
        return {"loss_D": d_loss.item(), "loss_G": adversarial.item(), "kl": kl.item(),
                "stage": float(stage)}

    def _update(self, name, loss):
        optimizer = self.optimizers[name]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def _wrong_labels(self, labels):
        """For each label another class, uniformly: (y + k) mod K, k ∈ {1, …, K − 1}."""
        k = self.num_classes
        shift = randint(1, k, labels.shape, device=self.device).data
        y = get_array_module(shift).asarray(labels.data).astype(shift.dtype)
        return Tensor((y + shift) % k)

