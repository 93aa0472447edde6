"""What the op tests share: the devices, float64 leaves, the gradient check every op gets,
and a context that turns floating-point trouble into errors.

Test modules import it as ``from tests.helpers import ...`` (pytest.ini puts the repository
root on sys.path); conftest.py holds fixtures only.
"""
import contextlib
import warnings

import numpy as np
import pytest

import minigan

# Every device, CUDA included: without a GPU its cases are reported as skipped (pytest -ra),
# never silently left out.
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not minigan.cuda_available(), reason="CUDA: CuPy or a GPU is missing on this machine"))]


def randn64(*shape, device="cpu", requires_grad=True):
    """A float64 leaf tensor of N(0, 1) samples, the usual gradcheck input."""
    return minigan.randn(*shape, dtype="float64", device=device, requires_grad=requires_grad)


def leaf(array, device="cpu", requires_grad=True):
    """``array`` as a float64 leaf tensor."""
    return minigan.tensor(array, dtype="float64", device=device, requires_grad=requires_grad)


def host(t):
    """t's values as a NumPy array: a Tensor's data or a (NumPy or CuPy) array."""
    return t.numpy() if isinstance(t, minigan.Tensor) else minigan.backend.to_numpy(t)


def squared(fn):
    """x ↦ fn(x)², each output squared."""
    def fn_squared(*args):
        out = fn(*args)
        return tuple(y * y for y in out) if isinstance(out, tuple) else out * out
    return fn_squared


def check(fn, *inputs, **options):
    """First and second derivatives of ``fn`` at the float64 ``inputs`` against finite
    differences: gradcheck, gradgradcheck on f, and gradgradcheck on f².

    gradgradcheck differentiates (x, v) ↦ vᵀ ∂f/∂x, so it already varies the incoming
    gradient v; on f² the incoming gradient 2f·v also depends on x, which for an op that is
    linear in x (add, reshape, getitem, pad, ...) is the only way its backward meets a
    nonlinear consumer — the path a gradient penalty takes through every layer.
    ``options`` (eps, atol, rtol, seed, name) go to all three checks.
    """
    assert minigan.gradcheck(fn, inputs, **options)
    assert minigan.gradgradcheck(fn, inputs, **options)
    assert minigan.gradgradcheck(squared(fn), inputs, **options)


@contextlib.contextmanager
def no_floating_point_trouble():
    """Warnings are errors, and so are overflow, 0/0 and division by zero. Underflow is not:
    e^{−1000} rounding to 0 is the intended result, not a problem."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield
