# %% [markdown]
# # Lesson 07 — conditional GAN: telling the generator which digit to draw
#
# An unconditional GAN draws *some* digit; which one depends on $z$ in a way nobody chose.
# A conditional GAN (notes 000 section 4, notes 001 "conditional GAN", notes 003) gives both
# players the class $y$:
#
# $$\min_G \max_D\; \mathbb{E}_{x,y}[\log D(x \mid y)]
#   + \mathbb{E}_{z,y}[\log(1 - D(G(z \mid y) \mid y))] .$$
#
# $D$ now judges whether $x$ is a real example *of class $y$*, so a generator that draws a
# perfect 7 when asked for a 3 is caught. Notes 000 condition by concatenation: the
# generator's input is the latent vector joined with a one-hot vector of the class ("latent
# vector와 one-hot vector의 concatenation"); the discriminator gets the class as extra input
# channels. This lesson checks the encoding, trains minigan's `cgan` variant on MNIST, draws
# one row per class, and measures with the metrics classifier how often a sample is the
# digit it was asked to be.

# %%
import numpy as np

from _common import check, setup, train_steps

import minigan
from minigan import viz
from minigan.data import DataLoader, load_dataset
from minigan.models import get_model
from minigan.models.conditioning import OneHot, one_hot
from minigan.metrics import classify, label_accuracy

QUICK, OUT = setup("07_cgan")
minigan.manual_seed(0)
K = 10

# %% [markdown]
# ## 1. One-hot conditioning
#
# Class $y$ becomes the vector $e_y \in \{0, 1\}^K$ with a single 1 at position $y$. The
# generator's input is $[z, e_y]$, of length $Z + K$. For the discriminator, an image
# $(C, H, W)$ gets $K$ more channels, channel $C + k$ filled with ones when $y = k$ and zeros
# otherwise, so every convolution window sees the label.

# %%
labels = minigan.tensor([3, 0, 9])
z = minigan.randn(3, 64)
check("one_hot: e_y rows", one_hot(labels, K, z).numpy(), np.eye(K)[[3, 0, 9]], 0)
onehot = OneHot(K)
zy = onehot.latent(z, labels)
check("G's input [z, e_y] has Z + K = 74 features", zy.shape[1], 64 + K, 0)
check("its first Z features are z", zy.numpy()[:, :64], z.numpy(), 0)
check("its last K features are e_y", zy.numpy()[:, 64:], np.eye(K)[[3, 0, 9]], 0)
images = minigan.randn(3, 1, 28, 28)
xy = onehot.input(images, labels)
check("D's input has C + K = 11 channels", xy.shape, (3, 1 + K, 28, 28), 0)
check("the image channel is untouched", xy.numpy()[:, :1], images.numpy(), 0)
check("channel 1 + y is all ones, the others all zeros", xy.numpy()[:, 1:].mean(axis=(2, 3)),
      np.eye(K)[[3, 0, 9]], 0)

# %% [markdown]
# ## 2. What a label channel can do inside D
#
# D's first layer is lesson 03's Conv(C + K, v, 4, 2) *without padding*, so every window
# lies inside the image and every tap of label channel $k$ reads the same 1 (class $k$) or
# the same 0. By linearity the layer's output splits into the image's part and a constant:
#
# $$\text{conv}([x, e_y])_{o,i,j} = \text{conv}(x)_{o,i,j} + b_o
#   + \textstyle\sum_{kh,kw} w_{o,\,C+y,\,kh,kw},$$
#
# one number per (output channel, class): **the label enters D as a per-class bias of its v
# first-block channels**, and for the same reason all 16 taps of a label channel receive the
# same gradient, $\partial L/\partial w_{o,C+k,kh,kw} = \sum_{n:\,y_n = k}\sum_{i,j}
# \partial L/\partial\text{out}_{n,o,i,j}$ (zero for a class absent from the batch). Both
# are checked below. With the notes' DCGAN
# discriminator (v = 16) that is 16 numbers per class to steer D's judgement, and a CGAN
# built on it stalls at label accuracy 0.6–0.7 with D at chance; the `cgan` variant builds D
# as wide as G (v = 64, the notes' CGAN) and reaches 0.965–0.983 (three runs, BENCHMARKS.md).
#
# minigan's conditional D computes its first layer this way (`nn.ConstantChannelsConv2d`):
# it convolves the C image channels and adds the per-class bias, instead of convolving
# $K$ planes that hold one number each — $C/(C + K)$ of the work, 1/11 here. Since only
# the planes' values matter, the model does not even build the planes: it calls
# $D(x, e_y)$, the image and the one-hot vector side by side, and the layer gives the same
# numbers as on $[x, e_y]$.

