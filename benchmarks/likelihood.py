"""Held-out likelihoods of the explicit models (issue 21; notes 003): VAE, VAE/GAN, PixelCNN.

One command trains one model on binarised digits and writes its run directory; another
prints the table of every run:

    python benchmarks/likelihood.py train MODEL --data mnist5k-bin --out DIR [--epochs E]
        [--patience P] [--batch-size B] [--seed S] [--set OPTION=VALUE ...]
    python benchmarks/likelihood.py table DIR [DIR ...]
    python benchmarks/likelihood.py sampling DIR     # a PixelCNN run: 64 samples, both ways

Early stopping. A model's ``step`` sees training batches only, and ``minigan.train`` (the
loop every model shares) has no held-out data, so the stopping rule lives here: this
script trains with minigan's API (``DataLoader`` + ``model.step``), and after every epoch
measures the model's cheap held-out number (``model.nats``: −ELBO with one z for a VAE,
the exact NLL for PixelCNN) on a validation split, keeping the weights of the best epoch;
it stops after ``--patience`` epochs without improvement (0: never, for VAE/GAN, whose
pixel −ELBO is not what it trains). The validation split is carved out of the training
digits (every 10th of each class, 450 of the 4,500, as ``split_indices`` does), so the 500
test digits choose nothing and the reported numbers are not selected on them.

The best weights are saved as a minigan checkpoint (``python -m minigan eval DIR`` and
``sample DIR`` work on it) with ``result.json``: the test split's numbers in nats and
bits/dim (each of ``model.heldout``; for a VAE −ELBO and −IWAE with k = 200), the seconds
to draw 64 samples, the digit scores of 1,000 samples (FID against the test digits of the
same binarisation, class coverage) and, for the VAEs, the pixel MSE and classifier
accuracy of the test digits' reconstructions; CPU and wall seconds of the run.
"""
import argparse
import copy
import glob
import json
import os
import sys
import time

import numpy as np

# the checkout's minigan is the one measured, installed or not
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minigan  # noqa: E402
from minigan import backend  # noqa: E402
from minigan.autograd import Tensor, no_grad  # noqa: E402
from minigan.checkpoint import save_checkpoint  # noqa: E402
from minigan.data import DataLoader, Dataset, load_dataset  # noqa: E402
from minigan.data.embedded import split_indices  # noqa: E402
from minigan.metrics import score_samples  # noqa: E402
from minigan.models import get_model  # noqa: E402
from minigan.models.likelihood import bits_per_dim, data_label  # noqa: E402

SAMPLES = 1000        # samples scored by the digit classifier
TIMED_SAMPLES = 64    # samples whose drawing is timed


def split_validation(train):
    """(fit, validation) Datasets: every 10th digit of each class of ``train`` is held
    out for early stopping."""
    fit, val = split_indices(train.labels)
    return (Dataset(train.x[fit], train.labels[fit], name=train.name, num_classes=10),
            Dataset(train.x[val], train.labels[val], name=train.name + " validation",
                    num_classes=10))


def mean_nats(model, images, batch_size=500):
    """The mean of ``model.nats`` over ``images``, no graph."""
    total = 0.0
    with no_grad():
        for start in range(0, len(images), batch_size):
            x = Tensor(backend.to_device(images[start:start + batch_size], model.device))
            total += float(model.nats(x).numpy().sum())
    return total / len(images)


def parse_options(pairs, cls):
    """--set name=value pairs, typed by the model's options."""
    kinds = {o.name: o.kind for o in cls.options}
    options = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in kinds:
            raise SystemExit(f"--set {pair}: {cls.name} has no option {name!r} (it has "
                             f"{', '.join(kinds)})")
        kind = kinds[name]
        options[name] = (value.lower() in ("1", "true", "yes")) if kind is bool else kind(value)
    return options


def train(args):
    cls = get_model(args.model)
    options = parse_options(args.set, cls)
    label = data_label(args.data)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    minigan.manual_seed(args.seed)
    fit, val = split_validation(load_dataset(args.data))
    test = load_dataset(args.data, split="test")
    model = cls(fit.x.shape[1:], fit.num_classes, **options)
    loader = DataLoader(fit, args.batch_size, shuffle=True, seed=args.seed)
    history, best, best_state, waited = [], None, None, 0
    print(f"{args.model} {options} on {label}: {len(fit)} training, {len(val)} validation, "
          f"{len(test)} test digits", flush=True)
    for epoch in range(1, args.epochs + 1):
        logs = [model.step(batch) for batch in loader]
        # the epoch's mean training loss, where the step logs one (a VAE/GAN logs three)
        train_loss = float(np.mean([entry.get("loss", np.nan) for entry in logs]))
        nats = mean_nats(model, val.x)
        history.append({"epoch": epoch, "train": train_loss, "validation": nats,
                        "cpu_s": round(time.process_time() - cpu0, 1)})
        print(f"epoch {epoch:3d}  train {train_loss:8.3f}  validation {nats:8.3f} nats  "
              f"cpu {time.process_time() - cpu0:6.1f} s", flush=True)
        if best is None or nats < best:
            best, best_state, waited = nats, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if args.patience and waited >= args.patience:
                break
    if args.patience:
        model.load_state_dict(best_state)
    kept = min(history, key=lambda h: h["validation"]) if args.patience else history[-1]
    train_cpu, train_wall = time.process_time() - cpu0, time.perf_counter() - wall0
    result = {"model": args.model, "options": model.config(), "data": label,
              "epochs_run": len(history), "epoch_kept": kept["epoch"],
              "validation_nats": kept["validation"], "history": history,
              "train_cpu_s": round(train_cpu, 1), "train_wall_s": round(train_wall, 1)}
    result.update(evaluate(model, args.data, test))
    result["cpu_s"] = round(time.process_time() - cpu0, 1)
    result["wall_s"] = round(time.perf_counter() - wall0, 1)
    save(model, args, loader, result)
    print(json.dumps({k: v for k, v in result.items() if k != "history"}, indent=1))


