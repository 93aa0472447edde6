"""Normalisation layers: BatchNorm1d/2d, InstanceNorm2d, LayerNorm, GroupNorm.

Each holds γ (``weight``, ones) and β (``bias``, zeros) and calls its op in
``minigan.functional.norm``, where the equations and derivatives are written. Batch and
instance norm also keep running statistics as buffers with PyTorch's state_dict names
(``running_mean``, ``running_var``, ``num_batches_tracked``), so checkpoints line up.
"""
from minigan import creation
from minigan.autograd import Tensor
from minigan.functional.norm import batch_norm, group_norm, instance_norm, layer_norm
from minigan.nn import init
from minigan.nn.activation import LeakyReLU, ReLU
from minigan.nn.module import Module, Parameter


def _check_positive_int(layer, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive int, found {value!r}")


def _check_tensor(layer, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer}: expected a Tensor input, found {type(x).__name__}")


# ==================== batch and instance norm ====================

class _NormBase(Module):
    """γ, β and the running statistics shared by batch and instance norm.

    ``momentum`` m weighs the newest batch: running ← (1 − m) running + m batch. With
    ``momentum=None`` the running statistics are the plain average of every batch seen so
    far (m = 1/num_batches_tracked).
    """

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, device,
                 dtype):
        super().__init__()
        name = type(self).__name__
        _check_positive_int(name, "num_features", num_features)
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, found {momentum!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(creation.ones(num_features, dtype=dtype, device=device))
            self.bias = Parameter(creation.zeros(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean",
                                 creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var",
                                 creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype="int64", device=device))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_input(self, x, ranks, layout):
        name = type(self).__name__
        _check_tensor(name, x)
        if x.ndim not in ranks:
            expected = " or ".join(f"{r}-D" for r in ranks)
            raise ValueError(f"{name}: expected a {expected} input {layout}, found shape "
                             f"{x.shape} ({x.ndim}-D)")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}): expected {self.num_features} "
                             f"channels, found {x.shape[1]} (input of shape {x.shape})")

    def _momentum(self):
        """The momentum of this step; counts the batch when running stats are updated."""
        if not (self.training and self.track_running_stats):
            return self.momentum
        self.num_batches_tracked.data += 1  # in place: the state_dict shares this array
        if self.momentum is None:
            return 1.0 / float(self.num_batches_tracked.item())
        return self.momentum

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    ranks, layout = (), ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype)

    def forward(self, x):
        return self._normalize(x, None)

    def _normalize(self, x, negative_slope):
        """batch_norm(x), then, with ``negative_slope`` a, max(y, a·y) in the same op."""
        self._check_input(x, self.ranks, self.layout)
        momentum = self._momentum()
        # Batch statistics when training, and in eval too when no running ones are kept.
        use_batch_stats = self.training or self.running_mean is None
        update = not self.training or self.track_running_stats
        return batch_norm(x, self.running_mean if update else None,
                          self.running_var if update else None, self.weight, self.bias,
                          use_batch_stats, momentum, self.eps, negative_slope)

    def fused_with(self, following):
        """nn.Sequential's question (see Module.fused_with): a ReLU or LeakyReLU (slope in
        [0, 1]) after this layer runs inside batch norm's op. Subclasses that change either
        forward are left alone."""
        if type(self).forward is not _BatchNorm.forward:
            return None
        if type(following) is ReLU:
            return lambda x: self._normalize(x, 0.0)
        if type(following) is LeakyReLU and 0 <= following.negative_slope <= 1:
            return lambda x: self._normalize(x, following.negative_slope)
        return None


