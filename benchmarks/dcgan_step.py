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

    python benchmarks/dcgan_step.py [--iters 30] [--batch 128] [--device cpu] [--threads 2]
                                    [--default-malloc]
"""
import argparse
import statistics
import time
import tracemalloc

import numpy as np

import minigan
import minigan.functional as F
import minigan.memory
from minigan.models.networks import dcgan_discriminator, dcgan_generator, dcgan_init_

LATENT, IMAGE = 64, (1, 28, 28)


def minigan_step_fn(batch, device):
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
    return step


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


if __name__ == "__main__":
    main()
