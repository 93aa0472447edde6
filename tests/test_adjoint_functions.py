"""The Functions that mostly appear as other ops' backward passes, checked on their own:
first and second order, and each one's adjoint identity <A x, y> = <x, Aᵀ y> against its
partner (the pair closes the set under differentiation)."""
import numpy as np
import pytest

import minigan
from minigan.functional.reductions import MaxMin
from minigan.functional.shapes import GetItem, IndexAdd
from minigan.functional._linear_maps import Gather, Resample2d, ScatterAdd
from minigan.functional.interpolation import BlockSum, RepeatPixels
from minigan.functional.padding import ConstantPad, Crop
from minigan.functional.pooling import AvgPool2d, AvgPool2dAdjoint
from tests.helpers import randn64


def _square(op):
    """x ↦ op(x)²: for a linear op, second derivatives are only exercised through a
    nonlinear consumer (gradgradcheck also varies the incoming gradient)."""
    return lambda x: op(x) * op(x)


def _pairs(device):
    """(name, A, Aᵀ, input shape of A); A and Aᵀ make a fresh Function per call, since a
    Function is one node of one graph."""
    xp = minigan.backend.get_array_module(randn64(1, device=device).data)
    index = xp.asarray([4, 0, 4, 2, 1, 3])                     # repeats: scatter must add
    a_h = xp.asarray(np.random.default_rng(1).standard_normal((4, 3)))
    a_w = xp.asarray(np.random.default_rng(2).standard_normal((2, 5)))
    widths = ((1, 2), (0, 1))
    pool = ((2, 3), (1, 2), (1, 1))
    pick = (slice(None), index)
    return [
        ("Gather/ScatterAdd", lambda x: Gather(index, 1)(x),
         lambda y: ScatterAdd(index, (5,))(y), (2, 5)),
        ("ConstantPad/Crop", lambda x: ConstantPad(widths, 0.0)(x),
         lambda y: Crop(widths)(y), (2, 3, 4)),
        ("Resample2d", lambda x: Resample2d(a_h, a_w)(x),
         lambda y: Resample2d(a_h.T, a_w.T)(y), (2, 3, 5)),
        ("AvgPool2d/AvgPool2dAdjoint", lambda x: AvgPool2d(*pool)(x),
         lambda y: AvgPool2dAdjoint(*pool, (4, 5))(y), (1, 2, 4, 5)),
        ("GetItem/IndexAdd", lambda x: GetItem(pick)(x),
         lambda y: IndexAdd(pick, (2, 5))(y), (2, 5)),
        ("RepeatPixels/BlockSum", lambda x: RepeatPixels(2, 3)(x),
         lambda y: BlockSum(2, 3)(y), (2, 1, 3, 2)),
    ]


@pytest.mark.parametrize("which", range(6))
def test_adjoint_pairs(device, which):
    name, forward, adjoint, shape = _pairs(device)[which]
    x = randn64(*shape, device=device, requires_grad=False)
    y = forward(x)
    v = randn64(*y.shape, device=device, requires_grad=False)
    lhs = float((y.data * v.data).sum())
    rhs = float((x.data * adjoint(v).data).sum())
    assert lhs == pytest.approx(rhs, rel=1e-12), name


@pytest.mark.parametrize("which", range(6))
@pytest.mark.parametrize("side", ["forward", "adjoint"])
def test_each_function_first_and_second_order(device, which, side):
    name, forward, adjoint, shape = _pairs(device)[which]
    op = forward if side == "forward" else adjoint
    in_shape = shape if side == "forward" else forward(randn64(*shape, device=device)).shape
    x = randn64(*in_shape, device=device)
    assert minigan.gradcheck(op, [x], name=f"{name} {side}")
    assert minigan.gradgradcheck(_square(op), [x], name=f"{name} {side}")


@pytest.mark.parametrize("take_max", [True, False])
@pytest.mark.parametrize("axis", [None, 0, (1,)])
def test_maxmin_function(device, take_max, axis):
    x = randn64(3, 4, device=device)  # continuous samples: no ties
    axes = tuple(range(2)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    op = lambda t: MaxMin(axes, False, take_max)(t)  # noqa: E731
    expected = (x.numpy().max if take_max else x.numpy().min)(axis=axes)
    np.testing.assert_array_equal(op(x).numpy(), expected)
    assert minigan.gradcheck(op, [x])
    assert minigan.gradgradcheck(_square(op), [x])
