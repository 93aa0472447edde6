"""A module's forward pass with other parameter tensors: ``forward_with(module, params, x)``.

A ``Module`` computes with its own ``Parameter``s, which are leaves. Some algorithms need
the same network evaluated at parameters that are themselves the result of a computation
— the unrolled GAN (notes 003, "Unrolled GAN") evaluates its discriminator at

    θ_{k+1} = θ_k − η · step(∇_θ L_D(θ_k)),

a differentiable function of θ_0 and of the generator's output. ``forward_with`` runs the
module's own ``forward`` with each parameter replaced by the given Tensor (any Tensor,
with its graph), so the network is written once and evaluated anywhere in parameter space:

    y = f(x; params),   ∂y/∂params and ∂y/∂x are those of f itself

(the replacement only changes *which* tensors the ops read; every op is minigan's own, so
its first and second derivatives are the ops' tested ones). Buffers (batch-norm running
statistics) stay the module's own. The parameters are restored when the call returns,
also after an error.

>>> import minigan
>>> from minigan import nn
>>> net = nn.Linear(2, 1)
>>> params = {"weight": minigan.tensor([[1.0, 2.0]]), "bias": minigan.tensor([0.5])}
>>> forward_with(net, params, minigan.tensor([[3.0, 4.0]])).item()     # 3 + 8 + 0.5
11.5
>>> net.weight is dict(net.named_parameters())["weight"]               # restored
True
"""
from minigan.autograd import Tensor


def forward_with(module, params, *args, **kwargs):
    """``module(*args, **kwargs)`` computed with ``params`` (dotted name -> Tensor, the
    names of ``module.named_parameters()``, every one of them) in place of its parameters.

    Raises ValueError naming the missing or unexpected names, or a shape that differs.
    """
    slots = {}   # dotted name -> (owning module, attribute name)
    for prefix, owner in module.named_modules():
        for name, param in owner._parameters.items():
            if param is not None:
                slots[(prefix + "." if prefix else "") + name] = (owner, name)
    missing, unexpected = sorted(set(slots) - set(params)), sorted(set(params) - set(slots))
    if missing or unexpected:
        raise ValueError(f"forward_with: expected parameters {sorted(slots)}, missing "
                         f"{missing}, unexpected {unexpected}")
    for name, (owner, attr) in slots.items():
        value, own = params[name], owner._parameters[attr]
        if not isinstance(value, Tensor) or value.shape != own.shape:
            raise ValueError(f"forward_with: parameter {name!r} must be a Tensor of shape "
                             f"{own.shape}, found {getattr(value, 'shape', type(value).__name__)}")
    saved = {name: owner._parameters[attr] for name, (owner, attr) in slots.items()}
    try:
        # The registry is written directly: Module.__setattr__ admits only leaf Parameters.
        for name, (owner, attr) in slots.items():
            owner._parameters[attr] = params[name]
        return module(*args, **kwargs)
    finally:
        for name, (owner, attr) in slots.items():
            owner._parameters[attr] = saved[name]
