"""Unrolled GAN on the 8-Gaussian ring: modes covered vs the unrolling depth K (issue 19).

The reference recipe of Metz et al. (notes 003, "Unrolled GAN"): tanh MLPs 2 × 128, z of
256, batch 512, D Adam lr 1e-4, G Adam lr 1e-3, β₁ 0.5, on ``ring8`` (8 distinct modes on
a circle of radius 2, std 0.02). For each K and seed one run of ``--steps`` steps, then
2,000 samples scored by ``minigan.metrics.toy_metrics``:

- covered: modes holding ≥ 1 % of the samples within 3σ of them;
- quality: the share of samples within 3σ of their nearest mode.

Every ``--probe-every`` steps (and at the end) the run also measures, on one fixed batch,
the cosine between G's exact (second-order) surrogate gradient and the first-order one
(θ_D^K held constant), and the modes covered then. ms/step is CPU time (process time) per
training step, probes excluded. Writes the last samples of every run as a scatter grid
(``--out``, a PNG).

    python benchmarks/unrolled_modes.py [--unroll 0 5 10] [--seeds 0 1 2] [--steps 5000]
    python benchmarks/unrolled_modes.py --timing [--unroll 0 1 2 5 10]

``--timing`` only measures the CPU time of a step against K, exact and first-order
(``--timing-steps`` steps each after 3 warm-up steps, the best of 3 repeats), no training.
"""
import argparse
import time

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan.data import DataLoader, load_dataset
from minigan.metrics import toy_metrics
from minigan.models.unrolled import Unrolled


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def probe(model, batch, z):
    """Cosine between the exact and the first-order G gradient on a fixed batch."""
    if model.hp.unroll == 0:
        return 1.0   # f_0 has no unrolled D: the two gradients are the same vector
    exact = model.generator_gradient(batch["x"], z, first_order=False)
    first = model.generator_gradient(batch["x"], z, first_order=True)
    return cosine(exact, first)


def run(unroll, seed, data, args):
    """One training run; returns its row of the table and its final samples."""
    minigan.manual_seed(seed)
    model = Unrolled((2,), unroll=unroll, first_order=args.first_order)
    loader = DataLoader(data, args.batch_size, shuffle=True, seed=seed)
    fixed_batch = next(iter(DataLoader(data, args.batch_size, shuffle=True, seed=10_000)))
    fixed_z = model.noise(args.batch_size)
    cosines, history, cpu, wall = [], [], 0.0, 0.0
    for step, batch in enumerate(loader.batches(args.steps), start=1):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        model.step(batch)
        cpu += time.process_time() - cpu0
        wall += time.perf_counter() - wall0
        if step % args.probe_every == 0 or step == args.steps:
            cosines.append(probe(model, fixed_batch, fixed_z))
            points = model.sample(args.samples).numpy()
            history.append(toy_metrics(points, data.modes, data.std)["modes_covered"])
    scores = toy_metrics(points, data.modes, data.std)
    return {"K": unroll, "seed": seed, "covered": scores["modes_covered"],
            "quality": scores["high_quality"], "counts": scores["mode_counts"],
            "history": history, "cosine": cosines, "ms": 1000 * cpu / args.steps,
            "cpu": cpu, "wall": wall}, points


def save_panels(panels, path, real, modes, ncols):
    """One scatter per run (generated over real points, the modes marked), in a grid."""
    nrows = -(-len(panels) // ncols)
    fig = Figure(figsize=(3.0 * ncols, 3.0 * nrows), dpi=100)
    FigureCanvasAgg(fig)
    for i, (points, title) in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.scatter(real[:, 0], real[:, 1], s=2, color="0.75")
        ax.scatter(points[:, 0], points[:, 1], s=2, color="C0", alpha=0.5)
        ax.scatter(modes[:, 0], modes[:, 1], s=30, marker="x", color="C3")
        ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xticks=[], yticks=[])
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)


def timing(data, args):
    """ms of CPU per step for each K, exact and first-order gradient (best of 3)."""
    print(f"CPU ms per step, batch {args.batch_size}, best of 3 × {args.timing_steps} steps")
    print(f"{'K':>3} {'exact':>8} {'first-order':>12}")
    for unroll in args.unroll:
        row = []
        for first_order in (False, True):
            minigan.manual_seed(0)
            model = Unrolled((2,), unroll=unroll, first_order=first_order)
            batches = DataLoader(data, args.batch_size, seed=0).batches()
            for _ in range(3):
                model.step(next(batches))
            best = np.inf
            for _ in range(3):
                cpu0 = time.process_time()
                for _ in range(args.timing_steps):
                    model.step(next(batches))
                best = min(best, (time.process_time() - cpu0) / args.timing_steps)
            row.append(1000 * best)
        print(f"{unroll:>3} {row[0]:>8.1f} {row[1]:>12.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unroll", type=int, nargs="+", default=[0, 5, 10])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--probe-every", type=int, default=1000)
    parser.add_argument("--first-order", action="store_true",
                        help="train with the first-order surrogate gradient")
    parser.add_argument("--out", default="unrolled_modes.png")
    parser.add_argument("--timing", action="store_true", help="only time a step against K")
    parser.add_argument("--timing-steps", type=int, default=10)
    args = parser.parse_args()
    data = load_dataset("ring8")
    if args.timing:
        return timing(data, args)
    print(f"ring8 (radius 2, std {data.std}, 8 modes), batch {args.batch_size}, {args.steps} "
          f"steps, {'first' if args.first_order else 'second'}-order G gradient; "
          f"{args.samples} samples; probes every {args.probe_every} steps")
    header = (f"{'K':>3} {'seed':>4} {'covered':>7} {'quality':>7}  {'covered per probe':<22} "
              f"{'cos(exact, 1st) per probe':<34} {'ms/step':>7} {'CPU s':>6} {'wall s':>6}")
    print(header + "\n" + "-" * len(header), flush=True)
    panels = []
    for unroll in args.unroll:
        for seed in args.seeds:
            started = time.perf_counter()
            row, points = run(unroll, seed, data, args)
            print(f"{row['K']:>3} {row['seed']:>4} {row['covered']:>5}/8 {row['quality']:>7.3f}  "
                  f"{' '.join(map(str, row['history'])):<22} "
                  f"{' '.join(f'{c:.2f}' for c in row['cosine']):<34} {row['ms']:>7.1f} "
                  f"{row['cpu']:>6.0f} {time.perf_counter() - started:>6.0f}", flush=True)
            panels.append((points, f"K={unroll}, seed {seed}: {row['covered']}/8"))
    save_panels(panels, args.out, data.x[:2000], data.modes, ncols=len(args.seeds))
    print(f"samples: {args.out}")


if __name__ == "__main__":
    main()
