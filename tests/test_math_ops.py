"""The ops of minigan/functional/arithmetic.py, reductions.py and shapes.py: forward values
against NumPy, first- and second-order finite-difference checks in float64, hand-derived
gradients where the rule is the point (broadcasting, repeated indices, ties), and the error
messages. ``check`` (tests/helpers.py) says why it runs gradgradcheck on f²: most of these
ops are linear.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minigan
import minigan.functional as F
from minigan import backend
from minigan.functional.reductions import reduce_dot, reduce_sum
from tests.helpers import check, leaf

HYPOTHESIS = settings(max_examples=20, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def positive(shape, seed=0):
    return 0.5 + np.abs(normal(shape, seed))


def away_from_zero(shape, seed=0):
    """Samples with |x| ≥ 0.3, so finite differences never straddle a kink at 0."""
    x = normal(shape, seed)
    return x + 0.3 * np.where(x >= 0, 1.0, -1.0)


def assert_values(out, expected):
    out = out if isinstance(out, (tuple, list)) else (out,)
    expected = expected if isinstance(expected, (tuple, list)) else (expected,)
    assert len(out) == len(expected)
    for y, e in zip(out, expected):
        assert y.shape == np.shape(e)
        np.testing.assert_allclose(y.numpy(), e, rtol=1e-12, atol=1e-14)


# ==================== arithmetic and broadcasting ====================

BINARY = {
    "add": (F.add, np.add), "sub": (F.sub, np.subtract),
    "mul": (F.mul, np.multiply), "div": (F.div, np.divide),
}
BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 3, 4), (4,)), ((1, 3), (2, 1)),
                   ((5,), ()), ((), (2, 3))]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_ops(device, name, shapes):
    op, reference = BINARY[name]
    a_np, b_np = normal(shapes[0], 1), away_from_zero(shapes[1], 2)  # b divides
    a, b = leaf(a_np, device), leaf(b_np, device)
    assert_values(op(a, b), reference(a_np, b_np))
    check(op, a, b)


def test_operators_are_the_ops(device):
    a_np, b_np = normal((3, 1), 1), away_from_zero((4,), 2)
    a, b = leaf(a_np, device), leaf(b_np, device)
    assert_values([a + b, a - b, a * b, a / b, -a],
                  [a_np + b_np, a_np - b_np, a_np * b_np, a_np / b_np, -a_np])
    check(lambda x: -x, a)


@pytest.mark.parametrize("fn,reference", [
    (lambda x: x + 2.5, lambda x: x + 2.5), (lambda x: 2.5 - x, lambda x: 2.5 - x),
    (lambda x: x * -1.5, lambda x: x * -1.5), (lambda x: 3.0 / x, lambda x: 3.0 / x),
    (lambda x: x / 4, lambda x: x / 4), (lambda x: 1 + x * 2, lambda x: 1 + x * 2),
], ids=["add", "rsub", "mul", "rdiv", "div", "radd-rmul"])
def test_python_numbers_as_operands(device, fn, reference):
    x_np = away_from_zero((2, 3))
    x = leaf(x_np, device)
    out = fn(x)
    assert out.dtype == np.float64
    assert_values(out, reference(x_np))
    check(fn, x)


def test_broadcast_gradient_sums_over_the_stretched_axes():
    a = leaf(np.zeros((3, 1)), "cpu")
    b = leaf(np.zeros(4), "cpu")
    (a + b).sum().backward()
    # a was stretched along 4 columns, b along 3 rows
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 3.0))


@settings(HYPOTHESIS)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                 max_side=3),
       name=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2 ** 16))
def test_binary_ops_on_any_broadcastable_shapes(device, shapes, name, seed):
    op, reference = BINARY[name]
    a_np = normal(shapes.input_shapes[0], seed)
    b_np = away_from_zero(shapes.input_shapes[1], seed + 1)
    a, b = leaf(a_np, device), leaf(b_np, device)
    out = op(a, b)
    assert out.shape == shapes.result_shape
    assert_values(out, reference(a_np, b_np))
    check(op, a, b)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("small_shape", [(5, 3, 1, 1), (5, 1, 1, 1), (1, 3, 4, 1), (3, 1, 1)],
                         ids=str)
def test_a_broadcast_result_is_laid_out_like_its_full_operand(device, name, small_shape):
    """An (N, C, H, W) activation laid out batch-last, as the convolutions return theirs,
    with a smaller operand (a per-sample bias (N, C, 1, 1), ...) on either side: the result
    has the activation's memory layout, which batch norm and the next convolution read
    fastest, and NumPy's values."""
    op, reference = BINARY[name]
    full_np = away_from_zero((3, 4, 2, 5), 1).transpose(3, 0, 1, 2)  # N = 5 fastest
    small_np = away_from_zero(small_shape, 2)
    full = leaf(full_np, device)
    for a_np, b_np in ((full_np, small_np), (small_np, full_np)):
        a, b = (full, leaf(b_np, device)) if a_np is full_np else (leaf(a_np, device), full)
        out = op(a, b)
        assert out.data.strides == full.data.strides, (
            f"{name}: expected the layout of the full operand {full.data.strides}, "
            f"found strides {out.data.strides}")
        assert_values(out, reference(a_np, b_np))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_integer_operands_in_any_layout_give_numpys_results(name):
    """int / int is a float: the layout-keeping path must not force the operands' dtype."""
    op, reference = BINARY[name]
    full = np.arange(1, 121).reshape(3, 4, 2, 5).transpose(3, 0, 1, 2)   # batch-last ints
    small = np.arange(1, 16).reshape(5, 3, 1, 1)
    out = op(minigan.tensor(full), minigan.tensor(small))
    assert out.dtype == reference(full, small).dtype
    np.testing.assert_array_equal(out.numpy(), reference(full, small))


