# %% [markdown]
# # Lesson 16 — The variational autoencoder: a lower bound on log p(x), and its gradient
#
# A GAN's generator can draw digits but cannot say how probable a digit is: its density is
# *implicit*. An *explicit* model gives $\log p(x)$, or a bound on it, for any $x$ (notes
# 003, "Introduction": explicit vs implicit models). The VAE (notes 003, "VAE" and
# "Variational Lower Bound") is a latent-variable model
#
# $$z \sim p(z) = \mathcal N(0, I), \qquad x \sim p_\theta(x \mid z), \qquad
#   p_\theta(x) = \int p_\theta(x \mid z)\, p(z)\, dz .$$
#
# The integral has no closed form when $p_\theta(x\mid z)$ is a neural network, and neither
# has the posterior $p_\theta(z \mid x) = p_\theta(x\mid z)p(z)/p_\theta(x)$. An encoder
# therefore predicts a Gaussian $q_\phi(z\mid x) = \mathcal N(\mu_\phi(x),
# \operatorname{diag}\sigma^2_\phi(x))$ in its place, and for *every* $q$
#
# $$\log p(x) \;=\; \underbrace{\mathbb E_{q}\big[\log p(x\mid z)\big]
#   - \mathrm{KL}\big(q(z\mid x)\,\|\,p(z)\big)}_{\text{ELBO}(x;\,q)}
#   \;+\; \mathrm{KL}\big(q(z\mid x)\,\|\,p(z\mid x)\big).$$
#
# (Proof: $\log p(x) = \mathbb E_q[\log p(x)] = \mathbb E_q\big[\log \frac{p(x\mid z)p(z)}{q(z\mid x)}
# \cdot \frac{q(z\mid x)}{p(z\mid x)}\big]$ and split the logarithm.) The last KL is $\ge 0$
# but contains the unknown posterior, so the VAE maximises the computable part, the
# evidence lower bound (notes 003: "maximise the front part"). This lesson checks the three
# pieces: the KL term in closed form, the gradient of an expectation over $q$ (the
# reparameterisation), and the identity itself, by quadrature, on a model with one latent.

# %%
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from _common import check, setup

import minigan
from minigan import viz
from minigan.data import DataLoader, load_dataset
from minigan.models.likelihood import bits_per_dim, log_normal
from minigan.models.losses import gaussian_kl
from minigan.models.vae import VAE, reparameterize

QUICK, OUT = setup("16_vae")
minigan.manual_seed(0)
rng = np.random.default_rng(0)


def t64(a, grad=False):
    return minigan.tensor(np.asarray(a, dtype=np.float64), dtype="float64",
                          requires_grad=grad)


# %% [markdown]
# ## 1. The KL term in closed form, against Monte Carlo
#
# For one coordinate, $q = \mathcal N(\mu, \sigma^2)$ and $p = \mathcal N(0, 1)$:
#
# $$\mathrm{KL}(q\,\|\,p) = \mathbb E_q\Big[\log\tfrac{q(z)}{p(z)}\Big]
#  = \mathbb E_q\Big[-\tfrac12\log\sigma^2 - \tfrac{(z-\mu)^2}{2\sigma^2} + \tfrac{z^2}{2}\Big]
#  = \tfrac12\big(\mu^2 + \sigma^2 - 1 - \log\sigma^2\big),$$
#
# using $\mathbb E_q(z-\mu)^2 = \sigma^2$ and $\mathbb E_q z^2 = \mu^2 + \sigma^2$; the
# coordinates are independent, so the KL of $d$ of them is the sum. The encoder outputs
# $\log\sigma^2$ ("logvar"), so $\sigma^2 = e^{\text{logvar}} > 0$ needs no constraint, and
#
# $$\frac{\partial\,\mathrm{KL}}{\partial\mu} = \mu, \qquad
#   \frac{\partial\,\mathrm{KL}}{\partial\,\text{logvar}} = \tfrac12\,(e^{\text{logvar}} - 1).$$
#
# `minigan.models.losses.gaussian_kl` computes it per sample. The Monte Carlo estimate
# averages $\log q(z) - \log p(z)$ over draws $z \sim q$; it agrees within a few standard
# errors $s/\sqrt n$:

