# %% [markdown]
# # Lesson 09 — one training step, exactly
#
# A GAN's training step is four lines of code, and each of them hides a decision about
# gradients: which network the discriminator's loss may change, what `backward()` adds to,
# which weights the generator's update may touch, and how big a step the optimiser takes.
# Get one wrong and training still runs — it just trains something else. This lesson takes a
# single step apart and checks each decision to the last digit, in float64:
#
# 1. `detach` in the discriminator's step, and what happens without it;
# 2. `zero_grad`, and the minimal loop of notes 004 that leaves it out;
# 3. freezing $D$ while $G$ trains (notes 002);
# 4. the discriminator loss $\frac12(\text{real} + \text{fake})$ of notes 002, and why Adam does
#    not care about the $\frac12$;
# 5. what `detach` really is (notes 000 describe it as a move from the GPU to the CPU; it is not).
#
# The step, as every GAN lesson so far writes it (lesson 01, with $l = $ D's logit and
# $\mathrm{sp}(u) = \log(1 + e^u)$, so that $-\log\sigma(l) = \mathrm{sp}(-l)$ and
# $-\log(1 - \sigma(l)) = \mathrm{sp}(l)$):
#
# $$L_D = \tfrac1N\textstyle\sum_n \mathrm{sp}(-l(x_n)) + \tfrac1N\sum_n \mathrm{sp}(l(G(z_n))),
#   \qquad L_G = \tfrac1N\sum_n \mathrm{sp}(-l(G(z_n))) .$$

# %%
import numpy as np

from _common import check, setup

import minigan
from minigan import nn, optim
from minigan.models.losses import d_loss_bce, g_loss_nonsaturating

setup("09_one_training_step")  # nothing trains for long here: --quick changes nothing
minigan.manual_seed(0)

# %% [markdown]
# Two small networks in float64: $G$: $z \in \mathbb{R}^3 \to 8 \to 2$ with ReLU, and
# $D$: $x \in \mathbb{R}^2 \to 8 \to 1$ with LeakyReLU(0.2), so that every gradient below can
# also be written by hand. One batch of 16 real points and 16 noise vectors.

# %%
G = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2)).double()
D = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)).double()
x = minigan.randn(16, 2, dtype="float64") + 1.0
z = minigan.randn(16, 3, dtype="float64")
N = len(x)


def grads(loss, module):
    """∇ of ``loss`` with respect to ``module``'s parameters, returned (nothing accumulates)."""
    return [g.numpy() for g in minigan.grad(loss, list(module.parameters()))]


def dot_grads(module):
    """The ``.grad`` of each parameter, as NumPy (None where backward() never reached it)."""
    return [None if p.grad is None else p.grad.numpy() for p in module.parameters()]


def snapshot(module):
    return [p.numpy().copy() for p in module.parameters()]

# %% [markdown]
# ## 1. `detach` in the discriminator's step
#
# $D$'s step should change $D$ only. But $L_D$ depends on $G$'s weights too, through the
# fakes $G(z)$, so `L_D.backward()` walks back into $G$ and *adds* $\nabla_G L_D$ to $G$'s
# `.grad`: a step down that gradient would make the fakes *easier to reject*, the opposite
# of $G$'s goal. `G(z).detach()` hands $D$ the same numbers without the graph behind them, and the
# walk stops there.

# %%
loss_D = d_loss_bce(D(x), D(G(z).detach()))
loss_D.backward()
print("G's .grad after the D step with detach:", [p.grad for p in G.parameters()])
assert all(p.grad is None for p in G.parameters()), "detach: no gradient reaches G"
with_detach = dot_grads(D)
D.zero_grad()

loss_D = d_loss_bce(D(x), D(G(z)))     # the same loss, with the graph into G
loss_D.backward()
for p, g in zip(G.parameters(), grads(d_loss_bce(D(x), D(G(z))), G)):
    check("without detach, G's .grad = ∇_G L_D (by minigan.grad)", p.grad.numpy(), g, 1e-12)
for p, g in zip(D.parameters(), with_detach):
    check("   and D's own gradient is the same with or without detach", p.grad.numpy(), g, 0)

# %% [markdown]
# The same $\nabla_G L_D$ for $G$'s last bias $c$, by hand. Write $l_n = D(f_n)$ for the fake
# $f_n = G(z_n)$; $f_n$ depends on $c$ as $f_n = \dots + c$, so $\partial f_n/\partial c = I$
# and by the chain rule
#
# $$\frac{\partial L_D}{\partial c} = \sum_n \frac{\partial L_D}{\partial l_n}\,\nabla_f D(f_n),
#   \qquad \frac{\partial L_D}{\partial l_n} = \frac{\sigma(l_n)}{N},\qquad
#   \nabla_f D(f) = W_1^\top\big(s \odot w_2\big),$$
#
# with $W_1, w_2$ D's two weight matrices and $s_j = 1$ where D's hidden unit $j$ is positive,
# $0.2$ where it is not (LeakyReLU's slope).

