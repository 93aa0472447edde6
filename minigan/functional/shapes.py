"""Reshapes, transposes, indexing and joining: ops that move elements without changing
them. Each backward moves the gradient back with the adjoint move (reshape back, the
inverse permutation, scatter-add for a gather, slices for a concatenation), which is again
an op of this file, so every gradient is differentiable again.
"""
import numbers

from minigan.autograd import Function, Tensor
from minigan.backend import get_array_module


def _unwrap(value):
    """A plain array for use as a constant (masks, conditions, indices)."""
    return value.data if isinstance(value, Tensor) else value


# ==================== shapes ====================

class Reshape(Function):
    """y = x with a new shape (same elements in C order); ∂L/∂x = ∂L/∂y reshaped back."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return gy.reshape(self.inputs[0].shape)


class Transpose(Function):
    """y = x with axes permuted; ∂L/∂x = ∂L/∂y permuted by the inverse permutation."""

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        return gy.permute(*inverse_permutation(self.axes))


def inverse_permutation(axes):
    """The permutation that undoes ``axes``: x.transpose(axes).transpose(result) is x."""
    return tuple(sorted(range(len(axes)), key=axes.__getitem__))


def reshape(x, *shape):
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    if shape == x.shape:
        return x
    return Reshape(shape)(x)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes start_dim..end_dim into one (PyTorch's flatten)."""
    end = end_dim % x.ndim
    middle = 1
    for n in x.shape[start_dim:end + 1]:
        middle *= n
    return reshape(x, x.shape[:start_dim] + (middle,) + x.shape[end + 1:])


def permute(x, *axes):
    axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    if sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
        raise ValueError(f"permute: {axes} is not a permutation of the {x.ndim} axes of a "
                         f"tensor of shape {x.shape}")
    return Transpose(tuple(a % x.ndim for a in axes))(x)


def transpose(x, dim0=None, dim1=None):
    """Swap two axes (PyTorch's transpose); with no axes, reverse them all (NumPy's)."""
    axes = list(range(x.ndim))
    if dim0 is None:
        axes.reverse()
    else:
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return Transpose(tuple(axes))(x)


def unsqueeze(x, dim):
    dim = dim % (x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x, dim=None):
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dim = dim % x.ndim
    return reshape(x, x.shape[:dim] + x.shape[dim + 1:]) if x.shape[dim] == 1 else x


# ==================== indexing and joining ====================

def _is_basic(index):
    """True when ``index`` uses only ints, slices, None and Ellipsis (no element repeats)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (numbers.Integral, slice)) or i is None or i is Ellipsis
               for i in items)


class GetItem(Function):
    """y = x[index] (basic or integer-array indexing);
    ∂L/∂x = zeros with ∂L/∂y scattered-added at ``index`` (repeated indices accumulate)."""

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        return IndexAdd(self.index, self.inputs[0].shape)(gy)


class IndexAdd(Function):
    """y = zeros(shape) with x added at ``index``; the adjoint of GetItem:
    ∂L/∂x = (∂L/∂y)[index]."""

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, x):
        xp = get_array_module(x)
        y = xp.zeros(self.shape, dtype=x.dtype)
        if _is_basic(self.index):
            y[self.index] = x
        else:
            xp.add.at(y, self.index, x)
        return y

    def backward(self, gy):
        return GetItem(self.index)(gy)


def getitem(x, index):
    if isinstance(index, tuple):
        index = tuple(_unwrap(i) for i in index)
    else:
        index = _unwrap(index)
    return GetItem(index)(x)


class Cat(Function):
    """y = the inputs joined along ``axis``; ∂L/∂xᵢ = the slice of ∂L/∂y that xᵢ filled."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return get_array_module(*xs).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        grads, start = [], 0
        for x, need in zip(self.inputs, self.needs_input_grad):
            stop = start + x.shape[self.axis]
            index = (slice(None),) * self.axis + (slice(start, stop),)
            grads.append(getitem(gy, index) if need else None)
            start = stop
        return tuple(grads)


def cat(tensors, axis=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    axis = axis % tensors[0].ndim
    reference = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != len(reference) or any(
                n != m for d, (n, m) in enumerate(zip(t.shape, reference)) if d != axis):
            raise ValueError(f"cat: tensor {i} has shape {t.shape}, which does not match "
                             f"{reference} outside axis {axis}")
    return Cat(axis)(*tensors)


def stack(tensors, axis=0):
    """Join along a new axis: cat of the inputs each given a length-1 axis there."""
    tensors = list(tensors)
    axis = axis % (tensors[0].ndim + 1)
    return cat([unsqueeze(t, axis) for t in tensors], axis)


def split(x, split_size_or_sections, axis=0):
    """Pieces of x along ``axis``: equal pieces of the given size (the last may be shorter),
    or pieces of the listed sizes (PyTorch's split)."""
    axis = axis % x.ndim
    length = x.shape[axis]
    if isinstance(split_size_or_sections, numbers.Integral):
        sizes = [split_size_or_sections] * (length // split_size_or_sections)
        if length % split_size_or_sections:
            sizes.append(length % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, but axis "
                             f"{axis} has length {length}")
    pieces, start = [], 0
    for n in sizes:
        pieces.append(getitem(x, (slice(None),) * axis + (slice(start, start + n),)))
        start += n
    return tuple(pieces)
