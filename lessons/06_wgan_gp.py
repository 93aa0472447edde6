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
from minigan.gan import get_variant
from minigan.gan.blocks import mlp_discriminator
from minigan.gan.losses import gradient_penalty

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
# $$\frac{\partial\,\mathrm{GP}}{\partial w} = 2\lambda\,(\lVert w\rVert - 1)\,\frac{w}{\lVert w\rVert}.$$
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
# ## 2. Double backprop through a real critic, checked by finite differences
#
# For the critic WGAN-GP actually uses on 2-D points (an MLP $2\to h\to h\to 1$ with
# LeakyReLU(0.2)), $\nabla_{\hat x} D$ depends on every weight, and so does the penalty.
# `minigan.gradcheck` compares the double-backprop gradient $\partial\,\mathrm{GP}/\partial\theta$
# with central differences of the penalty's *value*, for every critic parameter $\theta$.
# The interpolation weights $\varepsilon$ are random, so the penalty is evaluated with the
# same seed each time: the same $\varepsilon$, a deterministic function of $\theta$.

# %%
critic = mlp_discriminator(2, hidden=6).double()
real, fake = minigan.randn(5, 2, dtype="float64"), minigan.randn(5, 2, dtype="float64")


def penalty_of_weights(*params):
    """GP as a function of the critic's parameters (they are the critic's own tensors,
    which gradcheck perturbs in place); ε fixed by the seed."""
    minigan.manual_seed(1)
    return gradient_penalty(critic, real, fake, lam=LAM)[0]


assert minigan.gradcheck(penalty_of_weights, list(critic.parameters()))
print(f"gradcheck: ∂GP/∂θ by double backprop matches finite differences for all "
      f"{len(list(critic.parameters()))} critic tensors")

# %% [markdown]
# The same check by hand for one weight, to see the numbers: perturb it by $\pm\epsilon$,
# recompute the penalty, and compare the slope with the autograd gradient.

# %%
weight = critic[0].weight
minigan.manual_seed(1)
gp = gradient_penalty(critic, real, fake, lam=LAM)[0]
(g_weight,) = minigan.grad(gp, weight)
eps, original = 1e-6, float(weight.data[0, 0])
slopes = []
for sign in (+1, -1):
    weight.data[0, 0] = original + sign * eps
    with minigan.no_grad():
        slopes.append(penalty_of_weights().item())
weight.data[0, 0] = original
check("∂GP/∂W1[0,0]: double backprop vs central difference", g_weight.numpy()[0, 0],
      (slopes[0] - slopes[1]) / (2 * eps), 1e-6)

# %% [markdown]
# ## 3. Gradient norms heading to 1
#
# The `wgan-gp` variant (Adam with lr $10^{-4}$, $\beta = (0, 0.9)$, 5 critic steps per generator
# step) logs the mean $\lVert\nabla_{\hat x} D(\hat x)\rVert$ of each critic step as `grad_norm`.
# At initialisation the critic is nearly flat (norm ≈ 0.07). With $\lambda = 10$ the norm rises
# to 1 and stays there; with $\lambda = 0$ — no constraint at all — the critic only maximises
# $\mathbb{E}[D(x)] - \mathbb{E}[D(G(z))]$, which it can inflate without bound by scaling itself
# up, and its gradient norm keeps growing.

# %%
ring = load_dataset("ring8:20000")
WGANGP = get_variant("wgan-gp")
batch, steps = (64, 200) if QUICK else (256, 3000)
runs = {}
for lam in (LAM, 0.0):
    minigan.manual_seed(0)
    gan = WGANGP((2,), lam=lam)
    loader = DataLoader(ring, batch_size=batch, seed=0)
    history = train_steps(gan, loader, steps)
    runs[lam] = (gan, np.array([h["grad_norm"] for h in history]))
    norms = runs[lam][1]
    print(f"λ = {lam:4}: grad_norm at step 1 = {norms[0]:.3f}, mean of the last 50 steps = "
          f"{norms[-50:].mean():.3f}")

penalised, free = runs[LAM][1], runs[0.0][1]
check("λ=10: mean ‖∇D(x̂)‖ over the last 50 steps ≈ 1", penalised[-50:].mean(), 1.0, 0.1)
assert penalised[0] < 0.5, "the freshly initialised critic is far from norm 1"
if not QUICK:
    assert free[-50:].mean() > 2.0, "without the penalty the gradient norm runs away"

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
samples = gan.sample(gan.noise(1000)).numpy()
viz.save_scatter_2d(samples, f"{OUT}/ring8_samples.png", data=ring.points[:2000],
                    modes=ring.modes, title=f"WGAN-GP, {steps} critic steps")
print(f"saved {OUT}/grad_norms.png and ring8_samples.png")
