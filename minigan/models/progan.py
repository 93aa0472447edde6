"""Progressive GAN (Karras et al. 2018; notes 001 "Progressive GAN", notes 003
"ProgressiveGAN"): one generator and one critic that grow, resolution by resolution.

Training starts at a low resolution (7×7 for 28×28 digits: 7 → 14 → 28; 4 → 8 → … for
2^k×2^k images) and adds a block to both networks each time it doubles. Notes 003: "start
with 4×4, then 8×8, growing to 1024×1024"; notes 001: coarse structure first, then finer
and finer detail. The schedule, in real images shown to the critic:

    level 0: stabilise S images;  each next level l: fade F images (α: 0 → 1), stabilise S.

While level l fades in (a new block, and a new 1×1 toRGB / fromRGB layer):

    G(z) = (1 − α) · up(toRGB_{l−1}(h_{l−1})) + α · toRGB_l(block_l(h_{l−1}))
    D(x) = D's older blocks applied to (1 − α) · fromRGB_{l−1}(pool(x))
                                         + α · block_l(fromRGB_l(x))
    real x = (1 − α) · up(pool(x)) + α · x        (``real_fade``: real images fade too)

with up = nearest ×2 and pool = 2×2 average. Objective: WGAN-GP with the drift term,

    critic minimises  E[D(G(z))] − E[D(x)] + λ E[(‖∇_x̂ D(x̂)‖ − 1)²] + ε_drift E[D(x)²]
    G minimises       −E[D(G(z))]

λ = 10, ε_drift = 1e-3, one critic update per G update, Adam(1e-3, β = (0, 0.99)) for both.
Layers (``nn/progressive.py``): equalised learning rate everywhere, pixel norm after each
of G's convolutions, minibatch standard deviation before the critic's last block, a linear
(no tanh) output. Samples, previews and scores come from an exponential moving average of
G's weights (β 0.999 after a warm-up, ``nn.averaging``). A lower-resolution sample is shown
upsampled to the data size.

What a grown parameter set means for the protocol: ``state_dict()`` records the phase,
the images seen and α; ``load_state_dict`` grows the networks to the saved phase first,
rebuilds the optimisers for the grown parameter set, then loads. Adam's moments: the
authors' code (``reset_opt_for_new_lod``) resets the whole optimiser state, old layers'
moments included, whenever a fade starts or ends; here every phase change does the same
(fresh Adam optimisers, step count 0), so a checkpoint holds only the current phase's
moments.

``--no-grow`` trains the full-resolution networks from the first step (the fixed
baseline); ``--no-real-fade`` shows real images at the new resolution while G's output is
still a blend (the transition shock the real fade avoids).

>>> import minigan
>>> gan = ProGAN((1, 28, 28), stable_images=8, fade_images=8)
>>> batch = {"x": minigan.rand(4, 1, 28, 28) * 2 - 1}
>>> [(logs["level"], logs["alpha"]) for logs in (gan.step(batch) for _ in range(5))]
[(0.0, 1.0), (0.0, 1.0), (1.0, 0.0), (1.0, 0.5), (1.0, 1.0)]
>>> gan.resolution, gan.sample(2).shape          # 14×14 samples, shown at 28×28
(14, (2, 1, 28, 28))
"""
import math

from minigan import optim
from minigan.autograd import Tensor, no_grad
from minigan.functional import avg_pool2d, clamp, interpolate
from minigan.models.adversarial import AdversarialModel
from minigan.models.losses import critic_loss_wasserstein, drift_penalty, gradient_penalty
from minigan.models.options import Option
from minigan.nn.activation import LeakyReLU
from minigan.nn.averaging import average_decay, update_average
from minigan.nn.container import ModuleList, Sequential
from minigan.nn.module import Module
from minigan.nn.progressive import (EqualizedConv2d, EqualizedLinear, MinibatchStdDev,
                                    PixelNorm, fade_in)
from minigan.nn.resize import AvgPool2d, Upsample
from minigan.nn.shape import Flatten, Unflatten

