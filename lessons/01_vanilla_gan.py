# %% [markdown]
# # Lesson 01 — the vanilla GAN: the value function, the optimal discriminator, saturation
#
# Notes 004 walk through the original GAN paper: a discriminator $D$ that outputs the
# probability that its input is real, a generator $G$ that maps noise $z$ to samples, and
# the two-player game
#
# $$\min_G \max_D V(D, G) = \mathbb{E}_{x\sim p_{data}}[\log D(x)]
#   + \mathbb{E}_{z\sim p_z}[\log(1 - D(G(z)))] .$$
#
# (Notes 004 write it as a loss, $L = -V$: D *minimises* $\mathbb{E}[-\log D(x)]
# + \mathbb{E}[-\log(1 - D(G(z)))]$, the binary cross-entropy of notes 000 with label 1
# for real and 0 for fake.) This lesson checks the paper's three results numerically — the
# optimal discriminator, the value $-\log 4$ at the optimum, the saturating generator
# gradient — and then trains minigan's `vanilla` GAN, including the failure every GAN
# course shows: mode collapse on a ring of 8 Gaussians.

# %%
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from _common import check, setup, train_steps

import minigan
from minigan import nn, optim, viz
from minigan.data import DataLoader, load_dataset
from minigan.models import get_model
from minigan.models.losses import d_loss_bce, g_loss_minimax, g_loss_nonsaturating
from minigan.metrics import class_coverage, classify, fid, toy_metrics

QUICK, OUT = setup("01_vanilla_gan")
minigan.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The optimal discriminator $D^* = p_{data} / (p_{data} + p_g)$
#
# For a fixed $G$, write $V$ as one integral over $x$ (the fakes $G(z)$ have density $p_g$):
#
# $$V(D, G) = \int p_{data}(x)\log D(x) + p_g(x)\log(1 - D(x))\,dx .$$
#
# $D$ can choose its value at each $x$ separately, and $y \mapsto a\log y + b\log(1-y)$ has
# derivative $a/y - b/(1-y)$, zero at $y = a/(a+b)$ (and it is concave, so that is the
# maximum). Hence
#
# $$D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)} .$$
#
# We test it on 1-D Gaussians, $p_{data} = \mathcal N(0, 1)$ and $p_g = \mathcal N(1, 0.5^2)$.
# The log-odds of $D^*$ is $\log p_{data} - \log p_g$, a quadratic in $x$, so a
# discriminator $D(x) = \sigma(a x^2 + b x + c)$ (logistic regression on the features
# $x, x^2$) can represent $D^*$ exactly:
#
# $$\log\frac{D^*}{1 - D^*} = -\frac{x^2}{2} + \frac{(x - 1)^2}{2\cdot 0.5^2} + \log 0.5
#   = 1.5x^2 - 4x + 2 - \log 2 .$$
#
# We train it the way a GAN trains its $D$ — Adam on the BCE loss, fresh real and fake
# samples every step — and compare with the closed form.

# %%
MU, S = 1.0, 0.5


def p_data(x):
    return np.exp(-x ** 2 / 2) / math.sqrt(2 * math.pi)


def p_g(x):
    return np.exp(-(x - MU) ** 2 / (2 * S ** 2)) / (S * math.sqrt(2 * math.pi))


def features(x):
    return minigan.tensor(np.stack([x, x * x], axis=1))  # (n,) -> (n, 2)


