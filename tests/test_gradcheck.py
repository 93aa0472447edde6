"""The gradient checker itself: it must pass correct ops, and it must fail — with a message
that names the input, the worst element and both values — on deliberately wrong ones. A
checker that never fails would make every other gradient test in this suite meaningless."""
import re

import numpy as np
import pytest

import minigan
from minigan import Function, GradcheckError, gradcheck, gradgradcheck
from minigan.functional.math import as_tensor_like

from tests.helpers import randn64


class Cube(Function):
    """y = x³; ∂L/∂x = 3x² ∂L/∂y (correct)."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        x, = self.inputs
        return gy * 3 * x * x


class CubeWrongBackward(Function):
    """y = x³ with the wrong derivative 2x (the derivative of x², a classic slip)."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        x, = self.inputs
        return 2 * gy * x


class SquareConstantBackward(Function):
    """y = x² whose backward is right in value, 2x·gy, but takes 2x as a constant array:
    the gradient is correct, its own derivative (2·gy) is lost."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        x, = self.inputs
        return gy * as_tensor_like(2 * x.data, x)


class ScaleDetachedGradient(Function):
    """y = 3x whose backward returns 3·gy with gy cut from the graph: right in value and,
    since y is linear, with a right (zero) Hessian — but not differentiable w.r.t. gy."""

    def forward(self, x):
        return 3 * x

    def backward(self, gy):
        return as_tensor_like(3 * gy.data, gy)


class MulWrongSecondInput(Function):
    """y = a·b whose ∂L/∂b is wrong (gy instead of gy·a); ∂L/∂a is right."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return gy * b, gy


def parse(message):
    """(input index, worst element, analytic, numeric) from a GradcheckError message."""
    match = re.search(r"input (\d+) \(shape .*\): worst element \(([\d, ]*)\): analytic (\S+) "
                      r"vs numeric (\S+) \(", message)
    assert match, message
    worst = tuple(int(k) for k in match.group(2).split(",") if k.strip())
    return int(match.group(1)), worst, float(match.group(3)), float(match.group(4))


# ==================== it passes what is right ====================

@pytest.mark.parametrize("shape", [(3,), (2, 3), ()], ids=str)
def test_passes_a_correct_op(device, shape):
    x = randn64(*shape, device=device)
    assert gradcheck(lambda t: Cube()(t), [x]) is True
    assert gradgradcheck(lambda t: Cube()(t), [x]) is True


def test_leaves_the_inputs_unchanged():
    x = randn64(4)
    before = x.numpy().copy()
    gradcheck(lambda t: (t * t).sum(), [x])
    gradgradcheck(lambda t: (t * t * t).sum(), [x])
    np.testing.assert_array_equal(x.numpy(), before)


def test_passes_non_tensor_arguments_through():
    x = randn64(3)
    assert gradcheck(lambda t, k: t ** k, [x, 3])
    assert gradgradcheck(lambda t, k: t ** k, [x, 3])


def test_checks_several_outputs_and_inputs():
    a, b = randn64(2, 3), randn64(3)
    assert gradcheck(lambda s, t: (s * t, (s - t).sum(0)), [a, b])
    assert gradgradcheck(lambda s, t: (s * t, (s * s - t).sum(0)), [a, b])


def test_skips_inputs_without_requires_grad_and_accepts_unused_ones():
    a, b = randn64(3), randn64(3, requires_grad=False)
    unused = randn64(2)
    assert gradcheck(lambda s, t, u: s * t, [a, b, unused])


# ==================== it fails what is wrong ====================

def test_fails_a_wrong_first_derivative_and_says_where():
    x = randn64(5)
    with pytest.raises(GradcheckError, match="gradcheck of cube failed for input 0") as error:
        gradcheck(lambda t: CubeWrongBackward()(t), [x], name="cube")
    index, worst, analytic, numeric = parse(str(error.value))
    assert index == 0
    # whatever v the checker drew, analytic/numeric = (2x·v) / (3x²·v) = 2 / (3x)
    k = worst[0]
    assert analytic / numeric == pytest.approx(2 / (3 * x.numpy()[k]), rel=1e-6)


def test_names_the_wrong_input_among_several():
    a, b = randn64(3), randn64(3)
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3,\)\)") as error:
        gradcheck(lambda s, t: MulWrongSecondInput()(s, t), [a, b])
    index, worst, analytic, numeric = parse(str(error.value))
    # numeric ∂/∂b vᵀ(a·b) = v·a, analytic = v: their ratio at the worst element is 1/a
    assert analytic / numeric == pytest.approx(1 / a.numpy()[worst], rel=1e-6)


def test_fails_a_backward_that_ignores_the_incoming_gradient():
    class IgnoresGy(Function):
        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            return as_tensor_like(np.full(gy.shape, 2.0), gy)

    with pytest.raises(GradcheckError):
        gradcheck(lambda t: IgnoresGy()(t), [randn64(4)])


def test_gradgradcheck_fails_a_backward_that_is_right_but_not_differentiable():
    x = randn64(4)
    fn = lambda t: SquareConstantBackward()(t)  # noqa: E731
    assert gradcheck(fn, [x])
    with pytest.raises(GradcheckError, match="gradcheck of d/dx of square failed for input 0"):
        gradgradcheck(fn, [x], name="square")


def test_gradgradcheck_does_not_replace_gradcheck():
    """gradgradcheck differentiates the backward as written: 2x·gy is wrong for x³ but is
    differentiated consistently, so only the first-order check catches it."""
    x = randn64(3)
    assert gradgradcheck(lambda t: CubeWrongBackward()(t), [x])
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: CubeWrongBackward()(t), [x])


def test_gradgradcheck_varies_the_incoming_gradient():
    """The incoming gradient v is a checked input of gradgradcheck, so a linear op whose
    backward cuts gy from the graph fails even without a nonlinear consumer: the
    analytic ∂(vᵀ ∂f/∂x)/∂v is then 0, the numeric one is the Jacobian."""
    x = randn64(3)
    fn = lambda t: ScaleDetachedGradient()(t)  # noqa: E731
    assert gradcheck(fn, [x])
    with pytest.raises(GradcheckError, match="input 1 .*analytic 0 vs numeric"):
        gradgradcheck(fn, [x])


# ==================== it refuses what it cannot check ====================

def test_float32_inputs_are_refused():
    x = minigan.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match="input 0 is float32; finite differences need float64"):
        gradcheck(lambda t: t * t, [x])
    with pytest.raises(TypeError, match="float64"):
        gradgradcheck(lambda t: t * t, [x])


def test_no_differentiable_input_is_refused():
    with pytest.raises(ValueError, match="no input has requires_grad=True"):
        gradcheck(lambda t: t * t, [randn64(3, requires_grad=False)])


def test_tolerances_are_honoured():
    class SlightlyOff(Function):
        """y = x² with a gradient 0.1 % too large."""

        def forward(self, x):
            return x * x

        def backward(self, gy):
            x, = self.inputs
            return gy * 2.002 * x

    x = minigan.tensor([1.0, -2.0, 0.5], dtype="float64", requires_grad=True)
    fn = lambda t: SlightlyOff()(t)  # noqa: E731
    assert gradcheck(fn, [x], rtol=1e-2)
    with pytest.raises(GradcheckError):
        gradcheck(fn, [x], rtol=1e-4, atol=1e-8)
