"""Fully connected layers: Linear, and Identity (the layer that does nothing)."""
import math

from minigan import creation
from minigan.autograd import Tensor
from minigan.functional.arithmetic import linear
from minigan.nn import init
from minigan.nn.module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b over the last axis of x, with PyTorch's initialisation:
    W, b ~ U(−1/√in, 1/√in) (kaiming_uniform_ with a = √5 for W).

    ∂L/∂x = ∂L/∂y W,  ∂L/∂W = Σ (∂L/∂y)ᵀ x,  ∂L/∂b = Σ ∂L/∂y (sums over the batch); the op
    is ``minigan.functional.linear``, one graph node per layer.

    Shape: input (*, in_features) -> output (*, out_features);
    weight (out_features, in_features), bias (out_features,).

    >>> import minigan
    >>> layer = Linear(784, 128)
    >>> layer
    Linear(in_features=784, out_features=128, bias=True)
    >>> layer(minigan.randn(64, 784)).shape
    (64, 128)
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Linear: {name} must be a positive int, found {value!r}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.zeros(out_features, in_features, dtype=dtype,
                                               device=device))
        if bias:
            self.bias = Parameter(creation.zeros(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"Linear: expected a Tensor input, found {type(x).__name__}")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear(in_features={self.in_features}, out_features="
                             f"{self.out_features}): expected an input whose last dimension "
                             f"is {self.in_features}, found shape {x.shape}")
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """y = x: a placeholder where a layer is optional (e.g. no normalisation)."""

    def forward(self, x):
        return x
