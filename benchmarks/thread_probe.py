"""What the thread policy's probe sees: its products timed on 1 and all threads, quiet and
beside busy processes.

``minigan.threads`` times ``CALLS`` products of ``PROBE`` floats in a row, the best of
``REPEATS``, at each thread count. This prints every repeat of such a probe (7 instead of
3, so the stalls show), ``--trials`` times, on an idle machine and then beside ``--busy``
CPU-bound processes (``python -c "while True: pass"``), and per trial the ratio the
policy would judge by (best of the first ``REPEATS`` on 1 thread over the same on all).

    python benchmarks/thread_probe.py [--trials 10] [--busy 1]
"""
import argparse
import subprocess
import sys
import time

from threadpoolctl import threadpool_limits

from minigan import threads


def repeats(count, n=7):
    """Seconds of each of n runs of the probe's CALLS products on ``count`` threads."""
    a, b = threads.probe_operands()
    with threadpool_limits(limits=count, user_api="blas"):
        a @ b  # wake the threads
        out = []
        for _ in range(n):
            start = time.perf_counter()
            for _ in range(threads.CALLS):
                a @ b
            out.append(time.perf_counter() - start)
    return out


def table(label, trials, most):
    print(f"{label}: ms per repeat on 1 thread | on {most}; policy's ratio (best of "
          f"{threads.REPEATS}, 1 thread / {most})")
    for _ in range(trials):
        one, all_ = repeats(1), repeats(most)
        ratio = min(one[:threads.REPEATS]) / min(all_[:threads.REPEATS])
        print("  " + " ".join(f"{1e3 * t:6.1f}" for t in one) + "  | "
              + " ".join(f"{1e3 * t:6.1f}" for t in all_) + f"   {ratio:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--busy", type=int, default=1)
    args = parser.parse_args()
    most = min(threads.blas_threads() or 1, threads.usable_cpus())
    table("quiet", args.trials, most)
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
             for _ in range(args.busy)]
    try:
        time.sleep(0.5)  # let them get scheduled
        table(f"beside {args.busy} busy process(es)", args.trials, most)
    finally:
        for p in procs:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
