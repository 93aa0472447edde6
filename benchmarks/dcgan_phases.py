"""One DCGAN iteration phase by phase, in CPU time, against its own GEMMs run alone.

The notes' MNIST DCGAN at batch 128 (the networks of `benchmarks/dcgan_step.py`, built by
`minigan.models.networks`), BCE with logits, Adam(2e-4, β = (0.5, 0.999)). One iteration
is split into its phases:

    G forward            fake = G(z)
    D forward, real      BCE(D(x), 1)
    D forward, fake      BCE(D(fake.detach()), 0)
    D backward           loss_d.backward()
    D Adam               opt_d.step()
    D forward, G step    BCE(D(fake), 1)
    D+G backward         loss_g.backward() (through D into G)
    G Adam               opt_g.step()

Each phase is timed in CPU time of the process (`time.process_time`: on a shared machine
the time a process waits for a core does not count) with BLAS on ``--threads`` threads
(default 1, set through threadpoolctl). Before timing, one instrumented iteration records
every matrix product the convolutions run (`xp.matmul` in functional/conv.py: operand
shapes, which operand is a transposed view, in which phase); the "GEMM alone" column then
replays exactly those products on fresh arrays of the same shapes and layouts, outputs
preallocated, nothing else in between. Iterations and GEMM replays alternate, so both see
the same machine; the printed ratio is the median of the per-round ratios.

Single-threaded, CPU time / GEMM time measures the work around the GEMMs (im2col,
col2im, batch norm, activations, Adam, graph bookkeeping) on the same scale as the GEMMs.
On two idle cores BLAS runs the GEMMs s ≤ 2 times faster while NumPy's elementwise work
stays on one core, so the wall-clock ratio of an iteration to its GEMMs there is about
(G/s + R) / (G/s) = 1 + s·R/G, with R the CPU time outside the GEMMs (the "non-GEMM"
column) and G the GEMM time; the printed 2-core figure takes s = 2.

``--unfused-too`` also runs every round's iteration once more with nn.Sequential's fusion of
BatchNorm + ReLU/LeakyReLU switched off (each BatchNorm answers None to ``fused_with``), in
alternating order, and prints both medians and the median paired difference: the effect
of the fusion in one process, where separate runs on a busy machine differ by more.

    python benchmarks/dcgan_phases.py [--iters 40] [--batch 128] [--threads 1]
                                      [--unfused-too]

(In a git worktree other than the one minigan is installed from, put the worktree's
minigan first: PYTHONPATH=. python benchmarks/dcgan_phases.py.)
"""
import argparse
import statistics
import time

import numpy as np
from threadpoolctl import ThreadpoolController

import minigan
import minigan.functional as F
import minigan.memory
from minigan.functional import conv as conv_module
from minigan.models.networks import dcgan_discriminator, dcgan_generator, dcgan_init_
from minigan.nn import Module
from minigan.nn.norm import _BatchNorm

LATENT, IMAGE = 64, (1, 28, 28)
PHASES = ("G forward", "D forward, real", "D forward, fake", "D backward", "D Adam",
          "D forward, G step", "D+G backward", "G Adam")


def build(batch):
    """G, D, their optimisers, a batch of "real" images in [−1, 1] and the BCE targets."""
    G = dcgan_init_(dcgan_generator(LATENT, IMAGE, width=64))
    D = dcgan_init_(dcgan_discriminator(1, IMAGE, width=16))
    opt_g = minigan.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = minigan.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = minigan.rand(batch, *IMAGE) * 2 - 1
    return G, D, opt_g, opt_d, real, minigan.ones(batch, 1), minigan.zeros(batch, 1)


def iteration(G, D, opt_g, opt_d, real, ones, zeros, mark):
    """One D step on real + fake, then one G step; ``mark(i)`` is called as phase i ends."""
    bce = F.binary_cross_entropy_with_logits
    fake = G(minigan.randn(len(real), LATENT, 1, 1))
    mark(0)
    loss_real = bce(D(real), ones)
    mark(1)
    loss_d = loss_real + bce(D(fake.detach()), zeros)
    mark(2)
    opt_d.zero_grad()
    loss_d.backward()
    mark(3)
    opt_d.step()
    mark(4)
    loss_g = bce(D(fake), ones)
    mark(5)
    opt_g.zero_grad()
    loss_g.backward()
    mark(6)
    opt_g.step()
    loss_d.item(), loss_g.item()     # the host syncs of a logged step
    mark(7)


class _RecordingArrays:
    """NumPy, except that ``matmul`` notes its operands' shapes and layouts first."""

    def __init__(self, log):
        self.log = log

    def __getattr__(self, name):
        return getattr(np, name)

    def matmul(self, a, b, out=None):
        self.log.append((a.shape, b.shape, _transposed(a), _transposed(b), a.dtype))
        return np.matmul(a, b, out=out)


def _transposed(a):
    """Whether the last two axes of ``a`` are a transposed view of a C-contiguous block
    (BLAS then reads it with its 'T' flag)."""
    return not a.flags.c_contiguous and a.swapaxes(-1, -2).flags.c_contiguous


def record_gemms(model):
    """The products of one iteration, phase by phase: {phase: [(a shape, b shape, a
    transposed, b transposed, dtype)]}."""
    logs = {i: [] for i in range(len(PHASES))}
    current = [[]]
    original = conv_module.get_array_module
    conv_module.get_array_module = lambda *arrays: _RecordingArrays(current[0])
    try:
        current[0] = logs[0]
        iteration(*model, lambda i: current.__setitem__(0, logs.get(i + 1, [])))
    finally:
        conv_module.get_array_module = original
    return logs


