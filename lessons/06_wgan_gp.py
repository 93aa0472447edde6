# %% [markdown]
# # Lesson 06 — WGAN-GP: the Lipschitz constraint as a penalty, trained by double backprop
#
# Lesson 05's critic was made Lipschitz by clipping its weights, which leaves it $K$-Lipschitz
# for some uncontrolled $K \ll 1$ and cripples its capacity. WGAN-GP (notes 002 "WGAN-GP",
# notes 000 "gradient penalty 설계") asks for what the duality really needs: a critic whose
# gradient has norm 1. A differentiable function is 1-Lipschitz exactly when
# $\lVert\nabla D\rVert \le 1$ everywhere, and the optimal critic has $\lVert\nabla D\rVert = 1$
# on the lines between real and generated samples. So the critic minimises
#
# $$L_D = \mathbb{E}[D(G(z))] - \mathbb{E}[D(x)]
#   + \lambda\,\mathbb{E}_{\hat x}\big[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2\big],
#   \qquad \hat x = \varepsilon x + (1-\varepsilon)\,G(z),\ \varepsilon \sim U[0, 1],$$
#
# with $\lambda = 10$, no weight clipping and no batch norm in the critic (notes 002: batch
# norm couples the samples of a batch, the penalty is per sample). The penalty contains a
# gradient, so training it needs the gradient *of a gradient* — double backprop, lesson 00.

# %%
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from _common import check, setup, train_steps

import minigan
from minigan import viz
from minigan.data import DataLoader, load_dataset
from minigan.models import get_model
from minigan.models.networks import mlp_discriminator
from minigan.models.losses import gradient_penalty

QUICK, OUT = setup("06_wgan_gp")
minigan.manual_seed(0)
LAM = 10.0

# %% [markdown]
# ## 1. A closed form: the linear critic
#
# For $D(x) = x^\top w$ the gradient is $w$ at every point, so
# $\mathrm{GP} = \lambda(\lVert w\rVert - 1)^2$ whatever the interpolates are, and its gradient
# with respect to the critic's weights is
#
# $$\frac{\partial\,\mathrm{GP}}{\partial w}
#   = 2\lambda\,(\lVert w\rVert - 1)\,\frac{w}{\lVert w\rVert}.$$
#
# minigan's `gradient_penalty` takes $\nabla_{\hat x}D$ with `create_graph=True`, so
# `minigan.grad(GP, w)` differentiates through that gradient:

# %%
w = minigan.tensor([[3.0], [4.0]], dtype="float64", requires_grad=True)   # ‖w‖ = 5
real, fake = minigan.randn(16, 2, dtype="float64"), minigan.randn(16, 2, dtype="float64")
gp, mean_norm = gradient_penalty(lambda x: x @ w, real, fake, lam=LAM)
check("GP of the linear critic = λ(‖w‖ − 1)²", gp.item(), LAM * (5 - 1) ** 2, 1e-9)
check("mean ‖∇D(x̂)‖ = ‖w‖", mean_norm, 5.0, 1e-9)
(g_w,) = minigan.grad(gp, w)
check("∂GP/∂w = 2λ(‖w‖ − 1) w/‖w‖", g_w.numpy(), 2 * LAM * (5 - 1) * np.array([[3.0], [4.0]]) / 5,
      1e-9)

