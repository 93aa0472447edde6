"""Normalisation: batch, instance, layer and group norm.

All four standardise x over some axes and then apply a learned affine map:

    x̂ = (x − μ) / √(σ² + ε),   y = γ ⊙ x̂ + β,

with μ and σ² the mean and the *biased* variance over the reduced axes. They differ only in
which axes those are, for x of shape (N, C, H, W):

    batch norm     (N, H, W)        one μ, σ² per channel          (notes 000/003: DCGAN)
    instance norm  (H, W)           one per sample and channel
    layer norm     the trailing ``normalized_shape`` axes           (notes 002: a WGAN-GP
                                                                     critic has no batch norm)
    group norm     (C/G, H, W)      one per sample and group of C/G channels

So one Function, ``Normalize``, does the standardisation and holds the three-term backward
once; each op is a reshape around it. Where γ and β are per channel and the channel axis is
not normalised (batch and instance norm, the hot ops of a DCGAN) the affine map is fused
into it; layer and group norm add ``γ x̂ + β`` with Tensor ops, whose backward gives
gγ = Σ gy ⊙ x̂ and gβ = Σ gy (sums over every axis but γ's).
"""
import math

from minigan.autograd import Function, Tensor
from minigan.backend import device_of, get_array_module
from minigan.functional.activation import leaky_relu, leaky_relu_, leaky_relu_gains
from minigan.functional.arithmetic import as_tensor_like
from minigan.functional.reductions import mean, reduce_dot, reduce_sum, reduce_to_shape, sum_to


# ==================== standardisation (the one Function) ====================