# %%
first = minigan.nn.Conv2d(1 + K, 16, 4, 2)
x_lab = onehot.input(images, labels)
out = first(x_lab)
image_part = minigan.functional.conv2d(images, first.weight[:, :1], first.bias, stride=2)
class_bias = first.weight.numpy()[:, 1:].sum(axis=(2, 3))        # (16 channels, K classes)
check("first layer = conv of the image + a per-class bias", out.numpy(),
      image_part.numpy() + class_bias.T[[3, 0, 9]][:, :, None, None], 1e-5)
r = minigan.randn(*out.shape)                                    # L = Σ r · out: ∂L/∂out = r
(gw,) = minigan.grad((out * r).sum(), first.weight)
label_taps = gw.numpy()[:, 1:].reshape(16, K, 16)                # (channel, class, 16 taps)
by_hand = np.zeros((16, K))                                      # Σ over the batch's class-k
for n, y in enumerate([3, 0, 9]):                                # samples and all positions
    by_hand[:, y] += r.numpy()[n].sum(axis=(1, 2))
check("every tap of label channel k gets Σ_{n: y_n = k} Σ_ij ∂L/∂out", label_taps,
      np.repeat(by_hand[:, :, None], 16, axis=2), 1e-4)
fast = minigan.nn.ConstantChannelsConv2d(1 + K, 16, 4, 2, constant_channels=K)
fast.load_state_dict(first.state_dict())
check("ConstantChannelsConv2d (image conv + per-class bias) = the plain convolution",
      fast(x_lab).numpy(), out.numpy(), 1e-5)
check("the same layer given the image and e_y apart = the plain convolution",
      fast(images, one_hot(labels, K, images)).numpy(), out.numpy(), 1e-5)

# %% [markdown]
# ## 3. Training on labelled digits
#
# The `cgan` variant is lesson 03's DCGAN with the labels fed to both networks (the BCE
# loss, Adam $2\cdot10^{-4}$, $\beta = (0.5, 0.999)$) and D as wide as G. Each step passes
# the real batch *and its labels*; the generator's fakes are drawn for those same labels, so
# classes appear as often as in the data.

# %%
CGAN = get_model("cgan")
width, batch, steps = (16, 64, 600) if QUICK else (16, 64, 2500)
digits = load_dataset("mnist5k", split="train")
gan = CGAN((1, 28, 28), num_classes=K, width=width)
loader = DataLoader(digits, batch_size=batch, seed=0)
history = train_steps(gan, loader, steps)
assert all(np.isfinite(h["loss_D"]) and np.isfinite(h["loss_G"]) for h in history)
viz.save_loss_curves(history, f"{OUT}/losses.png", smooth=50, title="CGAN on MNIST")

# %% [markdown]
# ## 4. One row per class
#
# The same 8 latent vectors in every row, a different label per row: down a column the
# class changes while $z$ — which now only has to encode *style* (slant, thickness) — stays.

# %%
per_row = 8
z = gan.noise(per_row)
z_grid = minigan.tensor(np.tile(z.numpy(), (K, 1)))             # (K·8, Z): row k repeats z
grid_labels = minigan.tensor(np.repeat(np.arange(K), per_row))   # 0×8, 1×8, ..., 9×8
grid = gan.sample(len(z_grid), grid_labels, noise=z_grid).numpy()
viz.save_image_grid(grid, f"{OUT}/samples_per_class.png", nrow=per_row,
                    row_labels=[str(k) for k in range(K)],
                    title=f"CGAN (width {width}), {steps} steps: one row per label")
print(f"saved {OUT}/samples_per_class.png and losses.png")

