"""Functions that make new tensors: from data, constant-filled, random.

Floating tensors get the default dtype (float32) unless ``dtype`` says otherwise, and the
default device ($MINIGAN_DEVICE, else cpu) unless ``device`` says otherwise. Random values
come from the one generator that ``minigan.manual_seed`` seeds (see backend.py).
"""
import numpy as np

from minigan import backend
from minigan.autograd import Tensor


def _finish(array, dtype, device, requires_grad):
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    elif array.dtype.kind == "f":
        array = array.astype(backend.get_default_dtype(), copy=False)
    device = backend.default_device() if device is None else device
    return Tensor(backend.to_device(array, device), requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays, Tensors)."""
    if isinstance(data, Tensor):
        data = data.data
    array = np.array(backend.to_numpy(data), copy=True)
    return _finish(array, dtype, device, requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    return full(_shape(shape), 0.0, dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    return full(_shape(shape), 1.0, dtype, device, requires_grad)


def full(shape, value, dtype=None, device=None, requires_grad=False):
    dtype = dtype or backend.get_default_dtype()
    return _finish(np.full(_shape((shape,)), value, dtype=dtype), dtype, device, requires_grad)


def zeros_like(x, requires_grad=False):
    return zeros(x.shape, dtype=x.dtype, device=x.device, requires_grad=requires_grad)


def ones_like(x, requires_grad=False):
    return ones(x.shape, dtype=x.dtype, device=x.device, requires_grad=requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False):
    """Samples of N(0, 1)."""
    dtype = np.dtype(dtype or backend.get_default_dtype()).type
    array = backend.generator().standard_normal(_shape(shape), dtype=dtype)
    return _finish(array, dtype, device, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False):
    """Samples of U[0, 1)."""
    dtype = np.dtype(dtype or backend.get_default_dtype()).type
    array = backend.generator().random(_shape(shape), dtype=dtype)
    return _finish(array, dtype, device, requires_grad)


def randn_like(x):
    return randn(x.shape, dtype=x.dtype, device=x.device)


def randint(low, high, shape, device=None):
    """Integers uniform in [low, high) (int64)."""
    array = backend.generator().integers(low, high, size=_shape((shape,)), dtype=np.int64)
    return _finish(array, None, device, False)


def arange(*args, dtype=None, device=None):
    return _finish(np.arange(*args), dtype, device, False)


def _shape(shape):
    """Accept f(2, 3), f((2, 3)) and f([2, 3])."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    if len(shape) == 1 and isinstance(shape[0], int):
        return (shape[0],)
    return tuple(shape)
