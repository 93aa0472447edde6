"""Page faults and system time of a DCGAN training step, with and without
`minigan.memory.keep_freed_memory()` (issue 4: why a training run was slower than
`dcgan_step.py`).

Each setting runs in a fresh process (the malloc limits are process-wide and cannot be
undone): the `dcgan` variant's own step on MNIST batches (batch 128, seed 0), warmed up,
then --steps timed steps. Prints the median ms per step, the minor page faults and the
user and system CPU seconds per step, and the peak resident memory (`getrusage`).

    python benchmarks/page_faults.py [--steps 60]
    MALLOC_TOP_PAD_=268435456 python benchmarks/page_faults.py --only default   # glibc tunables
"""
import argparse
import resource
import statistics
import subprocess
import sys
import time


def measure(keep, steps):
    """One setting, in this process: (median ms, faults, user s, system s) per step and
    the peak resident MiB."""
    import minigan
    from minigan import memory
    from minigan.data import DataLoader, load_dataset
    from minigan.models.dcgan import DCGAN

    if keep:
        memory.keep_freed_memory()
    minigan.manual_seed(0)
    gan = DCGAN((1, 28, 28), **DCGAN.presets["notes"])
    loader = DataLoader(load_dataset("mnist5k"), 128, shuffle=True, seed=0)
    for batch in loader.batches(5):
        gan.step(batch)
    before = resource.getrusage(resource.RUSAGE_SELF)
    times = []
    for batch in loader.batches(steps):
        start = time.perf_counter()
        gan.step(batch)
        times.append((time.perf_counter() - start) * 1e3)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (statistics.median(times), (after.ru_minflt - before.ru_minflt) / steps,
            (after.ru_utime - before.ru_utime) / steps, (after.ru_stime - before.ru_stime) / steps,
            after.ru_maxrss / 1024)                                 # KiB -> MiB (Linux)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--only", choices=("default", "keep"), default=None,
                        help="run one setting only")
    parser.add_argument("--child", choices=("default", "keep"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(*measure(args.child == "keep", args.steps))
        return
    print(f"dcgan variant step, batch 128, {args.steps} steps after 5 warm-up steps")
    print(f"{'malloc':<22} {'median ms':>10} {'faults/step':>12} {'user s':>8} {'sys s':>8} "
          f"{'peak MiB':>9}")
    for setting in [args.only] if args.only else ["default", "keep"]:
        out = subprocess.run([sys.executable, __file__, "--child", setting, "--steps",
                              str(args.steps)], capture_output=True, text=True, check=True)
        ms, faults, user, system, peak = map(float, out.stdout.split())
        name = "glibc defaults" if setting == "default" else "keep_freed_memory()"
        print(f"{name:<22} {ms:>10.1f} {faults:>12.0f} {user:>8.4f} {system:>8.4f} "
              f"{peak:>9.0f}")


if __name__ == "__main__":
    main()