D = nn.Linear(2, 1)                      # logit = b·x + a·x² + c
steps, batch, lr = 1500, 4096, 0.05
opt = optim.Adam(D.parameters(), lr=lr)
for step in range(steps):
    real, fake = rng.standard_normal(batch), MU + S * rng.standard_normal(batch)
    loss = d_loss_bce(D(features(real)), D(features(fake)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    opt.param_groups[0]["lr"] = lr * (1 - step / steps) + 1e-3  # anneal: less SGD noise

(b_learned, a_learned), c_learned = D.weight.numpy()[0], D.bias.numpy()[0]
print(f"learned log-odds: {a_learned:.3f} x² + {b_learned:.3f} x + {c_learned:.3f}")
check("learned a vs 1.5", a_learned, 1.5, 0.05)
check("learned b vs -4", b_learned, -4.0, 0.05)
check("learned c vs 2 - log 2", c_learned, 2 - math.log(2), 0.05)

xs = np.linspace(-1.5, 2.5, 81)
d_star = p_data(xs) / (p_data(xs) + p_g(xs))
with minigan.no_grad():
    d_learned = D(features(xs)).sigmoid().numpy()[:, 0]
check("trained D(x) vs D*(x) on [-1.5, 2.5]", d_learned, d_star, 0.01)

# %% [markdown]
# ## 2. The value at the optimum: $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_{data}\,\|\,p_g)$
#
# Substituting $D^*$ into $V$ and adding and subtracting $\log 2$ twice gives
#
# $$V(D^*, G) = -\log 4 + \mathrm{KL}\Big(p_{data}\,\Big\|\,\frac{p_{data}+p_g}{2}\Big)
#   + \mathrm{KL}\Big(p_g\,\Big\|\,\frac{p_{data}+p_g}{2}\Big) = -\log 4 + 2\,\mathrm{JSD} .$$
#
# So with a perfect discriminator the generator minimises the Jensen–Shannon divergence,
# whose minimum 0 is reached only at $p_g = p_{data}$; there $D^* \equiv \frac12$ and
# $V = 2\log\frac12 = -\log 4$. (Lesson 04 shows why the JSD is a poor guide when the two
# distributions do not overlap.) Both sides are integrated on a grid:

# %%
grid = np.linspace(-12.0, 12.0, 24001)
dx = grid[1] - grid[0]


def value(logit, p, q):
    """V(D, G) = ∫ p log D + q log(1 − D) dx for D = σ(logit), with log σ(l) = −softplus(−l)
    and log(1 − σ(l)) = −softplus(l), finite even where D rounds to 0 or 1."""
    return float(np.sum(-p * np.logaddexp(0, -logit) - q * np.logaddexp(0, logit)) * dx)


def jsd(p, q):
    m = (p + q) / 2
    return float(np.sum(0.5 * p * np.log(p / m) + 0.5 * q * np.log(q / m)) * dx)


P, Q = p_data(grid), p_g(grid)
optimal_logit = np.log(P) - np.log(Q)     # D* = P / (P + Q)
v_star = value(optimal_logit, P, Q)
check("V(D*, G) = -log 4 + 2 JSD", v_star, -math.log(4) + 2 * jsd(P, Q), 1e-9)
check("V(D*, G) at p_g = p_data: D* = 1/2", value(np.zeros_like(P), P, P), -math.log(4), 1e-9)
with minigan.no_grad():
    learned_logit = D(features(grid)).numpy()[:, 0].astype(np.float64)
v_learned = value(learned_logit, P, Q)
print(f"V(trained D, G) = {v_learned:.6f} <= V(D*, G) = {v_star:.6f}")
assert v_learned <= v_star, "no discriminator beats D*"

# %% [markdown]
# ## 3. Why the generator's minimax loss saturates (notes 004)
#
# $G$ minimises $\mathbb{E}[\log(1 - D(G(z)))]$. Early in training the fakes are bad, $D$
# rejects them, and $D(G(z)) = \sigma(l) \approx 0$ ($l$ the discriminator's logit). The
# gradient that reaches $G$ through the logit is
#
# $$\frac{\partial}{\partial l}\log(1 - \sigma(l)) = -\sigma(l) = -D(G(z)) \approx 0,$$
#
# so $G$ learns nothing exactly when it most needs to. The paper's fix, which notes 000 and
# 004 recommend ("초기에는 … D(G(z))를 최대화": early on, maximise D(G(z))), is the *non-saturating* loss
# $-\mathbb{E}[\log D(G(z))]$, with the same fixed point but the gradient
#
# $$\frac{\partial}{\partial l}\big(-\log \sigma(l)\big) = -(1 - \sigma(l)) = -(1 - D(G(z)))
#   \approx -1 .$$
#
# minigan's losses take the logit; autograd gives both slopes:

# %%
for d_of_fake in (0.5, 0.1, 0.01, 0.001):
    logit = minigan.tensor([math.log(d_of_fake / (1 - d_of_fake))], dtype="float64",
                           requires_grad=True)
    (slope_minimax,) = minigan.grad(g_loss_minimax(logit), logit)
    (slope_ns,) = minigan.grad(g_loss_nonsaturating(logit), logit)
    print(f"D(G(z)) = {d_of_fake:<6}  ∂/∂l minimax = {slope_minimax.item():+.4f}   "
          f"non-saturating = {slope_ns.item():+.4f}")
    check(f"minimax slope at D(G(z))={d_of_fake}", slope_minimax.item(), -d_of_fake, 1e-12)
    check(f"non-saturating slope at D(G(z))={d_of_fake}", slope_ns.item(),
          -(1 - d_of_fake), 1e-12)

# %% [markdown]
# The same through real networks. For one noise vector $z$, every parameter gradient of $G$
# is (that logit slope) × $\nabla_\theta l$, so the ratio of the two gradient norms is
# $\sigma(l)/(1-\sigma(l)) = e^{l}$: when $D$ is confident the fake is fake ($l = -6$,
# $D(G(z)) \approx 0.0025$), the minimax loss hands $G$ a gradient 400 times smaller.

# %%
G_net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)).double()
D_net = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1)).double()
z = minigan.randn(1, 4, dtype="float64")
with minigan.no_grad():
    shift = -6.0 - D_net(G_net(z)).item()
