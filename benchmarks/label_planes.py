"""What the label planes cost a conditional D: convolved, taken as a bias, or not built.

A conditional D (cgan: 10 one-hot planes; dcgan's defaults: 40 k-means cluster planes) sees
x with K constant planes appended. Convolving them costs K/(C + K) of the first layer;
``nn.ConstantChannelsConv2d`` takes them as a per-class bias instead (the same function),
and given the K values beside x, ``layer(x, v)``, it needs no planes at all — what the
models do (``AdversarialModel.discriminate`` calls D(x, v)). Same run, same weights, one
BLAS thread unless OPENBLAS_NUM_THREADS says otherwise:

1. the first layer alone, forward + backward (input gradient included, as in G's step),
   batch 64 on 28×28: plain Conv2d on the C + K channels, ConstantChannelsConv2d on the
   same input and on the image with v apart, and Conv2d on the image channel only (what
   no label would cost);
2. whole training steps of the model (``dcgan`` defaults, and ``cgan``) three ways: as
   built (D(x, v)); with the planes built and given to the same layer (D([x, v ⊗ 1]));
   and with the planes built and a plain Conv2d holding the same weights — alternating
   blocks of steps so all see the same machine.

    OPENBLAS_NUM_THREADS=1 python benchmarks/label_planes.py [--steps 40] [--blocks 3]
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402  (after the thread setting, which BLAS reads at import)

import minigan  # noqa: E402
from minigan.data import DataLoader, load_dataset  # noqa: E402
from minigan.functional import broadcast_to, cat  # noqa: E402
from minigan.models import get_model  # noqa: E402
from minigan.nn import Conv2d, ConstantChannelsConv2d  # noqa: E402


def median_ms(fn, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def first_layer_table(reps, batch=64, planes=40, width=32):
    """ms of forward + backward of D's first layer, four ways."""
    image = minigan.randn(batch, 1, 28, 28, requires_grad=True)
    onehot = np.eye(planes, dtype=np.float32)[np.arange(batch) % planes]
    v = minigan.tensor(onehot)                                   # (N, K)

    def run(layer, inputs):
        def once():
            if inputs == "planes":
                x = (cat([image, broadcast_to(v.reshape(batch, planes, 1, 1),
                                              (batch, planes, 28, 28))], axis=1),)
            else:
                x = (image, v) if inputs == "apart" else (image,)
            layer(*x).sum().backward()
        return once

    plain = Conv2d(1 + planes, width, 4, 2)
    fast = ConstantChannelsConv2d(1 + planes, width, 4, 2, constant_channels=planes)
    fast.load_state_dict(plain.state_dict())
    print(f"D's first layer, Conv({1 + planes}, {width}, 4, 2), batch {batch}, 28×28, "
          f"forward + backward (median of {reps}):")
    for name, fn in (("Conv2d on image + planes", run(plain, "planes")),
                     ("ConstantChannelsConv2d, same input", run(fast, "planes")),
                     ("ConstantChannelsConv2d, image and v", run(fast, "apart")),
                     ("Conv2d on the image only", run(Conv2d(1, width, 4, 2), "image"))):
        print(f"  {name:<38} {median_ms(fn, reps):7.2f} ms")


def plain_twin(layer):
    """A Conv2d sharing ``layer``'s weight and bias Parameters, so the optimiser, which holds
    those, trains whichever of the two D uses."""
    twin = Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                  layer.padding)
    twin.weight, twin.bias = layer.weight, layer.bias
    return twin


def step_table(name, options, steps, blocks):
    """Median ms per training step of ``name``: as built, D(x, v); with the planes built,
    D([x, v ⊗ 1]); and with the planes built and convolved by a plain Conv2d."""
    minigan.manual_seed(0)
    cls = get_model(name)
    model = cls((1, 28, 28), num_classes=10 if "y" in cls.needs else None, **options)
    fast = model.D[0][0]
    plain = plain_twin(fast)

    def with_planes(x, labels=None):                  # D on x with its K planes appended
        return model.D(model.condition.input(x, labels))

    ways = {"D(x, v), as built": (fast, None),
            "planes, ConstantChannelsConv2d": (fast, with_planes),
            "planes, Conv2d (convolved)": (plain, with_planes)}
    loader = DataLoader(load_dataset("mnist5k", split="train"), batch_size=64, seed=0)
    batches = loader.batches(None)
    for _ in range(5):                                        # warm-up
        model.step(next(batches))
    times = {label: [] for label in ways}
    for _ in range(blocks):
        for label, (layer, discriminate) in ways.items():
            model.D[0][0] = layer
            if discriminate is None:
                vars(model).pop("discriminate", None)         # the class's D(x, v)
            else:
                model.discriminate = discriminate
            for _ in range(steps):
                batch = next(batches)
                start = time.perf_counter()
                model.step(batch)
                times[label].append(time.perf_counter() - start)
    print(f"{name} {options or '(defaults)'}, batch 64, {blocks} blocks of {steps} steps each:")
    for label, values in times.items():
        print(f"  {label:<32} {1e3 * statistics.median(values):7.1f} ms/step")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--reps", type=int, default=30)
    args = parser.parse_args()
    print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    first_layer_table(args.reps)
    step_table("dcgan", {}, args.steps, args.blocks)
    step_table("cgan", {}, args.steps, args.blocks)


if __name__ == "__main__":
    main()
