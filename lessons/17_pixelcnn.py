# %% [markdown]
# # Lesson 17 — PixelCNN: an exact likelihood from masked convolutions
#
# Lesson 16's VAE only bounds $\log p(x)$. An autoregressive model computes it exactly,
# from the chain rule of probability (notes 003, "Pixel RNN/CNN": multiply the
# probabilities of all the pixels). Number the $D$ pixels of an image in raster order, row
# by row and left to right in a row; then for *any* distribution
#
# $$p(b) = \prod_{i=1}^{D} p(b_i \mid b_1, \dots, b_{i-1}) = \prod_i p(b_i \mid b_{<i}).$$
#
# For binary pixels each factor is a Bernoulli, $p(b_i = 1 \mid b_{<i}) = \sigma(l_i)$, and
#
# $$-\log p(b) = \sum_i \big[\mathrm{softplus}(l_i) - b_i\,l_i\big]\ \text{nats}.$$
#
# PixelCNN computes all $D$ logits in one pass of a convolutional network, which is only
# right if $l_i$ depends on $b_{<i}$ and on nothing else. Its convolutions are *masked*:
# the first layer's kernel is zero on the centre and on every tap after it in raster order
# (mask A); the later layers' kernels may keep the centre (mask B), because their input at
# pixel $i$ already depends on $b_{<i}$ alone. This lesson checks that rule as a property
# of gradients, shows what breaks without it, draws the blind spot it leaves, and converts
# the likelihood to bits per dimension.

# %%
import itertools
import math
import time

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from _common import check, setup

import minigan
from minigan import viz
from minigan.autograd import no_grad
from minigan.data import DataLoader, load_dataset
from minigan.models.likelihood import bits_per_dim
from minigan.models.losses import bernoulli_nll
from minigan.models.pixelcnn import PixelCNN, causal_masks
from minigan.nn.masked_conv import MaskedConv2d, causal_mask, receptive_field

QUICK, OUT = setup("17_pixelcnn")
minigan.manual_seed(0)
rng = np.random.default_rng(0)

print("mask A (7×7):\n", causal_mask(7, "A").astype(int))
print("mask B (3×3):\n", causal_mask(3, "B").astype(int))

# %% [markdown]
# ## 1. Masks as zero gradients from the future
#
# "$l_i$ does not depend on $b_j$" is a statement about a derivative:
# $\partial l_i / \partial x_j = 0$ for every input. So take a PixelCNN with random weights,
# pick an output pixel $i$, and compute $\nabla_x l_i$ with autograd: it must be *exactly*
# zero (not just small) at $j = i$ and at every $j$ after it.

# %%
SHAPE = (7, 10)


def logit_gradient(net, pixel, x):
    """∂ logit[pixel] / ∂ x for each image of x (N, H, W): one backward pass, since the
    images of a batch do not interact."""
    xt = minigan.tensor(x[:, None], dtype="float64", requires_grad=True)
    (g,) = minigan.grad(net(xt)[:, 0, pixel[0], pixel[1]].sum(), xt)
    return g.numpy()[:, 0]


model = PixelCNN((1,) + SHAPE, channels=8, blocks=3)
model.net.double()
order = np.arange(SHAPE[0] * SHAPE[1]).reshape(SHAPE)
worst = 0.0
for pixel in [(0, 0), (3, 4), (6, 9), (5, 1)]:
    g = logit_gradient(model.net, pixel, rng.standard_normal((4,) + SHAPE))
    worst = max(worst, np.abs(g[:, order >= order[pixel]]).max())
check("max |∂l_i/∂x_j| over j ≥ i (mask A first, B after)", worst, 0.0, 0.0)

# %% [markdown]
# The same network with mask B on its *first* layer lets $l_i$ see $b_i$ itself. Training
# could then drive the "NLL" to zero by copying each pixel to its own prediction, but the
# numbers are no longer a distribution. With 6 pixels there are $2^6 = 64$ images, few
# enough to add up $p(b) = e^{-\mathrm{NLL}(b)}$ over all of them: exactly 1 with mask A,
# whatever the weights; not 1 with mask B first.

# %%
def every_image(shape):
    bits = np.array(list(itertools.product([0.0, 1.0], repeat=int(np.prod(shape)))))
    return minigan.tensor(bits.reshape((-1, 1) + shape) * 2 - 1, dtype="float64")


def total_probability(net_model, shape):
    with no_grad():
        return float(np.exp(-net_model.nll(every_image(shape)).numpy()).sum())


