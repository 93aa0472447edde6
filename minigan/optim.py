"""Optimisers with PyTorch's names, arguments and update rules: SGD, Adam, RMSprop.

An optimiser holds ``param_groups`` (lists of parameters, each group with its own
hyperparameters) and per-parameter ``state`` (step counts, moment arrays). ``step()``
updates each parameter's ``.data`` array in place from its ``.grad``, with the array
module of the parameter (``xp``), recording no graph. ``state_dict()`` /
``load_state_dict()`` copy that state exactly, so a resumed run continues bit for bit.

Notation of the updates: θ parameter, g gradient, γ lr, λ weight_decay, t step (from 1).

>>> import minigan
>>> from minigan import nn, optim
>>> w = nn.Parameter(minigan.tensor([1.0, -2.0]))
>>> opt = optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()            # g = 2w
>>> opt.step()
>>> w.data.tolist()                     # θ − γ g = 0.8 θ
[0.800000011920929, -1.600000023841858]
"""
import math

from minigan import backend
from minigan.autograd import Tensor, enable_grad, no_grad


# ==================== Optimizer ====================

class Optimizer:
    """Base class: parameter groups, state, ``zero_grad``, ``step``, state dicts.

    ``params``: an iterable of Parameters, or of dicts ``{"params": [...], "lr": ...}``
    (groups whose missing hyperparameters take the optimiser's defaults).
    Subclasses implement ``_update(param, grad, state, group)`` on raw arrays.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        # Keyed by the Parameter itself: Tensor hashes by identity, and dict lookup compares
        # identity before equality, so Tensor's elementwise == is never called here.
        self.state = {}
        self.param_groups = []
        groups = list(params) if not isinstance(params, Tensor) else None
        if groups is None:
            raise TypeError("optimizer params must be an iterable of Parameters or dicts, "
                            "found a single Tensor; wrap it in a list")
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict ``{"params": [...], **hyperparameters}`` to ``param_groups``."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"a parameter group must be a dict with a 'params' entry, found "
                            f"{type(group).__name__}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} of "
                                f"the group is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"optimizer can only optimize leaf tensors, but parameter {i} "
                                 f"(shape {p.shape}) was made by an op; use .detach()")
            if id(p) in seen:
                raise ValueError(f"parameter {i} (shape {p.shape}) appears in more than one "
                                 "place in the optimizer's parameter groups")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"unknown hyperparameter(s) {sorted(unknown)} for "
                             f"{type(self).__name__}; expected some of {sorted(self.defaults)}")
        full = dict(self.defaults)
        full.update(group)
        full["params"] = params
        self._check_hyperparameters(full)
        self.param_groups.append(full)

    def _check_hyperparameters(self, group):
        for name in ("lr", "eps", "weight_decay", "momentum", "alpha", "dampening"):
            if name in group and not group[name] >= 0:
                raise ValueError(f"Invalid {name} value: {group[name]} (expected >= 0)")

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad`` (to None, or to zeros if ``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = Tensor(backend.get_array_module(p.data).zeros_like(p.data))

    def step(self, closure=None):
        """One update of every parameter that has a gradient. ``closure``, if given,
        re-evaluates the loss (it is called with gradients enabled) and is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.shape != p.shape:
                        raise RuntimeError(f"{type(self).__name__}.step: gradient of shape "
                                           f"{p.grad.shape} for a parameter of shape {p.shape}")
                    self._update(p, p.grad.data, self.state.setdefault(p, {}), group)
        return loss

    def _update(self, param, grad, state, group):
        raise NotImplementedError

    # ---- state dicts ----
    def state_dict(self):
        """``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}``
        with parameters numbered in group order, like PyTorch. Moment arrays are copied
        into Tensors (a snapshot); step counts are ints."""
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index[id(p)] = len(index)
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = {
                        name: Tensor(value.copy()) if _is_array(value) else value
                        for name, value in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by ``state_dict`` (copies, moved to each
        parameter's device and cast to its dtype). The groups must have the same sizes."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter group(s), "
                             f"but the optimizer has {len(self.param_groups)}")
        params = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"parameter group {i}: loaded state dict has "
                                 f"{len(saved['params'])} parameters, the optimizer has "
                                 f"{len(group['params'])}")
            params.extend(zip(saved["params"], group["params"]))
        by_index = dict(params)
        new_state = {}
        for key, saved in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(f"loaded state dict has state for parameter {key}, which "
                                 "is in none of its parameter groups")
            p = by_index[int(key)]
            new_state[p] = {name: _restored(value, p, name) for name, value in saved.items()}
        for saved, group in zip(saved_groups, self.param_groups):
            group.update({k: _restored_hyperparameter(v) for k, v in saved.items()
                          if k != "params"})
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _is_array(value):
    return isinstance(value, backend.ARRAY_TYPES)