def gemm_replay(products, rng):
    """A closure running the recorded ``products`` on fresh arrays, and their flops."""
    calls, flops = [], 0
    for a_shape, b_shape, ta, tb, dtype in products:
        a = _operand(a_shape, ta, dtype, rng)
        b = _operand(b_shape, tb, dtype, rng)
        out = np.empty(np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
                       + (a_shape[-2], b_shape[-1]), dtype)
        calls.append((a, b, out))
        flops += 2 * out.size * a_shape[-1]
    return (lambda: [np.matmul(a, b, out=out) for a, b, out in calls]), flops


def _operand(shape, transposed, dtype, rng):
    if not transposed:
        return rng.standard_normal(shape).astype(dtype)
    swapped = shape[:-2] + (shape[-1], shape[-2])
    return rng.standard_normal(swapped).astype(dtype).swapaxes(-1, -2)


def peak_gflops(rng, size=1024, repeats=5):
    a = rng.standard_normal((size, size)).astype(np.float32)
    out = np.empty_like(a)
    times = []
    for _ in range(repeats):
        start = time.process_time()
        np.matmul(a, a, out=out)
        times.append(time.process_time() - start)
    return 2 * size ** 3 / min(times) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=40)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--unfused-too", action="store_true",
                        help="alternate with iterations whose batch norms are not fused")
    args = parser.parse_args()
    ThreadpoolController().limit(limits=args.threads, user_api="blas")
    minigan.memory.keep_freed_memory()
    minigan.manual_seed(0)
    rng = np.random.default_rng(0)

    model = build(args.batch)
    for _ in range(3):                      # warm-up: scratch blocks, Adam state, malloc
        iteration(*model, lambda i: None)
    products = record_gemms(model)
    replays = [gemm_replay(products[i], rng) for i in range(len(PHASES))]
    for run, _ in replays:
        run()

    phase_cpu = [[] for _ in PHASES]
    gemm_cpu = [[] for _ in PHASES]
    totals, gemm_totals, walls, ratios, unfused = [], [], [], [], []
    fused_with = _BatchNorm.fused_with
    for round_ in range(args.iters):
        if args.unfused_too and round_ % 2:
            unfused.append(unfused_iteration(model, fused_with))
        marks = []
        wall = time.perf_counter()
        start = time.process_time()
        iteration(*model, lambda i: marks.append(time.process_time()))
        walls.append(time.perf_counter() - wall)
        for i, (t0, t1) in enumerate(zip([start] + marks[:-1], marks)):
            phase_cpu[i].append(t1 - t0)
        totals.append(marks[-1] - start)
        gemm_total = 0.0
        for i, (run, _) in enumerate(replays):
            t0 = time.process_time()
            run()
            gemm_cpu[i].append(time.process_time() - t0)
            gemm_total += gemm_cpu[i][-1]
        gemm_totals.append(gemm_total)
        ratios.append(totals[-1] / gemm_total)
        if args.unfused_too and not round_ % 2:
            unfused.append(unfused_iteration(model, fused_with))

    ms = lambda seconds: 1e3 * statistics.median(seconds)
    flops = sum(f for _, f in replays)
    print(f"DCGAN iteration phase by phase, batch {args.batch}, {args.iters} rounds, "
          f"BLAS threads {args.threads}, CPU time (process), medians; NumPy {np.__version__}")
    print(f"{'phase':<20} {'CPU ms':>8} {'GEMM alone':>11} {'non-GEMM':>9} {'GEMMs':>6} "
          f"{'GFLOP':>7}")
    for i, name in enumerate(PHASES):
        cpu, gemm = ms(phase_cpu[i]), ms(gemm_cpu[i])
        print(f"{name:<20} {cpu:>8.2f} {gemm:>11.2f} {cpu - gemm:>9.2f} "
              f"{len(products[i]):>6} {replays[i][1] / 1e9:>7.3f}")
    total, gemm = ms(totals), ms(gemm_totals)
    print(f"{'iteration':<20} {total:>8.2f} {gemm:>11.2f} {total - gemm:>9.2f} "
          f"{sum(map(len, products.values())):>6} {flops / 1e9:>7.3f}")
    ratio = statistics.median(ratios)
    print(f"wall ms per iteration (median): {ms(walls):.1f}")
    print(f"CPU time / GEMM-alone CPU time: {ratio:.2f}x (median of per-round ratios); "
          f"GEMMs alone at {flops / gemm / 1e6:.0f} GFLOP/s, a 1024³ GEMM at "
          f"{peak_gflops(rng):.0f} GFLOP/s")
    print(f"wall-clock ratio to the GEMMs on 2 idle cores, GEMMs twice as fast there and the "
          f"rest on one core: {1 + 2 * (total - gemm) / gemm:.2f}x")
    if unfused:
        print(f"batch norm + activation unfused: {ms(unfused):.2f} CPU ms per iteration, "
              f"fused {total:.2f}; median paired difference (fused − unfused) "
              f"{ms([a - b for a, b in zip(totals, unfused)]):+.2f} ms")


def unfused_iteration(model, fused_with):
    """CPU seconds of one iteration with every BatchNorm declining to fuse."""
    _BatchNorm.fused_with = Module.fused_with
    try:
        start = time.process_time()
        iteration(*model, lambda i: None)
        return time.process_time() - start
    finally:
        _BatchNorm.fused_with = fused_with


if __name__ == "__main__":
    main()
