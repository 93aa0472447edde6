"""Unrolled GAN (Metz et al. 2017; notes 003, "Unrolled GAN"): G plays against the D of K
updates from now.

Notes 003: a GAN asked to learn several peaks learns one at a time, because G chases the
*current* D; the unrolled GAN trains G against the *future* D instead. With f(θ_G, θ_D) =
L_D the discriminator's loss (BCE on logits l = D(·; θ_D)),

    f(θ_G, θ_D) = E_x[softplus(−l(x))] + E_z[softplus(l(G(z)))],

D's K next updates on the same batch, θ_D⁰ = θ_D and θ_D^{k+1} = θ_D^k − η·u_k(∇_θ f(θ_G, θ_D^k)),
are functions of θ_G, and G minimises the surrogate

    f_K(θ_G, θ_D) = −f(θ_G, θ_D^K(θ_G, θ_D))      (G maximises D's loss K steps ahead)

    ∇_G f_K = −∂f/∂θ_G(θ_G, θ_D^K) − (∂θ_D^K/∂θ_G)ᵀ ∂f/∂θ_D(θ_G, θ_D^K).

The second term is what makes G see D's reaction: differentiating D's updates needs
∂/∂θ_G of ∇_θ f, so the K inner gradients are taken with ``create_graph=True`` and the
surrogate is differentiated through them (double backprop). ``--first-order`` drops it:
θ_D^K is treated as a constant of θ_G (only the first term, through G(z) in the fake
scores); the BENCHMARKS section reports the cosine between the two gradients. With K = 0,
f_0 = −f and ∇_G f_0 = ∇_G E_z[log(1 − D(G(z)))], the saturating minimax G gradient.

The inner update u_k is the real D's optimiser (Adam by default, as the reference code
of the paper unrolls it; ``--d-optimizer sgd`` makes both plain SGD): the unrolled
copies then predict what D will actually do next. Adam's moments m, v and step count t
start from the real optimiser's state (constants: they hold past batches) and are
carried through the K steps as differentiable tensors,

    m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  θ ← θ − η/(1 − β₁ᵗ) · m/(√v/√(1 − β₂ᵗ) + ε);

SGD: θ ← θ − ηg. The first unrolled step is then exactly the update the real D makes.
D is evaluated at θ_D^k with ``forward_with`` (its own forward, other tensors). Both
players update from the same (θ_G, θ_D), simultaneously as in the paper: D by one normal
step of its loss, G by its surrogate; the unrolled copies are discarded.

Recipe (the paper's 8-Gaussian ring): G and D are MLPs with 2 tanh hidden layers of 128,
z ~ N(0, I₂₅₆), batch 512, Adam β₁ = 0.5, D lr 1e-4, G lr 1e-3, K = 5.

>>> import minigan
>>> gan = Unrolled((2,), unroll=2, hidden=8, latent_dim=4)
>>> sorted(gan.step({"x": minigan.randn(6, 2)}))
['D(G(z))', 'D(x)', 'loss_D', 'loss_G']
>>> gan.sample(3).shape
(3, 2)
"""
import math

import numpy as np

from minigan import backend, optim
from minigan import functional as F
from minigan.autograd import Tensor, enable_grad, grad, is_grad_enabled
from minigan.functional.activation import sigmoid
from minigan.models.adversarial import AdversarialModel
from minigan.models.losses import d_loss_bce, score_stats
from minigan.models.networks import mlp
from minigan.models.options import Option
from minigan.nn.functional_call import forward_with

INNER = ("adam", "sgd")
# Added under Adam's √v of the unrolled steps: d√v/dv = 1/(2√v) is infinite at v = 0 (a
# parameter whose gradients were all exactly 0), and ∞ · 0 would poison the surrogate's
# gradient with NaN. √1e-30 = 1e-15 ≪ ε = 1e-8, so the step is Adam's to rounding.
SQRT_FLOOR = 1e-30


# ==================== one differentiable optimiser step ====================

