# %% [markdown]
# # Lesson 14 — Progressive GAN: one generator that grows, and the fade that hides the seams
#
# Notes 003 ("ProgressiveGAN") put it in one line: make a 4×4 image first, then 8×8, and keep
# growing to 1024×1024, training generator and discriminator together while the image
# size increases. Notes 001 ("Progressive GAN") add why: coarse structure is learned at
# low resolution, and each new layer only has to add finer detail.
#
# A word of caution about notes 001. Its "Conditional + Stack GAN" paragraph ends with
# "since it is hard to make [an image] in one go, Progressive GAN came out; it proceeds in
# two steps". The two-step pipeline is **StackGAN** (lesson 15): two *separate*
# generators, each with its own discriminator and loss, the second trained after the
# first and refining its output. Progressive GAN has **one** generator and **one**
# discriminator, trained by **one** loss the whole time; they grow through as many
# resolutions as the image needs (here 7 → 14 → 28 for MNIST digits), and every layer,
# old or new, keeps training. This lesson checks that on minigan's `progan` model.
#
# Objective: WGAN-GP (lesson 06) with a small "drift" term that keeps the critic's scores
# near zero,
#
# $$L_D = \mathbb{E}[D(G(z))] - \mathbb{E}[D(x)]
#   + \lambda\,\mathbb{E}[(\lVert\nabla_{\hat x}D(\hat x)\rVert - 1)^2]
#   + \varepsilon_\text{drift}\,\mathbb{E}[D(x)^2],\qquad L_G = -\mathbb{E}[D(G(z))],$$
#
# $\lambda = 10$, $\varepsilon_\text{drift} = 10^{-3}$, one critic step per generator step,
# Adam($10^{-3}$, $\beta = (0, 0.99)$).

# %%
import numpy as np

from _common import check, setup

import minigan
from minigan import viz
from minigan.data import DataLoader, load_dataset
from minigan.functional import avg_pool2d, interpolate
from minigan.metrics_swd import swd_per_level
from minigan.models.progan import ProGAN, schedule
from minigan.nn.progressive import EqualizedConv2d, MinibatchStdDev, PixelNorm
from minigan.optim import Adam

QUICK, OUT = setup("14_progressive_gan")
minigan.manual_seed(0)

# %% [markdown]
# ## 1. One network that grows
#
# The generator starts with a block that makes 7×7 feature maps and a 1×1 convolution
# "toRGB" that turns them into a 7×7 image. Growing adds a block (nearest ×2 upsampling,
# two 3×3 convolutions) and a new toRGB; the discriminator mirrors it (a new 1×1
# "fromRGB", two convolutions, 2×2 average pooling). Below, the generator is grown twice:
# the parameters of level 0 are *the same objects* after growing — they are not copied
# into a second network, they keep training inside the bigger one.

# %%
gan = ProGAN((1, 28, 28), width=32, latent_dim=32, stable_images=8, fade_images=8)
level0 = dict(gan.G.named_parameters())
sizes = [sum(p.data.size for p in gan.G.parameters())]
for level in (1, 2):
    gan.grow_to(level)
    sizes.append(sum(p.data.size for p in gan.G.parameters()))
grown = dict(gan.G.named_parameters())
print("generator parameters at levels 0, 1, 2:", sizes)
check("every level-0 parameter is still in the grown generator, the same object",
      all(grown[name] is p for name, p in level0.items()), True, 0)
print("new at level 1:", sorted(n for n in grown if n.startswith(("blocks.0", "to_rgb.1"))))

# %% [markdown]
# ## 2. The schedule: stabilise, then fade in
#
# Progress is counted in real images shown to the critic. Level 0 stabilises for $S$
# images; every next level first **fades in** for $F$ images, with a blending weight
# $\alpha$ rising linearly from 0 to 1, then stabilises for $S$ images at $\alpha = 1$:
#
# $$\alpha = \frac{\text{images since the fade started}}{F}.$$
#
# With $S = F = 8$ and batches of 4, each phase lasts two steps:

# %%
print(" images  phase  level  alpha")
for images in range(0, 44, 4):
    phase, alpha = schedule(images, 3, 8, 8)
    print(f"{images:>7} {phase:>6} {(phase + 1) // 2:>6} {alpha:>6.2f}")
