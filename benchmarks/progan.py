"""Progressive GAN against a fixed 28×28 model at equal images seen, and the ablation
without the real-image fade (issue 20; notes 001 "Progressive GAN", 003 "ProgressiveGAN").

    python benchmarks/progan.py --variant progressive     # 7 → 14 → 28 with fade-ins
    python benchmarks/progan.py --variant fixed           # the same networks at 28×28 throughout
    python benchmarks/progan.py --variant no-real-fade    # G fades in, real images do not

Every variant sees the same number of real images (``--images``, default 100,000 = level 0
stabilising, then two levels fading in and stabilising, ``--phase-images`` each: the
model's defaults), with the same seed, batch size and widths. It prints:

- probes: the sliced Wasserstein distance (×10³, ``minigan.metrics_swd``: 7×7 patches of
  a Laplacian pyramid built with 2×2 average pooling, not Karras et al.'s Gaussian one) of
  500 samples of G's moving average against 500 real training digits pooled to the
  model's current resolution, per band (28, 14, 7: the band of that resolution), at the
  end of level 0, through each fade-in (α = 0, ¼, ½, ¾, and at its end) and at the end
  of each stable phase: the same image counts for every variant;
- the transition shock: the critic's Wasserstein estimate W = E D(x) − E D(G(z)) over the
  25 steps before each fade-in, against its mean and maximum over the fade's first
  quarter and over the whole fade (at α ≈ 0 the grown networks compute the old ones'
  function and the faded and unfaded real images look alike to the critic, so a shock
  can only grow with α);
- the floor: the same SWD between two disjoint sets of 500 real digits;
- at the end: classifier FID of 1,000 samples against the 500 held-out test digits, and
  the classes covered (≥ 5 % of the samples), from ``ProGAN.evaluate``.

Each run is one process; ``--json PATH`` also writes its numbers there.
"""
import argparse
import json
import time

import numpy as np

import minigan
from minigan.data import DataLoader, load_dataset
from minigan.metrics_swd import swd_per_level
from minigan.models.progan import ProGAN

VARIANTS = {"progressive": {}, "fixed": {"grow": False}, "no-real-fade": {"real_fade": False}}
SHOCK_STEPS = 25
SWD_IMAGES = 500
BANDS = (28, 14, 7)


def probes(phase_images, levels=3):
    """Image counts to probe at: the end of level 0, five points through each fade-in,
    the end of each stable phase."""
    s = f = phase_images
    points = [s]
    for level in range(1, levels):
        start = s + (level - 1) * (f + s)
        points += [start + k * f // 4 for k in range(1, 5)] + [start + f + s]
    return points


def swd_row(model, real):
    """SW₁ ×10³ per band of the model's current resolution (None for bands it lacks)."""
    r = model.resolution
    factor = 28 // r
    fakes = model.sample(SWD_IMAGES).numpy()[:, :, ::factor, ::factor]   # its own r×r
    reals = real.reshape(len(real), 1, r, factor, r, factor).mean(axis=(3, 5))
    levels = BANDS.index(r)
    distances = swd_per_level(fakes, reals, levels=len(BANDS) - levels, seed=1)
    return [None] * levels + [1e3 * d for d in distances]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, default="progressive")
    parser.add_argument("--images", type=int, default=100000)
    parser.add_argument("--phase-images", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    data = load_dataset("mnist5k")
    picked = np.random.default_rng(0).permutation(len(data))
    real, other = data.x[picked[:SWD_IMAGES]], data.x[picked[SWD_IMAGES:2 * SWD_IMAGES]]
    minigan.manual_seed(args.seed)
    model = ProGAN((1, 28, 28), width=args.width, stable_images=args.phase_images,
                   fade_images=args.phase_images, **VARIANTS[args.variant])
    batches = DataLoader(data, args.batch_size, seed=args.seed).batches()
    points = [p for p in probes(args.phase_images) if p <= args.images]
    fades = [args.phase_images + (level - 1) * 2 * args.phase_images for level in (1, 2)]
    print(f"progan {args.variant}: {args.images} images, batch {args.batch_size}, width "
          f"{args.width} ({model._channels()} channels), phases of {args.phase_images} "
          f"images, seed {args.seed}")
    header = (f"{'images':>7} {'level':>5} {'alpha':>5} " + " ".join(
        f"{'SWD ' + str(b):>8}" for b in BANDS) + f" {'W (25 steps)':>12} {'cpu s':>7}")
    print(header)
    print("-" * len(header))
    floor = swd_per_level(other, real, levels=3, seed=1)
    print(f"{'real':>7} {'':>5} {'':>5} " + " ".join(f"{1e3 * d:>8.1f}" for d in floor)
          + "   (500 other real digits: the floor)")
    started, cpu0 = time.perf_counter(), time.process_time()
    rows, w_log = [], []
    while model.images_seen < args.images:
        images_before = model.images_seen
        logs = model.step(next(batches))
        w_log.append((images_before, logs["W"]))
        if points and model.images_seen >= points[0]:   # the first step at or past it
            points.pop(0)
            recent = np.mean([w for _, w in w_log[-SHOCK_STEPS:]])
            row = {"images": model.images_seen, "level": int(logs["level"]),
                   "alpha_next": model.alpha, "swd": swd_row(model, real), "W": recent}
            rows.append(row)
            print(f"{row['images']:>7} {row['level']:>5} {model.alpha:>5.2f} " + " ".join(
                f"{d:>8.1f}" if d is not None else f"{'–':>8}" for d in row["swd"])
                + f" {recent:>12.3f} {time.process_time() - cpu0:>7.0f}", flush=True)
    shocks = []
    for start in fades:                                  # steps by the images they start at
        before = [w for i, w in w_log if start - SHOCK_STEPS * args.batch_size <= i < start]
        quarter = [w for i, w in w_log if start <= i < start + args.phase_images // 4]
        fade = [w for i, w in w_log if start <= i < start + args.phase_images]
        shocks.append({"fade_start": start, "W_before": float(np.mean(before)),
                       "W_quarter": float(np.mean(quarter)),
                       "W_quarter_max": float(np.max(quarter)),
                       "W_fade": float(np.mean(fade)), "W_fade_max": float(np.max(fade))})
    scores = model.evaluate("mnist5k", 1000)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - started
    print()
    print(f"{'fade starts at':>14} {'W before':>9} {'W 1st quarter':>13} {'max':>7} "
          f"{'W whole fade':>12} {'max':>7}")
    for s in shocks:
        print(f"{s['fade_start']:>14} {s['W_before']:>9.3f} {s['W_quarter']:>13.3f} "
              f"{s['W_quarter_max']:>7.3f} {s['W_fade']:>12.3f} {s['W_fade_max']:>7.3f}")
    print()
    print(f"final: classifier FID {scores['fid']:.1f} (real training digits: "
          f"{scores['fid_real']:.1f}), classes covered {scores['class_coverage']}/10, samples "
          f"per class {scores['samples_per_class']}; CPU {cpu:.0f} s, wall {wall:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "floor": floor, "probes": rows, "shocks": shocks,
                       "scores": {k: v for k, v in scores.items()}, "cpu_s": cpu,
                       "wall_s": wall}, f, indent=1)


if __name__ == "__main__":
    main()