def _restored(value, param, name):
    """A saved state entry as this optimizer keeps it: arrays copied onto the parameter's
    device with its dtype; numbers as Python numbers."""
    if isinstance(value, Tensor):
        value = value.data
    if _is_array(value):
        if value.shape != param.shape:
            raise ValueError(f"loaded state {name!r} has shape {value.shape}, but its "
                             f"parameter has shape {param.shape}")
        array = backend.to_device(value, param.device)
        return array.astype(param.dtype, copy=True)
    return value


def _restored_hyperparameter(value):
    return tuple(value) if isinstance(value, list) else value


# ==================== SGD ====================

class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (PyTorch's form):

        g ← g + λθ
        b ← g at t = 1,  b ← μ b + (1 − τ) g afterwards        (momentum μ, dampening τ)
        g ← g + μ b (nesterov)  or  g ← b                        (when μ ≠ 0)
        θ ← θ − γ g
    """

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum needs momentum > 0 and dampening = 0, found "
                             f"momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, param, grad, state, group):
        momentum, wd = group["momentum"], group["weight_decay"]
        if wd != 0:
            grad = grad + wd * param.data
        if momentum != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.copy()
            else:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            buf = state["momentum_buffer"]
            grad = grad + momentum * buf if group["nesterov"] else buf
        param.data -= group["lr"] * grad


# ==================== Adam ====================

class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with bias correction, as PyTorch computes it:

        g ← g + λθ
        m ← β₁ m + (1 − β₁) g,     v ← β₂ v + (1 − β₂) g²
        v_max ← max(v_max, v)  and use v_max for v below     (amsgrad)
        θ ← θ − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)      i.e. γ m̂ / (√v̂ + ε)

    With amsgrad the running maximum is taken of the raw v (then bias-corrected), as
    PyTorch's code does; older versions of its docs wrote the maximum of v̂ instead.

    The first step moves each weight by −γ · sign(g) (up to ε): m̂ = g, √v̂ = |g|.
    GANs use betas=(0.5, 0.999) (DCGAN, notes 000).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False):
        betas = tuple(betas)
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Invalid betas: expected two numbers in [0, 1), found {betas}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _update(self, param, grad, state, group):
        xp = backend.get_array_module(param.data)
        beta1, beta2 = group["betas"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param.data)
            state["exp_avg_sq"] = xp.zeros_like(param.data)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * (grad * grad)
        if group["amsgrad"]:
            v_max = state.setdefault("max_exp_avg_sq", xp.zeros_like(param.data))
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        denom = xp.sqrt(v) / math.sqrt(1 - beta2 ** t) + group["eps"]
        param.data -= (group["lr"] / (1 - beta1 ** t)) * m / denom


# ==================== RMSprop ====================

class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as PyTorch computes it (ε added after the √):

        g ← g + λθ
        v ← α v + (1 − α) g²,   ṽ = v
        ḡ ← α ḡ + (1 − α) g,    ṽ = v − ḡ²                        (centered)
        b ← μ b + g / (√ṽ + ε),  θ ← θ − γ b                       (momentum μ > 0)
        θ ← θ − γ g / (√ṽ + ε)                                    (otherwise)

    WGAN with weight clipping trains with RMSprop(lr=5e-5) (notes 002).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _update(self, param, grad, state, group):
        xp = backend.get_array_module(param.data)
        alpha = group["alpha"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(param.data)
        state["step"] += 1
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * (grad * grad)
        if group["centered"]:
            g_avg = state.setdefault("grad_avg", xp.zeros_like(param.data))
            g_avg *= alpha
            g_avg += (1 - alpha) * grad
            avg = xp.sqrt(v - g_avg * g_avg) + group["eps"]
        else:
            avg = xp.sqrt(v) + group["eps"]
        if group["momentum"] > 0:
            buf = state.setdefault("momentum_buffer", xp.zeros_like(param.data))
            buf *= group["momentum"]
            buf += grad / avg
            param.data -= group["lr"] * buf
        else:
            param.data -= group["lr"] * grad / avg
