"""Training checkpoints: what one holds, how it is written, read back and rebuilt.

A checkpoint (``checkpoint.npz`` in a run directory, written by ``minigan.serialization``,
so never pickle and always atomic) is one dict:

    version      LAYOUT_VERSION, the layout below; another version is refused
    model        {"name", "data_shape", "num_classes", "config"}: what rebuilds the model
    state        the model's ``state_dict()``: networks, optimisers, counters
    step         training steps done; elapsed: seconds spent on them
    rng          minigan's random generator; loader: the batch loader's position
    preview      the fixed inputs every picture of the run is drawn from
    meta         what the caller keeps with the run (the CLI: data set, batch size, seed)
    run          a random id drawn when the run started, kept by every resume: which
                 checkpoints belong to the same run (absent from files written before it)

so that a run resumed from it continues bit for bit (``minigan.train``).

Reading one checks all of it: the types and ranges of every entry (a step that is not an
int, a negative counter, a loader position missing), and that every weight and optimiser
moment is a finite float. A damaged file is one line, ``corrupt checkpoint 'PATH': what``,
never a traceback from deep inside NumPy; non-finite weights say that the run diverged.
Writing one refuses non-finite state, so a diverged model never replaces a good file.
"""
import math
import os

from minigan import backend
from minigan.autograd import Tensor
from minigan.models import get_model
from minigan.serialization import CheckpointError, corrupt, load, save

CHECKPOINT = "checkpoint.npz"
LAYOUT_VERSION = 2   # 1: minigan before the model protocol ("variant", "fixed_noise")
KEYS = ("version", "model", "state", "step", "elapsed", "rng", "loader", "preview", "meta")
LOADER_KEYS = {"seed": 0, "epoch": 0, "position": 0, "num_samples": 1, "batch_size": 1}


class Checkpoint(dict):
    """A training checkpoint as read by ``load_checkpoint``: the dict of the module
    docstring, and ``path``, the file it was read from."""
    path = None


class NonFiniteState(CheckpointError):
    """Weights or optimiser moments that are NaN or infinite: the run had diverged."""


def describe(model):
    """What rebuilds ``model``: its name, sample shape, classes and options."""
    return {"name": model.name, "data_shape": list(model.data_shape),
            "num_classes": model.num_classes, "config": model.config()}


def save_checkpoint(path, model, step, elapsed, rng, loader, preview, meta, run=None,
                    state=None):
    """Write a training checkpoint (see the module docstring) to ``path``, atomically.

    state: ``model.state_dict()`` when the caller already has it. Raises NonFiniteState,
    writing nothing, when a weight or optimiser moment is not finite."""
    state = model.state_dict() if state is None else state
    bad = find_nonfinite(state)
    if bad:
        raise NonFiniteState(f"{os.fspath(path)!r} not written: {bad}")
    checkpoint = {"version": LAYOUT_VERSION, "model": describe(model), "state": state,
                  "step": step, "elapsed": elapsed, "rng": rng, "loader": loader,
                  "preview": preview, "meta": meta}
    if run is not None:
        checkpoint["run"] = run
    save(checkpoint, path)


def find_nonfinite(state):
    """None when every float array of a model's ``state_dict()`` is finite, else what the
    first bad one is, e.g. "network G's 0.weight holds 3 inf"."""
    for where, value in _arrays(state):
        data = value.data
        xp = backend.get_array_module(data)
        if data.dtype.kind in "fc" and not bool(xp.isfinite(data).all()):
            nan = int(xp.isnan(data).sum())
            inf = int(data.size - nan - int(xp.isfinite(data).sum()))
            what = " and ".join(f"{n} {name}" for n, name in ((nan, "nan"), (inf, "inf")) if n)
            return f"{where} holds {what} (of {data.size} values)"
    return None


def _arrays(state):
    """(where, Tensor) of every array of a model state: network weights and buffers,
    optimiser moments."""
    for name, network in state["networks"].items():
        for key, value in network.items():
            yield f"network {name}'s {key}", value
    for name, optimizer in state["optimizers"].items():
        for index, entries in optimizer["state"].items():
            for key, value in entries.items():
                if isinstance(value, Tensor):
                    yield f"the optimizer of {name}'s {key} of parameter {index}", value


