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

so that a run resumed from it continues bit for bit (``minigan.train``).
"""
import os

from minigan.models import get_model
from minigan.serialization import CheckpointError, load, save

CHECKPOINT = "checkpoint.npz"
LAYOUT_VERSION = 2   # 1: minigan before the model protocol ("variant", "fixed_noise")
KEYS = ("version", "model", "state", "step", "elapsed", "rng", "loader", "preview", "meta")


def describe(model):
    """What rebuilds ``model``: its name, sample shape, classes and options."""
    return {"name": model.name, "data_shape": list(model.data_shape),
            "num_classes": model.num_classes, "config": model.config()}


def save_checkpoint(path, model, step, elapsed, rng, loader, preview, meta):
    """Write a training checkpoint (see the module docstring) to ``path``, atomically."""
    save({"version": LAYOUT_VERSION, "model": describe(model), "state": model.state_dict(),
          "step": step, "elapsed": elapsed, "rng": rng, "loader": loader,
          "preview": preview, "meta": meta}, path)


def run_dir(path):
    """The run directory of a run directory or of a checkpoint file in it."""
    path = os.fspath(path)
    return path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))


def checkpoint_file(path):
    """The checkpoint file of a run directory, or ``path`` itself when it is a file."""
    path = os.fspath(path)
    return os.path.join(path, CHECKPOINT) if os.path.isdir(path) else path


def load_checkpoint(path):
    """A training checkpoint, from a run directory or a checkpoint file (arrays on the CPU).

    Raises FileNotFoundError or CheckpointError saying what was expected and found."""
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
    return checkpoint


def build_model(checkpoint, device="cpu", load_state=True):
    """The model a checkpoint was saved from, rebuilt on ``device`` (with its trained
    weights and optimiser state unless ``load_state=False``)."""
    saved = checkpoint["model"]
    model = get_model(saved["name"])(tuple(saved["data_shape"]), saved["num_classes"],
                                     device, **saved["config"])
    if load_state:
        model.load_state_dict(checkpoint["state"])
    return model
