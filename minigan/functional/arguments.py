"""Checks of the non-tensor arguments ops share (kernel sizes, strides, paddings)."""
import numbers


def int_pair(value, op, name, minimum):
    """(a, b) from an int or a pair of ints, each ≥ ``minimum`` — PyTorch's "int or tuple"
    arguments. Anything else is a ValueError naming the op, the argument and the value.

    >>> int_pair(3, "conv2d", "stride", 1), int_pair((1, 2), "conv2d", "padding", 0)
    ((3, 3), (1, 2))
    """
    if isinstance(value, numbers.Integral):
        pair = (value, value)
    else:
        pair = tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                             or v < minimum for v in pair):
        raise ValueError(f"{op}: {name} must be an int ≥ {minimum} or a pair of them, found "
                         f"{value!r}")
    return int(pair[0]), int(pair[1])
