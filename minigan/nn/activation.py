"""Activation layers: Module wrappers of ``minigan.functional``'s activations, so they can
sit in a ``Sequential``. The math and derivatives are in functional/activation.py.

>>> import minigan
>>> from minigan import nn
>>> nn.LeakyReLU(0.2)(minigan.tensor([-5.0, 2.0])).data.tolist()
[-1.0, 2.0]
"""
from minigan.functional import activation as A
from minigan.nn.module import Module


class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x):
        return A.relu(x)


class LeakyReLU(Module):
    """y = x for x > 0, negative_slope · x otherwise (notes 000: 0.2 in discriminators)."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
            raise TypeError(f"LeakyReLU: negative_slope must be a number, found "
                            f"{negative_slope!r}")
        self.negative_slope = negative_slope

    def forward(self, x):
        return A.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """y = tanh x (the generator's output layer: images in [−1, 1])."""

    def forward(self, x):
        return A.tanh(x)


class Sigmoid(Module):
    """y = σ(x) = 1 / (1 + e⁻ˣ)."""

    def forward(self, x):
        return A.sigmoid(x)