# ==================== powers ====================

@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5, 1, 0])
def test_pow_with_a_number(device, exponent):
    x_np = positive((2, 3))
    x = leaf(x_np, device)
    assert_values(x ** exponent, x_np ** exponent)
    check(lambda t: F.pow(t, exponent), x)


def test_pow_integer_exponent_on_negative_base(device):
    x_np = away_from_zero((5,))
    x = leaf(x_np, device)
    assert_values(x ** 3, x_np ** 3)
    check(lambda t: t ** 3, x)


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((3, 1), (4,)), ((4,), ())], ids=str)
def test_pow_with_a_tensor_exponent(device, shapes):
    base_np, exponent_np = positive(shapes[0], 1), normal(shapes[1], 2)
    base, exponent = leaf(base_np, device), leaf(exponent_np, device)
    assert_values(base ** exponent, base_np ** exponent_np)
    check(lambda b, e: b ** e, base, exponent)


def test_number_to_a_tensor_power(device):
    e_np = normal((4,))
    e = leaf(e_np, device)
    assert_values(2.0 ** e, 2.0 ** e_np)
    check(lambda t: 2.0 ** t, e)


def test_pow_gradients_by_hand():
    x = leaf([2.0], "cpu")
    e = leaf([3.0], "cpu")
    (x ** e).sum().backward()
    assert x.grad.item() == pytest.approx(3 * 2.0 ** 2)             # e·x^(e−1)
    assert e.grad.item() == pytest.approx(2.0 ** 3 * np.log(2.0))   # x^e·ln x


# ==================== matrix product ====================

MATMUL_SHAPES = [((3, 4), (4, 2)), ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                 ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((3,), (2, 3, 4)),
                 ((2, 3, 4), (4,)), ((1, 1), (1, 3))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(device, shapes):
    a_np, b_np = normal(shapes[0], 1), normal(shapes[1], 2)
    a, b = leaf(a_np, device), leaf(b_np, device)
    assert_values(a @ b, np.matmul(a_np, b_np))
    check(F.matmul, a, b)


def test_matmul_gradients_by_hand():
    a_np, b_np = normal((3, 4), 1), normal((4, 2), 2)
    a, b = leaf(a_np, "cpu"), leaf(b_np, "cpu")
    (a @ b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.ones((3, 2)) @ b_np.T)
    np.testing.assert_allclose(b.grad.numpy(), a_np.T @ np.ones((3, 2)))


def test_matmul_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4, 5\) do not match"):
        minigan.ones(2, 3) @ minigan.ones(4, 5)
    with pytest.raises(ValueError, match=r"at least 1 dimension, found shapes \(\) and \(3,\)"):
        F.matmul(minigan.tensor(2.0), minigan.ones(3))


# ==================== reductions ====================

REDUCTIONS = {
    "sum": (F.sum, lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims)),
    "mean": (F.mean, lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims)),
    "max": (F.max, lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims)),
    "min": (F.min, lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims)),
    "var": (F.var, lambda x, axis, keepdims: np.var(x, axis=axis, keepdims=keepdims, ddof=1)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (1,)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(device, name, axis, keepdims):
    op, reference = REDUCTIONS[name]
    x_np = normal((2, 3, 5))
    x = leaf(x_np, device)
    assert_values(op(x, axis, keepdims), reference(x_np, axis, keepdims))
    check(lambda t: op(t, axis, keepdims), x)


def test_reduction_methods_match_the_functions():
    x_np = normal((3, 4))
    x = leaf(x_np, "cpu")
    assert_values([x.sum(1), x.mean(0, keepdims=True), x.max(), x.min(-1), x.var(1)],
                  [x_np.sum(1), x_np.mean(0, keepdims=True), x_np.max(), x_np.min(-1),
                   x_np.var(1, ddof=1)])


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_correction(device, correction):
    x_np = normal((4, 5))
    x = leaf(x_np, device)
    assert_values(x.var(1, correction=correction), np.var(x_np, axis=1, ddof=correction))
    check(lambda t: t.var(1, correction=correction), x)


@settings(HYPOTHESIS)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
       name=st.sampled_from(sorted(REDUCTIONS)), keepdims=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_reductions_on_any_shape_and_axes(device, data, shape, name, keepdims, seed):
    ndim = len(shape)
    axis = data.draw(st.none() | st.integers(-ndim, ndim - 1)
                     | hnp.valid_tuple_axes(ndim, min_size=1), label="axis")
    x_np = normal(shape, seed)
    x = leaf(x_np, device)
    if name == "var":
        reduced = range(ndim) if axis is None else np.atleast_1d(axis)
        # the unbiased variance of a single element divides by 0
        correction = 1 if np.prod([shape[a] for a in reduced]) > 1 else 0
        fn = lambda t: F.var(t, axis, keepdims, correction=correction)  # noqa: E731
        expected = np.var(x_np, axis=axis, keepdims=keepdims, ddof=correction)
    else:
        op, reference = REDUCTIONS[name]
        fn = lambda t: op(t, axis, keepdims)  # noqa: E731
        expected = reference(x_np, axis, keepdims)
    assert_values(fn(x), expected)
    check(fn, x)


def test_max_and_min_send_the_gradient_to_the_extremum():
    x = leaf([[1.0, 5.0, -2.0], [0.5, -3.0, 4.0]], "cpu")
    (x.max(axis=1).sum() + 10 * x.min(axis=1).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 10], [0, 10, 1]])


def test_ties_share_the_gradient_equally():
    x = leaf([1.0, 3.0, 3.0, 3.0], "cpu")
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1 / 3, 1 / 3, 1 / 3])


def test_mean_and_var_gradients_by_hand():
    x_np = np.array([1.0, 2.0, 4.0, 7.0])
    x = leaf(x_np, "cpu")
    x.mean().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(4, 0.25))
    x.grad = None
    x.var().backward()  # ∂/∂xᵢ Σ(x − x̄)²/(n − 1) = 2(xᵢ − x̄)/(n − 1)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (x_np - x_np.mean()) / 3)


# ==================== shapes ====================