D_net[2].bias.data += shift               # make D reject this fake: logit = -6


def generator_grad_norm(loss_fn):
    grads = minigan.grad(loss_fn(D_net(G_net(z))), list(G_net.parameters()))
    return math.sqrt(sum(float((g.numpy() ** 2).sum()) for g in grads))


ratio = generator_grad_norm(g_loss_minimax) / generator_grad_norm(g_loss_nonsaturating)
check("‖∇G minimax‖ / ‖∇G non-saturating‖ = e^l at l = -6", ratio, math.exp(-6.0), 1e-9)

d_axis = np.linspace(0.005, 0.995, 199)
fig = Figure(figsize=(6.4, 4.0), dpi=100)
FigureCanvasAgg(fig)
ax = fig.add_subplot()
ax.plot(d_axis, np.log(1 - d_axis), label=r"minimax: $\log(1 - D(G(z)))$")
ax.plot(d_axis, -np.log(d_axis), label=r"non-saturating: $-\log D(G(z))$")
ax.axvspan(0.0, 0.1, color="0.9", label="early training: D rejects the fakes")
ax.set_xlabel("D(G(z))")
ax.set_ylabel("generator loss (minimised)")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(f"{OUT}/generator_losses.png")
print(f"saved {OUT}/generator_losses.png")

# %% [markdown]
# ## 4. The algorithm: $k$ discriminator steps per generator step
#
# Algorithm 1 of the paper (notes 004, "GAN algorithm"): repeat — $k$ times, sample a real
# batch and a noise batch and take a gradient step on $D$; then sample a noise batch and take
# one step on $G$. A larger $k$ keeps $D$ closer to $D^*$, so $G$ descends something closer to
# the JSD of section 2; the notes remark that $k = 1$ is often the most stable and that no
# value is proven best. minigan's variants take `k`, and `step()` runs one $D$ update plus a
# $G$ update after every $k$-th one:

# %%
Vanilla = get_model("vanilla")
gan = Vanilla((2,), k=3, latent_dim=2)
for _ in range(6):
    logged = gan.step({"x": minigan.randn(16, 2)})
    print(sorted(logged))
check("k=3: D updates after 6 steps", gan.d_updates, 6, 0)
check("k=3: G updates after 6 steps", gan.g_updates, 2, 0)

# %% [markdown]
# ## 5. An MLP GAN on the ring of 8 Gaussians
#
# The standard test of whether a GAN covers a multi-modal distribution: 8 Gaussians of
# std 0.02 on a circle of radius 2 (`ring8`). The `vanilla` variant is the notes' MLP pair
# (one hidden layer of 128 units, LeakyReLU(0.2) in $D$, Adam with $\beta = (0.5, 0.999)$)
# with the non-saturating generator loss; for this toy the learning rate is raised to
# $10^{-3}$ and the latent is 2-D, like the data. `minigan.metrics.toy_metrics` assigns each sample
# to its nearest mode: a mode is *covered* when at least 1 % of the samples lie within
# $3\sigma$ of it, and *high quality* is the share of samples that lie that close to some mode.
#
# At equilibrium $D(x) = D(G(z)) = \frac12$ and the discriminator's loss is
# $2\log 2 \approx 1.386$ (section 2); the log shows how close the run gets.

# %%
minigan.manual_seed(0)
ring = load_dataset("ring8:20000")
gan = Vanilla((2,), lr=1e-3, latent_dim=2, hidden=128)
loader = DataLoader(ring, batch_size=256, seed=0)
steps = 3000 if QUICK else 8000
history = train_steps(gan, loader, steps)

samples = gan.sample(2000).numpy()
scores = toy_metrics(samples, ring.modes, ring.std)
real_scores = toy_metrics(ring.points[:2000], ring.modes, ring.std)
last = {name: np.mean([h[name] for h in history[-200:]]) for name in history[-1]}
print(f"after {steps} steps: modes covered {scores['modes_covered']}/8, high quality "
      f"{scores['high_quality']:.2f}, samples per mode {scores['mode_counts']}")
print("mean of the last 200 logged values:", {k: round(float(v), 3) for k, v in last.items()})
check("the metric on real data: 8 of 8 modes covered", real_scores["modes_covered"], 8, 0)
assert all(np.isfinite(h["loss_D"]) and np.isfinite(h["loss_G"]) for h in history)

# %% [markdown]
# How far a run of this length gets, measured with seeds 0–9: after 3,000 steps (`--quick`)
# 6–8 modes are covered and the logged $D(x)$, $D(G(z))$ average 0.52–0.54 and 0.46–0.48;
# after 8,000 steps 7–8 modes, 0.47–0.72 of the samples of high quality. One seed in ten
# (seed 4) never gets going: its samples stay off the ring (0 modes even after 8,000 steps)
# and its discriminator keeps winning, $D(x) \approx 0.63$–$0.65$ and
# $D(G(z)) \approx 0.35$–$0.37$ — the checks below tell such a run from a working one.

