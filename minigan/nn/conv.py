"""Convolution layers, Conv2d and ConvTranspose2d, and the output-size formulas of both
(written in functional/arguments.py, shared with the ops).

The DCGAN of notes 000 is built from these: the generator's transposed convolutions grow
z (1×1) to an image, the discriminator's convolutions shrink it back. The size formulas are
the ones the notes use to plan those walks:

>>> conv_transpose_output_size(1, 3, stride=2)     # MNIST walk: 1 -> 3 -> 6 -> 13 -> 28
3
>>> conv_transpose_output_size(13, 4, stride=2)
28
>>> conv_output_size(64, 4, stride=2, padding=1)   # CelebA discriminator: halving
32
"""
import math

from minigan import creation
from minigan.functional.arguments import (check_groups, check_output_padding, check_tensor,
                                          conv_output_size, conv_padding,
                                          conv_transpose_output_size, int_pair, positive_int)
from minigan.functional.conv import conv2d, conv_transpose2d
from minigan.nn import init
from minigan.nn.module import Module, Parameter


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: arguments, parameters, init, repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, transposed, output_padding, device, dtype):
        super().__init__()
        layer = type(self).__name__
        self.in_channels = positive_int(in_channels, layer, "in_channels")
        self.out_channels = positive_int(out_channels, layer, "out_channels")
        self.groups = check_groups(groups, in_channels, out_channels, layer)
        self.transposed = transposed
        self.kernel_size = int_pair(kernel_size, layer, "kernel_size", 1)
        self.stride = int_pair(stride, layer, "stride", 1)
        self.dilation = int_pair(dilation, layer, "dilation", 1)
        # the ops' own checks, run here so that a bad layer fails when it is built
        if transposed:
            self.padding = int_pair(padding, layer, "padding", 0)
        else:  # "same" and "valid" are kept as given, for forward and repr
            conv_padding(padding, self.kernel_size, self.stride, self.dilation, layer)
            self.padding = (padding if isinstance(padding, str)
                            else int_pair(padding, layer, "padding", 0))
        self.output_padding = check_output_padding(output_padding, self.stride,
                                                   self.dilation, layer)
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(creation.zeros(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.zeros(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: w ~ kaiming_uniform_(a=√5), i.e. U(−1/√fan_in, 1/√fan_in), and
        b ~ U(−1/√fan_in, 1/√fan_in), fan_in = weight.size(1) · KH · KW."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x):
        check_tensor(x, type(self).__name__)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r}: expected an input of shape (N, {self.in_channels}, H, "
                             f"W), found {x.shape}")

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """2-D convolution layer: y = conv2d(x, weight, bias), PyTorch's arguments and init.

    y[n, o, i, j] = b[o] + Σ_{c, kh, kw} w[o, c, kh, kw] · x̃[n, c, i·s + kh·d, j·s + kw·d]
    (x̃ zero-padded; with groups, each output channel sees only its group's inputs). Its
    gradient with respect to x is a ConvTranspose2d with the same weight.

    Shape:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out),
        H_out = ⌊(H + 2·padding − dilation·(KH − 1) − 1) / stride⌋ + 1 (``conv_output_size``);
        weight (C_out, C_in / groups, KH, KW), bias (C_out,).
        ``padding`` may also be "same" (stride 1, H_out = H) or "valid" (no padding).

    >>> import minigan
    >>> layer = Conv2d(1, 16, 4, stride=2)          # the MNIST discriminator's first block
    >>> layer
    Conv2d(1, 16, kernel_size=(4, 4), stride=(2, 2))
    >>> layer(minigan.randn(8, 1, 28, 28)).shape
    (8, 16, 13, 13)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, False, 0, device, dtype)

    def forward(self, x):
        self._check_input(x)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution layer: y = conv_transpose2d(x, weight, bias), PyTorch's
    arguments and init. It can be seen as the gradient of Conv2d with respect to its input:
    each input pixel stamps its kernel, scaled, onto the output, so the image grows.

    Shape:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out),
        H_out = (H − 1)·stride − 2·padding + dilation·(KH − 1) + output_padding + 1
        (``conv_transpose_output_size``; output_padding < stride or < dilation);
        weight (C_in, C_out / groups, KH, KW), bias (C_out,).

    >>> import minigan
    >>> layer = ConvTranspose2d(64, 256, 3, stride=2)   # the MNIST generator's first block
    >>> layer
    ConvTranspose2d(64, 256, kernel_size=(3, 3), stride=(2, 2))
    >>> layer(minigan.randn(8, 64, 1, 1)).shape
    (8, 256, 3, 3)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, True, output_padding, device, dtype)

    def forward(self, x):
        self._check_input(x)
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)