class Normalize(Function):
    """y = γ ⊙ x̂ + β with x̂ = (x − μ) / s over ``axes``, μ = mean(x), σ² = mean((x − μ)²)
    (biased), s = √(σ² + ε); y has x's shape. Called as f(x) (then y = x̂), f(x, γ) or
    f(x, γ, β), where γ and β broadcast against x and are constant along ``axes`` (one per
    channel for batch and instance norm). Layer and group norm, whose γ varies along the
    normalised axes, apply their affine map after f(x) instead.

    With ``negative_slope`` a (0 ≤ a ≤ 1) the leaky ReLU that follows batch norm in a DCGAN
    block is fused in: y = φ(u), u = γ ⊙ x̂ + β, φ(u) = max(u, a·u) (a = 0: ReLU), applied
    in place on u's array instead of by a second op with an array of its own.

    Backward, with n the number of elements reduced over and means over ``axes``:
        ∂μ/∂xⱼ = 1/n,   ∂s/∂xⱼ = (xⱼ − μ)/(n s) = x̂ⱼ/n,
        ∂x̂ᵢ/∂xⱼ = (δᵢⱼ − 1/n)/s − (xᵢ − μ)/s² · x̂ⱼ/n = (δᵢⱼ − 1/n − x̂ᵢ x̂ⱼ/n) / s,
    so with g = γ ⊙ ∂L/∂y, the gradient reaching x̂, gx = Σᵢ gᵢ ∂x̂ᵢ/∂x is the three-term
    formula
        gx = (1/s) · (g − mean(g) − x̂ · mean(g ⊙ x̂)),
    and, γ being constant along the axes, mean(g) = γ mean(gy), mean(g ⊙ x̂) = γ mean(gy ⊙ x̂):
        gx = (γ/s) · (gy − mean(gy) − x̂ · mean(gy ⊙ x̂)),
        gγ = Σ gy ⊙ x̂,   gβ = Σ gy      (sums over every axis γ, β are broadcast along).
    With the activation, ∂L/∂u = ∂L/∂y ⊙ φ'(u), φ'(u) = 1 where u > 0 and a elsewhere,
    takes the place of gy in these three formulas. φ' is read off the output (y > 0
    exactly where u > 0, for 0 ≤ a ≤ 1) and is piecewise constant, so it is a constant of
    the backward graph too, as in ``LeakyReLU``.

    ``backward`` writes this with Tensor ops, recomputing x̂ and 1/s from x so that it is
    differentiable again; ``backward_arrays`` computes the same numbers from the forward's
    x − μ and 1/s with two reductions and in-place steps. The forward keeps μ and σ²
    (``self.mean``, ``self.variance``) for running statistics.
    """

    def __init__(self, axes, eps, negative_slope=None):
        if negative_slope is not None and not 0 <= negative_slope <= 1:
            raise ValueError(f"Normalize: the fused leaky ReLU needs 0 <= negative_slope <= 1 "
                             f"(then y > 0 exactly where its input is), found "
                             f"{negative_slope!r}; apply F.leaky_relu after it instead")
        self.axes, self.eps, self.slope = tuple(axes), eps, negative_slope

    def forward(self, x, weight=None, bias=None):
        xp = get_array_module(x)
        self.count = math.prod(x.shape[a] for a in self.axes)
        scale = x.dtype.type(1 / self.count)
        self.mean = reduce_sum(x, self.axes, keepdims=True) * scale
        self.centered = x - self.mean
        self.variance = reduce_dot(self.centered, self.centered, self.axes, True) * scale
        self.inv_std = 1 / xp.sqrt(self.variance + x.dtype.type(self.eps))
        if weight is None:
            y = self.centered * self.inv_std
        elif weight.ndim != x.ndim or any(weight.shape[a] != 1 for a in self.axes):
            raise ValueError(f"Normalize: expected γ of x's rank {x.ndim} with size 1 along "
                             f"the normalised axes {self.axes}, found shape {weight.shape}; "
                             "apply an affine map that varies along them after normalising")
        else:
            y = self.centered * (weight * self.inv_std)      # γ x̂ = (x − μ) · γ/s
            if bias is not None:
                y += bias
        return y if self.slope is None else leaky_relu_(y, self.slope)

    def backward(self, gy):
        x, *affine = self.inputs
        if self.slope is not None:                           # ∂L/∂u = gy ⊙ φ'(u)
            gy = gy * as_tensor_like(leaky_relu_gains(self.output().data, self.slope), x)
        centered = x - mean(x, self.axes, keepdims=True)
        inv_std = (mean(centered * centered, self.axes, keepdims=True) + self.eps) ** -0.5
        x_hat = centered * inv_std
        g = gy * affine[0] if affine else gy
        gx = inv_std * (g - mean(g, self.axes, keepdims=True)
                        - x_hat * mean(g * x_hat, self.axes, keepdims=True))
        return (gx,) + tuple(sum_to(gy * x_hat if i == 0 else gy, p.shape)
                             if need else None
                             for i, (p, need) in enumerate(zip(affine,
                                                               self.needs_input_grad[1:])))

    def backward_arrays(self, gy):
        centered, inv_std, axes = self.centered, self.inv_std, self.axes
        affine = [t.data for t in self.inputs[1:]]
        if self.slope is None:
            gx = None                       # gy may be shared: the result needs its own array
        else:                               # ∂L/∂u = gy ⊙ φ'(u), a new array, so reused for gx
            gy = gx = _times_gains(gy, self.output().data, self.slope)
        sum_gy = reduce_sum(gy, axes, keepdims=True)
        sum_gy_x_hat = reduce_dot(gy, centered, axes, keepdims=True) * inv_std
        k = affine[0] * inv_std if affine else inv_std           # γ/s
        scale = gy.dtype.type(1 / self.count)
        if gx is None:                                           # with x̂ = (x − μ)/s:
            gx = gy * k                                          # (γ/s) gy
        else:
            gx *= k
        gx -= centered * (k * inv_std * sum_gy_x_hat * scale)    # − (γ/s) x̂ mean(gy x̂)
        gx -= k * sum_gy * scale                                 # − (γ/s) mean(gy)
        grads = [gx]
        for p, total, need in zip(affine, (sum_gy_x_hat, sum_gy), self.needs_input_grad[1:]):
            grads.append(reduce_to_shape(total, p.shape) if need else None)
        return tuple(grads)


def _times_gains(gy, y, slope):
    """gy ⊙ φ'(u) as a new array, φ'(u) read off the output y = φ(u) (see Normalize)."""
    if slope == 0:
        return gy * (y > 0)                 # bool promotes to gy's dtype, exactly
    gains = leaky_relu_gains(y, slope)
    return get_array_module(gy).multiply(gy, gains, out=gains)


