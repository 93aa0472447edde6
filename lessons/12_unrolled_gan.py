# %% [markdown]
# # Lesson 12 — the unrolled GAN: G trains against the discriminator of K steps from now
#
# Notes 003 ("Unrolled GAN") explain mode collapse (lesson 08) by *who G plays against*:
# trained against the current $D$, $G$ moves all its mass to wherever $D$ is weakest, $D$
# follows, and $G$ hops from mode to mode. The fix of Metz et al. is to let $G$ see $D$'s
# reaction: $G$ is scored by the discriminator that $K$ more updates would produce.
#
# With $f(\theta_G, \theta_D)$ the discriminator's loss (BCE on logits $l = D(\cdot;\theta_D)$)
#
# $$f(\theta_G, \theta_D) = \mathbb{E}_x[\mathrm{softplus}(-l(x))]
#   + \mathbb{E}_z[\mathrm{softplus}(l(G(z)))],$$
#
# $D$'s next $K$ updates on the same batch are
#
# $$\theta_D^0 = \theta_D, \qquad
#   \theta_D^{k+1} = \theta_D^k - \eta\, u\big(\nabla_{\theta_D} f(\theta_G, \theta_D^k)\big),$$
#
# ($u$ the optimiser's direction: $u(g) = g$ for SGD, Adam's $\hat m / (\sqrt{\hat v} + \epsilon)$
# for Adam) and $G$ minimises the **surrogate**
# $f_K(\theta_G) = -f(\theta_G, \theta_D^K(\theta_G))$.
# Every $\theta_D^k$ depends on $\theta_G$, so by the chain rule
#
# $$\nabla_{\theta_G} f_K =
#   -\underbrace{\frac{\partial f}{\partial \theta_G}(\theta_G, \theta_D^K)}_{\text{first order}}
#   \;-\; \Big(\frac{d\theta_D^K}{d\theta_G}\Big)^{\!\top}
#   \frac{\partial f}{\partial \theta_D}(\theta_G, \theta_D^K).$$
#
# The second term needs $\partial/\partial\theta_G$ of $D$'s gradients: the inner gradients are
# taken with `create_graph=True` and differentiated again (double backprop, lesson 00).
# Many ports drop it (the *first-order* surrogate): $\theta_D^K$ is then a constant and only the
# fake scores carry $\theta_G$. This lesson checks the exact gradient four ways and then
# measures what the second term is worth.

# %%
import time

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from _common import check, setup

import minigan
from minigan import backend
from minigan.data import DataLoader, load_dataset
from minigan.metrics import toy_metrics
from minigan.models.losses import d_loss_bce, g_loss_minimax
from minigan.models.unrolled import Unrolled
from minigan.nn.functional_call import forward_with

QUICK, OUT = setup("12_unrolled_gan")
minigan.manual_seed(0)

# %% [markdown]
# ## 1. The model, in float64 for the checks
#
# `minigan.models.unrolled.Unrolled` is the model `python -m minigan train unrolled` trains.
# For exact checks we build small networks in float64 (finite differences need it) and
# take two real steps, so $D$'s optimiser has a state. `model.unrolled_objective(real, fake)`
# returns $f(\theta_G, \theta_D^K)$; `model.generator_gradient(real, z)` returns $\nabla_{\theta_G}$
# of $G$'s loss $-f(\theta_G, \theta_D^K)$ as one vector.

# %%
backend.set_default_dtype("float64")


def small_model(**options):
    model = Unrolled((2,), hidden=6, depth=2, latent_dim=3, **options)
    for _ in range(2):
        model.step({"x": minigan.randn(16, 2)})
    return model


real, z = minigan.randn(16, 2), minigan.randn(16, 3)

# %% [markdown]
# ## 2. K = 0 is the plain minimax gradient
#
# With no unrolling $f_0 = -f(\theta_G, \theta_D)$. The real-data term of $f$ does not depend on
# $\theta_G$, so $\nabla_{\theta_G} f_0 = \nabla_{\theta_G}\,\mathbb{E}_z[\log(1 - D(G(z)))]$:
# the saturating generator loss of the original GAN (lesson 01).

