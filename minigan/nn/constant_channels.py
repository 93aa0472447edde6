"""A convolution whose last input channels are constant over each image: a conditional D's
first layer, which sees x with a label (one-hot, or an embedding) appended as constant planes
(notes 000, CGAN: "the one-hot vector appended to the image as K channels").

Write the input as x = [x_img, v ⊗ 1_{H×W}]: C image channels, then K channels where sample
n has the value v[n, k] at every pixel. The convolution is linear in x, so it splits:

    conv2d(x, W, b)[n, o] = conv2d(x_img, W[:, :C], b)[n, o] + Σ_k v[n, k] · M[o, k],
    M[o, k] = conv2d(1_{H×W}, W[o, C + k])        (an (H_out, W_out) map per o and k)

M[o, k, i, j] is the sum of the taps of the kernel W[o, C + k] that land inside the image
at output pixel (i, j): with no padding every tap does, and M is constant over the pixels;
with padding the border pixels lose the taps that fall on the zeros. The planes cost
K/(C + K) of a plain convolution's FLOPs (40 of 41 in dcgan's cluster-conditioned D on
digits; with 20 clusters they made a training step about 1.4× as long); this costs a sum
of the K kernels' taps and an (N, K)·(K, O) product without padding, and with padding one
convolution of a single all-ones image and an (N, K)·(K, O·H_out·W_out) product.

The result is the plain convolution's, up to the order of float additions, and so are its
derivatives, which autograd takes through the same formula (twice, for a gradient
penalty): with respect to x_img and W as conv2d's; with respect to the planes, the whole
gradient of plane k lands on pixel (0, 0) — what broadcasting v over the pixels sums to
anyway, so ∂L/∂v is exact.

The layer takes its input either way: ``layer(x)`` with the planes inside x (N, C + K, H,
W), checked to be constant, or ``layer(x_img, v)`` with x_img (N, C, H, W) and v (N, K)
given apart — the same numbers without building the planes at all (a conditional D's
input then never holds K full-size planes, nor does its gradient).

>>> import minigan
>>> from minigan.functional import broadcast_to, cat
>>> layer = ConstantChannelsConv2d(3, 4, 3, padding=1, constant_channels=2)
>>> v = minigan.randn(5, 2, 1, 1)
>>> x = cat([minigan.randn(5, 1, 7, 7), broadcast_to(v, (5, 2, 7, 7))], axis=1)
>>> plain = minigan.functional.conv2d(x, layer.weight, layer.bias, padding=1)
>>> bool(abs(layer(x) - plain).max().item() < 1e-5)
True
>>> bool(abs(layer(x[:, :1], v.reshape(5, 2)) - plain).max().item() < 1e-5)   # v apart
True
"""
from minigan import creation
from minigan.functional import conv2d, matmul
from minigan.functional.arguments import check_tensor
from minigan.nn.conv import Conv2d
from minigan.nn.spectral import _SpectralWeight


class ConstantChannelsConv2d(Conv2d):
    """Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation) whose last
    ``constant_channels`` input channels must be constant over each image; the same result
    as Conv2d, computed without convolving those planes (module docstring). Weight
    (out_channels, in_channels, KH, KW), as Conv2d's, so the two load each other's
    state_dict. A plane that varies over the image is refused.

    Shape: ``forward(x)``: x (N, in_channels, H, W), the planes inside;
    ``forward(x, constants)``: x (N, in_channels − K, H, W) and constants (N, K), the value
    of each plane. Output (N, out_channels, H_out, W_out) either way, as Conv2d's."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, bias=True, *, constant_channels, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         1, bias, device, dtype)
        if not 0 < constant_channels < in_channels:
            raise ValueError(f"{type(self).__name__}: expected 0 < constant_channels < "
                             f"in_channels = {in_channels}, found {constant_channels}")
        self.constant_channels = int(constant_channels)

    def forward(self, x, constants=None):
        return self.convolve(x, constants, self.weight, self.bias)

    def convolve(self, x, constants, weight, bias):
        """conv2d([x_img, v ⊗ 1], weight, bias) by the split of the module docstring, from
        x holding the planes (constants None) or from x_img and v = constants."""
        image_channels = self.in_channels - self.constant_channels
        if constants is None:
            x, v = self._split_planes(x, image_channels)         # (N, C, H, W), (N, K)
        else:
            self._check_apart(x, constants, image_channels)
            v = constants
        image_part = conv2d(x, weight[:, :image_channels], bias, self.stride, self.padding,
                            self.dilation)
        n, out_channels, out_h, out_w = image_part.shape
        tail = weight[:, image_channels:]                        # (O, K, KH, KW)
        if self.padding in ((0, 0), "valid"):
            # every tap lands inside the image: M[o, k] = Σ_taps W[o, C + k], one number
            bias_per_sample = matmul(v, tail.sum(axis=(2, 3)).T)          # (N, O)
            return image_part + bias_per_sample.reshape(n, out_channels, 1, 1)
        maps = self.plane_maps(tail, x.shape[2], x.shape[3])     # (K, O·H_out·W_out)
        return image_part + matmul(v, maps).reshape(n, out_channels, out_h, out_w)

    def _split_planes(self, x, image_channels):
        """(x_img, v) of an input x (N, C + K, H, W) whose last K channels are constant
        planes, v (N, K) read at pixel (0, 0); planes that vary are refused."""
        self._check_input(x)
        planes = x.data[:, image_channels:]
        if not (planes == planes[:, :, :1, :1]).all():
            raise ValueError(f"{self!r}: expected input channels {image_channels}.."
                             f"{self.in_channels - 1} to be constant over each image, "
                             f"found planes that vary over the pixels")
        return x[:, :image_channels], x[:, image_channels:, 0, 0]

    def _check_apart(self, x, constants, image_channels):
        check_tensor(x, type(self).__name__)
        check_tensor(constants, type(self).__name__, what="constants")
        k = self.constant_channels
        if x.ndim != 4 or x.shape[1] != image_channels:
            raise ValueError(f"{self!r}: with the constants given apart, expected an image "
                             f"of shape (N, {image_channels}, H, W), found {x.shape}")
        if constants.shape != (x.shape[0], k):
            raise ValueError(f"{self!r}: expected constants of shape ({x.shape[0]}, {k}) "
                             f"for the {x.shape[0]} images, found {constants.shape}")
        if (constants.dtype, constants.device) != (x.dtype, x.device):
            raise TypeError(f"{self!r}: expected constants of the image's dtype {x.dtype} on "
                            f"{x.device}, found {constants.dtype} on {constants.device}")

    def plane_maps(self, tail, h, w):
        """M (K, O·H_out·W_out): the response of each of the K planes, set to 1 over an
        h×w image, in every output channel and pixel."""
        out_channels, k, kh, kw = tail.shape
        ones = creation.ones(1, 1, h, w, dtype=tail.dtype, device=tail.device)
        maps = conv2d(ones, tail.reshape(out_channels * k, 1, kh, kw), None, self.stride,
                      self.padding, self.dilation)                 # (1, O·K, H_out, W_out)
        return maps.reshape(out_channels, k, -1).permute(1, 0, 2).reshape(k, -1)

    def extra_repr(self):
        return super().extra_repr() + f", constant_channels={self.constant_channels}"


class SNConstantChannelsConv2d(_SpectralWeight, ConstantChannelsConv2d):
    """ConstantChannelsConv2d with a spectrally normalised weight (``nn.spectral``): the
    same as SNConv2d on an input whose last channels are constant planes."""

    def forward(self, x, constants=None):
        return self.convolve(x, constants, self.normalized_weight(), self.bias)

