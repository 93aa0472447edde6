"""One training iteration of the notes' MNIST DCGAN: D step on real + fake, then G step.

G: z (N, 64, 1, 1) → ConvT(64,256,3,2)+BN+ReLU → ConvT(256,128,4,1)+BN+ReLU
   → ConvT(128,64,3,2)+BN+ReLU → ConvT(64,1,4,2)+tanh            (1 → 3 → 6 → 13 → 28)
D: Conv(1,16,4,2)+BN+LReLU(0.2) → Conv(16,32,4,2)+BN+LReLU → Conv(32,1,4,2)  (28 → 13 → 5 → 1)
BCE with logits, Adam(2e-4, β = (0.5, 0.999)), batch 128.

Prints the median ms/iter over --iters iterations (after warm-up) and the peak memory of
minigan's arrays (tracemalloc sees NumPy's allocations). If PyTorch is installed, the same
model runs in PyTorch with --threads threads in the same process and the ratio is printed;
PyTorch is never a dependency of minigan. As `minigan.train.train` does, the script first
calls `minigan.memory.keep_freed_memory()` (process-wide: PyTorch's CPU arrays come from
the same malloc); `--default-malloc` leaves glibc's defaults, for the comparison.

The physical limit (``--limit``): every convolution of an iteration is one GEMM per pass —
forward, input gradient, weight gradient — of 2·M·K·N floating-point operations, with
(M, K, N) read off the layer shapes (``iteration_gemms``). The same GEMMs, as plain
``numpy.matmul``s of those shapes, are timed in the same run, in alternation with the
iteration (``--iters`` rounds of one iteration, then each GEMM once): the sum of their
medians is the GEMM-bound time of an iteration, what it would take if everything but the
matrix products were free. The script prints the FLOP count, layer by layer, and iteration
time / GEMM-bound time, both medians of the same rounds. ``--profile`` adds where the rest
goes: the time of every op of an iteration (each convolution pass against its GEMM, batch
norm, activations, losses, Adam, and what is left: the graph walk and Python).

    python benchmarks/dcgan_step.py [--iters 30] [--batch 128] [--device cpu] [--threads 2]
                                    [--default-malloc] [--limit] [--profile]
"""
import argparse
import collections
import statistics
import time
import tracemalloc

import numpy as np

import minigan
import minigan.functional as F
import minigan.memory
from minigan import autograd
from minigan.models.networks import dcgan_discriminator, dcgan_generator, dcgan_init_
from minigan.nn.conv import Conv2d, ConvTranspose2d

LATENT, IMAGE = 64, (1, 28, 28)


