"""How many BLAS threads a training step should use, on a quiet and on a busy machine.

Times one training step (``model.step(batch)``, what ``minigan train`` runs) of

    vanilla   the notes' MLP GAN on 28×28 digits, batch 64 (G 100-128-784, D 784-128-1)
    dcgan     the notes' MNIST DCGAN, batch 128

with OpenBLAS limited (through threadpoolctl, at run time, in this one process) to 1
thread, to each count up to the CPUs this process may use, and under minigan's own policy
(``minigan.threads``), first on a quiet machine, then with ``--busy`` CPU-bound competitors
(``python -c "while True: pass"``) running beside it. Prints one table: median and
interquartile range of the step in ms over ``--iters`` steps after warm-up.

    PYTHONPATH=. python benchmarks/thread_policy.py [--iters 40] [--busy 1] [--models vanilla,dcgan]

Run it on a machine nobody else is using for the "quiet" column to mean quiet.
"""
import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import minigan
from minigan import memory, threads
from minigan.autograd import Tensor
from minigan.models.dcgan import DCGAN
from minigan.models.vanilla import Vanilla

MODELS = {"vanilla": (Vanilla, 64), "dcgan": (DCGAN, 128)}


def step_fn(name):
    cls, batch = MODELS[name]
    minigan.manual_seed(0)
    model = cls((1, 28, 28))
    real = {"x": Tensor(np.random.default_rng(0).uniform(-1, 1, (batch, 1, 28, 28))
                        .astype(np.float32))}
    return lambda: model.step(real)


def times_ms(step, iters, warmup):
    for _ in range(warmup):
        step()
    out = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        out.append((time.perf_counter() - start) * 1e3)
    return out


def summary(ms):
    q = statistics.quantiles(ms, n=4)
    return f"{statistics.median(ms):8.1f} ({q[0]:.0f}–{q[2]:.0f})"


@contextlib.contextmanager
def competitors(count):
    """``count`` busy-loop processes, each wanting a whole CPU, while the block runs."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
             for _ in range(count)]
    try:
        time.sleep(0.5 if count else 0)  # let them get scheduled
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def measure(name, setting, iters, warmup):
    """The step times of ``name`` with BLAS threads set by ``setting`` (an int, or
    "policy": minigan.threads.training_threads())."""
    step = step_fn(name)
    if setting == "policy":
        with threads.training_threads():
            return times_ms(step, iters, warmup)
    with threadpool_limits(limits=setting, user_api="blas"):
        return times_ms(step, iters, warmup)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--busy", type=int, default=1,
                        help="CPU-bound competitor processes in the busy column (default 1)")
    parser.add_argument("--models", default="vanilla,dcgan")
    args = parser.parse_args()
    memory.keep_freed_memory()  # as minigan.train does
    cpus = threads.usable_cpus()
    blas = [(i["internal_api"], i["num_threads"]) for i in threadpool_info()
            if i["user_api"] == "blas"]
    print(f"CPUs usable: {cpus}; BLAS: {blas}; load average before: "
          f"{os.getloadavg()[0]:.2f}")
    settings = list(range(1, cpus + 1)) + ["policy"]
    print(f"{'model':<8} {'BLAS threads':<13} {'quiet: ms/step (IQR)':>22} "
          f"{f'busy ({args.busy} competitor): ms/step':>34}")
    for name in args.models.split(","):
        for setting in settings:
            quiet = measure(name, setting, args.iters, args.warmup)
            with competitors(args.busy):
                busy = measure(name, setting, args.iters, args.warmup)
            label = (f"policy ({threads.policy_threads()})" if setting == "policy"
                     else str(setting))
            print(f"{name:<8} {label:<13} {summary(quiet):>22} {summary(busy):>34}",
                  flush=True)


if __name__ == "__main__":
    main()
