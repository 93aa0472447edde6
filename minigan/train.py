"""The training loop every model shares: steps, logs, pictures, checkpoints.

``train(model, loader, out_dir, steps=...)`` calls ``model.step(batch)`` once per batch
and writes into ``out_dir``:

    log.jsonl            one JSON object per step: {"step", the losses, "elapsed"} (seconds)
    samples_XXXXXX.png   the model's picture every ``sample_every`` steps (``preview``),
    samples.png          always from the same fixed inputs (drawn once, kept in the
                         checkpoint), so the pictures show one model changing
    loss_curves.png      every loss against the step
    checkpoint.npz       everything needed to continue (``minigan.checkpoint``): networks,
                         optimisers, minigan's RNG state, the loader's position, the step,
                         the model's name and options, the preview inputs; written
                         atomically every ``checkpoint_every`` steps, at the end, and on
                         Ctrl-C

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

from tqdm import tqdm

from minigan import backend, memory, viz
from minigan.atomic import atomic_write
from minigan.autograd import Tensor
from minigan.checkpoint import (CHECKPOINT, checkpoint_file, describe, load_checkpoint,
                                run_dir, save_checkpoint)

LOG = "log.jsonl"
SAMPLES = "samples.png"
LOSS_CURVES = "loss_curves.png"


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite: training cannot continue from this state."""


# ==================== the loop ====================

def train(model, loader, out_dir, steps=None, epochs=None, sample_every=500,
          checkpoint_every=1000, log_every=1, resume=None, meta=None, progress=True):
    """Train ``model`` on ``loader``'s batches until ``steps`` steps in total (or
    ``epochs`` passes over the data), writing logs, pictures and checkpoints to ``out_dir``.

    steps counts ``model.step`` calls (one per batch) from the start of the run, including
    those done before a resume; resume: a run directory or checkpoint file to continue
    (the model and loader must be built as for the saved run, see
    ``checkpoint.build_model``); meta: a dict saved in the checkpoint as is (the CLI keeps
    the data set and seed there); progress: show a tqdm bar with the latest losses.

    Returns {"step", "interrupted", "checkpoint", "losses"} (losses: the last step's).

    >>> import tempfile
    >>> from minigan.data import DataLoader, load_dataset
    >>> from minigan.models.vanilla import Vanilla
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
    run = _Run(model, loader, out_dir, meta)
    if resume is not None:
        run.restore(resume)
    else:
        run.start()
    losses = {}
    with _StopOnCtrlC() as ctrl_c, tqdm(total=total, initial=run.step, disable=not progress,
                                        desc=model.name, dynamic_ncols=True) as bar:
        batches = loader.batches()
        while run.step < total and not ctrl_c.requested:
            losses = model.step(next(batches))
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
    """The step counter, the preview inputs and the files of one run."""

    def __init__(self, model, loader, out_dir, meta):
        self.model, self.loader, self.out_dir, self.meta = model, loader, out_dir, meta or {}
        self.checkpoint_path = os.path.join(out_dir, CHECKPOINT)
        self.log_path = os.path.join(out_dir, LOG)
        self.step = self.saved_step = self.drawn_step = 0
        self.last_checkpoint = None  # (path, step) of the newest checkpoint of this run
        self.history = []
        model.check_data(loader.dataset)

    def start(self):
        self.preview_inputs = self.model.preview_inputs(self.loader.dataset)
        self.elapsed_before = 0.0
        self.started = time.perf_counter()
        open(self.log_path, "w").close()

    def restore(self, resume):
        checkpoint, file = load_checkpoint(resume), checkpoint_file(resume)
        mine = describe(self.model)
        if checkpoint["model"] != mine:
            raise ValueError(f"cannot resume {resume}: it holds {checkpoint['model']}, but the "
                             f"model to train is {mine}; build it with "
                             "checkpoint.build_model(checkpoint)")
        self.model.load_state_dict(checkpoint["state"])
        self.loader.load_state_dict(checkpoint["loader"])
        backend.set_rng_state(checkpoint["rng"])
        self.step = self.drawn_step = checkpoint["step"]
        self.last_checkpoint = (file, self.step)
        # Resumed into another directory, the end of the run must save there even at once.
        same_file = (os.path.exists(self.checkpoint_path)
                     and os.path.samefile(file, self.checkpoint_path))
        self.saved_step = self.step if same_file else -1
        self.preview_inputs = _to_device(checkpoint["preview"], self.model.device)
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
        """The model's picture of this step, and the loss curves."""
        path = os.path.join(self.out_dir, f"samples_{self.step:06d}.png")
        self.model.preview(path, self.preview_inputs, title=f"{self.model.name}, step "
                                                           f"{self.step}")
        _copy_atomically(path, os.path.join(self.out_dir, SAMPLES))
        losses = [{k: v for k, v in r.items() if k not in ("step", "elapsed")}
                  for r in self.history]
        if losses:
            viz.save_loss_curves(losses, os.path.join(self.out_dir, LOSS_CURVES),
                                 smooth=max(1, min(50, len(losses) // 20)),
                                 title=f"{self.model.name} losses")
        self.drawn_step = self.step

    def save(self):
        save_checkpoint(self.checkpoint_path, self.model, self.step, self.elapsed(),
                        backend.get_rng_state(), self.loader.state_dict(),
                        self.preview_inputs, self.meta)
        self.saved_step = self.step
        self.last_checkpoint = (self.checkpoint_path, self.step)


def _to_device(inputs, device):
    """The preview inputs of a checkpoint (read on the CPU) with their Tensors on
    ``device``; arrays and other values as they are."""
    return {name: value.to(device) if isinstance(value, Tensor) else value
            for name, value in inputs.items()}


def _copy_atomically(source, target):
    with open(source, "rb") as src, atomic_write(target) as dst:
        shutil.copyfileobj(src, dst)


def read_log(path):
    """The records of a log.jsonl, in order."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
