"""The layers of Progressive GAN (Karras et al. 2018; notes 001 and 003, "Progressive GAN"):
equalised learning rate, pixel norm, minibatch standard deviation, and the fade-in blend.

All are compositions of minigan's differentiable Tensor ops, so their gradients can be
differentiated again (WGAN-GP's penalty differentiates the critic through every one).

    EqualizedConv2d, EqualizedLinear   y = op(x, c·ŵ) + b,  ŵ ~ N(0, 1),  c = gain/√fan_in
    PixelNorm                          b = a / √(mean_c a² + ε)      (per pixel, over channels)
    MinibatchStdDev                    x with one more channel: the batch's mean std
    fade_in(old, new, α)               (1 − α)·old + α·new

>>> import minigan
>>> x = minigan.randn(4, 3, 5, 5)
>>> EqualizedConv2d(3, 8, 3, padding=1)(x).shape, PixelNorm()(x).shape
((4, 8, 5, 5), (4, 3, 5, 5))
>>> MinibatchStdDev(group_size=2)(x).shape                   # one channel more
(4, 4, 5, 5)
>>> fade_in(minigan.zeros(1), minigan.ones(1), 0.25).item()
0.25
"""
import math

from minigan import creation
from minigan.autograd import Tensor
from minigan.functional import broadcast_to, cat, conv2d, linear, mean, reshape, sqrt
from minigan.nn import init
from minigan.nn.module import Module, Parameter


# ==================== equalised learning rate ====================

