# %% [markdown]
# # Lesson 03 — DCGAN: the notes' convolutional generator and discriminator
#
# DCGAN (notes 000 section 2, notes 003 "Deep Convolutional GAN") keeps the GAN game of
# lesson 01 and changes the players: the generator is a stack of *gen blocks* —
# transposed convolution + batch norm + ReLU, the last one transposed convolution + tanh —
# and the discriminator a stack of *disc blocks* — convolution + batch norm + LeakyReLU(0.2),
# the last one a plain convolution to one logit. No pooling and no hidden fully connected
# layers (notes 003's DCGAN rules). minigan's `dcgan` variant builds exactly those networks;
# this lesson prints them layer by layer, trains them on MNIST digits, and looks at two
# things that surprise people: batch norm's train vs eval mode at sampling time, and walks
# in the latent space (notes 001, "Walking in the latent space").

# %%
import numpy as np

from _common import check, setup, train_steps

import minigan
from minigan import viz
from minigan.data import DataLoader, load_dataset
from minigan.models import get_model
from minigan.models.networks import batch_statistics
from minigan.metrics import class_coverage, classify, fid, mean_confidence

QUICK, OUT = setup("03_dcgan")
minigan.manual_seed(0)
DCGAN = get_model("dcgan")
NOTES = DCGAN.presets["notes"]   # the notes' DCGAN: every option at the notes' value

# %% [markdown]
# ## 1. The networks, layer by layer
#
# With the notes' widths (64 latent channels in, 256 → 128 → 64 → 1 channels out), the
# generator walks $1 \to 3 \to 6 \to 13 \to 28$ (lesson 02, with the last stride corrected to 2)
# and the discriminator $28 \to 13 \to 5 \to 1$ with $4\times4$ kernels of stride 2:
# $\lfloor(28 - 4)/2\rfloor + 1 = 13$, $\lfloor(13 - 4)/2\rfloor + 1 = 5$,
# $\lfloor(5 - 4)/2\rfloor + 1 = 1$.

# %%
gan = DCGAN((1, 28, 28), **NOTES)


def describe(layer):
    """A layer's name with its channels, kernel, stride and padding when it has them."""
    name = type(layer).__name__
    if not hasattr(layer, "kernel_size"):
        return name
    return (f"{name}({layer.in_channels}→{layer.out_channels}, k={layer.kernel_size[0]}, "
            f"s={layer.stride[0]}, p={layer.padding[0]})")


def shape_table(network, x, title):
    """Run x through each block of ``network``, printing every layer's output shape and
    parameter count; return the spatial size after each block."""
    print(f"{title}\n{'block':<6} {'layer':<40} {'output shape':<18} params")
    print(f"{'':<6} {'input':<40} {str(x.shape):<18}")
    sizes = []
    with minigan.no_grad():
        for i, block in enumerate(network):
            for layer in block:
                x = layer(x)
                params = sum(p.size for p in layer.parameters())
                print(f"{i:<6} {describe(layer):<40} {str(x.shape):<18} {params}")
            sizes.append(x.shape[-1])
    return sizes


z = gan.noise(2)
g_sizes = shape_table(gan.G, z.reshape(2, 64, 1, 1), "generator")  # (N, Z) -> (N, Z, 1, 1)
d_sizes = shape_table(gan.D[:-1], minigan.zeros(2, 1, 28, 28), "\ndiscriminator (without the head)")
check("G walks 1 -> 3 -> 6 -> 13 -> 28", g_sizes, [3, 6, 13, 28], 0)
check("D's blocks walk 28 -> 13 -> 5", d_sizes, [13, 5], 0)
check("D's head: 5 -> 1, one logit per image", gan.D(minigan.zeros(2, 1, 28, 28)).shape, (2, 1), 0)
kernels = [block[0].kernel_size[0] for block in gan.G]
strides = [block[0].stride[0] for block in gan.G]
check("G's kernels (3, 4, 3, 4), notes 000", kernels, [3, 4, 3, 4], 0)
check("G's strides (2, 1, 2, 2): the notes' last stride 1 would end at 16", strides,
      [2, 1, 2, 2], 0)

