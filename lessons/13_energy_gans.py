# %% [markdown]
# # Lesson 13 — EBGAN and BEGAN: the discriminator as an autoencoder
#
# Notes 003 ("EBGAN, BEGAN") describe a different kind of discriminator: instead of a
# probability "real or fake", $D$ is an **autoencoder**, and how badly it reconstructs a
# sample is that sample's **energy** — low on real data, high elsewhere. Two GANs are built
# on it:
#
# * **EBGAN** (energy-based GAN): $D$ lowers the energy of real data and raises that of fakes
#   up to a margin $m$; $G$ lowers the energy of its samples, plus a *pull-away term* that
#   keeps its samples apart.
# * **BEGAN** (boundary equilibrium GAN): the same autoencoder with an L1 error, and a
#   controller $k_t$ that keeps $G$ and $D$ in balance. The notes write that BEGAN keeps the
#   ratio of $G$'s loss to $D$'s loss "near 1"; section 5 shows that it holds it at a chosen
#   $\gamma$ instead.
#
# Energy of a sample $v$ with $M$ numbers (pixels), $p = 2$ for EBGAN and $p = 1$ for BEGAN:
#
# $$E(v) = \frac{1}{M}\sum_{i=1}^{M} \big|\mathrm{Dec}(\mathrm{Enc}(v))_i - v_i\big|^p .$$

# %%
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from _common import check, setup

import minigan
from minigan.autograd import Tensor, no_grad
from minigan.data import DataLoader, load_dataset
from minigan.models.began import BEGAN
from minigan.models.ebgan import EBGAN
from minigan.models.losses import (began_balance, began_convergence, d_loss_ebgan,
                                   pull_away_term)

QUICK, OUT = setup("13_energy_gans")
minigan.manual_seed(0)

# %% [markdown]
# ## 1. EBGAN's margin loss and its gradients, by hand
#
# $$L_D = \frac{1}{N}\sum_i E(x_i) + \frac{1}{N}\sum_j \max\big(0,\ m - E(G(z_j))\big), \qquad
#   L_G = \frac{1}{N}\sum_j E(G(z_j)) + \lambda_{PT} f_{PT}.$$
#
# Differentiating $L_D$ with respect to the energies:
#
# $$\frac{\partial L_D}{\partial E(x_i)} = \frac{1}{N}, \qquad
#   \frac{\partial L_D}{\partial E(G(z_j))} = \begin{cases} -\frac{1}{N} & E(G(z_j)) < m \\
#   0 & E(G(z_j)) \ge m \end{cases}$$
#
# So $D$ always pushes real energies down, but pushes a fake's energy up only while it is
# below the margin: fakes that already look bad cost $D$ nothing, and $D$'s capacity goes to
# the fakes that resemble data.

# %%
real_energy = minigan.tensor([0.2, 0.05, 0.4], dtype="float64", requires_grad=True)
fake_energy = minigan.tensor([0.3, 1.7, 0.9, 2.5], dtype="float64", requires_grad=True)
M = 1.0
loss = d_loss_ebgan(real_energy, fake_energy, margin=M)
by_hand = np.mean([0.2, 0.05, 0.4]) + np.mean([max(0, M - e) for e in (0.3, 1.7, 0.9, 2.5)])
check("L_D by hand", loss.item(), by_hand, 1e-12)
g_real, g_fake = minigan.grad(loss, [real_energy, fake_energy])
check("∂L_D/∂E(x_i) = 1/N", g_real.numpy(), [1 / 3] * 3, 1e-12)
check("∂L_D/∂E(G(z_j)) = −1/N below m, 0 above", g_fake.numpy(), [-1 / 4, 0, -1 / 4, 0],
      1e-12)

# %% [markdown]
# ## 2. The pull-away term: squared cosines
#
# With $s_i = \mathrm{Enc}(G(z_i))$ the codes of a batch of fakes,
#
# $$f_{PT} = \frac{1}{N(N-1)} \sum_{i \ne j}
#   \left(\frac{s_i^\top s_j}{\lVert s_i\rVert\,\lVert s_j\rVert}\right)^2 .$$
#
# It is 0 when the codes are mutually orthogonal and 1 when they all lie on one line. The
# **square** matters: two codes pointing in opposite directions describe the same kind of
# sample as two parallel ones, and both should count as "not diverse". Without the square,
# the antiparallel pair would score $-1$ — *better* than orthogonal codes — and the term
# could be lowered by flipping codes rather than spreading them.
#
# Its gradient: with $\hat s_i = s_i / \lVert s_i\rVert$ and $c_{ij} = \hat s_i^\top \hat s_j$, each
# $c_{ij}$ appears twice in the sum ($ij$ and $ji$) and $\partial c_{ij}/\partial s_i =
# (I - \hat s_i \hat s_i^\top)\hat s_j / \lVert s_i\rVert$, so
#
# $$\frac{\partial f_{PT}}{\partial s_i} = \frac{4}{N(N-1)} \sum_{j\ne i} c_{ij}\,
#   \frac{(I - \hat s_i\hat s_i^\top)\,\hat s_j}{\lVert s_i\rVert}.$$

