"""Parameter initialisers with PyTorch's names and formulas (``torch.nn.init``).

Each fills ``tensor.data`` in place, records no graph, and returns the tensor. Random
numbers come from ``minigan.backend.generator()`` (drawn on the CPU, then copied to the
tensor's device), so ``minigan.manual_seed`` makes every initialisation reproducible.

Fans of a weight of shape (out, in, *kernel): fan_in = in · ∏kernel, fan_out = out · ∏kernel
(the number of inputs feeding one output, and of outputs fed by one input).

>>> import minigan
>>> from minigan.nn import init
>>> w = minigan.zeros(256, 512)
>>> _ = init.kaiming_uniform_(w, nonlinearity="relu")   # U(−b, b), b = √2 · √(3 / 512)
>>> bool(abs(w.data).max() <= (2 ** 0.5) * (3 / 512) ** 0.5)
True
"""
import math

from minigan import backend
from minigan.autograd import no_grad


def calculate_gain(nonlinearity, param=None):
    """The gain g that keeps activations' variance through a nonlinearity (PyTorch's table):
    linear / conv / sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2 / (1 + slope²))
    (slope ``param``, default 0.01), selu 3/4.

    >>> round(calculate_gain("leaky_relu", 0.2), 6)
    1.38675
    """
    linear = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope must be a number, found {slope!r}")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected "
                     f"one of {linear + ('tanh', 'relu', 'leaky_relu', 'selu')}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) = (size(1) · receptive field, size(0) · receptive field)."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, "
                         f"found shape {tensor.shape}")
    receptive_field = 1
    for n in tensor.shape[2:]:
        receptive_field *= n
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', found {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    """Copy host ``values`` into ``tensor.data`` in place (cast to its dtype and device)."""
    with no_grad():
        tensor.data[...] = backend.to_device(values.astype(tensor.dtype), tensor.device)
    return tensor


# ==================== plain distributions ====================

def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples of U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: expected a <= b, found a={a}, b={b}")
    return _fill(tensor, backend.generator().uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples of N(mean, std²)."""
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, found {std}")
    return _fill(tensor, backend.generator().normal(mean, std, tensor.shape))


def constant_(tensor, val):
    """Fill with the value ``val``."""
    with no_grad():
        tensor.data[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


# ==================== Glorot / Xavier ====================

def xavier_uniform_(tensor, gain=1.0):
    """Fill with U(−a, a), a = gain · √(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010):
    the variance 2 / (fan_in + fan_out) averages the forward and backward conditions."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """Fill with N(0, std²), std = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


# ==================== He / Kaiming ====================

def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """Fill with U(−b, b), b = gain · √(3 / fan) (He et al., 2015), gain =
    calculate_gain(nonlinearity, a), fan = fan_in (keeps forward variance) or fan_out
    (keeps backward variance). ``a`` is the negative slope of a leaky ReLU.

    Linear and Conv2d's default, a = √5, gives b = 1 / √fan_in."""
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / _calculate_correct_fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """Fill with N(0, std²), std = gain / √fan (see ``kaiming_uniform_``)."""
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(_calculate_correct_fan(tensor, mode)))
