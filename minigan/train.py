"""The training loop every GAN variant shares: alternating updates, logs, pictures, checkpoints.

``train(variant, loader, out_dir, steps=...)`` calls ``variant.step(x, y)`` once per batch
(one discriminator update, plus a generator update every k-th step) and writes into
``out_dir``:

    log.jsonl            one JSON object per step: {"step", the losses, "elapsed"} (seconds)
    samples_XXXXXX.png   G's samples every ``sample_every`` steps, always from the same fixed
    samples.png          noise (drawn once, kept in the checkpoint), so the grids show one
                         G changing; for 2-D points a scatter over the data instead
    loss_curves.png      every loss against the step
    checkpoint.npz       everything needed to continue: models, optimisers, minigan's RNG
                         state, the loader's position, the step, the variant's name and
                         options, the fixed noise; written atomically every
                         ``checkpoint_every`` steps, at the end, and on Ctrl-C

Resuming (``resume=DIR``) restores all of that, so N steps, a resume and N more steps give
bit-identical weights and losses to 2N steps in one go. Ctrl-C finishes the current step,
saves, and returns with ``interrupted=True`` (a second Ctrl-C aborts at once; the previous
checkpoint is intact since every write is atomic). A NaN or infinite loss stops the run
with ``TrainingDiverged`` before anything is saved over the last good checkpoint.
"""
import json
import math
import os
import shutil
import signal
import time

import numpy as np
from tqdm import tqdm

from minigan import backend, memory, viz
from minigan.atomic import atomic_write
from minigan.autograd import Tensor
from minigan.gan import get_variant
from minigan.serialization import CheckpointError, load, save

