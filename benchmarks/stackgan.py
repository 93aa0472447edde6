"""StackGAN-lite: stage I against stage II, and conditioning augmentation on against off
(issue 20; notes 001, "StackGAN").

    python benchmarks/stackgan.py              # CA on (the model's default)
    python benchmarks/stackgan.py --no-ca      # c = μ(φ): no sampling, no KL

Trains ``--stage1-steps`` steps of stage I (14×14) then ``--stage2-steps`` of stage II
(28×28, stage I frozen) on the embedded digits, each class's caption a fixed random 32-d
vector plus jitter. Then 1,000 samples, 100 per class, drawn in batches that mix the
classes: stage I's sketches (upsampled to 28×28) and stage II's images from the same z
and captions, scored with the digit classifier of ``minigan.metrics``:

- label accuracy: the share classified as the class asked for (chance 0.1);
- classifier FID against the 500 held-out test digits, and classes covered;
- intra-class diversity: per class, the mean distance between the classifier features
  (64-d) of two samples asked for that class, averaged over the classes, divided by the
  same for the real test digits of each class (1: as varied as real digits, 0: one image
  per class).
"""
import argparse
import json
import time

import numpy as np

import minigan
from minigan.data import DataLoader, load_dataset
from minigan.metrics import classify, class_coverage, fid, label_accuracy, load_classifier
from minigan.models.stackgan import StackGAN

SAMPLES = 1000
BATCH = 250


def diversity(features, labels, classes=10):
    """Mean over classes of the mean pairwise Euclidean distance of ``features`` within
    each class."""
    per_class = []
    for k in range(classes):
        f = features[labels == k]
        d = np.sqrt(((f[:, None, :] - f[None, :, :]) ** 2).sum(axis=2))    # (n, n)
        per_class.append(d.sum() / (len(f) * (len(f) - 1)))
    return float(np.mean(per_class))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ca", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--stage1-steps", type=int, default=3000)
    parser.add_argument("--stage2-steps", type=int, default=2500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    data = load_dataset("mnist5k")
    test = load_dataset("mnist5k", split="test")
    minigan.manual_seed(args.seed)
    model = StackGAN((1, 28, 28), 10, ca=args.ca, stage1_steps=args.stage1_steps)
    batches = DataLoader(data, args.batch_size, seed=args.seed).batches()
    print(f"stackgan, CA {'on' if args.ca else 'off'}: {args.stage1_steps} stage-I + "
          f"{args.stage2_steps} stage-II steps, batch {args.batch_size}, the model's other "
          f"defaults ({model.config()}), seed {args.seed}")
    started, cpu0 = time.perf_counter(), time.process_time()
    for step in range(args.stage1_steps + args.stage2_steps):
        logs = model.step(next(batches))
        if (step + 1) % 250 == 0:
            print(f"step {step + 1:>5} (stage {int(logs['stage'])}): "
                  + " ".join(f"{k} {v:.3f}" for k, v in logs.items() if k != "stage")
                  + f"  cpu {time.process_time() - cpu0:.0f} s", flush=True)
    train_cpu = time.process_time() - cpu0

    minigan.manual_seed(args.seed + 1)
    labels = np.arange(SAMPLES) % 10
    sketches, images = [], []
    for start in range(0, SAMPLES, BATCH):
        y = minigan.tensor(labels[start:start + BATCH])
        s, x = model.sketches_and_images(model.noise(len(y)), y)
        sketches.append(s.numpy())
        images.append(x.numpy())
    classifier = load_classifier()
    _, real_features = classify(test.images, classifier)
    real_diversity = diversity(real_features, test.labels)
    rows = {}
    for name, samples in (("stage I (14×14, upsampled)", np.concatenate(sketches)),
                          ("stage II (28×28)", np.concatenate(images))):
        probs, features = classify(samples, classifier)
        rows[name] = {"label_accuracy": label_accuracy(probs, labels),
                      "fid": fid(real_features, features),
                      "coverage": class_coverage(probs.argmax(axis=1)),
                      "diversity": diversity(features, labels) / real_diversity}
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - started
    print()
    print(f"{'samples':<28} {'label acc.':>10} {'FID':>7} {'classes':>7} {'diversity':>9}")
    for name, r in rows.items():
        print(f"{name:<28} {r['label_accuracy']:>10.3f} {r['fid']:>7.1f} "
              f"{r['coverage']:>7} {r['diversity']:>9.3f}")
    print(f"(real test digits: diversity 1 by definition, {real_diversity:.3f} in feature "
          f"units)")
    print(f"CPU {cpu:.0f} s ({train_cpu:.0f} s training), wall {wall:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "rows": rows, "cpu_s": cpu, "wall_s": wall}, f,
                      indent=1)


if __name__ == "__main__":
    main()
