# %% [markdown]
# # Lesson 04 — information theory: entropy, KL, JSD, and why WGAN uses the earth mover
#
# Notes 000 (section 3, "WGAN의 기본 원리: Entropy") build WGAN from information theory:
# self-information, entropy, cross-entropy, and the complaint that a cross-entropy-based
# distance between $p_{data}$ and $p_g$ gives a gradient close to zero. Notes 003
# ("Divergence between Distribution", "Wasserstein GAN") add the KL divergence (not
# symmetric), the Jensen–Shannon divergence the original GAN minimises, and the
# Wasserstein-1 / earth mover's distance. This lesson computes each of them with minigan,
# checks them against closed forms, and then measures the point of the whole story with
# autograd: between two distributions that do not overlap,
# $\partial\,\mathrm{JSD}/\partial\theta = 0$ while $\partial W_1/\partial\theta = 1$.

# %%
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from _common import check, setup

import minigan
import minigan.functional as F

QUICK, OUT = setup("04_information_theory")
minigan.manual_seed(0)


def t64(values, requires_grad=False):
    return minigan.tensor(values, dtype="float64", requires_grad=requires_grad)


LOG2 = math.log(2.0)

# %% [markdown]
# ## 1. Self-information and entropy (notes 000)
#
# A message $m$ of probability $p(m)$ carries $I(m) = -\log_2 p(m)$ bits: a fair coin flip
# is 1 bit, one of 8 equally likely messages is 3 bits, a certain message is 0 bits.
# Entropy is the average information of the messages of a source,
#
# $$H(p) = \sum_m p(m)\, I(m) = -\sum_m p(m) \log p(m).$$

# %%
def self_information_bits(p):
    return -p.log() / LOG2


def entropy(p):
    """H(p) = −Σ p log p in nats, with 0 log 0 = 0."""
    safe = F.where(p.data > 0, p, 1.0)   # log 1 = 0 where p = 0, and no 0·(−inf)
    return -(p * safe.log()).sum()


check("I(fair coin) in bits", self_information_bits(t64([0.5])).item(), 1.0, 1e-12)
check("I(1 of 8) in bits", self_information_bits(t64([1 / 8])).item(), 3.0, 1e-12)
uniform8 = t64(np.full(8, 1 / 8))
check("H(uniform over 8) in bits", entropy(uniform8).item() / LOG2, 3.0, 1e-12)
peaked = t64([0.93, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])
print(f"H(peaked) = {entropy(peaked).item() / LOG2:.3f} bits < 3 bits")
assert entropy(peaked).item() < entropy(uniform8).item()

# %% [markdown]
# Notes 000 say that a source whose messages are equally likely needs the most
# information. Calculus says why: $\partial H/\partial p_m = -\log p_m - 1$. At the uniform
# distribution every component is the same, so moving probability from one message to
# another (a direction $d$ with $\sum_m d_m = 0$) changes nothing to first order — the
# uniform distribution is the stationary point of $H$ on the simplex, and since $H$ is
# concave, its maximum. Autograd shows the gradient has no component along the simplex
# there, and a clear one at the peaked distribution:

# %%
def simplex_gradient(p):
    """∂H/∂p with its mean removed: the part that moves along Σ p = 1."""
    p = t64(p.numpy(), requires_grad=True)
    (g,) = minigan.grad(entropy(p), p)
    return g.numpy() - g.numpy().mean()


check("∂H/∂p along the simplex, uniform", simplex_gradient(uniform8), np.zeros(8), 1e-12)
print("… and at the peaked one:", np.round(simplex_gradient(peaked), 3))

# %% [markdown]
# ## 2. Cross-entropy and KL divergence
#
# Describing $p$ with a code built for $q$ costs the cross-entropy
# $H(p, q) = -\sum p \log q$, which splits into the entropy of $p$ plus the excess,
# the Kullback–Leibler divergence:
#
# $$H(p, q) = H(p) + \mathrm{KL}(p \,\|\, q),\qquad
#   \mathrm{KL}(p\,\|\,q) = \sum p \log\frac{p}{q} \;\ge\; 0 .$$
#
# The binary cross-entropy of notes 000 (the GAN loss) is the two-outcome case:
# $\mathrm{BCE}(h, y) = -[y\log h + (1-y)\log(1-h)] = H(\mathrm{Bern}(y), \mathrm{Bern}(h))$.

# %%
def kl(p, q):
    """KL(p‖q) = Σ p log(p/q), with 0 log 0 = 0 (q > 0 wherever p > 0)."""
    positive = p.data > 0
    ratio = F.where(positive, p / F.where(q.data > 0, q, 1.0), 1.0)
    return (p * ratio.log()).sum()


def cross_entropy(p, q):
    return -(p * q.log()).sum()


p, q = t64([0.5, 0.5]), t64([0.9, 0.1])
check("H(p, q) = H(p) + KL(p‖q)", cross_entropy(p, q).item(),
      entropy(p).item() + kl(p, q).item(), 1e-12)
