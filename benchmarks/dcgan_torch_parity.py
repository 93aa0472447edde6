"""Does `minigan train dcgan --preset notes` step as PyTorch does? Same weights, data, noise.

The variant's own training step (``DCGAN.step``: D on the real batch and on G's fakes, then
G through D's scores of the same fakes) and the PyTorch iteration of benchmarks/
dcgan_step.py start from the same weights (minigan's DCGAN initialisation copied into
PyTorch's model) and get the same real batches (minigan's DataLoader) and the same noise.
Both run in float64, so rounding stays ~1e-16 per operation and a difference that grows
past that is a difference in the math: a layer's geometry, batch norm's statistics, the
BCE, Adam's update. Prints, per iteration, both engines' losses and the largest difference
over all of G's (D's) parameters and batch-norm statistics, relative to their largest value.

    python benchmarks/dcgan_torch_parity.py [--iters 20]

PyTorch is needed here only (`pip install torch==2.13.0`); never a minigan dependency.
"""
import argparse

import numpy as np

import minigan
from dcgan_step import IMAGE, LATENT, adam_pair, torch_dcgan, torch_iteration
from minigan.data import DataLoader, load_dataset
from minigan.models import get_model


def state_arrays(module, torch=False):
    """Parameters then batch-norm running statistics, in definition order, as arrays."""
    buffers = [(name, b) for name, b in module.named_buffers()
               if not name.endswith("num_batches_tracked")]
    tensors = list(module.parameters()) + [b for _, b in buffers]
    return [t.detach().numpy() if torch else t.numpy() for t in tensors]


def determined(module):
    """Which entries of state_arrays(module) the math fixes: all but the biases of the
    convolutions in front of a batch norm, and the running means those biases shift.

    Batch norm subtracts such a bias again, so its exact gradient is 0 and what autograd
    returns is rounding noise (~1e-13) of either sign, which Adam turns into steps of up
    to lr·|g|/(|g| + ε) ≈ 1e-8: two correct engines disagree on these numbers entirely."""
    names = [name for name, _ in module.named_parameters()] + [
        name for name, _ in module.named_buffers() if not name.endswith("num_batches_tracked")]
    norms = {name.rsplit(".", 1)[0] for name in names if name.endswith("running_var")}
    blocks_with_norm = {norm.rsplit(".", 1)[0] for norm in norms}  # a block: conv, norm, act

    def fixed(name):
        layer = name.rsplit(".", 1)[0]
        noise_bias = (name.endswith(".bias") and layer not in norms
                      and layer.rsplit(".", 1)[0] in blocks_with_norm)
        return not (noise_bias or name.endswith("running_mean"))
    return [fixed(name) for name in names]


def relative_difference(ours, theirs, keep):
    """max |ours − theirs| over the kept tensors, over the largest |value| among them."""
    pairs = [(a, b) for a, b, k in zip(ours, theirs, keep) if k]
    scale = max(float(np.abs(b).max()) for _, b in pairs)
    return max(float(np.abs(a - b).max()) for a, b in pairs) / scale


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=20)
    args = parser.parse_args()
    import torch

    minigan.set_default_dtype("float64")
    minigan.manual_seed(0)
    DCGAN = get_model("dcgan")
    gan = DCGAN(IMAGE, None, "cpu", **DCGAN.presets["notes"])   # the notes' DCGAN
    G, D = torch_dcgan()
    G, D = G.double(), D.double()
    with torch.no_grad():
        for ours, theirs in ((gan.G, G), (gan.D, D)):
            targets = list(theirs.parameters()) + [
                b for name, b in theirs.named_buffers() if not name.endswith("num_batches_tracked")]
            sources = state_arrays(ours)
            assert [tuple(t.shape) for t in targets] == [a.shape for a in sources]
            for target, source in zip(targets, sources):
                target.copy_(torch.from_numpy(source))
    opt_g, opt_d = adam_pair(torch, G, D)
    keep_g, keep_d = determined(gan.G), determined(gan.D)

    noises = []
    draw = gan.noise
    gan.noise = lambda n: noises.append(draw(n)) or noises[-1]   # keep each z for PyTorch

    loader = DataLoader(load_dataset("mnist5k"), batch_size=128, seed=0)
    print(f"PyTorch {torch.__version__} vs minigan, float64, batch 128, from the same weights")
    print(f"{'iter':>4} {'loss_D ours':>14} {'loss_D torch':>14} {'loss_G ours':>14} "
          f"{'loss_G torch':>14} {'G: max diff':>12} {'D: max diff':>12}")
    epochs = (batch for _ in iter(int, 1) for batch in loader)     # epoch after epoch
    for step, batch in zip(range(1, args.iters + 1), epochs):
        real = minigan.tensor(batch["x"].numpy(), dtype="float64")
        logs = gan.step({"x": real})
        z = torch.from_numpy(noises[-1].numpy()).reshape(-1, LATENT, 1, 1)
        loss_d, loss_g = torch_iteration(G, D, opt_g, opt_d, torch.from_numpy(real.numpy()), z)
        print(f"{step:>4} {logs['loss_D']:>14.10f} {loss_d:>14.10f} {logs['loss_G']:>14.10f} "
              f"{loss_g:>14.10f} "
              f"{relative_difference(state_arrays(gan.G), state_arrays(G, torch=True), keep_g):>12.2e} "
              f"{relative_difference(state_arrays(gan.D), state_arrays(D, torch=True), keep_d):>12.2e}",
              flush=True)


if __name__ == "__main__":
    main()
