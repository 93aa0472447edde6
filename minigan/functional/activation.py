"""Activation functions. Each backward reuses the forward's output where the derivative is
a function of it (σ' = σ(1 − σ), tanh' = 1 − tanh²), as the notes derive them."""
from minigan.autograd import Function
from minigan.backend import get_array_module
from minigan.functional.arithmetic import as_tensor_like, exp
from minigan.functional.reductions import sum


class ReLU(Function):
    """y = max(x, 0); ∂L/∂x = ∂L/∂y · [x > 0]."""

    def forward(self, x):
        return get_array_module(x).maximum(x, 0)

    def backward(self, gy):
        x, = self.inputs
        # A multiply by the 0/1 mask: ~6x faster than where() on a random sign pattern.
        return gy * as_tensor_like(x.data > 0, x)

    def backward_arrays(self, gy):
        return gy * (self.inputs[0].data > 0)   # bool promotes to gy's dtype, exactly


class LeakyReLU(Function):
    """y = x for x > 0, a·x otherwise (notes 000: a = 0.2 in the discriminator);
    ∂L/∂x = ∂L/∂y · (1 if x > 0 else a)."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        if 0 <= self.slope <= 1:  # then max(x, a·x) is exactly the piecewise formula
            return get_array_module(x).maximum(x, x * x.dtype.type(self.slope))
        return x * self._gains(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * as_tensor_like(self._gains(x.data), x)

    def backward_arrays(self, gy):
        return gy * self._gains(self.inputs[0].data)

    def _gains(self, x):
        """∂y/∂x: 1 where x > 0, a elsewhere, in x's dtype. For 0 ≤ a ≤ 1 it is
        max([x > 0], a), exact and ~5x faster than where() on a random sign pattern."""
        xp = get_array_module(x)
        slope = x.dtype.type(self.slope)
        if 0 <= self.slope <= 1:
            return xp.maximum((x > 0).astype(x.dtype), slope)
        return xp.where(x > 0, x.dtype.type(1), slope)


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ); ∂L/∂x = ∂L/∂y · y (1 − y).

    Computed as 1/(1+e^{−|x|}) or e^{−|x|}/(1+e^{−|x|}) by the sign of x, so e^{…} never
    overflows: σ(±1000) is exactly 1 or 0 without warnings."""

    def forward(self, x):
        xp = get_array_module(x)
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def backward(self, gy):
        y = self.output()
        return gy * y * (1 - y)


class Tanh(Function):
    """y = tanh x; ∂L/∂x = ∂L/∂y · (1 − y²)."""

    def forward(self, x):
        return get_array_module(x).tanh(x)

    def backward(self, gy):
        y = self.output()
        return gy * (1 - y * y)


class Softplus(Function):
    """y = log(1 + eˣ), computed as max(x, 0) + log1p(e^{−|x|}) (no overflow);
    ∂L/∂x = ∂L/∂y · σ(x)."""

    def forward(self, x):
        xp = get_array_module(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


class Softmax(Function):
    """yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along ``axis`` (max subtracted first for stability);
    ∂L/∂x = y ⊙ (∂L/∂y − Σⱼ (∂L/∂y)ⱼ yⱼ)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = self.output()
        return y * (gy - sum(gy * y, self.axis, keepdims=True))


class LogSoftmax(Function):
    """yᵢ = xᵢ − log Σⱼ e^{xⱼ} along ``axis`` (log-sum-exp with the max subtracted);
    ∂L/∂x = ∂L/∂y − softmax(x) · Σⱼ (∂L/∂y)ⱼ, with softmax(x) = e^y."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = get_array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))

    def backward(self, gy):
        return gy - exp(self.output()) * sum(gy, self.axis, keepdims=True)


def relu(x):
    return ReLU()(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU(negative_slope)(x)


def sigmoid(x):
    return Sigmoid()(x)


def tanh(x):
    return Tanh()(x)


def softplus(x):
    return Softplus()(x)


def logsigmoid(x):
    """log σ(x) = −softplus(−x), finite for every x."""
    return -softplus(-x)


def softmax(x, axis=-1):
    return Softmax(axis % x.ndim)(x)


def log_softmax(x, axis=-1):
    return LogSoftmax(axis % x.ndim)(x)