CHECKPOINT = "checkpoint.npz"
LOG = "log.jsonl"
SAMPLES = "samples.png"
LOSS_CURVES = "loss_curves.png"
GRID_SIZE = 64          # samples in a grid (8 x 8); conditional variants: 8 per class
SCATTER_POINTS = 1000   # generated points in a 2-D scatter
REAL_POINTS = 2000      # real points drawn under them


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite: training cannot continue from this state."""


# ==================== the loop ====================

def train(variant, loader, out_dir, steps=None, epochs=None, sample_every=500,
          checkpoint_every=1000, log_every=1, resume=None, meta=None, modes=None,
          progress=True):
    """Train ``variant`` on ``loader``'s batches until ``steps`` steps in total (or
    ``epochs`` passes over the data), writing logs, pictures and checkpoints to ``out_dir``.

    steps counts ``variant.step`` calls (one per batch) from the start of the run, including
    those done before a resume; resume: a run directory or checkpoint file to continue
    (the variant and loader must be built as for the saved run, see ``build_variant``);
    meta: a dict saved in the checkpoint as is (the CLI keeps the data set and seed there);
    modes: (K, 2) mode centres marked on the scatter of a 2-D mixture; progress: show a
    tqdm bar with the latest losses.

    Returns {"step", "interrupted", "checkpoint", "losses"} (losses: the last step's).

    >>> import tempfile
    >>> from minigan.data import DataLoader, load_dataset
    >>> from minigan.gan.vanilla import Vanilla
    >>> data = load_dataset("ring8:256")
    >>> loader = DataLoader(data, batch_size=32, seed=0)
    >>> out = tempfile.mkdtemp()
    >>> train(Vanilla((2,)), loader, out, steps=3, progress=False)["step"]
    3
    >>> sorted(os.listdir(out))
    ['checkpoint.npz', 'log.jsonl', 'loss_curves.png', 'samples.png', 'samples_000003.png']
    >>> train(Vanilla((2,)), loader, out, steps=5, resume=out, progress=False)["step"]
    5
    """
    total = _total_steps(steps, epochs, len(loader))
    for name, every in (("sample_every", sample_every), ("checkpoint_every", checkpoint_every),
                        ("log_every", log_every)):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"{name} must be a positive int, found {every!r}")
    os.makedirs(out_dir, exist_ok=True)
    memory.keep_freed_memory()  # reuse freed arrays instead of faulting in fresh pages
    run = _Run(variant, loader, out_dir, meta, modes)
    if resume is not None:
        run.restore(resume)
    else:
        run.start()
    losses = {}
    with _StopOnCtrlC() as ctrl_c, tqdm(total=total, initial=run.step, disable=not progress,
                                        desc=variant.name, dynamic_ncols=True) as bar:
        batches = loader.batches()
        while run.step < total and not ctrl_c.requested:
            x, y = next(batches)
            losses = variant.step(x, y)
            run.step += 1
            run.check_finite(losses)
            if run.step % log_every == 0:
                run.log(losses)
            bar.update(1)
            bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
            if run.step % sample_every == 0:
                run.draw()
            if run.step % checkpoint_every == 0:
                run.save()
        if run.saved_step != run.step:
            run.save()
        if run.drawn_step != run.step:
            run.draw()
    path = os.path.join(out_dir, CHECKPOINT)
    if ctrl_c.requested:
        print(f"interrupted at step {run.step}: checkpoint saved to {path}; continue with "
              f"--resume {out_dir}", flush=True)
    return {"step": run.step, "interrupted": ctrl_c.requested, "checkpoint": path,
            "losses": losses}


def _total_steps(steps, epochs, batches_per_epoch):
    if (steps is None) == (epochs is None):
        raise ValueError(f"train: give exactly one of steps and epochs, found steps={steps} "
                         f"and epochs={epochs}")
    total = steps if steps is not None else epochs * batches_per_epoch
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise ValueError(f"train: steps and epochs must be positive ints, found "
                         f"steps={steps}, epochs={epochs}")
    return total


class _StopOnCtrlC:
    """Inside the block, the first SIGINT only sets ``requested`` (the loop then finishes
    its step and saves); a second one raises KeyboardInterrupt as usual. The previous
    handler is restored on exit. Outside the main thread signals cannot be caught, and
    Ctrl-C keeps its usual meaning."""

    def __enter__(self):
        self.requested = False
        self.installed = False
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
            self.installed = True
        except ValueError:  # not the main thread
            pass
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("Ctrl-C: finishing this step, then saving a checkpoint "
                   "(press Ctrl-C again to abort without saving)")

    def __exit__(self, *exc):
        if self.installed:
            # None: the old handler was not installed from Python; the default is closest.
            previous = signal.SIG_DFL if self.previous is None else self.previous
            signal.signal(signal.SIGINT, previous)
        return False


# ==================== one run's files ====================

class _Run:
    """The step counter, the fixed noise and the files of one run."""

    def __init__(self, variant, loader, out_dir, meta, modes):
        self.variant, self.loader, self.out_dir = variant, loader, out_dir
        self.meta, self.modes = meta or {}, modes
        self.checkpoint_path = os.path.join(out_dir, CHECKPOINT)
        self.log_path = os.path.join(out_dir, LOG)
        self.step = self.saved_step = self.drawn_step = 0
        self.last_checkpoint = None  # (path, step) of the newest checkpoint of this run
        self.history = []
        shape = tuple(loader.x.shape[1:])
        if shape != variant.data_shape:
            raise ValueError(f"the loader yields samples of shape {shape} but the variant "
                             f"{variant.name} was built for {variant.data_shape}")

    def start(self):
        self.fixed_noise, self.fixed_labels = fixed_inputs(self.variant)
        self.elapsed_before = 0.0
        self.started = time.perf_counter()
        open(self.log_path, "w").close()

    def restore(self, resume):
        checkpoint, file = load_checkpoint(resume, return_path=True)
        saved = saved_variant(checkpoint)
        mine = describe(self.variant)
        if saved != mine:
            raise ValueError(f"cannot resume {resume}: it holds {saved}, but the variant to "
                             f"train is {mine}; build it with build_variant(checkpoint)")
        self.variant.load_state_dict(checkpoint["state"])
        self.loader.load_state_dict(checkpoint["loader"])
        backend.set_rng_state(checkpoint["rng"])
        self.step = self.drawn_step = checkpoint["step"]
        self.last_checkpoint = (file, self.step)
        # Resumed into another directory, the end of the run must save there even at once.
        same_file = (os.path.exists(self.checkpoint_path)
                     and os.path.samefile(file, self.checkpoint_path))
        self.saved_step = self.step if same_file else -1
        device = self.variant.device
        self.fixed_noise = checkpoint["fixed_noise"].to(device)
        labels = checkpoint["fixed_labels"]
        self.fixed_labels = None if labels is None else labels.to(device)
        self.elapsed_before = checkpoint["elapsed"]
        self.started = time.perf_counter()
        # Steps logged after the checkpoint was written are done again: drop them.
        old_log = os.path.join(run_dir(resume), LOG)
        self.history = [r for r in read_log(old_log) if r["step"] <= self.step] \
            if os.path.exists(old_log) else []
        with open(self.log_path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in self.history)

    def elapsed(self):
        return self.elapsed_before + time.perf_counter() - self.started

    def check_finite(self, losses):
        for name, value in losses.items():
            if not math.isfinite(value):
                last = ("the last good checkpoint, {} (step {}), is kept".format(
                    *self.last_checkpoint) if self.last_checkpoint else "no checkpoint was saved")
                raise TrainingDiverged(
                    f"step {self.step}: loss {name!r} is {value} (expected a finite number); "
                    f"training stopped: {last}. A lower learning rate may help.")

    def log(self, losses):
        record = {"step": self.step, **losses, "elapsed": round(self.elapsed(), 3)}
        self.history.append(record)
        with open(self.log_path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def draw(self):
        """The sample picture of this step, and the loss curves."""
        samples = self.variant.sample(self.fixed_noise, self.fixed_labels).numpy()
        path = os.path.join(self.out_dir, f"samples_{self.step:06d}.png")
        title = f"{self.variant.name}, step {self.step}"
        if self.variant.data_kind == "points":
            viz.save_scatter_2d(samples, path, data=self.loader.x[:REAL_POINTS],
                                modes=self.modes, title=title)
        elif self.fixed_labels is not None:
            rows = [str(c) for c in range(self.variant.num_classes)]
            viz.save_image_grid(samples, path, nrow=len(samples) // len(rows), title=title,
                                row_labels=rows)
        else:
            viz.save_image_grid(samples, path, title=title)
        _copy_atomically(path, os.path.join(self.out_dir, SAMPLES))
        losses = [{k: v for k, v in r.items() if k not in ("step", "elapsed")}
                  for r in self.history]
        if losses:
            viz.save_loss_curves(losses, os.path.join(self.out_dir, LOSS_CURVES),
                                 smooth=max(1, min(50, len(losses) // 20)),
                                 title=f"{self.variant.name} losses")
        self.drawn_step = self.step

    def save(self):
        save({"variant": describe(self.variant), "state": self.variant.state_dict(),
              "step": self.step, "elapsed": self.elapsed(), "rng": backend.get_rng_state(),
              "loader": self.loader.state_dict(), "fixed_noise": self.fixed_noise,
              "fixed_labels": self.fixed_labels, "meta": self.meta},
             self.checkpoint_path)
        self.saved_step = self.step
        self.last_checkpoint = (self.checkpoint_path, self.step)


def fixed_inputs(variant):
    """The noise (and labels) every sample picture of a run is drawn from: GRID_SIZE
    latents, or 8 per class, in class order, for a conditional variant."""
    if variant.data_kind == "points":
        return variant.noise(SCATTER_POINTS), None
    if not variant.conditional:
        return variant.noise(GRID_SIZE), None
    labels = np.repeat(np.arange(variant.num_classes), 8)  # (C*8,): 0 0 .. 0 1 1 .. 1 ..
    return variant.noise(len(labels)), Tensor(backend.to_device(labels, variant.device))


def _copy_atomically(source, target):
    with open(source, "rb") as src, atomic_write(target) as dst:
        shutil.copyfileobj(src, dst)


def read_log(path):
    """The records of a log.jsonl, in order."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# ==================== checkpoints ====================

def describe(variant):
    """What rebuilds ``variant``: its name, sample shape, classes and options."""
    return {"name": variant.name, "data_shape": list(variant.data_shape),
            "num_classes": variant.num_classes, "config": variant.config()}


def saved_variant(checkpoint):
    """A checkpoint's ``describe`` of its variant in today's terms: options the variant
    gained after the checkpoint was written (``d_width``) hold the values the older minigan
    built with (``upgrade_config``), so a run saved by an older minigan still resumes."""
    saved = checkpoint["variant"]
    config = get_variant(saved["name"]).upgrade_config(saved["config"], saved["data_shape"])
    return {**saved, "config": config}


def run_dir(path):
    """The run directory of a run directory or of a checkpoint file in it."""
    return path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))


