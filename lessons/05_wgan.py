# %% [markdown]
# # Lesson 05 — WGAN: a critic that estimates the earth mover's distance
#
# Lesson 04 ended with the reason for WGAN: between distributions that do not overlap the
# JSD is flat, while the Wasserstein-1 (earth mover's) distance keeps a slope of 1. WGAN
# (notes 000 section 3, notes 002 "WGAN", notes 003 "Wasserstein GAN") trains the generator
# on $W_1$ instead. $W_1$ itself is an infimum over transport plans, which nobody can compute
# for images; the Kantorovich–Rubinstein duality turns it into a supremum over functions:
#
# $$W_1(p_{data}, p_g) = \sup_{\lVert f\rVert_L \le 1}\;
#   \mathbb{E}_{x\sim p_{data}}[f(x)] - \mathbb{E}_{z}[f(G(z))],$$
#
# the supremum over all **1-Lipschitz** functions, $|f(x) - f(y)| \le \lVert x - y\rVert$. A
# network $D$ — the *critic*, no sigmoid, any real output — plays $f$:
#
# * critic loss (minimised): $L_D = \mathbb{E}[D(G(z))] - \mathbb{E}[D(x)]$, i.e. notes 002's
#   labels $+1$ for real and $-1$ for fake with the loss $-\mathbb{E}[y\,D(\cdot)]$;
# * generator loss: $L_G = -\mathbb{E}[D(G(z))]$.
#
# What remains is keeping $D$ Lipschitz. The WGAN paper clips every weight to
# $[-0.01, 0.01]$ after each critic update, trains the critic 5 times per generator step, and
# uses RMSprop with lr $5\cdot10^{-5}$ (notes 002). This lesson checks each piece.

# %%
import numpy as np

from _common import check, setup, train_steps

import minigan
from minigan import optim, viz
from minigan.data import DataLoader, load_dataset
from minigan.models import get_model
from minigan.models.losses import critic_loss_wasserstein, g_loss_wasserstein

QUICK, OUT = setup("05_wgan")
minigan.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The duality on a translation
#
# For $p = \mathcal N(0, 1)$ and $q = p$ shifted by $\theta$, $W_1 = \theta$ (lesson 04). The
# 1-Lipschitz function $f(x) = x$ attains the supremum:
# $\mathbb{E}_q[x] - \mathbb{E}_p[x] = \theta$.
# Estimated from independent samples of $p$ and $q$, the difference of the two sample means
# has standard error $\sqrt{2/n}$, and lesson 04's estimate of $W_1$ from sorted samples must
# agree with it. (Here they agree to the last digit: once every sorted pair is ordered,
# $|y_{(i)} - x_{(i)}| = y_{(i)} - x_{(i)}$, and the mean of those is the difference of the means.)

# %%
theta, n = 1.5, 100_000
x_p, x_q = rng.standard_normal(n), theta + rng.standard_normal(n)
standard_error = np.sqrt(2 / n)
check("f(x) = x: E_q f − E_p f from independent samples ≈ θ", x_q.mean() - x_p.mean(), theta,
      5 * standard_error)
check("W1 from sorted samples ≈ θ", np.abs(np.sort(x_q) - np.sort(x_p)).mean(), theta,
      5 * standard_error)

# %% [markdown]
# And no 1-Lipschitz $f$ does better, by a one-line proof: couple each $x \sim p$ with
# $x + \theta \sim q$; then $f(x+\theta) - f(x) \le |f(x+\theta) - f(x)| \le \theta$ for *every*
# sample, so also on average. The bound is a property of Lipschitz functions, not of the
# samples: $f(x) = 2x$ (2-Lipschitz) gains $2\theta$, and $f(x) = x^2$ (not Lipschitz at all)
# gains $\mathbb{E}[(x+\theta)^2 - x^2] = \theta^2 + 2\theta\,\mathbb{E}[x]
# \approx \theta^2 = 2.25$.