# %% [markdown]
# ## 5. Label accuracy
#
# minigan's MNIST classifier (`minigan.metrics`) reads each generated digit; *label
# accuracy* is the share it classifies as the label the sample was generated for. Chance is
# $1/K = 10\%$. The classifier itself is first checked on real held-out digits.

# %%
test = load_dataset("mnist5k", split="test")
probs_real, _ = classify(test.images)
real_accuracy = label_accuracy(probs_real, test.labels)
print(f"classifier accuracy on real test digits: {real_accuracy:.3f}")
assert real_accuracy > 0.9, "the classifier must be trustworthy before it grades the GAN"

n = 500 if QUICK else 1000
asked = np.arange(n) % K
samples = gan.sample(n, minigan.tensor(asked)).numpy()
probs, _ = classify(samples)
accuracy = label_accuracy(probs, asked)
per_class = [float((probs.argmax(axis=1)[asked == k] == k).mean()) for k in range(K)]
print(f"label accuracy of {n} generated digits: {accuracy:.3f} (chance 0.100)")
print("per class:", " ".join(f"{k}:{a:.2f}" for k, a in enumerate(per_class)))

# %% [markdown]
# The thresholds, measured with seeds 0–4: after 600 steps (`--quick`) the label accuracy
# is 0.21–0.38, already well above chance (with 500 samples, chance gives 0.10 ± 0.013); after
# 2,500 steps it is 0.72–0.85 (five runs).

# %%
if QUICK:
    assert accuracy > 0.18, "the labels already steer the generator"
else:
    assert accuracy > 0.7, "most samples are the digit they were asked to be"

# %% [markdown]
# ## 6. A batch of one class, and batch norm
#
# Samples are drawn with batch statistics (lesson 03). G's first layer is a transposed
# convolution of the $1\times1$ input $[z, e_y]$; by linearity its output splits as
#
# $$u_{n,c,i,j} = (W_z * z_n)_{c,i,j} + P_{y_n,c,i,j} + b_c,\qquad
#   P_{y,c,i,j} = W_{Z+y,\,c,\,i,j},$$
#
# a label pattern $P_y$ (one $3\times3$ kernel slice per channel) added to the latent's part.
# Batch norm in training mode then computes, per channel $c$, over the batch *and* the pixels,
#
# $$\mu_c = \operatorname{mean}_{n,i,j} u_{n,c,i,j},\qquad
#   \sigma^2_c = \operatorname{mean}_{n,i,j} (u_{n,c,i,j} - \mu_c)^2,\qquad
#   v = \gamma_c\,\frac{u - \mu_c}{\sqrt{\sigma^2_c + \epsilon}} + \beta_c ,$$
#
# and any constant added to a whole channel cancels: it shifts $u$ and $\mu_c$ alike and
# leaves $\sigma^2_c$ alone. In a batch of *one* class $y$, the channel mean of the label
# pattern, $\bar P_{y,c} = \operatorname{mean}_{i,j} P_{y,c,i,j}$, is such a constant — the same
# for every sample — so it goes out with the batch mean, and of the label only its variation
# across the 3×3 pixels is left. In a batch of mixed labels $\bar P_{y_n,c}$ differs from sample
# to sample and survives. So a batch of 3s is partly drawn as "no particular digit"; that is
# why `python -m minigan sample RUN --label 3` draws its 3s inside batches whose labels cycle
# over all classes (`CGAN.sample(n, k)`), as in training.
#
# The checks: the label pattern read off the weights predicts how the class moves the channel
# means before batch norm; batch norm written out by hand agrees with minigan's; removing
# each sample's $\bar P_{y_n}$ before normalising changes nothing in a one-class batch, and a
# lot in a mixed one. (In training mode the normalised channel means are $\beta_c$ for *any*
# batch — that is what batch norm does — so they say nothing about labels; what is left of
# the label is in how each channel varies, which the checks above measure.) In eval mode
# (running statistics, an affine map per channel) nothing cancels: the class moves the
# channel means by $\gamma_c/\sqrt{\text{running var}_c + \epsilon}$ times what it moved them
# before.

# %%
first_conv, first_bn = gan.G[0][0], gan.G[0][1]
n_first = 64
z = gan.noise(n_first)
Z = gan.hp.latent_dim
P = first_conv.weight.numpy()[Z:]                    # (K, C, 3, 3): the label patterns P_y
P_mean = P.mean(axis=(2, 3))                         # (K, C): their channel means P̄_y
gamma, beta = first_bn.weight.numpy(), first_bn.bias.numpy()