def run_dir(path):
    """The run directory of a run directory or of a checkpoint file in it."""
    path = os.fspath(path)
    return path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))


def checkpoint_file(path):
    """The checkpoint file of a run directory, or ``path`` itself when it is a file."""
    path = os.fspath(path)
    return os.path.join(path, CHECKPOINT) if os.path.isdir(path) else path


def load_checkpoint(path):
    """A training checkpoint, from a run directory or a checkpoint file (arrays on the CPU),
    checked entry by entry (see the module docstring): a ``Checkpoint``.

    Raises FileNotFoundError, or CheckpointError saying what was expected and found
    (NonFiniteState for NaN or infinite weights)."""
    file = checkpoint_file(path)
    if not os.path.exists(file):
        where = (f"the directory {os.fspath(path)!r} has no {CHECKPOINT}"
                 if os.path.isdir(path) else f"{os.fspath(path)!r} does not exist")
        raise FileNotFoundError(f"expected a run directory or a {CHECKPOINT} file: {where}")
    checkpoint = load(file, device="cpu")
    if not isinstance(checkpoint, dict) or "version" not in checkpoint:
        old = isinstance(checkpoint, dict) and "variant" in checkpoint
        raise CheckpointError(
            f"{file!r} is a minigan file but not a training checkpoint of this minigan"
            + (f": it was written before the model protocol (layout 1); this minigan reads "
               f"layout {LAYOUT_VERSION}" if old else ""))
    if checkpoint["version"] != LAYOUT_VERSION:
        raise CheckpointError(f"{file!r}: training checkpoint layout "
                              f"{checkpoint['version']!r} is not supported (this minigan reads "
                              f"layout {LAYOUT_VERSION})")
    missing = [key for key in KEYS if key not in checkpoint]
    if missing:
        raise CheckpointError(f"{file!r} is not a complete training checkpoint: it lacks "
                              f"{', '.join(missing)}")
    problem = _layout_problem(checkpoint)
    if problem:
        raise corrupt(file, problem)
    bad = find_nonfinite(checkpoint["state"])
    if bad:
        raise NonFiniteState(f"checkpoint {file!r} (step {checkpoint['step']}): {bad}: the "
                             "run had diverged when it was saved; use an earlier checkpoint, "
                             "or train again with a lower learning rate")
    checkpoint = Checkpoint(checkpoint)
    checkpoint.path = file
    return checkpoint


# ==================== what a checkpoint's entries must be ====================

def _is_count(value, least=0):
    return type(value) is int and value >= least  # not a bool, a float or a string


def _layout_problem(checkpoint):
    """None if every entry has the type and range the layout says, else the first
    problem, in words."""
    step, elapsed = checkpoint["step"], checkpoint["elapsed"]
    if not _is_count(step):
        return f"step is {step!r}, expected an int >= 0"
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) \
            or not math.isfinite(elapsed) or elapsed < 0:
        return f"elapsed is {elapsed!r}, expected a number of seconds >= 0"
    if "run" in checkpoint and not isinstance(checkpoint["run"], str):
        return f"run is {checkpoint['run']!r}, expected a string"
    for check in (_model_problem, _state_problem, _rng_problem, _loader_problem):
        problem = check(checkpoint)
        if problem:
            return problem
    for key in ("preview", "meta"):
        if not isinstance(checkpoint[key], dict):
            return f"{key} is a {type(checkpoint[key]).__name__}, expected a dict"
    return None


def _model_problem(checkpoint):
    model = checkpoint["model"]
    if not isinstance(model, dict) or set(model) != {"name", "data_shape", "num_classes",
                                                     "config"}:
        return (f"model is {model!r}, expected a dict of name, data_shape, num_classes "
                "and config")
    shape, classes = model["data_shape"], model["num_classes"]
    if not isinstance(model["name"], str):
        return f"model name is {model['name']!r}, expected a string"
    if not isinstance(shape, list) or len(shape) not in (1, 3) \
            or not all(_is_count(n, 1) for n in shape):
        return f"model data_shape is {shape!r}, expected [C, H, W] or [D] of ints >= 1"
    if classes is not None and not _is_count(classes, 1):
        return f"model num_classes is {classes!r}, expected None or an int >= 1"
    if not isinstance(model["config"], dict):
        return f"model config is {model['config']!r}, expected a dict"
    return None


