"""CycleGAN and DiscoGAN on the unpaired digit tasks: does the pair find the true translation,
or another cycle-consistent one?

    python benchmarks/unpaired.py MODEL DATA [--steps 3000] [--batch-size 16] [--seed 0]
        [--out runs/unpaired] [-- MODEL OPTIONS ...]

e.g. ``python benchmarks/unpaired.py cyclegan digits-rot90 --steps 3000 -- --lambda-identity 0``.
The model is trained by the command line in a child process whose CPU time is measured
(``translation_runs.timed_train``), then scored on the 500 held-out digits of each domain
by ``UnpairedModel.report``:

- per-pixel L1 of G(a) to the ground truth T(a) and of F(b) to T⁻¹(b), [0, 1] pixel units;
- the shipped classifier's accuracy on T⁻¹(G(a)) (the translation turned back, e.g. rotated
  back) against the label of a, and on F(b) against the label of b;
- the cycle errors |F(G(a)) − a| and |G(F(b)) − b|, printed beside the 10×10 class matrices
  M[label of a, class of T⁻¹(G(a))]: a pair that swaps classes has a low cycle error and an
  off-diagonal matrix.
"""
import argparse
import os
import sys

from translation_runs import minutes, timed_train  # first: it puts this checkout on sys.path

import minigan  # noqa: E402
from minigan.checkpoint import build_model, load_checkpoint  # noqa: E402
from minigan.models.translation import format_matrix  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="after --: options of the model, passed to "
                                            "`minigan train` (e.g. -- --lambda-identity 0)")
    parser.add_argument("model", choices=["cyclegan", "discogan"])
    parser.add_argument("data", help="digits-inverted, digits-rot90 or digits-quickdraw:PATH")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/unpaired")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.options = argv[split + 1:]   # after --: the model's own options, passed on
    name = f"{args.model}_{args.data.split(':')[0]}" + "".join(args.options).replace("-", "_")
    out = os.path.join(args.out, name)
    command, cpu, wall = timed_train(
        [args.model, "--data", args.data, "--steps", args.steps, "--batch-size",
         args.batch_size, "--seed", args.seed, "--sample-every", args.steps,
         "--checkpoint-every", args.steps, "--out", out, "--overwrite"] + args.options)
    minigan.manual_seed(args.seed)
    report = build_model(load_checkpoint(out)).report(args.data, num_samples=500)
    s = report["scores"]
    print(command)
    print(f"\n{args.model} on {args.data}, {args.steps} steps of batch {args.batch_size}, "
          f"seed {args.seed}: CPU {minutes(cpu)}, wall {minutes(wall)}; "
          f"{s['images']} test images per domain")
    print("| direction | L1 to the ground truth | classifier accuracy | cycle error | "
          "where each class goes |")
    print("| --- | --- | --- | --- | --- |")
    for direction, domain in (("A→B", "A"), ("B→A", "B")):
        l1 = s.get(f"l1_{direction.replace('→', '')}")
        accuracy = s.get(f"accuracy_{direction}")
        print(f"| {direction} | {'–' if l1 is None else f'{l1:.4f}'} | "
              f"{'–' if accuracy is None else f'{accuracy:.3f}'} | {s[f'cycle_l1_{domain}']:.4f} "
              f"| {s.get(f'class_map_{direction}', '–')} |")
    for direction, m in report["matrices"].items():
        print(f"\n{direction}: rows = label of the input, columns = the classifier's class of "
              f"its translation{' turned back' if direction == 'A→B' else ''} "
              f"(cycle error {s['cycle_l1_' + direction[0]]:.4f})")
        print(format_matrix(m))


if __name__ == "__main__":
    main()