def _normalize_per_channel(x, axes, eps, weight, bias, negative_slope=None):
    """Normalize over ``axes`` with a per-channel γ, β (each (C,) or None) and, with a
    ``negative_slope``, the leaky ReLU fused in; the Function is returned too, for its
    batch statistics."""
    shape = _channel_shape(x)
    if weight is None and bias is not None:   # β alone: γ = 1, a constant
        weight = as_tensor_like(get_array_module(x.data).ones(shape, dtype=x.dtype), x)
    affine = [p.reshape(shape) for p in (weight, bias) if p is not None]  # (C,) -> (1, C, 1..)
    standardize = Normalize(axes, eps, negative_slope)
    return standardize(x, *affine), standardize


def _affine(x_hat, weight, bias, shape):
    """γ ⊙ x̂ + β, with γ and β viewed as ``shape`` so they broadcast over x̂."""
    if weight is not None:
        x_hat = x_hat * weight.reshape(shape)  # (C,) -> (1, C, 1, ..., 1), or as it is
    if bias is not None:
        x_hat = x_hat + bias.reshape(shape)    # (C,) -> (1, C, 1, ..., 1), or as it is
    return x_hat


def _channel_shape(x):
    """(1, C, 1, ..., 1): a per-channel vector broadcast against x of shape (N, C, ...)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


# ==================== running statistics ====================

def _update_running_stats(running_mean, running_var, batch_mean, batch_var, momentum):
    """running ← (1 − m) · running + m · batch, in place. These are buffers, not parameters:
    no graph is recorded, and a Tensor's own array is overwritten so a layer sees it."""
    for running, batch in ((running_mean, batch_mean), (running_var, batch_var)):
        array = running.data if isinstance(running, Tensor) else running
        array *= 1 - momentum
        array += momentum * batch


def _check_running_stats(name, x, running_mean, running_var, momentum, training):
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{name}: give both running_mean and running_var, or neither")
    if training and running_mean is not None and momentum is None:
        raise ValueError(
            f"{name}: momentum=None (a cumulative average) needs the number of batches "
            "seen; the layers count it: pass momentum=1/num_batches_tracked here")
    for label, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is None:
            continue
        array = stat.data if isinstance(stat, Tensor) else stat
        if array.shape != (x.shape[1],):
            raise ValueError(f"{name}: {label} has shape {array.shape}, expected "
                             f"({x.shape[1]},) for the C={x.shape[1]} channels of the input "
                             f"of shape {x.shape}")
        if device_of(array) != x.device:
            raise RuntimeError(f"{name}: {label} is on {device_of(array)} but the input is "
                               f"on {x.device}; move them to the same device")


# ==================== argument checks ====================

def _check_input(name, x, min_ndim, layout):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor input, found {type(x).__name__}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name}: expected an input of shape {layout} (at least {min_ndim} "
                         f"dimensions), found shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point input, found dtype {x.dtype}")


def _check_affine(name, weight, bias, shape, what):
    for label, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != tuple(shape):
            raise ValueError(f"{name}: {label} has shape {tuple(p.shape)}, expected "
                             f"{tuple(shape)} ({what})")


# ==================== batch norm ====================