# %%
model = small_model(unroll=0)
plain = minigan.grad(g_loss_minimax(model.D(model.G(z))), list(model.G.parameters()))
plain = np.concatenate([g.numpy().ravel() for g in plain])
check("K = 0: ∇f_0 = ∇ E log(1 − D(G(z)))", model.generator_gradient(real, z), plain, 1e-12)

# %% [markdown]
# ## 3. K = 1 with SGD, by hand: the second term is a Hessian-vector product
#
# For one SGD step, $\theta_D^1 = \theta_D - \eta\,\nabla_{\theta_D} f(\theta_G, \theta_D)$, so
# $d\theta_D^1/d\theta_G = -\eta\, \partial^2 f / \partial\theta_D\,\partial\theta_G$ and
#
# $$\nabla_{\theta_G} f_1 = -\frac{\partial f}{\partial\theta_G}(\theta_G, \theta_D^1)
#   + \eta\, \Big(\frac{\partial^2 f}{\partial\theta_D\,\partial\theta_G}\Big)^{\!\top} v,
#   \qquad v = \frac{\partial f}{\partial\theta_D}(\theta_G, \theta_D^1).$$
#
# The mixed second derivative times $v$ is one more backward pass: differentiate
# $\langle \nabla_{\theta_D} f(\theta_G, \theta_D),\, v\rangle$ (with $v$ held constant) with
# respect to $\theta_G$. We build both parts by hand with `forward_with` (the network at
# other weights) and compare with the model.

# %%
ETA = 0.5
model = small_model(unroll=1, d_optimizer="sgd", d_lr=ETA)
names, theta0 = zip(*model.D.named_parameters())
g_params = list(model.G.parameters())


def f(theta, fake):
    params = dict(zip(names, theta))
    return d_loss_bce(forward_with(model.D, params, real), forward_with(model.D, params, fake))


fake = model.G(z)
grad0 = minigan.grad(f(theta0, fake), list(theta0), create_graph=True)   # ∇_D f at θ_D⁰
theta1 = [(p - ETA * g).detach().requires_grad_() for p, g in zip(theta0, grad0)]
loss1 = f(theta1, model.G(z))
first_part = minigan.grad(-loss1, g_params, retain_graph=True)          # −∂f/∂θ_G at θ_D¹
v = [g.detach() for g in minigan.grad(loss1, theta1)]                     # ∂f/∂θ_D at θ_D¹
mixed = minigan.grad(sum((g * w).sum() for g, w in zip(grad0, v)), g_params)
by_hand = np.concatenate([(a.numpy() + ETA * b.numpy()).ravel()
                          for a, b in zip(first_part, mixed)])
check("K = 1, SGD: model's ∇f_1 = first-order part + η·Hessian-vector product",
      model.generator_gradient(real, z), by_hand, 1e-10)
first_order = np.concatenate([a.numpy().ravel() for a in first_part])
check("... and the first-order part alone is the --first-order gradient",
      model.generator_gradient(real, z, first_order=True), first_order, 1e-12)

# %% [markdown]
# ## 4. The K-step gradient against finite differences
#
# For Adam, as the model trains by default, $u$ is not linear in the gradient and the
# moments $m, v$ change along the way, so there is no short formula. But $f_K$ is just a
# function of $\theta_G$: central differences of its *value* (all $K$ inner steps recomputed
# at $\theta_G \pm \varepsilon e_i$) must agree with the double-backprop gradient.
# `minigan.gradcheck` does exactly that, element by element. The first-order surrogate
# must fail it: it is the gradient of no function of $\theta_G$ that we evaluate.

# %%
for unroll in (1, 2, 3):
    model = small_model(unroll=unroll, d_lr=0.05)
    objective = (lambda *params: -model.unrolled_objective(real, model.G(z))[0])
    check(f"K = {unroll}, Adam: ∇f_K matches central differences",
          float(minigan.gradcheck(objective, list(model.G.parameters()), atol=1e-7,
                                  rtol=1e-4)), 1.0, 0)