# %% [markdown]
# ## 2. Double backprop through a real critic, against the penalty computed by hand
#
# For the critic WGAN-GP actually uses on 2-D points (an MLP $2\to h\to h\to 1$ with
# LeakyReLU(0.2)), $\nabla_{\hat x} D$ depends on every weight, and so does the penalty. To check
# minigan's double backprop we need the penalty from somewhere else. Here it is computed
# from its definition with NumPy alone:
#
# 1. the critic's forward pass, written out: $a_1 = W_1\hat x + b_1$, $h_1 = \mathrm{lrelu}(a_1)$,
#    $a_2 = W_2 h_1 + b_2$, $h_2 = \mathrm{lrelu}(a_2)$, $D = W_3 h_2 + b_3$, with
#    $\mathrm{lrelu}(a) = a$ for $a > 0$ and $0.2a$ otherwise;
# 2. each component of $\nabla_{\hat x} D$ by a central difference,
#    $\partial D/\partial\hat x_d \approx \big(D(\hat x + h e_d) - D(\hat x - h e_d)\big)/2h$ —
#    exact up to rounding here, because $D$ is piecewise linear in $\hat x$ (as long as no
#    unit switches sign within $h$);
# 3. $\mathrm{GP} = \lambda \cdot \frac1N\sum_n (\lVert\nabla D(\hat x_n)\rVert - 1)^2$.
#
# The interpolation weights $\varepsilon$ are random; both sides draw them from the same seed.
# First the values agree — to about $10^{-10}$, not to the last digit: `gradient_penalty`
# computes $\sqrt{\lVert\nabla D\rVert^2 + 10^{-12}}$, so that the square root stays
# differentiable where a dead critic has $\nabla D = 0$, and that shifts each norm by about
# $10^{-12}/(2\lVert\nabla D\rVert)$. Then minigan's $\partial\,\mathrm{GP}/\partial\theta$
# (double backprop) is compared, for *every* critic parameter $\theta$, with a central
# difference of the hand penalty in $\theta$.

# %%
critic = mlp_discriminator(2, hidden=6).double()
real, fake = minigan.randn(5, 2, dtype="float64"), minigan.randn(5, 2, dtype="float64")
minigan.manual_seed(1)
eps_interp = minigan.rand(5, 1, dtype="float64").numpy()   # the ε gradient_penalty will draw
x_hat = eps_interp * real.numpy() + (1 - eps_interp) * fake.numpy()


def critic_by_hand(weights, x):
    """The critic's forward pass in NumPy; ``weights`` = [W1, b1, W2, b2, W3, b3]."""
    h = x
    for W, b in zip(weights[0:-2:2], weights[1:-2:2]):
        a = h @ W.T + b
        h = np.where(a > 0, a, 0.2 * a)
    return h @ weights[-2].T + weights[-1]               # (N, 1)


def penalty_by_hand(weights, h=1e-3):
    """λ · mean (‖∇D(x̂)‖ − 1)², ∇D by central differences of the hand-written critic."""
    grad_D = np.stack([(critic_by_hand(weights, x_hat + h * e) -
                        critic_by_hand(weights, x_hat - h * e))[:, 0] / (2 * h)
                       for e in np.eye(2)], axis=1)  # (N, 2)
    return LAM * np.mean((np.linalg.norm(grad_D, axis=1) - 1) ** 2)


weights = [p.numpy() for p in critic.parameters()]
minigan.manual_seed(1)
gp, _ = gradient_penalty(critic, real, fake, lam=LAM)
check("gradient_penalty vs the penalty by hand", gp.item(), penalty_by_hand(weights), 1e-9)

# %% [markdown]
# Now the gradient. $b_3$ shifts $D$ without changing its slope, so
# $\partial\,\mathrm{GP}/\partial b_3 = 0$ (minigan reports an unused input as None:
# `allow_unused=True`).

# %%
g_double = minigan.grad(gp, list(critic.parameters()), allow_unused=True)
delta = 1e-5
for i, (name, param) in enumerate(critic.named_parameters()):
    numeric = np.zeros(param.shape)
    for index in np.ndindex(*param.shape):
        slopes = []
        for sign in (+1, -1):
            moved = [w.copy() for w in weights]
            moved[i][index] += sign * delta
            slopes.append(penalty_by_hand(moved))
        numeric[index] = (slopes[0] - slopes[1]) / (2 * delta)
    analytic = np.zeros(param.shape) if g_double[i] is None else g_double[i].numpy()
    check(f"∂GP/∂{name}: double backprop vs central differences of the hand penalty",
          analytic, numeric, 1e-6)

