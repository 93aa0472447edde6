"""StackGAN's conditioning augmentation (Zhang et al. 2017; notes 001, "StackGAN"): the
condition enters the generator as a sample c ~ N(μ(φ), diag σ²(φ)), not as φ itself.

A text embedding φ (here a class's "caption", ``models.conditioning.CaptionEmbedding``)
is mapped by one linear layer to μ and log σ²; the generator sees

    c = μ + σ ⊙ ε,   ε ~ N(0, I),   σ = exp(½ log σ²)          (the reparameterisation)

and its loss gains λ_KL · E[KL(N(μ, σ²) ‖ N(0, I))] (``losses.gaussian_kl``), which keeps
σ from shrinking to 0. Few captions then cover a neighbourhood each instead of a point:
the conditioning manifold is smoother, and the random c is extra variety for G.

>>> import minigan
>>> ca = ConditioningAugmentation(32, 8)
>>> c, mu, logvar = ca(minigan.randn(4, 32))
>>> c.shape, mu.shape, logvar.shape
((4, 8), (4, 8), (4, 8))
"""
from minigan.creation import randn
from minigan.functional import exp
from minigan.nn.linear import Linear
from minigan.nn.module import Module


def reparameterize(mu, logvar, eps):
    """c = μ + exp(½ logvar) ⊙ ε, a sample of N(μ, diag e^{logvar}) written as a
    differentiable function of (μ, logvar) for a fixed draw ε ~ N(0, I):

        ∂c/∂μ = 1,   ∂c/∂logvar = ½ σ ⊙ ε   (σ = exp(½ logvar)),

    so ∂/∂μ E_ε[f(c)] = E_ε[f′(c)] and ∂/∂logvar E_ε[f(c)] = E_ε[f′(c) ½ σ ε]: the
    gradient of an expectation becomes the expectation of a gradient, estimated by
    back-propagating through one sample.

    >>> import minigan
    >>> reparameterize(minigan.tensor([1.0]), minigan.tensor([0.0]), minigan.tensor([2.0])).item()
    3.0
    """
    return mu + exp(0.5 * logvar) * eps


class ConditioningAugmentation(Module):
    """φ (N, E) -> (c, μ, log σ²), each (N, c_dim): [μ, log σ²] = Linear(E, 2·c_dim)(φ),
    c = μ + σ ⊙ ε (``reparameterize``).

    forward(phi, eps=None): ε drawn from minigan's generator when not given (pass it to
    make c a deterministic function, e.g. for gradient checks). With ``augment=False``
    the layer returns c = μ (no sampling), the "no CA" ablation; μ and log σ² are
    returned all the same.
    """

    def __init__(self, embed_dim, c_dim, augment=True):
        super().__init__()
        self.c_dim, self.augment = c_dim, augment
        self.fc = Linear(embed_dim, 2 * c_dim)

    def forward(self, phi, eps=None):
        h = self.fc(phi)                            # (N, E) -> (N, 2·c_dim)
        mu, logvar = h[:, :self.c_dim], h[:, self.c_dim:]
        if not self.augment:
            return mu, mu, logvar
        if eps is None:
            eps = randn(*mu.shape, dtype=mu.dtype, device=mu.device)
        return reparameterize(mu, logvar, eps), mu, logvar

    def extra_repr(self):
        return f"c_dim={self.c_dim}, augment={self.augment}"