class BatchNorm1d(_BatchNorm):
    """Batch norm over a (N, C) or (N, C, L) input: per channel, y = γ x̂ + β with x̂
    standardised by the batch's statistics when training (which also updates the running
    ones) and by the running statistics in eval mode (see ``functional.norm.batch_norm``).

    Shape: input (N, C) or (N, C, L) -> output of the same shape; weight, bias,
    running_mean, running_var (C,); num_batches_tracked () int64.

    >>> import minigan
    >>> bn = BatchNorm1d(3)
    >>> bn
    BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    >>> list(bn.state_dict())
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    >>> bn(minigan.randn(8, 3)).shape, bn.num_batches_tracked.item()
    ((8, 3), 1)
    """
    ranks, layout = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over a (N, C, H, W) input: statistics per channel over (N, H, W); the
    DCGAN generator and discriminator blocks (notes 000, 003). Otherwise as ``BatchNorm1d``.

    Shape: input (N, C, H, W) -> output (N, C, H, W); weight, bias, running_mean,
    running_var (C,); num_batches_tracked () int64.

    >>> import minigan
    >>> bn = BatchNorm2d(2).eval()
    >>> bn(minigan.ones(1, 2, 3, 3)).shape        # eval: running stats (0, 1)
    (1, 2, 3, 3)
    """
    ranks, layout = (4,), "(N, C, H, W)"


class InstanceNorm2d(_NormBase):
    """Instance norm over a (N, C, H, W) input: each (sample, channel) image is standardised
    over its own H·W pixels (see ``functional.norm.instance_norm``); no affine map and no
    running statistics by default, like PyTorch. With ``track_running_stats=True`` eval mode
    uses the running statistics. Unlike PyTorch, which leaves them frozen when
    ``momentum=None``, they are then the cumulative average, as in batch norm.

    Shape: input (N, C, H, W) -> output (N, C, H, W); weight, bias (C,) when affine.

    >>> import minigan
    >>> InstanceNorm2d(3)
    InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype)

    def forward(self, x):
        self._check_input(x, (4,), "(N, C, H, W)")
        momentum = self._momentum()
        use_input_stats = self.training or not self.track_running_stats
        return instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             use_input_stats, momentum, self.eps)


# ==================== layer and group norm ====================

class LayerNorm(Module):
    """Layer norm over the trailing ``normalized_shape`` axes of each sample, y = γ ⊙ x̂ + β
    with elementwise γ, β of shape ``normalized_shape`` (see ``functional.norm.layer_norm``).
    Uses no batch statistics, so train and eval agree: the normaliser of choice for a
    WGAN-GP critic, whose gradient penalty is per sample (notes 002).

    Shape: input (*, *normalized_shape) -> output of the same shape; weight, bias
    ``normalized_shape``.

    >>> import minigan
    >>> ln = LayerNorm(4)
    >>> ln
    LayerNorm((4,), eps=1e-05, elementwise_affine=True)
    >>> ln(minigan.randn(2, 3, 4)).shape
    (2, 3, 4)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        shape = ((normalized_shape,) if isinstance(normalized_shape, int)
                 else tuple(normalized_shape))
        for n in shape:
            _check_positive_int("LayerNorm", "each size of normalized_shape", n)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(shape, dtype=dtype, device=device))
            self.bias = Parameter(creation.zeros(shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        _check_tensor("LayerNorm", x)
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Group norm: the C channels of a (N, C, *) input in ``num_groups`` groups of C/G,
    each (sample, group) standardised over its C/G·H·W elements, then per-channel γ, β
    (see ``functional.norm.group_norm``). Batch-independent, like layer norm.

    Shape: input (N, C, *) -> output of the same shape; weight, bias (C,).

    >>> import minigan
    >>> gn = GroupNorm(2, 6)
    >>> gn
    GroupNorm(2, 6, eps=1e-05, affine=True)
    >>> gn(minigan.randn(4, 6, 5, 5)).shape
    (4, 6, 5, 5)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None):
        super().__init__()
        _check_positive_int("GroupNorm", "num_groups", num_groups)
        _check_positive_int("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels must be divisible by num_groups, "
                             f"found num_channels={num_channels}, num_groups={num_groups}")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        if affine:
            self.weight = Parameter(creation.ones(num_channels, dtype=dtype, device=device))
            self.bias = Parameter(creation.zeros(num_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        _check_tensor("GroupNorm", x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected "
                             f"an input (N, {self.num_channels}, *), found shape {x.shape}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}")