# %%
x = x_p
lipschitz_functions = {
    "sin x": np.sin, "tanh x": np.tanh, "|x − 0.3|": lambda v: np.abs(v - 0.3),
    "softplus x": lambda v: np.logaddexp(0, v), "0.5 x": lambda v: 0.5 * v,
}
for name, f in lipschitz_functions.items():
    gain = np.mean(f(x + theta) - f(x))
    print(f"f = {name:<12} E_q f − E_p f = {gain:.4f} <= θ = {theta}")
    assert gain <= theta + 1e-12
for name, f in (("2x", lambda v: 2 * v), ("x²", np.square)):
    gain = np.mean(f(x + theta) - f(x))
    print(f"f = {name:<12} E_q f − E_p f = {gain:.4f} >  θ = {theta}  (not 1-Lipschitz)")
    assert gain > theta

# %% [markdown]
# The critic loss written the notes' way (labels $\pm1$) is the same number as minigan's
# `critic_loss_wasserstein`, and the generator's loss is minus the critic's mean score on
# the fakes:

# %%
real_scores, fake_scores = minigan.randn(8, 1), minigan.randn(8, 1)
labelled = -(1.0 * real_scores).mean() - (-1.0 * fake_scores).mean()
check("L_D = E D(G(z)) − E D(x) = −E[y D] with y = ±1",
      critic_loss_wasserstein(real_scores, fake_scores).item(), labelled.item(), 1e-6)
check("L_G = −E D(G(z))", g_loss_wasserstein(fake_scores).item(),
      -fake_scores.numpy().mean(), 1e-6)

# %% [markdown]
# ## 2. Weight clipping, RMSprop, 5 critic steps: the `wgan` variant
#
# The variant builds the notes' recipe. For 2-D points the critic is an MLP
# $2 \to 128 \to 128 \to 1$ with LeakyReLU(0.2). Its layers start with PyTorch's
# initialisation, $U(-1/\sqrt{\text{fan in}}, 1/\sqrt{\text{fan in}})$ — far outside
# $[-0.01, 0.01]$ — and after the first critic update every weight and bias is clipped.

# %%
WGAN = get_model("wgan")
gan = WGAN((2,))


def critic_weights():
    return max(float(np.abs(p.numpy()).max()) for p in gan.D.parameters())


print(f"largest |critic weight| at initialisation: {critic_weights():.3f}")
assert critic_weights() > 0.01
ring = load_dataset("ring8:20000")
loader = DataLoader(ring, batch_size=256, seed=0)
first_batch = next(iter(loader))
gan.step(first_batch)
check("after one critic step: max |w| is the clip value 0.01", critic_weights(), 0.01, 1e-8)
opt_D = gan.optimizers["D"]
assert isinstance(opt_D, optim.RMSprop), type(opt_D)
check("critic optimiser: RMSprop with lr 5e-5", opt_D.param_groups[0]["lr"], 5e-5, 0)
for _ in range(9):
    gan.step(first_batch)
check("k = 5: 10 critic updates, 2 generator updates", gan.g_updates, 2, 0)

# %% [markdown]
# ## 3. How Lipschitz is the clipped critic?
#
# Clipping bounds the weights, hence the Lipschitz constant — but to *some* $K$, not to 1.
# For a stack of linear layers and LeakyReLUs (whose slopes are $0.2$ or $1$, never more),
# the chain rule gives $\lVert\nabla_x D\rVert \le \prod_l \lVert W_l\rVert_2$, the product of the
# layers' spectral norms: a guaranteed upper bound $K$. Two empirical estimates must stay
# below it:
#
# * the largest gradient norm $\max_x \lVert\nabla_x D(x)\rVert$ over samples (autograd), and
# * the largest difference quotient $\max |D(x) - D(y)| / \lVert x - y\rVert$ over pairs.
#
# Then the critic's value $\mathbb{E}[D(x)] - \mathbb{E}[D(G(z))]$ estimates $K\cdot W_1$, not
# $W_1$ — which is why WGAN's loss is tiny but still *proportional* to the distance.

