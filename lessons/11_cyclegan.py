# %% [markdown]
# # Lesson 11 — CycleGAN: translation without pairs, and what the cycle loss can and cannot do
#
# pix2pix (lesson 10) needs every input with its own target. Often there are only two piles
# of pictures — photos and paintings, horses and zebras, digits and inverted digits — with no
# pairs between them (notes 000: "paired image에서만 적용 가능 => unpaired image-to-image
# translation", then "CycleGAN"; notes 003 "DiscoGAN": "training data에 두 사진이 서로 pair가
# 되지 않아도 된다"). CycleGAN learns two translators at once, $G: A \to B$ and $F: B \to A$,
# with a discriminator per domain, and asks them to undo each other:
#
# $$\mathcal{L} = \mathcal{L}_{GAN}(G, D_B) + \mathcal{L}_{GAN}(F, D_A)
#   + \lambda\,\mathcal{L}_{cyc}(G, F) + \lambda_{id}\,\lambda\,\mathcal{L}_{id}(G, F),$$
#
# $$\mathcal{L}_{cyc} = \mathbb{E}_a \lvert F(G(a)) - a\rvert
#   + \mathbb{E}_b \lvert G(F(b)) - b\rvert,\qquad
#   \mathcal{L}_{id} = \mathbb{E}_b \lvert G(b) - b\rvert + \mathbb{E}_a \lvert F(a) - a\rvert,$$
#
# with $\lambda = 10$, $\lambda_{id} = 0.5$ and least-squares adversarial terms: $D_B$ minimises
# $\tfrac12\mathbb{E}_b(D_B(b) - 1)^2 + \tfrac12\mathbb{E}_a D_B(G(a))^2$ and $G$ minimises
# $\mathbb{E}_a (D_B(G(a)) - 1)^2$. DiscoGAN (notes 003) is the same game with the BCE loss, a
# squared-error reconstruction and weight 1.
#
# This lesson checks the cycle loss where it can be worked out by hand (affine and linear
# translators), then shows its limit: on the digits, a translator that swaps classes fools
# every discriminator exactly as well as the right one, and pairs with an inverse to a cycle
# loss of zero. Finally it trains a pair and looks at what it learned.

# %%
import numpy as np

from _common import check, setup

import minigan
from minigan.data import DataLoader, load_dataset
from minigan.data.translation import invert, truth
from minigan.functional import matmul, transpose
from minigan.metrics import classify
from minigan.models.cyclegan import CycleGAN
from minigan.models.losses import d_loss_lsgan, reconstruction_loss
from minigan.models.translation import class_matrix, format_matrix
from minigan.models.translation_networks import patchgan

QUICK, OUT = setup("11_cyclegan")
minigan.manual_seed(0)
rng = np.random.default_rng(0)


def t64(array, requires_grad=False):
    """A float64 tensor: hand derivations are checked to round-off."""
    return minigan.tensor(array, dtype="float64", requires_grad=requires_grad)

# %% [markdown]
# ## 1. The cycle loss is exactly zero when F inverts G
#
# Take an affine translator $G(a) = Wa + c$ with $W$ invertible and its inverse
# $F(b) = W^{-1}(b - c)$. Then $F(G(a)) = W^{-1}(Wa + c - c) = a$ for every $a$ and
# $G(F(b)) = b$ for every $b$: both cycle terms vanish, whatever the data. Inverting digits,
# $G(a) = -a$ in minigan's $[-1, 1]$ range ($1 - v$ in $[0, 1]$ pixel units), is such a map
# with $W = -I$, $c = 0$, and is its own inverse.

# %%
d = 6
W = rng.standard_normal((d, d)) + 3 * np.eye(d)        # well conditioned, invertible
c = rng.standard_normal(d)
W_inv = np.linalg.inv(W)
a, b = t64(rng.standard_normal((50, d))), t64(rng.standard_normal((40, d)))
G_affine = lambda x: x @ t64(W.T) + t64(c)                # rows are samples: (N, d)
F_affine = lambda y: (y - t64(c)) @ t64(W_inv.T)
cycle = reconstruction_loss([(F_affine(G_affine(a)), a), (G_affine(F_affine(b)), b)])
check("L_cyc of an affine G and its inverse F", cycle.item(), 0.0, 1e-13)

digits = load_dataset("digits-inverted", split="test")
A = minigan.tensor(digits.x)
inverted = minigan.tensor(invert(digits.x))
cycle = reconstruction_loss([(-(-A), A), (-(-inverted), inverted)])
check("L_cyc of G = F = inversion on the 500 test digits", cycle.item(), 0.0, 0)

