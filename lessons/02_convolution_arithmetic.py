# %% [markdown]
# # Lesson 02 — convolution arithmetic: output sizes, the DCGAN walk, adjoints, checkerboards
#
# DCGAN (notes 000, section 2; notes 003, "DCGAN") replaces the MLPs of lesson 01 by
# convolutions in the discriminator and *transposed* convolutions in the generator. Getting
# a generator from a $1\times1$ latent to a $28\times28$ image is pure arithmetic on kernel
# sizes, strides and paddings; this lesson checks that arithmetic against minigan's layers,
# follows the notes' MNIST walk $1 \to 3 \to 6 \to 13 \to 28$ (and corrects a slip in it),
# shows that a transposed convolution is the adjoint of a convolution, and counts where
# the checkerboard artefacts of notes 002 come from.

# %%
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from _common import check, setup

import minigan
import minigan.functional as F
from minigan import nn

QUICK, OUT = setup("02_convolution_arithmetic")
minigan.manual_seed(0)

# %% [markdown]
# ## 1. How big is the output?
#
# A convolution slides a $k\times k$ kernel over the input padded by $p$ on each side, in
# steps of $s$; with dilation $d$ the kernel's taps are $d$ apart, so it spans
# $d(k-1)+1$ pixels. The number of positions that fit is
#
# $$H_{out} = \left\lfloor \frac{H_{in} + 2p - d(k-1) - 1}{s} \right\rfloor + 1 .$$
#
# A transposed convolution runs the same map backwards (section 3): every input pixel
# stamps a $k\times k$ kernel onto the output, $s$ pixels apart, and $p$ pixels are cropped
# from each side; this is the formula notes 000 quote from PyTorch's documentation:
#
# $$H_{out} = (H_{in} - 1)\,s - 2p + d(k-1) + \text{output\_padding} + 1 .$$

# %%
def conv_size(h, k, s=1, p=0, d=1):
    return (h + 2 * p - d * (k - 1) - 1) // s + 1