SLOPE = 0.2  # LeakyReLU's negative slope in both networks


# ==================== the schedule ====================

def resolutions(size):
    """The resolutions a ``size``×``size`` image is grown through: halve while the size is
    even and the half at least 4.

    >>> resolutions(28), resolutions(64)
    ([7, 14, 28], [4, 8, 16, 32, 64])
    """
    sizes = [size]
    while sizes[0] % 2 == 0 and sizes[0] // 2 >= 4:
        sizes.insert(0, sizes[0] // 2)
    return sizes


def schedule(images, levels, stable, fade):
    """(phase, α) of a training step that starts after ``images`` real images.

    Phase 0 stabilises level 0 for ``stable`` images; level l ≥ 1 then fades in (phase
    2l − 1, α = images into the fade / ``fade``, from 0 up to (F − 1)/F of the last step)
    and stabilises (phase 2l, α = 1). The last level's stable phase lasts for ever.

    >>> [schedule(n, 3, 4, 4) for n in (0, 3, 4, 6, 8, 12, 14, 16, 1000)]
    [(0, 1.0), (0, 1.0), (1, 0.0), (1, 0.5), (2, 1.0), (3, 0.0), (3, 0.5), (4, 1.0), (4, 1.0)]
    """
    if images < stable or levels == 1:
        return 0, 1.0
    level, within = divmod(images - stable, fade + stable)
    level += 1
    if level >= levels:
        return 2 * (levels - 1), 1.0
    if within < fade:
        return 2 * level - 1, within / fade
    return 2 * level, 1.0


def fading(alpha):
    """Whether a network's fade-in blend is on: α < 1, or α a Tensor (to differentiate
    with respect to it)."""
    return isinstance(alpha, Tensor) or alpha < 1


def level_of(phase):
    """The level (0 = lowest resolution) that is trained in ``phase``."""
    return (phase + 1) // 2


# ==================== the networks ====================

def _conv_act(in_ch, out_ch, pixel_norm):
    """3×3 equalised conv + LeakyReLU(0.2) (+ pixel norm in G)."""
    layers = [EqualizedConv2d(in_ch, out_ch, 3, padding=1), LeakyReLU(SLOPE)]
    return layers + [PixelNorm()] if pixel_norm else layers


class ProgressiveGenerator(Module):
    """z (N, Z) -> images (N, C, r_l, r_l) at the current level l; ``grow()`` adds a level.

        base:      PN(z) → EqLinear(Z, c₀·r₀²) → reshape (c₀, r₀, r₀) → LReLU → PN
                   → EqConv3×3 → LReLU → PN
        block l:   up ×2 (nearest) → EqConv3×3 → LReLU → PN → EqConv3×3 → LReLU → PN
        toRGB l:   EqConv1×1(c_l, C), gain 1, linear output
    """

    def __init__(self, latent_dim, channels, out_channels, start):
        super().__init__()
        self.channels, self.out_channels = channels, out_channels
        c0 = channels[0]
        self.base = Sequential(PixelNorm(), EqualizedLinear(latent_dim, c0 * start * start),
                               Unflatten(1, (c0, start, start)), LeakyReLU(SLOPE),
                               PixelNorm(), *_conv_act(c0, c0, True))
        self.blocks = ModuleList()
        self.to_rgb = ModuleList([self._to_rgb(0)])

    def _to_rgb(self, level):
        return EqualizedConv2d(self.channels[level], self.out_channels, 1, gain=1.0)

    @property
    def level(self):
        return len(self.to_rgb) - 1

    def grow(self):
        """Add the next level's block and toRGB layer (freshly initialised)."""
        level = self.level + 1
        c_in, c_out = self.channels[level - 1], self.channels[level]
        self.blocks.append(Sequential(Upsample(scale_factor=2), *_conv_act(c_in, c_out, True),
                                      *_conv_act(c_out, c_out, True)))
        self.to_rgb.append(self._to_rgb(level))

    def forward(self, z, alpha=1.0):
        h = self.base(z)
        if not len(self.blocks):
            return self.to_rgb[0](h)
        for block in self.blocks[:-1]:
            h = block(h)
        new = self.to_rgb[-1](self.blocks[-1](h))
        if not fading(alpha):
            return new
        old = interpolate(self.to_rgb[-2](h), scale_factor=2)  # (N, C, r, r) -> (N, C, 2r, 2r)
        return fade_in(old, new, alpha)


class ProgressiveDiscriminator(Module):
    """images (N, C, r_l, r_l) at the current level l -> scores (N, 1); ``grow()`` adds one.

        fromRGB l: EqConv1×1(C, c_l) → LReLU
        block l:   EqConv3×3(c_l, c_l) → LReLU → EqConv3×3(c_l, c_{l−1}) → LReLU → avg-pool 2
        final:     minibatch stddev (+1 channel) → EqConv3×3(c₀ + 1, c₀) → LReLU
                   → EqLinear(c₀·r₀², c₀) → LReLU → EqLinear(c₀, 1), gain 1
    """

    def __init__(self, in_channels, channels, start, group_size):
        super().__init__()
        self.channels, self.in_channels = channels, in_channels
        c0 = channels[0]
        self.from_rgb = ModuleList([self._from_rgb(0)])
        self.blocks = ModuleList()
        self.final = Sequential(MinibatchStdDev(group_size), *_conv_act(c0 + 1, c0, False),
                                Flatten(), EqualizedLinear(c0 * start * start, c0),
                                LeakyReLU(SLOPE), EqualizedLinear(c0, 1, gain=1.0))

    def _from_rgb(self, level):
        return Sequential(EqualizedConv2d(self.in_channels, self.channels[level], 1),
                          LeakyReLU(SLOPE))

    @property
    def level(self):
        return len(self.from_rgb) - 1

    def grow(self):
        """Add the next level's fromRGB layer and block (freshly initialised)."""
        level = self.level + 1
        c_in, c_out = self.channels[level], self.channels[level - 1]
        self.from_rgb.append(self._from_rgb(level))
        self.blocks.append(Sequential(*_conv_act(c_in, c_in, False),
                                      *_conv_act(c_in, c_out, False), AvgPool2d(2)))

    def forward(self, x, alpha=1.0):
        if not len(self.blocks):
            return self.final(self.from_rgb[0](x))
        h = self.blocks[-1](self.from_rgb[-1](x))
        if fading(alpha):
            h = fade_in(self.from_rgb[-2](avg_pool2d(x, 2)), h, alpha)
        for block in reversed(list(self.blocks)[:-1]):
            h = block(h)
        return self.final(h)


# ==================== the model ====================

class ProGAN(AdversarialModel):
    """Progressive GAN: G and D grow 7 → 14 → 28 with fade-ins; WGAN-GP + drift; EMA of G."""
    name = "progan"
    data_kinds = ("image",)
    counters = ("d_updates", "g_updates", "images_seen", "phase")
    options = (
        Option("latent_dim", 64, "size of the noise z", least=1),
        Option("width", 32, "channels at the lowest resolution, halved at each doubling "
               "(at least 8): 32, 16, 8 at 7, 14, 28", least=8),
        Option("lr", 1e-3, "Adam learning rate of G and the critic", least=0),
        Option("beta1", 0.0, "Adam β₁", least=0),
        Option("beta2", 0.99, "Adam β₂", least=0),
        Option("lam", 10.0, "weight λ of the gradient penalty", least=0),
        Option("drift", 1e-3, "weight ε_drift of the drift term E[D(x)²]", least=0),
        Option("ema", 0.999, "decay β of the moving average of G's weights used for "
               "samples (0: G itself)", least=0),
        Option("stable_images", 20000, "real images shown while a level stabilises",
               least=1),
        Option("fade_images", 20000, "real images shown while a new level fades in",
               least=1),
        Option("grow", True, "grow the networks level by level (--no-grow: the full "
               "networks from the first step)"),
        Option("real_fade", True, "fade the real images like G's output during a fade-in "
               "(--no-real-fade: the ablation)"),
        Option("mbstd_group", 4, "group size of the minibatch standard deviation", least=1),
    )

    def __init__(self, data_shape, num_classes=None, device="cpu", **options):
        super().__init__(data_shape, num_classes, device, **options)
        if self.hp.ema > 1:
            raise ValueError(f"progan: ema must be in [0, 1], found {self.hp.ema}")
        self.d_loss = self._critic_loss
        self.images_seen = 0
        self.phase = 0
        self.G_ema = self._generator().to(self.device).requires_grad_(False)
        self.G_ema.load_state_dict(self.G.state_dict())
        self.networks["G_ema"] = self.G_ema
        if not self.hp.grow:
            self.enter(2 * (len(self.sizes) - 1))

    # ---- networks, losses, optimisers ----
    def _channels(self):
        return [max(self.hp.width >> level, 8) for level in range(len(self.sizes))]

    def _generator(self):
        return ProgressiveGenerator(self.hp.latent_dim, self._channels(), self.data_shape[0],
                                    self.sizes[0])

    def build_networks(self):
        self.sizes = _square_sizes(self.data_shape)
        return (self._generator(),
                ProgressiveDiscriminator(self.data_shape[0], self._channels(), self.sizes[0],
                                         self.hp.mbstd_group))

    def build_optimizers(self):
        hp = self.hp
        return {name: optim.Adam(net.parameters(), lr=hp.lr, betas=(hp.beta1, hp.beta2))
                for name, net in (("G", self.G), ("D", self.D))}

    def loss_family(self):
        return "wasserstein"

    def _critic_loss(self, real_scores, fake_scores):
        return (critic_loss_wasserstein(real_scores, fake_scores)
                + drift_penalty(real_scores, self.hp.drift))

    def critic_penalty(self, real, fake, labels):
        penalty, norm = gradient_penalty(self.discriminate, real, fake, self.hp.lam)
        return penalty, {"gp": penalty.item(), "grad_norm": norm}

    # ---- growing ----
    @property
    def level(self):
        """The level the networks are built to (0: the lowest resolution)."""
        return self.G.level

    @property
    def resolution(self):
        return self.sizes[self.level]

    def schedule(self):
        """(phase, α) of the next step, from the images seen (``schedule``)."""
        if not self.hp.grow:
            return 2 * (len(self.sizes) - 1), 1.0
        return schedule(self.images_seen, len(self.sizes), self.hp.stable_images,
                        self.hp.fade_images)

    @property
    def alpha(self):
        """α of the networks as built: the schedule's α during a fade-in, 1 otherwise. (Once
        a fade is over but the next step has not started, its networks are at α = 1.)"""
        phase, alpha = self.schedule()
        return alpha if phase == self.phase and phase % 2 else 1.0

    def grow_to(self, level):
        """Grow G, D and G's average to ``level`` (new layers freshly initialised; the
        average's copies start as G's)."""
        if level < self.G.level:
            raise ValueError(f"progan: the networks are at level {self.level} and cannot "
                             f"shrink to level {level}")
        while self.G.level < level:
            for net in (self.G, self.D, self.G_ema):
                net.grow()
                net.to(self.device)
            self.G_ema.requires_grad_(False)
            for (_, mine), (_, source) in zip(_newest(self.G_ema), _newest(self.G)):
                mine.data[...] = source.data  # the average of a newborn layer: itself

    def enter(self, phase):
        """Start ``phase``: grow to its level, and start Adam afresh, as the authors do at
        the start and the end of every fade-in."""
        self.grow_to(level_of(phase))
        self.phase = phase
        self.optimizers = self.build_optimizers()

    # ---- the networks at the current level and α ----
    def generate(self, z, labels=None):
        return self.G(z, self.alpha)

    def discriminate(self, x, labels=None):
        return self.D(x, self.alpha)

    def real_images(self, x):
        """Real images as the critic sees them now: pooled to the current resolution and,
        during a fade-in with ``real_fade``, blended towards their 2×2-pooled copy."""
        with no_grad():
            factor = self.data_shape[1] // self.resolution
            if factor > 1:
                x = avg_pool2d(x, factor)
            if self.alpha < 1 and self.hp.real_fade:
                x = fade_in(interpolate(avg_pool2d(x, 2), scale_factor=2), x, self.alpha)
        return x

    # ---- one training step ----
    def step(self, batch):
        """Enter the schedule's phase (growing if it starts a level), then one critic update
        and one G update at that phase's α; then G's moving average, and the count of
        images seen moves on."""
        real = self.batch_field(batch, "x")
        phase, _ = self.schedule()
        if phase != self.phase:
            self.enter(phase)
        alpha, level = self.alpha, self.level
        fake = self.generate(self.noise(real.shape[0]))
        logs = self.discriminator_step(self.real_images(real), fake.detach())
        logs.update(self.generator_step(fake))
        self._update_ema()
        self.d_updates += 1
        self.g_updates += 1
        self.images_seen += real.shape[0]
        logs["W"] = logs["D(x)"] - logs["D(G(z))"]
        return {**logs, "level": float(level), "alpha": float(alpha)}

    def _update_ema(self):
        """G_ema follows G: θ̄ ← θ̄ + (1 − β_t)(θ − θ̄), β_t = min(ema, (1 + t)/(10 + t))
        after t G updates (``nn.averaging``): without the warm-up 0.999 would average over
        ~1,000 updates, longer than a level lasts in a 10-minute run."""
        update_average(self.G_ema, self.G, average_decay(self.hp.ema, self.g_updates))

    # ---- sampling ----
    def sample(self, n, condition=None, noise=None):
        """n samples of the moving-average generator at the current level and α, shown at
        the data's size (nearest upsampling) and clipped to [−1, 1] (G's output is linear)."""
        if condition is not None:
            raise ValueError("progan is not conditional: it draws samples of no particular "
                             "class")
        z = self.noise(n) if noise is None else noise
        if z.shape != (n, self.hp.latent_dim):
            raise ValueError(f"progan: expected noise of shape {(n, self.hp.latent_dim)}, "
                             f"found {z.shape}")
        with no_grad():
            x = self.G_ema(z, self.alpha)
            factor = self.data_shape[1] // self.resolution
            if factor > 1:
                x = interpolate(x, scale_factor=factor)
            return clamp(x, -1.0, 1.0)

    # ---- state ----
    def state_dict(self):
        """The networks, optimisers and counters, and the progress: level, α, images seen."""
        return {**super().state_dict(),
                "progress": {"level": self.level, "alpha": self.alpha,
                             "images_seen": self.images_seen}}

    def load_state_dict(self, state):
        """Grow to the saved phase, rebuild the optimisers for that parameter set, load."""
        phase = int(state["counters"]["phase"])
        self.grow_to(level_of(phase))
        self.phase = phase
        self.optimizers = self.build_optimizers()
        super().load_state_dict(state)
        saved = state.get("progress", {})
        if "alpha" in saved and not math.isclose(float(saved["alpha"]), self.alpha,
                                                 abs_tol=1e-12):
            raise ValueError(f"progan: the saved state says α = {saved['alpha']}, but its "
                             f"{self.images_seen} images seen give α = {self.alpha} under "
                             f"this model's schedule")


def _square_sizes(data_shape):
    if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
        raise ValueError(f"progan grows square images, found a sample shape of "
                         f"{tuple(data_shape)}")
    return resolutions(int(data_shape[1]))


def _newest(network):
    """(name, parameter) of the newest level's layers of a progressive network."""
    level = str(network.level - 1)
    return [(name, p) for name, p in network.named_parameters()
            if name.startswith((f"blocks.{level}.", f"to_rgb.{network.level}."))]