# %%
mu = np.array([[0.7, -1.2, 0.0]])
logvar = np.array([[-0.5, 0.4, 0.0]])
n_mc = 20_000 if QUICK else 400_000
z = mu + np.exp(logvar / 2) * rng.standard_normal((n_mc, 3))
terms = (log_normal(t64(z), t64(mu), t64(logvar)) - log_normal(t64(z), t64(0 * z), t64(0 * z))
         ).numpy()
closed = 0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar).sum()
kl = gaussian_kl(t64(mu, True), t64(logvar, True))
check("gaussian_kl = ½ Σ (μ² + σ² − 1 − log σ²)", kl.item(), closed, 1e-12)
se = terms.std() / math.sqrt(n_mc)
print(f"Monte Carlo: {terms.mean():.4f} ± {se:.4f} (n = {n_mc}), closed form {closed:.4f}")
check("Monte Carlo KL within 4 standard errors of the closed form",
      max(abs(terms.mean() - closed) - 4 * se, 0.0), 0.0, 0.0)
mu_t, logvar_t = t64(mu, True), t64(logvar, True)
g_mu, g_logvar = minigan.grad(gaussian_kl(mu_t, logvar_t).sum(), [mu_t, logvar_t])
check("∂KL/∂μ = μ", g_mu.numpy(), mu, 1e-12)
check("∂KL/∂logvar = ½(e^logvar − 1)", g_logvar.numpy(), 0.5 * (np.exp(logvar) - 1), 1e-12)

# %% [markdown]
# ## 2. The reparameterised gradient
#
# The first ELBO term is an expectation over $q$, whose parameters we differentiate:
# $\nabla_{\mu,\sigma}\,\mathbb E_{z\sim\mathcal N(\mu,\sigma^2)}[f(z)]$. Sampling $z$ and
# calling `backward` cannot work as it stands: a sample is not a differentiable function of
# $\mu$. Writing the same random variable as
#
# $$z = \mu + \sigma\,\varepsilon,\qquad \varepsilon \sim \mathcal N(0, 1)$$
#
# moves the randomness into $\varepsilon$, which has no parameters, so
# $\nabla_\mu \mathbb E_\varepsilon[f(\mu + \sigma\varepsilon)] = \mathbb E_\varepsilon[f'(z)]$
# and $\nabla_{\text{logvar}} = \mathbb E_\varepsilon[f'(z)\,\tfrac12\sigma\varepsilon]$: the
# chain rule through $z$, which autograd does. The alternative that needs no derivative of
# $f$, the score-function (REINFORCE) estimator
# $\nabla_\mu \mathbb E_q[f] = \mathbb E_q\big[f(z)\,\tfrac{z-\mu}{\sigma^2}\big]$, is unbiased
# too but far noisier. With $f(z) = (z - 2)^2$, $\mathbb E_q f = (\mu - 2)^2 + \sigma^2$, so
# $\partial/\partial\mu = 2(\mu - 2)$ and $\partial/\partial\,\text{logvar} = \sigma^2$:

# %%
mu0, logvar0 = 0.5, math.log(0.8)
n_eps = 20_000 if QUICK else 200_000
eps = t64(rng.standard_normal((n_eps, 1)))
mu_t, logvar_t = t64([[mu0]] * n_eps, True), t64([[logvar0]] * n_eps, True)
zs = reparameterize(mu_t, logvar_t, eps)
per_sample = ((zs - 2) ** 2)                             # f(z) for each ε
g_mu, g_logvar = minigan.grad(per_sample.sum(), [mu_t, logvar_t])   # per-sample gradients
g_mu, g_logvar = g_mu.numpy().ravel(), g_logvar.numpy().ravel()
sigma2 = math.exp(logvar0)
check("reparameterised ∂/∂μ ≈ 2(μ − 2)", g_mu.mean(), 2 * (mu0 - 2),
      4 * g_mu.std() / math.sqrt(n_eps))
