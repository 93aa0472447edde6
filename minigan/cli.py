"""The command line: ``python -m minigan COMMAND`` (or the ``minigan`` console script).

    minigan train MODEL [--data mnist5k] [--steps N | --epochs E] ... [model options]
    minigan sample CHECKPOINT [--n 64] [--out RUN/grid.png|samples.npz] [--label L]
    minigan eval CHECKPOINT
    minigan download mnist|fashion-mnist [--root DIR]
    minigan list

``minigan COMMAND --help`` (and ``minigan train MODEL --help``) lists every option.

Exit status: 0 on success; 2 for bad input (an unknown model or data set, a bad option, a
missing, unreadable or corrupt file, a run directory that holds another run), with the
message on stderr and no traceback; 1 when a run fails (a NaN loss or non-finite weights,
no GPU for --device cuda, a failed download, a full disk); 130 when Ctrl-C and 143 when
SIGTERM stopped training (after saving a checkpoint that ``--resume`` continues), as
shells report a program ended by SIGINT or SIGTERM, so that ``minigan train ... &&
next-step`` does not go on.

Resuming (``--resume RUN``) keeps the run's data set, batch size, seed and model options;
giving one of them with another value is an error naming it. The number of steps, the
sample/checkpoint/log cadence, the device, the threads and the data set's location (when
it is the same data: a fingerprint of its contents is kept in the run) may change. Data
paths are stored absolute, so a run resumes from any working directory.
"""
import argparse
import contextlib
import os
import signal
import sys
import time

import numpy as np

from minigan import backend
from minigan.models import MODELS, by_kind, get_model
from minigan.serialization import CheckpointError

DEFAULT_STEPS = 3000
DEFAULT_DATA = "mnist5k"
PROGRESS_EVERY = 30.0  # seconds between progress lines when stderr is not a terminal
EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT
SIGNAL_NUMBERS = {"Ctrl-C": signal.SIGINT, "SIGTERM": signal.SIGTERM}  # exit 128 + number
# Errors about a path the user gave: bad input, not a failed run.
PATH_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError,
               FileExistsError)


_NOT_GIVEN = object()  # the default of every train option in build_parser(explicit=True)


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


def _at_least(least, what="an integer"):
    """An argparse type: an int >= ``least`` (argparse names the option in its error)."""
    def convert(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what} >= {least}, found {text!r}")
        if value < least:
            raise argparse.ArgumentTypeError(f"expected {what} >= {least}, found {value}")
        return value
    return convert


_seed = _at_least(0, "a seed, an integer")


def _threads(text):
    if text == "auto":
        return text
    return _at_least(1, "'auto' or a number of threads")(text)


def _summary(obj):
    """The first line of ``obj``'s docstring."""
    return (obj.__doc__ or "").strip().splitlines()[0] if obj.__doc__ else ""


# ==================== the parser ====================

