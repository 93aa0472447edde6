"""Operators and methods of Tensor, bound to the functional ops.

autograd.py defines Tensor without knowing any op (ops are built on Tensor, so the
dependency points one way); this module gives Tensor its ``+ - * / ** @``, indexing and
methods such as ``x.sum()`` once the ops exist.
"""
from minigan.autograd import Tensor
from minigan.functional import activation, arithmetic as A, reductions as R, shapes as S


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
    T.__add__, T.__radd__ = A.add, _reflected(A.add)
    T.__sub__, T.__rsub__ = A.sub, _reflected(A.sub)
    T.__mul__, T.__rmul__ = A.mul, _reflected(A.mul)
    T.__truediv__, T.__rtruediv__ = A.div, _reflected(A.div)
    T.__pow__, T.__rpow__ = A.pow, _reflected(A.pow)
    T.__matmul__, T.__rmatmul__ = A.matmul, _reflected(A.matmul)
    T.__neg__ = A.neg
    T.__abs__ = A.abs
    T.__getitem__ = S.getitem
    for name in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        setattr(T, name, _compare(name))
    T.__hash__ = object.__hash__  # __eq__ is elementwise; identity stays the hash
    for module, names in ((A, ("exp", "log", "sqrt", "abs", "clamp", "matmul", "pow")),
                          (R, ("sum", "mean", "max", "min", "var", "broadcast_to", "sum_to")),
                          (S, ("reshape", "flatten", "permute", "transpose", "unsqueeze",
                               "squeeze", "split"))):
        for name in names:
            setattr(T, name, getattr(module, name))
    T.view = S.reshape
    T.expand = R.broadcast_to
    T.T = property(lambda self: S.transpose(self))
    T.mT = property(lambda self: S.transpose(self, -2, -1))
    for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
        setattr(T, name, getattr(activation, name))