# %% [markdown]
# ## 3. Gradient norms heading to 1
#
# The `wgan-gp` variant (Adam with lr $10^{-4}$, $\beta = (0, 0.9)$, 5 critic steps per generator
# step) trains the critic on $L_D$ above. With $\lambda = 10$ the norm of $\nabla_{\hat x} D$
# should rise from the nearly flat initial critic to 1 and stay there; with $\lambda = 0$ — no
# constraint at all — the critic only maximises $\mathbb{E}[D(x)] - \mathbb{E}[D(G(z))]$, which it
# can inflate without bound by scaling itself up, so its gradient norm keeps growing.
#
# The norm is measured here independently of the penalty's code: at fresh interpolates
# $\hat x = \varepsilon x + (1-\varepsilon)G(z)$ (our own $\varepsilon$, real points and samples),
# by differentiating the critic's output alone, $\nabla_{\hat x}\sum_n D(\hat x_n)$ (the rows do
# not interact, so row $n$ of that gradient is $\nabla D(\hat x_n)$). The two runs start from
# the same seed — the same initial critic, the same batches — and differ only in $\lambda$.

# %%
ring = load_dataset("ring8:20000")
WGANGP = get_model("wgan-gp")
batch, steps = (64, 600) if QUICK else (256, 3000)
probe = np.random.default_rng(1)     # the measurement's own random numbers


def gradient_norms(gan, n=512):
    """‖∇D(x̂)‖ at n fresh interpolates, by autograd of the critic alone."""
    real = ring.points[probe.choice(len(ring), n)]
    with minigan.no_grad():
        fake = gan.sample(n).numpy()
    eps = probe.random((n, 1)).astype(np.float32)
    x_hat = minigan.tensor(eps * real + (1 - eps) * fake, requires_grad=True)
    (g,) = minigan.grad(gan.D(x_hat).sum(), x_hat)
    return np.linalg.norm(g.numpy(), axis=1)


runs, measured = {}, {}
for lam in (LAM, 0.0):
    minigan.manual_seed(0)
    gan = WGANGP((2,), lam=lam)
    at_start = gradient_norms(gan).mean()
    loader = DataLoader(ring, batch_size=batch, seed=0)
    history = train_steps(gan, loader, steps)
    runs[lam] = (gan, np.array([h["grad_norm"] for h in history]))
    measured[lam] = (at_start, gradient_norms(gan).mean())
    print(f"λ = {lam:4}: measured mean ‖∇D(x̂)‖ {at_start:.3f} at the start, "
          f"{measured[lam][1]:.3f} after {steps} critic steps "
          f"(the penalty's own log, last 50 steps: {runs[lam][1][-50:].mean():.3f})")

# %% [markdown]
# The thresholds come from runs with seeds 0–4. After 600 critic steps with batches of 64
# (`--quick`) the penalised critic measured 1.01–1.07 and the free one 5.4–7.6; after 3,000
# steps with batches of 256, 0.97–1.10 against 51–88. Both start below 0.12.

# %%
limit_free = 3.0 if QUICK else 20.0
for lam in (LAM, 0.0):
    assert measured[lam][0] < 0.5, f"λ={lam:g}: the freshly initialised critic is nearly flat"
check("λ=10: measured mean ‖∇D(x̂)‖ ≈ 1", measured[LAM][1], 1.0, 0.15)
print(f"λ=0: measured mean ‖∇D(x̂)‖ = {measured[0.0][1]:.3f} > {limit_free:g}")
assert measured[0.0][1] > limit_free, "without the penalty the gradient norm runs away"
penalised, free = runs[LAM][1], runs[0.0][1]

fig = Figure(figsize=(6.4, 4.0), dpi=100)
FigureCanvasAgg(fig)
ax = fig.add_subplot()
ax.semilogy(penalised, label=f"λ = {LAM:g}")
ax.semilogy(free, label="λ = 0 (no penalty)")
ax.axhline(1.0, color="0.5", linestyle="--", label="‖∇D‖ = 1")
ax.set_xlabel("critic step")
ax.set_ylabel(r"mean $\|\nabla_{\hat x} D(\hat x)\|$ (log scale)")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(f"{OUT}/grad_norms.png")
gan = runs[LAM][0]
samples = gan.sample(1000).numpy()
viz.save_scatter_2d(samples, f"{OUT}/ring8_samples.png", data=ring.points[:2000],
                    modes=ring.modes, title=f"WGAN-GP, {steps} critic steps")
print(f"saved {OUT}/grad_norms.png and ring8_samples.png")