SHAPE_OPS = [
    ("reshape", lambda t: t.reshape(4, -1), lambda x: x.reshape(4, -1)),
    ("reshape-tuple", lambda t: t.reshape((6, 4)), lambda x: x.reshape(6, 4)),
    ("flatten", lambda t: t.flatten(), lambda x: x.reshape(-1)),
    ("flatten-1", lambda t: t.flatten(1), lambda x: x.reshape(2, 12)),
    ("flatten-0-1", lambda t: t.flatten(0, 1), lambda x: x.reshape(6, 4)),
    ("transpose-0-2", lambda t: t.transpose(0, 2), lambda x: x.swapaxes(0, 2)),
    ("transpose-all", lambda t: t.transpose(), lambda x: x.transpose()),
    ("T", lambda t: t.T, lambda x: x.T),
    ("mT", lambda t: t.mT, lambda x: x.swapaxes(-1, -2)),
    ("permute", lambda t: t.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1)),
    ("permute-tuple", lambda t: t.permute((1, -1, 0)), lambda x: x.transpose(1, 2, 0)),
    ("unsqueeze-0", lambda t: t.unsqueeze(0), lambda x: x[None]),
    ("unsqueeze--1", lambda t: t.unsqueeze(-1), lambda x: x[..., None]),
    ("view", lambda t: t.view(2, 12), lambda x: x.reshape(2, 12)),
]


@pytest.mark.parametrize("name,fn,reference", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_ops(device, name, fn, reference):
    x_np = normal((2, 3, 4))
    x = leaf(x_np, device)
    assert_values(fn(x), reference(x_np))
    check(fn, x)


@pytest.mark.parametrize("fn,expected_shape", [
    (lambda t: t.squeeze(), (2, 3)), (lambda t: t.squeeze(1), (2, 3, 1)),
    (lambda t: t.squeeze(-1), (2, 1, 3)), (lambda t: t.squeeze(0), (2, 1, 3, 1)),
], ids=["all", "1", "-1", "not-1-is-kept"])
def test_squeeze(device, fn, expected_shape):
    x_np = normal((2, 1, 3, 1))
    x = leaf(x_np, device)
    assert_values(fn(x), x_np.reshape(expected_shape))
    check(fn, x)


def test_transpose_gradient_is_the_inverse_permutation():
    x = leaf(np.zeros((2, 3, 4)), "cpu")
    g = normal((4, 2, 3))
    x.permute(2, 0, 1).backward(minigan.tensor(g, dtype="float64"))
    np.testing.assert_array_equal(x.grad.numpy(), g.transpose(1, 2, 0))


def test_permute_rejects_a_non_permutation():
    with pytest.raises(ValueError, match=r"\(0, 0, 1\) is not a permutation of the 3 axes of "
                                         r"a tensor of shape \(2, 3, 4\)"):
        minigan.zeros(2, 3, 4).permute(0, 0, 1)


# ==================== indexing ====================

MASK_ROWS = np.array([True, False, True, True])
INDEXES = {
    "step-slice": (slice(1, None, 2),),
    "negative-step": (slice(None, None, -2), 1),
    "ellipsis": (Ellipsis, slice(0, 5, 3)),
    "newaxis": (None, 2),
    "int": 3,
    "repeated-ints": np.array([0, 2, 2, 3, 0]),
    "int-pairs": (np.array([0, 1, 1]), np.array([4, 4, 0])),
    "slice-and-ints": (slice(None), [1, 1, 3]),
    "bool-rows": MASK_ROWS,
    "bool-2d": np.arange(20).reshape(4, 5) % 3 == 0,
}


def on_device(index, device):
    """The index with its arrays as Tensors on ``device``, as a GPU user would pass them."""
    if isinstance(index, tuple):
        return tuple(on_device(i, device) for i in index)
    return minigan.tensor(index, device=device) if isinstance(index, np.ndarray) else index


@pytest.mark.parametrize("name", sorted(INDEXES))
def test_getitem(device, name):
    index = INDEXES[name]
    x_np = normal((4, 5))
    x = leaf(x_np, device)
    assert_values(x[on_device(index, device)], x_np[index])
    check(lambda t: t[on_device(index, device)], x)


def test_repeated_indices_accumulate_their_gradients():
    x = leaf(np.zeros(5), "cpu")
    index = np.array([0, 2, 2, 4, 2, 0])
    x[index].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.bincount(index, minlength=5))


def test_index_with_an_integer_tensor(device):
    x_np = normal((4, 3))
    x = leaf(x_np, device)
    rows = minigan.tensor([3, 0, 3], device=device)
    assert_values(x[rows], x_np[[3, 0, 3]])
    check(lambda t: t[rows], x)


def test_mask_gradient_is_the_mask():
    x = leaf(normal((4, 5)), "cpu")
    x[MASK_ROWS].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.repeat(MASK_ROWS[:, None], 5, 1))