def minigan_step_fn(batch, device, parts=False):
    """One iteration as a function (and, with ``parts``, G, D and the optimisers too)."""
    G = dcgan_init_(dcgan_generator(LATENT, IMAGE, width=64)).to(device)
    D = dcgan_init_(dcgan_discriminator(1, IMAGE, width=16)).to(device)
    opt_g = minigan.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = minigan.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = minigan.rand(batch, *IMAGE, device=device) * 2 - 1
    ones, zeros = minigan.ones(batch, 1, device=device), minigan.zeros(batch, 1, device=device)

    def step():
        fake = G(minigan.randn(batch, LATENT, 1, 1, device=device))
        loss_d = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(D(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return loss_d.item() + loss_g.item()  # one host sync per logged loss, as in training
    return (step, G, D, (opt_g, opt_d)) if parts else step


# ==================== the physical limit: the iteration's GEMMs ====================

def conv_layers(net, x):
    """(name, layer, input (C, H, W), output (C, H, W)) of every (transposed) convolution of
    ``net``, a Sequential of blocks each starting with its convolution, walked on ``x``."""
    layers = []
    for i, block in enumerate(net):
        layers.append((i + 1, block[0], x.shape[1:], block[0](x).shape[1:]))
        x = block(x)
    return layers


def layer_gemms(layer, batch, inp, out):
    """{pass: (M, K, N)} of a convolution's three GEMMs at batch size ``batch``, as
    minigan's conv ops shape them (functional/conv.py): for Conv2d(C → OC), with
    P = N·OH·OW output pixels, forward W (OC, C·K²) @ cols (C·K², P), input gradient
    Wᵀ (C·K², OC) @ gy (OC, P) then col2im, weight gradient gy (OC, P) @ colsᵀ (P, C·K²).
    A ConvTranspose2d(C → OC) is the input gradient of a Conv2d(OC → C): its forward is
    Wᵀ (OC·K², C) @ x (C, N·H·W), its input gradient W (C, OC·K²) @ cols (OC·K², N·H·W)."""
    kk = layer.kernel_size[0] * layer.kernel_size[1]
    if isinstance(layer, ConvTranspose2d):
        c, oc, pixels = inp[0], out[0], batch * inp[1] * inp[2]
        return {"forward": (oc * kk, c, pixels), "input grad": (c, oc * kk, pixels),
                "weight grad": (c, pixels, oc * kk)}
    c, oc, pixels = inp[0], out[0], batch * out[1] * out[2]
    return {"forward": (oc, c * kk, pixels), "input grad": (c * kk, oc, pixels),
            "weight grad": (oc, pixels, c * kk)}


def iteration_gemms(G, D, batch):
    """[(layer name, pass, (M, K, N), times per iteration)]: the GEMMs of one iteration of
    the D step on real + fake and the G step through D's scores of the same fakes.

    G: forward, weight gradient, and input gradient except the first layer's (z needs
    none). D, per batch it sees: the D step's real and fake batches each a forward, a
    weight gradient and input gradients below the first layer (neither the real images
    nor the detached fakes need one); the G step's fake batch a forward and every input
    gradient (down to G's output), no weight gradient (D frozen)."""
    z = minigan.randn(2, LATENT, 1, 1)
    rows = []
    with minigan.no_grad():
        g_layers = conv_layers(G, z)
        d_layers = conv_layers(D, minigan.randn(2, *IMAGE))
    for name, layers, counts in (("G", g_layers, {"forward": 1, "weight grad": 1,
                                                  "input grad": 1}),
                                 ("D", d_layers, {"forward": 3, "weight grad": 2,
                                                  "input grad": 3})):
        for i, layer, inp, out in layers:
            for phase, shape in layer_gemms(layer, batch, inp, out).items():
                n = counts[phase]
                if phase == "input grad" and i == 1:
                    n = 0 if name == "G" else 1      # only the G step's pass through D
                if n:
                    rows.append((f"{name}{i}", phase, shape, n))
    return rows


def gemm_operands(rows):
    """{(layer, pass): (a, b, out)} float32 operands of each GEMM, laid out as minigan's conv
    ops pass them (the weight gradient's right operand a transposed view)."""
    rng = np.random.default_rng(0)
    operands = {}
    for layer, phase, (m, k, n), _ in rows:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = (rng.standard_normal((n, k), dtype=np.float32).T if phase == "weight grad"
             else rng.standard_normal((k, n), dtype=np.float32))
        operands[layer, phase] = (a, b, np.empty((m, n), np.float32))
    return operands


def interleaved_ms(step, rows, rounds):
    """The iteration and its GEMMs timed in alternation: ``rounds`` times, one iteration,
    then each GEMM once as a plain numpy.matmul. Both see the same machine at the same
    moments (this VM's speed drifts by ±15 % within minutes, so timing one and then the
    other can move their ratio by as much). Returns the iteration's times and
    {(layer, pass): times} in ms."""
    operands = gemm_operands(rows)
    for _ in range(3):                                  # warm-up, as median_ms
        step()
        for a, b, out in operands.values():
            np.matmul(a, b, out=out)
    iteration, gemms = [], collections.defaultdict(list)
    for _ in range(rounds):
        start = time.perf_counter()
        step()
        iteration.append((time.perf_counter() - start) * 1e3)
        for key, (a, b, out) in operands.items():
            start = time.perf_counter()
            np.matmul(a, b, out=out)
            gemms[key].append((time.perf_counter() - start) * 1e3)
    return iteration, gemms


def print_limit(rows, iteration, gemms):
    """The GEMM table and iteration time / GEMM-bound time from ``interleaved_ms``'s
    times: the ratio of the medians, and the range of the rounds' own ratios. Returns
    {(layer, pass): median GEMM ms}."""
    bound = {key: statistics.median(t) for key, t in gemms.items()}
    flops = sum(2 * m * k * n * count for _, _, (m, k, n), count in rows)
    bound_ms = sum(bound[layer, phase] * count for layer, phase, _, count in rows)
    iteration_ms = statistics.median(iteration)
    per_round = [it / sum(gemms[layer, phase][r] * count for layer, phase, _, count in rows)
                 for r, it in enumerate(iteration)]
    print(f"\nGEMMs of one iteration (2·M·K·N each), timed as plain numpy.matmul, "
          f"{len(iteration)} rounds each after one iteration:")
    print(f"{'layer':<6} {'pass':<12} {'M':>6} {'K':>6} {'N':>6} {'× it':>5} "
          f"{'MFLOP':>8} {'GEMM ms':>8} {'GFLOP/s':>8}")
    for layer, phase, (m, k, n), count in rows:
        mflop = 2 * m * k * n * count / 1e6
        ms = bound[layer, phase] * count
        print(f"{layer:<6} {phase:<12} {m:>6} {k:>6} {n:>6} {count:>5} {mflop:>8.1f} "
              f"{ms:>8.2f} {mflop / ms:>8.1f}")
    print(f"total: {flops / 1e9:.3f} GFLOP per iteration; GEMM-bound time {bound_ms:.1f} ms "
          f"({flops / bound_ms / 1e6:.1f} GFLOP/s)")
    print(f"iteration time / GEMM-bound time (medians of the same rounds): "
          f"{iteration_ms:.1f} / {bound_ms:.1f} ms = {iteration_ms / bound_ms:.2f}x "
          f"(the rounds' own ratios: {min(per_round):.2f}-{max(per_round):.2f}x)")
    return bound


# ==================== where the time goes ====================

CONV_OPS = ("Conv2d", "ConvTranspose2d", "Conv2dGradWeight")


class OpTimer:
    """Exclusive time of every op (autograd Function) of the steps run inside the block,
    forward and backward, by monkeypatching the two places the engine runs them
    (``Function.__call__``, ``autograd._gradients_of_inputs``). A convolution's op is
    named by its layer (its channel counts) and its role: the forward, the input gradient
    (the adjoint op inside the layer's backward) or the weight gradient."""

    def __init__(self, layer_of_channels):
        self.layer_of = layer_of_channels
        self.totals = collections.defaultdict(float)
        self.stack = []     # [start, time of nested ops] of the ops running now
        self.in_backward = 0

    def _key(self, fn, arrays, backward):
        name = type(fn).__name__
        if name not in CONV_OPS:
            return f"{name} {'backward' if backward else 'forward'}"
        layer = self.layer_of.get(frozenset((arrays[0].shape[1], arrays[1].shape[
            1 if name == "Conv2dGradWeight" else 0], arrays[1].shape[1])), "?")
        if name == "Conv2dGradWeight":
            return f"{layer} weight grad"
        transposed = layer.startswith("G")     # G's layers are transposed convolutions
        forward = (name == "ConvTranspose2d") == transposed
        return f"{layer} {'forward' if forward else 'input grad'}"

    def _timed(self, key, run):
        self.stack.append([time.perf_counter(), 0.0])
        try:
            return run()
        finally:
            start, nested = self.stack.pop()
            spent = time.perf_counter() - start
            self.totals[key] += spent - nested
            if self.stack:
                self.stack[-1][1] += spent

    def __enter__(self):
        call, grads = autograd.Function.__call__, autograd._gradients_of_inputs
        self.saved = call, grads
        timer = self

        def timed_call(fn, *inputs):
            key = timer._key(fn, [x.data for x in inputs], timer.in_backward)
            return timer._timed(key, lambda: call(fn, *inputs))

        def timed_grads(f, gy, create_graph):
            name = type(f).__name__
            key = f"{name} backward"
            timer.in_backward += 1
            try:
                if name in CONV_OPS:   # attributed to the nested adjoint / weight-grad ops
                    key = "conv backward (outside its GEMM ops)"
                return timer._timed(key, lambda: grads(f, gy, create_graph))
            finally:
                timer.in_backward -= 1

        autograd.Function.__call__ = timed_call
        autograd._gradients_of_inputs = timed_grads
        return self

    def __exit__(self, *exc):
        autograd.Function.__call__, autograd._gradients_of_inputs = self.saved


def profile(batch, device, iters, rows, bound):
    """Per-op exclusive times over ``iters`` iterations, printed against the GEMM-bound
    time of each convolution pass."""
    step, G, D, optimizers = minigan_step_fn(batch, device, parts=True)
    step()
    channels = {}
    with minigan.no_grad():
        for name, net, x in (("G", G, minigan.randn(2, LATENT, 1, 1)),
                             ("D", D, minigan.randn(2, *IMAGE))):
            for i, layer, inp, out in conv_layers(net, x):
                channels[frozenset((inp[0], out[0]))] = f"{name}{i}"
    adam = [0.0]
    for opt in optimizers:
        def timed_step(opt_step=opt.step):
            start = time.perf_counter()
            opt_step()
            adam[0] += time.perf_counter() - start
        opt.step = timed_step
    with OpTimer(channels) as timer:
        start = time.perf_counter()
        for _ in range(iters):
            step()
        total = (time.perf_counter() - start) * 1e3 / iters
    per = {k: v * 1e3 / iters for k, v in timer.totals.items()}
    adam_ms = adam[0] * 1e3 / iters
    conv = {k: v for k, v in per.items() if k[:2] in {r[0] for r in rows}}
    print(f"\nwhere an iteration's {total:.1f} ms go (mean of {iters}, ops timed exclusively):")
    print(f"{'convolution pass':<24} {'op ms':>7} {'GEMM ms':>8} {'op / GEMM':>9}")
    for layer, phase, _, count in rows:
        key = f"{layer} {phase}"
        ms = conv.get(key, 0.0)
        print(f"{key:<24} {ms:>7.2f} {bound[layer, phase] * count:>8.2f} "
              f"{ms / (bound[layer, phase] * count):>9.2f}")
    conv_ms = sum(conv.values())
    others = sorted(((v, k) for k, v in per.items() if k not in conv), reverse=True)
    print(f"{'all convolution ops':<24} {conv_ms:>7.2f} "
          f"{sum(bound[r[0], r[1]] * r[3] for r in rows):>8.2f}")
    for ms, key in others:
        if ms >= 0.2:
            print(f"{key:<40} {ms:>7.2f}")
    rest = total - conv_ms - sum(v for v, _ in others) - adam_ms
    print(f"{'other ops (< 0.2 ms each)':<40} {sum(v for v, _ in others if v < 0.2):>7.2f}")
    print(f"{'Adam (both optimisers)':<40} {adam_ms:>7.2f}")
    print(f"{'the rest: graph walk, Python, losses':<40} {rest:>7.2f}")


def torch_dcgan():
    """The same G and D in PyTorch, with PyTorch's default initialisation."""
    from torch import nn

    G = nn.Sequential(
        nn.ConvTranspose2d(LATENT, 256, 3, 2), nn.BatchNorm2d(256), nn.ReLU(),
        nn.ConvTranspose2d(256, 128, 4, 1), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 3, 2), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(1, 16, 4, 2), nn.BatchNorm2d(16), nn.LeakyReLU(0.2),
        nn.Conv2d(16, 32, 4, 2), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 1, 4, 2), nn.Flatten())
    return G, D