def evaluate(model, data, test):
    """The test split's numbers (see the module docstring)."""
    result = {}
    for name, nats in model.heldout(test.x).items():
        result[name] = {"nats": nats, "bits_per_dim": bits_per_dim(nats, model.num_features)}
    minigan.manual_seed(1)
    started = time.perf_counter()
    model.sample(TIMED_SAMPLES)
    result["sample_64_s"] = round(time.perf_counter() - started, 2)
    samples = np.concatenate([model.sample(min(250, SAMPLES - s)).numpy()
                              for s in range(0, SAMPLES, 250)])
    scores = score_samples(samples, data, device=model.device)
    result["samples"] = {k: scores[k] for k in ("fid", "fid_real", "class_coverage",
                                                "confidence", "samples_per_class")}
    if hasattr(model, "reconstruction_scores"):
        result.update(model.reconstruction_scores(test))
    return result


def save(model, args, loader, result):
    """The kept model as a minigan checkpoint, its picture, and result.json."""
    os.makedirs(args.out, exist_ok=True)
    train_data = load_dataset(args.data)
    preview = model.preview_inputs(train_data)
    model.preview(os.path.join(args.out, "samples.png"), preview,
                  title=f"{args.model}, {result['data']}")
    save_checkpoint(os.path.join(args.out, "checkpoint.npz"), model,
                    step=result["epoch_kept"] * len(loader), elapsed=result["train_wall_s"],
                    rng=backend.get_rng_state(), loader=loader.state_dict(), preview=preview,
                    meta={"data": args.data, "batch_size": args.batch_size, "seed": args.seed})
    with open(os.path.join(args.out, "result.json"), "w") as f:
        json.dump(result, f, indent=1)


def table(args):
    """One row per run directory, from its result.json: the bounds in nats (lower is
    better), bits/dim of the best of them, the sample and reconstruction scores."""
    print("| run | binarisation | epochs (kept) | −ELBO | −IWAE | NLL | bits/dim (best) | FID | "
          "classes | recon MSE | recon acc. | CPU s | wall s |")
    print("| --- " * 13 + "|")
    for directory in args.runs:
        with open(os.path.join(directory, "result.json")) as f:
            r = json.load(f)
        bounds = {k: v for k, v in r.items() if isinstance(v, dict) and "nats" in v}

        def nats(prefix):
            """The bound whose name starts with ``prefix``; "nll" alone: the exact NLL."""
            found = [v["nats"] for k, v in bounds.items()
                     if k == prefix or (prefix != "nll" and k.startswith(prefix))]
            return f"{found[0]:.2f}" if found else "–"

        best = min(v["bits_per_dim"] for v in bounds.values())
        recon = (f"{r['recon_mse']:.3f} | {r['recon_accuracy']:.3f}" if "recon_mse" in r
                 else "– | –")
        print(f"| {os.path.basename(directory.rstrip('/'))} | {r['data'].split(' (')[1][:-1]} | "
              f"{r['epochs_run']} ({r['epoch_kept']}) | {nats('nll_bound_elbo')} | "
              f"{nats('nll_bound_iwae')} | {nats('nll')} | "
              f"{best:.4f} | {r['samples']['fid']:.1f} | {r['samples']['class_coverage']} | "
              f"{recon} | {r['cpu_s']} | {r['wall_s']} |")


def sampling(args):
    """CPU and wall seconds of 64 PixelCNN samples drawn line by line with caches
    (``sample``) and pixel by pixel (``sample_raster``), from the same uniforms; the two
    must be the same images."""
    from minigan.checkpoint import build_model, load_checkpoint
    model = build_model(load_checkpoint(args.run))
    minigan.manual_seed(args.seed)
    u = model.uniforms(TIMED_SAMPLES)
    images = {}
    for name in ("sample", "sample_raster"):
        cpu, wall = time.process_time(), time.perf_counter()
        images[name] = getattr(model, name)(TIMED_SAMPLES, noise=u).numpy()
        print(f"{name:<14} {TIMED_SAMPLES} samples: {time.process_time() - cpu:6.1f} s CPU, "
              f"{time.perf_counter() - wall:6.1f} s wall", flush=True)
    same = np.array_equal(images["sample"], images["sample_raster"])
    print(f"the same images: {same}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train", help="train one model with early stopping")
    run.add_argument("model", help="vae, vaegan or pixelcnn")
    run.add_argument("--data", default="mnist5k-bin", help="mnist5k-bin or mnist5k-sbin")
    run.add_argument("--out", required=True, help="run directory to write")
    run.add_argument("--epochs", type=int, default=100, help="most epochs (default 100)")
    run.add_argument("--patience", type=int, default=10,
                     help="stop after this many epochs without a better validation number "
                          "(0: never; default 10)")
    run.add_argument("--batch-size", type=int, default=100)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                     help="a model option, e.g. --set arch=conv")
    show = commands.add_parser("table", help="print the table of some run directories")
    show.add_argument("runs", nargs="+")
    timing = commands.add_parser("sampling", help="time a PixelCNN run's two samplers")
    timing.add_argument("run")
    timing.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.command == "sampling":
        sampling(args)
    elif args.command == "table":
        args.runs = [d for pattern in args.runs for d in sorted(glob.glob(pattern))]
        table(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