def build_parser(explicit=False):
    """The argparse parser of every command. explicit: a parser that leaves out every
    option of ``train`` not given on the command line (what ``--resume`` compares)."""
    parser = argparse.ArgumentParser(
        prog="minigan", description="minigan: train, sample and evaluate the generative "
                                    "models of the notes, from scratch on NumPy (or CuPy).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a model",
        description="Train a model; `minigan train MODEL --help` lists its options.")
    models = train.add_subparsers(dest="model", required=True, metavar="MODEL",
                                  title="models")
    common, common_names = _training_options()
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
        names = [option.name for option in cls.options]
        sub.set_defaults(model_options=names)
        parser.model_parsers[name] = sub
        if explicit:
            sub.set_defaults(**dict.fromkeys(common_names + names, _NOT_GIVEN))

    sample = commands.add_parser("sample", help="draw samples from a trained model",
                                 description="Save a model's samples from a checkpoint: a "
                                             "grid (a scatter for 2-D points) as PNG, or the "
                                             "raw samples (and labels) as .npy/.npz.")
    sample.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a run directory or its checkpoint.npz")
    sample.add_argument("--n", type=_positive_int, default=64, help="samples (default 64)")
    sample.add_argument("--out", default=None,
                        help="file to write: .png (a picture), .npy (the samples) or .npz "
                             "(samples and labels), or a folder to write grid.png into "
                             "(default: grid.png in the run's folder)")
    sample.add_argument("--label", type=int, default=None,
                        help="class of every sample, for class-conditional models (default: "
                             "the classes in turn)")
    sample.add_argument("--seed", type=_seed, default=0, help="seed of the noise (default 0)")
    sample.add_argument("--device", default=None, help=DEVICE_HELP)

    evaluate = commands.add_parser("eval", help="score a trained generator",
                                   description="Print minigan.metrics' scores of a "
                                               "checkpoint's generator.")
    evaluate.add_argument("checkpoint", metavar="CHECKPOINT",
                          help="a run directory or its checkpoint.npz")
    evaluate.add_argument("--data", default=None,
                          help="data set to compare with (default: the one it was trained on)")
    evaluate.add_argument("--n", type=_at_least(2), default=1000,
                          help="generated samples to score, at least 2 (default 1000)")
    evaluate.add_argument("--seed", type=_seed, default=0, help="seed of the noise (default 0)")
    evaluate.add_argument("--device", default=None, help=DEVICE_HELP)

    download = commands.add_parser("download", help="download MNIST or Fashion-MNIST",
                                   description="Download and verify (sha256) a data set's "
                                               "IDX files.")
    download.add_argument("name", choices=["mnist", "fashion-mnist"])
    download.add_argument("--root", default=None,
                          help="parent directory (default $MINIGAN_DATA or ~/.minigan/data)")

    commands.add_parser("list", help="list the models and data sets",
                        description="List the models, by kind, and the data sets.")
    return parser


DEVICE_HELP = "cpu or cuda (default: $MINIGAN_DEVICE if set, else cpu)"