# %%
W1, b1 = D[0].weight.numpy(), D[0].bias.numpy()
w2 = D[2].weight.numpy()[0]
with minigan.no_grad():
    fakes = G(z).numpy()
a = fakes @ W1.T + b1                                     # (N, 8) hidden pre-activations
logits = np.where(a > 0, a, 0.2 * a) @ w2 + D[2].bias.numpy()[0]
slopes = np.where(a > 0, 1.0, 0.2)
grad_f = (slopes * w2) @ W1                               # (N, 2): row n is ∇_f D(f_n)
by_hand = ((1 / (1 + np.exp(-logits)) / N)[:, None] * grad_f).sum(axis=0)
check("G's last bias: ∂L_D/∂c by hand", G[2].bias.grad.numpy(), by_hand, 1e-12)
G.zero_grad()
D.zero_grad()

# %% [markdown]
# ## 2. `zero_grad`: gradients add up
#
# `backward()` *adds* into `.grad` (lesson 00). Notes 004 close with the minimal PyTorch loop
#
# ```python
# loss = criterion(D(x), 1) + criterion(D(G(z)), 0)      # train D
# loss.backward()
# d_optimizer.step()
# loss = criterion(D(G(z)), 1)                           # train G
# loss.backward()
# g_optimizer.step()
# ```
#
# which has neither `zero_grad` nor `detach`. Follow the gradients through one iteration:
# the first `backward()` leaves $\nabla_G L_D$ in $G$'s `.grad` (section 1), and the second adds
# $\nabla_G L_G$, so $G$ steps along
#
# $$\nabla_G L_D(D_0) + \nabla_G L_G(D_1)$$
#
# ($D_0$ the discriminator before its step, $D_1$ after) — a mix of its own gradient and its
# opponent's. $D$ fares no better: the second `backward()` also runs through $D$ and leaves
# $\nabla_D L_G$ there, on top of its own $\nabla_D L_D$; the next iteration's step then moves $D$
# along $\nabla_D L_D(D_0) + \nabla_D L_G(D_1) + \nabla_D L_D(D_1)$, where $\nabla_D L_G$ pulls $D$
# toward calling the fakes real. Below, each term is computed on its own with `minigan.grad`
# at the weights of the moment, and the loop's `.grad` is their sum.

# %%
opt_D = optim.Adam(D.parameters(), lr=0.01)     # the notes' optimisers
opt_G = optim.Adam(G.parameters(), lr=0.01)

# X_LYt: ∇_X L_Y, the gradient for network X of the loss L_Y, at D_t (and G_t)
D_LD0 = grads(d_loss_bce(D(x), D(G(z))), D)
G_LD0 = grads(d_loss_bce(D(x), D(G(z))), G)
loss = d_loss_bce(D(x), D(G(z)))                          # the notes' loop, iteration 1
loss.backward()
opt_D.step()
D_LG1 = grads(g_loss_nonsaturating(D(G(z))), D)
G_LG1 = grads(g_loss_nonsaturating(D(G(z))), G)
loss = g_loss_nonsaturating(D(G(z)))
loss.backward()
for p, a_, b_ in zip(G.parameters(), G_LD0, G_LG1):
    check("no zero_grad: G's .grad = ∇_G L_D(D0) + ∇_G L_G(D1)", p.grad.numpy(), a_ + b_, 1e-12)
opt_G.step()

D_LD1 = grads(d_loss_bce(D(x), D(G(z))), D)           # iteration 2 starts
loss = d_loss_bce(D(x), D(G(z)))
loss.backward()
for p, a_, b_, c_ in zip(D.parameters(), D_LD0, D_LG1, D_LD1):
    check("   D's .grad at its 2nd step = ∇_D L_D(D0) + ∇_D L_G(D1) + ∇_D L_D(D1)",
          p.grad.numpy(), a_ + b_ + c_, 1e-12)

# %% [markdown]
# The fix is one `zero_grad` before each `backward()` (plus `detach` in the D step, and
# the freezing of section 3 in the G step). Then $G$'s `.grad` is exactly $\nabla_G L_G$:

