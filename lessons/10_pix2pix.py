# %% [markdown]
# # Lesson 10 — pix2pix: translating an image with a U-Net and a PatchGAN
#
# A GAN draws images from noise; pix2pix (notes 000 section 5, notes 001 "Pix2Pix") *translates*
# one: from an input image $x$ (an edge map, a sketch, a grey photo) to the image $y$ that
# belongs to it (the filled digit, the painted photo, its colours). It is a conditional GAN
# whose condition is a whole image. The generator $G(x)$ makes the translation; the
# discriminator sees the input together with an image, $D(x, y)$ or $D(x, G(x))$, and says
# which pairs are real. Training needs *pairs* $(x, y)$ (notes 000: "paired image에서만 적용
# 가능"); lesson 11 drops that. The objective (notes 001 "Pix2Pix Loss 함수"):
#
# $$G^* = \arg\min_G \max_D\; \mathcal{L}_{cGAN}(G, D) + \lambda\,\mathcal{L}_{L1}(G),
#   \qquad \lambda = 100,$$
#
# $$\mathcal{L}_{cGAN} = \mathbb{E}_{x,y}[\log D(x, y)] + \mathbb{E}_x[\log(1 - D(x, G(x)))],
#   \qquad \mathcal{L}_{L1} = \mathbb{E}_{x,y}\,\lvert y - G(x)\rvert .$$
#
# The L1 term ties $G(x)$ to the one right answer; the adversarial term asks that every patch
# of $G(x)$ look like a real patch *given* $x$. This lesson builds the two networks and checks
# their geometry (the U-Net's skip connections, the PatchGAN's receptive field), derives the
# L1 gradient and what it does to uncertain pixels, and trains pix2pix on edge maps of
# handwritten digits.

# %%
import numpy as np

from _common import check, setup

import minigan
from minigan.data import DataLoader, load_dataset
from minigan.functional.loss import l1_loss
from minigan.models.pix2pix import Pix2Pix
from minigan.models.translation_networks import UNet, patchgan, receptive_field, unet_channels
from minigan.nn.conv import conv_output_size, conv_transpose_output_size

QUICK, OUT = setup("10_pix2pix")
minigan.manual_seed(0)

# %% [markdown]
# ## 1. The U-Net: an encoder, a decoder, and skips between them
#
# The generator is an encoder-decoder: stride-2 convolutions $4\times 4$ (padding 1) halve the
# image level by level down to $1\times 1$, transposed convolutions double it back. Sizes follow
# lesson 02's formulas, $H_{out} = \lfloor (H + 2p - k)/s \rfloor + 1 = H/2$ down and
# $H_{out} = (H - 1)s - 2p + k = 2H$ up. Level $i$ of the encoder outputs $e_i$ with
# $c_i = w \cdot 2^{\min(i, 3)}$ channels (pix2pix: $w = 64$, so 64, 128, 256, 512, 512, …).
#
# A 28×28 digit does not halve down to 1×1 (28 → 14 → 7 → 3.5), so minigan pads it to
# 32×32 and cuts the output back: 32 → 16 → 8 → 4 → 2 → 1, five levels.
#
# What makes it a U-Net (notes 000: "같은 shape 끼리 concate를 한다") is that each decoder
# level also receives the encoder's output of the *same size*, concatenated along the
# channels: decoder block $i$ reads $[d_{i+1}, e_i]$, $2c_i$ channels. The fine detail of the
# input (where exactly each edge is) need not squeeze through the $1\times1$ bottleneck.

# %%
WIDTH = 8
G = UNet(1, 1, 28, width=WIDTH)
x = minigan.randn(2, 1, 28, 28)
features = G.encode(x)
print(f"{'level':>5}  {'e_i shape':>18}  {'decoder block i reads':>22}")
for i, e in enumerate(features):
    reads = G.up[i][1].in_channels
    print(f"{i:>5}  {str(e.shape):>18}  {reads:>15} channels")
