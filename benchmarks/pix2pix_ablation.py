"""pix2pix's ablation (Isola et al. 2017, Table 1; notes 001 "Pix2Pix Loss 함수"): the L1 term
alone, the cGAN term alone, both — same data, seed, networks and number of steps.

    python benchmarks/pix2pix_ablation.py [--data digits-edges] [--steps 3000]
        [--batch-size 32] [--width 32] [--seed 0] [--out runs/pix2pix_ablation]

Each variant is trained by the command line (``--no-gan``, ``--lambda-l1 0``, neither) in
a child process whose CPU time is measured (``translation_runs.timed_train``), then scored
on the 500 held-out pairs by ``Pix2Pix.evaluate``: the per-pixel L1 of G(x) to the target
([0, 1] pixel units), the shipped MNIST classifier's accuracy on G(x) (next to its accuracy
on the targets themselves, the ceiling), and the classifier-FID of G(x) against the
targets. Each run's picture (input | G(input) | target | D's per-patch verdicts) is in its
run directory as samples.png.
"""
import argparse
import os

from translation_runs import minutes, timed_train  # first: it puts this checkout on sys.path

import minigan  # noqa: E402
from minigan.checkpoint import build_model, load_checkpoint  # noqa: E402

VARIANTS = (("L1 only", ["--no-gan"]), ("cGAN only", ["--lambda-l1", "0"]),
            ("L1 + cGAN", []))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits-edges")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/pix2pix_ablation")
    args = parser.parse_args()
    rows = []
    for label, flags in VARIANTS:
        out = os.path.join(args.out, label.replace(" ", "").replace("+", "_").lower())
        command, cpu, wall = timed_train(
            ["pix2pix", "--data", args.data, "--steps", args.steps, "--batch-size",
             args.batch_size, "--width", args.width, "--d-width", args.width, "--seed",
             args.seed, "--sample-every", args.steps, "--checkpoint-every", args.steps,
             "--out", out, "--overwrite"] + flags)
        print(command, flush=True)
        minigan.manual_seed(args.seed)
        scores = build_model(load_checkpoint(out)).evaluate(args.data, num_samples=500)
        rows.append((label, scores, cpu, wall))
    print(f"\npix2pix on {args.data}, {args.steps} steps of batch {args.batch_size}, "
          f"width {args.width}, seed {args.seed}; scores on the 500 test pairs")
    print("| variant | test L1 | classifier accuracy on G(x) | accuracy on the targets | "
          "classifier-FID to the targets | CPU time | wall time |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, s, cpu, wall in rows:
        print(f"| {label} | {s['l1']:.4f} | {s['accuracy']:.3f} | {s['accuracy_target']:.3f} "
              f"| {s['fid']:.2f} | {minutes(cpu)} | {minutes(wall)} |")
    print(f"(the inputs themselves: classifier accuracy {rows[0][1]['accuracy_input']:.3f})")


if __name__ == "__main__":
    main()