small = (2, 3)
honest = PixelCNN((1,) + small, channels=8, blocks=2)
cheat = PixelCNN((1,) + small, channels=8, blocks=2)
cheat.net[0] = MaskedConv2d(1, 8, 7, mask="B")          # the first layer sees its own pixel
for m in (honest, cheat):
    m.net.double()
    for p in m.net.parameters():
        p.data[...] = rng.standard_normal(p.shape) * 0.5
g = logit_gradient(cheat.net, (1, 1), rng.standard_normal((1,) + small))[0]
print(f"mask B first: ∂l_i/∂x_i = {g[1, 1]:.4f}")
check("mask B first: the logit sees its own pixel", float(g[1, 1] != 0), 1.0, 0.0)
check("Σ over all 64 images of p(b), masks A then B", total_probability(honest, small), 1.0,
      1e-12)
cheat_total = total_probability(cheat, small)
print(f"Σ over all 64 images of 'p(b)', mask B first: {cheat_total:.4f}")
check("mask B first: not a distribution", float(abs(cheat_total - 1) > 1e-3), 1.0, 0.0)

# %% [markdown]
# ## 2. The blind spot, layer by layer
#
# Which earlier pixels does $l_i$ see? A stack of convolutions reaches the offsets that are
# sums of one kept tap per layer (`receptive_field` computes that set from the masks
# alone). To see every path in the gradient, the network below gets positive weights and
# positive inputs: then no ReLU is ever off and no two paths can cancel, so
# $\partial l_i/\partial x_j \ne 0$ exactly where some path joins $j$ to $i$. The 7×7 mask A
# reaches 3 rows up and 3 columns to either side; each 3×3 mask B
# adds one step up-left, up, up-right or left. A step to the right always costs a step up,
# so $d$ rows above pixel $i$ the stack sees at most $3 + (d - 1)$ columns to the right,
# however deep it is: the pixels of the wedge beyond are earlier in raster order, allowed,
# and never seen. That is PixelCNN's blind spot (van den Oord et al. 2016 remove it with
# separate vertical and horizontal stacks). Below, for 0 to 4 residual blocks, the set of
# input pixels with a nonzero gradient against the prediction from the masks:

# %%
WIDE = (9, 15)
pixel = (7, 5)
fig = Figure(figsize=(10, 2.4), dpi=100)
FigureCanvasAgg(fig)
order = np.arange(WIDE[0] * WIDE[1]).reshape(WIDE)
earlier = order < order[pixel]
for blocks in range(5):
    net_model = PixelCNN((1,) + WIDE, channels=8, blocks=blocks)
    net_model.net.double()
    for p in net_model.net.parameters():
        p.data[...] = np.abs(p.data)
    seen = logit_gradient(net_model.net, pixel, rng.random((1,) + WIDE))[0] != 0
    reach = receptive_field(causal_masks(net_model.net), WIDE, pixel)
    check(f"{blocks} blocks: pixels with nonzero gradient = the masks' reach",
          float(np.array_equal(seen, reach)), 1.0, 0.0)
    check(f"{blocks} blocks: 1 row up, 4 columns right is earlier but blind",
          float(earlier[6, 9] and not seen[6, 9]), 1.0, 0.0)
    picture = np.where(seen, 1.0, np.where(earlier, 0.45, 0.0))
    picture[pixel] = 0.75
    ax = fig.add_subplot(1, 5, blocks + 1)
    ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{blocks} blocks: {int((earlier & ~seen).sum())} blind", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("white: seen by the logit at the marked pixel; grey: earlier but blind; "
             "black: later", fontsize=9)
fig.tight_layout()
fig.savefig(f"{OUT}/blind_spot.png")
print(f"saved {OUT}/blind_spot.png")

# %% [markdown]
# ## 3. Nats and bits per dimension
#
# A negative log-likelihood in nats is a code length: an arithmetic coder driven by the
# model spends $-\log_2 p(b) = -\ln p(b) / \ln 2$ bits on image $b$. Divided by the number
# of pixels it is *bits per dimension*, comparable across image sizes:
#
# $$\text{bits/dim} = \frac{\text{NLL}_{\text{nats}}}{D \ln 2}, \qquad D = 784 .$$
#
# A model that knows nothing ($p = \tfrac12$ for every pixel, logits 0) spends exactly one
# bit per pixel, $784 \ln 2 = 543.4$ nats per digit. A model of independent pixels, each
# with its frequency in the training digits, is the baseline any model with context should
# beat.