check("reparameterised ∂/∂logvar ≈ σ²", g_logvar.mean(), sigma2,
      4 * g_logvar.std() / math.sqrt(n_eps))
z_np = zs.numpy().ravel()
score = (z_np - 2) ** 2 * (z_np - mu0) / sigma2
check("score-function ∂/∂μ ≈ 2(μ − 2) too", score.mean(), 2 * (mu0 - 2),
      4 * score.std() / math.sqrt(n_eps))
print(f"per-sample std of ∂/∂μ: reparameterised {g_mu.std():.2f}, score function "
      f"{score.std():.2f}")
check("the reparameterised estimate is the less noisy one",
      float(g_mu.std() < score.std()), 1.0, 0.0)

# %% [markdown]
# ## 3. log p(x) = ELBO + KL(q ‖ p(z|x)), by quadrature
#
# A model with one latent number lets every term be computed on a grid. Take
#
# $$p(z) = \mathcal N(0, 1), \qquad p(x\mid z) = \mathcal N(x;\ z^2,\ s^2),\ s = 0.5 .$$
#
# For $x = 1.5$ the posterior has two modes, near $z = \pm\sqrt{1.5}$, of exactly equal mass
# (the model cannot tell $z$ from $-z$). $\log p(x) = \log\int p(x\mid z)p(z)\,dz$ and
# $\mathrm{KL}(q\,\|\,p(z\mid x)) = \int q \log\frac{q}{p(z\mid x)}\,dz$ are integrals over
# one variable: the trapezoid rule on 200,001 points gives them to many digits.

# %%
S, X = 0.5, 1.5
grid = np.linspace(-10, 10, 200_001)


def integral(f):
    return (f[1:] + f[:-1]).sum() / 2 * (grid[1] - grid[0])


def log_gauss(v, m, var):
    return -0.5 * ((v - m) ** 2 / var + np.log(2 * np.pi * var))


log_joint = log_gauss(X, grid ** 2, S * S) + log_gauss(grid, 0.0, 1.0)
peak = log_joint.max()
log_px = peak + math.log(integral(np.exp(log_joint - peak)))
log_posterior = log_joint - log_px          # in logs: e^(−1000) would round to 0
posterior = np.exp(log_posterior)


def elbo_and_gap(m, lv):
    """ELBO(q) = E_q log p(x|z) − KL(q ‖ N(0, 1)) and KL(q ‖ p(z|x)), both by quadrature."""
    log_q = log_gauss(grid, m, math.exp(lv))
    q = np.exp(log_q)
    elbo = integral(q * log_gauss(X, grid ** 2, S * S)) - 0.5 * (m * m + math.exp(lv) - 1 - lv)
    return elbo, integral(q * (log_q - log_posterior))


print(f"log p(x = {X}) = {log_px:.6f}; posterior mass at z > 0: "
      f"{integral(posterior * (grid > 0)):.6f}")
for m, lv in [(0.0, 0.0), (1.2, -3.0), (-0.5, -1.0)]:
    elbo, gap = elbo_and_gap(m, lv)
    check(f"q = N({m}, e^{lv}): ELBO + KL(q ‖ p(z|x)) = log p(x)", elbo + gap, log_px, 1e-8)

# %% [markdown]
# Maximising the ELBO over $q$'s two numbers by gradient ascent, with the reparameterised
# gradient of a Monte Carlo ELBO (a fixed set of $\varepsilon$, so each step sees the same
# function) and minigan's Adam. The KL in the ELBO is $\mathrm{KL}(q\,\|\,\cdot)$, which is
# large wherever $q$ puts mass the posterior lacks: a Gaussian $q$ cannot cover two modes,
# so it settles on one, and the gap that remains is
# $\mathrm{KL}(q\,\|\,p(z\mid x)) \approx \log 2$: $q$ explains half the posterior mass.
# (The ELBO is not concave in $q$: by symmetry $\mu = 0$ is a stationary point, a wide $q$
# straddling both modes with a gap of about 1.6 nats, and an ascent started near it can
# stay there. We start on one side.)

