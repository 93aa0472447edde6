"""Parameter and Module: the PyTorch-shaped base of every layer and model.

A ``Module`` registers, as attributes are assigned, the ``Parameter``s it trains, the
sub-``Module``s it is made of and the buffers it keeps (running statistics), in the order
they are assigned. From that registry it gives the dotted names PyTorch uses
("0.weight", "net.1.running_mean"), the ``state_dict`` that checkpoints store, and the
recursive ``train()``/``eval()``/``to(device)``/``zero_grad()``.

>>> import minigan
>>> from minigan import nn
>>> class Affine(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.scale = nn.Parameter(minigan.ones(3))
...         self.register_buffer("calls", minigan.zeros(1))
...     def forward(self, x):
...         return x * self.scale
>>> m = Affine()
>>> [name for name, _ in m.named_parameters()], list(m.state_dict())
(['scale'], ['scale', 'calls'])
"""
from collections import OrderedDict, namedtuple

import numpy as np

from minigan import backend
from minigan.autograd import Tensor, no_grad


# ==================== Parameter ====================

class Parameter(Tensor):
    """A Tensor that a Module trains: a leaf with ``requires_grad=True`` by default.

    ``Parameter(tensor_or_array)`` shares the tensor's (or array's) data, like PyTorch's
    ``nn.Parameter``; assigning one to a Module attribute registers it.

    >>> import minigan
    >>> w = Parameter(minigan.zeros(2, 3))
    >>> w.requires_grad, w.is_leaf, w.shape
    (True, True, (2, 3))
    """
    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


