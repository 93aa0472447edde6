"""A training command over several seeds: coverage, FID and time, seed by seed.

Runs ``python -m minigan train MODEL ... --seed S`` for each seed (in this process, through
``minigan.cli``), optionally stopping at intermediate step counts and continuing with
``--resume`` (bit-exact, so the figures at the last count are those of one uninterrupted
run), and scores each checkpoint as ``python -m minigan eval RUN`` does (1,000 samples,
eval seed 0). The time columns are this process's CPU time (user + system, every
thread) and wall time of training alone, without the scoring. Pin the BLAS threads to
compare CPU budgets: ``OPENBLAS_NUM_THREADS=1``.

    OPENBLAS_NUM_THREADS=1 python benchmarks/seeds.py --seeds 0 1 2 3 4 --steps 3000 \\
        --out runs/seeds -- dcgan --batch-size 64

Each line of the table is also appended as JSON to ``OUT/results.jsonl``.
"""
import argparse
import contextlib
import io
import json
import os
import time

from minigan import backend, cli
from minigan.checkpoint import build_model, load_checkpoint


def train(argv):
    """Run ``minigan train`` with ``argv``; (CPU seconds, wall seconds)."""
    cpu, wall = time.process_time(), time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(["train", *argv])
    if status != 0:
        raise SystemExit(f"minigan train {' '.join(argv)} exited with {status}")
    return time.process_time() - cpu, time.perf_counter() - wall


def score(run, num_samples):
    """``minigan eval RUN``'s scores (eval seed 0); for a model that samples a weight
    average G_ema, also the classes and FID of the trained G itself ("G_classes", "G_fid")."""
    checkpoint = load_checkpoint(run)
    model = build_model(checkpoint)
    data = checkpoint["meta"]["data"]
    backend.manual_seed(0)
    scores = model.evaluate(data, num_samples=num_samples)
    if getattr(model, "G_ema", None) is not None:
        model.G_ema = None
        backend.manual_seed(0)
        raw = model.evaluate(data, num_samples=num_samples)
        scores.update(G_classes=raw["class_coverage"], G_fid=raw["fid"])
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", default="3000",
                        help="step counts to score at, comma-separated (default 3000)")
    parser.add_argument("--out", default="runs/seeds", help="parent of the run directories")
    parser.add_argument("--n", type=int, default=1000, help="samples scored (default 1000)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="-- MODEL [training flags]: what `minigan train` gets")
    args = parser.parse_args()
    command = [a for a in args.command if a != "--"]
    if not command:
        parser.error("give the training command after --, e.g. -- dcgan --batch-size 64")
    counts = [int(n) for n in args.steps.split(",")]
    os.makedirs(args.out, exist_ok=True)
    print(f"minigan train {' '.join(command)} --seed S --steps N "
          f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})")
    print(f"{'seed':>4} {'steps':>6} {'classes':>7} {'samples per class':<42} {'FID':>7} "
          f"{'IS':>5} {'CPU s':>7} {'wall s':>7}  G itself (when G_ema)")
    for seed in args.seeds:
        run = os.path.join(args.out, f"s{seed}")
        cpu = wall = 0.0
        for i, steps in enumerate(counts):
            more = ["--resume", run] if i else ["--seed", str(seed), "--overwrite"]
            c, w = train([*command, "--steps", str(steps), "--out", run,
                          "--sample-every", str(counts[-1]), *more])
            cpu, wall = cpu + c, wall + w
            s = score(run, args.n)
            row = {"command": command, "seed": seed, "steps": steps,
                   "classes": s["class_coverage"], "per_class": s["samples_per_class"],
                   "fid": s["fid"], "is": s["inception_score"],
                   "confidence": s["confidence"], "cpu_s": cpu, "wall_s": wall,
                   "G_classes": s.get("G_classes"), "G_fid": s.get("G_fid")}
            raw = f"  {s['G_classes']}/10 {s['G_fid']:.1f}" if "G_fid" in s else ""
            print(f"{seed:>4} {steps:>6} {s['class_coverage']:>5}/10 "
                  f"{s['samples_per_class']:<42} {s['fid']:>7.1f} "
                  f"{s['inception_score']:>5.2f} {cpu:>7.0f} {wall:>7.0f}{raw}", flush=True)
            with open(os.path.join(args.out, "results.jsonl"), "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