def _state_problem(checkpoint):
    state = checkpoint["state"]
    groups = ("networks", "optimizers", "counters")   # a model may keep more (its own)
    if not isinstance(state, dict) or not all(isinstance(state.get(g), dict) for g in groups):
        return "state is not a dict of networks, optimizers and counters"
    for name, value in state["counters"].items():
        if not _is_count(value):
            return f"counter {name} is {value!r}, expected an int >= 0"
    for name, network in state["networks"].items():
        if not isinstance(network, dict) or not all(isinstance(v, Tensor)
                                                    for v in network.values()):
            return f"network {name} is not a dict of arrays"
    for name, optimizer in state["optimizers"].items():
        if not isinstance(optimizer, dict) or not isinstance(optimizer.get("state"), dict) \
                or not isinstance(optimizer.get("param_groups"), list):
            return f"the optimizer of {name} lacks its state or param_groups"
        for index, entries in optimizer["state"].items():
            if not isinstance(entries, dict):
                return f"the optimizer of {name}: the state of parameter {index} is not a dict"
            for key, value in entries.items():
                if isinstance(value, Tensor):
                    if value.data.dtype.kind != "f":
                        return (f"the optimizer of {name}: {key} of parameter {index} is "
                                f"{value.data.dtype}, expected floats")
                elif key == "step" and not _is_count(value):
                    return (f"the optimizer of {name}: step of parameter {index} is "
                            f"{value!r}, expected an int >= 0")
    return None


def _rng_problem(checkpoint):
    rng = checkpoint["rng"]
    try:
        if int(rng["state"]) < 0 or int(rng["inc"]) < 0 or not isinstance(rng["state"], str) \
                or rng["has_uint32"] not in (0, 1) or not _is_count(rng["uinteger"]):
            raise ValueError
    except (ValueError, TypeError, KeyError):
        return f"rng is {rng!r}, expected the state of a PCG64 generator"
    return None


def _loader_problem(checkpoint):
    loader = checkpoint["loader"]
    if not isinstance(loader, dict):
        return f"loader is {loader!r}, expected a dict"
    for key, least in LOADER_KEYS.items():
        if key not in loader:
            return f"the loader state lacks {key!r} (it has {', '.join(map(str, loader))})"
        if not _is_count(loader[key], least):
            return f"the loader's {key} is {loader[key]!r}, expected an int >= {least}"
    return None


# ==================== rebuilding the model ====================

def build_model(checkpoint, device="cpu", load_state=True):
    """The model a checkpoint was saved from, rebuilt on ``device`` (with its trained
    weights and optimiser state unless ``load_state=False``). A description or state that
    does not make that model is a CheckpointError naming the network and entry."""
    device = backend.check_device(device)
    where = getattr(checkpoint, "path", None)
    saved = checkpoint["model"]
    try:
        cls = get_model(saved["name"])
    except ValueError as error:
        raise CheckpointError(f"{where or 'checkpoint'}: {error}") from error
    try:
        model = cls(tuple(saved["data_shape"]), saved["num_classes"], device,
                    **saved["config"])
    except (ValueError, TypeError) as error:
        raise corrupt(where, f"its model description does not build a model: {error}") \
            from error
    if load_state:
        restore_state(model, checkpoint["state"], where)
    return model


def restore_state(model, state, where=None):
    """``model.load_state_dict(state)``, then a check that every saved array of its
    networks had the kind (float or int) of the model's own: a CheckpointError naming the
    network and entry otherwise (an int64 weight is refused, not silently cast). The check
    comes after the load because a model may grow to its saved shape while it loads
    (a progressive GAN); the model is not used when it fails."""
    try:
        model.load_state_dict(state)
    except (ValueError, KeyError, TypeError, IndexError, RuntimeError) as error:
        raise corrupt(where, f"its state does not fit the model: {error}") from error
    mine = model.state_dict()["networks"]
    for name, saved in state["networks"].items():
        for key, value in saved.items():
            own = mine[name][key]
            if value.data.dtype.kind != own.data.dtype.kind:
                raise corrupt(where, f"network {name} of {model.name}: {key} is "
                                     f"{value.data.dtype} {value.shape} in the checkpoint, "
                                     f"the model's is {own.data.dtype} {own.shape}")