h, y = 0.8, 1.0
check("BCE(h=0.8, y=1) = H(Bern(1), Bern(0.8))", cross_entropy(t64([y, 1 - y]),
      t64([h, 1 - h])).item(), -math.log(0.8), 1e-12)

# %% [markdown]
# **KL is not symmetric** (notes 003: "KL(Pr|Pg)와 KL(Pg|Pr)이 다르다"). By hand, for
# $p = (0.5, 0.5)$ and $q = (0.9, 0.1)$:
#
# $$\mathrm{KL}(p\|q) = 0.5\log\tfrac{0.5}{0.9} + 0.5\log\tfrac{0.5}{0.1} \approx 0.5108,\qquad
#   \mathrm{KL}(q\|p) = 0.9\log\tfrac{0.9}{0.5} + 0.1\log\tfrac{0.1}{0.5} \approx 0.3681 .$$

# %%
check("KL(p‖q)", kl(p, q).item(), 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(5.0), 1e-12)
check("KL(q‖p)", kl(q, p).item(), 0.9 * math.log(1.8) + 0.1 * math.log(0.2), 1e-12)

# %% [markdown]
# The same for two Gaussians, where the closed form is
#
# $$\mathrm{KL}\big(\mathcal N(\mu_1,\sigma_1^2)\,\|\,\mathcal N(\mu_2,\sigma_2^2)\big)
#   = \log\frac{\sigma_2}{\sigma_1} + \frac{\sigma_1^2 + (\mu_1-\mu_2)^2}{2\sigma_2^2} - \frac12 .$$
#
# minigan integrates the densities numerically on a grid ($\int \approx \sum \cdot\,\Delta x$):

# %%
grid = np.linspace(-20.0, 20.0, 4001)
dx = grid[1] - grid[0]