# %%
def lipschitz_bound(critic):
    """∏ ‖W_l‖₂ over the linear layers: a Lipschitz constant of Linear+LeakyReLU stacks."""
    weights = [p.numpy() for name, p in critic.named_parameters() if name.endswith("weight")]
    return float(np.prod([np.linalg.norm(w, 2) for w in weights]))


def gradient_norms(critic, points):
    x = minigan.tensor(points, requires_grad=True)
    (g,) = minigan.grad(critic(x).sum(), x)   # rows are independent: ∇ of the sum = per-row ∇
    return np.linalg.norm(g.numpy(), axis=1)


def difference_quotients(critic, a, b):
    with minigan.no_grad():
        da, db = critic(minigan.tensor(a)).numpy()[:, 0], critic(minigan.tensor(b)).numpy()[:, 0]
    return np.abs(da - db) / np.linalg.norm(a - b, axis=1)


def lipschitz_report(critic, real, fake):
    bound = lipschitz_bound(critic)
    grad_max = gradient_norms(critic, np.concatenate([real, fake])).max()
    quotient_max = difference_quotients(critic, real, fake).max()
    print(f"max ‖∇D‖ = {grad_max:.4g}, max |ΔD|/‖Δx‖ = {quotient_max:.4g}, "
          f"bound ∏‖W‖₂ = {bound:.4g}")
    assert grad_max <= bound * (1 + 1e-5) and quotient_max <= bound * (1 + 1e-5)
    return bound

# %% [markdown]
# ## 4. Exact $W_1$ between two samples
#
# To judge the critic we need the truth. For two equal-size samples, the optimal transport
# plan is a matching, so $W_1$ between the samples is exactly the cost of the best
# assignment, which the Hungarian algorithm finds (below, vectorised over columns; checked
# against brute force on a 6×6 problem).

# %%
def min_cost_matching(cost):
    """Rows matched to columns of a square cost matrix with the least total cost (the
    Hungarian algorithm with potentials u, v; O(n³)). Returns col[i] for each row i."""
    n = len(cost)
    u, v = np.zeros(n + 1), np.zeros(n + 1)
    match = np.zeros(n + 1, dtype=int)      # match[j]: the row (1-based) given column j
    way = np.zeros(n + 1, dtype=int)
    for row in range(1, n + 1):
        match[0], j0 = row, 0
        slack, used = np.full(n + 1, np.inf), np.zeros(n + 1, dtype=bool)
        while match[j0] != 0:
            used[j0] = True
            reduced = cost[match[j0] - 1] - u[match[j0]] - v[1:]
            better = ~used[1:] & (reduced < slack[1:])
            slack[1:][better], way[1:][better] = reduced[better], j0
            j1 = 1 + np.argmin(np.where(used[1:], np.inf, slack[1:]))
            delta = slack[j1]
            u[match[used]] += delta
            v[used] -= delta
            slack[~used] -= delta
            j0 = j1
        while j0:                            # flip the augmenting path
            match[j0], j0 = match[way[j0]], way[j0]
    col = np.empty(n, dtype=int)
    col[match[1:] - 1] = np.arange(n)
    return col


import itertools  # noqa: E402  (brute force: every permutation of a 6×6 problem)
small = rng.random((6, 6))
best = min(itertools.permutations(range(6)), key=lambda p: small[range(6), p].sum())
check("Hungarian = brute force on 6×6", small[range(6), min_cost_matching(small)].sum(),
      small[range(6), best].sum(), 1e-12)



def exact_w1(gan, n):
    """W1 between n real points and n of G's samples (float64), and the two samples."""
    real = ring.points[rng.choice(len(ring), n, replace=False)].astype(np.float64)
    fake = gan.sample(n).numpy().astype(np.float64)
    distances = np.linalg.norm(real[:, None, :] - fake[None, :, :], axis=2)  # (n, n)
    return distances[np.arange(n), min_cost_matching(distances)].mean(), real, fake