check("α half-way through the first fade", schedule(12, 3, 8, 8)[1], (12 - 8) / 8, 0)
check("α at the start of the second fade", schedule(24, 3, 8, 8), (3, 0.0), 0)

# %% [markdown]
# ## 3. The fade-in blend, and its derivative with respect to α
#
# While level $l$ fades in, the generator's output blends the old path (level $l-1$'s
# toRGB, upsampled ×2) with the new one:
#
# $$G_\alpha(z) = (1 - \alpha)\,\mathrm{up}\big(\mathrm{toRGB}_{l-1}(h)\big)
#   + \alpha\,\mathrm{toRGB}_l\big(\mathrm{block}_l(h)\big),\qquad
#   \frac{\partial G_\alpha}{\partial\alpha} = \text{new} - \text{old}.$$
#
# At $\alpha = 0$ the grown generator computes *exactly* the old one's image, upsampled:
# growing does not change the function, so training does not jump.

# %%
minigan.manual_seed(1)
gan = ProGAN((1, 28, 28), width=32, latent_dim=32, stable_images=8, fade_images=8)
z = minigan.randn(6, 32, dtype="float32")
before = gan.G(z).numpy()                          # level 0: (6, 1, 7, 7)
gan.grow_to(1)
h = gan.G.base(z)
old = interpolate(gan.G.to_rgb[0](h), scale_factor=2).numpy()
new = gan.G.to_rgb[1](gan.G.blocks[0](h)).numpy()
check("G at α = 0 is the level-0 G, upsampled", gan.G(z, 0.0).numpy(),
      before.repeat(2, 2).repeat(2, 3), 0)
check("G at α = 0.3 is 0.7·old + 0.3·new", gan.G(z, 0.3).numpy(), 0.7 * old + 0.3 * new, 1e-6)
alpha = minigan.tensor(0.3, requires_grad=True)
r = np.random.default_rng(0).standard_normal(old.shape).astype(np.float32)
(g_alpha,) = minigan.grad((gan.G(z, alpha) * minigan.tensor(r)).sum(), alpha)
check("∂(r·G)/∂α = r·(new − old), autograd", g_alpha.item(), (r * (new - old)).sum(), 1e-3)
f = lambda a: float((gan.G(z, a).numpy() * r).sum())   # noqa: E731
check("... and a central difference", (f(0.3 + 1e-2) - f(0.3 - 1e-2)) / 2e-2, g_alpha.item(),
      2e-2)

# %% [markdown]
# The discriminator fades the same way: the new image at resolution $2r$ goes through the
# new fromRGB and block, and the *pooled* image through the old fromRGB,
#
# $$D_\alpha(x) = D_{\text{rest}}\big((1 - \alpha)\,\mathrm{fromRGB}_{l-1}(\mathrm{pool}(x))
#   + \alpha\,\mathrm{block}_l(\mathrm{fromRGB}_l(x))\big),$$
#
# so at $\alpha = 0$ the grown critic judges a 14×14 image exactly as the old critic judged
# its 7×7 average-pooled copy.

# %%
x14 = minigan.randn(4, 1, 14, 14)
d_before = ProGAN((1, 28, 28), width=32, latent_dim=32)    # a level-0 critic ...
d_before.D.load_state_dict({k: v for k, v in gan.D.state_dict().items()
                            if k in d_before.D.state_dict()})
check("D at α = 0 on x (14×14) = the level-0 D on pool(x) (7×7)", gan.D(x14, 0.0).numpy(),
      d_before.D(avg_pool2d(x14, 2)).numpy(), 1e-5)

# %% [markdown]
# ## 4. Fading the real images too
#
# During the fade, G's image is a blend whose fine detail is scaled by $\alpha$. Real images
# shown at full sharpness would hand the critic an easy tell. So the real images are faded
# the same way, towards their 2×2-pooled copy:
#
# $$\tilde x = (1 - \alpha)\,\mathrm{up}(\mathrm{pool}(x)) + \alpha\,x .$$
#
# The detail an image has at its finest scale is its *Laplacian band* $x - \mathrm{up}(
# \mathrm{pool}(x))$. Since $\mathrm{pool}(\mathrm{up}(y)) = y$, the faded image keeps the
# coarse part and scales that band by exactly $\alpha$:
# $\tilde x - \mathrm{up}(\mathrm{pool}(\tilde x)) = \alpha\,(x - \mathrm{up}(\mathrm{pool}(x)))$.
# Real and fake images then carry fine detail in the same proportion at every $\alpha$.
# (`--no-real-fade` turns this off; `benchmarks/progan.py` measures what that costs.)

