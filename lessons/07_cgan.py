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
from minigan.gan import get_variant
from minigan.gan.blocks import condition_input, condition_latent, one_hot
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
zy = condition_latent(z, labels, K)
check("G's input [z, e_y] has Z + K = 74 features", zy.shape[1], 64 + K, 0)
check("its first Z features are z", zy.numpy()[:, :64], z.numpy(), 0)
check("its last K features are e_y", zy.numpy()[:, 64:], np.eye(K)[[3, 0, 9]], 0)
images = minigan.randn(3, 1, 28, 28)
xy = condition_input(images, labels, K)
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
# discriminator (v = 16) that is 16 numbers per class to steer D's judgement, and the
# previous sessions' CGAN stalled at label accuracy 0.6–0.7 with D at chance; the `cgan`
# variant builds D as wide as G (v = 64, the notes' CGAN) and reaches 0.965 (BENCHMARKS.md).

# %%
first = minigan.nn.Conv2d(1 + K, 16, 4, 2)
x_lab = condition_input(images, labels, K)
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

# %% [markdown]
# ## 3. Training on labelled digits
#
# The `cgan` variant is lesson 03's DCGAN with the labels fed to both networks (the BCE
# loss, Adam $2\cdot10^{-4}$, $\beta = (0.5, 0.999)$) and D as wide as G. Each step passes
# the real batch *and its labels*; the generator's fakes are drawn for those same labels, so
# classes appear as often as in the data.

# %%
CGAN = get_variant("cgan")
width, batch, steps = (8, 32, 12) if QUICK else (16, 64, 2500)
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
grid = gan.sample(z_grid, grid_labels).numpy()
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

n = 100 if QUICK else 1000
asked = np.arange(n) % K
samples = gan.sample(gan.noise(n), minigan.tensor(asked)).numpy()
probs, _ = classify(samples)
accuracy = label_accuracy(probs, asked)
per_class = [float((probs.argmax(axis=1)[asked == k] == k).mean()) for k in range(K)]
print(f"label accuracy of {n} generated digits: {accuracy:.3f} (chance 0.100)")
print("per class:", " ".join(f"{k}:{a:.2f}" for k, a in enumerate(per_class)))

# %% [markdown]
# ## 6. A batch of one class, and batch norm
#
# Samples are drawn with batch statistics (lesson 03). G's first layer turns $[z, e_y]$ into
# $u = W_z * z + W_y * e_y$; batch norm then subtracts each channel's mean over the batch
# and the pixels. In a batch of mixed labels the label term differs from sample to sample
# and survives. In a batch of *one* class it is the same for every sample, so its channel
# mean goes out with the batch mean: only its variation across the 3×3 pixels is left. So
# whatever the class, the normalised channel means are β — checked here on G's first block
# — and a batch of 3s is partly drawn as "no particular digit". That is why
# `python -m minigan sample RUN --label 3` draws its 3s inside batches whose labels cycle over
# all classes (`CGAN.sample_class`), as in training.

# %%
first_conv, first_bn = gan.G[0][0], gan.G[0][1]
n_first = 64
z = gan.noise(n_first)


def first_block_channel_means(batch_labels):
    """Per-channel mean of G's first block after batch norm with the batch's statistics."""
    u = first_conv(condition_latent(z, minigan.tensor(batch_labels), K).reshape(n_first, -1, 1, 1))
    v = minigan.functional.batch_norm(u, None, None, first_bn.weight, first_bn.bias,
                                      training=True)
    return v.numpy().mean(axis=(0, 2, 3)), u.numpy().mean(axis=(0, 2, 3))


(after_3, before_3), (after_5, before_5) = (first_block_channel_means([k] * n_first)
                                            for k in (3, 5))
print(f"before batch norm the class moves the channel means by up to "
      f"{np.abs(before_3 - before_5).max():.3f}")
check("after it, a batch of 3s and a batch of 5s have the same channel means", after_3,
      after_5, 1e-5)
check("... which are β", after_3, first_bn.bias.numpy(), 1e-5)

per_class_n = n // K
one_class, in_mix = [], []
for k in range(K):
    asked_k = [k] * per_class_n
    alone = gan.sample(gan.noise(per_class_n), minigan.tensor(asked_k)).numpy()
    one_class.append(label_accuracy(classify(alone)[0], asked_k))
    in_mix.append(label_accuracy(classify(gan.sample_class(k, per_class_n).numpy())[0], asked_k))
print(f"label accuracy, {per_class_n} samples per class: {np.mean(one_class):.3f} drawn in "
      f"batches of one class, {np.mean(in_mix):.3f} drawn in mixed batches")
