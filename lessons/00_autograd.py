# %% [markdown]
# # Lesson 00 — autograd: the chain rule by hand, then by the machine
#
# Every GAN in the notes is trained by gradient steps: the discriminator descends its loss,
# the generator descends (or ascends) its own (notes 004, "GAN 학습"). minigan computes
# those gradients by reverse-mode automatic differentiation. This lesson derives the
# gradients of a small network by hand, checks that `backward()` finds the same numbers,
# checks both against finite differences with `minigan.gradcheck`, and finally takes a
# *second* derivative by differentiating the backward pass itself — the "double backprop"
# that WGAN-GP's gradient penalty needs (lesson 06).
#
# Run it as `python lessons/00_autograd.py [--quick]`, or open it as a notebook.

# %%
import numpy as np

from _common import check, setup

import minigan

setup("00_autograd")  # nothing trains or draws here: --quick changes nothing
minigan.manual_seed(0)

# %% [markdown]
# ## 1. A two-layer MLP and its gradients, derived by hand
#
# A batch $X \in \mathbb{R}^{N\times D}$ goes through one hidden layer with tanh and a linear
# output, and the loss is the mean squared error against targets $t$:
#
# $$A = XW_1 + b_1,\qquad H = \tanh A,\qquad Y = HW_2 + b_2,\qquad
#   L = \frac{1}{N}\sum_{n}(Y_n - t_n)^2 .$$
#
# The chain rule, applied from the loss backwards (each line reuses the one above it):
#
# $$\frac{\partial L}{\partial Y} = \frac{2}{N}(Y - t),\quad
#   \frac{\partial L}{\partial W_2} = H^\top \frac{\partial L}{\partial Y},\quad
#   \frac{\partial L}{\partial b_2} = \sum_n \frac{\partial L}{\partial Y_n},\quad
#   \frac{\partial L}{\partial H} = \frac{\partial L}{\partial Y} W_2^\top,$$
#
# $$\frac{\partial L}{\partial A} = \frac{\partial L}{\partial H} \odot (1 - H^2),\quad
#   \frac{\partial L}{\partial W_1} = X^\top \frac{\partial L}{\partial A},\quad
#   \frac{\partial L}{\partial b_1} = \sum_n \frac{\partial L}{\partial A_n}.$$
#
# Below, these formulas are written in plain NumPy, with no autograd at all.

# %%
N, D, H = 5, 3, 4
rng = np.random.default_rng(0)
X = rng.standard_normal((N, D))
t = rng.standard_normal((N, 1))
W1, b1 = rng.standard_normal((D, H)), rng.standard_normal(H)
W2, b2 = rng.standard_normal((H, 1)), rng.standard_normal(1)


def by_hand(X, t, W1, b1, W2, b2):
    """The loss and its four gradients from the chain-rule formulas above (NumPy only)."""
    A = X @ W1 + b1
    Hid = np.tanh(A)
    Y = Hid @ W2 + b2
    L = np.mean((Y - t) ** 2)
    gY = 2.0 * (Y - t) / len(X)
    gW2, gb2 = Hid.T @ gY, gY.sum(axis=0)
    gH = gY @ W2.T
    gA = gH * (1.0 - Hid ** 2)
    gW1, gb1 = X.T @ gA, gA.sum(axis=0)
    return L, {"W1": gW1, "b1": gb1, "W2": gW2, "b2": gb2}


loss_hand, grads_hand = by_hand(X, t, W1, b1, W2, b2)

# %% [markdown]
# The same network with minigan tensors. `backward()` walks the recorded graph in reverse
# and accumulates $\partial L/\partial\theta$ into each leaf's `.grad`.

