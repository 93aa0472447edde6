"""Every lesson runs top to bottom as a plain script, and its asserts hold: with --quick by
default (seconds each), and in full mode under ``python -m pytest -m slow`` (minutes each; run
it before every release — only the full runs check the long-training outcomes).

The lessons run in background subprocesses while the rest of the suite goes on
(tests/lesson_runs.py); these tests, which pytest runs last, wait for them."""
import glob
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LESSONS = sorted(glob.glob(os.path.join(ROOT, "lessons", "[0-9][0-9]_*.py")))
QUICK_LIMIT_S = 120  # a lesson's --quick budget is 30 s; the rest is slack for busy machines
FULL_LIMIT_S = 1800  # the longest full lesson (13) takes 4 min on an idle Zen 4-class 2-core
                     # VM; on a Zen 3-class one beside three other jobs it ran out of 900 s


def assert_lesson_passed(path, request, lesson_runs):
    """The lesson run this test's ``lesson`` mark names exited 0 and used its --out folder."""
    mode = request.node.get_closest_marker("lesson").kwargs
    result, out = lesson_runs.result(path, mode["args"], mode["limit_s"])
    assert result.returncode == 0, (
        f"{os.path.basename(path)} {' '.join(mode['args'])} exited with {result.returncode}\n"
        f"--- stdout (tail) ---\n{result.stdout[-3000:]}\n"
        f"--- stderr (tail) ---\n{result.stderr[-3000:]}")
    topic = os.path.splitext(os.path.basename(path))[0]
    assert os.path.isdir(os.path.join(out, topic)), "the lesson did not use the --out folder"


def test_every_lesson_is_found():
    names = [os.path.basename(p) for p in LESSONS]
    assert len(names) >= 10, f"expected at least 10 lessons (00-09) in lessons/, found {names}"


@pytest.mark.lesson(args=["--quick"], limit_s=QUICK_LIMIT_S)
@pytest.mark.parametrize("path", LESSONS, ids=os.path.basename)
def test_lesson_runs_quick(path, request, lesson_runs):
    assert_lesson_passed(path, request, lesson_runs)


@pytest.mark.slow
@pytest.mark.lesson(args=[], limit_s=FULL_LIMIT_S)
@pytest.mark.parametrize("path", LESSONS, ids=os.path.basename)
def test_lesson_runs_full(path, request, lesson_runs):
    assert_lesson_passed(path, request, lesson_runs)


def test_check_helper_prints_and_asserts(capsys):
    sys.path.insert(0, os.path.join(ROOT, "lessons"))
    try:
        from _common import check
    finally:
        sys.path.pop(0)
    check("one", 1.0 + 1e-9, 1.0, 1e-6)
    assert "check one" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="two: .* differs from .* by 0.5"):
        check("two", [1.0, 2.5], [1.0, 2.0], 1e-6)