# %%
pair = minigan.tensor([[1.0, 0.0], [-2.0, 0.0]], dtype="float64")
check("antiparallel codes: f_PT = 1 (squared cosine)", pull_away_term(pair).item(), 1.0, 1e-9)
unit = pair.numpy() / np.linalg.norm(pair.numpy(), axis=1, keepdims=True)
print("without the square the same pair would score", float(unit[0] @ unit[1]))
check("orthogonal codes: f_PT = 0",
      pull_away_term(minigan.tensor([[1.0, 0.0], [0.0, 3.0]], dtype="float64")).item(), 0.0,
      1e-9)

s = minigan.randn(5, 3, dtype="float64", requires_grad=True)
(g,) = minigan.grad(pull_away_term(s), s)
v = s.numpy()
norms = np.linalg.norm(v, axis=1, keepdims=True)
u = v / norms
expected = np.stack([sum((u[i] @ u[j]) * (np.eye(3) - np.outer(u[i], u[i])) @ u[j]
                         for j in range(5) if j != i) / norms[i, 0] for i in range(5)])
check("∂f_PT/∂s_i by hand", g.numpy(), 4 / (5 * 4) * expected, 1e-10)

# %% [markdown]
# ## 3. BEGAN's controller and its fixed point
#
# BEGAN uses $L(v) = E(v)$ with $p = 1$ and
#
# $$L_D = L(x) - k_t\, L(G(z)), \qquad L_G = L(G(z)), \qquad
#   k_{t+1} = \mathrm{clip}_{[0,1]}\big(k_t + \lambda_k(\gamma L(x) - L(G(z)))\big).$$
#
# $k_t$ is a *proportional controller*: when $G$ is winning ($L(G(z)) < \gamma L(x)$) it grows and
# $D$ pushes the fakes' losses up harder; when $D$ is winning it shrinks. It stops moving
# exactly when
#
# $$L(G(z)) = \gamma\, L(x) \quad\Longleftrightarrow\quad \frac{L(G(z))}{L(x)} = \gamma .$$
#
# A toy "plant" makes this concrete: hold $L(x) = 1$ and suppose the fakes' loss grows with
# the pressure $k$, $L(G) = a + b\,k$. Then the fixed point is $k^* = (\gamma - a)/b$, the
# error $k_t - k^*$ shrinks by the factor $(1 - \lambda_k b)$ each step, and the ratio settles
# at $\gamma$ — not at 1. If $a > \gamma$ (even with $k = 0$ the fakes reconstruct worse than
# $\gamma$ times the real data) then $\gamma L(x) - L(G) < 0$ for every $k \ge 0$: $k$ is
# clipped at 0 and stays there, the "k stuck at 0" failure of BEGAN.

# %%
def simulate(gamma, a, b, lam=0.05, steps=400):
    k, ks, ratios = 0.0, [], []
    for _ in range(steps):
        fake = a + b * k
        k = began_balance(k, 1.0, fake, gamma, lam)
        ks.append(k)
        ratios.append(fake / 1.0)
    return np.array(ks), np.array(ratios)


for gamma in (0.3, 0.5, 0.7):
    ks, ratios = simulate(gamma, a=0.2, b=2.0)
    check(f"γ = {gamma}: k_t → (γ − a)/b", ks[-1], (gamma - 0.2) / 2.0, 1e-9)
    check(f"γ = {gamma}: L(G)/L(x) → γ", ratios[-1], gamma, 1e-8)
ks, _ = simulate(0.3, a=0.2, b=2.0)
errors = np.abs(ks[10:20] - 0.05)
check("the error shrinks by 1 − λ_k b per step", errors[1:] / errors[:-1], 1 - 0.05 * 2.0,
      1e-9)
ks, ratios = simulate(0.3, a=0.5, b=2.0)
check("a > γ: k_t stuck at 0", ks.max(), 0.0, 0)
print(f"... and the ratio stays at a = {ratios[-1]:.2f}, above γ = 0.3")

# %% [markdown]
# ## 4. The convergence measure
#
# GAN losses do not say whether training converges (lesson 08). BEGAN's measure
#
# $$M_{global} = L(x) + \big|\gamma L(x) - L(G(z))\big|$$
#
# is small only when $D$ reconstructs real data well (first term) *and* the game is in
# balance (second term, 0 at the fixed point above).

# %%
check("M_global at the balance point is L(x)", began_convergence(0.4, 0.2, gamma=0.5), 0.4,
      1e-12)
check("off balance it adds |γL(x) − L(G)|", began_convergence(0.4, 0.35, gamma=0.5), 0.55,
      1e-12)

