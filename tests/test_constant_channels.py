"""ConstantChannelsConv2d (minigan/nn/constant_channels.py): a convolution whose last input
channels are constant planes, computed without convolving them. Its output and its
gradients must be the plain convolution's of the same input (conv2d, tested on its own
against loops and finite differences), over paddings, strides, dilations and odd sizes;
first and second derivatives against finite differences; the cgan's D built with it scores
exactly as the same D with a plain first convolution."""
import numpy as np
import pytest

import minigan
from minigan.functional import broadcast_to, cat, conv2d
from minigan.nn import Conv2d
from minigan.nn.constant_channels import ConstantChannelsConv2d, SNConstantChannelsConv2d
from tests.helpers import DEVICES, check, randn64

# (image channels C, constant channels K, out, kernel, stride, padding, dilation, H, W)
CASES = [
    (1, 40, 6, 4, 2, 0, 1, 28, 28),       # dcgan's cluster-conditioned D on digits
    (1, 3, 4, 4, 2, 0, 1, 9, 9),
    (3, 2, 5, 3, 1, 1, 1, 7, 6),          # padding: the border pixels lose taps
    (2, 3, 4, 4, 2, 1, 1, 9, 8),          # the 64×64 geometry's k 4, s 2, p 1
    (1, 1, 3, 3, 2, 2, 2, 11, 7),         # dilation, padding wider than the kernel's reach
    (2, 2, 3, 3, 1, "same", 1, 6, 5),
    (2, 2, 3, 2, 3, "valid", 1, 8, 7),
]
# the same geometries, small enough for second-order finite differences
FD_CASES = [
    (1, 2, 2, 3, 1, 0, 1, 5, 5),
    (2, 2, 2, 3, 1, 1, 1, 5, 4),
    (1, 2, 2, 4, 2, 1, 1, 6, 5),
    (1, 1, 2, 3, 2, 2, 2, 7, 5),
    (1, 2, 2, 3, 1, "same", 1, 4, 5),
]


def case_id(c):
    return f"C{c[0]}K{c[1]}k{c[3]}s{c[4]}p{c[5]}d{c[6]}_{c[7]}x{c[8]}"


def planes_input(n, c, k, h, w, device="cpu", seed=0):
    """(x_img, v, x): the image part, the constants (N, K), and x = [x_img, v ⊗ 1]."""
    rng = np.random.default_rng(seed)
    image = randn64(n, c, h, w, device=device)
    v = minigan.tensor(rng.standard_normal((n, k)), dtype="float64", device=device)
    planes = broadcast_to(v.reshape(n, k, 1, 1), (n, k, h, w))
    return image, v, cat([image, planes], axis=1)


