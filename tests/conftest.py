"""Shared fixtures: every test starts from the same seed; op tests run on each device."""
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