def torch_iteration(G, D, opt_g, opt_d, real, z=None):
    """One PyTorch iteration: D on real + fake, then G through D's scores of the same
    fakes; returns the two losses as floats. z: the noise (N, LATENT, 1, 1), else drawn."""
    import torch
    from torch.nn.functional import binary_cross_entropy_with_logits as bce

    ones = torch.ones(len(real), 1, dtype=real.dtype)
    zeros = torch.zeros(len(real), 1, dtype=real.dtype)
    fake = G(torch.randn(len(real), LATENT, 1, 1) if z is None else z)
    loss_d = bce(D(real), ones) + bce(D(fake.detach()), zeros)
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = bce(D(fake), ones)
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


def adam_pair(torch, G, D):
    """The recipe's Adam(2e-4, β = (0.5, 0.999)) for G and for D."""
    return (torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
            torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)))


def torch_step_fn(batch, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    G, D = torch_dcgan()
    opt_g, opt_d = adam_pair(torch, G, D)
    real = torch.rand(batch, *IMAGE) * 2 - 1
    return lambda: sum(torch_iteration(G, D, opt_g, opt_d, real))


def median_ms(step, iters, warmup=3, sync=lambda: None):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's intra-op threads")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--default-malloc", action="store_true",
                        help="skip keep_freed_memory(): glibc returns freed memory to the OS")
    parser.add_argument("--limit", action="store_true",
                        help="count the iteration's FLOPs and time its GEMMs alone")
    parser.add_argument("--profile", action="store_true",
                        help="with --limit: the time of every op of an iteration")
    args = parser.parse_args()
    if not args.default_malloc:
        minigan.memory.keep_freed_memory()
    minigan.manual_seed(0)

    step = minigan_step_fn(args.batch, args.device)
    step()
    tracemalloc.start()
    step()
    peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    sync = (lambda: minigan.backend.cupy.cuda.Device().synchronize()) \
        if args.device == "cuda" else (lambda: None)
    ours, ours_best = median_ms(step, args.iters, sync=sync)

    rows = [("minigan", args.device, ours, ours_best, f"{peak_mib:.0f} MiB")]
    torch_ms = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None and args.device == "cpu":
            torch_ms, torch_best = median_ms(torch_step_fn(args.batch, args.threads), args.iters)
            rows.append((f"PyTorch {torch.__version__} ({args.threads} threads)", "cpu",
                         torch_ms, torch_best, "-"))

    print(f"DCGAN (notes' MNIST geometry) training iteration, batch {args.batch}, "
          f"{args.iters} iterations, NumPy {np.__version__}")
    print(f"{'engine':<34} {'device':<7} {'median ms':>10} {'best ms':>9} {'peak mem':>10}")
    for name, device, median, best, mem in rows:
        print(f"{name:<34} {device:<7} {median:>10.1f} {best:>9.1f} {mem:>10}")
    if torch_ms:
        print(f"minigan / PyTorch time ratio: {ours / torch_ms:.2f}x")
    if args.limit or args.profile:
        _, G, D, _ = minigan_step_fn(args.batch, "cpu", parts=True)
        rows = iteration_gemms(G, D, args.batch)
        bound = print_limit(rows, *interleaved_ms(step, rows, args.iters))
        if args.profile:
            profile(args.batch, args.device, args.iters, rows, bound)


if __name__ == "__main__":
    main()