sizes = [32 // 2 ** (i + 1) for i in range(5)]
check("e_i is 32/2^(i+1) pixels wide", [e.shape[-1] for e in features], sizes, 0)
check("e_i has c_i = w·2^min(i,3) channels", [e.shape[1] for e in features],
      [WIDTH * 2 ** min(i, 3) for i in range(5)], 0)
check("decoder block i < 4 reads 2c_i channels (the skip doubles them)",
      [G.up[i][1].in_channels for i in range(4)], [2 * c for c in unet_channels(WIDTH, 4)], 0)
check("the innermost decoder block reads c_4 alone", G.up[4][1].in_channels,
      unet_channels(WIDTH, 5)[4], 0)
check("G(x) has the input's shape", G(x).shape, (2, 1, 28, 28), 0)

# %% [markdown]
# Notes 000 describe the 256×256 U-Net as 8 encoder blocks "256 x 256 x 3 -> 1 x 1 x 512" and
# 8 decoder blocks "1 x 1 x 512 -> 512 x 512 x 3". Eight doublings of $1\times 1$ give
# $2^8 = 256$, not 512: the decoder returns to the input's size, as it must for the skips
# to line up (and for the output to be a translation of the input).

# %%
down = 256
for _ in range(8):
    down = conv_output_size(down, 4, 2, 1)
up = down
for _ in range(8):
    up = conv_transpose_output_size(up, 4, 2, 1)
check("8 encoder blocks: 256 -> 1", down, 1, 0)
check("8 decoder blocks: 1 -> 256 (the notes write 512)", up, 256, 0)

# %% [markdown]
# ## 2. The PatchGAN and its receptive field
#
# A DCGAN discriminator ends in one logit for the whole image. pix2pix's discriminator is
# fully convolutional and ends in a *map* of logits, one per overlapping patch (notes 000:
# "PatchGAN에서는 영상을 patch로 분할하여 각 영역의 Real/Fake를 판정함"); the loss averages
# over them. Each logit sees an $r \times r$ patch of the input, its *receptive field*. Going
# through the convolutions in order, with $J$ the product of the strides so far (one step of
# layer $l$ moves $J$ input pixels), a kernel of size $k$ widens the field by $(k - 1)J$:
#
# $$r = 1 + \sum_l (k_l - 1) \prod_{m < l} s_m .$$
#
# The PatchGAN with $n$ stride-2 layers is Conv(4, s2) → $(n-1)\times$ Conv(4, s2) → Conv(4, s1)
# → Conv(4, s1):

# %%
def receptive_field_by_formula(strides, kernel=4):
    r, jump, table = 1, 1, []
    for s in strides:
        r += (kernel - 1) * jump
        jump *= s
        table.append(r)
    return table


for layers, paper in ((1, 16), (2, 34), (3, 70)):
    strides = [2] * layers + [1, 1]
    growth = receptive_field_by_formula(strides)
    print(f"layers = {layers}: strides {strides}, r after each layer {growth}")
    check(f"r of the {layers}-layer PatchGAN", growth[-1], paper, 0)
    check(f"receptive_field() reads the same from the layer list",
          receptive_field(patchgan(2, width=2, layers=layers))[0], paper, 0)

# %% [markdown]
# pix2pix's 70×70 PatchGAN ($n = 3$) judges 256×256 images patch by patch. On 28×28 digits
# minigan uses $n = 1$: 16×16 patches, a 12×12 map of logits; $n = 2$ would see 34×34, more
# than the whole digit. A model prints its own:

# %%
model = Pix2Pix((1, 28, 28), width=4, d_width=4)
logit_map = model.D(minigan.randn(1, 2, 28, 28)).shape[2:]
print(f"pix2pix on 28×28: D = PatchGAN with {model.hp.d_layers} stride-2 layer(s), "
      f"receptive field {model.receptive_field}×{model.receptive_field}, "
      f"{logit_map[0]}×{logit_map[1]} logits")
check("a 12×12 map: 28 -> 14 (stride 2) -> 13 -> 12 (stride 1, k 4, p 1)", logit_map,
      (12, 12), 0)

# %% [markdown]
# Now measured instead of computed: back-propagate *one* logit to the input and look where
# its gradient is non-zero. That set is exactly the patch the logit depends on. (In eval
# mode: in training mode batch norm normalises with the batch's statistics, which makes
# every logit depend, a little, on every pixel of every image in the batch.)

# %%
for layers, size in ((1, 28), (3, 96)):
    D = patchgan(1, width=2, layers=layers).double().eval()
    r, jump, start = receptive_field(D)
    image = minigan.randn(1, 1, size, size, dtype="float64", requires_grad=True)
    logits = D(image)
    i = logits.shape[2] // 2
    (g,) = minigan.grad(logits[0, 0, i, i], image)
    rows, cols = np.nonzero(g.numpy()[0, 0])
    print(f"layers = {layers}, {size}×{size} input: logit ({i}, {i}) of "
          f"{logits.shape[2]}×{logits.shape[3]} sees rows {rows.min()}..{rows.max()}, "
          f"cols {cols.min()}..{cols.max()}")
    check(f"measured patch side = r = {r}", rows.max() - rows.min() + 1, r, 0)
    check("and it is a full square", len(rows), r * r, 0)
    check("starting at i·J + start (the padding shifts it)", rows.min(), i * jump + start, 0)

# %% [markdown]
# ## 3. The L1 term and its gradient
#
# $\mathcal{L}_{L1} = \frac1N \sum_j \lvert y_j - G(x)_j \rvert$ over the $N$ pixels of a batch,
# so for each pixel
#
# $$\frac{\partial(\lambda \mathcal{L}_{L1})}{\partial G(x)_j}
#   = -\frac{\lambda}{N}\,\operatorname{sign}(y_j - G(x)_j):$$
#
# the same push, $\lambda/N$, for a pixel that is off by 0.01 or by 1.9.

# %%
LAMBDA = 100.0
fake = minigan.randn(4, 1, 28, 28, dtype="float64", requires_grad=True)
target = minigan.randn(4, 1, 28, 28, dtype="float64")
(g,) = minigan.grad(LAMBDA * l1_loss(fake, target), fake)
n = fake.numpy().size
check("∂(λ·L1)/∂G(x) = −λ·sign(y − G(x))/N", g.numpy(),
      -LAMBDA * np.sign(target.numpy() - fake.numpy()) / n, 1e-15)

# %% [markdown]
# What does a loss like that settle on when the input does not determine the answer? Take
# one pixel that is ink ($+1$) in 30 % of the training pairs with this input and background
# ($-1$) in the rest. The expected L1 loss $0.3\,\lvert 1 - g\rvert + 0.7\,\lvert -1 - g\rvert$ is
# smallest at the *median*, $g = -1$; the squared error at the *mean*, $g = -0.4$: grey, the blur
# of an L2-trained translator. L1 blurs less but decides every pixel on its own: where the
# data disagree about *where* a stroke goes, each pixel takes its own median and the stroke
# can thin out or break. The PatchGAN judges whole patches, so a broken or grey stroke is
# what it learns to reject.

# %%
g_values = np.linspace(-1, 1, 2001)
y_values, p = np.array([1.0, -1.0]), np.array([0.3, 0.7])
expected_l1 = (p * np.abs(y_values - g_values[:, None])).sum(axis=1)
expected_l2 = (p * (y_values - g_values[:, None]) ** 2).sum(axis=1)
check("argmin E|y − g| = the median", g_values[expected_l1.argmin()], -1.0, 1e-12)
check("argmin E(y − g)² = the mean 0.3·1 + 0.7·(−1)", g_values[expected_l2.argmin()], -0.4, 1e-9)

# %% [markdown]
# ## 4. Training: edge maps to digits
#
# `digits-edges` pairs each of the embedded MNIST digits with its edge map (ink pixels that
# touch the background): the model must fill the outline and invent the stroke's width and
# grey levels. One training step is
#
# * D: minimise $\tfrac12[\mathrm{BCE}(D(x, y), 1) + \mathrm{BCE}(D(x, G(x)), 0)]$ over every
#   patch (the ½ slows D down relative to G);
# * G: minimise $-\log D(x, G(x)) + \lambda\,\lvert y - G(x)\rvert$ (the non-saturating form).
#
# The only noise is dropout inside G's decoder: the input alone decides the output. We train
# twice from the same seed, with the L1 term alone (`no_gan=True`) and with both terms, and
# score the 500 held-out pairs: the L1 distance to the true digit (in [0, 1] pixel units),
# and the share of translations the shipped MNIST classifier reads as the right digit.

# %%
train = load_dataset("digits-edges")
steps, batch, width = (4, 8, 4) if QUICK else (800, 32, 16)
results = {}
for label, options in (("L1 only", {"no_gan": True}), ("L1 + cGAN", {})):
    minigan.manual_seed(0)
    model = Pix2Pix((1, 28, 28), width=width, d_width=width, **options)
    loader = DataLoader(train, batch_size=batch, seed=0)
    for step_batch in loader.batches(steps):
        logs = model.step(step_batch)
    scores = model.evaluate("digits-edges", num_samples=100 if QUICK else 500)
    results[label] = (model, scores)
    print(f"{label:>10}: {steps} steps, test L1 {scores['l1']:.4f}, classifier accuracy "
          f"{scores['accuracy']:.3f} (targets: {scores['accuracy_target']:.3f}, the edge maps "
          f"themselves: {scores['accuracy_input']:.3f}), FID {scores['fid']:.2f}")

test = load_dataset("digits-edges", split="test")
copy_l1 = float(np.abs(test.fields["x_paired"] - test.x).mean() / 2)
print(f"baseline: the edge map as its own translation has L1 {copy_l1:.4f}")
model = results["L1 + cGAN"][0]
model.preview(f"{OUT}/edges_to_digits.png", model.preview_inputs(test),
              title=f"pix2pix, {steps} steps: input | G(input) | target | D's patches")
results["L1 only"][0].preview(f"{OUT}/edges_to_digits_l1_only.png",
                              model.preview_inputs(test),
                              title=f"L1 only, {steps} steps")
print(f"saved {OUT}/edges_to_digits.png and edges_to_digits_l1_only.png")
if not QUICK:
    for label, (_, scores) in results.items():
        assert scores["l1"] < copy_l1, f"{label}: G(x) is closer to the digit than x is"
        assert scores["accuracy"] > scores["accuracy_input"], \
            f"{label}: the classifier reads G(x) better than the outline x"

# %% [markdown]
# In the picture, the rows under the targets are D's verdicts patch by patch,
# $D = \sigma(\text{logit})$ painted at the centre of each 16×16 patch (white: real). `benchmarks/pix2pix_ablation.py`
# runs the paper's ablation at full length — L1 alone, cGAN alone (`--lambda-l1 0`), both —
# and BENCHMARKS.md records what each scores.