# %% [markdown]
# ## 5. Training on the digits: the ratio tracks γ
#
# The `began` model on the embedded MNIST digits for γ = 0.3, 0.5, 0.7 with λ_k = 10⁻³,
# batch 32 and a *constant* lr of 3·10⁻⁴ (`lr_halving=0`): 5,000 steps, enough for the
# ratio to find its γ. The model's default halves the lr every 2,000 steps, which lets $k_t$
# settle by 12,000 steps (BENCHMARKS.md) but at 5,000 still leaves γ = 0.3 in the overshoot
# that follows $k_t$'s peak (ratio 0.41 over the last 1,000 steps). Each step logs $k_t$,
# $M_{global}$ and the ratio $L(G(z))/L(x)$. Once $k_t$ has risen off 0 and come back, the
# ratio sits near its own $\gamma$ — three different levels, none of them near 1 — while
# $M_{global}$ falls.
#
# The samples show the price of a small $\gamma$ on digits: the generator is asked for
# samples that $D$ reconstructs *better* than the data ($\gamma < 1$), and the thin 1s are
# the digits an autoencoder reconstructs best. BENCHMARKS.md counts the classes per $\gamma$.

# %%
STEPS = 8 if QUICK else 5000
digits = load_dataset("mnist5k")
logs, ratios = {}, {}
for gamma in (0.3, 0.5, 0.7):
    minigan.manual_seed(0)
    gan = BEGAN((1, 28, 28), gamma=gamma, lr_halving=0)
    logs[gamma] = [gan.step(batch) for batch in DataLoader(digits, 32, seed=0).batches(STEPS)]
    tail = logs[gamma][-max(1, STEPS // 5):]
    ratios[gamma] = np.mean([h["ratio"] for h in tail])
    k = np.mean([h["k"] for h in tail])
    head = np.mean([h["M_global"] for h in logs[gamma][:max(1, STEPS // 25)]])
    m_end = np.mean([h["M_global"] for h in tail])
    print(f"γ = {gamma}: last {len(tail)} steps: ratio {ratios[gamma]:.3f}, k_t {k:.4f}, "
          f"M_global {head:.4f} (first {max(1, STEPS // 25)} steps) -> {m_end:.4f}")
    if not QUICK:
        check(f"γ = {gamma}: L(G)/L(x) tracks γ", ratios[gamma], gamma, 0.1)
        check(f"γ = {gamma}: k_t inside (0, 1)", float(0 < k < 1), 1.0, 0)
        check(f"γ = {gamma}: M_global fell", float(m_end < head), 1.0, 0)
if not QUICK:
    check("the ratios are ordered like γ, none near 1",
          float(ratios[0.3] < ratios[0.5] < ratios[0.7] < 0.85), 1.0, 0)

fig = Figure(figsize=(12, 3.6), dpi=100)
FigureCanvasAgg(fig)
window = max(1, min(100, STEPS // 10))
for i, key in enumerate(("k", "M_global", "ratio")):
    ax = fig.add_subplot(1, 3, i + 1)
    for j, gamma in enumerate((0.3, 0.5, 0.7)):
        values = np.convolve([h[key] for h in logs[gamma]], np.ones(window) / window, "valid")
        ax.plot(values, color=f"C{j}", label=f"γ = {gamma}")
        if key == "ratio":
            ax.axhline(gamma, color=f"C{j}", linestyle="--", linewidth=0.8)
    ax.set_title(key)
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(f"{OUT}/began_gamma.png")

# %% [markdown]
# ## 6. EBGAN's energies
#
# A short EBGAN run, then $D$'s energies on held-out real digits and on samples, against
# the margin: $D$ has learned low energy on the data, and its hinge stops pushing fakes
# once they pass $m$.

# %%
minigan.manual_seed(0)
ebgan = EBGAN((1, 28, 28))
for batch in DataLoader(digits, 64, seed=0).batches(5 if QUICK else 1000):
    ebgan.step(batch)
test = load_dataset("mnist5k", split="test")
with no_grad():
    e_real = ebgan.energy(Tensor(test.images))[0].numpy()
    e_fake = ebgan.energy(ebgan.sample(500))[0].numpy()
print(f"mean energy: held-out real {e_real.mean():.4f}, samples {e_fake.mean():.4f}, "
      f"margin {ebgan.hp.margin}")
fig = Figure(figsize=(6, 3.6), dpi=100)
FigureCanvasAgg(fig)
ax = fig.add_subplot()
bins = np.linspace(0, max(1.05 * ebgan.hp.margin, e_real.max(), e_fake.max()), 60)
ax.hist(e_real, bins=bins, alpha=0.6, label="E(x), held-out digits")
ax.hist(e_fake, bins=bins, alpha=0.6, label="E(G(z)), samples")
ax.axvline(ebgan.hp.margin, color="k", linestyle="--", label="margin m")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(f"{OUT}/ebgan_energies.png")

# %% [markdown]
# ## Summary
#
# * EBGAN: $\partial L_D/\partial E(x) = 1/N$ always, $\partial L_D/\partial E(G(z)) = -1/N$
#   only below the margin. The pull-away term is the mean *squared* cosine of the fakes' codes.
# * BEGAN: $k_t$ is a proportional controller whose fixed point is $L(G(z)) = \gamma L(x)$; it
#   holds the ratio at $\gamma$, not at 1, and stays clipped at 0 when the fakes cannot reach
#   $\gamma L(x)$ even unopposed. $M_{global} = L(x) + |\gamma L(x) - L(G(z))|$ measures
#   convergence.
