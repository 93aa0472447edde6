"""EBGAN on the embedded digits with and without the pull-away term (issue 19; notes 003).

Two runs of ``--steps`` steps on mnist5k, same seed, data and recipe, λ_PT = ``--pt`` and
λ_PT = 0. For each, 1,000 samples are scored by the shipped classifier: class coverage,
samples per class, the entropy of the predicted-class histogram H = −Σ_c p_c log p_c
(log 10 = 2.303 for ten equally frequent classes, 0 for one class), confidence, FID; and
the pull-away term f_PT of the samples' codes (the mean squared cosine, lower = more
diverse codes). The two runs go to ``--workers`` processes at once; each row's CPU time
is that run's own (process time of its training). Draws ``--out``: the histograms of D's
energies E(x) on the 500 held-out real digits and E(G(z)) on 500 samples, with the margin
m, one panel per run.

    python benchmarks/ebgan_pt.py [--steps 4000] [--pt 0.1] [--margin ...] [EBGAN options]
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
from minigan.metrics import class_histogram, classify, load_classifier
from minigan.models.ebgan import EBGAN
from minigan.models.losses import pull_away_term


def entropy(shares):
    shares = shares[shares > 0]
    return float(-(shares * np.log(shares)).sum()) + 0.0  # 0.0, not -0.0, for one class


def run(pt_weight, args):
    """One training run and its scores: (λ_PT, row values, real energies, fake energies)."""
    data, test = load_dataset("mnist5k"), load_dataset("mnist5k", split="test")
    minigan.manual_seed(args.seed)
    model = EBGAN((1, 28, 28), margin=args.margin, pt_weight=pt_weight, lr=args.lr,
                  width=args.width, code=args.code, latent_dim=args.latent_dim)
    loader = DataLoader(data, args.batch_size, shuffle=True, seed=args.seed)
    cpu0 = time.process_time()
    for batch in loader.batches(args.steps):
        model.step(batch)
    cpu = time.process_time() - cpu0
    minigan.manual_seed(args.seed + 1)
    scores = model.evaluate("mnist5k", 1000)
    samples = model.sample(1000)
    probs, _ = classify(samples.numpy(), load_classifier())
    scores["entropy"] = entropy(class_histogram(probs.argmax(axis=1)))
    with no_grad():
        fake_energy, codes = model.energy(samples[:500])
        real_energy, _ = model.energy(Tensor(test.images))
        scores["f_pt"] = pull_away_term(codes).item()
    if args.samples_out:
        model.preview(f"{args.samples_out}_pt{pt_weight}.png", {"noise": model.noise(64)},
                      title=f"EBGAN λ_PT = {pt_weight}, step {args.steps}")
    return pt_weight, scores, real_energy.numpy(), fake_energy.numpy(), cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--pt", type=float, default=0.1)
    parser.add_argument("--margin", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--code", type=int, default=32)
    parser.add_argument("--latent-dim", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="ebgan_energies.png")
    parser.add_argument("--samples-out", default=None,
                        help="also save 64 samples of each run as PATH_pt<λ>.png")
    args = parser.parse_args()
    print(f"EBGAN on mnist5k, batch {args.batch_size}, {args.steps} steps, lr {args.lr}, "
          f"margin {args.margin}, width {args.width}, code {args.code}, z {args.latent_dim}, "
          f"seed {args.seed}; 1,000 samples", flush=True)
    with multiprocessing.Pool(min(args.workers, 2)) as pool:
        runs = pool.starmap(run, [(args.pt, args), (0.0, args)])
    header = (f"{'λ_PT':>5} {'coverage':>8} {'entropy':>7} {'samples per class':<40} "
              f"{'conf':>5} {'FID':>6} {'f_PT':>5} {'E(x) test':>9} {'E(G(z))':>7} "
              f"{'CPU s':>6}")
    print(header + "\n" + "-" * len(header))
    panels = []
    for pt_weight, scores, real_energy, fake_energy, cpu in runs:
        print(f"{pt_weight:>5} {scores['class_coverage']:>6}/10 {scores['entropy']:>7.3f} "
              f"{scores['samples_per_class']:<40} {scores['confidence']:>5.2f} "
              f"{scores['fid']:>6.1f} {scores['f_pt']:>5.3f} {real_energy.mean():>9.4f} "
              f"{fake_energy.mean():>7.4f} {cpu:>6.0f}")
        panels.append((pt_weight, real_energy, fake_energy))
    fig = Figure(figsize=(10, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    top = max(args.margin, max(max(r.max(), f.max()) for _, r, f in panels)) * 1.05
    bins = np.linspace(0, top, 60)
    for i, (pt_weight, real_energy, fake_energy) in enumerate(panels):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.hist(real_energy, bins=bins, alpha=0.6, label="E(x), held-out real digits")
        ax.hist(fake_energy, bins=bins, alpha=0.6, label="E(G(z)), samples")
        ax.axvline(args.margin, color="k", linestyle="--", label=f"margin m = {args.margin}")
        ax.set_xlabel("energy (mean squared reconstruction error)")
        ax.set_title(f"λ_PT = {pt_weight}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"energy histograms: {args.out}")


if __name__ == "__main__":
    main()
