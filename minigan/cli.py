"""The command line: ``python -m minigan COMMAND`` (or the ``minigan`` console script).

    minigan train MODEL [--data mnist5k] [--steps N | --epochs E] ... [model options]
    minigan sample CHECKPOINT [--n 64] [--out grid.png|samples.npz] [--label L]
    minigan eval CHECKPOINT
    minigan download mnist|fashion-mnist [--root DIR]
    minigan list

``minigan COMMAND --help`` (and ``minigan train MODEL --help``) lists every option.

Exit status: 0 on success; 2 for bad input (an unknown model or data set, a bad option,
an unreadable checkpoint), with the message on stderr and no traceback; 1 when a run
fails (a NaN loss, no GPU for --device cuda, a failed download); 130 when Ctrl-C stopped
training (after saving a checkpoint that ``--resume`` continues), as shells report a
program ended by SIGINT, so that ``minigan train ... && next-step`` does not go on.
"""
import argparse
import os
import sys
import time

import numpy as np

from minigan import backend
from minigan.models import MODELS, by_kind, get_model
from minigan.serialization import CheckpointError

DEFAULT_STEPS = 3000
EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT


class UsageError(Exception):
    """Bad input from the command line: reported on stderr with exit status 2."""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {value}")
    return value


def _summary(obj):
    """The first line of ``obj``'s docstring."""
    return (obj.__doc__ or "").strip().splitlines()[0] if obj.__doc__ else ""


# ==================== the parser ====================

def build_parser():
    """The argparse parser of every command."""
    parser = argparse.ArgumentParser(
        prog="minigan", description="minigan: train, sample and evaluate the generative "
                                    "models of the notes, from scratch on NumPy (or CuPy).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a model",
        description="Train a model; `minigan train MODEL --help` lists its options.")
    models = train.add_subparsers(dest="model", required=True, metavar="MODEL",
                                  title="models")
    common = _training_options()
    parser.model_parsers = {}
    for name, cls in MODELS.items():
        sub = models.add_parser(name, parents=[common], help=_summary(cls),
                                description=_summary(cls))
        group = sub.add_argument_group(f"{name} options")
        if cls.presets:
            group.add_argument("--preset", choices=sorted(cls.presets), default=None,
                               help="start from this named set of option values (flags "
                                    "given explicitly still win)")
        for option in cls.options:
            option.add_to(group)
        sub.set_defaults(model_options=[option.name for option in cls.options])
        parser.model_parsers[name] = sub

    sample = commands.add_parser("sample", help="draw samples from a trained model",
                                 description="Save a model's samples from a checkpoint: a "
                                             "grid (a scatter for 2-D points) as PNG, or the "
                                             "raw samples (and labels) as .npy/.npz.")
    sample.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a run directory or its checkpoint.npz")
    sample.add_argument("--n", type=_positive_int, default=64, help="samples (default 64)")
    sample.add_argument("--out", default="grid.png",
                        help="file to write: .png (a picture), .npy (the samples) or .npz "
                             "(samples and labels) (default grid.png)")
    sample.add_argument("--label", type=int, default=None,
                        help="class of every sample, for class-conditional models (default: "
                             "the classes in turn)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    sample.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")

    evaluate = commands.add_parser("eval", help="score a trained generator",
                                   description="Print minigan.metrics' scores of a "
                                               "checkpoint's generator.")
    evaluate.add_argument("checkpoint", metavar="CHECKPOINT",
                          help="a run directory or its checkpoint.npz")
    evaluate.add_argument("--data", default=None,
                          help="data set to compare with (default: the one it was trained on)")
    evaluate.add_argument("--n", type=_positive_int, default=1000,
                          help="generated samples to score (default 1000)")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    evaluate.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")

    download = commands.add_parser("download", help="download MNIST or Fashion-MNIST",
                                   description="Download and verify (sha256) a data set's "
                                               "IDX files.")
    download.add_argument("name", choices=["mnist", "fashion-mnist"])
    download.add_argument("--root", default=None,
                          help="parent directory (default $MINIGAN_DATA or ~/.minigan/data)")

    commands.add_parser("list", help="list the models and data sets",
                        description="List the models, by kind, and the data sets.")
    return parser


