"""Shared fixtures: every test starts from the same seed; op tests run on each device.
Shared helper functions live in tests/helpers.py."""
import pytest

import minigan
from tests.helpers import DEVICES


@pytest.fixture(autouse=True)
def _seed():
    minigan.manual_seed(0)


@pytest.fixture(params=DEVICES)
def device(request):
    """Each device in turn: "cpu", and "cuda" (skipped, and listed by -ra, without a GPU)."""
    return request.param