model = small_model(unroll=2, d_lr=0.05, first_order=True)
objective = (lambda *params: -model.unrolled_objective(real, model.G(z))[0])
try:
    minigan.gradcheck(objective, list(model.G.parameters()), atol=1e-7, rtol=1e-4)
    first_order_fails = 0.0
except minigan.GradcheckError as error:
    print("first-order surrogate:", str(error)[:150], "...")
    first_order_fails = 1.0
check("the first-order surrogate fails the same check", first_order_fails, 1.0, 0)

# %% [markdown]
# ## 5. How far the unrolled gradient moves, as a function of η
#
# Each inner step moves $\theta_D$ by $O(\eta)$, so for small $\eta$ the unrolled gradient differs
# from the plain one by $O(\eta)$: $\lVert \nabla f_K - \nabla f_0\rVert \approx c_K\,\eta$, with
# $c_K$ growing with $K$. The part the first-order surrogate drops, $\lVert \nabla f_K -
# \nabla f_K^{\text{1st}}\rVert$, is $O(\eta)$ too — it starts with the $\eta\cdot$Hessian-vector
# product of section 3. On a log-log plot both are lines of slope 1 for small η. With SGD
# the whole computation is smooth in η, so we fit the slope over η ∈ [1e-4, 1e-2].

# %%
ETAS = np.logspace(-4, 0, 9)
deviations = {}
for unroll in (1, 3, 5):
    rows = []
    for eta in ETAS:
        minigan.manual_seed(3)
        model = Unrolled((2,), hidden=6, depth=2, latent_dim=3, unroll=unroll,
                         d_optimizer="sgd", d_lr=float(eta))
        exact = model.generator_gradient(real, z)
        rows.append((np.linalg.norm(exact - model.generator_gradient(real, z, unroll=0)),
                     np.linalg.norm(exact - model.generator_gradient(real, z,
                                                                     first_order=True))))
    deviations[unroll] = np.array(rows)
    print(f"K = {unroll}: ‖∇f_K − ∇f_0‖ / η at the smallest η: "
          f"{deviations[unroll][0, 0] / ETAS[0]:.4f}")
small_eta = ETAS <= 1e-2
for unroll in (1, 3, 5):
    slope = np.polyfit(np.log(ETAS[small_eta]), np.log(deviations[unroll][small_eta, 0]), 1)[0]
    check(f"K = {unroll}: log-log slope of ‖∇f_K − ∇f_0‖ vs η", slope, 1.0, 0.05)
    slope = np.polyfit(np.log(ETAS[small_eta]), np.log(deviations[unroll][small_eta, 1]), 1)[0]
    check(f"K = {unroll}: log-log slope of the dropped second-order part", slope, 1.0, 0.05)
ratio = deviations[5][0, 0] / deviations[1][0, 0]
print(f"at η = 1e-4 the K = 5 deviation is {ratio:.2f}× the K = 1 one")
check("small η: K steps deviate about K times as far as one", ratio, 5.0, 0.5)

fig = Figure(figsize=(6.4, 4.2), dpi=100)
FigureCanvasAgg(fig)
ax = fig.add_subplot()
for i, unroll in enumerate((1, 3, 5)):
    ax.loglog(ETAS, deviations[unroll][:, 0], "o-", color=f"C{i}",
              label=f"K = {unroll}: ‖∇f_K − ∇f_0‖")
    ax.loglog(ETAS, deviations[unroll][:, 1], "s--", color=f"C{i}",
              label=f"K = {unroll}: ‖∇f_K − first-order‖")
ax.loglog(ETAS, ETAS * deviations[5][0, 0] / ETAS[0], "k:", label="slope 1")
ax.set_xlabel("inner step size η (SGD)")
ax.set_ylabel("gradient difference")
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(f"{OUT}/deviation_vs_eta.png")
backend.set_default_dtype("float32")

