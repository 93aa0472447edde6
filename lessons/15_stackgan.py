# %% [markdown]
# # Lesson 15 — StackGAN: a sketch, then its refinement, and a condition drawn at random
#
# Notes 001 ("StackGAN", "Conditional + Stack GAN"): a text description goes to a stage-I
# generator that draws a low-resolution image (64×64 in the paper), and a stage-II
# generator turns it into a high-resolution one (256×256); noise and the embedded text are
# the input. minigan's `stackgan` does the same on 28×28 digits: the "text" is the class,
# given as a fixed random 32-d caption vector per class plus jitter; stage I draws 14×14,
# stage II refines it to 28×28.
#
# Notes 001 then say that Progressive GAN "came out because it is hard to make an image in
# one go, and proceeds in two steps". Two steps is StackGAN; lesson 14's Progressive GAN is
# one network growing through any number of resolutions. Section 1 shows the difference
# in the code.
#
# Objective of stage $i$ (D_i scores image–caption pairs, $\varphi$ the caption):
#
# $$L_{D_i} = -\mathbb{E}\log D_i(x, \varphi) - \tfrac12\big(\mathbb{E}\log(1 - D_i(x, \hat\varphi))
#   + \mathbb{E}\log(1 - D_i(s_i, \varphi))\big),\qquad
#   L_{G_i} = -\mathbb{E}\log D_i(s_i, \varphi) + \lambda_\text{KL}\,
#   \mathbb{E}\,\mathrm{KL}\big(\mathcal N(\mu_i, \sigma_i^2)\,\Vert\,\mathcal N(0, I)\big),$$
#
# with $\hat\varphi$ a caption of another class, $s_1 = G_1(z, c_1)$, $s_2 = G_2(\mathrm{up}(s_1),
# c_2)$ and $c_i = \mu_i(\varphi) + \sigma_i(\varphi)\odot\varepsilon$ (section 3).

# %%
import math

import numpy as np

from _common import check, setup

import minigan
from minigan import viz
from minigan.data import DataLoader, load_dataset
from minigan.metrics import classify, label_accuracy
from minigan.models.losses import d_loss_matching_aware, gaussian_kl
from minigan.models.progan import ProGAN
from minigan.models.stackgan import StackGAN
from minigan.nn.conditioning_augmentation import reparameterize

QUICK, OUT = setup("15_stackgan")
minigan.manual_seed(0)
digits = load_dataset("mnist5k")

# %% [markdown]
# ## 1. Two generators trained one after the other — not one network that grows
#
# StackGAN's two generators have separate parameters, separate discriminators, separate
# optimisers and separate losses. Stage I trains first; then stage II trains while stage I
# is **frozen**: one stage-II step leaves every stage-I parameter without a gradient.
# In Progressive GAN, a step after growing sends gradients into the *old* layers too:
# they are part of the one network being trained.

# %%
stack = StackGAN((1, 28, 28), 10, width=8, d_width=8, stage1_steps=1)
print("stackgan optimisers:", sorted(stack.optimizers))
batch = next(DataLoader(digits, 8, seed=0).batches())
stack.step(batch)                                  # stage I
stack.G.zero_grad()                                # .grad = None everywhere, then
stack.step(batch)                                  # stage II
stage1_grads = [p.grad for p in stack.G.stage_parameters(1)]
check("stage-II step: stage-I parameters received no gradient",
      all(g is None for g in stage1_grads), True, 0)
check("... stage II's did", all(p.grad is not None for p in stack.G.stage_parameters(2)),
      True, 0)

pro = ProGAN((1, 28, 28), width=8, latent_dim=8, stable_images=8, fade_images=8)
for step in range(3):                              # the third step grows to 14×14
    pro.G.zero_grad()
    logs = pro.step({"x": batch["x"]})
check("progan after growing: its level-0 layers still get gradients",
      all(p.grad is not None for p in pro.G.base.parameters()), True, 0)
print("progan optimisers:", sorted(pro.optimizers), "— one G, one D, at level", logs["level"])

# %% [markdown]
# ## 2. The captions
#
# A text embedding is a vector; captions of the same picture differ a little. The stand-in:
# class $y$ has a fixed random vector $e_y \sim \mathcal N(0, I_{32})$ (from a seed, so
# the table is the same every time the model is built) and each use adds jitter,
# $\varphi = e_y + 0.1\,\xi$, $\xi \sim \mathcal N(0, I)$.