def layer_for(case, device="cpu", spectral=False):
    c, k, out, kernel, stride, padding, dilation, _, _ = case
    cls = SNConstantChannelsConv2d if spectral else ConstantChannelsConv2d
    return cls(c + k, out, kernel, stride, padding, dilation, constant_channels=k,
               dtype="float64", device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_output_and_gradients_are_the_plain_convolutions(case, device):
    c, k, _, _, stride, padding, dilation, h, w = case
    layer = layer_for(case, device)
    image, _, x = planes_input(3, c, k, h, w, device)
    ours = layer(x)
    plain = conv2d(x, layer.weight, layer.bias, stride, padding, dilation)
    np.testing.assert_allclose(ours.numpy(), plain.numpy(), rtol=1e-12, atol=1e-12)
    g = minigan.tensor(np.random.default_rng(1).standard_normal(ours.shape), dtype="float64",
                       device=device)
    params = [image, layer.weight, layer.bias]
    for got, want in zip(minigan.grad((ours * g).sum(), params, retain_graph=True),
                         minigan.grad((plain * g).sum(), params)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_constants_given_apart_give_the_plain_convolution_and_its_gradients(case, device):
    """layer(x_img, v) against conv2d([x_img, v ⊗ 1]): the output, and the gradients with
    respect to the image, the constants v (broadcasting's sum over the pixels on the plain
    side), the weight and the bias."""
    c, k, _, _, stride, padding, dilation, h, w = case
    layer = layer_for(case, device)
    image, v, _ = planes_input(3, c, k, h, w, device)
    v.requires_grad = True
    x = cat([image, broadcast_to(v.reshape(3, k, 1, 1), (3, k, h, w))], axis=1)
    ours = layer(image, v)
    plain = conv2d(x, layer.weight, layer.bias, stride, padding, dilation)
    np.testing.assert_allclose(ours.numpy(), plain.numpy(), rtol=1e-12, atol=1e-12)
    g = minigan.tensor(np.random.default_rng(2).standard_normal(ours.shape), dtype="float64",
                       device=device)
    params = [image, v, layer.weight, layer.bias]
    for got, want in zip(minigan.grad((ours * g).sum(), params, retain_graph=True),
                         minigan.grad((plain * g).sum(), params)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", FD_CASES, ids=case_id)
def test_first_and_second_derivatives_against_finite_differences(case):
    """With respect to the image part, the weight and the bias."""
    c, k, _, _, _, _, _, h, w = case
    layer = layer_for(case)
    _, v, _ = planes_input(2, c, k, h, w)
    planes = broadcast_to(v.reshape(2, k, 1, 1), (2, k, h, w))

    def f(image, weight, bias):
        return layer.convolve(cat([image, planes], axis=1), None, weight, bias)

    check(f, randn64(2, c, h, w), randn64(*layer.weight.shape), randn64(*layer.bias.shape))


@pytest.mark.parametrize("case", FD_CASES, ids=case_id)
def test_derivatives_with_the_constants_apart_against_finite_differences(case):
    """With respect to the image, the constants v, the weight and the bias."""
    c, k, _, _, _, _, _, h, w = case
    layer = layer_for(case)
    check(lambda image, v, weight, bias: layer.convolve(image, v, weight, bias),
          randn64(2, c, h, w), randn64(2, k), randn64(*layer.weight.shape),
          randn64(*layer.bias.shape))


def test_the_gradient_with_respect_to_v_is_broadcastings_sum_over_the_pixels():
    """Planes made by broadcasting v: ∂L/∂v is the plain convolution's."""
    case = CASES[3]
    c, k, _, _, stride, padding, dilation, h, w = case
    layer = layer_for(case)
    image = randn64(2, c, h, w, requires_grad=False)
    v = randn64(2, k, 1, 1)
    x = cat([image, broadcast_to(v, (2, k, h, w))], axis=1)
    g = randn64(*layer(x).shape, requires_grad=False)
    (ours,) = minigan.grad((layer(x) * g).sum(), [v], retain_graph=True)
    (plain,) = minigan.grad((conv2d(x, layer.weight, layer.bias, stride, padding, dilation)
                             * g).sum(), [v])
    np.testing.assert_allclose(ours.numpy(), plain.numpy(), rtol=1e-12, atol=1e-12)


def test_spectral_variant_is_snconv2d_on_the_same_input():
    case = CASES[3]
    c, k, out, kernel, stride, padding, dilation, h, w = case
    ours = layer_for(case, spectral=True)
    plain = minigan.nn.spectral.SNConv2d(c + k, out, kernel, stride, padding, dilation,
                                         dtype="float64")
    plain.load_state_dict(ours.state_dict())
    _, _, x = planes_input(2, c, k, h, w)
    np.testing.assert_allclose(ours(x).numpy(), plain(x).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.u.numpy(), plain.u.numpy(), rtol=1e-12)


def test_state_dict_is_conv2ds():
    ours = ConstantChannelsConv2d(5, 4, 3, constant_channels=3, dtype="float64")
    plain = Conv2d(5, 4, 3, dtype="float64")
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in plain.state_dict().items()}
    plain.load_state_dict(ours.state_dict())
    _, _, x = planes_input(2, 2, 3, 6, 6)
    np.testing.assert_allclose(ours(x).numpy(), plain(x).numpy(), rtol=1e-12, atol=1e-12)


def test_planes_that_vary_are_refused_by_name():
    layer = ConstantChannelsConv2d(3, 2, 3, constant_channels=2)
    x = minigan.randn(2, 3, 5, 5)
    with pytest.raises(ValueError, match=r"channels 1\.\.2 to be constant over each image"):
        layer(x)


def test_constants_apart_of_the_wrong_shape_are_refused_by_name():
    layer = ConstantChannelsConv2d(3, 2, 3, constant_channels=2)
    with pytest.raises(ValueError, match=r"expected an image of shape \(N, 1, H, W\), found "
                                         r"\(2, 3, 5, 5\)"):
        layer(minigan.randn(2, 3, 5, 5), minigan.randn(2, 2))
    with pytest.raises(ValueError, match=r"expected constants of shape \(2, 2\) for the 2 "
                                         r"images, found \(2, 3\)"):
        layer(minigan.randn(2, 1, 5, 5), minigan.randn(2, 3))
    with pytest.raises(TypeError, match="expected a Tensor constants, found ndarray"):
        layer(minigan.randn(2, 1, 5, 5), np.zeros((2, 2), np.float32))
    with pytest.raises(TypeError, match="expected constants of the image's dtype float32 on "
                                        "cpu, found float64 on cpu"):
        layer(minigan.randn(2, 1, 5, 5), minigan.randn(2, 2, dtype="float64"))


@pytest.mark.parametrize("k", [0, 3, 4])
def test_constant_channels_outside_one_to_in_channels_minus_one_are_refused(k):
    with pytest.raises(ValueError, match=f"0 < constant_channels < in_channels = 3, found {k}"):
        ConstantChannelsConv2d(3, 2, 3, constant_channels=k)


def test_a_cluster_conditioned_dcgan_d_scores_as_with_a_plain_first_convolution():
    """The model path: dcgan's D (40 cluster planes) on a conditioned batch, against the same
    weights in a D whose first layer is Conv2d."""
    from minigan.models import get_model
    gan = get_model("dcgan")((1, 28, 28), width=8, d_width=8)
    first = gan.D[0][0]
    assert isinstance(first, ConstantChannelsConv2d) and first.constant_channels == 40
    plain = Conv2d(first.in_channels, first.out_channels, first.kernel_size, first.stride)
    plain.load_state_dict(first.state_dict())
    x = minigan.rand(6, 1, 28, 28) * 2 - 1
    labels = minigan.tensor(np.array([0, 3, 39, 3, 27, 11]))
    conditioned = gan.condition.input(x, labels)
    np.testing.assert_allclose(first(conditioned).numpy(), plain(conditioned).numpy(),
                               rtol=1e-5, atol=1e-6)
    # what the model runs: D(x, onehot(k)), never building the planes, is D on the planes
    args = gan.condition.discriminator_inputs(x, labels)
    assert len(args) == 2 and args[0] is x and args[1].shape == (6, 40)
    np.testing.assert_array_equal(gan.discriminate(x, labels).numpy(),
                                  gan.D(conditioned).numpy())
