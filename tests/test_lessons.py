"""Every lesson runs top to bottom as a plain script, and its asserts hold: with --quick by
default (seconds each), and in full mode under ``python -m pytest -m slow`` (minutes each; run
it before every release — only the full runs check the long-training outcomes)."""
import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LESSONS = sorted(glob.glob(os.path.join(ROOT, "lessons", "[0-9][0-9]_*.py")))
QUICK_LIMIT_S = 120  # a lesson's --quick budget is 30 s; the rest is slack for busy machines
FULL_LIMIT_S = 900   # the longest full lesson takes about a minute on an idle 2-core machine


def run_lesson(path, tmp_path, args, limit_s):
    # One BLAS thread: the lessons' matrices are small, and on a busy 2-core machine
    # OpenBLAS's threads spin against each other (a lesson took 6x longer with them).
    env = dict(os.environ, MINIGAN_LESSONS_OUT=str(tmp_path), MPLBACKEND="Agg",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, os.path.relpath(path, ROOT), *args],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=limit_s)
    assert result.returncode == 0, (
        f"{os.path.basename(path)} {' '.join(args)} exited with {result.returncode}\n"
        f"--- stdout (tail) ---\n{result.stdout[-3000:]}\n"
        f"--- stderr (tail) ---\n{result.stderr[-3000:]}")
    topic = os.path.splitext(os.path.basename(path))[0]
    assert os.path.isdir(tmp_path / topic), "the lesson did not use the --out folder"


def test_every_lesson_is_found():
    names = [os.path.basename(p) for p in LESSONS]
    assert len(names) >= 10, f"expected at least 10 lessons (00-09) in lessons/, found {names}"


@pytest.mark.parametrize("path", LESSONS, ids=os.path.basename)
def test_lesson_runs_quick(path, tmp_path):
    run_lesson(path, tmp_path, ["--quick"], QUICK_LIMIT_S)


@pytest.mark.slow
@pytest.mark.parametrize("path", LESSONS, ids=os.path.basename)
def test_lesson_runs_full(path, tmp_path):
    run_lesson(path, tmp_path, [], FULL_LIMIT_S)


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