# %% [markdown]
# ## 5. Training on the ring of 8 Gaussians
#
# Each `step()` is one critic update (RMSprop, then clipping); every 5th also updates $G$.
# The logged $-L_D = \mathbb{E}[D(x)] - \mathbb{E}[D(G(z))]$ is the critic's estimate of
# $K\cdot W_1$. Unlike the BCE loss of lesson 01, which hovers around $2\log 2$ whatever the
# samples look like (notes 002: "uninformative loss"), it tracks the distance: it first
# *rises*, while the critic learns to tell the two samples apart (at the start $D$ is nearly
# constant and the estimate near 0), then *falls* as the generator's samples move towards
# the data. The exact $W_1$ before and after training says whether they did.

# %%
minigan.manual_seed(0)
gan = WGAN((2,))
loader = DataLoader(ring, batch_size=256, seed=0)
steps = 3000 if QUICK else 6000
n = 200 if QUICK else 400
w1_untrained = exact_w1(gan, n)[0]
history = train_steps(gan, loader, steps)
print(f"{steps} critic steps, {gan.g_updates} generator steps")
estimates = np.array([-h["loss_D"] for h in history])
smoothed = np.convolve(estimates, np.ones(200) / 200, mode="valid")  # 200-step running mean
falls_to = estimates[-200:].mean() / smoothed.max()
print(f"critic's estimate of K·W1: largest 200-step mean {smoothed.max():.5f} "
      f"(steps {smoothed.argmax() + 1}–{smoothed.argmax() + 200}), last 200 steps "
      f"{estimates[-200:].mean():.5f}: {falls_to:.2f} of its peak")
w1, real, fake = exact_w1(gan, n)
print(f"W1(real, fake) = {w1_untrained:.3f} untrained, {w1:.3f} after {steps} critic steps")

# %% [markdown]
# Measured with seeds 0–9: the untrained generator is at $W_1 \approx 1.9$ (its samples sit
# near the origin, the ring has radius 2); after 3,000 critic steps (`--quick`) $W_1$ is
# 0.86–1.09 and the estimate has fallen to 0.00–0.17 of its peak; after 6,000 steps, 0.84–1.30
# and 0.07–0.39.

# %%
assert w1 < 1.5, "the generator's samples moved toward the data"
assert falls_to < (0.3 if QUICK else 0.5), "the critic's estimate falls from its peak"

# %% [markdown]
# Kantorovich–Rubinstein guarantees, for the critic with Lipschitz bound $K$ evaluated on
# the same two samples:
#
# $$\overline{D(\text{real})} - \overline{D(\text{fake})}
#   \;\le\; K\cdot W_1(\text{real}, \text{fake}).$$

# %%
with minigan.no_grad():
    gap = float(gan.D(minigan.tensor(real.astype(np.float32))).numpy().mean()
                - gan.D(minigan.tensor(fake.astype(np.float32))).numpy().mean())
K = lipschitz_report(gan.D, real.astype(np.float32), fake.astype(np.float32))
print(f"W1(real, fake) = {w1:.4f} (exact, by matching);  critic gap = {gap:.5f};  "
      f"K·W1 = {K * w1:.5f};  gap / K = {gap / K:.4f}")
assert gap <= K * w1 * (1 + 1e-4), "Kantorovich–Rubinstein: no K-Lipschitz critic beats K·W1"

viz.save_scatter_2d(fake, f"{OUT}/ring8_samples.png", data=real, modes=ring.modes,
                    title=f"WGAN (clipping), {steps} critic steps")
viz.save_loss_curves({"critic estimate of K·W1": estimates}, f"{OUT}/critic_estimate.png",
                     smooth=50, title="WGAN: −L_D during training")
print(f"saved {OUT}/ring8_samples.png and critic_estimate.png")

# %% [markdown]
# Clipping works but is crude: notes 002 point out that squeezing every weight into a tiny
# box costs the critic capacity and slows learning, and the constant $K$ it ends up with is
# far below 1 and not controlled. Lesson 06 replaces the clipping by a penalty that asks for
# $\lVert\nabla D\rVert = 1$ directly.