# %%
check("D(x) near 1/2 at the end of training", last["D(x)"], 0.5, 0.1)
check("D(G(z)) near 1/2 at the end of training", last["D(G(z))"], 0.5, 0.1)
assert scores["modes_covered"] >= (5 if QUICK else 6), "this run covers (nearly) the whole ring"
if not QUICK:
    assert scores["high_quality"] > 0.3, "most samples sit on a mode"

viz.save_scatter_2d(samples, f"{OUT}/ring8_samples.png", data=ring.points[:2000],
                    modes=ring.modes, title=f"vanilla GAN, {steps} steps: "
                    f"{scores['modes_covered']}/8 modes")
viz.save_loss_curves(history, f"{OUT}/ring8_losses.png", smooth=50,
                     title="vanilla GAN on ring8")
print(f"saved {OUT}/ring8_samples.png and ring8_losses.png")

# %% [markdown]
# In the scatter the generated points sit on the modes *and* on thin threads between
# them: $G$ is a continuous map of a connected latent space, so it cannot tear its output
# into 8 separate islands; the best it can do is to make the bridges sparse. Those points
# are what "high quality" (within $3\sigma$ of a mode) leaves out.
#
# Lesson 08 takes the same game to a deeper generator and a smaller learning rate, where it
# fails in the way notes 002 and 003 describe: the generator collapses onto one mode and hops.
#
# ## 6. The same MLPs on MNIST digits
#
# The notes' networks are for $28\times28$ digits: $G$: $z$ (100) → 128 → 784 → tanh,
# $D$: 784 → 128 → 1. minigan ships 5,000 real MNIST digits, so this runs offline.

# %%
minigan.manual_seed(0)
digits = load_dataset("mnist5k", split="train")
_, real_features = classify(load_dataset("mnist5k", split="test").images)


def digit_scores(gan, n=500):
    """Classes drawn (≥ 5 % of the samples) and the classifier-FID to the test digits."""
    probs, features = classify(gan.sample(n).numpy())
    return class_coverage(probs.argmax(axis=1)), fid(real_features, features)


gan = Vanilla((1, 28, 28), lr=2e-4)
classes_before, fid_before = digit_scores(gan)
loader = DataLoader(digits, batch_size=64, seed=0)
steps = 1000 if QUICK else 6000
history = train_steps(gan, loader, steps)
classes, fid_after = digit_scores(gan)
print(f"classes drawn {classes_before} -> {classes}, classifier-FID {fid_before:.0f} -> "
      f"{fid_after:.0f} after {steps} steps")

# %% [markdown]
# The classifier and the FID are those of lesson 03 (98 % accurate on real digits; lower
# FID is closer to real digits). Measured with seeds 0–3: untrained, one class and FID
# 1,290–1,305; after 1,000 steps (`--quick`) 3 classes and FID 830–900; after 6,000 steps
# 6–8 classes and FID 277–310.

# %%
if QUICK:
    assert fid_after < 1000 and classes >= 2, "the samples left the untrained blob"
else:
    assert fid_after < 400 and classes >= 5, "most digit classes, close to real digits"

# %% [markdown]
# The generator's last layer is tanh, so images lie in $[-1, 1]$ like the training digits
# (scaled from 0–255). The same network written out in NumPy from its weights,
# $G(z) = \tanh\big(W_2\,\mathrm{relu}(W_1 z + b_1) + b_2\big)$, must give the same images —
# and its pre-activations $W_2 h + b_2$ leave $[-1, 1]$, so the tanh is doing real work.

# %%
z = gan.noise(64)
images = gan.sample(64, noise=z).numpy()
(W1, b1), (W2, b2) = [(layer.weight.numpy(), layer.bias.numpy()) for layer in (gan.G[0], gan.G[2])]
pre = np.maximum(z.numpy() @ W1.T + b1, 0) @ W2.T + b2        # (64, 784)
check("G(z) = tanh(W2 relu(W1 z + b1) + b2), by hand", images.reshape(64, -1), np.tanh(pre),
      1e-5)
print(f"pre-activations in [{pre.min():.2f}, {pre.max():.2f}]: "
      f"{(np.abs(pre) > 1).mean():.0%} of them outside [-1, 1]")
assert np.abs(pre).max() > 1, "the tanh squashes values that would leave [-1, 1]"
viz.save_image_grid(images, f"{OUT}/mnist_samples.png", nrow=8,
                    title=f"vanilla GAN (MLP), {steps} steps")
viz.save_loss_curves(history, f"{OUT}/mnist_losses.png", smooth=100,
                     title="vanilla GAN on MNIST")
print(f"saved {OUT}/mnist_samples.png and mnist_losses.png")