# %% [markdown]
# ## 2. Training on MNIST
#
# Adam with lr $2\cdot10^{-4}$ and $\beta = (0.5, 0.999)$, weights drawn from
# $\mathcal N(0, 0.02^2)$, the non-saturating generator loss of lesson 01. To keep the run
# short on a CPU, G's width is a quarter of the notes' (16 instead of 64). One change to
# the notes' recipe: their discriminator is a quarter as wide as the generator (16 and 32
# channels beside G's 64), and on MNIST that makes the game slow — at G width 32 with D at
# 8 and 16 channels, 2,500 steps of batch 64 still draw one grey blob (one class, pixel
# spread 0.05). With D as wide as G (`d_width`), the same budget draws recognisable digits
# of most classes.
#
# The samples are scored by minigan's small MNIST classifier (98 % accurate on held-out real
# digits): how many digit classes receive at least 5 % of the samples, how confidently they
# are classified, and the Fréchet distance between Gaussians fitted to the classifier's
# 64 features of generated and of real test digits,
#
# $$\mathrm{FID} = \lVert\mu_1 - \mu_2\rVert^2 + \mathrm{tr}\big(\Sigma_1 + \Sigma_2
#   - 2(\Sigma_1\Sigma_2)^{1/2}\big)$$
#
# (lower is better; 500 real training digits against the test digits give the floor). The
# spread of each pixel across samples tells diverse samples (real digits: about 0.35) from a
# generator that draws the same picture for every $z$ (near 0: collapse, lesson 08). Each
# score is taken before training too: the untrained generator is the case the trained one
# must be told apart from.

# %%
minigan.manual_seed(0)
width, batch, steps = (16, 64, 600) if QUICK else (16, 64, 3000)
digits = load_dataset("mnist5k", split="train")
test = load_dataset("mnist5k", split="test")
_, real_features = classify(test.images)
# The training digits are stored sorted by class (the first 500 are 0s and 1s): the floor
# needs a random 500 of them.
floor_digits = digits.images[np.random.default_rng(0).choice(len(digits), 500, replace=False)]
floor = fid(real_features, classify(floor_digits)[1])


def digit_scores(gan, n=500):
    samples = gan.sample(n).numpy()
    probs, features = classify(samples)
    return {"pixel std across samples": float(samples.std(axis=0).mean()),
            "classes covered (of 10)": class_coverage(probs.argmax(axis=1)),
            "mean confidence": mean_confidence(probs),
            "classifier-FID vs test digits": fid(real_features, features)}


gan = DCGAN((1, 28, 28), **{**NOTES, "width": width, "d_width": width})
untrained = digit_scores(gan)
loader = DataLoader(digits, batch_size=batch, seed=0)
history = train_steps(gan, loader, steps)
assert all(np.isfinite(h["loss_D"]) and np.isfinite(h["loss_G"]) for h in history)
scores = digit_scores(gan)

print(f"{'':<36} {'untrained':>10} {f'{steps} steps':>12}")
for name in scores:
    print(f"{name:<36} {untrained[name]:>10.3f} {scores[name]:>12.3f}")
print(f"{'classifier-FID, real train digits':<36} {floor:>10.3f}  (the floor)")
print(f"{'pixel std across real digits':<36} {float(test.images.std(axis=0).mean()):>10.3f}")

fixed_z = gan.noise(64)
samples = gan.sample(64, noise=fixed_z)
viz.save_image_grid(samples.numpy(), f"{OUT}/samples.png", nrow=8,
                    title=f"DCGAN (width {width}), {steps} steps")
viz.save_loss_curves(history, f"{OUT}/losses.png", smooth=50, title="DCGAN on MNIST")
print(f"saved {OUT}/samples.png and losses.png")

# %% [markdown]
# What a run of this length reaches, measured with seeds 0–4: untrained, FID 1,300–1,400
# and pixel spread 0.04; after 600 steps (`--quick`) FID 880–950 and spread 0.13–0.19 (the
# blob has started to become strokes, 2–3 classes); after 3,000 steps 7–9 classes, FID
# 133–194 and spread 0.33–0.34. The checks sit between those ranges.

# %%
if QUICK:
    assert scores["classifier-FID vs test digits"] < 1100, "the samples moved toward digits"
    assert scores["pixel std across samples"] > 0.1, "different z, different pictures"
else:
    assert scores["classes covered (of 10)"] >= 6, "most digit classes are drawn"
    assert scores["classifier-FID vs test digits"] < 300, "features close to real digits'"
    assert scores["pixel std across samples"] > 0.25, "diverse samples, no collapse"
assert floor < 50, "two samples of real digits differ only by sampling noise"