def _training_options():
    """The options every model's `train` takes (a parent parser)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("training")
    group.add_argument("--data", default="mnist5k",
                       help="data set: mnist5k (embedded, default), mnist:DIR, ring8, "
                            "grid25, ... (see `minigan list`)")
    length = group.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_positive_int, default=None,
                        help=f"train until this many steps in all, counting those before a "
                             f"--resume (default {DEFAULT_STEPS})")
    length.add_argument("--epochs", type=_positive_int, default=None,
                        help="train for this many passes over the data instead")
    group.add_argument("--batch-size", type=_positive_int, default=64,
                       help="samples per batch (default 64)")
    group.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    group.add_argument("--seed", type=int, default=0,
                       help="seed of minigan's random numbers (default 0)")
    group.add_argument("--out", default=None, help="run directory (default runs/MODEL, "
                                                   "or the --resume directory)")
    group.add_argument("--resume", metavar="DIR", default=None,
                       help="continue the run saved in DIR, bit for bit, with its saved "
                            "data set, batch size, seed and model options")
    group.add_argument("--overwrite", action="store_true",
                       help="start a new run in --out even if it holds a checkpoint")
    group.add_argument("--sample-every", type=_positive_int, default=500,
                       help="save a sample picture every this many steps (default 500)")
    group.add_argument("--checkpoint-every", type=_positive_int, default=1000,
                       help="save a checkpoint every this many steps (default 1000)")
    group.add_argument("--log-every", type=_positive_int, default=1,
                       help="write a log.jsonl line every this many steps (default 1)")
    return common


# ==================== commands ====================

def cmd_train(args):
    from minigan.checkpoint import load_checkpoint, run_dir
    from minigan.data import DataLoader, load_dataset
    from minigan.train import train

    cls = get_model(args.model)
    device = backend.check_device(args.device)
    if args.resume is not None:
        checkpoint = load_checkpoint(args.resume)
        saved = checkpoint["model"]["name"]
        if saved != args.model:
            raise UsageError(f"--resume {args.resume}: it is a {saved!r} run, not "
                             f"{args.model!r}; use `minigan train {saved} --resume ...`")
        meta = checkpoint["meta"]
        missing = [key for key in ("data", "batch_size", "seed") if key not in meta]
        if missing:
            raise UsageError(f"--resume {args.resume}: the checkpoint does not say its "
                             f"{', '.join(missing)} (was the run started by `minigan train`?)"
                             "; continue it with minigan.train.train(..., resume=...)")
        options = checkpoint["model"]["config"]
        out = args.out or run_dir(args.resume)
        print(f"resuming {args.resume} at step {checkpoint['step']} (data {meta['data']}, "
              f"batch size {meta['batch_size']}, seed {meta['seed']})", flush=True)
    else:
        meta = {"data": args.data, "batch_size": args.batch_size, "seed": args.seed}
        options = {name: getattr(args, name) for name in args.model_options}
        out = args.out or os.path.join("runs", args.model)
        if os.path.exists(os.path.join(out, "checkpoint.npz")) and not args.overwrite:
            raise UsageError(f"{out} already holds a run (checkpoint.npz): continue it with "
                             f"--resume {out}, or pass --overwrite or another --out")
    backend.manual_seed(meta["seed"])
    dataset = load_dataset(meta["data"])
    loader = DataLoader(dataset, meta["batch_size"], shuffle=True, seed=meta["seed"],
                        device=device)
    model = cls(dataset.x.shape[1:], dataset.num_classes, device, **options)
    steps = None if args.epochs else args.steps or DEFAULT_STEPS
    first_step = checkpoint["step"] if args.resume is not None else 0
    started = time.perf_counter()
    result = train(model, loader, out, steps=steps, epochs=args.epochs,
                   sample_every=args.sample_every, checkpoint_every=args.checkpoint_every,
                   log_every=args.log_every, resume=args.resume, meta=meta,
                   progress=sys.stderr.isatty())
    if result["interrupted"]:
        return EXIT_INTERRUPTED
    seconds, done = time.perf_counter() - started, result["step"] - first_step
    rate = f" ({1000 * seconds / done:.1f} ms/step)" if done else ""
    print(f"done: step {result['step']}, {done} steps in {seconds:.1f} s{rate}; samples in "
          f"{os.path.join(out, 'samples.png')}, checkpoint {result['checkpoint']}")
    return 0


SAMPLE_FORMATS = (".png", ".npy", ".npz")


def cmd_sample(args):
    from minigan import viz
    from minigan.checkpoint import build_model, load_checkpoint

    extension = os.path.splitext(args.out)[1].lower()
    if extension not in SAMPLE_FORMATS:
        raise UsageError(f"--out {args.out}: expected a file ending in "
                         f"{', '.join(SAMPLE_FORMATS)}, found {extension or 'no extension'!r}")
    model = build_model(load_checkpoint(args.checkpoint), backend.check_device(args.device))
    if args.label is not None and "y" not in model.needs:
        raise UsageError(f"--label: {model.name} is not class-conditional; it draws samples "
                         "of no particular class")
    backend.manual_seed(args.seed)
    samples = model.sample(args.n, args.label).numpy()
    if extension == ".npy":
        np.save(args.out, samples)
    elif extension == ".npz":
        labels = {} if args.label is None else {"labels": np.full(args.n, args.label)}
        np.savez(args.out, samples=samples, **labels)
    elif model.data_kind == "points":
        viz.save_scatter_2d(samples, args.out, title=f"{model.name}: {args.n} samples")
    else:
        viz.save_image_grid(samples, args.out)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def cmd_eval(args):
    from minigan.checkpoint import build_model, load_checkpoint

    checkpoint = load_checkpoint(args.checkpoint)
    model = build_model(checkpoint, backend.check_device(args.device))
    data = args.data or checkpoint["meta"].get("data")
    backend.manual_seed(args.seed)
    scores = model.evaluate(data, num_samples=args.n)
    width = max(len(name) for name in scores)
    for name, value in scores.items():
        print(f"{name:<{width}}  {value:.4f}" if isinstance(value, float)
              else f"{name:<{width}}  {value}")
    return 0


def cmd_download(args):
    from minigan.data import download

    directory = download(args.name, args.root)
    print(f"{args.name} is in {directory}; train on it with --data {args.name}:{directory}")
    return 0


def cmd_list(args):
    from minigan.data import DATASETS

    print("models (minigan train MODEL):")
    for kind, models in by_kind().items():
        print(f"  {kind}:")
        for name, cls in models.items():
            print(f"    {name:<12} {_summary(cls)}")
    print("data sets (--data NAME):")
    for name, description in DATASETS.items():
        print(f"  {name:<14} {description}")
    return 0


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "eval": cmd_eval,
            "download": cmd_download, "list": cmd_list}


def parse_args(argv=None):
    """The parsed command line. ``train MODEL --preset NAME`` makes the preset's values the
    defaults of their flags and parses again, so flags given explicitly win."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "preset", None) is not None:
        parser.model_parsers[args.model].set_defaults(**MODELS[args.model].presets[args.preset])
        args = parser.parse_args(argv)
    return args


def main(argv=None):
    """Run the command line ``argv`` (default sys.argv[1:]); returns the exit status."""
    args = parse_args(argv)
    from minigan.train import TrainingDiverged

    try:
        return COMMANDS[args.command](args)
    except TrainingDiverged as error:
        return _fail(args, error, EXIT_FAILED)
    except (UsageError, ValueError, FileNotFoundError, CheckpointError) as error:
        return _fail(args, error, EXIT_USAGE)
    except (RuntimeError, OSError) as error:
        return _fail(args, error, EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", EXIT_INTERRUPTED)


def _fail(args, error, status):
    print(f"minigan {args.command}: error: {error}", file=sys.stderr)
    return status
