"""Every GAN variant on the 8-Gaussian ring (issue 6; notes 002/003 on mode collapse).

Each variant trains with its own recipe (its defaults: losses, optimiser, k) on the same
data (ring8, 10,000 points), batch size, seed and number of `step` calls, then draws
samples scored by `minigan.metrics.toy_metrics`:

- modes covered: modes holding ≥ 1 % of the samples within 3σ of them (quality + coverage);
- high quality: the share of samples within 3σ of their nearest mode;
- modes visited: modes that are the nearest mode of ≥ 5 % of the samples, however far
  (diversity alone, as in lesson 08: a collapsed generator visits 1 or 2).

A step is one discriminator (critic) update; the variants with k = 5 make a generator
update every 5th step, so at equal steps they have made a fifth of the generator updates.

    python benchmarks/toy_variants.py [--steps 20000] [--batch-size 256] [--hidden 128]
"""
import argparse
import time

import numpy as np

import minigan
from minigan.data import DataLoader, load_dataset
from minigan.metrics import toy_metrics
from minigan.models import get_model

NOTES = get_model("dcgan").presets["notes"]   # dcgan's losses on the notes' recipe
RUNS = [("vanilla", {}), ("dcgan", {**NOTES, "loss": "bce"}),
        ("dcgan", {**NOTES, "loss": "lsgan"}), ("dcgan", {**NOTES, "loss": "hinge"}),
        ("wgan", {}), ("wgan-gp", {}), ("cgan", {})]


def train(name, options, data, args):
    """A model trained for args.steps steps; returns (model, seconds)."""
    minigan.manual_seed(args.seed)
    model = get_model(name)((2,), data.num_classes, hidden=args.hidden, **options)
    loader = DataLoader(data, args.batch_size, shuffle=True, seed=args.seed)
    started = time.perf_counter()
    for batch in loader.batches(args.steps):
        model.step(batch)
    return model, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = load_dataset("ring8")
    print(f"ring8 (10,000 points, std {data.std}), batch {args.batch_size}, MLPs of "
          f"{args.hidden} hidden units, {args.steps} steps, seed {args.seed}; "
          f"{args.samples} samples")
    header = (f"{'variant':<8} {'options':<12} {'G updates':>9} {'covered':>8} "
              f"{'quality':>8} {'visited':>8} {'samples per mode (3σ)':<40} {'time':>7}")
    print(header)
    print("-" * len(header))
    for name, options in RUNS:
        model, seconds = train(name, options, data, args)
        minigan.manual_seed(args.seed + 1)
        points = model.sample(args.samples).numpy()
        quality = toy_metrics(points, data.modes, data.std)
        visits = toy_metrics(points, data.modes, data.std, min_share=0.05, radius=np.inf)
        counts = " ".join(str(int(c)) for c in quality["mode_counts"])
        label = options.get("loss", "-")
        print(f"{name:<8} {label:<12} {model.g_updates:>9} "
              f"{quality['modes_covered']:>6}/8 {quality['high_quality']:>8.3f} "
              f"{visits['modes_covered']:>6}/8 {counts:<40} {seconds:>6.0f}s", flush=True)


if __name__ == "__main__":
    main()
