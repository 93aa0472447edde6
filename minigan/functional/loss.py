"""Loss functions with PyTorch's names, argument order and ``reduction`` semantics.

Every loss first computes a pointwise loss ℓ (the shape of the input, or of the target
classes), then reduces it: ``"mean"`` (the default) averages, ``"sum"`` adds, ``"none"``
returns ℓ itself. Each is built from differentiable ops (two of them, ``ClampedLog`` and
``BinaryCrossEntropyWithLogits``, are Functions of their own), so every loss can be
differentiated twice — what a gradient penalty on a discriminator needs (notes 002, WGAN-GP).

The BCE pair is the loss of the original GAN (notes 000 and 004):
    L_D = −E[log D(x)] − E[log(1 − D(G(z)))]  =  BCE(D(x), 1) + BCE(D(G(z)), 0).
"""
from minigan.autograd import Function, Tensor
from minigan.backend import get_array_module
from minigan.functional.activation import log_softmax, sigmoid, softplus
from minigan.functional.arithmetic import abs, as_tensor_like, exp, log, where

REDUCTIONS = ("mean", "sum", "none")
LOG_FLOOR = -100.0  # PyTorch's clamp on BCE's logs: BCE(0, 1) = 100, finite


# ==================== checking arguments ====================

def _check_reduction(name, reduction, choices=REDUCTIONS):
    if reduction not in choices:
        raise ValueError(f"{name}: reduction must be one of "
                         f"{', '.join(repr(c) for c in choices)}; found {reduction!r}")