# %%
train = load_dataset("mnist5k-bin")
test = load_dataset("mnist5k-bin", split="test")
b_test = (test.x.reshape(len(test), -1).astype(np.float64) + 1) / 2
b_t = minigan.tensor(b_test, dtype="float64")
uniform_nats = float(bernoulli_nll(minigan.zeros_like(b_t), b_t).numpy().mean())
check("logits 0: NLL = 784 ln 2 nats", uniform_nats, 784 * math.log(2), 1e-9)
check("... = 1 bit per dimension", bits_per_dim(uniform_nats, 784), 1.0, 1e-12)
freq = ((train.x.reshape(len(train), -1) + 1) / 2).mean(axis=0)
freq = np.clip(freq, 1 / len(train), 1 - 1 / len(train))      # no pixel certain
independent = float(np.mean(-(b_test * np.log(freq) + (1 - b_test) * np.log(1 - freq)).sum(1)))
print(f"independent pixels: {independent:.1f} nats = {bits_per_dim(independent, 784):.4f} "
      "bits/dim on mnist5k-bin (threshold)")

# %% [markdown]
# A PixelCNN with the defaults of `minigan train pixelcnn` (≈ 30,000 weights: 7×7 mask A,
# 8 residual blocks, 32 channels) trained for a few epochs:

# %%
if QUICK:   # a small network, briefly, on a tenth of the digits, at a larger step size
    subset, epochs, batch, blocks, lr, test_x = train.x[::10], 3, 32, 2, 3e-3, test.x[:100]
else:
    subset, epochs, batch, blocks, lr, test_x = train.x, 3, 64, 8, 1e-3, test.x
pcnn = PixelCNN((1, 28, 28), blocks=blocks, lr=lr)
loader = DataLoader(type(train)(subset), batch_size=batch, seed=0)
started = time.process_time()
for epoch in range(epochs):
    for batch in loader:
        pcnn.step(batch)
nats = pcnn.heldout(test_x)["nll"]
print(f"{epochs} epoch(s) on {len(subset)} digits ({time.process_time() - started:.0f} s of "
      f"CPU): test NLL {nats:.2f} nats = {bits_per_dim(nats, 784):.4f} bits/dim "
      f"(mnist5k-bin, threshold; {len(test_x)} digits)")
check("bits/dim = nats / (784 ln 2)", bits_per_dim(nats, 784), nats / (784 * math.log(2)),
      1e-12)
check("the PixelCNN beats independent pixels", float(nats < independent), 1.0, 0.0)

# %% [markdown]
# ## 4. Sampling, one pixel at a time — or one line at a time
#
# Ancestral sampling draws $b_1$, then $b_2$ given $b_1$, and so on: 784 passes of the
# network. Two facts make it cheaper without changing a single sample. Every layer reads,
# $d \ge 1$ rows above a unit, at most 3 columns to its right, so the logit at $(i, j)$
# depends only on pixels $(i', j')$ with $j' + 4i' < j + 4i$: all the pixels on a line
# $j + 4i = t$ can be drawn in the same pass, $27 + 4 \cdot 27 + 1 = 136$ passes. And each
# pass evaluates the layers only at that line's positions, reading earlier positions from
# a cache. `sample` does both; `sample_raster` is the plain 784-pass loop. From the same
# uniforms $u$ ($b_i = [u_i < \sigma(l_i)]$) they must draw the same digits (`--quick`
# compares them on 10×10 images of an untrained network, the loop being slow):

# %%
reference = PixelCNN((1, 10, 10), channels=8, blocks=2) if QUICK else pcnn
u = minigan.rand(4, *reference.data_shape)
t0 = time.perf_counter()
fast = reference.sample(4, noise=u).numpy()
t_fast = time.perf_counter() - t0
t0 = time.perf_counter()
slow = reference.sample_raster(4, noise=u).numpy()
t_slow = time.perf_counter() - t0
print(f"4 samples: {t_fast:.2f} s line by line with caches, {t_slow:.2f} s pixel by pixel")
check("both samplers draw the same images", float(np.array_equal(fast, slow)), 1.0, 0.0)
t0 = time.perf_counter()
samples = pcnn.sample(64).numpy()
print(f"64 samples in {time.perf_counter() - t0:.2f} s")
viz.save_image_grid(samples, f"{OUT}/pixelcnn_samples.png", title="PixelCNN samples")
print(f"saved {OUT}/pixelcnn_samples.png")