def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, negative_slope=None):
    """Batch normalisation of x of shape (N, C) or (N, C, *) (PyTorch's signature).

    Training: μ_B, σ²_B per channel over every axis but C (n = N·H·W elements),
        y = γ (x − μ_B)/√(σ²_B + ε) + β,      normalised with the biased σ²_B,
    and, when given, the running statistics are updated in place:
        running_mean ← (1 − m) running_mean + m μ_B,
        running_var  ← (1 − m) running_var  + m σ²_B · n/(n − 1)   (unbiased).
    ∂L/∂x = (γ/s)(gy − mean(gy) − x̂ mean(gy x̂)) (see ``Normalize``), gγ = Σ gy x̂, gβ = Σ gy.

    Eval (training=False): an affine map with constant running statistics,
        y = γ (x − running_mean)/√(running_var + ε) + β,   ∂L/∂x = gy γ/√(running_var + ε).

    ``running_mean``/``running_var``: arrays or Tensors of shape (C,), or None (training
    only). ``weight`` γ, ``bias`` β: Tensors of shape (C,) or None.

    ``negative_slope`` a (0 ≤ a ≤ 1, default None: no activation): the result passes
    through φ(u) = max(u, a·u), ReLU for a = 0, the leaky ReLU of a discriminator for
    a = 0.2; ``leaky_relu(batch_norm(x, ...), a)`` in one op when training (see
    ``Normalize``; nn.Sequential fuses a BatchNorm and the ReLU/LeakyReLU after it so).

    >>> import minigan
    >>> x = minigan.tensor([[1.0, 10.0], [3.0, 30.0]])
    >>> mean, var = minigan.zeros(2), minigan.ones(2)
    >>> batch_norm(x, mean, var, training=True, eps=0.0)
    tensor([[-1., -1.],
            [ 1.,  1.]])
    >>> mean, var            # 0.9·0 + 0.1·μ_B,  0.9·1 + 0.1·σ²_B·2/1
    (tensor([0.2, 2. ]), tensor([ 1.1, 20.9]))
    >>> batch_norm(x, None, None, training=True, eps=0.0, negative_slope=0.0)   # then ReLU
    tensor([[0., 0.],
            [1., 1.]])
    """
    _check_input("batch_norm", x, 2, "(N, C) or (N, C, *)")
    _check_running_stats("batch_norm", x, running_mean, running_var, momentum, training)
    _check_affine("batch_norm", weight, bias, (x.shape[1],),
                  f"one per channel of the input of shape {x.shape}")
    if negative_slope is not None and not 0 <= negative_slope <= 1:
        raise ValueError(f"batch_norm: negative_slope must be in [0, 1] or None, found "
                         f"{negative_slope!r}; apply F.leaky_relu after batch_norm instead")
    shape = _channel_shape(x)
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        n = x.size // x.shape[1]
        if n < 2:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, found input of shape {x.shape}")
        y, standardize = _normalize_per_channel(x, axes, eps, weight, bias, negative_slope)
        if running_mean is not None:
            _update_running_stats(running_mean, running_var, standardize.mean.reshape(-1),
                                  standardize.variance.reshape(-1) * (n / (n - 1)), momentum)
        return y
    if running_mean is None:
        raise ValueError("batch_norm: eval mode (training=False) normalises with the running "
                         "statistics, but running_mean and running_var are None")
    y = _affine(_standardize_with(x, running_mean, running_var, eps, shape), weight, bias,
                shape)
    return y if negative_slope is None else leaky_relu(y, negative_slope)


def _standardize_with(x, running_mean, running_var, eps, shape):
    """(x − running_mean) / √(running_var + ε) with the statistics as constants."""
    xp = get_array_module(x.data)
    mu = running_mean.data if isinstance(running_mean, Tensor) else running_mean
    sigma2 = running_var.data if isinstance(running_var, Tensor) else running_var
    inv_std = 1 / xp.sqrt(sigma2 + eps)
    mu, inv_std = mu.reshape(shape), inv_std.reshape(shape)  # (C,) -> (1, C, 1, ..., 1)
    return (x - as_tensor_like(mu, x)) * as_tensor_like(inv_std, x)


# ==================== instance norm ====================