# %% [markdown]
# ## 6. Training on the ring: K = 0 against K = 5
#
# The reference recipe (Metz et al.): $G$ and $D$ with two tanh layers of 128,
# $z \in \mathbb{R}^{256}$, batch 512, Adam with $\beta_1 = 0.5$, lr $10^{-4}$ for $D$ and
# $10^{-3}$ for $G$, on the ring of 8 Gaussians (radius 2, σ = 0.02). Both players update
# simultaneously from the same state; $D$'s update is the same in both runs, only $G$'s
# objective differs. We train the plain game ($K = 0$) and $K = 5$ from the same seed and
# count the modes holding at least 1 % of the samples within $3\sigma$ (`toy_metrics`).
#
# One step from the same state shows what "only $G$'s objective differs" means: $D$'s new
# parameters are the same for $K = 0$ and $K = 5$, exactly (its gradient is taken at
# $\theta_D^0$ in both; the unrolled copies are thrown away).
#
# The two training runs are an illustration, not a measurement, and the lesson checks
# nothing about their coverage: the number of covered modes moves up and down during
# training for both, and which run is ahead at a given step depends on the seed. Measured
# on three seeds (BENCHMARKS.md: coverage every 1,000 steps up to 5,000), $K = 5$ and
# $K = 10$ end with 8/8 modes on every seed and $K = 0$ on two of the three (6/8 on the
# third); averaged over the probes, $K = 0$ covers 4.8 modes, $K = 5$ 5.9 and $K = 10$ 6.0.
# That is a gap of about one mode, no larger than the spread between seeds, so a single
# run of each can come out either way.

# %%
ring = load_dataset("ring8")
one_step = {}
for unroll in (0, 5):
    minigan.manual_seed(1)
    gan = Unrolled((2,), unroll=unroll)
    gan.step(next(DataLoader(ring, 512, seed=1).batches(1)))
    one_step[unroll] = gan
d_gap = max(float(np.abs(a.data - b.data).max())
            for a, b in zip(one_step[0].D.parameters(), one_step[5].D.parameters()))
g_gap = max(float(np.abs(a.data - b.data).max())
            for a, b in zip(one_step[0].G.parameters(), one_step[5].G.parameters()))
print(f"after one step, K = 0 vs K = 5: D differs by {d_gap:.1e}, G by {g_gap:.1e}")
check("one step from the same state: D's update does not depend on K", d_gap, 0.0, 0)

# %%
STEPS = 10 if QUICK else 3000
results = {}
for unroll in (0, 5):
    minigan.manual_seed(1)
    gan = Unrolled((2,), unroll=unroll)
    started = time.process_time()
    for batch in DataLoader(ring, 512, seed=1).batches(STEPS):
        gan.step(batch)
    seconds = time.process_time() - started
    points = gan.sample(2000).numpy()
    results[unroll] = (points, toy_metrics(points, ring.modes, ring.std))
    print(f"K = {unroll}: {results[unroll][1]['modes_covered']}/8 modes, "
          f"{1000 * seconds / STEPS:.1f} ms per step")

fig = Figure(figsize=(8, 4), dpi=100)
FigureCanvasAgg(fig)
for i, unroll in enumerate((0, 5)):
    ax = fig.add_subplot(1, 2, i + 1)
    ax.scatter(ring.points[:2000, 0], ring.points[:2000, 1], s=2, color="0.75")
    ax.scatter(*results[unroll][0].T, s=2, alpha=0.5)
    ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal",
           title=f"K = {unroll}: {results[unroll][1]['modes_covered']}/8 modes, step {STEPS}")
fig.tight_layout()
fig.savefig(f"{OUT}/ring_k0_vs_k5.png")

# %% [markdown]
# ## Summary
#
# * $G$'s unrolled loss is $-f(\theta_G, \theta_D^K(\theta_G))$; its gradient has a first-order part
#   (through the fakes) and a second-order part (through $D$'s $K$ updates), which double
#   backprop computes exactly: for one SGD step it is $\eta$ times a Hessian-vector product.
# * $K = 0$ is the plain minimax gradient; the exact $K$-step gradient matches finite
#   differences of the $K$-step loss; the first-order surrogate does not.
# * Both the unrolled correction and the part the first-order surrogate drops grow like
#   $\eta$ (and about like $K$ for small $\eta$): the look-ahead only matters if $D$'s steps are
#   large enough to change its verdict.