# %%
digits = load_dataset("mnist5k")
x = minigan.tensor(digits.x[::562][:8])                # eight digits of different classes
gan.images_seen = 12                                  # level 1, α = (12 − 8)/8 = 0.5
gan.enter(1)
real = gan.real_images(x).numpy()
x14 = avg_pool2d(x, 2).numpy()
band = lambda v: v - v.reshape(8, 1, 7, 2, 7, 2).mean(axis=(3, 5)).repeat(2, 2).repeat(2, 3)  # noqa
check("α of the model now", gan.alpha, 0.5, 0)
check("finest band of the faded real = α × the real's", band(real), 0.5 * band(x14), 1e-6)
check("its coarse part is unchanged", real.reshape(8, 1, 7, 2, 7, 2).mean(axis=(3, 5)),
      x14.reshape(8, 1, 7, 2, 7, 2).mean(axis=(3, 5)), 1e-6)
strip = []
for a in (0.0, 0.25, 0.5, 0.75, 1.0):
    strip.append((1 - a) * (x14 - band(x14)) + a * x14)
viz.save_image_grid(np.concatenate(strip), f"{OUT}/real_fade.png", nrow=8,
                    row_labels=["α 0", "α ¼", "α ½", "α ¾", "α 1"],
                    title="real digits at 14×14 through a fade-in")

# %% [markdown]
# ## 5. The equalised learning rate
#
# He's initialisation draws a layer's weights $w \sim \mathcal N(0, c^2)$ with
# $c = \sqrt 2/\sqrt{\text{fan}_\text{in}}$. Progressive GAN instead draws
# $\hat w \sim \mathcal N(0, 1)$ and multiplies by $c$ at every forward pass:
# $y = \mathrm{conv}(x, c\,\hat w) + b$. The forward pass is the same, but the gradient is
# not: $\partial L/\partial\hat w = c\,\partial L/\partial w$.

# %%
layer = EqualizedConv2d(8, 16, 3)
check("c = √2/√(8·3·3)", layer.scale, np.sqrt(2) / np.sqrt(72), 1e-12)
xs, rs = minigan.randn(2, 8, 5, 5), minigan.randn(2, 16, 3, 3)
(g_hat,) = minigan.grad((layer(xs) * rs).sum(), layer.weight)
w = minigan.tensor(layer.scale * layer.weight.numpy(), requires_grad=True)
(g_w,) = minigan.grad((minigan.functional.conv2d(xs, w, layer.bias) * rs).sum(), w)
check("∂L/∂ŵ = c · ∂L/∂w", g_hat.numpy(), layer.scale * g_w.numpy(), 1e-5)

# %% [markdown]
# Why it matters: Adam divides each gradient by its own running RMS, so its first step
# moves every weight by $\gamma\,\mathrm{sign}(g)$ whatever the gradient's scale. On a plain
# layer $w$ moves by $\gamma$, i.e. by $\gamma/c$ relative to its own size — layers with a
# large fan-in (small $c$) change *relatively* faster. With the equalised layer, $\hat w$
# moves by $\gamma$, so $w = c\hat w$ moves by $c\gamma$: relative change $\gamma$ in every
# layer. Below, one Adam step on two layers of fan-in 72 and 576:

# %%
def relative_step(fan_in_channels, equalised, lr=1e-3):
    minigan.manual_seed(2)
    layer = EqualizedConv2d(fan_in_channels, 8, 3)
    if not equalised:                     # the plain He-initialised layer: w ~ N(0, c²)
        layer.weight.data *= layer.scale
        layer.scale = 1.0
    before = layer.scale * layer.weight.numpy()
    x = minigan.randn(4, fan_in_channels, 5, 5)
    (layer(x) ** 2).mean().backward()
    Adam(layer.parameters(), lr=lr, betas=(0.0, 0.99)).step()
    after = layer.scale * layer.weight.numpy()
    return np.sqrt(((after - before) ** 2).mean()) / before.std()


plain = [relative_step(c, False) for c in (8, 64)]
equal = [relative_step(c, True) for c in (8, 64)]
print(f"relative change of w after one Adam step: plain {plain[0]:.5f} (fan-in 72), "
      f"{plain[1]:.5f} (fan-in 576); equalised {equal[0]:.5f}, {equal[1]:.5f}")