# %%
opt_D.zero_grad()
opt_G.zero_grad()
loss = g_loss_nonsaturating(D(G(z)))
loss.backward()
for p, g in zip(G.parameters(), grads(g_loss_nonsaturating(D(G(z))), G)):
    check("with zero_grad: G's .grad = ∇_G L_G", p.grad.numpy(), g, 1e-12)
G.zero_grad()
D.zero_grad()

# %% [markdown]
# ## 3. Freezing $D$ while $G$ trains
#
# Notes 002 (Keras) train $G$ through a combined model $z \mapsto D(G(z))$ whose optimiser
# holds *every* trainable weight, $D$'s too; unless $D$ is frozen first, $G$'s step would
# also move $D$ — toward calling the fakes real. minigan's (and PyTorch's) way to freeze is
# `requires_grad_(False)`: no gradient is recorded for $D$'s weights, so `.grad` stays None and
# the optimiser skips them. The gradient still flows *through* $D$ to $G$: freezing changes
# nothing in $G$'s gradient. Here one Adam optimiser holds both networks, as the combined
# model's does.

# %%
before_D, before_G = snapshot(D), snapshot(G)
expected_G = grads(g_loss_nonsaturating(D(G(z))), G)
combined = optim.Adam(list(G.parameters()) + list(D.parameters()), lr=0.01)

D.requires_grad_(False)
loss = g_loss_nonsaturating(D(G(z)))
loss.backward()
assert all(p.grad is None for p in D.parameters()), "frozen D: no .grad recorded"
for p, g in zip(G.parameters(), expected_G):
    check("frozen D: G's .grad is still ∇_G L_G", p.grad.numpy(), g, 1e-12)
combined.step()
D.requires_grad_(True)
assert all(np.array_equal(p.numpy(), q) for p, q in zip(D.parameters(), before_D)), \
    "frozen D is bitwise unchanged by G's step"
assert not any(np.array_equal(p.numpy(), q) for p, q in zip(G.parameters(), before_G)), \
    "G did move"
print("frozen: every weight of D bitwise unchanged, every tensor of G moved")

combined.zero_grad()
loss = g_loss_nonsaturating(D(G(z)))     # the same step with D not frozen
loss.backward()
combined.step()
moved = max(float(np.abs(p.numpy() - q).max()) for p, q in zip(D.parameters(), before_D))
print(f"not frozen: D's weights move by up to {moved:.4f}")
assert moved > 1e-3, "without freezing, the combined optimiser changes D"
combined.zero_grad()

# %% [markdown]
# ## 4. $\frac12(\text{real} + \text{fake})$, and why Adam ignores the $\frac12$
#
# Notes 002 report the discriminator's loss as $\frac12(L_{real} + L_{fake})$. Scaling a loss by
# $c$ scales every gradient by $c$ (the chain rule starts from $\partial(cL)/\partial L = c$);
# with $c = \frac12$, a power of two, even the floating-point numbers are exactly halved. Plain
# SGD ($\theta \leftarrow \theta - \gamma g$) therefore takes half the step. Adam does not: on its
# first step, with $m_0 = v_0 = 0$,
#
# $$m_1 = (1-\beta_1)g,\quad v_1 = (1-\beta_2)g^2,\quad
#   \hat m = \frac{m_1}{1-\beta_1} = g,\quad \hat v = \frac{v_1}{1-\beta_2} = g^2,\quad
#   \Delta\theta = -\gamma\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}
#   = -\gamma\,\frac{g}{|g| + \epsilon}.$$
#
# Replace $g$ by $cg$: $\Delta\theta_c = -\gamma\, cg/(c|g| + \epsilon)$. With $\epsilon = 0$ both
# are $-\gamma\,\mathrm{sign}(g)$: the scale cancels. With Adam's $\epsilon = 10^{-8}$ they
# differ by
#
# $$\Delta\theta_c - \Delta\theta = \gamma\,\mathrm{sign}(g)\,
#   \frac{(1 - c)\,|g|\,\epsilon}{(|g| + \epsilon)(c|g| + \epsilon)} \;\approx\;
#   \gamma\,\mathrm{sign}(g)\,\frac{(1-c)\,\epsilon}{c\,|g|},$$
#
# i.e. $\gamma\epsilon/|g|$ for $c = \frac12$: a change of about $10^{-10}$ in a step of $10^{-3}$
# when $|g| \approx 0.1$.
# (The same cancellation holds at every later step as long as the scale stays constant: $m$
# scales by $c$ and $\sqrt v$ by $c$.)