def load_checkpoint(path, return_path=False):
    """A training checkpoint, from a run directory or a checkpoint.npz (arrays on the CPU);
    with ``return_path``, also the file it was read from.

    Raises FileNotFoundError or CheckpointError saying what was expected and found."""
    path = os.fspath(path)
    file = os.path.join(path, CHECKPOINT) if os.path.isdir(path) else path
    if not os.path.exists(file):
        where = (f"the directory {path!r} has no {CHECKPOINT}" if os.path.isdir(path)
                 else f"{path!r} does not exist")
        raise FileNotFoundError(f"expected a run directory or a {CHECKPOINT} file: {where}")
    checkpoint = load(file, device="cpu")
    required = ("variant", "state", "step", "rng", "loader", "fixed_noise", "elapsed")
    missing = [key for key in required if not isinstance(checkpoint, dict)
               or key not in checkpoint]
    if missing:
        raise CheckpointError(f"{file!r} is a minigan file but not a training checkpoint: "
                              f"it lacks {', '.join(missing)}")
    return (checkpoint, file) if return_path else checkpoint


def build_variant(checkpoint, device="cpu", load_state=True):
    """The variant a checkpoint was saved from, rebuilt on ``device`` (with its trained
    weights and optimiser state unless ``load_state=False``)."""
    saved = saved_variant(checkpoint)
    cls = get_variant(saved["name"])
    variant = cls(tuple(saved["data_shape"]), saved["num_classes"], device, **saved["config"])
    if load_state:
        variant.load_state_dict(checkpoint["state"])
    return variant

