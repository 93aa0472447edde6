"""The notes' saturation argument (004), measured: ‖∇_θG L_G‖ for the minimax loss
log(1 − D(G(z))) and the non-saturating loss −log D(G(z)) on the vanilla MLP GAN.

Two situations on the embedded digits (batch 64, seed 0):
  1. D trained alone first (--d-warmup steps), so it rejects G's samples (D(G(z)) ≈ 0):
     the same G and D, both losses' gradient norms side by side;
  2. the first generator steps of a normal run with each loss.

    python benchmarks/saturation.py [--d-warmup 200] [--steps 200]
"""
import argparse

import numpy as np

import minigan
from minigan.data import DataLoader, load_dataset
from minigan.functional.activation import sigmoid
from minigan.models.adversarial import frozen
from minigan.models.losses import g_loss_minimax, g_loss_nonsaturating
from minigan.models.vanilla import Vanilla

G_LOSSES = {"minimax": g_loss_minimax, "nonsaturating": g_loss_nonsaturating}


def g_gradient(gan, g_loss, n=64):
    """(‖∇_θG L_G‖₂ over all of G's parameters, mean D(G(z))) on a fresh noise batch."""
    with frozen(gan.D):
        logits = gan.D(gan.G(gan.noise(n)))
        grads = minigan.grad(g_loss(logits), list(gan.G.parameters()))
    norm = float(np.sqrt(sum(float((g.data.astype(np.float64) ** 2).sum()) for g in grads)))
    return norm, float(sigmoid(logits).mean().item())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d-warmup", type=int, default=200)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    digits = load_dataset("mnist5k")

    minigan.manual_seed(0)
    gan = Vanilla((1, 28, 28))
    data = DataLoader(digits, batch_size=64, seed=0).batches()
    for _ in range(args.d_warmup):
        real = next(data)["x"]
        with minigan.no_grad():
            fake = gan.generate(gan.noise(real.shape[0]))
        gan.discriminator_step(real, fake)
    print(f"1. after {args.d_warmup} D-only steps (same G, same D):")
    for name, loss in G_LOSSES.items():
        minigan.manual_seed(1)  # the same noise batch for both losses
        norm, d_fake = g_gradient(gan, loss)
        print(f"   {name:<14} ‖∇θG L_G‖ = {norm:10.3e}   D(G(z)) = {d_fake:.4f}")

    print("2. first generator steps of a run with each loss:")
    print(f"   {'step':>6} " + " ".join(f"{n + ' ‖∇‖':>20} {'D(G(z))':>8}" for n in G_LOSSES))
    runs = {}
    for name in G_LOSSES:
        minigan.manual_seed(0)
        runs[name] = (Vanilla((1, 28, 28), g_loss=name),
                      DataLoader(digits, batch_size=64, seed=0).batches())
    for step in range(args.steps + 1):
        if step in (0, 1, 5, 10, 50, 100, 200, args.steps):
            cells = []
            for name, (gan, _) in runs.items():
                norm, d_fake = g_gradient(gan, G_LOSSES[name])
                cells.append(f"{norm:20.3e} {d_fake:8.4f}")
            print(f"   {step:>6} " + " ".join(cells))
        for gan, data in runs.values():
            gan.step(next(data))


if __name__ == "__main__":
    main()