# %%
caption = stack.condition
phi = caption.embed(minigan.tensor(np.full(4000, 3)), minigan.zeros(1)).numpy()
check("captions of class 3 scatter around e_3 with std 0.1", (phi - caption.table[3]).std(),
      0.1, 0.005)
check("the table is fixed by the seed",
      StackGAN((1, 28, 28), 10).condition.table, caption.table, 0)

# %% [markdown]
# ## 3. Conditioning augmentation and its KL
#
# StackGAN does not feed $\varphi$ to the generator. A linear layer maps it to a mean and a
# log-variance, and the generator gets a *sample*
#
# $$c = \mu(\varphi) + \sigma(\varphi)\odot\varepsilon,\quad \varepsilon\sim\mathcal N(0, I),$$
#
# so each caption stands for a small cloud of conditions rather than a point (with few
# captions, G sees a smoother space of conditions, and $c$'s randomness is extra variety).
# To keep the clouds from shrinking to points, G pays
#
# $$\mathrm{KL}\big(\mathcal N(\mu, \mathrm{diag}\,\sigma^2)\,\Vert\,\mathcal N(0, I)\big)
#   = \tfrac12\sum_j\big(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\big).$$
#
# Closed form against a Monte Carlo estimate of $\mathbb E_q[\log q(c) - \log p(c)]$:

# %%
mu, logvar = np.array([0.5, -1.2, 0.0, 2.0]), np.array([0.3, -0.7, 1.1, 0.0])
closed = gaussian_kl(minigan.tensor(mu[None], dtype="float64"),
                     minigan.tensor(logvar[None], dtype="float64")).item()
rng = np.random.default_rng(0)
n = 20_000 if QUICK else 400_000
sigma = np.exp(0.5 * logvar)
c = mu + sigma * rng.standard_normal((n, 4))
log_ratio = (-0.5 * ((c - mu) / sigma) ** 2 - np.log(sigma) + 0.5 * c ** 2).sum(axis=1)
print(f"KL closed form {closed:.4f}, Monte Carlo {log_ratio.mean():.4f} ± "
      f"{log_ratio.std() / math.sqrt(n):.4f}")
check("KL: closed form vs Monte Carlo (4 standard errors)", log_ratio.mean(), closed,
      4 * log_ratio.std() / math.sqrt(n))
check("KL = 0 exactly at μ = 0, log σ² = 0",
      gaussian_kl(minigan.zeros(1, 4), minigan.zeros(1, 4)).item(), 0.0, 0)

# %% [markdown]
# ## 4. The reparameterised gradient
#
# Training needs $\nabla_{\mu,\log\sigma^2}\,\mathbb E_c[f(c)]$ for the generator's loss
# $f$. Writing $c = \mu + \sigma\varepsilon$ with $\varepsilon$ drawn *outside* the
# parameters moves the gradient inside the expectation:
#
# $$\frac{\partial}{\partial\mu}\mathbb E_\varepsilon f(\mu + \sigma\varepsilon)
#   = \mathbb E_\varepsilon f'(c),\qquad
#   \frac{\partial}{\partial\log\sigma^2}\mathbb E_\varepsilon f(\mu + \sigma\varepsilon)
#   = \mathbb E_\varepsilon\big[f'(c)\,\tfrac12\sigma\varepsilon\big],$$
#
# and back-propagating through one sample gives an unbiased estimate. For $f(c) = c^2$,
# $\mathbb E f = \mu^2 + \sigma^2$: the derivatives are $2\mu$ and $\sigma^2$. The
# alternative without reparameterisation, the score-function estimator
# $f(c)\,\nabla\log q(c)$, is unbiased too, but noisier:

# %%
m0, lv0 = 0.7, -0.4
mu_t = minigan.tensor(np.full(n, m0), dtype="float64", requires_grad=True)
lv_t = minigan.tensor(np.full(n, lv0), dtype="float64", requires_grad=True)
eps = rng.standard_normal(n)
c = reparameterize(mu_t, lv_t, minigan.tensor(eps, dtype="float64"))
g_mu, g_lv = minigan.grad((c * c).sum(), [mu_t, lv_t])
g_mu, g_lv = g_mu.numpy(), g_lv.numpy()
tol = lambda g: 4 * g.std() / math.sqrt(n)        # noqa: E731
check("reparameterised ∂E[c²]/∂μ = 2μ", g_mu.mean(), 2 * m0, tol(g_mu))
check("reparameterised ∂E[c²]/∂log σ² = σ²", g_lv.mean(), math.exp(lv0), tol(g_lv))
c_np = m0 + math.exp(0.5 * lv0) * eps
score = c_np ** 2 * (c_np - m0) / math.exp(lv0)   # f(c) ∂log q(c)/∂μ
check("score-function ∂E[c²]/∂μ, also unbiased", score.mean(), 2 * m0, tol(score))
print(f"per-sample std of the two estimates of ∂/∂μ: reparameterised {g_mu.std():.3f}, "
      f"score function {score.std():.3f}")
check("the reparameterised estimate is the less noisy one", g_mu.std() < score.std(), True, 0)

# %% [markdown]
# ## 5. The matching-aware discriminator
#
# D judges (image, caption) pairs. Besides real pairs and generated images, it sees *real
# images with a caption of another class* as negatives. Without them, D could accept
# every real digit whatever the caption says, and G would have no reason to obey it. A D
# that ignores the caption gives a real image the same logit $l$ with either caption, and
# pays at least
#
# $$\min_l\ \mathrm{softplus}(-l) + \tfrac12\,\mathrm{softplus}(l)
#   = \log\tfrac32 + \tfrac12\log 3 \quad(\text{at } \sigma(l) = \tfrac23),$$
#
# while a D that reads the caption can drive both terms to 0:

# %%
logits = minigan.tensor(np.linspace(-6, 6, 2401)[:, None], dtype="float64")
never_fake = minigan.tensor([[-30.0]], dtype="float64")   # fakes out of the picture
blind = [d_loss_matching_aware(l, l, never_fake).item() for l in logits]
check("caption-blind D's floor = log 3/2 + ½ log 3", min(blind),
      math.log(1.5) + 0.5 * math.log(3), 1e-5)
check("its best logit has σ(l) = 2/3", 1 / (1 + math.exp(-logits.numpy()[np.argmin(blind), 0])),
      2 / 3, 1e-3)
reads = d_loss_matching_aware(minigan.tensor([[12.0]], dtype="float64"),
                              minigan.tensor([[-12.0]], dtype="float64"), never_fake)
check("a caption-reading D gets close to 0", reads.item(), 0.0, 1e-4)

# %% [markdown]
# ## 6. Training the two stages on the digits
#
# Stage I (14×14) trains first, then stage II (28×28) with stage I frozen. Samples of one
# z and caption per column: stage I's sketch (upsampled) above stage II's refinement. The
# metrics classifier then reads 500 samples of each stage; label accuracy is the share
# classified as the class asked for (chance: 0.1).
#
# The KL weight here is $\lambda_\text{KL} = 0.02$, not the paper's 1: ten captions need
# only $\log 10 \approx 2.3$ nats of information, and at weight 1 the KL took them away
# (stage-I label accuracy at chance); `benchmarks/stackgan.py` measures CA on against off.

# %%
steps1, steps2, batch = (6, 4, 8) if QUICK else (1500, 400, 32)
minigan.manual_seed(0)
gan = StackGAN((1, 28, 28), 10, stage1_steps=steps1)
batches = DataLoader(digits, batch, seed=0).batches()
for _ in range(steps1 + steps2):
    logs = gan.step(next(batches))
print("last step:", {k: round(v, 3) for k, v in logs.items()})
z = gan.noise(20)
labels = minigan.tensor(np.arange(20) % 10)
sketch, image = gan.sketches_and_images(z, labels)
viz.save_image_grid(np.concatenate([sketch.numpy(), image.numpy()]), f"{OUT}/stages.png",
                    nrow=10, row_labels=["I", "I", "II", "II"],
                    title="stage I (14×14, upsampled) and stage II (28×28), same z and caption")
asked = np.arange(500) % 10
sketches, images = gan.sketches_and_images(gan.noise(500), minigan.tensor(asked))
accuracy = {name: label_accuracy(classify(x.numpy())[0], asked)
            for name, x in (("stage I", sketches), ("stage II", images))}
print("label accuracy:", {k: round(v, 3) for k, v in accuracy.items()}, "(chance 0.1)")
if not QUICK:
    check("stage I follows the caption far above chance", accuracy["stage I"] > 0.3, True, 0)
print(f"saved {OUT}/stages.png")
