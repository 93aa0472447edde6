"""Resizing layers: Module wrappers of the functional upsampling, padding and pooling ops
(functional/interpolation.py, padding.py, pooling.py, where the math and the derivatives
are), so they can sit in a ``Sequential``. None has parameters. Each checks its arguments
when it is built, with the ops' own checks (functional/arguments.py).

>>> import minigan
>>> from minigan.nn.resize import AvgPool2d, Upsample
>>> Upsample(scale_factor=2)(minigan.zeros(1, 3, 4, 4)).shape
(1, 3, 8, 8)
>>> AvgPool2d(2)(minigan.zeros(1, 3, 4, 4)).shape
(1, 3, 2, 2)
"""
import numbers

from minigan.functional.arguments import (IMAGE_LAYOUTS, check_interpolation, check_tensor,
                                          pad_widths, window_args)
from minigan.functional.interpolation import interpolate
from minigan.functional.padding import pad
from minigan.functional.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minigan.nn.module import Module


# ==================== upsampling ====================

class Upsample(Module):
    """Resize images to ``size`` or by ``scale_factor`` with "nearest" or "bilinear"
    interpolation (``minigan.functional.interpolate``): the generator's
    "upsample + conv" alternative to transposed convolution, free of checkerboard artefacts.

    Shape: (N, C, H, W) -> (N, C, OH, OW), OH = size[0] or ⌊H · scale_factor⌋.

    >>> Upsample(scale_factor=2, mode="bilinear")
    Upsample(scale_factor=2.0, mode='bilinear')
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        check_interpolation(size, scale_factor, mode, align_corners, "Upsample")
        if isinstance(scale_factor, (tuple, list)):
            scale_factor = tuple(float(s) for s in scale_factor)
        elif scale_factor is not None:
            scale_factor = float(scale_factor)
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x):
        check_tensor(x, "Upsample", ("(N, C, H, W)",))
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self):
        what = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                else f"size={self.size!r}")
        corners = f", align_corners={self.align_corners}" if self.align_corners is not None else ""
        return f"{what}, mode={self.mode!r}{corners}"


# ==================== padding ====================

class _Pad2d(Module):
    """Pad H and W by ``padding``: an int (all four sides) or (left, right, top, bottom)."""
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        sides = (padding,) * 4 if isinstance(padding, numbers.Integral) else padding
        pad_widths(sides, type(self).__name__, sides=4)
        self.padding = tuple(int(p) for p in sides)

    def forward(self, x):
        check_tensor(x, type(self).__name__, IMAGE_LAYOUTS)
        return pad(x, self.padding, mode=self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad2d(_Pad2d):
    """Pad by mirroring about the edge pixel, which is not repeated (1 2 3 → 2 [1 2 3] 2);
    each padding must be smaller than the side it extends.

    Shape: (N, C, H, W) -> (N, C, top + H + bottom, left + W + right).

    >>> import minigan
    >>> ReflectionPad2d((2, 1, 0, 0))(minigan.tensor([[[[1.0, 2.0, 3.0]]]])).data.tolist()
    [[[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]]
    """
    mode = "reflect"


class ReplicationPad2d(_Pad2d):
    """Pad by repeating the edge pixel (1 2 3 → 1 [1 2 3] 3).

    Shape: (N, C, H, W) -> (N, C, top + H + bottom, left + W + right).

    >>> import minigan
    >>> ReplicationPad2d((2, 1, 0, 0))(minigan.tensor([[[[1.0, 2.0, 3.0]]]])).data.tolist()
    [[[[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]]]]
    """
    mode = "replicate"


class ZeroPad2d(_Pad2d):
    """Pad with zeros.

    Shape: (N, C, H, W) -> (N, C, top + H + bottom, left + W + right).

    >>> ZeroPad2d(1)
    ZeroPad2d((1, 1, 1, 1))
    """
    mode = "constant"


# ==================== pooling ====================

class AvgPool2d(Module):
    """Mean over KH×KW windows every ``stride`` pixels (default: kernel_size), zero
    ``padding`` counted in the mean (``minigan.functional.avg_pool2d``).

    Shape: (N, C, H, W) -> (N, C, OH, OW), OH = ⌊(H + 2·padding − KH)/stride⌋ + 1.

    >>> AvgPool2d(2)
    AvgPool2d(kernel_size=2, stride=2, padding=0)
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        window_args(kernel_size, stride, padding, "AvgPool2d")  # fail here, not at forward
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(Module):
    """Max over KH×KW windows every ``stride`` pixels (default: kernel_size), −∞ ``padding``
    (``minigan.functional.max_pool2d``); the gradient goes to each window's argmax.

    Shape: (N, C, H, W) -> (N, C, OH, OW), OH = ⌊(H + 2·padding − KH)/stride⌋ + 1.

    >>> MaxPool2d(3, stride=2, padding=1)
    MaxPool2d(kernel_size=3, stride=2, padding=1)
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        window_args(kernel_size, stride, padding, "MaxPool2d")  # fail here, not at forward
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average over the windows that split H×W into ``output_size`` nearly equal parts
    (``minigan.functional.adaptive_avg_pool2d``); (1, 1) is global average pooling.

    Shape: (N, C, H, W) -> (N, C, OH, OW); None in output_size keeps that input size.

    >>> AdaptiveAvgPool2d((1, 1))
    AdaptiveAvgPool2d(output_size=(1, 1))
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