def instance_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalisation of x of shape (N, C, *): each (sample, channel) slice is
    standardised over its own spatial axes (n = H·W elements), then y = γ x̂ + β per channel.
    ∂L/∂x is ``Normalize``'s three-term formula with means over (H, W).

    With ``use_input_stats`` the running statistics, when given, move towards the batch's
    average instance statistics (variance unbiased, n/(n − 1)):
        running_mean ← (1 − m) running_mean + m meanₙ(μₙ꜀),
        running_var  ← (1 − m) running_var  + m meanₙ(σ²ₙ꜀ · n/(n − 1)).
    Without it, x is normalised with the running statistics, as in batch norm's eval mode.

    >>> import minigan
    >>> x = minigan.tensor([[[1.0, 3.0], [5.0, 9.0]]])          # (N, C, L) = (1, 2, 2)
    >>> instance_norm(x, eps=0.0)
    tensor([[[-1.,  1.],
             [-1.,  1.]]])
    """
    _check_input("instance_norm", x, 3, "(N, C, *) with spatial axes")
    _check_running_stats("instance_norm", x, running_mean, running_var, momentum,
                         use_input_stats)
    _check_affine("instance_norm", weight, bias, (x.shape[1],),
                  f"one per channel of the input of shape {x.shape}")
    shape = _channel_shape(x)
    if not use_input_stats:
        if running_mean is None:
            raise ValueError("instance_norm: use_input_stats=False normalises with the "
                             "running statistics, but running_mean and running_var are None")
        return _affine(_standardize_with(x, running_mean, running_var, eps, shape),
                       weight, bias, shape)
    axes = tuple(range(2, x.ndim))
    n = x.size // (x.shape[0] * x.shape[1])
    if n < 2:
        raise ValueError(f"instance_norm: expected more than 1 spatial element per channel, "
                         f"found input of shape {x.shape}")
    if running_mean is not None:
        _update_running_stats(running_mean, running_var, x.data.mean(axis=axes).mean(axis=0),
                              (x.data.var(axis=axes) * (n / (n - 1))).mean(axis=0), momentum)
    return _normalize_per_channel(x, axes, eps, weight, bias)[0]


# ==================== layer norm ====================

def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing axes ``normalized_shape`` (an int or a tuple):
    every sample is standardised over those axes, then y = γ ⊙ x̂ + β with γ, β of shape
    ``normalized_shape`` (elementwise, not per channel). Needs no batch statistics, so each
    sample's output depends on that sample only, which keeps the per-sample gradient
    penalty of WGAN-GP meaningful (notes 002). ∂L/∂x: ``Normalize`` over those axes.

    >>> import minigan
    >>> layer_norm(minigan.tensor([[2.0, 4.0], [0.0, -6.0]]), 2, eps=0.0)
    tensor([[-1.,  1.],
            [ 1., -1.]])
    """
    normalized_shape = ((normalized_shape,) if isinstance(normalized_shape, int)
                        else tuple(normalized_shape))
    k = len(normalized_shape)
    _check_input("layer_norm", x, k, f"(*, {', '.join(map(str, normalized_shape))})")
    if x.shape[x.ndim - k:] != normalized_shape:
        raise ValueError(f"layer_norm: expected an input whose last {k} dimension(s) are "
                         f"normalized_shape {normalized_shape}, found shape {x.shape}")
    _check_affine("layer_norm", weight, bias, normalized_shape, "normalized_shape")
    x_hat = Normalize(tuple(range(x.ndim - k, x.ndim)), eps)(x)
    return _affine(x_hat, weight, bias, normalized_shape)


# ==================== group norm ====================

def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation of x of shape (N, C, *): the C channels are split into
    ``num_groups`` groups of C/G consecutive channels, each (sample, group) is standardised
    over its C/G·H·W elements, then y = γ x̂ + β per channel (γ, β of shape (C,)).
    G = 1 is layer norm over (C, H, W) with per-channel γ; G = C is instance norm.
    ∂L/∂x: ``Normalize`` over the group axis of the reshaped x.

    >>> import minigan
    >>> x = minigan.tensor([[1.0, 3.0, 10.0, 20.0]])                  # (N, C) = (1, 4)
    >>> group_norm(x, 2, eps=0.0)
    tensor([[-1.,  1., -1.,  1.]])
    """
    _check_input("group_norm", x, 2, "(N, C, *)")
    n_batch, channels = x.shape[:2]
    if num_groups < 1 or channels % num_groups:
        raise ValueError(f"group_norm: the C={channels} channels of the input of shape "
                         f"{x.shape} are not divisible into num_groups={num_groups} groups")
    _check_affine("group_norm", weight, bias, (channels,),
                  f"one per channel of the input of shape {x.shape}")
    grouped = x.reshape(n_batch, num_groups, -1)  # (N, C, *) -> (N, G, C/G·H·W)
    x_hat = Normalize((2,), eps)(grouped).reshape(x.shape)  # (N, G, C/G·H·W) -> (N, C, *)
    return _affine(x_hat, weight, bias, _channel_shape(x))