class _Equalized(Module):
    """What the equalised layers share: the weight ŵ ~ N(0, 1), the runtime scale c and a
    bias initialised to 0 (not scaled)."""

    def _make(self, shape, fan_in, out_features, gain, bias, device, dtype):
        self.scale = gain / math.sqrt(fan_in)
        self.weight = Parameter(init.normal_(creation.zeros(*shape, dtype=dtype,
                                                            device=device)))
        if bias:
            self.bias = Parameter(creation.zeros(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)


class EqualizedConv2d(_Equalized):
    """Convolution with an equalised learning rate (Karras et al. 2018, section 4.1):

        y = conv2d(x, c·ŵ) + b,   ŵ ~ N(0, 1),   c = gain / √fan_in,  fan_in = C_in·KH·KW.

    The weight that acts, w = c·ŵ, has He's variance gain²/fan_in, as with He's
    initialisation; the difference is where the constant sits. Derivatives:

        ∂L/∂ŵ = c · ∂L/∂w        (∂L/∂w: the gradient a plain conv's weight would get)
        ∂L/∂x = conv_transpose2d(∂L/∂y, c·ŵ),   ∂L/∂b = Σ_{n,i,j} ∂L/∂y.

    Why: Adam divides each gradient by its own running RMS, so its step on ŵ is about lr
    whatever the scale of ∂L/∂ŵ. On a plain layer (w ~ N(0, c²)) that step moves w by lr,
    i.e. by lr/c of its own scale: layers of large fan-in (small c) learn relatively faster.
    Here w moves by c·lr, the same fraction lr of its scale in every layer.

    Shape: (N, C_in, H, W) -> (N, C_out, OH, OW) as ``Conv2d``; weight (C_out, C_in, KH, KW).

    >>> layer = EqualizedConv2d(16, 8, 3)
    >>> round(layer.scale, 6) == round(math.sqrt(2) / math.sqrt(16 * 9), 6)
    True
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 gain=math.sqrt(2), bias=True, device=None, dtype=None):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self._make((out_channels, in_channels, kernel_size, kernel_size),
                   in_channels * kernel_size * kernel_size, out_channels, gain, bias,
                   device, dtype)

    def forward(self, x):
        return conv2d(x, self.weight * self.scale, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"padding={self.padding}, scale={self.scale:.4g}")


class EqualizedLinear(_Equalized):
    """Fully connected layer with an equalised learning rate:

        y = x (c·ŵ)ᵀ + b,   ŵ ~ N(0, 1),   c = gain / √in_features;
        ∂L/∂ŵ = c · (∂L/∂y)ᵀ x,   ∂L/∂x = ∂L/∂y · c·ŵ,   ∂L/∂b = Σ ∂L/∂y.

    See ``EqualizedConv2d`` for why. Shape: (*, in_features) -> (*, out_features).

    >>> import minigan
    >>> EqualizedLinear(10, 3, gain=1.0)(minigan.randn(2, 10)).shape
    (2, 3)
    """

    def __init__(self, in_features, out_features, gain=math.sqrt(2), bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self._make((out_features, in_features), in_features, out_features, gain, bias,
                   device, dtype)

    def forward(self, x):
        return linear(x, self.weight * self.scale, self.bias)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, scale={self.scale:.4g}"


# ==================== pixel norm ====================

class PixelNorm(Module):
    """Pixelwise feature normalisation in the generator (Karras et al. 2018, section 4.2):
    each pixel's feature vector a (its C channels) scaled to unit mean square,

        b_c = a_c / r,   r = √(m + ε),   m = (1/C) Σ_k a_k²,   ε = 1e-8.

    Derivative: ∂b_c/∂a_k = (δ_ck − a_c a_k / (C r²)) / r, so
        ∂L/∂a = (g − b · mean_c(g · b)) / r     (g = ∂L/∂b),
    the component of g along b is removed: scaling a pixel's features changes nothing.
    No learned parameters. It replaces batch norm: it couples channels, not samples.

    Shape: (N, C, …) -> the same; the mean is over axis 1.

    >>> import minigan
    >>> b = PixelNorm()(minigan.randn(2, 8, 3, 3))
    >>> bool(abs((b * b).mean(axis=1) - 1).max().item() < 1e-5)
    True
    """

    def __init__(self, eps=1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, a):
        return a / sqrt(mean(a * a, axis=1, keepdims=True) + self.eps)


# ==================== minibatch standard deviation ====================

class MinibatchStdDev(Module):
    """Minibatch standard deviation (Karras et al. 2018, section 3), the critic's cheap
    view of a batch's variety: the batch is split into groups of G samples (sample n in
    group n mod M, M = N/G); per group,

        s_{c,i,j} = √(Var_g[x_{g,c,i,j}] + ε)     (biased variance over the G samples, ε 1e-8)
        s̄ = mean_{c,i,j} s_{c,i,j}                (one number per group)

    and s̄ is appended to every sample of its group as a constant feature map: (N, C+1, H, W).
    A generator whose samples are too alike gets a small s̄ that the critic can see.

    Derivative (one group of G samples, K = C·H·W features, x̄ the group mean):
        ∂s̄/∂x_{g,c,i,j} = (x_{g,c,i,j} − x̄_{c,i,j}) / (G · K · s_{c,i,j}),
    and ∂L/∂x collects Σ over the new channel's H·W copies of ∂L/∂s̄ for every sample of the
    group, plus the pass-through of the original channels.

    group_size: G (Karras et al.: 4); a batch smaller than G forms one group. The batch
    size must be a multiple of the group size.

    >>> import minigan
    >>> x = minigan.tensor([[[[1.0]]], [[[3.0]]]])     # 2 samples, 1 channel, 1 pixel
    >>> MinibatchStdDev(2)(x)[:, 1].data.ravel().tolist()   # std of {1, 3} = 1
    [1.0, 1.0]
    """

    def __init__(self, group_size=4, eps=1e-8):
        super().__init__()
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
            raise ValueError(f"MinibatchStdDev: group_size must be a positive int, found "
                             f"{group_size!r}")
        self.group_size, self.eps = group_size, eps

    def forward(self, x):
        if not isinstance(x, Tensor) or x.ndim != 4:
            raise ValueError(f"MinibatchStdDev: expected a (N, C, H, W) Tensor, found "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        if n % g:
            raise ValueError(f"MinibatchStdDev: the batch size {n} must be a multiple of the "
                             f"group size {g}")
        m = n // g
        y = reshape(x, g, m, c, h, w)                     # (N, C, H, W) -> (G, M, C, H, W)
        y = y - mean(y, axis=0, keepdims=True)
        s = sqrt(mean(y * y, axis=0) + self.eps)          # (M, C, H, W)
        s = mean(s, axis=(1, 2, 3))                       # (M,)
        s = broadcast_to(reshape(s, 1, m, 1, 1, 1), (g, m, 1, h, w))  # -> (G, M, 1, H, W)
        return cat([x, reshape(s, n, 1, h, w)], axis=1)   # -> (N, C + 1, H, W)

    def extra_repr(self):
        return f"group_size={self.group_size}"


# ==================== fade-in ====================

def fade_in(old, new, alpha):
    """The fade-in of a new layer (Karras et al. 2018, figure 2): the output of the old,
    low-resolution path blended into the new one's,

        y = (1 − α)·old + α·new,   α rising linearly from 0 to 1 while the layer fades in.

    Derivatives: ∂y/∂old = 1 − α, ∂y/∂new = α, ∂y/∂α = new − old. So at α = 0 the new
    layers already receive gradients (scaled by α = 0: none yet through y, which is why
    they start from their initialisation), and while α rises the share of the gradient
    that reaches them grows in step with their share of the output.

    old, new: Tensors of one shape; alpha: a float in [0, 1] or a Tensor (a scalar, to
    differentiate with respect to it).

    >>> import minigan
    >>> fade_in(minigan.tensor([2.0]), minigan.tensor([6.0]), 0.75).item()
    5.0
    """
    if old.shape != new.shape:
        raise ValueError(f"fade_in: the old and new paths must have one shape, found "
                         f"{old.shape} and {new.shape}")
    if not isinstance(alpha, Tensor) and not 0.0 <= alpha <= 1.0:
        raise ValueError(f"fade_in: alpha must lie in [0, 1], found {alpha!r}")
    return old * (1 - alpha) + new * alpha  # exactly old at α = 0 and new at α = 1
