"""The gradient checker itself: it must pass correct ops, and it must fail — with a message
that names the input, the walk, the worst element and both values — on deliberately wrong
ones: a wrong formula, a gradient 0.1 % off, NaN or ∞ anywhere, a fast path and a
differentiable backward that disagree. It must refuse what it cannot check. A checker that
never fails would make every other gradient test in this suite meaningless."""
import re

import numpy as np
import pytest

import minigan
from minigan import Function, GradcheckError, gradcheck, gradgradcheck
from minigan.functional.arithmetic import as_tensor_like

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
    """(input index, walk, worst element, analytic, numeric) from a GradcheckError message."""
    match = re.search(r"input (\d+) \(shape \(.*?\)\), (.*?): worst element \(([\d, ]*)\): "
                      r"analytic (\S+) vs numeric (\S+) \(", message)
    assert match, message
    worst = tuple(int(k) for k in match.group(3).split(",") if k.strip())
    return (int(match.group(1)), match.group(2), worst, float(match.group(4)),
            float(match.group(5)))


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
    index, walk, worst, analytic, numeric = parse(str(error.value))
    assert index == 0 and walk == "first-order backward"
    # whatever v the checker drew, analytic/numeric = (2x·v) / (3x²·v) = 2 / (3x)
    k = worst[0]
    assert analytic / numeric == pytest.approx(2 / (3 * x.numpy()[k]), rel=1e-6)


def test_names_the_wrong_input_among_several():
    a, b = randn64(3), randn64(3)
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3,\)\)") as error:
        gradcheck(lambda s, t: MulWrongSecondInput()(s, t), [a, b])
    index, _, worst, analytic, numeric = parse(str(error.value))
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


# ==================== NaN and infinity fail ====================

class SquareTimes(Function):
    """y = x² whose backward multiplies the right gradient 2x·gy by ``factor`` (an array,
    so single elements can be NaN or ∞)."""

    def __init__(self, factor):
        self.factor = factor

    def forward(self, x):
        return x * x

    def backward(self, gy):
        x, = self.inputs
        return gy * 2 * x * as_tensor_like(self.factor, x)


def test_a_nan_backward_fails():
    x = randn64(4)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(4,\)\), first-order backward: "
                                             r"the analytic derivative is not finite at element "
                                             r"\(0,\): analytic nan vs numeric"):
        gradcheck(lambda t: SquareTimes(np.full(4, np.nan))(t), [x])


def test_a_wrong_gradient_with_one_nan_element_fails_on_the_nan():
    """3 × the right gradient everywhere and NaN at element 2: NaN compares False with every
    tolerance, so a max over the errors would be NaN and 'NaN > 0' would pass it."""
    x = randn64(4)
    factor = np.array([3.0, 3.0, np.nan, 3.0])
    with pytest.raises(GradcheckError, match=r"not finite at element \(2,\)"):
        gradcheck(lambda t: SquareTimes(factor)(t), [x])


def test_an_infinite_backward_fails():
    x = randn64(3)
    with pytest.raises(GradcheckError, match=r"not finite at element \(1,\): analytic -?inf"):
        gradcheck(lambda t: SquareTimes(np.array([1.0, np.inf, 1.0]))(t), [x])


def test_a_nan_forward_fails_and_names_the_output_element():
    x = randn64(2, 3)
    poison = np.ones((2, 3))
    poison[1, 2] = np.nan
    with pytest.raises(GradcheckError, match=r"gradcheck of poisoned failed: output 1 "
                                             r"\(shape \(2, 3\)\) is not finite at element "
                                             r"\(1, 2\): nan"):
        gradcheck(lambda t: (t * 2, t * as_tensor_like(poison, t)), [x], name="poisoned")


def test_a_forward_that_is_nan_only_near_the_input_fails():
    """f(x) = √x at x = 0: finite there, NaN at x − ε, so the numeric derivative is NaN."""
    x = minigan.tensor([1.0, 0.0], dtype="float64", requires_grad=True)
    with pytest.raises(GradcheckError, match=r"the numeric derivative is not finite at "
                                             r"element \(1,\)"), np.errstate(invalid="ignore"):
        gradcheck(lambda t: (t + 1e-300).sqrt(), [x])


class DoubleNanBackward(Function):
    """y = 2x whose backward is NaN."""

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return gy * float("nan")


