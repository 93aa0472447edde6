"""BEGAN on the embedded digits for several diversity ratios γ (issue 19; notes 003).

For each γ one run of ``--steps`` steps on mnist5k (same seed, data and recipe), logging
every step's k_t, M_global = L(x) + |γ L(x) − L(G(z))| and the ratio L(G(z))/L(x); then
1,000 samples scored by the shipped classifier (``metrics.score_samples``: class coverage,
samples per class, confidence, FID), and D's L1 reconstruction loss L(x) on the 500
held-out digits, per class: at the balance point the samples' loss is γ times the real
mean, and the classes whose digits D reconstructs best (the thin 1s) lie closest to it.

Prints one row per γ (k_t, M_global, the ratio: means over the last ``--smooth`` steps;
"M first": over the first ones) and draws ``--out``: k_t, M_global and the ratio against
the step (moving averages), one line per γ, with each ratio's target γ dashed; and the
samples of each run (``--samples-out``). The γ runs go to ``--workers`` processes at once;
each row's CPU time is that run's own (process time of its training).

    python benchmarks/began_gamma.py [--gammas 0.3 0.5 0.7] [--steps 5000] [BEGAN options]
"""
import argparse
import multiprocessing
import time

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan.autograd import Tensor, no_grad
from minigan.data import DataLoader, load_dataset
from minigan.models.began import BEGAN


def smooth(values, window):
    values = np.asarray(values, dtype=np.float64)
    window = max(1, min(window, len(values)))
    return np.convolve(values, np.ones(window) / window, mode="valid"), \
        np.arange(window, len(values) + 1)


def run(gamma, args):
    """One training run: (γ, history, scores, L(x) per class, CPU seconds)."""
    data, test = load_dataset(args.data), load_dataset(args.data, split="test")
    minigan.manual_seed(args.seed)
    model = BEGAN((1, 28, 28), gamma=gamma, lambda_k=args.lambda_k, lr=args.lr,
                  width=args.width, code=args.code, latent_dim=args.latent_dim,
                  g_norm=args.g_norm)
    loader = DataLoader(data, args.batch_size, shuffle=True, seed=args.seed)
    history, cpu0 = [], time.process_time()
    for batch in loader.batches(args.steps):
        history.append(model.step(batch))
    cpu = time.process_time() - cpu0
    minigan.manual_seed(args.seed + 1)
    scores = model.evaluate(args.data, 1000)
    with no_grad():
        losses = model.energy(Tensor(test.images))[0].numpy()
    per_class = [float(losses[test.labels == c].mean()) for c in range(10)]
    if args.samples_out:
        model.preview(f"{args.samples_out}_{gamma}.png", {"noise": model.noise(64)},
                      title=f"BEGAN γ = {gamma}, step {args.steps}")
    return gamma, history, scores, per_class, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gammas", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--lambda-k", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--code", type=int, default=32)
    parser.add_argument("--latent-dim", type=int, default=64)
    parser.add_argument("--g-norm", default="none", choices=("none", "batch"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="mnist5k")
    parser.add_argument("--smooth", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--out", default="began_gamma.png")
    parser.add_argument("--samples-out", default=None,
                        help="also save 64 samples of each run as PATH_<γ>.png")
    args = parser.parse_args()
    print(f"BEGAN on {args.data}, batch {args.batch_size}, {args.steps} steps, lr {args.lr}, "
          f"λ_k {args.lambda_k}, width {args.width}, code {args.code}, z {args.latent_dim}, "
          f"G's norm {args.g_norm}, seed {args.seed}; k_t, M, ratio: last {args.smooth} "
          f"steps; M first: first {args.smooth}", flush=True)
    with multiprocessing.Pool(min(args.workers, len(args.gammas))) as pool:
        runs = pool.starmap(run, [(gamma, args) for gamma in args.gammas])
    header = (f"{'γ':>4} {'k_t':>6} {'M_global':>8} {'M first':>8} {'L(G)/L(x)':>9} "
              f"{'coverage':>8} {'samples per class':<40} {'conf':>5} {'FID':>6} {'CPU s':>6}")
    print(header + "\n" + "-" * len(header))
    for gamma, history, scores, per_class, cpu in runs:
        tail = history[-args.smooth:]
        mean = {key: float(np.mean([h[key] for h in tail])) for key in ("k", "M_global",
                                                                          "ratio")}
        first = float(np.mean([h["M_global"] for h in history[:args.smooth]]))
        print(f"{gamma:>4} {mean['k']:>6.3f} {mean['M_global']:>8.4f} {first:>8.4f} "
              f"{mean['ratio']:>9.3f} {scores['class_coverage']:>6}/10 "
              f"{scores['samples_per_class']:<40} {scores['confidence']:>5.2f} "
              f"{scores['fid']:>6.1f} {cpu:>6.0f}")
    print("\nD's L(x) on the held-out digits, per class (0 … 9), and γ × their mean:")
    for gamma, _, _, per_class, _ in runs:
        print(f"γ = {gamma}: {' '.join(f'{v:.3f}' for v in per_class)}   "
              f"γ·mean = {gamma * np.mean(per_class):.3f}")
    fig = Figure(figsize=(12, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    for i, (key, label) in enumerate((("k", "$k_t$"), ("M_global", "$M_{global}$"),
                                      ("ratio", "$L(G(z)) / L(x)$"))):
        ax = fig.add_subplot(1, 3, i + 1)
        for j, (gamma, history, _, _, _) in enumerate(runs):
            values, steps = smooth([h[key] for h in history], args.smooth)
            ax.plot(steps, values, color=f"C{j}", label=f"γ = {gamma}")
            if key == "ratio":
                ax.axhline(gamma, color=f"C{j}", linestyle="--", linewidth=0.8)
        ax.set_xlabel("step")
        ax.set_title(label)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"curves: {args.out}")


if __name__ == "__main__":
    main()