def adam_step(theta, g, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8):
    """One Adam update as Tensor ops, differentiable in θ, g, m and v (``optim.Adam``'s
    arithmetic, in the same order):

        m' = β₁m + (1 − β₁)g,   v' = β₂v + (1 − β₂)g²,
        θ' = θ − γ/(1 − β₁ᵗ) · m' / (√v'/√(1 − β₂ᵗ) + ε)

    ∂θ'/∂θ = 1 (elementwise; θ enters g only through the caller's gradient), and with
    c = γ/(1 − β₁ᵗ), d = √v'/√(1 − β₂ᵗ) + ε, s = √(1 − β₂ᵗ):
        ∂θ'/∂g = −c[(1 − β₁)/d − m'(1 − β₂)g / (d² s √v')]   (per element).
    t is the step number of this update (from 1). Returns (θ', m', v').

    >>> import minigan
    >>> theta, g = minigan.tensor([1.0, -1.0]), minigan.tensor([0.5, -2.0])
    >>> new, m, v = adam_step(theta, g, 0 * g, 0 * g, t=1, lr=0.1)
    >>> [round(x, 5) for x in new.data.tolist()]       # first step: θ − γ sign(g)
    [0.9, -0.9]
    """
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * (g * g)
    denom = F.sqrt(v + SQRT_FLOOR) / math.sqrt(1 - b2 ** t) + eps
    return theta - (lr / (1 - b1 ** t)) * m / denom, m, v


def sgd_step(theta, g, lr):
    """θ' = θ − ηg; ∂θ'/∂θ = 1, ∂θ'/∂g = −η."""
    return theta - lr * g


# ==================== the model ====================