check("plain: the larger fan-in moves √8 times more", plain[1] / plain[0], np.sqrt(8), 0.1)
check("equalised: both move by ≈ lr relative to their size", equal, [1e-3, 1e-3], 5e-5)

# %% [markdown]
# ## 6. Pixel norm and the minibatch standard deviation
#
# Instead of batch norm, G normalises each pixel's feature vector to unit mean square,
# $b = a/\sqrt{\frac1C\sum_k a_k^2 + \epsilon}$. The critic gets one extra feature map
# before its last block: the standard deviation of each feature over a group of samples,
# averaged to one number. A batch of near-identical fakes shows up as a small number
# there, which the critic can punish — a cheap guard against mode collapse.

# %%
a = minigan.randn(3, 16, 4, 4) * 5
check("pixel norm: mean square over channels = 1", (PixelNorm()(a).numpy() ** 2).mean(axis=1),
      np.ones((3, 4, 4)), 1e-4)
same = minigan.tensor(np.repeat(np.random.default_rng(0).standard_normal((1, 4, 3, 3)), 4, 0)
                      .astype(np.float32))
varied = minigan.randn(4, 4, 3, 3)
check("std feature of 4 identical samples = √ε", MinibatchStdDev(4)(same).numpy()[:, 4],
      np.full((4, 3, 3), 1e-4), 1e-6)
print("std feature of 4 varied samples:", float(MinibatchStdDev(4)(varied).numpy()[0, 4, 0, 0]))

# %% [markdown]
# ## 7. Training 7 → 14 → 28 on the digits
#
# The model's `alpha` is computed from the count of images seen, never stored on its
# own; that is what keeps it right across a checkpoint and resume (the tests resume in
# the middle of a fade and compare bit for bit). Samples come from an exponential moving
# average of G's weights, and are shown upsampled to 28×28 while the resolution is lower.
# The sliced Wasserstein distance per band (`minigan.metrics_swd`) compares samples with
# real digits at each scale the current resolution has.

# %%
phase_images, batch = (64, 16) if QUICK else (3200, 32)
minigan.manual_seed(0)
gan = ProGAN((1, 28, 28), width=32, stable_images=phase_images, fade_images=phase_images)
loader = DataLoader(digits, batch, seed=0)
batches = loader.batches()
real_all = digits.x[np.random.default_rng(0).choice(len(digits), 500, replace=False)]
fixed_z = gan.noise(16)
grids, labels_row, alphas = [], [], []
for phase in range(5):                    # each phase lasts phase_images images
    while gan.images_seen < (phase + 1) * phase_images:
        alphas.append(gan.step(next(batches))["alpha"])
    grids.append(gan.sample(16, noise=fixed_z).numpy())
    labels_row.append(f"{gan.resolution}×{gan.resolution}")
    r = gan.resolution
    fakes = gan.sample(200).numpy()[:, :, ::28 // r, ::28 // r]
    reals = real_all[:200].reshape(200, 1, r, 28 // r, r, 28 // r).mean(axis=(3, 5))
    swd = swd_per_level(fakes, reals, levels=[7, 14, 28].index(r) + 1)
    print(f"after phase {phase} (level {gan.level}): SWD ×10³ per band, finest first:",
          " ".join(f"{1e3 * d:.0f}" for d in swd))
viz.save_image_grid(np.concatenate(grids), f"{OUT}/growing.png", nrow=16,
                    row_labels=labels_row, title="the same z at the end of each phase")
steps_per_fade = phase_images // batch
fade = alphas[steps_per_fade:2 * steps_per_fade]
check("α during the first fade: 0, 1/n, 2/n, … (never stuck, never reset)", fade,
      np.arange(steps_per_fade) / steps_per_fade, 1e-12)
print(f"saved {OUT}/growing.png and {OUT}/real_fade.png")

# %% [markdown]
# This run is short (16,000 images in full mode): the digits are rough, and the moving
# average lags behind G just after each growth. `python benchmarks/progan.py --variant
# progressive|fixed|no-real-fade` trains 100,000 images and compares growing
# against a model trained at 28×28 from the first step, at the same number of images
# seen, and measures the transition shock without the real-image fade (BENCHMARKS.md).