# ==================== joining and splitting ====================

@pytest.mark.parametrize("shapes,axis", [
    (((2, 3), (4, 3)), 0), (((2, 1, 3), (2, 2, 3), (2, 3, 3)), 1),
    (((3, 2), (3, 1)), -1), (((5,),), 0),
], ids=str)
def test_cat(device, shapes, axis):
    arrays = [normal(s, i) for i, s in enumerate(shapes)]
    tensors = [leaf(a, device) for a in arrays]
    assert_values(F.cat(tensors, axis), np.concatenate(arrays, axis))
    check(lambda *ts: F.cat(ts, axis), *tensors)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack(device, axis):
    arrays = [normal((2, 3), i) for i in range(3)]
    tensors = [leaf(a, device) for a in arrays]
    assert_values(F.stack(tensors, axis), np.stack(arrays, axis))
    check(lambda *ts: F.stack(ts, axis), *tensors)


@pytest.mark.parametrize("sizes,axis,expected", [
    (2, 0, [2, 2, 1]), ([1, 4], 0, [1, 4]), (2, 1, [2, 1]), ([3], -1, [3]),
], ids=str)
def test_split(device, sizes, axis, expected):
    x_np = normal((5, 3))
    x = leaf(x_np, device)
    pieces = x.split(sizes, axis)
    bounds = np.cumsum(expected)[:-1]
    assert_values(pieces, np.split(x_np, bounds, axis=axis))
    check(lambda t: F.split(t, sizes, axis), x)


def test_cat_and_split_errors():
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 5\), which does not "
                                         r"match \(3, 4\) outside axis 0"):
        F.cat([minigan.zeros(3, 4), minigan.zeros(2, 5)], 0)
    with pytest.raises(ValueError, match="cat: expected a non-empty list"):
        F.cat([])
    with pytest.raises(ValueError, match=r"split: sizes \[2, 2\] add up to 4, but axis 0 has "
                                         r"length 5"):
        F.split(minigan.zeros(5), [2, 2])


# ==================== where ====================

@pytest.mark.parametrize("cond_shape,a_shape,b_shape", [
    ((3, 4), (3, 4), (3, 4)), ((3, 4), (3, 4), (4,)), ((4,), (3, 4), (3, 1)),
    ((3, 4), (), (4,)),
], ids=str)
def test_where(device, cond_shape, a_shape, b_shape):
    cond = np.random.default_rng(7).random(cond_shape) > 0.5
    a_np, b_np = normal(a_shape, 1), normal(b_shape, 2)
    a, b = leaf(a_np, device), leaf(b_np, device)
    mask = minigan.tensor(cond, device=device)
    assert_values(F.where(mask, a, b), np.where(cond, a_np, b_np))
    check(lambda s, t: F.where(mask, s, t), a, b)


def test_where_routes_the_gradient_by_the_condition():
    cond = np.array([True, False, True])
    a, b = leaf(np.zeros(3), "cpu"), leaf(np.zeros(3), "cpu")
    F.where(minigan.tensor(cond), a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), cond)
    np.testing.assert_array_equal(b.grad.numpy(), ~cond)


# ==================== elementwise functions ====================

ELEMENTWISE = {
    "exp": (lambda t: t.exp(), np.exp, normal),
    "log": (lambda t: t.log(), np.log, positive),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, positive),
    "abs": (lambda t: t.abs(), np.abs, away_from_zero),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("shape", [(3, 4), (5,), ()], ids=str)
def test_elementwise(device, name, shape):
    fn, reference, sample = ELEMENTWISE[name]
    x_np = sample(shape)
    x = leaf(x_np, device)
    assert_values(fn(x), reference(x_np))
    check(fn, x)


def test_elementwise_derivatives_by_hand():
    x_np = np.array([0.5, 2.0, 3.0])
    for fn, derivative in [(F.exp, np.exp(x_np)), (F.log, 1 / x_np),
                           (F.sqrt, 0.5 / np.sqrt(x_np)), (F.abs, np.ones(3))]:
        x = leaf(x_np, "cpu")
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), derivative, rtol=1e-14)


