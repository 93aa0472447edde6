"""Shared fixtures: every test starts from the same seed; op tests run on each device; the
lessons selected for this session run in the background from its first test on.
Shared helper functions live in tests/helpers.py."""
import pytest
from threadpoolctl import threadpool_limits

import minigan
from minigan.memory import keep_freed_memory
from tests.helpers import DEVICES
from tests.lesson_runs import LessonRuns


def pytest_collection_modifyitems(items):
    # The lesson tests last (a stable sort): they only wait for subprocesses that have
    # been running since the session's first test, alongside everything else.
    items.sort(key=lambda item: item.get_closest_marker("lesson") is not None)


@pytest.fixture(scope="session", autouse=True)
def lesson_runs(request, tmp_path_factory):
    """Starts every selected lesson test's lesson run (``@pytest.mark.lesson(args=...,
    limit_s=...)`` on a test parametrized by the lesson's ``path``)."""
    runs = LessonRuns(str(tmp_path_factory.mktemp("lessons")))
    for item in request.session.items:
        mark = item.get_closest_marker("lesson")
        if mark is not None:
            runs.start(item.callspec.params["path"], mark.kwargs["args"], mark.kwargs["limit_s"])
    # While lessons share the CPUs, this process's BLAS on one thread: OpenBLAS's threads
    # wait for each other by spinning, and against busy CPUs that more than doubled the
    # suite's CPU time. Its products are small, so one thread costs it little.
    with threadpool_limits(1 if runs.runs else None, user_api="blas"):
        yield runs
    runs.close()


@pytest.fixture(scope="session", autouse=True)
def _keep_freed_memory():
    # What every training run does (minigan.train): the many small training runs of the
    # suite then reuse their freed temporaries instead of faulting in fresh pages.
    keep_freed_memory()


@pytest.fixture(autouse=True)
def _seed():
    minigan.manual_seed(0)


@pytest.fixture(params=DEVICES)
def device(request):
    """Each device in turn: "cpu", and "cuda" (skipped, and listed by -ra, without a GPU)."""
    return request.param
