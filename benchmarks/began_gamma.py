"""BEGAN on the embedded digits for several diversity ratios γ (issue 19; notes 003).

For each γ one run of ``--steps`` steps on mnist5k (same seed, data and recipe), logging
every step's k_t, M_global = L(x) + |γ L(x) − L(G(z))| and the ratio L(G(z))/L(x); then
1,000 samples scored by the shipped classifier (``metrics.score_samples``: class coverage,
samples per class, confidence, FID). Prints one row per γ and draws ``--out``: k_t,
M_global and the ratio against the step (moving averages over ``--smooth`` steps), one
line per γ, with the ratio's target γ dashed.

    python benchmarks/began_gamma.py [--gammas 0.3 0.5 0.7] [--steps 3000] [BEGAN options]
"""
import argparse
import time

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan.data import DataLoader, load_dataset
from minigan.models.began import BEGAN


def smooth(values, window):
    values = np.asarray(values, dtype=np.float64)
    window = max(1, min(window, len(values)))
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid"), np.arange(window, len(values) + 1)


def run(gamma, data, args):
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
    return history, scores, cpu, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gammas", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--lambda-k", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--code", type=int, default=32)
    parser.add_argument("--latent-dim", type=int, default=64)
    parser.add_argument("--g-norm", default="none", choices=("none", "batch"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="mnist5k")
    parser.add_argument("--smooth", type=int, default=100)
    parser.add_argument("--out", default="began_gamma.png")
    parser.add_argument("--samples-out", default=None,
                        help="also save 64 samples of each run as PATH_gamma.png")
    args = parser.parse_args()
    data = load_dataset(args.data)
    print(f"BEGAN on {args.data}, batch {args.batch_size}, {args.steps} steps, lr {args.lr}, "
          f"λ_k {args.lambda_k}, width {args.width}, code {args.code}, z {args.latent_dim}, "
          f"G's norm {args.g_norm}, "
          f"seed {args.seed}; last {args.smooth} steps averaged")
    header = (f"{'γ':>4} {'k_t':>6} {'M_global':>8} {'M first':>8} {'L(G)/L(x)':>9} "
              f"{'coverage':>8} {'samples per class':<42} {'conf':>5} {'FID':>6} {'CPU s':>6}")
    print(header + "\n" + "-" * len(header), flush=True)
    runs = []
    for gamma in args.gammas:
        history, scores, cpu, model = run(gamma, data, args)
        tail = history[-args.smooth:]
        mean = {key: float(np.mean([h[key] for h in tail])) for key in ("k", "M_global",
                                                                          "ratio")}
        first = float(np.mean([h["M_global"] for h in history[:args.smooth]]))
        print(f"{gamma:>4} {mean['k']:>6.3f} {mean['M_global']:>8.4f} {first:>8.4f} "
              f"{mean['ratio']:>9.3f} {scores['class_coverage']:>6}/10 "
              f"{scores['samples_per_class']:<42} {scores['confidence']:>5.2f} "
              f"{scores['fid']:>6.1f} {cpu:>6.0f}", flush=True)
        if args.samples_out:
            model.preview(f"{args.samples_out}_{gamma}.png", {"noise": model.noise(64)},
                          title=f"BEGAN γ = {gamma}, step {args.steps}")
        runs.append((gamma, history))
    fig = Figure(figsize=(12, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    for i, (key, label) in enumerate((("k", "$k_t$"), ("M_global", "$M_{global}$"),
                                      ("ratio", "$L(G(z)) / L(x)$"))):
        ax = fig.add_subplot(1, 3, i + 1)
        for j, (gamma, history) in enumerate(runs):
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