# %% [markdown]
# ## 2. The gradient of the cycle loss, by hand, for linear translators
#
# Let $G(a) = Aa$ and $F(b) = Bb$, with the $N$ samples as rows of $X$ ($N \times d$) and
# $Y$, so $G(X) = XA^\top$. The residuals and their signs, scaled by the mean's $1/(Nd)$:
#
# $$R_a = XA^\top B^\top - X,\quad S_a = \frac{\operatorname{sign}(R_a)}{N_a d};\qquad
#   R_b = YB^\top A^\top - Y,\quad S_b = \frac{\operatorname{sign}(R_b)}{N_b d}.$$
#
# $\mathcal{L}_{cyc} = \sum \lvert R_a\rvert/(N_a d) + \sum\lvert R_b\rvert/(N_b d)$. A change $dA$
# changes $R_a$ by $X\,dA^\top B^\top$ and $R_b$ by $YB^\top dA^\top$, so with
# $\sum S \odot dR = \operatorname{tr}(S^\top dR)$:
#
# $$\frac{\partial\mathcal{L}_{cyc}}{\partial A} = B^\top S_a^\top X + S_b^\top Y B^\top,\qquad
#   \frac{\partial\mathcal{L}_{cyc}}{\partial B} = S_a^\top X A^\top + A^\top S_b^\top Y .$$
#
# (Each translator is pulled by both cycles: $A$ is the first map of $a \to b \to a$ and the
# last of $b \to a \to b$.)

# %%
X, Y = rng.standard_normal((30, d)), rng.standard_normal((20, d))
A_np, B_np = rng.standard_normal((d, d)), rng.standard_normal((d, d))
A_t, B_t = t64(A_np, requires_grad=True), t64(B_np, requires_grad=True)
Xt, Yt = t64(X), t64(Y)
G_lin = lambda x: matmul(x, transpose(A_t, 0, 1))
F_lin = lambda y: matmul(y, transpose(B_t, 0, 1))
loss = reconstruction_loss([(F_lin(G_lin(Xt)), Xt), (G_lin(F_lin(Yt)), Yt)])
g_A, g_B = minigan.grad(loss, [A_t, B_t])
S_a = np.sign(X @ A_np.T @ B_np.T - X) / X.size
S_b = np.sign(Y @ B_np.T @ A_np.T - Y) / Y.size
check("L_cyc by hand", loss.item(),
      np.abs(X @ A_np.T @ B_np.T - X).mean() + np.abs(Y @ B_np.T @ A_np.T - Y).mean(), 1e-12)
check("∂L_cyc/∂A = Bᵀ S_aᵀ X + S_bᵀ Y Bᵀ", g_A.numpy(), B_np.T @ S_a.T @ X + S_b.T @ Y @ B_np.T,
      1e-12)
check("∂L_cyc/∂B = S_aᵀ X Aᵀ + Aᵀ S_bᵀ Y", g_B.numpy(), S_a.T @ X @ A_np.T + A_np.T @ S_b.T @ Y,
      1e-12)

# %% [markdown]
# Train only that: gradient descent on $\mathcal{L}_{cyc}$ alone, from random $A$ and $B$.
# The loss goes to (nearly) zero, $F$ becomes $G^{-1}$, but nothing decides *which* $G$: it
# stays wherever it drifted. The cycle loss pairs the two translators; it does not say what
# a translation is. That is the adversarial terms' job.

# %%
A_t = t64(rng.standard_normal((d, d)) + 2 * np.eye(d), requires_grad=True)
B_t = t64(rng.standard_normal((d, d)) * 0.1, requires_grad=True)
opt = minigan.optim.Adam([A_t, B_t], lr=0.02)
for it in range(300 if QUICK else 2000):
    loss = reconstruction_loss([(F_lin(G_lin(Xt)), Xt), (G_lin(F_lin(Yt)), Yt)])
    opt.zero_grad()
    loss.backward()
    opt.step()
product = B_t.numpy() @ A_t.numpy()
print(f"after training on L_cyc alone: L_cyc = {loss.item():.4f}, "
      f"max |BA − I| = {np.abs(product - np.eye(d)).max():.4f}, "
      f"but max |A − I| = {np.abs(A_t.numpy() - np.eye(d)).max():.2f}")
check("trained on L_cyc alone, F ∘ G ≈ identity", product, np.eye(d), 0.05)

# %% [markdown]
# ## 3. The adversarial loss admits a permuted map — and so does the cycle loss
#
# $\mathcal{L}_{GAN}(G, D_B)$ compares the *distribution* of $G(a)$ with that of $b$: a
# discriminator looks at one image at a time and never learns which $a$ an output came
# from. Here is a translator that does the wrong thing: for a digit of class $k$, the
# $j$-th one of its class, $G_\pi$ outputs the inverted $j$-th digit of class $\pi(k)$, with
# $\pi = (0\,1\,2\,\dots\,9) \mapsto (1\,2\,\dots\,9\,0)$. The test split has 50 digits per
# class, so $G_\pi$ maps the 500 digits one to one onto the 500 inverted digits: its outputs
# are the *same set* of images as domain B. Every discriminator — here an untrained
# PatchGAN, but any would do — scores that set exactly as it scores the true translations.

