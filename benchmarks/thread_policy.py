"""How many BLAS threads a training step should use, on a quiet and on a busy machine.

Times one training step (``model.step(batch)``, what ``minigan train`` runs) of

    vanilla   the notes' MLP GAN on 28×28 digits, batch 64 (G 100-128-784, D 784-128-1)
    dcgan     the notes' MNIST DCGAN, batch 128
    first     the README's first command: dcgan's defaults (the k-means recipe), batch 64

with OpenBLAS limited (through threadpoolctl, at run time, in this one process) to each
count from 1 to its default, and under minigan's own policy (``minigan.threads``,
``--threads auto``), first on a quiet machine, then with ``--busy`` CPU-bound competitors
(``python -c "while True: pass"``) running beside it. Prints one table: median and
interquartile range of the step in ms over ``--iters`` steps after warm-up.

    PYTHONPATH=. python benchmarks/thread_policy.py [--iters 40] [--dcgan-iters 12]
        [--policy-seconds 20] [--busy 1] [--models vanilla,dcgan,first]

The policy rows train for --policy-seconds and keep the steps after its first check
(FIRST_CHECK + 1 s); "auto (-> q | b)" gives the thread count it settled on, quiet and
busy. Run it on a machine nobody else is using for the "quiet" column to mean quiet.
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

# name: (model, batch, options); dcgan as the notes build it, first as the README trains it
MODELS = {"vanilla": (Vanilla, 64, {}), "dcgan": (DCGAN, 128, DCGAN.presets["notes"]),
          "first": (DCGAN, 64, {})}


def step_fn(name):
    cls, batch, options = MODELS[name]
    minigan.manual_seed(0)
    model = cls((1, 28, 28), **options)
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


def measure(name, count, iters, warmup):
    """Step times (ms) of ``name`` with BLAS fixed at ``count`` threads."""
    step = step_fn(name)
    with threadpool_limits(limits=count, user_api="blas"):
        return times_ms(step, iters, warmup)


def measure_policy(name, seconds, warmup):
    """Step times (ms) of ``name`` under minigan's policy (``threads.training_threads``)
    during ``seconds`` of training, keeping those after its first check (the steady
    state), and the thread count it settled on."""
    step = step_fn(name)
    for _ in range(warmup):
        step()
    times = []
    with threads.training_threads("auto") as policy:
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            before = time.perf_counter()
            step()
            elapsed = time.perf_counter() - before
            policy.observe(elapsed)
            times.append((before - start, elapsed * 1e3))
    steady = [ms for at, ms in times if at > threads.FIRST_CHECK + 1]
    return steady, policy.current


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=40, help="vanilla steps timed per row")
    parser.add_argument("--dcgan-iters", type=int, default=12, help="dcgan and first steps per row")
    parser.add_argument("--policy-seconds", type=float, default=20.0,
                        help="seconds of training under the policy per row (default 20)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--busy", type=int, default=1,
                        help="CPU-bound competitor processes in the busy column (default 1)")
    parser.add_argument("--models", default="vanilla,dcgan")
    args = parser.parse_args()
    memory.keep_freed_memory()  # as minigan.train does
    default = threads.blas_threads()
    blas = [(i["internal_api"], i["num_threads"]) for i in threadpool_info()
            if i["user_api"] == "blas"]
    print(f"CPUs usable: {threads.usable_cpus()}; BLAS: {blas}; load average before: "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'model':<8} {'BLAS threads':<22} {'quiet: ms/step (IQR)':>22} "
          f"{f'busy ({args.busy} competitor): ms/step':>34}")
    for name in args.models.split(","):
        iters = args.iters if name == "vanilla" else args.dcgan_iters
        for count in range(1, default + 1):
            quiet = measure(name, count, iters, args.warmup)
            with competitors(args.busy):
                busy = measure(name, count, iters, args.warmup)
            label = f"{count}" + (" (the default)" if count == default else "")
            print(f"{name:<8} {label:<22} {summary(quiet):>22} {summary(busy):>34}",
                  flush=True)
        quiet, quiet_count = measure_policy(name, args.policy_seconds, args.warmup)
        with competitors(args.busy):
            busy, busy_count = measure_policy(name, args.policy_seconds, args.warmup)
        label = f"auto (-> {quiet_count} | {busy_count})"
        print(f"{name:<8} {label:<22} {summary(quiet):>22} {summary(busy):>34}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