# %%
params = {name: minigan.tensor(value, dtype="float64", requires_grad=True)
          for name, value in {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items()}
Xt, tt = minigan.tensor(X, dtype="float64"), minigan.tensor(t, dtype="float64")


def mlp_loss(W1, b1, W2, b2):
    Y = (Xt @ W1 + b1).tanh() @ W2 + b2
    return ((Y - tt) ** 2).mean()


loss = mlp_loss(**params)
loss.backward()
check("loss (minigan vs NumPy)", loss.item(), loss_hand, 1e-12)
for name, p in params.items():
    check(f"dL/d{name}: backward() vs hand-derived", p.grad.numpy(), grads_hand[name], 1e-12)

# %% [markdown]
# ## 2. Finite differences: `minigan.gradcheck`
#
# A derivative is a limit, so it can be estimated without any calculus: for each element
# $\theta_i$, the central difference
# $\big(L(\theta + \varepsilon e_i) - L(\theta - \varepsilon e_i)\big)/2\varepsilon$ is
# accurate to $O(\varepsilon^2)$. In float64 with $\varepsilon = 10^{-5}$ (`gradcheck`'s
# default) the truncation error, of order $\varepsilon^2 = 10^{-10}$, and the rounding error,
# of order $10^{-16}/\varepsilon = 10^{-11}$, leave about 10 correct digits — enough to catch
# a gradient that is wrong by a thousandth. `minigan.gradcheck` does this for every
# input with `requires_grad=True` and raises a `GradcheckError` naming the worst element.

# %%
assert minigan.gradcheck(mlp_loss, list(params.values()))
print("gradcheck of the MLP loss: every gradient agrees with finite differences")

# %% [markdown]
# A checker is only worth something if it fails on a wrong gradient. Here is a new op,
# $y = \sin x$, written as a minigan `Function` the way every op in `minigan.functional`
# is: forward on raw arrays, backward with Tensor ops. The first version has the right
# derivative $\partial L/\partial x = \partial L/\partial y \cdot \cos x$; the second makes a
# classic slip ($\sin$ instead of $\cos$). `gradcheck` passes the first and rejects the second.

# %%
from minigan.autograd import Function
from minigan.backend import get_array_module


class Sin(Function):
    """y = sin x; ∂L/∂x = ∂L/∂y · cos x (cos written as sin(x + π/2), so it is a Sin again)."""

    def forward(self, x):
        return get_array_module(x).sin(x)

    def backward(self, gy):
        return gy * Sin()(self.inputs[0] + np.pi / 2)


class WrongSin(Sin):
    """The same forward with a wrong derivative, ∂L/∂x = ∂L/∂y · sin x."""

    def backward(self, gy):
        return gy * Sin()(self.inputs[0])


x = minigan.randn(6, dtype="float64", requires_grad=True)
assert minigan.gradcheck(lambda x: Sin()(x), [x])
assert minigan.gradgradcheck(lambda x: Sin()(x), [x])  # backward is Tensor ops: differentiable
try:
    minigan.gradcheck(lambda x: WrongSin()(x), [x], name="WrongSin")
    raise AssertionError("gradcheck accepted a wrong derivative")
except minigan.GradcheckError as error:
    print("gradcheck rejects the wrong backward, as it should:\n   ", error)

# %% [markdown]
# ## 3. Second derivatives by double backprop
#
# Because each op's backward is built from other ops, the gradient that
# `minigan.grad(L, θ, create_graph=True)` returns is itself a tensor with a graph, and can be
# differentiated again. The cheapest useful second-order quantity is the Hessian-vector
# product: for a fixed vector $v$,
#
# $$H v = \nabla_\theta \big( \nabla_\theta L \cdot v \big),$$
#
# one backward pass through the backward pass, without ever forming $H$.
#
# **A closed form first.** For least squares $L(w) = \frac{1}{N}\lVert Xw - t\rVert^2$ the
# gradient is $\frac{2}{N}X^\top(Xw - t)$ and the Hessian is the constant $\frac{2}{N}X^\top X$,
# so $Hv = \frac{2}{N}X^\top X v$ exactly.

# %%
w = minigan.tensor(rng.standard_normal((D, 1)), dtype="float64", requires_grad=True)
v = rng.standard_normal((D, 1))
least_squares = ((Xt @ w - tt) ** 2).mean()
(g,) = minigan.grad(least_squares, w, create_graph=True)
(hv,) = minigan.grad((g * minigan.tensor(v, dtype="float64")).sum(), w)
check("Hv of least squares vs 2/N XᵀX v", hv.numpy(), 2.0 / N * X.T @ X @ v, 1e-12)

# %% [markdown]
# **The MLP, against finite differences of the gradient.** For the tanh network there is no
# short closed form, but the directional derivative of the gradient is
#
# $$H v \approx \frac{\nabla L(\theta + \varepsilon v) - \nabla L(\theta - \varepsilon v)}
#   {2\varepsilon},$$
#
# computed here from the hand-derived gradients of section 1 (NumPy, no autograd), while
# minigan gets $Hv$ by double backprop. The vector $v$ has one block per parameter.

# %%
names = list(params)
vs = {name: rng.standard_normal(params[name].shape) for name in names}
loss = mlp_loss(**params)
first = minigan.grad(loss, [params[n] for n in names], create_graph=True)
directional = sum((g_ * minigan.tensor(vs[n], dtype="float64")).sum()
                  for g_, n in zip(first, names))
hvp = dict(zip(names, minigan.grad(directional, [params[n] for n in names])))

eps = 1e-5
plus = by_hand(X, t, **{n: params[n].numpy() + eps * vs[n] for n in names})[1]
minus = by_hand(X, t, **{n: params[n].numpy() - eps * vs[n] for n in names})[1]
for n in names:
    check(f"(Hv)_{n}: double backprop vs finite differences of the gradient",
          hvp[n].numpy(), (plus[n] - minus[n]) / (2 * eps), 1e-7)

# %% [markdown]
# `minigan.gradgradcheck` automates exactly this for every input: it gradchecks the function
# $\theta \mapsto v^\top \nabla L(\theta)$ that `create_graph=True` builds.

# %%
assert minigan.gradgradcheck(mlp_loss, list(params.values()))
print("gradgradcheck of the MLP loss: second derivatives agree with finite differences")

# %% [markdown]
# **One more closed form**, the classic: for $f(x) = x^3$, $f' = 3x^2$ and $f'' = 6x$, and
# the third derivative is the constant 6. Each `grad(..., create_graph=True)` adds one order.

# %%
x = minigan.tensor([1.5], dtype="float64", requires_grad=True)
(d1,) = minigan.grad(x ** 3, x, create_graph=True)
(d2,) = minigan.grad(d1, x, create_graph=True)
(d3,) = minigan.grad(d2, x)
check("d/dx x³ = 3x²", d1.item(), 3 * 1.5 ** 2, 1e-12)
check("d²/dx² x³ = 6x", d2.item(), 6 * 1.5, 1e-12)
check("d³/dx³ x³ = 6", d3.item(), 6.0, 1e-12)

# %% [markdown]
# ## 4. Gradients accumulate
#
# Like PyTorch, `backward()` *adds* into `.grad`. A GAN step calls backward on the
# discriminator's loss and then on the generator's; gradients left over from one would leak
# into the next, which is why training loops clear them (`zero_grad`) before each step.
# Two backward passes of the same loss give twice the gradient:

# %%
p = minigan.tensor([2.0], dtype="float64", requires_grad=True)
(p * p).backward()
(p * p).backward()
check("two backward() calls of p² at p=2: 2·(2p)", p.grad.item(), 2 * 2 * 2.0, 1e-12)

# %% [markdown]
# Summary: hand-derived gradients, `backward()`, `gradcheck`'s finite differences and the
# closed forms all agree, to the last digits float64 allows. Everything later in these
# lessons — the saturating generator gradient (01), the adjoint of convolution (02), the
# gradient penalty (06) — rests on this machinery.