# %% [markdown]
# ## 3. Batch norm at sampling time: train mode vs eval mode
#
# In training mode batch norm normalises each channel with the mean and variance *of the
# current batch*; in eval mode with running averages collected during training,
# $\text{running} \leftarrow 0.9\,\text{running} + 0.1\,\text{batch}$. Two consequences:
#
# * with batch statistics, one sample depends on the other samples in its batch;
#   with running statistics, each sample is a function of its own $z$ only;
# * the two modes give different images from the same $z$, most visibly early in training,
#   when the running averages still lag behind the weights.
#
# (`gan.sample` uses batch statistics by default, the usual way DCGAN samples are drawn,
# and restores the running averages afterwards; `sample_bn="running"` picks eval mode.)

# %%
G = gan.G
z4 = fixed_z.reshape(64, gan.hp.latent_dim, 1, 1)   # (N, Z) -> (N, Z, 1, 1)
G.eval()
with minigan.no_grad():
    eval_all, eval_two = G(z4).numpy(), G(z4[:2]).numpy()
    with batch_statistics(G):
        train_all, train_two = G(z4).numpy(), G(z4[:2]).numpy()
G.train()
eval_gap = np.abs(eval_all[:2] - eval_two).max()
train_gap = np.abs(train_all[:2] - train_two).max()
print(f"sample 0-1 drawn in a batch of 64 vs a batch of 2: eval mode differs by {eval_gap:.2e}, "
      f"train mode by {train_gap:.2e}")
check("eval mode: a sample does not depend on its batch", eval_gap, 0.0, 1e-5)
assert train_gap > 1e-3, "train mode: batch statistics couple the samples of a batch"
print(f"mean |train-mode − eval-mode| pixel difference over 64 samples: "
      f"{np.abs(train_all - eval_all).mean():.3f}")
viz.save_image_grid(train_all, f"{OUT}/samples_batch_stats.png", nrow=8,
                    title="batch norm with batch statistics (train mode)")
viz.save_image_grid(eval_all, f"{OUT}/samples_running_stats.png", nrow=8,
                    title="batch norm with running statistics (eval mode)")

# %% [markdown]
# The running averages follow the rule above. A fresh `BatchNorm2d` starts from mean 0 and
# variance 1, so after one training-mode batch its running mean is $0.1\times$ the batch mean
# and its running variance $0.9 + 0.1\times$ the unbiased batch variance:

# %%
bn = minigan.nn.BatchNorm2d(3)
x = minigan.randn(8, 3, 5, 5) * 2 + 1
bn(x)
batch_mean = x.numpy().mean(axis=(0, 2, 3))
batch_var = x.numpy().var(axis=(0, 2, 3), ddof=1)
check("running mean after one batch = 0.1 · batch mean", bn.running_mean.numpy(), 0.1 * batch_mean,
      1e-5)
check("running var after one batch = 0.9 + 0.1 · batch var", bn.running_var.numpy(),
      0.9 + 0.1 * batch_var, 1e-5)

# %% [markdown]
# ## 4. A walk in the latent space
#
# Notes 001 ("Walking in the latent space") and 003: moving $z$ smoothly moves the image
# smoothly, from one digit into another, if the generator has learnt a continuous map
# rather than memorised samples. `viz.interpolate_latents` offers the straight line
# $z(t) = (1-t)z_0 + t z_1$ and the spherical path (slerp). Gaussian latents of dimension $d$
# lie near the sphere of radius $\sqrt d$; for $\lVert z_0\rVert = \lVert z_1\rVert = r$ the
# straight line's midpoint has norm $r\cos(\Omega/2)$ ($\Omega$ the angle between them) — inside
# the shell where $G$ was trained — while slerp keeps norm $r$ all the way.

# %%
z0, z1 = gan.noise(2).numpy()
z1 = z1 * np.linalg.norm(z0) / np.linalg.norm(z1)         # same norm r for the closed form
r = np.linalg.norm(z0)
omega = np.arccos(z0 @ z1 / r ** 2)
linear = viz.interpolate_latents(z0, z1, 9, mode="linear")
slerp = viz.interpolate_latents(z0, z1, 9, mode="slerp")
check("walk starts at z0 and ends at z1", np.stack([slerp[0], slerp[-1]]), np.stack([z0, z1]),
      1e-5)
check("linear midpoint norm = r cos(Ω/2)", np.linalg.norm(linear[4]), r * np.cos(omega / 2), 1e-4)
check("slerp keeps the norm r", np.linalg.norm(slerp, axis=1), np.full(9, r), 1e-4)

walk = gan.sample(len(slerp), noise=minigan.tensor(slerp)).numpy()
viz.save_interpolation_strip(walk, f"{OUT}/latent_walk.png", title="slerp from z0 to z1")
print(f"saved {OUT}/latent_walk.png, samples_batch_stats.png, samples_running_stats.png")
