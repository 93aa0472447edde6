"""One training iteration of the notes' MLP GAN, timed; and how much of it is graph
bookkeeping rather than array work.

    G: Linear(100, 128) - ReLU - Linear(128, 784) - Tanh
    D: Linear(784, 128) - LeakyReLU(0.2) - Linear(128, 1)
    B = 64, BCE with logits, Adam(2e-4, betas=(0.5, 0.999)) for both;
    one iteration = D step on real + fake.detach(), then G step (non-saturating loss).

The same iteration is also written by hand in plain NumPy (forward, hand-derived backward,
the same Adam update), which is the array work alone; it is checked against minigan's step
from the same weights first. overhead = (minigan − numpy) / minigan is the share of the
step spent on Tensors, Functions, the graph walk and the optimiser's Python loop.
A cProfile of minigan's step then lists where that overhead goes.

    PYTHONPATH=. python benchmarks/mlp_gan_step.py [--iters 100] [--warmup 10] [--profile]

(or without PYTHONPATH after `pip install -e .`).
"""
import argparse
import cProfile
import math
import pstats
import statistics
import time

import numpy as np

import minigan
from minigan import nn, optim
from minigan.functional.loss import binary_cross_entropy_with_logits as bce_logits

B, Z, H, X = 64, 100, 128, 784
LR, BETAS, EPS = 2e-4, (0.5, 0.999), 1e-8


def build():
    G = nn.Sequential(nn.Linear(Z, H), nn.ReLU(), nn.Linear(H, X), nn.Tanh())
    D = nn.Sequential(nn.Linear(X, H), nn.LeakyReLU(0.2), nn.Linear(H, 1))
    return G, D, optim.Adam(G.parameters(), LR, BETAS), optim.Adam(D.parameters(), LR, BETAS)


def minigan_step(G, D, g_opt, d_opt, real, z, ones, zeros):
    fake = G(z)
    d_opt.zero_grad()
    d_loss = bce_logits(D(real), ones) + bce_logits(D(fake.detach()), zeros)
    d_loss.backward()
    d_opt.step()
    g_opt.zero_grad()
    g_loss = bce_logits(D(fake), ones)  # non-saturating: −log D(G(z))
    g_loss.backward()
    g_opt.step()
    return d_loss, g_loss


# ==================== the same array work, by hand ====================

class NumpyAdam:
    def __init__(self, params):
        self.params, self.t = params, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        beta1, beta2 = BETAS
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            denom = np.sqrt(v) / math.sqrt(1 - beta2 ** self.t) + EPS
            p -= (LR / (1 - beta1 ** self.t)) * m / denom


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _bce(logits, target):
    """mean(max(z, 0) − z·y + log(1 + e^{−|z|})) and its gradient (σ(z) − y) / n."""
    loss = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    return loss.mean(), (_sigmoid(logits) - target) / logits.size


def _d_forward(d, x):
    w1, b1, w2, b2 = d
    u = x @ w1.T + b1
    a = np.where(u > 0, u, u * np.float32(0.2))
    return u, a, a @ w2.T + b2


def _d_backward(d, x, u, a, gz, input_grad):
    """Gradients of D's parameters (and of its input x if ``input_grad``) from ∂L/∂logits."""
    w1, _, w2, _ = d
    gw2, gb2 = gz.T @ a, gz.sum(0)
    ga = gz @ w2
    gu = np.where(u > 0, ga, ga * np.float32(0.2))
    return [gu.T @ x, gu.sum(0), gw2, gb2], gu @ w1 if input_grad else None


def numpy_step(g, d, g_opt, d_opt, real, z, ones, zeros):
    w1, b1, w2, b2 = g
    h = z @ w1.T + b1
    r = np.maximum(h, 0)
    fake = np.tanh(r @ w2.T + b2)
    u_r, a_r, z_r = _d_forward(d, real)
    u_f, a_f, z_f = _d_forward(d, fake)
    loss_r, gz_r = _bce(z_r, ones)
    loss_f, gz_f = _bce(z_f, zeros)
    grads_r, _ = _d_backward(d, real, u_r, a_r, gz_r, input_grad=False)
    grads_f, _ = _d_backward(d, fake, u_f, a_f, gz_f, input_grad=False)
    d_opt.step([gr + gf for gr, gf in zip(grads_r, grads_f)])
    u, a, logits = _d_forward(d, fake)
    g_loss, gz = _bce(logits, ones)
    _, gfake = _d_backward(d, fake, u, a, gz, input_grad=True)
    gs = gfake * (1 - fake * fake)                     # tanh' = 1 − y²
    gr = gs @ w2
    gh = gr * (h > 0)
    g_opt.step([gh.T @ z, gh.sum(0), gs.T @ r, gs.sum(0)])
    return loss_r + loss_f, g_loss


# ==================== measurement ====================

def _arrays(module):
    return [p.data.copy() for p in module.parameters()]


def check_same_work(G, D, inputs):
    """One step of each implementation from the same weights gives the same weights."""
    g, d = _arrays(G), _arrays(D)
    numpy_step(g, d, NumpyAdam(g), NumpyAdam(d), *[t.data for t in inputs])
    G2, D2, g_opt, d_opt = build()
    G2.load_state_dict(G.state_dict())
    D2.load_state_dict(D.state_dict())
    minigan_step(G2, D2, g_opt, d_opt, *inputs)
    for ours, theirs in zip(_arrays(G2) + _arrays(D2), g + d):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def median_ms(steps, iters, warmup):
    """Median ms of each step function; their iterations alternate, so a busy moment of the
    machine slows both alike."""
    times = [[] for _ in steps]
    for i in range(warmup + iters):
        for step, record in zip(steps, times):
            start = time.perf_counter()
            step()
            if i >= warmup:
                record.append(time.perf_counter() - start)
    return [1e3 * statistics.median(record) for record in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    args = parser.parse_args()
    if args.iters < 50:
        parser.error("--iters must be at least 50")

    minigan.manual_seed(0)
    G, D, g_opt, d_opt = build()
    real = minigan.rand(B, X) * 2 - 1  # random "images" in [−1, 1]: timing does not care
    ones, zeros = minigan.ones(B, 1), minigan.zeros(B, 1)
    check_same_work(G, D, (real, minigan.randn(B, Z), ones, zeros))

    g, d = _arrays(G), _arrays(D)
    g_np, d_np = NumpyAdam(g), NumpyAdam(d)
    generator = np.random.default_rng(0)
    t_minigan, t_numpy = median_ms([
        lambda: minigan_step(G, D, g_opt, d_opt, real, minigan.randn(B, Z), ones, zeros),
        lambda: numpy_step(g, d, g_np, d_np, real.data,
                           generator.standard_normal((B, Z), dtype=np.float32),
                           ones.data, zeros.data)], args.iters, args.warmup)
    overhead = (t_minigan - t_numpy) / t_minigan

    print(f"MLP GAN iteration, B={B}, float32, CPU, median of {args.iters} after "
          f"{args.warmup} warm-up")
    print(f"{'implementation':<34}{'ms/iter':>10}")
    print(f"{'minigan (autograd + nn + optim)':<34}{t_minigan:>10.2f}")
    print(f"{'plain NumPy, hand-written backward':<34}{t_numpy:>10.2f}")
    print(f"{'graph bookkeeping share':<34}{100 * overhead:>9.1f}%  (target < 25%)")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.iters):
            minigan_step(G, D, g_opt, d_opt, real, minigan.randn(B, Z), ones, zeros)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
