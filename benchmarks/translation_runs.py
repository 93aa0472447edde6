"""What the translation benchmarks share: train with the real command line, timed.

``timed_train(argv)`` runs ``python -m minigan train ...`` as a child process with
OPENBLAS_NUM_THREADS=1 and returns the child's CPU time (user + system, from
``resource.getrusage(RUSAGE_CHILDREN)``, what ``/usr/bin/time`` reports) and its wall
time: a reported run fits the "≤ 10 min on 2 cores" budget when its single-thread CPU time
is ≤ 600 s, whatever else loads the machine.
"""
import os
import resource
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# `python benchmarks/x.py` puts benchmarks/ first on sys.path, not the repository root:
# adding the root makes the scripts score with this checkout's minigan, as their runs use.
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def timed_train(argv):
    """Run ``minigan train`` with ``argv``; returns (command line as text, cpu s, wall s)."""
    command = [sys.executable, "-m", "minigan", "train"] + [str(a) for a in argv]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=ROOT)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = "python -m minigan train " + " ".join(shlex.quote(str(a)) for a in argv)
    return text, cpu, wall


def minutes(seconds):
    return f"{int(seconds // 60)} min {seconds % 60:02.0f} s"