def test_abs_gradient_is_zero_at_zero():
    x = leaf([-2.0, 0.0, 3.0], "cpu")
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1, 0, 1])


@pytest.mark.parametrize("lo,hi", [(-0.5, 0.5), (-0.5, None), (None, 0.5)], ids=str)
def test_clamp(device, lo, hi):
    x_np = np.array([-2.0, -0.8, -0.3, 0.1, 0.35, 0.7, 1.5])
    x = leaf(x_np, device)
    assert_values(x.clamp(lo, hi), np.clip(x_np, lo, hi))
    check(lambda t: t.clamp(lo, hi), x)
    x.clamp(lo, hi).sum().backward()
    inside = (x_np >= (-np.inf if lo is None else lo)) & (x_np <= (np.inf if hi is None else hi))
    np.testing.assert_array_equal(x.grad.numpy(), inside)


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp: give at least one of min and max"):
        minigan.zeros(3).clamp()


# ==================== broadcast_to and sum_to ====================

@pytest.mark.parametrize("shape,target", [((3, 1), (2, 3, 4)), ((4,), (3, 4)), ((), (2, 2)),
                                          ((2, 3), (2, 3))], ids=str)
def test_broadcast_to(device, shape, target):
    x_np = normal(shape)
    x = leaf(x_np, device)
    assert_values(F.broadcast_to(x, target), np.broadcast_to(x_np, target))
    check(lambda t: F.broadcast_to(t, target), x)


@pytest.mark.parametrize("shape,target,axes", [
    ((2, 3, 4), (3, 1), (0, 2)), ((3, 4), (4,), (0,)), ((2, 3), (), (0, 1)),
    ((2, 1, 5), (1, 1, 5), (0,))], ids=str)
def test_sum_to(device, shape, target, axes):
    x_np = normal(shape)
    x = leaf(x_np, device)
    assert_values(F.sum_to(x, target), x_np.sum(axis=axes).reshape(target))
    check(lambda t: F.sum_to(t, target), x)


@pytest.mark.parametrize("layout", ["batch-first", "batch-last"])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axes", [(0,), (1,), (0, 2), (0, 2, 3), (0, 1, 2, 3), (1, 3), (0, 3),
                                  (1, 2, 3)], ids=str)
def test_reduce_sum_and_reduce_dot_are_numpys_sums(device, axes, keepdims, layout):
    # Each memory layout takes another path (BLAS rows, leading axis first, plain sum):
    # (1, 2, 3) of a batch-first array and (0, 2, 3) of a batch-last one are row matrices.
    a_np, b_np = normal((4, 3, 5, 2)), normal((4, 3, 5, 2))
    a, b = backend.to_device(a_np, device), backend.to_device(b_np, device)
    if layout == "batch-last":  # the layout a convolution returns (functional/conv.py)
        a, b = (t.transpose(1, 2, 3, 0).copy().transpose(3, 0, 1, 2) for t in (a, b))
    for got, expected in ((reduce_sum(a, axes, keepdims), a_np.sum(axis=axes, keepdims=keepdims)),
                          (reduce_dot(a, b, axes, keepdims),
                           (a_np * b_np).sum(axis=axes, keepdims=keepdims))):
        assert got.shape == expected.shape
        np.testing.assert_allclose(backend.to_numpy(got), expected, rtol=1e-12, atol=1e-12)


@settings(HYPOTHESIS)
@given(data=st.data(), big=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_broadcast_to_and_sum_to_are_adjoint(data, big, seed):
    """⟨broadcast_to(x), y⟩ = ⟨x, sum_to(y)⟩ for every x, y: sum_to is broadcast_to's
    transpose, which is why each is the other's backward."""
    small = data.draw(hnp.broadcastable_shapes(big, min_dims=0, max_dims=len(big),
                                               max_side=3), label="small")
    big = np.broadcast_shapes(small, big)
    x_np, y_np = normal(small, seed), normal(big, seed + 1)
    x, y = leaf(x_np, "cpu", False), leaf(y_np, "cpu", False)
    lhs = (F.broadcast_to(x, big).numpy() * y_np).sum()
    rhs = (x_np * F.sum_to(y, small).numpy()).sum()
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)
