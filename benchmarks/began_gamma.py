"""BEGAN on the embedded digits for several diversity ratios γ (issue 19; notes 003).

For each γ one run of ``--steps`` steps on mnist5k (same seed, data and recipe), logging
every step's k_t, M_global = L(x) + |γ L(x) − L(G(z))| and the ratio L(G(z))/L(x); then
1,000 samples scored by the shipped classifier (``metrics.score_samples``: class coverage,
samples per class, confidence, FID), and D's L1 reconstruction loss L(x) on the 500
held-out digits, per class: at the balance point the samples' loss is γ times the real
mean, and the classes whose digits D reconstructs best (the thin 1s) lie closest to it.

Prints one row per γ (k_t, M_global, the ratio: means over the last ``--smooth`` steps;
"M first": over the first ones; k_t's drift over the last quarter and whether it has
settled, see ``settling``) and draws ``--out``: k_t, M_global and the ratio against the
step (moving averages), one line per γ, with each ratio's target γ dashed; and the samples
of each run (``--samples-out``). The γ runs go to ``--workers`` processes at once; each
row's CPU and wall times are that run's own training's (process time and elapsed time).

    python benchmarks/began_gamma.py [--gammas 0.3 0.5 0.7] [--steps 12000] [BEGAN options]
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


# k_t has settled when, over the last quarter of the steps, its least-squares trend line
# rises or falls by less than 10 % of its mean there and by less than 0.01 in absolute
# terms: the relative bar alone would let a k_t near 1 wander by 0.1, the absolute bar
# alone would call any k_t near 0 settled.
SETTLE_WINDOW, SETTLE_RELATIVE, SETTLE_ABSOLUTE = 0.25, 0.1, 0.01


def settling(ks):
    """(level, drift, settled) of the per-step k_t: over the last SETTLE_WINDOW of the
    steps, k_t's mean (level) and its trend line's change across the window (drift = slope
    × window length; k_t is an integral of the balance, so its raw values are smooth
    enough for a line); settled: 0 < level < 1 and |drift| below both bars.

    >>> level, drift, settled = settling([0.0] * 4 + [0.2] * 4)   # flat at the end
    >>> level, abs(drift) < 1e-12, settled
    (0.2, True, True)
    >>> level, drift, settled = settling(np.linspace(0.1, 0.5, 8))
    >>> round(level, 4), round(drift, 4), settled     # still rising 1/7·0.4 per step
    (0.4714, 0.1143, False)
    """
    tail = np.asarray(ks, dtype=np.float64)[-max(2, round(SETTLE_WINDOW * len(ks))):]
    slope = np.polyfit(np.arange(len(tail)), tail, 1)[0]
    level, drift = float(tail.mean()), float(slope * len(tail))
    settled = 0 < level < 1 and abs(drift) < min(SETTLE_RELATIVE * level, SETTLE_ABSOLUTE)
    return level, drift, settled


def run(gamma, args):
    """One training run: (γ, history, scores, L(x) per class, CPU and wall seconds of the
    training)."""
    data, test = load_dataset(args.data), load_dataset(args.data, split="test")
    minigan.manual_seed(args.seed)
    model = BEGAN((1, 28, 28), gamma=gamma, lambda_k=args.lambda_k, lr=args.lr,
                  lr_halving=args.lr_halving, width=args.width, code=args.code,
                  latent_dim=args.latent_dim, g_norm=args.g_norm)
    loader = DataLoader(data, args.batch_size, shuffle=True, seed=args.seed)
    history, cpu0, wall0 = [], time.process_time(), time.perf_counter()
    for batch in loader.batches(args.steps):
        history.append(model.step(batch))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    minigan.manual_seed(args.seed + 1)
    scores = model.evaluate(args.data, 1000)
    with no_grad():
        losses = model.energy(Tensor(test.images))[0].numpy()
    per_class = [float(losses[test.labels == c].mean()) for c in range(10)]
    if args.samples_out:
        model.preview(f"{args.samples_out}_{gamma}.png", {"noise": model.noise(64)},
                      title=f"BEGAN γ = {gamma}, step {args.steps}")
    return gamma, history, scores, per_class, cpu, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gammas", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--lr-halving", type=int, default=2000)
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
    print(f"BEGAN on {args.data}, batch {args.batch_size}, {args.steps} steps, lr {args.lr} "
          f"halved every {args.lr_halving or '∞'} steps, λ_k {args.lambda_k}, width "
          f"{args.width}, code {args.code}, z {args.latent_dim}, G's norm {args.g_norm}, "
          f"seed {args.seed}; k_t, M, ratio: last {args.smooth} steps; M first: first "
          f"{args.smooth}", flush=True)
    with multiprocessing.Pool(min(args.workers, len(args.gammas))) as pool:
        runs = pool.starmap(run, [(gamma, args) for gamma in args.gammas])
    header = (f"{'γ':>4} {'k_t':>6} {'k drift':>8} {'settled':>7} {'M_global':>8} "
              f"{'M first':>8} {'L(G)/L(x)':>9} {'coverage':>8} {'samples per class':<40} "
              f"{'conf':>5} {'FID':>6} {'CPU s':>6} {'wall s':>6}")
    print(header + "\n" + "-" * len(header))
    for gamma, history, scores, per_class, cpu, wall in runs:
        tail = history[-args.smooth:]
        mean = {key: float(np.mean([h[key] for h in tail])) for key in ("k", "M_global",
                                                                          "ratio")}
        first = float(np.mean([h["M_global"] for h in history[:args.smooth]]))
        _, drift, settled = settling([h["k"] for h in history])
        print(f"{gamma:>4} {mean['k']:>6.3f} {drift:>+8.4f} {'yes' if settled else 'no':>7} "
              f"{mean['M_global']:>8.4f} {first:>8.4f} {mean['ratio']:>9.3f} "
              f"{scores['class_coverage']:>6}/10 {scores['samples_per_class']:<40} "
              f"{scores['confidence']:>5.2f} {scores['fid']:>6.1f} {cpu:>6.0f} {wall:>6.0f}")
    print(f"k drift: the change of k_t's trend line over the last {SETTLE_WINDOW:.0%} of the "
          f"steps; settled: |drift| < {SETTLE_RELATIVE:.0%} of k_t's mean there and < "
          f"{SETTLE_ABSOLUTE}")
    print("\nD's L(x) on the held-out digits, per class (0 … 9), and γ × their mean:")
    for gamma, _, _, per_class, _, _ in runs:
        print(f"γ = {gamma}: {' '.join(f'{v:.3f}' for v in per_class)}   "
              f"γ·mean = {gamma * np.mean(per_class):.3f}")
    fig = Figure(figsize=(12, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    for i, (key, label) in enumerate((("k", "$k_t$"), ("M_global", "$M_{global}$"),
                                      ("ratio", "$L(G(z)) / L(x)$"))):
        ax = fig.add_subplot(1, 3, i + 1)
        for j, (gamma, history, _, _, _, _) in enumerate(runs):
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
