"""Dropout (inverted): in training, keep each unit with probability 1 − p and scale the kept
ones by 1/(1 − p), so E[y] = x and evaluation needs no rescaling (it is the identity).

y = x · m / (1 − p), m ~ Bernoulli(1 − p);   ∂L/∂x = ∂L/∂y · m / (1 − p).

The mask is a constant drawn from ``minigan.backend.generator()``, and y is an ordinary
product, so the backward is differentiable again.
"""
from minigan import backend
from minigan.autograd import Tensor
from minigan.functional.arithmetic import as_tensor_like
from minigan.nn.module import Module


def _check_p(p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability p must be a number in [0, 1], found {p!r}")


def _masked(x, p, mask_shape):
    """x times a kept/(1 − p) mask of ``mask_shape`` (broadcast against x)."""
    if p == 1:
        return x * 0.0
    keep = backend.generator().random(mask_shape) >= p  # P(keep) = 1 − p
    scale = backend.to_device(keep / (1 - p), x.device)
    return x * as_tensor_like(scale, x)


def dropout(x, p=0.5, training=True):
    """Zero each element of x with probability p and scale the rest by 1/(1 − p) when
    ``training``; the identity otherwise (or when p = 0).

    >>> import minigan
    >>> y = dropout(minigan.ones(10000), p=0.25)
    >>> sorted(set(y.data.tolist()))   # 0 or 1/(1 − 0.25)
    [0.0, 1.3333333730697632]
    """
    _check_p(p)
    if not isinstance(x, Tensor):
        raise TypeError(f"dropout: expected a Tensor, found {type(x).__name__}")
    if not training or p == 0:
        return x
    return _masked(x, p, x.shape)


def dropout2d(x, p=0.5, training=True):
    """Zero whole channels of x (N, C, H, W) with probability p, scaling the rest by
    1/(1 − p): neighbouring pixels are correlated, so element-wise dropout barely
    regularises a convolution's feature maps. The mask has shape (N, C, 1, 1)."""
    _check_p(p)
    if not isinstance(x, Tensor) or x.ndim != 4:
        found = f"shape {x.shape}" if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"dropout2d: expected a 4-D input (N, C, H, W), found {found}")
    if not training or p == 0:
        return x
    return _masked(x, p, x.shape[:2] + (1, 1))


class Dropout(Module):
    """``dropout`` in training mode, identity in eval mode.

    Shape: any input; output of the same shape.

    >>> import minigan
    >>> layer = Dropout(0.5).eval()
    >>> layer(minigan.ones(3)).data.tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, p=0.5):
        super().__init__()
        _check_p(p)
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Dropout2d(Module):
    """``dropout2d`` (whole channels) in training mode, identity in eval mode.

    Shape: (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, p=0.5):
        super().__init__()
        _check_p(p)
        self.p = p

    def forward(self, x):
        return dropout2d(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