# ==================== Module ====================

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models: subclasses assign parameters, buffers and
    sub-modules in ``__init__`` (after ``super().__init__()``) and define ``forward``.

    Calling the module, ``m(x)``, runs ``m.forward(x)``.
    """

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these registries to exist already
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def fused_with(self, following):
        """A function computing ``following(self(x))`` in fewer passes over memory, or None
        (the default): nn.Sequential asks each layer about the next one. Batch norm answers
        for a ReLU or LeakyReLU after it (the DCGAN block), with the same values."""
        return None

    # ---- registration ----
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} to a {type(self).__name__} before "
                "Module.__init__() ran: call super().__init__() first in __init__")
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name, keep=params)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=modules)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to parameter "
                                f"{name!r} of {type(self).__name__}: expected a Parameter "
                                "or None")
            params[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign a {type(value).__name__} to buffer {name!r} "
                                f"of {type(self).__name__}: expected a Tensor or None")
            buffers[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to sub-module "
                                f"{name!r} of {type(self).__name__}: expected a Module or None")
            modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails, i.e. for registered names.
        registries = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in registries and name in registries[registry]:
                return registries[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def _forget(self, name, keep=None):
        """Unregister ``name`` everywhere but in ``keep``, the registry about to receive it:
        a replaced child or parameter keeps its place, so the order of ``modules()``,
        ``parameters()`` and a Sequential's forward stays the order of definition."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        if keep is not self._buffers:
            self._non_persistent_buffers.discard(name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter or None) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a Parameter or None, "
                            f"found {type(param).__name__}")
        self._check_new_name(name, "parameter")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a Tensor that is state but not trained (e.g. running statistics).

        Persistent buffers appear in ``state_dict``; all buffers follow ``to(device)``.
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}): expected a Tensor or None, found "
                            f"{type(tensor).__name__}")
        self._check_new_name(name, "buffer")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        (self._non_persistent_buffers.discard if persistent
         else self._non_persistent_buffers.add)(name)

    def add_module(self, name, module):
        """Register ``module`` (a Module or None) as a child under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): expected a Module or None, found "
                            f"{type(module).__name__}")
        self._check_new_name(name, "module")
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    def _check_new_name(self, name, kind):
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', found "
                           f"{name!r}")
        if name in self.__dict__ and name not in self._parameters:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")

    # ---- walking the tree ----
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant, depth first;
        a module reachable twice is listed once."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                sub = prefix + ("." if prefix else "") + name
                yield from child.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse):
        seen = set()  # ids: Tensor's == is elementwise, so never use `in` on Tensors
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) pairs; a parameter shared by two layers appears once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target):
        """The descendant at dotted path ``target`` ("" is the module itself)."""
        module = self
        for name in target.split(".") if target else []:
            if name not in module._modules or module._modules[name] is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module {name!r} "
                                     f"(looking up {target!r})")
            module = module._modules[name]
        return module

    def apply(self, fn):
        """Call ``fn(module)`` on every child (recursively) and then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes, gradients, devices ----
    def train(self, mode=True):
        """Training mode (dropout active, batch norm uses batch statistics), recursively."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): expected a bool, found {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode, recursively: the same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording of every parameter on or off (freeze a network)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the accumulated gradients: ``.grad = None`` (PyTorch ≥ 2's default), or
        filled with zeros when ``set_to_none=False``."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad = Tensor(backend.get_array_module(param.grad.data)
                                    .zeros_like(param.grad.data))

    def to(self, *args, device=None, dtype=None):
        """Move parameters, gradients and buffers in place to ``device`` and/or cast the
        floating ones to ``dtype``: ``m.to("cuda")``, ``m.to("float64")``,
        ``m.to("cpu", "float64")``. Integer buffers (counters) keep their dtype."""
        for arg in args:
            if isinstance(arg, str) and arg.split(":")[0].lower() in backend.DEVICES:
                device = arg
            else:
                dtype = arg
        device = backend.check_device(device) if device is not None else None
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.type not in backend.FLOAT_DTYPES:
                raise ValueError(f"Module.to: dtype must be float32 or float64, found {dtype}")

        def convert(array):
            if device is not None:
                array = backend.to_device(array, device)
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype, copy=False)
            return array

        for tensor in list(self.parameters()) + list(self.buffers()):
            tensor.data = convert(tensor.data)
            if tensor.grad is not None:
                tensor.grad.data = convert(tensor.grad.data)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    # ---- state dict ----
    def state_dict(self, prefix=""):
        """OrderedDict dotted name -> Tensor of every parameter and persistent buffer,
        detached (sharing data with the module: save or copy it to keep a snapshot)."""
        state = OrderedDict()
        for module_prefix, module in self.named_modules(prefix=prefix, remove_duplicate=False):
            dot = module_prefix + ("." if module_prefix else "")
            for name, param in module._parameters.items():
                if param is not None:
                    state[dot + name] = param.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    state[dot + name] = buffer.detach()
        return state

    def _state_tensors(self):
        """dotted name -> the live Tensor that state_dict would detach."""
        tensors = OrderedDict()
        for module_prefix, module in self.named_modules(remove_duplicate=False):
            dot = module_prefix + ("." if module_prefix else "")
            for name, param in module._parameters.items():
                if param is not None:
                    tensors[dot + name] = param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    tensors[dot + name] = buffer
        return tensors

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` (name -> Tensor or array) into the parameters and
        buffers, in place, moved to each one's device and cast to its dtype.

        Every key is checked before anything is copied. A shape mismatch is always an
        error; with ``strict=True`` so are missing and unexpected keys (all listed).
        Returns ``(missing_keys, unexpected_keys)``.
        """
        own = self._state_tensors()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        if strict and missing:
            errors.append("Missing key(s) in state_dict: "
                          + ", ".join(f'"{key}"' for key in missing) + ".")
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{key}"' for key in unexpected) + ".")
        for key, target in own.items():
            if key in state_dict:
                found = tuple(np.shape(_array_of(state_dict[key])))
                if found != target.shape:
                    errors.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{found} from checkpoint, the shape in current model is "
                                  f"{target.shape}.")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    value = backend.to_device(_array_of(state_dict[key]), target.device)
                    target.data[...] = value.astype(target.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ----
    def extra_repr(self):
        """The arguments shown inside ``Name(...)``; layers override it."""
        return ""

    def __repr__(self):
        lines = [line for line in self.extra_repr().split("\n") if line]
        for name, child in self._modules.items():
            lines.append(f"({name}): " + _indent(repr(child), 2))
        if not self._modules:
            return f"{type(self).__name__}({', '.join(lines)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _array_of(value):
    return value.data if isinstance(value, Tensor) else value


def _indent(text, spaces):
    """Indent every line of ``text`` but the first."""
    return text.replace("\n", "\n" + " " * spaces)
