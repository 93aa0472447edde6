"""The quality reference for `minigan train dcgan --preset notes`: the same DCGAN by PyTorch.

Same data (the embedded digits' train split, batches from minigan's DataLoader in the same
order), architecture (benchmarks/dcgan_step.py's model and iteration; BN γ ~ N(1, 0.02),
weights ~ N(0, 0.02), biases 0), recipe (BCE with logits, Adam(2e-4, β = (0.5, 0.999)),
batch 128, one noise batch per iteration, its fakes serving the D and the G update) and metric
(minigan.metrics on 1,000 samples drawn with batch statistics, as `minigan eval` does).
Only the engine differs, so at equal iterations the two should score alike.

    python benchmarks/dcgan_torch_reference.py [--steps 4000] [--every 1000] [--threads 2]
                                               [--seed 0]

Prints, every --every iterations, the classifier scores of the PyTorch generator.
PyTorch is needed here only (`pip install torch==2.13.0`); never a minigan dependency.
"""
import argparse
import time

import numpy as np

from dcgan_step import LATENT, adam_pair, torch_dcgan, torch_iteration
from minigan.data import DataLoader, load_dataset
from minigan.metrics import classify, digit_scores, load_classifier


def dcgan_init_(torch, *modules):
    """The DCGAN recipe's initialisation (minigan.models.networks.dcgan_init_), in PyTorch."""
    from torch import nn
    for m in (m for module in modules for m in module.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def scores(torch, G, classifier, real_features, n=1000, batch=250):
    """minigan.metrics' digit scores of n samples, drawn in train-mode BN like `eval`."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        images = np.concatenate([G(torch.randn(batch, LATENT, 1, 1, generator=generator))
                                 .numpy() for _ in range(n // batch)])
    probs, features = classify(images, classifier)
    return digit_scores(probs, features, real_features)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds PyTorch and the batch order, as `minigan train --seed`")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    G, D = torch_dcgan()
    dcgan_init_(torch, G, D)
    opt_g, opt_d = adam_pair(torch, G, D)
    loader = DataLoader(load_dataset("mnist5k"), batch_size=128, seed=args.seed)
    classifier = load_classifier()
    _, real_features = classify(load_dataset("mnist5k", split="test").images, classifier)
    print(f"PyTorch {torch.__version__}, {args.threads} threads: the notes' DCGAN, batch 128, "
          f"seed {args.seed}")
    print(f"{'iteration':>9} {'classes':>7} {'samples per class':<44} {'FID':>7} {'s':>6}")
    start = time.perf_counter()
    for step, (x, _) in enumerate(loader.batches(args.steps), start=1):
        torch_iteration(G, D, opt_g, opt_d, torch.from_numpy(x.numpy()))
        if step % args.every == 0:
            s = scores(torch, G, classifier, real_features)
            print(f"{step:>9} {s['class_coverage']:>7} {s['samples_per_class']:<44} "
                  f"{s['fid']:>7.1f} {time.perf_counter() - start:>6.0f}", flush=True)


if __name__ == "__main__":
    main()
