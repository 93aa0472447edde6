"""Shared fixtures: every test starts from the same seed; op tests run on each device."""
import contextlib
import warnings

import numpy as np
import pytest

import minigan

DEVICES = ["cpu"] + (["cuda"] if minigan.cuda_available() else [])


@pytest.fixture(autouse=True)
def _seed():
    minigan.manual_seed(0)


@pytest.fixture(params=DEVICES)
def device(request):
    """Each available device in turn ("cpu", and "cuda" when CuPy sees a GPU)."""
    return request.param


def randn64(*shape, device="cpu", requires_grad=True):
    """A float64 leaf tensor of N(0, 1) samples, the usual gradcheck input."""
    return minigan.randn(*shape, dtype="float64", device=device, requires_grad=requires_grad)


@contextlib.contextmanager
def no_floating_point_trouble():
    """Warnings are errors, and so are overflow, 0/0 and division by zero. Underflow is not:
    e^{−1000} rounding to 0 is the intended result, not a problem."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield
