"""Speed of conv2d / conv_transpose2d against the machine's own float32 GEMM peak.

    python benchmarks/conv.py [--batch 128] [--repeats 15] [--device cpu|cuda]
                              [--clock wall|thread] [--stat median|min]

Prints the float32 GEMM rate (1024³ and the biggest GEMM of the DCGAN below), then, for
every layer of the notes' MNIST DCGAN (notes 000) at batch 128, the median time of the
forward pass, the input-gradient pass and the weight-gradient pass as autograd runs them,
each pass's GFLOP/s, its share of the GEMM peak, and its share of the time its own GEMM
alone takes (what the im2col/col2im/transposes around the one GEMM cost). A pass costs
2·N·OC·OH·OW·C·KH·KW flops, (OH, OW) the convolution's output — for a transposed
convolution its *input* size (it is the gradient of that convolution). The forward pass
includes the bias.

As in ConvTranspose2d.backward, a transposed convolution's weight-gradient pass reuses the
im2col(gy) of its input-gradient pass; a Conv2d's reuses the im2col(x) its forward kept.

Inputs and output gradients are laid out as they are inside the network: batch-last in
memory (a convolution's output, after batch norm and an activation, keeps that layout; see
minigan/functional/conv.py), except D1's input, which is a batch of images (batch-first).

Timings on a shared machine move with its load, so all passes are measured round-robin
(each round times every pass once) and the load average is printed with the table. With
``--clock thread`` the script runs BLAS on one thread and measures the CPU time of that
thread (``time.thread_time``), which time spent waiting for a core does not inflate: the
single-core numbers of a busy machine. ``--stat min`` reports the fastest round instead of
the median (timeit's choice: on a busy machine it is the least disturbed one).

As in training (`minigan.train.train`), freed arrays are kept for reuse
(`minigan.memory.keep_freed_memory`); `--default-malloc` leaves glibc's defaults.
"""
import argparse
import os
import statistics
import sys
import time

import minigan
from minigan import backend, memory
from minigan.functional.conv import (Conv2d, Conv2dGradWeight, ConvGeometry, ConvTranspose2d,
                                     conv2d, conv_transpose2d)

# (name, transposed, C_in, C_out, kernel, stride, input size)
GENERATOR = [("G1 convT", True, 64, 256, 3, 2, 1), ("G2 convT", True, 256, 128, 4, 1, 3),
             ("G3 convT", True, 128, 64, 3, 2, 6), ("G4 convT", True, 64, 1, 4, 2, 13)]
DISCRIMINATOR = [("D1 conv", False, 1, 16, 4, 2, 28), ("D2 conv", False, 16, 32, 4, 2, 13),
                 ("D3 conv", False, 32, 1, 4, 2, 5)]


def timed(fn, sync, clock):
    start = clock()
    fn()
    sync()
    return clock() - start


def gemm(m, k, n, device):
    """A closure multiplying two random float32 matrices (m×k)(k×n), and its flops."""
    a = minigan.randn(m, k, device=device).data
    b = minigan.randn(k, n, device=device).data
    xp = backend.get_array_module(a)
    return (lambda: xp.matmul(a, b)), 2 * m * k * n


def batch_last(shape, device):
    """Random numbers of shape (N, C, H, W) stored (C, H, W, N), a convolution's layout."""
    n, *rest = shape
    return minigan.randn(*rest, n, device=device).permute(3, 0, 1, 2)


