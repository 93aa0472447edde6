"""The lessons run as plain scripts, in subprocesses started in the background.

A lesson is a single-threaded process that mostly waits on NumPy, and the rest of the suite
is one single-threaded process too: run in turn they leave one of a 2-core machine's cores
idle for the whole suite. So as soon as the session knows which lesson tests it will run,
``LessonRuns.start`` launches those lessons, ``WORKERS`` at a time, while pytest goes on
with the other tests; the lesson tests, moved to the end of the run, only wait for their
own lesson and check how it ended. Each lesson's time limit counts from its own start.
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKERS = 2  # the CI machine's cores; pytest's own process shares them


class LessonRuns:
    """Lesson subprocesses, each one started once, keyed by (path, args)."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="lesson")
        self.runs = {}
        self.processes = []
        self.closed = False

    def start(self, path, args, limit_s):
        key = (path, tuple(args))
        if key not in self.runs:
            out = os.path.join(self.out_dir, f"run{len(self.runs)}")
            os.makedirs(out)
            self.runs[key] = (self.pool.submit(self._run, path, args, limit_s, out), out)
        return self.runs[key]

    def result(self, path, args, limit_s):
        """(the finished subprocess, its --out folder), starting the lesson if it is not."""
        future, out = self.start(path, args, limit_s)
        return future.result(), out

    def _run(self, path, args, limit_s, out):
        # One BLAS thread: the lessons' matrices are small, and on a busy 2-core machine
        # OpenBLAS's threads spin against each other (a lesson took 6x longer with them).
        if self.closed:
            return None
        env = dict(os.environ, MINIGAN_LESSONS_OUT=out, MPLBACKEND="Agg",
                   OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        process = subprocess.Popen([sys.executable, os.path.relpath(path, ROOT), *args],
                                   cwd=ROOT, env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.processes.append(process)
        try:
            stdout, stderr = process.communicate(timeout=limit_s)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            return subprocess.CompletedProcess(process.args, "timeout", stdout,
                                               f"{stderr}\nkilled after {limit_s} s")
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def close(self):
        """Stop what has not started and kill what still runs (an interrupted session)."""
        self.closed = True
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        self.pool.shutdown(wait=True)