def _check_input(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, found {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point, found {input.dtype}")


def _check_pair(name, input, target):
    """``target`` as a Tensor of input's shape, dtype and device (arrays become constants)."""
    _check_input(name, input)
    if isinstance(target, Tensor):
        if target.device != input.device:
            raise RuntimeError(f"{name}: input is on {input.device} but target is on "
                               f"{target.device}")
        if target.dtype != input.dtype:
            raise TypeError(f"{name}: input is {input.dtype} but target is {target.dtype}")
    else:
        target = as_tensor_like(target, input)
    if target.shape != input.shape:
        raise ValueError(f"{name}: input has shape {input.shape} but target has shape "
                         f"{target.shape}; they must be equal")
    return target


def _check_weight(name, weight, input, shape, what):
    """``weight`` as a Tensor that broadcasts to ``shape`` without changing it."""
    if isinstance(weight, str):
        raise TypeError(f"{name}: weight must be a Tensor or None, found the string "
                        f"{weight!r}; pass the reduction by name: reduction={weight!r}")
    weight = as_tensor_like(weight, input)
    fits = weight.ndim <= len(shape) and all(
        n in (1, m) for n, m in zip(reversed(weight.shape), reversed(shape)))
    if not fits:
        raise ValueError(f"{name}: {what} of shape {weight.shape} does not broadcast to the "
                         f"input's shape {tuple(shape)}")
    return weight


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


# ==================== regression losses ====================

def mse_loss(input, target, reduction="mean"):
    """Squared error ℓ = (x − y)², reduced; ∂ℓ/∂x = 2(x − y), ∂ℓ/∂y = −2(x − y).

    >>> import minigan
    >>> mse_loss(minigan.tensor([1.0, 2.0]), minigan.tensor([0.0, 0.0])).item()  # (1 + 4) / 2
    2.5
    """
    _check_reduction("mse_loss", reduction)
    target = _check_pair("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """Absolute error ℓ = |x − y|, reduced; ∂ℓ/∂x = sign(x − y), ∂ℓ/∂y = −sign(x − y)
    (0 where x = y). pix2pix adds λ·L1 between the translation and the ground truth
    (notes 001).

    >>> import minigan
    >>> l1_loss(minigan.tensor([1.0, -3.0]), minigan.tensor([0.0, 0.0]), reduction="sum").item()
    4.0
    """
    _check_reduction("l1_loss", reduction)
    target = _check_pair("l1_loss", input, target)
    return _reduce(abs(input - target), reduction)


# ==================== binary cross-entropy ====================

class ClampedLog(Function):
    """y = max(ln x, −100) for x ≥ 0 (−100 at x = 0: BCE's log, as PyTorch clamps it);
    ∂L/∂x = ∂L/∂y / x where ln x > −100, else 0 (the clamp is flat there).
    Shapes: x and y alike."""

    def forward(self, x):
        xp = get_array_module(x)
        positive = x > 0
        logs = xp.log(xp.where(positive, x, 1))  # ln 0 is never evaluated: no warning
        floor = x.dtype.type(LOG_FLOOR)
        return xp.where(positive, xp.maximum(logs, floor), floor)

    def backward(self, gy):
        x, = self.inputs
        inside = self.output().data > LOG_FLOOR
        # dividing by 1 outside keeps 0/0 out of the gradient and of its own derivative
        return where(inside, gy / where(inside, x, 1.0), 0.0)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """BCE on probabilities p ∈ [0, 1] (the output of a sigmoid), targets y ∈ [0, 1]:

        ℓ = −w · [y · max(ln p, −100) + (1 − y) · max(ln(1 − p), −100)]

        ∂ℓ/∂p = w · [(1 − y) / (1 − p) − y / p]      (each term 0 where its log is clamped)
        ∂ℓ/∂y = w · [max(ln(1 − p), −100) − max(ln p, −100)]

    The clamp keeps BCE(0, 1) = 100 finite, like PyTorch. "mean" divides by the number of
    elements (also with ``weight``, like PyTorch). For a sigmoid output, prefer
    ``binary_cross_entropy_with_logits``: it stays exact where σ rounds to 0 or 1.

    >>> import minigan
    >>> binary_cross_entropy(minigan.tensor([0.0]), minigan.tensor([1.0])).item()
    100.0
    """
    _check_reduction("binary_cross_entropy", reduction)
    target = _check_pair("binary_cross_entropy", input, target)
    xp = get_array_module(input.data)
    if input.size and (xp.any(input.data < 0) or xp.any(input.data > 1)):
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1], "
                         f"found values in [{float(input.data.min())}, "
                         f"{float(input.data.max())}]; for logits use "
                         "binary_cross_entropy_with_logits")
    loss = -(target * ClampedLog()(input) + (1 - target) * ClampedLog()(1 - input))
    if weight is not None:
        loss = loss * _check_weight("binary_cross_entropy", weight, input, input.shape,
                                    "weight")
    return _reduce(loss, reduction)


class BinaryCrossEntropyWithLogits(Function):
    """BCE of σ(z) against y, computed from the logit z without forming σ(z):

        ℓ = max(z, 0) − z·y + ln(1 + e^{−|z|})                          (no pos_weight)
        ℓ = (1 − y)·z + (1 + (c − 1)·y)·softplus(−z)                   (pos_weight c)

    e^{−|z|} ≤ 1, so ℓ is finite and exact for |z| = 1000. With lw = 1 + (c − 1)·y:

        ∂ℓ/∂z = lw·σ(z) − c·y          (= σ(z) − y without pos_weight)
        ∂ℓ/∂y = (c − 1)·softplus(−z) − z      (= −z without pos_weight)

    Both are written with sigmoid and softplus, so ℓ is twice differentiable.
    Shapes: z, y and ℓ alike; c broadcasts to them."""

    def __init__(self, pos_weight):
        self.pos_weight = pos_weight

    def forward(self, z, y):
        xp = get_array_module(z)
        log_term = xp.log1p(xp.exp(-xp.abs(z)))
        if self.pos_weight is None:
            return xp.maximum(z, 0) - z * y + log_term
        softplus_neg = log_term + xp.maximum(-z, 0)  # ln(1 + e^{−z}) without overflow
        return (1 - y) * z + (1 + (self.pos_weight - 1) * y) * softplus_neg

    def backward(self, gy):
        z, y = self.inputs
        gz = gt = None
        if self.pos_weight is None:
            if self.needs_input_grad[0]:
                gz = gy * (sigmoid(z) - y)
            if self.needs_input_grad[1]:
                gt = -gy * z
            return gz, gt
        c = as_tensor_like(self.pos_weight, z)
        if self.needs_input_grad[0]:
            gz = gy * ((1 + (c - 1) * y) * sigmoid(z) - c * y)
        if self.needs_input_grad[1]:
            gt = gy * ((c - 1) * softplus(-z) - z)
        return gz, gt


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """BCE of σ(input) against ``target``, stable for any logit (see
    ``BinaryCrossEntropyWithLogits``); ``weight`` multiplies ℓ, ``pos_weight`` (one per
    class, broadcast over the last axis) weighs the positive term. The GAN losses of the
    notes take logits, so this is the one they use.

    >>> import minigan
    >>> z = minigan.tensor([1000.0, -1000.0])
    >>> binary_cross_entropy_with_logits(z, minigan.tensor([0.0, 0.0]), reduction="none")
    tensor([1000.,    0.])
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(name, reduction)
    target = _check_pair(name, input, target)
    if pos_weight is not None:
        pos_weight = _check_weight(name, pos_weight, input, input.shape, "pos_weight").data
    loss = BinaryCrossEntropyWithLogits(pos_weight)(input, target)
    if weight is not None:
        loss = loss * _check_weight(name, weight, input, input.shape, "weight")
    return _reduce(loss, reduction)


# ==================== classification losses ====================

def _check_classes(name, input, target):
    """The class indices as an integer array on input's device, shape (N, d1, ..., dk)."""
    _check_input(name, input)
    if input.ndim < 2:
        raise ValueError(f"{name}: input must have shape (N, C) or (N, C, d1, ...), found "
                         f"shape {input.shape}")
    xp = get_array_module(input.data)
    if isinstance(target, Tensor):
        if target.device != input.device:
            raise RuntimeError(f"{name}: input is on {input.device} but target is on "
                               f"{target.device}")
        target = target.data
    target = xp.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, found dtype "
                        f"{target.dtype}")
    expected = input.shape[:1] + input.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{name}: input has shape {input.shape}, so target must have shape "
                         f"{expected}; found target shape {target.shape}")
    classes = input.shape[1]
    if target.size and (int(target.min()) < 0 or int(target.max()) >= classes):
        raise ValueError(f"{name}: target class indices must be in [0, {classes}), found "
                         f"values in [{int(target.min())}, {int(target.max())}]")
    return target


def _nll(name, input, classes, weight, reduction):
    """The reduced ℓₙ = −w_{tₙ} · input_{n, tₙ} for already checked class indices."""
    xp = get_array_module(input.data)
    C = input.shape[1]
    if input.ndim > 2:  # (N, C, d1, ..., dk) -> (N, d1, ..., dk, C) -> (N*d1*...*dk, C)
        input = input.permute(0, *range(2, input.ndim), 1).reshape(-1, C)
    flat = classes.reshape(-1)  # (N, d1, ..., dk) -> (M,)
    picked = input[xp.arange(flat.size), flat]  # (M,): log-probability of each target class
    if weight is None:
        loss, total = -picked, flat.size
    else:
        weight = as_tensor_like(weight, input)
        if weight.shape != (C,):
            raise ValueError(f"{name}: weight must have one entry per class, shape ({C},); "
                             f"found shape {weight.shape}")
        w = weight[flat]  # (M,): weight of each target's class
        loss, total = -w * picked, w.sum()
    if reduction == "none":
        return loss.reshape(classes.shape)  # (M,) -> (N, d1, ..., dk)
    return loss.sum() if reduction == "sum" else loss.sum() / total


def nll_loss(input, target, weight=None, reduction="mean"):
    """Negative log-likelihood of integer class labels, on log-probabilities x (N, C) or
    (N, C, d1, ...) and targets t (N,) or (N, d1, ...):

        ℓₙ = −w_{tₙ} · x_{n, tₙ}        ∂ℓₙ/∂x_{n,c} = −w_{tₙ} · [c = tₙ]

    "mean" divides Σ ℓₙ by Σ w_{tₙ} (by N without ``weight``), like PyTorch. ``target``
    is an integer array or integer Tensor; it is not differentiated.

    >>> import minigan
    >>> logp = minigan.tensor([[-1.0, -2.0], [-3.0, -4.0]])
    >>> nll_loss(logp, [1, 0]).item()  # (2 + 3) / 2
    2.5
    """
    _check_reduction("nll_loss", reduction)
    classes = _check_classes("nll_loss", input, target)
    return _nll("nll_loss", input, classes, weight, reduction)


def cross_entropy(input, target, weight=None, reduction="mean"):
    """Softmax cross-entropy of logits x (N, C) or (N, C, d1, ...) and integer classes t:

        ℓₙ = −w_{tₙ} · log softmax(xₙ)_{tₙ} = w_{tₙ} · (log Σ_c e^{x_{n,c}} − x_{n,tₙ})
        ∂ℓₙ/∂x_{n,c} = w_{tₙ} · (softmax(xₙ)_c − [c = tₙ])

    i.e. ``nll_loss(log_softmax(input, axis=1), target, weight, reduction)``.

    >>> import minigan
    >>> round(cross_entropy(minigan.tensor([[0.0, 0.0]]), [0]).item(), 6)  # log 2
    0.693147
    """
    _check_reduction("cross_entropy", reduction)
    classes = _check_classes("cross_entropy", input, target)
    return _nll("cross_entropy", log_softmax(input, axis=1), classes, weight, reduction)


# ==================== divergences ====================

def kl_div(input, target, reduction="mean", log_target=False):
    """Kullback–Leibler divergence, PyTorch's convention: ``input`` holds log q, ``target``
    holds p (or log p with ``log_target=True``), pointwise

        ℓ = p · (log p − log q)      with 0 · log 0 = 0
        ∂ℓ/∂(log q) = −p,   ∂ℓ/∂p = log p + 1 − log q   (taken as −log q at p = 0)

    and KL(p ‖ q) = Σ ℓ. reduction "batchmean" divides Σ ℓ by the batch size N = shape[0]
    and is the true KL per sample; "mean" divides by the number of elements, like PyTorch.
    The notes (003) use it to compare p_data with p_model.

    >>> import minigan
    >>> p = minigan.tensor([[0.5, 0.5]])
    >>> round(kl_div(minigan.tensor([[0.25, 0.75]]).log(), p, reduction="batchmean").item(), 6)
    0.143841
    """
    _check_reduction("kl_div", reduction, REDUCTIONS + ("batchmean",))
    target = _check_pair("kl_div", input, target)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        positive = target.data > 0
        loss = target * (log(where(positive, target, 1.0)) - input)  # 0·log 0 = 0
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)

