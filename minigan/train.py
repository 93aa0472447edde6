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
                         the model's name and options, the preview inputs, the run's id;
                         written atomically every ``checkpoint_every`` steps, at the end,
                         and on Ctrl-C or SIGTERM

A run never destroys another one's files. A new run starts only in a directory without
run files (those above, and ``grid.png`` of ``minigan sample``); ``overwrite=True`` first
deletes them (only them), so no picture of the old run is left to be taken for the new
one's. Resuming (``resume=DIR`` or a checkpoint file) writes only into a directory that
holds no run, or holds this very checkpoint (or a copy of it: the same run, the same
step); anything else, such as an older copy of a checkpoint that would rewind its run, is
a ``RunExists`` error unless ``overwrite=True``. Temporary files a killed save left
behind are removed at the start.

Resuming restores all of the state, so N steps, a resume and N more steps give
bit-identical weights and losses to 2N steps in one go. The log is carried over up to the
checkpoint's step; a last line torn by a crash mid-write is dropped (and said so), a
damaged line before it is an error. Ctrl-C or SIGTERM (``kill``, ``timeout``, ``docker
stop``, a cluster scheduler) finishes the current step, saves, and returns with
``interrupted=True`` and the signal's name (a second signal aborts at once; the previous
checkpoint is intact since every write is atomic). A NaN or infinite loss, or weights or
optimiser moments that are no longer finite when a checkpoint is due, stop the run with
``TrainingDiverged`` before anything is saved over the last good checkpoint.
"""
import json
import math
import os
import re
import shutil
import signal
import sys
import time
import uuid

from tqdm import tqdm

from minigan import backend, memory, viz
from minigan.atomic import atomic_write
from minigan.autograd import Tensor
from minigan.checkpoint import (CHECKPOINT, describe, find_nonfinite, load_checkpoint,
                                restore_state, run_dir, save_checkpoint)
from minigan.serialization import CheckpointError
from minigan.threads import check_threads, training_threads

LOG = "log.jsonl"
SAMPLES = "samples.png"
LOSS_CURVES = "loss_curves.png"
SAMPLE_GRID = "grid.png"  # what `minigan sample RUN` writes into the run by default
_RUN_NAMES = "|".join(re.escape(name) for name in (CHECKPOINT, LOG, SAMPLES, LOSS_CURVES,
                                                    SAMPLE_GRID)) + r"|samples_\d{6,}\.png"
RUN_FILE = re.compile(rf"^(?:{_RUN_NAMES})$")
# minigan.atomic's temporary files: ".NAME.<32 hex digits>.tmp"
TEMP_FILE = re.compile(rf"^\.(?:{_RUN_NAMES})\.[0-9a-f]{{32}}\.tmp$")
SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class TrainingDiverged(FloatingPointError):
    """A loss, a weight or an optimiser moment became NaN or infinite: training cannot
    continue from this state."""


class RunExists(ValueError):
    """``out_dir`` holds files that the requested run would delete or replace.

    directory: the directory; holds: what it holds, in words; action: what was asked
    (``"starting a new run"``, ``"resuming X (step N)"``); resumable: whether it holds a
    checkpoint that could be resumed instead."""

    def __init__(self, directory, holds, action, resumable):
        self.directory, self.holds, self.action, self.resumable = (directory, holds, action,
                                                                   resumable)
        super().__init__(f"{directory} already holds {holds}: {action} there would replace "
                         "it; pass overwrite=True to delete it first, or write elsewhere")


class Interrupted(KeyboardInterrupt):
    """A second Ctrl-C or SIGTERM during training: stop at once, without saving."""

    def __init__(self, signum):
        super().__init__(SIGNALS.get(signum, signum))
        self.signum = signum


# ==================== the loop ====================

def train(model, loader, out_dir, steps=None, epochs=None, sample_every=500,
          checkpoint_every=1000, log_every=1, resume=None, meta=None, progress=True,
          overwrite=False, threads="auto"):
    """Train ``model`` on ``loader``'s batches until ``steps`` steps in total (or
    ``epochs`` passes over the data), writing logs, pictures and checkpoints to ``out_dir``.

    steps counts ``model.step`` calls (one per batch) from the start of the run, including
    those done before a resume; resume: a run directory or checkpoint file to continue
    (the model and loader must be built as for the saved run, see
    ``checkpoint.build_model``); meta: a dict saved in the checkpoint as is (the CLI keeps
    the data set and seed there); progress: True for a tqdm bar with the latest losses,
    False for nothing, a number of seconds for one plain line (step, losses, it/s, ETA) on
    stderr that often, for logs that are not a terminal; overwrite: delete the run files
    ``out_dir`` holds instead of refusing (see the module docstring); threads: the BLAS
    threads of the loop, "auto" (``minigan.threads``: every CPU while they are idle, fewer
    while other processes compete for them) or a fixed count (bit-for-bit reproducible
    whatever the machine's load).

    Returns {"step", "interrupted", "signal", "checkpoint", "losses"} (signal: "Ctrl-C" or
    "SIGTERM" when interrupted, else None; losses: the last step's).

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
    if not isinstance(progress, (bool, int, float)) or (
            not isinstance(progress, bool) and not progress > 0):
        raise ValueError(f"progress must be True, False or a number of seconds > 0, found "
                         f"{progress!r}")
    check_threads(threads)
    os.makedirs(out_dir, exist_ok=True)
    memory.keep_freed_memory()  # reuse freed arrays instead of faulting in fresh pages
    run = _Run(model, loader, out_dir, meta)
    if resume is not None:
        run.restore(resume, overwrite)
    else:
        run.start(overwrite)
    losses = {}
    with _StopOnSignals() as stop, training_threads(threads, tqdm.write) as policy, \
            _Progress(progress, total, run.step, model.name) as report:
        batches = loader.batches()
        while run.step < total and not stop.signal:
            batch = next(batches)
            started = time.perf_counter()
            losses = model.step(batch)
            policy.observe(time.perf_counter() - started)
            run.step += 1
            run.check_finite(losses)
            if run.step % log_every == 0:
                run.log(losses)
            report.update(run.step, losses)
            if run.step % sample_every == 0:
                run.draw()
            if run.step % checkpoint_every == 0:
                run.save()
        report.finish(run.step, losses)
        if run.saved_step != run.step:
            run.save()
        if run.drawn_step != run.step:
            run.draw()
    path = os.path.join(out_dir, CHECKPOINT)
    if stop.signal:
        by = "" if stop.signal == signal.SIGINT else f" by {SIGNALS[stop.signal]}"
        print(f"interrupted at step {run.step}{by}: checkpoint saved to {path}; continue "
              f"with --resume {out_dir}", flush=True)
    return {"step": run.step, "interrupted": bool(stop.signal),
            "signal": SIGNALS.get(stop.signal), "checkpoint": path, "losses": losses}


def _total_steps(steps, epochs, batches_per_epoch):
    if (steps is None) == (epochs is None):
        raise ValueError(f"train: give exactly one of steps and epochs, found steps={steps} "
                         f"and epochs={epochs}")
    total = steps if steps is not None else epochs * batches_per_epoch
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise ValueError(f"train: steps and epochs must be positive ints, found "
                         f"steps={steps}, epochs={epochs}")
    return total


class _StopOnSignals:
    """Inside the block, a first SIGINT (Ctrl-C) or SIGTERM only sets ``signal`` (the loop
    then finishes its step and saves); a second one raises ``Interrupted``. The previous
    handlers are restored on exit. Outside the main thread signals cannot be caught, and
    both keep their usual meaning."""

    def __enter__(self):
        self.signal = None
        self.previous = {}
        for signum in SIGNALS:
            try:
                self.previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum, frame):
        if self.signal:
            raise Interrupted(signum)
        self.signal = signum
        tqdm.write(f"{SIGNALS[signum]}: finishing this step, then saving a checkpoint "
                   f"(a second {SIGNALS[signum]} aborts without saving)")

    def __exit__(self, *exc):
        for signum, previous in self.previous.items():
            # None: the old handler was not installed from Python; the default is closest.
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
        return False


class _Progress:
    """What the run shows while it trains: a tqdm bar (``progress=True``), nothing
    (False), or, every ``progress`` seconds, one plain line on stderr (step, losses,
    it/s, ETA) for output that is not a terminal (a log file, a cluster job)."""

    def __init__(self, progress, total, initial, name):
        self.total, self.name, self.initial = total, name, initial
        self.bar = (tqdm(total=total, initial=initial, desc=name, dynamic_ncols=True)
                    if progress is True else None)
        self.every = None if isinstance(progress, bool) else float(progress)
        self.started = self.printed = time.perf_counter()
        self.printed_step = initial

    def __enter__(self):
        return self

    def update(self, step, losses):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
        elif self.every is not None and time.perf_counter() - self.printed >= self.every:
            self.line(step, losses)

    def finish(self, step, losses):
        """The last line, when steps were done since the previous one."""
        if self.every is not None and step > self.printed_step:
            self.line(step, losses)

    def line(self, step, losses):
        now = time.perf_counter()
        rate = (step - self.initial) / max(now - self.started, 1e-9)
        left = (self.total - step) / rate if rate > 0 else float("inf")
        eta = time.strftime("%H:%M:%S", time.gmtime(left)) if math.isfinite(left) else "?"
        values = "  ".join(f"{k} {v:.4g}" for k, v in losses.items())
        print(f"{self.name} step {step}/{self.total}  {values}  {rate:.2f} it/s  ETA {eta}",
              file=sys.stderr, flush=True)
        self.printed, self.printed_step = now, step

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
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

    def start(self, overwrite):
        found = run_files(self.out_dir)
        if found and not overwrite:
            raise RunExists(self.out_dir, _holding(self.out_dir, found), "starting a new run",
                            CHECKPOINT in found)
        clear_run(self.out_dir)
        self.run_id = uuid.uuid4().hex
        self.preview_inputs = self.model.preview_inputs(self.loader.dataset)
        self.elapsed_before = 0.0
        self.started = time.perf_counter()
        open(self.log_path, "w").close()

    def restore(self, resume, overwrite):
        checkpoint = load_checkpoint(resume)
        file = checkpoint.path
        mine = describe(self.model)
        if checkpoint["model"] != mine:
            raise ValueError(f"cannot resume {resume}: it holds {checkpoint['model']}, but the "
                             f"model to train is {mine}; build it with "
                             "checkpoint.build_model(checkpoint)")
        restore_state(self.model, checkpoint["state"], file)
        history, note = _history(checkpoint)  # read before anything in out_dir is deleted
        same = self._check_destination(checkpoint, overwrite)
        clear_run(self.out_dir, keep=file, temporary_only=same)
        self.loader.load_state_dict(checkpoint["loader"])
        backend.set_rng_state(checkpoint["rng"])
        self.step = self.drawn_step = checkpoint["step"]
        self.run_id = checkpoint.get("run") or uuid.uuid4().hex
        self.last_checkpoint = (file, self.step)
        # Resumed into another directory, the end of the run must save there even at once.
        self.saved_step = self.step if _same_file(file, self.checkpoint_path) else -1
        self.preview_inputs = _to_device(checkpoint["preview"], self.model.device)
        self.elapsed_before = checkpoint["elapsed"]
        self.started = time.perf_counter()
        if note:
            tqdm.write(note)
        self.history = history
        with open(self.log_path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in self.history)

    def _check_destination(self, checkpoint, overwrite):
        """True when out_dir holds this very run (the checkpoint resumed, or a copy of it
        at the same step); True or False when it holds nothing of a run (False: clear
        what is there); a RunExists error for anything else unless ``overwrite``."""
        found = run_files(self.out_dir)
        if not found:
            return False
        if os.path.exists(self.checkpoint_path):
            if _same_file(checkpoint.path, self.checkpoint_path):
                return True
            other = _peek(self.checkpoint_path)
            if (other is not None and checkpoint.get("run") is not None
                    and other.get("run") == checkpoint.get("run")
                    and other["step"] == checkpoint["step"]):
                return True
        if not overwrite:
            raise RunExists(self.out_dir, _holding(self.out_dir, found),
                            f"resuming {checkpoint.path} (step {checkpoint['step']})",
                            CHECKPOINT in found)
        return False

    def elapsed(self):
        return self.elapsed_before + time.perf_counter() - self.started

    def _kept(self):
        return ("the last good checkpoint, {} (step {}), is kept".format(*self.last_checkpoint)
                if self.last_checkpoint else "no checkpoint was saved")

    def check_finite(self, losses):
        for name, value in losses.items():
            if not math.isfinite(value):
                raise TrainingDiverged(
                    f"step {self.step}: loss {name!r} is {value} (expected a finite number); "
                    f"training stopped: {self._kept()}. A lower learning rate may help.")

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
        """Write the checkpoint, unless a weight or optimiser moment is not finite: then
        TrainingDiverged, and the last good checkpoint stays."""
        state = self.model.state_dict()
        bad = find_nonfinite(state)
        if bad:
            raise TrainingDiverged(
                f"step {self.step}: {bad} (expected finite numbers, although the losses "
                f"were); training stopped without saving them: {self._kept()}. A lower "
                "learning rate may help.")
        save_checkpoint(self.checkpoint_path, self.model, self.step, self.elapsed(),
                        backend.get_rng_state(), self.loader.state_dict(),
                        self.preview_inputs, self.meta, run=self.run_id, state=state)
        self.saved_step = self.step
        self.last_checkpoint = (self.checkpoint_path, self.step)


# ==================== run directories ====================

def run_files(directory):
    """The names of the run files (see the module docstring) in ``directory``, sorted."""
    if not os.path.isdir(directory):
        return []
    return sorted(name for name in os.listdir(directory) if RUN_FILE.match(name)
                  and os.path.isfile(os.path.join(directory, name)))


def clear_run(directory, keep=None, temporary_only=False):
    """Delete the run files of ``directory`` (only the temporary files a killed save
    left, with ``temporary_only``), except the file ``keep``. Other files stay."""
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if (TEMP_FILE.match(name) or (not temporary_only and RUN_FILE.match(name))) \
                and os.path.isfile(path) and not (keep and _same_file(path, keep)):
            os.remove(path)


def _same_file(a, b):
    return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def _peek(path):
    """The checkpoint at ``path``, or None when it cannot be read."""
    try:
        return load_checkpoint(path)
    except (CheckpointError, OSError):
        return None


def _holding(directory, found):
    """What the run files ``found`` in ``directory`` are, in words."""
    if CHECKPOINT in found:
        other = _peek(os.path.join(directory, CHECKPOINT))
        if other is not None:
            return f"a {other['model']['name']} run at step {other['step']} ({CHECKPOINT})"
        return f"a {CHECKPOINT} that cannot be read"
    shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
    return f"the files of a run ({shown})"


def _history(checkpoint):
    """(the log records of the run up to the checkpoint's step, a note or None): from the
    log.jsonl beside the checkpoint, unless that log is another run's (the directory's
    checkpoint.npz has another run id)."""
    folder = run_dir(checkpoint.path)
    log = os.path.join(folder, LOG)
    if not os.path.exists(log):
        return [], None
    sibling = os.path.join(folder, CHECKPOINT)
    if os.path.exists(sibling) and not _same_file(sibling, checkpoint.path):
        other = _peek(sibling)
        if other is not None and None not in (other.get("run"), checkpoint.get("run")) \
                and other["run"] != checkpoint["run"]:
            return [], (f"{log} is the log of another run: the log of this one starts at "
                        f"step {checkpoint['step']}")
    records, note = _parse_log(log)
    return [r for r in records if r["step"] <= checkpoint["step"]], note


def _to_device(inputs, device):
    """The preview inputs of a checkpoint (read on the CPU) with their Tensors on
    ``device``; arrays and other values as they are."""
    return {name: value.to(device) if isinstance(value, Tensor) else value
            for name, value in inputs.items()}


def _copy_atomically(source, target):
    with open(source, "rb") as src, atomic_write(target) as dst:
        shutil.copyfileobj(src, dst)


# ==================== the log ====================

class LogError(ValueError):
    """A log.jsonl damaged before its last line."""


def _parse_log(path):
    """(records, note): the records of a log.jsonl in order, and None or a note saying
    that its last line, torn by a crash mid-write, was dropped. A damaged line before the
    last is a LogError naming it."""
    with open(path, "rb") as f:
        lines = [(number, line) for number, line in enumerate(f.read().split(b"\n"), 1)
                 if line.strip()]
    records = []
    for index, (number, line) in enumerate(lines):
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or type(record.get("step")) is not int:
                raise ValueError("not a log record (a JSON object with an int step)")
        except ValueError as error:  # JSON and UTF-8 errors are ValueErrors
            if index == len(lines) - 1:
                return records, (f"{path}: dropped its last line (line {number}), torn by a "
                                 f"crash while it was written: {line[:50]!r}")
            raise LogError(f"{path}, line {number}: {error}; only a torn last line can be "
                           "dropped: repair or delete this line (or the whole log) to "
                           "resume") from error
        records.append(record)
    return records, None


def read_log(path):
    """The records of a log.jsonl, in order; a last line torn by a crash mid-write is
    left out, a damaged line before it is a LogError."""
    return _parse_log(path)[0]
