"""Padding: constant, reflect and replicate, with PyTorch's ``F.pad`` arguments.

Each mode is linear, y = A x: constant padding is ``ConstantPad``, whose adjoint is a crop;
reflect and replicate are index maps (each border pixel copies an inside pixel), a
``Gather`` whose adjoint scatter-adds each border pixel's gradient back onto the pixel it
copies (functional/_linear_maps.py).
"""
from minigan.autograd import Function
from minigan.backend import get_array_module
from minigan.functional._linear_maps import Gather, ravel_grid
from minigan.functional.arguments import check_pad_mode, check_tensor, pad_widths


class ConstantPad(Function):
    """y = x surrounded by ``value`` on its last k axes; ``widths`` holds (before, after)
    for each of them: y[..., b₁ + i₁, …, bₖ + iₖ] = x[..., i₁, …, iₖ], ``value`` elsewhere.

    ∂L/∂x = ∂L/∂y cropped to the inside (``Crop``): value is a constant, so the border's
    gradient goes nowhere. Shapes: (*lead, n₁, …) -> (*lead, b₁ + n₁ + a₁, …).
    """

    def __init__(self, widths, value):
        self.widths, self.value = tuple(widths), value

    def forward(self, x):
        xp = get_array_module(x)
        lead = ((0, 0),) * (x.ndim - len(self.widths))
        return xp.pad(x, lead + self.widths, mode="constant", constant_values=self.value)

    def backward(self, gy):
        return Crop(self.widths)(gy)


class Crop(Function):
    """y = the inside of x: x without ``widths`` = ((before, after), …) on its last axes.
    The adjoint of ConstantPad: ∂L/∂x = ∂L/∂y padded with zeros (``ConstantPad``, value 0).
    """

    def __init__(self, widths):
        self.widths = tuple(widths)

    def forward(self, x):
        k = len(self.widths)
        inside = tuple(slice(b, n - a) for n, (b, a) in zip(x.shape[-k:], self.widths))
        return x[(Ellipsis,) + inside]

    def backward(self, gy):
        return ConstantPad(self.widths, 0.0)(gy)


def _pad_source(xp, n, before, after, mode):
    """For each of the before + n + after positions along a padded axis, the input index it
    copies: j ↦ i = j − before, folded back into [0, n)."""
    i = xp.arange(-before, n + after)
    if mode == "reflect":  # mirror about the edge pixels 0 and n − 1, which are not repeated
        return (n - 1) - xp.abs((n - 1) - xp.abs(i))
    return xp.clip(i, 0, n - 1)  # replicate: the edge pixel repeats


def pad(x, pad, mode="constant", value=0.0):
    """Pad the last len(pad)/2 axes of x, with PyTorch's order: the last axis first,
    ``pad = (left, right, top, bottom, …)``.

    mode "constant": ``value`` outside;  "reflect": mirrored about the edge pixel (which is
    not repeated: 1 2 3 → 3 2 [1 2 3] 2);  "replicate": the edge pixel repeated
    (1 2 3 → 1 1 [1 2 3] 3). Each is linear, y = A x, and ∂L/∂x = Aᵀ ∂L/∂y: for constant
    a crop; for reflect/replicate a scatter-add of each border pixel's gradient back onto
    the pixel it copies (``Gather``/``ScatterAdd`` with the index map A stands for).

    Shape: (*, H, W) -> (*, top + H + bottom, left + W + right) for a 4-tuple.

    >>> import minigan
    >>> x = minigan.tensor([[[[1.0, 2.0, 3.0]]]])
    >>> pad(x, (2, 1), mode="reflect").data.tolist()
    [[[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]]
    >>> pad(x, (1, 2), mode="replicate").data.tolist()
    [[[[1.0, 1.0, 2.0, 3.0, 3.0, 3.0]]]]
    """
    check_tensor(x, "pad")
    check_pad_mode(mode, "pad")
    widths = pad_widths(pad, "pad", x.shape)
    if mode == "constant":
        return ConstantPad(widths, value)(x)
    if value != 0:
        raise ValueError(f"pad: mode {mode!r} takes no value (found value={value}); "
                         "value is for mode='constant'")
    tail = x.shape[x.ndim - len(widths):]
    if mode == "reflect":
        for axis, n, (before, after) in zip(range(-len(tail), 0), tail, widths):
            if before >= n or after >= n:
                raise ValueError(
                    f"pad: reflect padding must be smaller than the padded axis: axis {axis} "
                    f"of the input (shape {x.shape}) has size {n}, found padding "
                    f"({before}, {after})")
    xp = get_array_module(x.data)
    sources = [_pad_source(xp, n, b, a, mode) for n, (b, a) in zip(tail, widths)]
    return Gather(ravel_grid(sources, tail), len(tail))(x)