# %%
loss_full = d_loss_bce(D(x), D(G(z).detach()))
loss_half = 0.5 * (d_loss_bce(D(x), D(G(z).detach())))
g_full, g_half = grads(loss_full, D), grads(loss_half, D)
for a_, b_ in zip(g_full, g_half):
    check("½ L_D: every gradient exactly halved", b_, 0.5 * a_, 0)


def first_step(optimizer_class, gradients, **options):
    """The change of D's weights after one step of a fresh optimiser fed ``gradients``."""
    start = snapshot(D)
    opt = optimizer_class(D.parameters(), **options)
    for p, g in zip(D.parameters(), gradients):
        p.grad = minigan.tensor(g, dtype="float64")
    opt.step()
    change = [p.numpy() - s for p, s in zip(D.parameters(), start)]
    for p, s in zip(D.parameters(), start):   # put D back
        p.data[...] = s
        p.grad = None
    return change


# A step is read off as θ_after − θ_before; θ itself is rounded to its last bit (about
# 1e-16 for weights below 1), so steps are compared to that resolution.
lr, eps, resolution = 1e-3, 1e-8, 2.3e-16
sgd_full, sgd_half = first_step(optim.SGD, g_full, lr=lr), first_step(optim.SGD, g_half, lr=lr)
for a_, b_ in zip(sgd_full, sgd_half):
    check("SGD: the ½ halves the step", b_, 0.5 * a_, resolution)
adam_full = first_step(optim.Adam, g_full, lr=lr, eps=eps)
adam_half = first_step(optim.Adam, g_half, lr=lr, eps=eps)
for g, a_, b_ in zip(g_full, adam_full, adam_half):
    check("Adam's first step = −γ g/(|g| + ε)", a_, -lr * g / (np.abs(g) + eps), resolution)
    expected_gap = lr * np.sign(g) * 0.5 * np.abs(g) * eps / ((np.abs(g) + eps) *
                                                             (0.5 * np.abs(g) + eps))
    check("   with ½ L_D it differs only by γ(1−c)|g|ε/((|g|+ε)(c|g|+ε))", b_ - a_,
          expected_gap, resolution)
print(f"largest |Adam step(½ L_D) − Adam step(L_D)|: "
      f"{max(float(np.abs(b_ - a_).max()) for a_, b_ in zip(adam_full, adam_half)):.2e} "
      f"(steps of size {lr:g})")
for a_, b_ in zip(first_step(optim.Adam, g_full, lr=lr, eps=0.0),
                  first_step(optim.Adam, g_half, lr=lr, eps=0.0)):
    check("   and with ε = 0 the two first steps are bitwise equal", b_, a_, 0)

# %% [markdown]
# ## 5. What `detach` is
#
# Notes 000 describe `fake.detach()` as switching the tensor from the GPU to the CPU. It does
# not move anything. `detach()` returns a tensor that shares the *same* array — same memory,
# same device, same values — but has no creator (PyTorch's `grad_fn`) and does not require
# grad, so a backward pass that reaches it stops there (section 1). Moving between devices is
# a different operation, `.to(device)` / `.cpu()`, and it is differentiable: it keeps the graph.
# (The confusion probably comes from `x.detach().cpu().numpy()`, the usual way to get values
# out of PyTorch for plotting, where `.cpu()` does the moving.) On a machine with a CUDA GPU
# and CuPy the cell below runs on the GPU, and the detached tensor stays there.

# %%
device = "cuda" if minigan.cuda_available() else "cpu"
G.to(device)
fake = G(z.to(device))
cut = fake.detach()
print(f"fake:          device {fake.device}, requires_grad {fake.requires_grad}, "
      f"creator {type(fake.creator).__name__}")
print(f"fake.detach(): device {cut.device}, requires_grad {cut.requires_grad}, "
      f"creator {cut.creator}")
assert cut.data is fake.data, "detach shares the very same array: no copy"
assert cut.device == fake.device == device, "detach keeps the device"
assert fake.creator is not None and fake.requires_grad, "G's output is in the graph"
assert cut.creator is None and not cut.requires_grad, "detach cuts the graph"
G.to("cpu")

# %% [markdown]
# Summary of one correct step, in the order the variants of minigan run it:
#
# ```python
# fake = G(z)
# loss_D = d_loss(D(x), D(fake.detach()))   # detach: D's loss does not reach G
# opt_D.zero_grad(); loss_D.backward(); opt_D.step()
# D.requires_grad_(False)                   # freeze D: G's step leaves it alone
# loss_G = g_loss(D(fake))
# opt_G.zero_grad(); loss_G.backward(); opt_G.step()
# D.requires_grad_(True)
# ```
