"""Checkerboard artefacts, measured (notes 002: UpSampling2D + Conv vs Conv2DTranspose).

A stride-2 transposed convolution whose kernel size is not divisible by 2 stamps its kernel
with uneven overlap, which leaves a period-2 pattern in the image: power at the Nyquist
frequency. For an H×W image with DFT X[u, v], let P = |X|² without the DC term X[0, 0]; the
**Nyquist share** is the power on the lines u = H/2 or v = W/2 (period-2 rows or columns)
divided by all of P, averaged over images. Real digits give the baseline.

    python benchmarks/checkerboard.py RUN [RUN ...] [--n 1000]

RUN: a training run directory (or checkpoint.npz) of an image model; samples are drawn
with seed 0 exactly as `python -m minigan sample` draws them.
"""
import argparse

import numpy as np

import minigan
from minigan.data import load_dataset
from minigan.checkpoint import build_model, load_checkpoint


def nyquist_share(images):
    """Mean over images (N, C, H, W), H and W even, of the share of non-DC spectral power on
    the Nyquist lines u = H/2 or v = W/2."""
    x = np.asarray(images, dtype=np.float64).mean(axis=1)      # (N, C, H, W) -> (N, H, W)
    power = np.abs(np.fft.fft2(x)) ** 2                         # (N, H, W)
    power[:, 0, 0] = 0.0
    h, w = x.shape[1:]
    on_lines = np.zeros((h, w), dtype=bool)
    on_lines[h // 2, :] = True
    on_lines[:, w // 2] = True
    return float((power[:, on_lines].sum(axis=1) / power.sum(axis=(1, 2))).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    real = load_dataset("mnist5k", split="test").images
    rows = [("real digits (mnist5k test split)", "-", "-", nyquist_share(real))]
    for run in args.runs:
        checkpoint = load_checkpoint(run)
        model = build_model(checkpoint)
        minigan.manual_seed(0)
        samples = model.sample(args.n).numpy()
        config = checkpoint["model"]["config"]
        rows.append((run, config.get("upsample", "-"), int(checkpoint["step"]),
                     nyquist_share(samples)))
    print(f"Nyquist share of spectral power (period-2 pattern), {args.n} samples per run")
    print(f"{'source':<40} {'upsample':<14} {'step':>6} {'Nyquist share':>14}")
    for source, upsample, step, share in rows:
        print(f"{source:<40} {upsample:<14} {step!s:>6} {share:>14.5f}")


if __name__ == "__main__":
    main()