# %%
labels = digits.labels
order = np.argsort(labels, kind="stable")              # class by class
rank = np.empty(len(labels), int)
rank[order] = np.arange(len(labels)) % 50              # j: position inside its class
by_class = order.reshape(10, 50)                       # by_class[k, j]: index of that digit
perm = (np.arange(10) + 1) % 10
source = by_class[perm[labels], rank]                  # G_π(a_i) = T(a_source[i])
a_to_b, b_to_a = truth("digits-inverted")
G_true = a_to_b(digits.x)
G_perm = a_to_b(digits.x[source])
same_set = sorted(map(bytes, G_perm)) == sorted(map(bytes, G_true))
check("G_π(A) is the same set of images as G(A) = B", same_set, True, 0)
D = patchgan(1, width=8, layers=1).eval()
with minigan.no_grad():
    real_scores = D(minigan.tensor(G_true))
    loss_true = d_loss_lsgan(real_scores, D(minigan.tensor(G_true))).item()
    loss_perm = d_loss_lsgan(real_scores, D(minigan.tensor(G_perm))).item()
check("D_B's loss against the true G and against G_π", loss_perm, loss_true, 1e-6)

# %% [markdown]
# The cycle loss does not catch it either: $G_\pi$ is a bijection between the two sets, so
# its inverse $F_\pi$ (an inverted digit of class $\pi(k)$ back to the digit of class $k$ it
# came from) gives $F_\pi(G_\pi(a)) = a$ exactly. The classifier shows what it did: the
# matrix of (label of $a$, class of $T^{-1}(G(a))$) is diagonal for the true translation, a
# permutation matrix for $G_\pi$ — with the same adversarial loss and a cycle loss of zero.

# %%
inverse = np.empty_like(source)
inverse[source] = np.arange(len(source))               # F_π: B-image of a_source[i] -> a_i
back = digits.x[inverse][source]                       # F_π(G_π(a))
check("L_cyc of (G_π, F_π)", np.abs(back - digits.x).mean(), 0.0, 0)
for name, images in (("true G", G_true), ("G_π", G_perm)):
    predicted = classify(b_to_a(images))[0].argmax(axis=1)
    m = class_matrix(predicted, labels)
    print(f"{name}: rows = label of a, columns = class of T⁻¹(G(a))\n{format_matrix(m)}")
    diagonal = np.trace(m) / m.sum()
    shifted = m[np.arange(10), perm].sum() / m.sum()
    print(f"  on the diagonal {diagonal:.3f}, on π's cells {shifted:.3f}")
check("G_π's matrix sits on π's cells (up to the classifier's errors)", shifted, 1.0, 0.05)

# %% [markdown]
# So on these data every one-to-one map of the 500 digits onto the 500 inverted digits,
# paired with its inverse, scores exactly what the true inversion scores on the adversarial
# and cycle terms together: the $10!$ permutations of the classes among them, and the
# inversion is only one. What picks it in practice is the *networks*: a convolutional
# translator whose path from input to output stays local can invert pixels where they are,
# while drawing a 7 where a 3 was needs a global rewrite. (BENCHMARKS.md shows the other
# side: on digits turned by 90°, where the right map is not local, a trained CycleGAN
# reaches a cycle error of 0.02 with the classes scrambled.) The identity term helps where the right
# map is close to the identity; here it is not, and it asks G to leave inverted digits
# alone, which G can only do by telling the two domains apart first.
#
# ## 4. A trained pair
#
# Now CycleGAN itself on `digits-inverted` (domain A: the digits; domain B: inverted
# digits, paired with *other* digits by a fixed derangement, so no batch holds a digit and its
# own inversion), with $\lambda_{id} = 0$: the identity term would ask $G(b) = b$ of an
# inverted digit $b$, while the inversion gives $G(b) = -b$ (BENCHMARKS.md measures what it
# costs). We measure the cycle error $\lvert F(G(a)) - a\rvert$, the error of $G(a)$ against
# the true inversion $-a$ (in $[0, 1]$ pixel units), and the class matrix.

# %%
train = load_dataset("digits-inverted")
steps, batch, width = (3, 4, 4) if QUICK else (600, 16, 16)
minigan.manual_seed(0)
model = CycleGAN((1, 28, 28), width=width, d_width=width, lambda_identity=0.0)
for step_batch in DataLoader(train, batch_size=batch, seed=0).batches(steps):
    logs = model.step(step_batch)
report = model.report("digits-inverted", num_samples=100 if QUICK else 500)
scores = report["scores"]
print(f"{steps} steps: cycle error A {scores['cycle_l1_A']:.4f}, B {scores['cycle_l1_B']:.4f}; "
      f"L1 of G(a) to the true inversion {scores['l1_AB']:.4f}, of F(b) {scores['l1_BA']:.4f}; "
      f"classifier accuracy A→B {scores['accuracy_A→B']:.3f}, B→A {scores['accuracy_B→A']:.3f}")
print(format_matrix(report["matrices"]["A→B"]))
model.preview(f"{OUT}/digits_inverted.png", model.preview_inputs(digits),
              title=f"CycleGAN, {steps} steps")
print(f"saved {OUT}/digits_inverted.png")
if not QUICK:
    assert scores["cycle_l1_A"] < 0.05 and scores["cycle_l1_B"] < 0.05, "F(G(a)) ≈ a"
    assert scores["accuracy_A→B"] > 0.9, "and the pair found the inversion, not a permutation"