# %%
eps = t64(rng.standard_normal((2000, 1)))
params = [t64([[0.8]], True), t64([[-1.0]], True)]
opt = minigan.optim.Adam(params, lr=0.05)
for step in range(150 if QUICK else 600):
    m_t, lv_t = params
    z_t = reparameterize(m_t, lv_t, eps)                 # (2000, 1), all from one q
    log_lik = -0.5 * ((X - z_t * z_t) ** 2 / (S * S) + math.log(2 * math.pi * S * S))
    loss = -(log_lik.mean() - gaussian_kl(m_t, lv_t).sum())   # −ELBO
    opt.zero_grad()
    loss.backward()
    opt.step()
m_opt, lv_opt = (p.item() for p in params)
elbo_opt, gap_opt = elbo_and_gap(m_opt, lv_opt)
print(f"q* = N({m_opt:.3f}, {math.exp(lv_opt):.4f}): ELBO {elbo_opt:.4f}, log p(x) "
      f"{log_px:.4f}, gap {gap_opt:.4f} (log 2 = {math.log(2):.4f})")
check("the gap at the optimum is at least log 2 (one mode of two)",
      max(math.log(2) - 0.01 - gap_opt, 0.0), 0.0, 0.0)
check("... and not much more: q* is a good fit of that one mode", gap_opt, math.log(2), 0.1)

# %% [markdown]
# The importance-weighted bound (Burda et al.) tightens the ELBO with $k$ samples of $q$:
#
# $$\log p(x) \;\ge\; \mathcal L_k = \mathbb E\Big[\log \frac1k\sum_{i=1}^k
#   \frac{p(x\mid z_i)\,p(z_i)}{q(z_i\mid x)}\Big] \;\ge\; \mathcal L_1 = \text{ELBO},
#   \qquad z_i \sim q,$$
#
# because $\frac1k\sum_i w_i$ is an unbiased estimate of $p(x)$ and $\log$ is concave. But
# it only reweights where $q$ puts samples: with $q^*$ on one mode, the weights estimate
# $\int_{z>0} p(x, z)\,dz = \tfrac12 p(x)$, so $\mathcal L_k$ climbs from the ELBO to
# $\log p(x) - \log 2$ and waits there (until $k$ is large enough to draw from the other
# mode at all: here $q^*(z < 0) \approx 10^{-7}$).

# %%
# The same 500 rows of 1,000 draws serve every k (the first k of each row), so the
# differences between the L_k are not drowned in sampling noise.
z = m_opt + math.exp(lv_opt / 2) * rng.standard_normal((500, 1000))
log_w = (log_gauss(X, z ** 2, S * S) + log_gauss(z, 0.0, 1.0)
         - log_gauss(z, m_opt, math.exp(lv_opt)))


def iwae(k):
    """L_k estimated as the mean over the rows of log (1/k) Σ_{i ≤ k} w_i."""
    part = log_w[:, :k]
    top = part.max(axis=1, keepdims=True)
    return float((top[:, 0] + np.log(np.exp(part - top).mean(axis=1))).mean())


ks = [1, 2, 5, 20, 100, 1000]
bounds = [iwae(k) for k in ks]
for k, b in zip(ks, bounds):
    print(f"  L_{k:<5d} = {b:.4f}")
check("L_1 is the ELBO", bounds[0], elbo_opt, 0.02)
check("L_k increases with k", float(np.all(np.diff(bounds) > 0)), 1.0, 0.0)
check("L_1000 ≈ log p(x) − log 2", bounds[-1], log_px - math.log(2), 0.01)