def layer_passes(transposed, c_in, c_out, kernel, stride, size, batch, device):
    """(forward, input gradient, weight gradient) closures, the flops of one pass, and the
    closure of the bare GEMM every pass performs (its shape is the same for all three)."""
    images = not transposed and c_in == 1                  # D1 reads the data set's images
    x = (minigan.randn(batch, c_in, size, size, device=device) if images
         else batch_last((batch, c_in, size, size), device))
    geometry = ConvGeometry((stride, stride), ((0, 0), (0, 0)), (1, 1), 1)
    if transposed:
        w = minigan.randn(c_in, c_out, kernel, kernel, device=device, requires_grad=True)
        b = minigan.randn(c_out, device=device, requires_grad=True)
        gy = batch_last(conv_transpose2d(x, w, b, stride).shape, device)
        grad_input = Conv2d(geometry, keep_cols=True)
        passes = (lambda: conv_transpose2d(x, w, b, stride),
                  lambda: grad_input(gy, w),
                  lambda: Conv2dGradWeight(geometry, (kernel, kernel), grad_input.cols)(gy, x))
        bare, flops = gemm(c_in, c_out * kernel * kernel, batch * size * size, device)
        return passes, flops, bare
    w = minigan.randn(c_out, c_in, kernel, kernel, device=device, requires_grad=True)
    b = minigan.randn(c_out, device=device, requires_grad=True)
    forward = Conv2d(geometry, keep_cols=True)
    y = forward(x, w, b)
    gy = batch_last(y.shape, device)
    adjoint = geometry.adjoint_for(x.shape[2:], (kernel, kernel))
    passes = (lambda: conv2d(x, w, b, stride),
              lambda: ConvTranspose2d(adjoint)(gy, w),
              lambda: Conv2dGradWeight(geometry, (kernel, kernel), forward.cols)(x, gy))
    bare, flops = gemm(c_out, c_in * kernel * kernel, batch * y.shape[2] * y.shape[3], device)
    return passes, flops, bare


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--clock", choices=("wall", "thread"), default="wall")
    parser.add_argument("--stat", choices=("median", "min"), default="median")
    parser.add_argument("--default-malloc", action="store_true",
                        help="skip keep_freed_memory(): glibc returns freed memory to the OS")
    args = parser.parse_args()
    if not args.default_malloc:
        memory.keep_freed_memory()
    device = backend.check_device(args.device)
    if args.clock == "thread":
        if device != "cpu":
            parser.error("--clock thread measures CPU time: it needs --device cpu")
        if os.environ.get("OPENBLAS_NUM_THREADS") != "1":  # BLAS must run in this thread
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                       MKL_NUM_THREADS="1")
            os.execve(sys.executable, [sys.executable] + sys.argv, env)
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    sync = ((lambda: backend.cupy.cuda.Device().synchronize()) if device == "cuda"
            else (lambda: None))

    peaks = {"1024x1024x1024": gemm(1024, 1024, 1024, device),
             "2048x256x1152 (G2's)": gemm(2048, 256, 1152, device)}
    with minigan.no_grad():
        layers = [(name, *layer_passes(*spec, args.batch, device))
                  for name, *spec in GENERATOR + DISCRIMINATOR]
    jobs = [fn for fn, _ in peaks.values()]
    for _, passes, _, bare in layers:
        jobs += [*passes, bare]
    times = {id(fn): [] for fn in jobs}
    with minigan.no_grad():
        for fn in jobs:      # warm-up: BLAS threads, the allocator, scratch memory, kernels
            fn()
        sync()
        for _ in range(args.repeats):
            for fn in jobs:
                times[id(fn)].append(timed(fn, sync, clock))
    pick = statistics.median if args.stat == "median" else min
    chosen = {key: pick(values) for key, values in times.items()}

    rates = {name: flops / chosen[id(fn)] / 1e9 for name, (fn, flops) in peaks.items()}
    peak = max(rates.values())
    load = " ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"float32 GEMM on {device}: " + ", ".join(f"{k} {v:.1f} GFLOP/s"
                                                    for k, v in rates.items())
          + f"; peak = {peak:.1f} GFLOP/s")
    what = "thread CPU time, 1 BLAS thread" if args.clock == "thread" else "wall-clock time"
    print(f"batch {args.batch}, {args.stat} of {args.repeats} round-robin runs of {what}, "
          f"load average {load}")
    print("each pass: time (ms), GFLOP/s, % of GEMM peak, % of its own bare GEMM's speed\n")
    header = (f"{'layer':<9} {'MFLOP':>7} | {'forward':^25} | {'input grad':^25} | "
              f"{'weight grad':^25} | {'GEMM alone':>10}")
    print(header)
    print("-" * len(header))
    total_time = total_flops = total_bare = 0.0
    for name, passes, flops, bare in layers:
        cells = []
        for fn in passes:
            seconds = chosen[id(fn)]
            rate = flops / seconds / 1e9
            total_time, total_flops = total_time + seconds, total_flops + flops
            total_bare += chosen[id(bare)]
            cells.append(f"{seconds * 1e3:6.2f} {rate:6.1f} {100 * rate / peak:4.0f}% "
                         f"{100 * chosen[id(bare)] / seconds:4.0f}%")
        print(f"{name:<9} {flops / 1e6:7.1f} | " + " | ".join(cells)
              + f" | {chosen[id(bare)] * 1e3:7.2f} ms")
    print("-" * len(header))
    rate = total_flops / total_time / 1e9
    print(f"{'total':<9} {total_flops / 3e6:7.1f} | all 21 passes {total_time * 1e3:.1f} ms, "
          f"{rate:.1f} GFLOP/s = {100 * rate / peak:.0f}% of peak, "
          f"{100 * total_bare / total_time:.0f}% of their bare GEMMs' speed")


if __name__ == "__main__":
    main()
