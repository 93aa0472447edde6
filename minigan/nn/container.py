"""Containers: Sequential (a pipeline), ModuleList and ModuleDict (registered collections).

Children are registered under their position ("0", "1", ...) or key, so parameter names are
PyTorch's: ``Sequential(Linear(2, 3), ReLU())`` has "0.weight" and "0.bias".
"""
import operator
from collections import OrderedDict

from minigan.nn.module import Module


# ==================== Sequential ====================

class _ModuleSequence(Module):
    """What Sequential and ModuleList share: children named by position "0", "1", ..."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), _checked(module, len(self)))
        return self

    def __setitem__(self, index, module):
        """Replace the child at ``index``; it keeps its place (and its name)."""
        name = list(self._modules)[_position(index, len(self))]
        setattr(self, name, _checked(module, index))


class Sequential(_ModuleSequence):
    """Modules applied one after the other: y = fₙ(… f₂(f₁(x))).

    ``Sequential(m1, m2, ...)`` names the children "0", "1", ...;
    ``Sequential(OrderedDict(name=module, ...))`` keeps the given names. Inputs after x go
    to the first module only, y = fₙ(… f₂(f₁(x, c))): a conditional D's first layer takes
    the condition c beside the image (``nn.ConstantChannelsConv2d``).

    Two neighbours may run as one op when the first offers it (``Module.fused_with``):
    BatchNorm followed by ReLU or LeakyReLU is one pass of batch norm with the activation
    applied in place, which a DCGAN block repeats (same values, fewer passes over memory).

    >>> from minigan import nn
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> len(net), [name for name, _ in net.named_parameters()]
    (3, ['0.weight', '0.bias', '2.weight', '2.bias'])
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, _checked(module, name))
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), _checked(module, i))

    def forward(self, x, *inputs):
        modules = list(self._modules.values())
        i = 0
        while i < len(modules):
            # a fused pair takes x alone: the module given the extra inputs runs by itself
            fused = (modules[i].fused_with(modules[i + 1])
                     if i + 1 < len(modules) and not inputs else None)
            x = fused(x) if fused is not None else modules[i](x, *inputs)
            inputs = ()
            i += 1 if fused is None else 2
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_position(index, len(self))]


# ==================== ModuleList ====================

class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered (a plain list would hide them).

    >>> from minigan import nn
    >>> blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    >>> len(blocks), len(list(blocks.parameters()))
    (3, 6)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: iterate over it instead")

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(_position(index, len(self)))]

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, _checked(module, index))
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)


# ==================== ModuleDict ====================

class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in insertion order.

    >>> from minigan import nn
    >>> heads = nn.ModuleDict({"real": nn.Linear(4, 1), "cls": nn.Linear(4, 10)})
    >>> list(heads.keys()), "cls.weight" in heads.state_dict()
    (['real', 'cls'], True)
    """

    def __init__(self, modules=None):
        super().__init__()
        for name, module in dict(modules or {}).items():
            self[name] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward: index it instead")

    def __getitem__(self, name):
        return self._modules[name]

    def __setitem__(self, name, module):
        self.add_module(name, _checked(module, name))

    def __contains__(self, name):
        return name in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


def _checked(module, where):
    if isinstance(module, type) and issubclass(module, Module):
        raise TypeError(f"container entry {where!r}: expected a Module, found the class "
                        f"{module.__name__}; did you mean {module.__name__}(...)?")
    if not isinstance(module, Module):
        raise TypeError(f"container entry {where!r}: expected a Module, found "
                        f"{type(module).__name__}")
    return module


def _position(index, length):
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a container of {length} modules")
    return index % length