fig = Figure(figsize=(6.4, 3.6), dpi=100)
FigureCanvasAgg(fig)
ax = fig.add_subplot()
ax.plot(grid, posterior, label="posterior p(z | x = 1.5)")
ax.plot(grid, np.exp(log_gauss(grid, m_opt, math.exp(lv_opt))), label="q* (max ELBO)")
ax.set_xlim(-3, 3)
ax.set_xlabel("z")
ax.legend()
fig.tight_layout()
fig.savefig(f"{OUT}/posterior_vs_q.png")
print(f"saved {OUT}/posterior_vs_q.png")

# %% [markdown]
# ## 4. A VAE on binarised digits
#
# On images, $p(x\mid z)$ is a product of Bernoulli pixels, $b_i \sim \mathrm{Bernoulli}
# (\sigma(l_i))$ with $l = \mathrm{Dec}(z)$, so $-\log p(b\mid z) = \sum_i
# [\mathrm{softplus}(l_i) - b_i l_i]$. That is a probability only for binary pixels, so the
# digits are binarised (`mnist5k-bin`: a pixel is 1 where its intensity exceeds ½). The
# `vae` model (784-400-20 MLPs) minimises $-$ELBO with one $z$ per image and Adam; we report
# it on the 500 held-out digits in nats per digit, and in bits per pixel:
# $\text{bits/dim} = \text{nats} / (784 \ln 2)$. Both bounds are upper bounds on the true
# $-\log p(b)$; the importance-weighted one ($k = 200$) is the tighter.

# %%
train = load_dataset("mnist5k-bin")
test = load_dataset("mnist5k-bin", split="test")
if QUICK:
    train_x, epochs, k_iw, test_x = train.x[::9], 2, 20, test.x[:100]
else:
    train_x, epochs, k_iw, test_x = train.x, 40, 200, test.x
vae = VAE((1, 28, 28), iw_samples=k_iw)
loader = DataLoader(type(train)(train_x), batch_size=100, seed=0)
for epoch in range(epochs):
    for batch in loader:
        vae.step(batch)
bounds = vae.heldout(test_x)
elbo_nats, iwae_nats = bounds["nll_bound_elbo"], bounds[f"nll_bound_iwae{k_iw}"]
print(f"after {epochs} epochs, {len(test_x)} held-out digits of mnist5k-bin (threshold): "
      f"−ELBO {elbo_nats:.2f} nats ({bits_per_dim(elbo_nats, 784):.4f} bits/dim), "
      f"−IWAE_{k_iw} {iwae_nats:.2f} nats ({bits_per_dim(iwae_nats, 784):.4f} bits/dim)")
check("the importance-weighted bound is the tighter one", float(iwae_nats < elbo_nats), 1.0, 0.0)
check("bits/dim = nats / (784 ln 2)", bits_per_dim(elbo_nats, 784),
      elbo_nats / (784 * math.log(2)), 1e-12)
if not QUICK:
    check("the held-out −ELBO is near 100 nats (a small MLP VAE on binarised MNIST)",
          elbo_nats, 100.0, 8.0)
viz.save_image_grid(vae.sample(64).numpy(), f"{OUT}/vae_samples.png",
                    title="VAE: Bernoulli means 2σ(Dec(z)) − 1")
print(f"saved {OUT}/vae_samples.png")

# %% [markdown]
# The samples are the decoder's Bernoulli *means*, grey and blurred: the pixel-wise
# likelihood is maximised by the average of the digits a $z$ could stand for. Drawing the
# pixels ($b_i \sim \mathrm{Bernoulli}(\sigma(l_i))$, `vae.sample(n, draw=True)`) gives true
# samples of $p(b)$, speckled. VAE/GAN (`minigan train vaegan`) replaces the pixel
# likelihood by a distance in a discriminator's features to get sharp digits; PixelCNN
# (lesson 17) drops the latent variable and computes $\log p(b)$ exactly.