def gaussian(mu, sigma):
    return t64(np.exp(-0.5 * ((grid - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi)))


def kl_gauss(m1, s1, m2, s2):
    return math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5


narrow, wide = gaussian(0.0, 1.0), gaussian(1.0, 2.0)
check("KL(N(0,1)‖N(1,4)) on a grid vs closed form", kl(narrow, wide).item() * dx,
      kl_gauss(0, 1, 1, 2), 1e-6)
check("KL(N(1,4)‖N(0,1)) on a grid vs closed form", kl(wide, narrow).item() * dx,
      kl_gauss(1, 2, 0, 1), 1e-6)

# %% [markdown]
# ## 3. Jensen–Shannon divergence
#
# Symmetrising through the mixture $m = \frac{p+q}{2}$ (notes 003):
#
# $$\mathrm{JSD}(p\,\|\,q) = \tfrac12\,\mathrm{KL}(p\,\|\,m) + \tfrac12\,\mathrm{KL}(q\,\|\,m),
#   \qquad 0 \le \mathrm{JSD} \le \log 2 .$$
#
# The bound is reached exactly when the supports are disjoint: then $m = p/2$ wherever
# $p > 0$, so each KL is $\log 2$. Lesson 01 shows the original GAN's value at the optimal
# discriminator is $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_{data}\|p_g)$: the generator
# minimises this JSD.

# %%
def jsd(p, q):
    m = (p + q) * 0.5
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


rng = np.random.default_rng(0)
for trial in range(5):
    a, b = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    value = jsd(t64(a), t64(b)).item()
    assert 0.0 <= value <= LOG2 and abs(value - jsd(t64(b), t64(a)).item()) < 1e-12
print("JSD of 5 random pairs: symmetric and within [0, log 2]")
check("JSD of disjoint supports = log 2", jsd(t64([0.3, 0.7, 0, 0]), t64([0, 0, 0.2, 0.8])).item(),
      LOG2, 1e-12)

# %% [markdown]
# ## 4. The shift experiment: JSD is flat, $W_1$ is not
#
# Take a bump $p$ of half-width $w$ centred at 0 and the same bump $q_\theta$ moved to
# $\theta$ — a generator whose samples are right in shape but in the wrong place. The bump is
# the triweight kernel $\frac{35}{32w}\big(1 - (x/w)^2\big)^3$ on $|x| < w$, zero outside: twice
# differentiable (so finite differences behave), and with a support that really ends, like
# real images and generated ones that live on thin, non-overlapping sets (notes 003: "두 분포가
# 안 겹칠 확률이 매우 높다", the two distributions very probably do not overlap).
#
# * For $\theta \ge 2w$ the supports are disjoint, so $\mathrm{JSD}(p\,\|\,q_\theta) = \log 2$ for
#   every such $\theta$: moving the generator closer does not change the loss, and its gradient
#   is exactly 0. (KL is worse: $+\infty$.)
# * The Wasserstein-1 (earth mover's) distance is the least average distance the mass of $p$
#   must travel to become $q$. In 1-D it is the area between the CDFs,
#
#   $$W_1(p, q) = \int \lvert F_p(x) - F_q(x)\rvert\,dx,$$
#
#   and for a translate it is simply the shift: $W_1(p, q_\theta) = \lvert\theta\rvert$, with
#   $\partial W_1/\partial\theta = 1$ however far apart the two are.
#
# Both are computed on a grid from the densities, with $\theta$ a tensor that requires grad,
# so autograd gives $\partial/\partial\theta$ of each. The CDF is a cumulative sum, written as a
# product with a lower-triangular matrix of ones.

# %%
W = 0.5
xs = np.linspace(-2.0, 6.0, 801)
dxs = xs[1] - xs[0]
cumulative = t64(np.tril(np.ones((len(xs), len(xs)))))  # F = cumulative @ masses
xs_t = t64(xs)


def bump(center):
    """The probability mass of each grid cell: density × Δx, normalised so it sums to 1
    exactly (the Riemann sum of the density is 1 only up to ~1e-8)."""
    u = (xs_t - center) * (1.0 / W)
    mass = (1.0 - u * u).relu() ** 3
    return mass / mass.sum()


def jsd_of_shift(theta):
    return jsd(bump(0.0), bump(theta))


def w1_of_shift(theta):
    gap = cumulative @ bump(0.0) - cumulative @ bump(theta)  # F_p − F_q on the grid
    return gap.abs().sum() * dxs


def value_and_slope(fn, theta):
    theta = t64([theta], requires_grad=True)
    value = fn(theta)
    (slope,) = minigan.grad(value, theta)
    return value.item(), slope.item()


for theta in (1.5, 3.0):  # supports [-w, w] and [θ-w, θ+w] are disjoint for θ ≥ 2w = 1
    j, dj = value_and_slope(jsd_of_shift, theta)
    w1, dw1 = value_and_slope(w1_of_shift, theta)
    check(f"JSD at θ={theta} (disjoint) = log 2", j, LOG2, 1e-9)
    check(f"∂JSD/∂θ at θ={theta}", dj, 0.0, 1e-12)
    check(f"W1 at θ={theta} = θ", w1, theta, 1e-6)
    check(f"∂W1/∂θ at θ={theta}", dw1, 1.0, 1e-5)

# %% [markdown]
# While the bumps overlap, the JSD does have a slope. Our autograd slope agrees with a
# central finite difference of the same grid computation:

# %%
theta0, eps = 0.4, 1e-6
_, dj = value_and_slope(jsd_of_shift, theta0)
with minigan.no_grad():
    fd = (jsd_of_shift(t64([theta0 + eps])).item()
          - jsd_of_shift(t64([theta0 - eps])).item()) / (2 * eps)
check("∂JSD/∂θ at θ=0.4: autograd vs finite difference", dj, fd, 1e-6)
assert dj > 0.1, "overlapping bumps: the JSD still has a useful slope"

# %% [markdown]
# The same $W_1$ from samples, the way a GAN sees distributions. In 1-D the optimal transport
# plan between two equal-size samples pairs them in sorted order, so
# $W_1 \approx \frac1n\sum_i \lvert x_{(i)} - y_{(i)}\rvert$. With real samples
# $x \sim \mathcal N(0,1)$ and generated ones $y = x' + \theta$ (fresh $x' \sim \mathcal N(0, 1)$),
# the estimate is $\theta$ up to sampling noise and, once every sorted pair is ordered, the
# slope is exactly 1.

# %%
n = 2000
real = minigan.randn(n, dtype="float64")
noise = minigan.randn(n, dtype="float64")
theta = t64([3.0], requires_grad=True)
fake = noise + theta
w1_samples = (real[np.argsort(real.numpy())] - fake[np.argsort(fake.numpy())]).abs().mean()
(slope,) = minigan.grad(w1_samples, theta)
check("W1 from 2000 samples vs θ = 3", w1_samples.item(), 3.0, 0.1)
check("∂W1/∂θ from samples", slope.item(), 1.0, 1e-12)

# %% [markdown]
# The whole curve: JSD saturates at $\log 2$ as soon as the supports separate; $W_1$ keeps
# growing linearly and keeps telling the generator which way to move. That is the argument
# for WGAN (lesson 05): replace the JSD the original GAN minimises by $W_1$.

# %%
thetas = np.linspace(0.0, 3.0, 16 if QUICK else 61)
with minigan.no_grad():
    jsds = [jsd_of_shift(t64([th])).item() for th in thetas]
    w1s = [w1_of_shift(t64([th])).item() for th in thetas]
check("max JSD over all shifts ≤ log 2", max(max(jsds) - LOG2, 0.0), 0.0, 1e-9)
check("W1(θ) = θ along the whole curve", np.array(w1s), thetas, 1e-6)

fig = Figure(figsize=(6.4, 4.0), dpi=100)
FigureCanvasAgg(fig)
ax = fig.add_subplot()
ax.plot(thetas, jsds, label=r"JSD$(p\,\|\,q_\theta)$")
ax.plot(thetas, w1s, label=r"$W_1(p, q_\theta)$")
ax.axhline(LOG2, color="0.6", linestyle="--", label="log 2")
ax.axvline(2 * W, color="0.8", linestyle=":", label="supports separate")
ax.set_xlabel("shift θ")
ax.set_ylabel("distance")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(f"{OUT}/jsd_vs_w1.png")
print(f"saved {OUT}/jsd_vs_w1.png")