def conv_transpose_size(h, k, s=1, p=0, d=1, output_padding=0):
    return (h - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


cases = [  # (H, k, s, p, d)
    (28, 5, 1, 0, 1), (28, 5, 1, 2, 1), (28, 4, 2, 1, 1), (64, 4, 2, 1, 1),
    (7, 3, 2, 0, 1), (8, 3, 2, 0, 1), (13, 3, 1, 1, 2), (9, 4, 3, 2, 1),
]
print(" H  k  s  p  d | Conv2d out   ConvTranspose2d out")
for h, k, s, p, d in cases:
    x = minigan.zeros(1, 2, h, h)
    out = nn.Conv2d(2, 3, k, stride=s, padding=p, dilation=d)(x).shape[2]
    out_t = nn.ConvTranspose2d(2, 3, k, stride=s, padding=p, dilation=d)(x).shape[2]
    print(f"{h:2} {k:2} {s:2} {p:2} {d:2} | {out:10}   {out_t:19}")
    where = f"H={h} k={k} s={s} p={p} d={d}"
    check(f"Conv2d output vs formula, {where}", out, conv_size(h, k, s, p, d), 0)
    check(f"nn.conv_output_size vs formula, {where}", nn.conv_output_size(h, k, s, p, d),
          conv_size(h, k, s, p, d), 0)
    check(f"ConvTranspose2d output vs formula, {where}", out_t,
          conv_transpose_size(h, k, s, p, d), 0)
    check(f"nn.conv_transpose_output_size vs formula, {where}",
          nn.conv_transpose_output_size(h, k, s, p, dilation=d), conv_transpose_size(h, k, s, p, d),
          0)

# %% [markdown]
# Two examples from notes 000, section 2:
#
# * "5×5 필터 … 총 4픽셀을 잃어버린다": a $5\times5$ kernel without padding loses 4 pixels,
#   $28 \to 24$.
# * `Conv2d(3, 10, 5, 1, 2)` is described as "커널 사이즈는 5x5, stride는 한 칸씩, padding은 0"
#   (kernel 5×5, stride 1, padding 0), but the fifth positional argument of `Conv2d` is the
#   padding, and it is **2**: this layer keeps $28 \to 28$ ("same" padding $p = (k-1)/2$).
#   With padding 0 it would give 24.
#
# And the CelebA discriminator of notes 000 halves the size with $k=4, s=2, p=1$:
# $\lfloor(64 + 2 - 4)/2\rfloor + 1 = 32$, then 16, 8, 4.

# %%
check("5×5, no padding: 28 -> 24", conv_size(28, 5), 24, 0)
layer = nn.Conv2d(3, 10, 5, 1, 2)
check("nn.Conv2d(3, 10, 5, 1, 2) keeps 28 -> 28", layer(minigan.zeros(1, 3, 28, 28)).shape[2],
      28, 0)
check("the padding of Conv2d(3, 10, 5, 1, 2) is 2", layer.padding[0], 2, 0)
sizes = [64]
while sizes[-1] > 4:
    sizes.append(conv_size(sizes[-1], 4, 2, 1))
print("CelebA discriminator:", " -> ".join(map(str, sizes)))
check("k=4 s=2 p=1 halves 64 -> 32 -> 16 -> 8 -> 4", sizes, [64, 32, 16, 8, 4], 0)

# %% [markdown]
# ## 2. The DCGAN generator walk of notes 000: $1 \to 3 \to 6 \to 13 \to 28$
#
# Notes 000 (DCGAN, "gen block 계산") build the MNIST generator from four transposed
# convolutions without padding, and list them as (kernel, stride):
# (3, 2), (4, 1), (3, 2), (4, **1**). Step by step, with $H_{out} = (H_{in}-1)s + k$:
#
# | block | $H_{in}$ | $k$ | $s$ | $H_{out}$ |
# |---|---|---|---|---|
# | 1 | 1 | 3 | 2 | $0\cdot2 + 3 = 3$ |
# | 2 | 3 | 4 | 1 | $2\cdot1 + 4 = 6$ |
# | 3 | 6 | 3 | 2 | $5\cdot2 + 3 = 13$ |
# | 4 (as in the notes) | 13 | 4 | **1** | $12\cdot1 + 4 = $ **16** |
# | 4 (corrected) | 13 | 4 | **2** | $12\cdot2 + 4 = 28$ |
#
# The notes' last line says stride 1 gives $28\times28$; the formula they quote gives 16.
# The last block needs stride 2 (as in the course's code, where the final block keeps the
# default stride 2). minigan's layers agree with the formula:

# %%
def walk(blocks, channels=(64, 32, 16, 8, 1)):
    h = minigan.randn(2, channels[0], 1, 1)
    sizes = [h.shape[2]]
    for (k, s), c_in, c_out in zip(blocks, channels[:-1], channels[1:]):
        h = nn.ConvTranspose2d(c_in, c_out, kernel_size=k, stride=s)(h)
        sizes.append(h.shape[2])
    return sizes


as_in_notes = walk([(3, 2), (4, 1), (3, 2), (4, 1)])
corrected = walk([(3, 2), (4, 1), (3, 2), (4, 2)])
print("as in the notes:", " -> ".join(map(str, as_in_notes)))
print("corrected:      ", " -> ".join(map(str, corrected)))
check("the notes' walk ends at 16, not 28", as_in_notes, [1, 3, 6, 13, 16], 0)
check("last stride 2: 1 -> 3 -> 6 -> 13 -> 28", corrected, [1, 3, 6, 13, 28], 0)

# %% [markdown]
# The CelebA generator of notes 000 doubles with $k=4, s=2, p=1$:
# $(H-1)\cdot2 - 2 + 4 = 2H$, but its first block must turn $1\times1$ into $4\times4$, which
# needs $p = 0$ ($0 + 4 = 4$; with $p = 1$ it would give 2). Then $4 \to 8 \to 16 \to 32 \to 64$.

# %%
sizes = [conv_transpose_size(1, 4, 2, 0)]
while sizes[-1] < 64:
    sizes.append(conv_transpose_size(sizes[-1], 4, 2, 1))
check("CelebA generator 1 -> 4 -> 8 -> 16 -> 32 -> 64", [1] + sizes, [1, 4, 8, 16, 32, 64], 0)
check("k=4 s=2 p=1 on 1×1 gives 2, not 4", conv_transpose_size(1, 4, 2, 1), 2, 0)

# %% [markdown]
# ## 3. Transposed convolution is the adjoint of convolution
#
# For fixed weights $w$ (shape $OC\times C\times k\times k$), convolution is linear in $x$:
# $y = Cx$ for a matrix $C$ with $OC\cdot OH\cdot OW$ rows and $C\cdot H\cdot W$ columns. Its
# entries can be read off the formula
#
# $$y_{o,i,j} = \sum_{c,a,b} w_{o,c,a,b}\; x_{c,\; is - p + a,\; js - p + b}
#   \qquad(\text{terms outside the input are zero}):$$
#
# $$C_{(o,i,j),\,(c,r,q)} = \begin{cases} w_{o,\,c,\,r - is + p,\,q - js + p} &
#   \text{if both kernel indices lie in } 0..k-1,\\ 0 & \text{otherwise.}\end{cases}$$
#
# The adjoint $C^\top$ is defined by the inner-product identity
#
# $$\langle Cx,\, y\rangle = \langle x,\, C^\top y\rangle \quad\text{for all } x, y ,$$
#
# and for a real matrix it is the transpose. The claim: `conv_transpose2d` with the same $w$,
# stride and padding *is* $C^\top$ — which is also why it is the gradient of `conv2d` with
# respect to its input, $\partial\langle Cx, y\rangle/\partial x = C^\top y$.
#
# To check it without trusting either fast op, $C$ is built below with loops straight from
# the formula. Then `conv2d` must equal $x \mapsto Cx$, and the matrix *of* `conv_transpose2d`
# must equal $C^\top$. That matrix is measured column by column: column $m$ is the transposed
# convolution of the $m$-th unit vector $e_m$ of the output space, and all $OC\cdot OH\cdot OW$
# of them go through `conv_transpose2d` as one batch. When several input sizes give the same
# conv output size (7 and 8 both give 3 for $k=3, s=2$), `output_padding` picks the larger one;
# the input row and column that no window reaches then have all-zero columns in $C$.

# %%
def conv_matrix(w, h, s, p):
    """The matrix C of x -> conv2d(x, w, stride=s, padding=p) on one (C, h, h) image, with
    loops over the formula's indices (NumPy only)."""
    n_out, n_in, k, _ = w.shape
    oh = conv_size(h, k, s, p)
    C = np.zeros((n_out, oh, oh, n_in, h, h))
    for o in range(n_out):
        for i in range(oh):
            for j in range(oh):
                for c in range(n_in):
                    for a in range(k):
                        for b in range(k):
                            r, q = i * s - p + a, j * s - p + b
                            if 0 <= r < h and 0 <= q < h:
                                C[o, i, j, c, r, q] = w[o, c, a, b]
    return C.reshape(n_out * oh * oh, n_in * h * h)   # (OC, OH, OW, C, H, W) -> 2-D


for h, k, s, p, op in [(7, 3, 2, 0, 0), (8, 3, 2, 0, 1), (28, 4, 2, 1, 0), (13, 4, 1, 0, 0)]:
    where = f"H={h}, k={k}, s={s}, p={p}"
    w_np = np.random.default_rng(h).standard_normal((3, 2, k, k))
    C = conv_matrix(w_np, h, s, p)
    w = minigan.tensor(w_np, dtype="float64")
    x = minigan.randn(1, 2, h, h, dtype="float64", requires_grad=True)
    Cx = F.conv2d(x, w, stride=s, padding=p)
    check(f"conv2d(x) = Cx  ({where})", Cx.numpy().ravel(), C @ x.numpy().ravel(), 1e-12)

    units = minigan.tensor(np.eye(C.shape[0]).reshape(-1, *Cx.shape[1:]), dtype="float64")
    columns = F.conv_transpose2d(units, w, stride=s, padding=p, output_padding=op)
    assert columns.shape[1:] == x.shape[1:], (columns.shape, x.shape)
    T = columns.numpy().reshape(C.shape[0], -1).T    # column m = conv_transpose2d(e_m)
    check(f"   the matrix of conv_transpose2d = Cᵀ", T, C.T, 1e-12)

    y = np.random.default_rng(k).standard_normal(C.shape[0])
    (gx,) = minigan.grad((Cx * minigan.tensor(y.reshape(Cx.shape), dtype="float64")).sum(), x)
    check("   autograd's ∂<conv2d(x), y>/∂x = Cᵀy", gx.numpy().ravel(), C.T @ y, 1e-12)

# %% [markdown]
# ## 4. Checkerboards: kernel sizes not divisible by the stride
#
# Notes 002 warn that `Conv2DTranspose` "can make staircase or checkerboard patterns at the
# output" and offer upsampling followed by a stride-1 convolution instead. The cause is
# counting. A transposed convolution stamps one kernel per input pixel, $s$ pixels apart;
# an output pixel receives a contribution from every stamp that covers it. With a constant
# input and a constant kernel of ones the output *is* that count. Along one axis, output
# position $o$ is covered by the stamps $i$ with $0 \le o - is < k$: about $k/s$ of them —
# exactly $k/s$ everywhere in the interior when $s$ divides $k$, but alternately
# $\lfloor k/s\rfloor$ and $\lceil k/s\rceil$ when it does not. In 2-D the counts multiply.
#
# The reference below counts stamps with plain loops; the transposed convolution must agree.

# %%
def stamp_count(h, k, s):
    """How many k×k stamps, placed s apart for an h×h input, cover each output pixel."""
    n = (h - 1) * s + k
    count = np.zeros((n, n))
    for i in range(h):
        for j in range(h):
            count[i * s:i * s + k, j * s:j * s + k] += 1
    return count


def overlap(h, k, s):
    ones = minigan.ones(1, 1, h, h, dtype="float64")
    return F.conv_transpose2d(ones, minigan.ones(1, 1, k, k, dtype="float64"), stride=s)[0, 0]


H = 6
uneven, even = overlap(H, 3, 2).numpy(), overlap(H, 4, 2).numpy()
check("k=3 s=2: conv_transpose2d counts = loop counts", uneven, stamp_count(H, 3, 2), 0)
check("k=4 s=2: conv_transpose2d counts = loop counts", even, stamp_count(H, 4, 2), 0)
print("k=3, s=2 (top-left 6×6):\n", uneven[:6, :6].astype(int))
print("k=4, s=2 (top-left 6×6):\n", even[:6, :6].astype(int))
interior3, interior4 = uneven[2:-2, 2:-2], even[2:-2, 2:-2]
check("k=3 s=2 interior is uneven: counts {1, 2, 4}", sorted(set(interior3.ravel())),
      [1.0, 2.0, 4.0], 0)
check("k=4 s=2 interior is even: every count (4/2)² = 4", interior4, np.full_like(interior4, 4),
      0)

# %% [markdown]
# Upsampling by nearest neighbour (each pixel copied into an $s\times s$ block) followed by a
# stride-1 $3\times3$ convolution with "same" padding — the alternative of notes 002 — covers
# every interior pixel by the same $3\times3 = 9$ input taps, so a constant input stays
# constant away from the border:

# %%
up = F.interpolate(minigan.ones(1, 1, H, H, dtype="float64"), scale_factor=2, mode="nearest")
smooth = F.conv2d(up, minigan.ones(1, 1, 3, 3, dtype="float64"), padding=1)[0, 0].numpy()
check("upsample + conv: constant interior (9)", smooth[1:-1, 1:-1],
      np.full((2 * H - 2, 2 * H - 2), 9.0), 0)

fig = Figure(figsize=(9.6, 3.4), dpi=100)
FigureCanvasAgg(fig)
panels = [(uneven, "conv_transpose k=3, s=2"), (even, "conv_transpose k=4, s=2"),
          (smooth, "upsample ×2 + conv k=3")]
for i, (image, title) in enumerate(panels):
    ax = fig.add_subplot(1, 3, i + 1)
    shown = ax.imshow(image, cmap="viridis", interpolation="nearest")
    fig.colorbar(shown, ax=ax, fraction=0.046)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
fig.suptitle("how many contributions each output pixel receives (input and kernel all ones)",
             fontsize=10)
fig.tight_layout()
fig.savefig(f"{OUT}/checkerboard.png")
print(f"saved {OUT}/checkerboard.png")