def first_layer(batch_labels):
    """u = G's first transposed convolution of [z, e_y], before batch norm (NumPy)."""
    zy = onehot.latent(z, minigan.tensor(batch_labels))
    with minigan.no_grad():
        return first_conv(zy.reshape(n_first, -1, 1, 1)).numpy()   # (N, Z+K) -> (N, C, 3, 3)


def batch_norm_by_hand(u):
    mu = u.mean(axis=(0, 2, 3), keepdims=True)
    var = ((u - mu) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    return (gamma[:, None, None] * (u - mu) / np.sqrt(var + first_bn.eps)
            + beta[:, None, None])


def batch_norm_minigan(u, training=True):
    return minigan.functional.batch_norm(
        minigan.tensor(u), None if training else first_bn.running_mean,
        None if training else first_bn.running_var, first_bn.weight, first_bn.bias,
        training=training, eps=first_bn.eps).numpy()


threes, fives = [3] * n_first, [5] * n_first
mixed = list(np.arange(n_first) % K)
u3, u5, u_mix = first_layer(threes), first_layer(fives), first_layer(mixed)
before = u3.mean(axis=(0, 2, 3)) - u5.mean(axis=(0, 2, 3))
print(f"before batch norm the class moves the channel means by up to "
      f"{np.abs(before).max():.3f}")
check("3s vs 5s: channel means before BN differ by P̄_3 − P̄_5", before, P_mean[3] - P_mean[5],
      1e-5)
for name, u in (("a batch of 3s", u3), ("a mixed batch", u_mix)):
    check(f"batch norm by hand = minigan's, {name}", batch_norm_by_hand(u),
          batch_norm_minigan(u), 1e-5)

cancelled = {}
for name, u, labels_ in (("one class", u3, threes), ("mixed", u_mix, mixed)):
    without_mean = u - P_mean[labels_][:, :, None, None]   # subtract each sample's P̄_{y_n}
    cancelled[name] = np.abs(batch_norm_by_hand(without_mean) - batch_norm_by_hand(u)).max()
    print(f"{name}: removing P̄_(y_n) before batch norm changes the output by up to "
          f"{cancelled[name]:.2e}")
check("one class: the label's channel means cancel in batch norm", cancelled["one class"], 0.0,
      1e-5)
assert cancelled["mixed"] > 0.1, "mixed labels: the label's channel means survive"

eval_gap = (batch_norm_minigan(u3, training=False).mean(axis=(0, 2, 3))
            - batch_norm_minigan(u5, training=False).mean(axis=(0, 2, 3)))
scale = gamma / np.sqrt(first_bn.running_var.numpy() + first_bn.eps)
check("eval mode: 3s vs 5s channel means differ by γ/√(running var + ε) · (P̄_3 − P̄_5)",
      eval_gap, scale * (P_mean[3] - P_mean[5]), 1e-5)
print(f"in eval mode the class moves the channel means by up to {np.abs(eval_gap).max():.3f}")

per_class_n = n // K
one_class, in_mix = [], []
for k in range(K):
    asked_k = [k] * per_class_n
    alone = gan.sample(per_class_n, minigan.tensor(asked_k)).numpy()
    one_class.append(label_accuracy(classify(alone)[0], asked_k))
    in_mix.append(label_accuracy(classify(gan.sample(per_class_n, k).numpy())[0], asked_k))
print(f"label accuracy, {per_class_n} samples per class: {np.mean(one_class):.3f} drawn in "
      f"batches of one class, {np.mean(in_mix):.3f} drawn in mixed batches")

# %% [markdown]
# After 2,500 steps (four runs) the batches of one class score 0.62–0.74 and the mixed
# batches 0.72–0.85: a gap of 0.10–0.12, where the sampling noise of each score is about 0.013.
# After 600 steps the gap is 0.05–0.10, too close to the noise of 50 samples per class to
# check.

# %%
if not QUICK:
    assert np.mean(in_mix) - np.mean(one_class) > 0.05, "one-class batches lose label accuracy"