def _training_options():
    """The options every model's `train` takes (a parent parser), and their names."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("training")
    length = group.add_mutually_exclusive_group()
    actions = [
        group.add_argument("--data", default=DEFAULT_DATA,
                           help=f"data set: {DEFAULT_DATA} (embedded, default), mnist:DIR, "
                                "ring8, grid25, ... (see `minigan list`)"),
        length.add_argument("--steps", type=_positive_int, default=None,
                            help=f"train until this many steps in all, counting those before "
                                 f"a --resume (default {DEFAULT_STEPS})"),
        length.add_argument("--epochs", type=_positive_int, default=None,
                            help="train for this many passes over the data instead"),
        group.add_argument("--batch-size", type=_positive_int, default=64,
                           help="samples per batch (default 64)"),
        group.add_argument("--device", default=None, help=DEVICE_HELP),
        group.add_argument("--seed", type=_seed, default=0,
                           help="seed of minigan's random numbers (default 0)"),
        group.add_argument("--out", default=None, help="run directory (default runs/MODEL, "
                                                       "or the --resume directory)"),
        group.add_argument("--resume", metavar="RUN", default=None,
                           help="continue the run saved in RUN (a run directory or a "
                                "checkpoint file), bit for bit, with its saved data set, "
                                "batch size, seed and model options"),
        group.add_argument("--overwrite", action="store_true",
                           help="delete the run files (checkpoint, log, pictures) that --out "
                                "holds, then start (or resume) there"),
        group.add_argument("--sample-every", type=_positive_int, default=500,
                           help="save a sample picture every this many steps (default 500)"),
        group.add_argument("--checkpoint-every", type=_positive_int, default=1000,
                           help="save a checkpoint every this many steps (default 1000)"),
        group.add_argument("--log-every", type=_positive_int, default=1,
                           help="write a log.jsonl line every this many steps (default 1)"),
        group.add_argument("--threads", type=_threads, default="auto",
                           help="BLAS threads: auto (every CPU while they are idle, fewer "
                                "while other processes use them) or a fixed number, "
                                "bit-for-bit reproducible on a busy machine too (default "
                                "auto)"),
    ]
    return common, [action.dest for action in actions]


# ==================== commands ====================

def cmd_train(args):
    from minigan.checkpoint import load_checkpoint, run_dir
    from minigan.data import DataLoader
    from minigan.train import RunExists, train

    cls = get_model(args.model)
    device = _device(args.device)
    if args.resume is not None:
        checkpoint = load_checkpoint(args.resume)
        saved = checkpoint["model"]["name"]
        if saved != args.model:
            raise UsageError(f"--resume {args.resume}: it is a {saved!r} run, not "
                             f"{args.model!r}; use `minigan train {saved} --resume ...`")
        meta = dict(checkpoint["meta"])
        missing = [key for key in ("data", "batch_size", "seed") if key not in meta]
        if missing:
            raise UsageError(f"--resume {args.resume}: the checkpoint does not say its "
                             f"{', '.join(missing)} (was the run started by `minigan train`?)"
                             "; continue it with minigan.train.train(..., resume=...)")
        options = checkpoint["model"]["config"]
        _refuse_changes(args, meta, options)
        backend.manual_seed(meta["seed"])  # toy data sets are drawn from it
        dataset = _resumed_data(args, meta)
        out = args.out or run_dir(args.resume)
        print(f"resuming {args.resume} at step {checkpoint['step']}: keeping its data "
              f"{meta['data']}, batch size {meta['batch_size']}, seed {meta['seed']} and "
              f"options " + ", ".join(f"{k}={v}" for k, v in options.items()), flush=True)
    else:
        data = _absolute_spec(args.data)
        backend.manual_seed(args.seed)  # toy data sets are drawn from it
        dataset = _load_data(data)
        meta = {"data": data, "batch_size": args.batch_size, "seed": args.seed,
                "data_fingerprint": dataset.fingerprint()}
        options = {name: getattr(args, name) for name in args.model_options}
        out = args.out or os.path.join("runs", args.model)
    # the model first: it says what it cannot train on (cgan without labels) before the
    # loader checks batch sizes; neither draws random numbers before the other
    model = cls(dataset.x.shape[1:], dataset.num_classes, device, **options)
    loader = DataLoader(dataset, meta["batch_size"], shuffle=True, seed=meta["seed"],
                        device=device)
    steps = None if args.epochs else args.steps or DEFAULT_STEPS
    first_step = checkpoint["step"] if args.resume is not None else 0
    started = time.perf_counter()
    try:
        result = train(model, loader, out, steps=steps, epochs=args.epochs,
                       sample_every=args.sample_every, checkpoint_every=args.checkpoint_every,
                       log_every=args.log_every, resume=args.resume, meta=meta,
                       progress=True if sys.stderr.isatty() else PROGRESS_EVERY,
                       overwrite=args.overwrite, threads=args.threads)
    except RunExists as error:
        raise UsageError(_run_exists(error, args)) from error
    if result["interrupted"]:
        return 128 + SIGNAL_NUMBERS[result["signal"]]
    seconds, done = time.perf_counter() - started, result["step"] - first_step
    rate = f" ({1000 * seconds / done:.1f} ms/step)" if done else ""
    print(f"done: step {result['step']}, {done} steps in {seconds:.1f} s{rate}; samples in "
          f"{os.path.join(out, 'samples.png')}, checkpoint {result['checkpoint']}")
    return 0


def _run_exists(error, args):
    """A RunExists error in the command line's words."""
    if args.resume is None:
        advice = (f"continue it with --resume {error.directory}, or " if error.resumable
                  else "")
        return (f"{error.directory} already holds {error.holds}: {advice}pass --overwrite "
                "(deletes its run files) or another --out")
    return (f"{error.directory} holds {error.holds}: {error.action} there would replace "
            "its checkpoint and log; pass --overwrite to replace them, or another --out")


def _refuse_changes(args, meta, options):
    """A UsageError naming every option given with --resume that would change what the
    run trains on or with: its batch size, seed or model options."""
    conflicts = []
    for name in ("batch_size", "seed", *args.model_options):
        if name in args.given:
            saved = meta[name] if name in ("batch_size", "seed") else options.get(name)
            if getattr(args, name) != saved:
                conflicts.append(f"--{name.replace('_', '-')} {getattr(args, name)} (the run's "
                                 f"{name} is {saved})")
    if conflicts:
        raise UsageError(f"--resume {args.resume}: {'; '.join(conflicts)}: a resumed run keeps "
                         "the batch size, seed and model options it started with; drop "
                         f"{'this option' if len(conflicts) == 1 else 'these options'}, or "
                         "start a new run with them (another --out)")


def _resumed_data(args, meta):
    """The resumed run's data set: its own, or the one --data names when it holds the
    same data (its fingerprint is the run's); ``meta`` is updated with the new location."""
    spec = _absolute_spec(args.data) if "data" in args.given else meta["data"]
    dataset = _load_data(spec, f"the run's data set {spec}" if spec == meta["data"] else None,
                         "; if it moved, give its new place with --data")
    fingerprint = dataset.fingerprint()
    saved = meta.get("data_fingerprint")
    if saved is not None and fingerprint != saved:
        if spec != meta["data"]:
            raise UsageError(f"--data {args.data}: not the data the run trained on "
                             f"({meta['data']}): its contents differ; a resumed run keeps "
                             "its data set")
        raise UsageError(f"the run's data set {spec} has changed since the run started "
                         "(its contents differ): resume it with the data it trained on "
                         "(--data), or start a new run")
    if spec != meta["data"]:
        note = "same contents" if saved else "same size (the run has no fingerprint to check)"
        print(f"data: {spec} instead of {meta['data']} ({note})", flush=True)
    meta.update(data=spec, data_fingerprint=fingerprint)
    return dataset


def _load_data(spec, what=None, advice=""):
    from minigan.data import load_dataset

    try:
        return load_dataset(spec)
    except PATH_ERRORS as error:
        raise type(error)(f"{what or '--data ' + spec}: {error}{advice}") from error


def _absolute_spec(spec):
    """``spec`` with a relative path made absolute (``mnist:data/mnist`` ->
    ``mnist:/home/me/data/mnist``), so that a run resumes from any working directory; a
    spec without a path (``mnist5k``, ``ring8:256``) as it is."""
    name, colon, argument = spec.partition(":")
    if argument and not argument.isdigit() and os.path.exists(os.path.expanduser(argument)):
        return f"{name}{colon}{os.path.abspath(os.path.expanduser(argument))}"
    return spec


def _device(given):
    """--device if given, else $MINIGAN_DEVICE if set, else cpu; checked. A bad value of
    the variable is an error that names it."""
    if given is not None:
        return backend.check_device(given)
    variable = os.environ.get("MINIGAN_DEVICE")
    if variable is None:
        return "cpu"
    try:
        return backend.check_device(variable)
    except (ValueError, RuntimeError) as error:
        raise type(error)(f"MINIGAN_DEVICE={variable}: {error} (unset it, or give --device)") \
            from error


@contextlib.contextmanager
def _default_device(device):
    """Inside the block, tensors made without a device (layers being built) go to
    ``device``: minigan reads its default device from MINIGAN_DEVICE at each call, so an
    explicit --device must win over the variable for the whole command."""
    before = os.environ.get("MINIGAN_DEVICE")
    os.environ["MINIGAN_DEVICE"] = device
    try:
        yield
    finally:
        if before is None:
            del os.environ["MINIGAN_DEVICE"]
        else:
            os.environ["MINIGAN_DEVICE"] = before


SAMPLE_FORMATS = (".png", ".npy", ".npz")


def cmd_sample(args):
    from minigan import viz
    from minigan.atomic import atomic_write
    from minigan.checkpoint import build_model, load_checkpoint, run_dir
    from minigan.train import SAMPLE_GRID

    out = args.out if args.out is not None else os.path.join(run_dir(args.checkpoint),
                                                             SAMPLE_GRID)
    if os.path.isdir(out):
        out = os.path.join(out, SAMPLE_GRID)
    extension = os.path.splitext(out)[1].lower()
    if extension not in SAMPLE_FORMATS:
        raise UsageError(f"--out {args.out}: expected a file ending in "
                         f"{', '.join(SAMPLE_FORMATS)} or a folder, found "
                         f"{extension or 'no extension'!r}")
    checkpoint = load_checkpoint(args.checkpoint)
    model = build_model(checkpoint, _device(args.device))
    if args.label is not None and "y" not in model.needs:
        raise UsageError(f"--label: {model.name} is not class-conditional; it draws samples "
                         "of no particular class")
    backend.manual_seed(args.seed)
    inputs = model.sample_inputs(checkpoint["meta"].get("data"), args.n)  # translation
    samples = model.sample(args.n, args.label if inputs is None else inputs).numpy()
    if extension in (".npy", ".npz"):
        with atomic_write(out) as f:
            if extension == ".npy":
                np.save(f, samples)
            else:
                labels = {} if args.label is None else {"labels": np.full(args.n, args.label)}
                np.savez(f, samples=samples, **labels)
    elif model.data_kind == "points":
        viz.save_scatter_2d(samples, out, title=f"{model.name}: {args.n} samples")
    else:
        viz.save_image_grid(samples, out)
    print(f"wrote {args.n} samples to {out}")
    return 0


def cmd_eval(args):
    from minigan.checkpoint import build_model, load_checkpoint
    from minigan.data import DATASETS

    checkpoint = load_checkpoint(args.checkpoint)
    model = build_model(checkpoint, _device(args.device))
    data = args.data or checkpoint["meta"].get("data")
    if data is None:
        raise UsageError(f"{args.checkpoint} does not say which data set it was trained on: "
                         "give --data")
    name = data.partition(":")[0]
    if name not in DATASETS:
        raise UsageError(f"--data {data}: unknown dataset {name!r}: expected one of "
                         f"{', '.join(DATASETS)}")
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
    width = max(map(len, DATASETS))
    for name, description in DATASETS.items():
        print(f"  {name:<{width}}  {description}")
    return 0


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "eval": cmd_eval,
            "download": cmd_download, "list": cmd_list}


def parse_args(argv=None):
    """The parsed command line. ``train MODEL --preset NAME`` makes the preset's values the
    defaults of their flags and parses again, so flags given explicitly win. For ``train``,
    ``args.given`` names the options given on the command line (what ``--resume``
    compares); a preset counts as giving every option it sets."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "preset", None) is not None:
        parser.model_parsers[args.model].set_defaults(**MODELS[args.model].presets[args.preset])
        args = parser.parse_args(argv)
    if args.command == "train":
        given = vars(build_parser(explicit=True).parse_args(argv))
        args.given = {name for name, value in given.items() if value is not _NOT_GIVEN}
        if getattr(args, "preset", None) is not None:
            args.given |= set(MODELS[args.model].presets[args.preset])
    return args


def main(argv=None):
    """Run the command line ``argv`` (default sys.argv[1:]); returns the exit status."""
    args = parse_args(argv)
    from minigan.train import Interrupted, TrainingDiverged

    try:
        if not hasattr(args, "device"):  # download, list
            return COMMANDS[args.command](args)
        with _default_device(_device(args.device)):
            return COMMANDS[args.command](args)
    except TrainingDiverged as error:
        return _fail(args, error, EXIT_FAILED)
    except (UsageError, ValueError, CheckpointError, *PATH_ERRORS) as error:
        return _fail(args, error, EXIT_USAGE)
    except (RuntimeError, OSError, MemoryError) as error:
        return _fail(args, error if str(error) else type(error).__name__, EXIT_FAILED)
    except Interrupted as error:
        return _fail(args, f"{error}: stopped without saving", 128 + error.signum)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", EXIT_INTERRUPTED)


def _fail(args, error, status):
    print(f"minigan {args.command}: error: {error}", file=sys.stderr)
    return status
