"""Spectral normalisation (Miyato et al. 2018): layers whose weight is divided by its
largest singular value, so each is 1-Lipschitz (a GAN discriminator made of them is
K-Lipschitz, K the product of its activations' slopes, ≤ 1 for ReLU and LeakyReLU).

With W̄ the weight as a matrix (out, rest) — a convolution's (OC, C·KH·KW) — and σ(W̄) its
largest singular value, found by power iteration from a vector u kept between calls:

    v = W̄ᵀu / ‖W̄ᵀu‖,   u' = W̄v / ‖W̄v‖,   σ̂ = u'ᵀ W̄ v = ‖W̄v‖,   W_SN = W / σ̂.

One step per forward pass suffices because W changes little between updates, so u stays
close to the top left singular vector. u and v are constants of the graph (Algorithm 1 of
the paper), so

    ∂σ̂/∂W̄ = u' vᵀ,   ∂L/∂W = (G − ⟨G, W_SN⟩ ∂σ̂/∂W̄) / σ̂,   G = ∂L/∂W_SN

(the gradient loses its component along the top singular direction, scaled by σ̂). u is a
buffer: it is saved with the layer and updated in training mode only, so checkpoints
resume bit for bit and an eval-mode forward changes no state.

>>> import minigan, numpy as np
>>> layer = SNConv2d(1, 4, 3)
>>> for _ in range(30):                  # power iteration: one step per training forward
...     w = layer.normalized_weight().numpy().reshape(4, -1)
>>> round(float(np.linalg.svd(w, compute_uv=False)[0]), 3)
1.0
>>> layer(minigan.randn(2, 1, 5, 5)).shape
(2, 4, 3, 3)
"""
from minigan import backend
from minigan.autograd import Tensor, no_grad
from minigan.creation import randn
from minigan import functional as F
from minigan.nn.conv import Conv2d
from minigan.nn.linear import Linear

EPS = 1e-12   # keeps a zero weight's normalisation finite (u, v of norm 0 stay 0)


def power_iteration(matrix, u):
    """One power-iteration step on the array ``matrix`` (out, rest) from the unit vector
    ``u`` (out,): v = W̄ᵀu / ‖W̄ᵀu‖ and u' = W̄v / ‖W̄v‖, as arrays (u', v)."""
    xp = backend.get_array_module(matrix)
    v = matrix.T @ u                                      # (rest,)
    v = v / (xp.sqrt(v @ v) + EPS)
    u_new = matrix @ v                                    # (out,)
    return u_new / (xp.sqrt(u_new @ u_new) + EPS), v


def spectral_divide(weight, u, v):
    """W / σ̂ with σ̂ = uᵀ W̄ v, for constant vectors u (out,) and v (rest,) (arrays):
    differentiable in ``weight`` to any order, ∂σ̂/∂W̄ = u vᵀ. For the top singular vectors
    σ̂ is the largest singular value and u vᵀ its exact gradient, which is why treating
    u, v as constants (Miyato et al., Algorithm 1) is right once the iteration has settled.

    >>> import minigan, numpy as np
    >>> w = minigan.tensor([[3.0, 0.0], [0.0, 1.0]])
    >>> spectral_divide(w, np.array([1.0, 0.0]), np.array([1.0, 0.0])).numpy().tolist()
    [[1.0, 0.0], [0.0, 0.3333333432674408]]
    """
    matrix = weight.reshape(weight.shape[0], -1)          # (out, ...) -> (out, rest)
    wv = F.matmul(matrix, Tensor(v.astype(matrix.dtype)[:, None]))    # (out, 1): W̄v
    return weight / F.sum(Tensor(u.astype(matrix.dtype)[:, None]) * wv)


def spectral_normalize(weight, u):
    """(W / σ̂, u'): ``weight`` (out, ...) divided by its largest singular value estimated
    with one power-iteration step from ``u`` (out,) (see the module docstring), and the
    updated vector u' as an array.

    >>> import minigan
    >>> w = minigan.tensor([[3.0, 0.0], [0.0, 1.0]])
    >>> w_sn, u = spectral_normalize(w, minigan.tensor([1.0, 1.0]).data)
    >>> [round(float(a), 4) for a in w_sn.numpy().ravel()]  # one step: σ̂ = √8.2 ≈ 2.864
    [1.0476, 0.0, 0.0, 0.3492]
    """
    with no_grad():
        u_new, v = power_iteration(weight.data.reshape(weight.shape[0], -1), u)
    return spectral_divide(weight, u_new, v), u_new


class _SpectralWeight:
    """What the spectrally normalised layers share: the buffer u and ``normalized_weight``.
    Mixed in before the layer class, so the layer builds its weight first."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # u: a random unit vector of W's first axis, the power iteration's start
        u = randn(self.weight.shape[0], dtype=self.weight.dtype, device=self.weight.device)
        u.data /= backend.get_array_module(u.data).sqrt(u.data @ u.data)
        self.register_buffer("u", u)

    def normalized_weight(self):
        """W / σ̂(W); in training mode u moves one power-iteration step (kept in the
        buffer), in eval mode it stays."""
        w_sn, u_new = spectral_normalize(self.weight, self.u.data)
        if self.training:
            self.u.data[...] = u_new
        return w_sn

    def extra_repr(self):
        return super().extra_repr() + ", spectral_norm"


class SNConv2d(_SpectralWeight, Conv2d):
    """Conv2d with a spectrally normalised weight: y = conv2d(x, W / σ̂(W), b).

    Shape: as Conv2d; the buffer u has shape (out_channels,).
    """

    def forward(self, x):
        self._check_input(x)
        return F.conv2d(x, self.normalized_weight(), self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class SNLinear(_SpectralWeight, Linear):
    """Linear with a spectrally normalised weight: y = x (W / σ̂(W))ᵀ + b.

    Shape: as Linear; the buffer u has shape (out_features,).
    """

    def forward(self, x):
        return F.linear(x, self.normalized_weight(), self.bias)