class SquareThroughDouble(Function):
    """y = x², ∂L/∂x = gy · 2x with 2x computed by DoubleNanBackward: the gradient is right,
    its own derivative NaN."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * DoubleNanBackward()(self.inputs[0])


def test_gradgradcheck_fails_a_nan_second_derivative():
    x = randn64(3)
    fn = lambda t: SquareThroughDouble()(t)  # noqa: E731
    assert gradcheck(fn, [x])
    with pytest.raises(GradcheckError, match=r"d/dx of square failed for input 0 .*: the "
                                             r"analytic derivative is not finite"):
        gradgradcheck(fn, [x], name="square")


# ==================== both walks: the fast path and the differentiable backward ==========

class Relu(Function):
    """y = max(x, 0) with an array fast path, like minigan's ReLU; ``graph_sign`` and
    ``fast_sign`` flip either walk's gradient (a deliberate bug in one of them)."""

    def __init__(self, graph_sign=1.0, fast_sign=1.0):
        self.graph_sign, self.fast_sign = graph_sign, fast_sign

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, gy):
        x, = self.inputs
        return gy * as_tensor_like(self.graph_sign * (x.data > 0), x)

    def backward_arrays(self, gy):
        return gy * (self.fast_sign * (self.inputs[0].data > 0))


def away_from_zero(n):
    x = np.random.default_rng(1).standard_normal(n)
    return minigan.tensor(x + np.sign(x) * 0.2, dtype="float64", requires_grad=True)


def test_passes_an_op_whose_two_walks_are_right():
    x = away_from_zero(6)
    assert gradcheck(lambda t: Relu()(t), [x])
    assert gradgradcheck(lambda t: Relu()(t) ** 2, [x])


def test_fails_a_wrong_create_graph_backward_under_a_right_fast_path():
    """The first-order walk runs backward_arrays; gradient penalties run backward. A wrong
    backward must fail even where the usual walk never calls it."""
    x = away_from_zero(6)
    with pytest.raises(GradcheckError) as error:
        gradcheck(lambda t: Relu(graph_sign=-1.0)(t), [x])
    assert parse(str(error.value))[1] == "backward with create_graph=True"


def test_fails_a_wrong_fast_path_under_a_right_backward():
    x = away_from_zero(6)
    with pytest.raises(GradcheckError) as error:
        gradcheck(lambda t: Relu(fast_sign=-1.0)(t), [x])
    assert parse(str(error.value))[1] == "first-order backward"


class SquareThroughRelu(Function):
    """y = x², ∂L/∂x = 2·gy·(relu(x) − relu(−x)) = 2x·gy, written with a Relu whose fast path
    is wrong: only the first-order walk over this backward's graph meets that fast path."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        x, = self.inputs
        return 2 * gy * (Relu(fast_sign=-1.0)(x) - Relu(fast_sign=-1.0)(-x))


def test_gradgradcheck_compares_both_walks_over_the_backward_graph():
    x = away_from_zero(6)
    fn = lambda t: SquareThroughRelu()(t)  # noqa: E731
    assert gradcheck(fn, [x])
    with pytest.raises(GradcheckError) as error:
        gradgradcheck(fn, [x], name="square")
    assert str(error.value).startswith("gradcheck of d/dx of square failed")
    assert parse(str(error.value))[1] == "first-order backward"


# ==================== default tolerances ====================

class SlightlyOff(Function):
    """y = x² with a gradient 0.1 % too large."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        x, = self.inputs
        return gy * 2.002 * x


def test_a_gradient_off_by_a_thousandth_fails_the_defaults():
    x = minigan.tensor([1.0, -2.0, 0.5], dtype="float64", requires_grad=True)
    with pytest.raises(GradcheckError, match=r"atol=1e-07, rtol=1e-06"):
        gradcheck(lambda t: SlightlyOff()(t), [x])


def test_tolerances_are_honoured():
    x = minigan.tensor([1.0, -2.0, 0.5], dtype="float64", requires_grad=True)
    fn = lambda t: SlightlyOff()(t)  # noqa: E731
    assert gradcheck(fn, [x], rtol=1e-2)
    with pytest.raises(GradcheckError):
        gradcheck(fn, [x], rtol=1e-4, atol=1e-8)


# ==================== it refuses what it cannot check ====================

@pytest.mark.parametrize("check", [gradcheck, gradgradcheck], ids=lambda f: f.__name__)
def test_float32_inputs_are_refused(check):
    x = minigan.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match=f"{check.__name__}: input 0 is float32; finite "
                                        "differences need float64"):
        check(lambda t: t * t, [x])


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck], ids=lambda f: f.__name__)
def test_no_differentiable_input_is_refused(check):
    with pytest.raises(ValueError, match=f"{check.__name__}: no input has requires_grad=True"):
        check(lambda t: t * t, [randn64(3, requires_grad=False)])


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck], ids=lambda f: f.__name__)
def test_empty_inputs_are_refused(check):
    """An empty gradient agrees with any backward, even one that returns garbage."""
    with pytest.raises(ValueError, match=rf"{check.__name__}: input 1 has no elements "
                                         r"\(shape \(0, 3\)\)"):
        check(lambda a, t: CubeWrongBackward()(t), [randn64(2), randn64(0, 3)])


def test_only_empty_outputs_are_refused():
    with pytest.raises(ValueError, match="every output is empty"):
        gradcheck(lambda t: CubeWrongBackward()(t[:0]), [randn64(3)])
