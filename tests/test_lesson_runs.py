"""tests/lesson_runs.py, the background runner of the lesson tests: what a lesson script
does must reach its test — its exit status, its output, a time-out — never a silent pass."""
from tests.lesson_runs import LessonRuns


def script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def test_exit_status_output_and_out_folder_reach_the_test(tmp_path):
    runs = LessonRuns(str(tmp_path / "out"))
    ok = script(tmp_path, "ok.py", "import os\nprint('hello', os.environ['MINIGAN_LESSONS_OUT'])\n")
    bad = script(tmp_path, "bad.py", "import sys\nprint('broken', file=sys.stderr)\nsys.exit(3)\n")
    try:
        runs.start(bad, ["--quick"], 60)
        (done, out), (failed, _) = runs.result(ok, [], 60), runs.result(bad, ["--quick"], 60)
    finally:
        runs.close()
    assert done.returncode == 0 and done.stdout == f"hello {out}\n"
    assert failed.returncode == 3 and "broken" in failed.stderr
    assert failed.args[-1] == "--quick"


def test_a_run_past_its_limit_is_killed_and_reported(tmp_path):
    runs = LessonRuns(str(tmp_path / "out"))
    slow = script(tmp_path, "slow.py", "import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    try:
        result, _ = runs.result(slow, [], 1)
    finally:
        runs.close()
    assert result.returncode != 0 and "killed after 1 s" in result.stderr
    assert "started" in result.stdout


def test_each_run_starts_once(tmp_path):
    runs = LessonRuns(str(tmp_path / "out"))
    count = tmp_path / "count"
    once = script(tmp_path, "once.py", f"open({str(count)!r}, 'a').write('x')\n")
    try:
        runs.start(once, [], 60)
        runs.result(once, [], 60)
    finally:
        runs.close()
    assert count.read_text() == "x"
