"""Operators and methods of Tensor, bound to the functional ops.

autograd.py defines Tensor without knowing any op (ops are built on Tensor, so the
dependency points one way); this module gives Tensor its ``+ - * / ** @``, indexing and
methods such as ``x.sum()`` once the ops exist.
"""
from minigan.autograd import Tensor
from minigan.functional import activation
from minigan.functional import math as M


def _reflected(op):
    return lambda self, other: op(other, self)


def _compare(name):
    def compare(self, other):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(getattr(self.data, name)(other))
    compare.__name__ = name
    return compare


def install():
    T = Tensor
    T.__add__, T.__radd__ = M.add, _reflected(M.add)
    T.__sub__, T.__rsub__ = M.sub, _reflected(M.sub)
    T.__mul__, T.__rmul__ = M.mul, _reflected(M.mul)
    T.__truediv__, T.__rtruediv__ = M.div, _reflected(M.div)
    T.__pow__, T.__rpow__ = M.pow, _reflected(M.pow)
    T.__matmul__, T.__rmatmul__ = M.matmul, _reflected(M.matmul)
    T.__neg__ = M.neg
    T.__abs__ = M.abs
    T.__getitem__ = M.getitem
    for name in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        setattr(T, name, _compare(name))
    T.__hash__ = object.__hash__  # __eq__ is elementwise; identity stays the hash
    for name in ("sum", "mean", "max", "min", "var", "reshape", "flatten", "permute",
                 "transpose", "unsqueeze", "squeeze", "exp", "log", "sqrt", "abs", "clamp",
                 "matmul", "pow", "broadcast_to", "sum_to", "split"):
        setattr(T, name, getattr(M, name))
    T.view = M.reshape
    T.expand = M.broadcast_to
    T.T = property(lambda self: M.transpose(self))
    T.mT = property(lambda self: M.transpose(self, -2, -1))
    for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
        setattr(T, name, getattr(activation, name))