class Unrolled(AdversarialModel):
    """Unrolled GAN: G descends −L_D after K differentiable D updates; tanh MLPs, points."""
    name = "unrolled"
    data_kinds = ("points",)
    options = (
        Option("unroll", 5, "K: the D updates G looks ahead through (0: the plain minimax "
               "game, simultaneous updates)", least=0),
        Option("first_order", False, "treat the unrolled D as a constant of G (the "
               "surrogate gradient without the second-order term)"),
        Option("d_optimizer", "adam", "D's optimiser, which the unrolled steps imitate",
               choices=INNER),
        Option("d_lr", 1e-4, "D's learning rate η (also that of the unrolled steps)", above=0),
        Option("g_lr", 1e-3, "G's Adam learning rate", above=0),
        Option("beta1", 0.5, "Adam β₁ of G and D", least=0),
        Option("beta2", 0.999, "Adam β₂ of G and D", least=0),
        Option("latent_dim", 256, "size of the noise z", least=1),
        Option("hidden", 128, "units of the tanh hidden layers of G and D", least=1),
        Option("depth", 2, "tanh hidden layers of G and D", least=1),
    )

    def loss_family(self):
        return "minimax"  # K = 0: G's gradient is the minimax one (the logged D(·) are σ(l))

    def build_networks(self):
        hp = self.hp
        return (mlp(hp.latent_dim, self.num_features, hp.hidden, hp.depth),
                mlp(self.num_features, 1, hp.hidden, hp.depth))

    def build_optimizers(self):
        hp = self.hp
        d = (optim.Adam(self.D.parameters(), lr=hp.d_lr, betas=(hp.beta1, hp.beta2))
             if hp.d_optimizer == "adam" else optim.SGD(self.D.parameters(), lr=hp.d_lr))
        return {"G": optim.Adam(self.G.parameters(), lr=hp.g_lr, betas=(hp.beta1, hp.beta2)),
                "D": d}

    def generate(self, z, labels=None):
        return self.G(z)

    # ---- the unrolled objective ----
    def _inner_state(self, params):
        """The real D optimiser's state per parameter as constants: Adam's (m, v, steps
        done), or None for SGD."""
        if self.hp.d_optimizer == "sgd":
            return None
        state = self.optimizers["D"].state
        xp = backend.get_array_module(params[0].data)
        return [(Tensor(state[p]["exp_avg"].copy()), Tensor(state[p]["exp_avg_sq"].copy()),
                 state[p]["step"]) if p in state else
                (Tensor(xp.zeros_like(p.data)), Tensor(xp.zeros_like(p.data)), 0)
                for p in params]

    def _inner_step(self, theta, grads, state):
        """θ^{k+1} (and the optimiser state after it) from θ^k and ∇_θ f(θ^k)."""
        hp = self.hp
        if state is None:
            return [sgd_step(p, g, hp.d_lr) for p, g in zip(theta, grads)], None
        new_theta, new_state = [], []
        for p, g, (m, v, t) in zip(theta, grads, state):
            p, m, v = adam_step(p, g, m, v, t + 1, hp.d_lr, (hp.beta1, hp.beta2))
            new_theta.append(p)
            new_state.append((m, v, t + 1))
        return new_theta, new_state

    def unrolled_objective(self, real, fake, unroll=None, first_order=None):
        """(f(θ_G, θ_D^K), ∇_θ f(θ_G, θ_D⁰), (D(x), D(G(z))) logits at θ_D⁰): D's loss after
        K unrolled updates on the batch (real, fake), the gradient of its loss now (D's
        own update) and its scores now. ``fake`` = G(z) with its graph; G minimises the
        negated first value. unroll, first_order: K and the variant (default: the options).
        """
        unroll = self.hp.unroll if unroll is None else unroll
        first_order = self.hp.first_order if first_order is None else first_order
        # The inner steps need ∇_θ f even when only the value is wanted (under no_grad, as
        # in evaluation or finite differences); their graph is kept only if it is recorded.
        exact = is_grad_enabled() and not first_order
        names, theta = zip(*self.D.named_parameters())
        theta, state = list(theta), self._inner_state(list(theta))
        # First-order: D's inner steps see a constant fake batch, so θ_D^K is no function
        # of θ_G; only the last loss reaches G, through its fake scores.
        inner_fake = fake if exact else fake.detach()
        with enable_grad():
            for k in range(unroll + 1):
                params = dict(zip(names, theta))
                real_logits = forward_with(self.D, params, real)
                fake_logits = forward_with(self.D, params, fake if k == unroll else inner_fake)
                loss = d_loss_bce(real_logits, fake_logits)
                if k == 0:
                    scores = (real_logits, fake_logits)
                    # K = 0: G's gradient is taken later through this same graph.
                    d_grads = grad(loss, theta, retain_graph=True,
                                   create_graph=exact and unroll > 0)
                    grads = d_grads
                elif k < unroll:
                    grads = grad(loss, theta, create_graph=exact)
                if k == unroll:
                    return loss, [Tensor(g.data) for g in d_grads], scores
                theta, state = self._inner_step(theta, grads, state)
                if not exact:
                    theta = [p.detach().requires_grad_() for p in theta]

    def generator_gradient(self, real, z, first_order=None, unroll=None):
        """∇_G of G's loss −f_K at the current state, for the noise z, as one flat float64
        NumPy vector (diagnostics: second- vs first-order cosine, finite differences)."""
        params = list(self.G.parameters())
        objective, _, _ = self.unrolled_objective(real, self.generate(z), unroll, first_order)
        return np.concatenate([backend.to_numpy(g.data).ravel().astype(np.float64)
                               for g in grad(-objective, params)])

    # ---- one training step ----
    def step(self, batch):
        """G's surrogate gradient and D's loss gradient at the same (θ_G, θ_D), then one
        update of each."""
        real = self.batch_field(batch, "x")
        fake = self.generate(self.noise(real.shape[0]))
        objective, d_grads, (real_logits, fake_logits) = self.unrolled_objective(real, fake)
        g_params, d_params = list(self.G.parameters()), list(self.D.parameters())
        g_grads = grad(-objective, g_params)
        for p, g in zip(g_params + d_params, list(g_grads) + d_grads):
            p.grad = Tensor(g.data)
        self.optimizers["D"].step()
        self.optimizers["G"].step()
        self.d_updates += 1
        self.g_updates += 1
        d_real, d_fake = score_stats(sigmoid(real_logits.detach()),
                                     sigmoid(fake_logits.detach()))
        return {"loss_D": float(d_loss_bce(real_logits.detach(), fake_logits.detach()).item()),
                "loss_G": -objective.item(), "D(x)": d_real, "D(G(z))": d_fake}
