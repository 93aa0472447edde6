"""The training loop: the files a run writes, bit-exact resume, the NaN stop, Ctrl-C, and
bad arguments. Runs use tiny data (8x8 images, 2-D points) and tiny MLPs: seconds in all."""
import json
import math
import os
import shutil
import signal

import numpy as np
import pytest
from matplotlib.image import imread

import minigan
from minigan.checkpoint import build_model, load_checkpoint
from minigan.data import DataLoader, Dataset, load_dataset
from minigan.models.vanilla import Vanilla
from minigan.serialization import CheckpointError, save
from minigan import train as train_module
from minigan.train import LogError, RunExists, TrainingDiverged, read_log, train

SEED = 7
OPTIONS = dict(latent_dim=4, hidden=16)


def tiny_images(n=40):
    """n random 8x8 "images" in [-1, 1], made from a fixed NumPy generator."""
    x = np.random.default_rng(0).uniform(-1, 1, size=(n, 1, 8, 8)).astype(np.float32)
    return Dataset(x, name="tiny")


def setup(device="cpu", dataset=None, seed=SEED, **options):
    """What the CLI does before train(): seed, data, loader, model. A resumed run is set
    up with another seed, so that only the restored state can make it continue exactly."""
    minigan.manual_seed(seed)
    dataset = dataset or tiny_images()
    loader = DataLoader(dataset, batch_size=8, seed=seed, device=device)
    model = Vanilla(dataset.x.shape[1:], None, device, **{**OPTIONS, **options})
    return model, loader


def parameters(model):
    return {f"{name}.{key}": value.numpy()
            for name, network in model.networks.items()
            for key, value in network.state_dict().items()}


def losses_of(log):
    return [{k: v for k, v in r.items() if k != "elapsed"} for r in log]


def is_png(path):
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            return False
    return imread(path).ndim == 3  # decodes the whole picture


# ==================== a run's files ====================

def test_a_run_writes_log_pictures_and_checkpoint(tmp_path, device):
    variant, loader = setup(device)
    result = train(variant, loader, tmp_path, steps=6, sample_every=3, checkpoint_every=4,
                   meta={"data": "tiny"}, progress=False)
    assert result["step"] == 6 and not result["interrupted"]
    log = read_log(tmp_path / "log.jsonl")
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    for record in log:
        assert set(record) == {"step", "loss_D", "loss_G", "D(x)", "D(G(z))", "elapsed"}
        assert all(math.isfinite(v) for v in record.values())
    assert all(a["elapsed"] <= b["elapsed"] for a, b in zip(log, log[1:]))
    for name in ("samples_000003.png", "samples_000006.png", "samples.png",
                 "loss_curves.png"):
        assert is_png(tmp_path / name), name
    with open(tmp_path / "samples.png", "rb") as a, open(tmp_path / "samples_000006.png",
                                                         "rb") as b:
        assert a.read() == b.read()
    checkpoint = load_checkpoint(tmp_path)
    assert checkpoint["step"] == 6 and checkpoint["version"] == 2
    assert checkpoint["model"] == {"name": "vanilla", "data_shape": [1, 8, 8],
                                   "num_classes": None, "config": variant.config()}
    assert checkpoint["meta"] == {"data": "tiny"}
    assert checkpoint["preview"]["noise"].shape == (64, 4)
    assert checkpoint["loader"] == loader.state_dict()
    rebuilt = build_model(checkpoint)
    for key, value in parameters(variant).items():
        assert np.array_equal(parameters(rebuilt)[key], value), key


def test_epochs_count_passes_over_the_data(tmp_path):
    variant, loader = setup()
    assert len(loader) == 5
    assert train(variant, loader, tmp_path, epochs=2, progress=False)["step"] == 10
    assert len(read_log(tmp_path / "log.jsonl")) == 10


def test_log_every_and_fixed_noise_samples(tmp_path):
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=6, log_every=3, sample_every=100, progress=False)
    assert [r["step"] for r in read_log(tmp_path / "log.jsonl")] == [3, 6]
    assert is_png(tmp_path / "samples_000006.png")


def test_points_data_draws_a_scatter(tmp_path):
    minigan.manual_seed(SEED)
    dataset = load_dataset("ring8:64")
    variant, loader = setup(dataset=dataset)
    train(variant, loader, tmp_path, steps=2, sample_every=2, progress=False)
    assert is_png(tmp_path / "samples_000002.png")
    preview = load_checkpoint(tmp_path)["preview"]
    assert preview["noise"].shape == (1000, 4) and preview["real"].shape == (64, 2)
    np.testing.assert_array_equal(preview["modes"], dataset.modes)


def test_embedded_mnist5k_trains_a_couple_of_steps(tmp_path):
    minigan.manual_seed(SEED)
    dataset = load_dataset("mnist5k")
    loader = DataLoader(dataset, batch_size=16, seed=SEED)
    variant = Vanilla(dataset.x.shape[1:])
    train(variant, loader, tmp_path, steps=2, progress=False)
    assert len(read_log(tmp_path / "log.jsonl")) == 2
    side = 8 * (28 + 2) + 2  # an 8x8 grid with 2 px padding, 242 px, drawn at 3x
    assert imread(tmp_path / "samples.png").shape[:2] == (3 * side + 24, 3 * side)  # + title
    assert load_checkpoint(tmp_path)["model"]["data_shape"] == [1, 28, 28]


# ==================== bit-exact resume ====================

def test_resume_is_bit_exact(tmp_path, device):
    """8 steps in one go == 4 steps, a fresh process's worth of objects, and 4 more; the 8
    steps cross an epoch boundary (5 batches per epoch), so the loader's position and the
    reshuffle are part of what is checked."""
    whole, first = tmp_path / "whole", tmp_path / "split"
    variant, loader = setup(device)
    train(variant, loader, whole, steps=8, progress=False)
    expected, expected_log = parameters(variant), read_log(whole / "log.jsonl")

    variant, loader = setup(device)
    train(variant, loader, first, steps=4, progress=False)
    variant, loader = setup(device, seed=SEED + 1)  # a new process, other weights and seed
    train(variant, loader, first, steps=8, resume=first, progress=False)
    assert losses_of(read_log(first / "log.jsonl")) == losses_of(expected_log)
    for key, value in parameters(variant).items():
        assert np.array_equal(value, expected[key]), key
    resumed = load_checkpoint(first)
    whole_checkpoint = load_checkpoint(whole)
    assert resumed["rng"] == whole_checkpoint["rng"]
    assert resumed["loader"] == whole_checkpoint["loader"]
    for name in ("G", "D"):
        a = resumed["state"]["optimizers"][name]["state"]
        b = whole_checkpoint["state"]["optimizers"][name]["state"]
        for i in b:
            assert a[i]["step"] == b[i]["step"] == 8
            assert np.array_equal(a[i]["exp_avg"].numpy(), b[i]["exp_avg"].numpy())
            assert np.array_equal(a[i]["exp_avg_sq"].numpy(), b[i]["exp_avg_sq"].numpy())


def test_resume_after_a_crash_redoes_the_steps_after_the_checkpoint(tmp_path, monkeypatch):
    """A run that dies at step 7 (checkpoint at 4, log up to 6) resumes from step 4: the
    log loses steps 5-6 and gets them again, identical to an uninterrupted run."""
    variant, loader = setup()
    train(variant, loader, tmp_path / "whole", steps=9, progress=False)
    expected, expected_log = parameters(variant), read_log(tmp_path / "whole" / "log.jsonl")

    run = tmp_path / "crashed"
    variant, loader = setup()
    real_step = Vanilla.step

    def crash_at_7(self, batch):
        if self.d_updates == 6:
            raise RuntimeError("power cut")
        return real_step(self, batch)

    monkeypatch.setattr(Vanilla, "step", crash_at_7)
    with pytest.raises(RuntimeError, match="power cut"):
        train(variant, loader, run, steps=9, checkpoint_every=4, progress=False)
    monkeypatch.setattr(Vanilla, "step", real_step)
    assert len(read_log(run / "log.jsonl")) == 6 and load_checkpoint(run)["step"] == 4

    variant, loader = setup(seed=SEED + 1)
    train(variant, loader, run, steps=9, resume=run / "checkpoint.npz", progress=False)
    assert losses_of(read_log(run / "log.jsonl")) == losses_of(expected_log)
    assert all(np.array_equal(v, expected[k]) for k, v in parameters(variant).items())


def test_resume_into_another_directory(tmp_path):
    variant, loader = setup()
    train(variant, loader, tmp_path / "a", steps=3, progress=False)
    variant, loader = setup()
    train(variant, loader, tmp_path / "b", steps=3, resume=tmp_path / "a", progress=False)
    assert load_checkpoint(tmp_path / "b")["step"] == 3
    assert len(read_log(tmp_path / "b" / "log.jsonl")) == 3


def test_resume_refuses_a_different_variant(tmp_path):
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=2, progress=False)
    variant, loader = setup(hidden=32)
    with pytest.raises(ValueError, match=r"cannot resume .* it holds .*'hidden': 16.* but the "
                                         r"model to train is .*'hidden': 32"):
        train(variant, loader, tmp_path, steps=4, resume=tmp_path, progress=False)


# ==================== NaN and Ctrl-C ====================

def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    variant, loader = setup()
    real_step = Vanilla.step

    def nan_at_5(self, batch):
        losses = real_step(self, batch)
        if self.d_updates == 5:
            losses["loss_G"] = float("nan")
        return losses

    monkeypatch.setattr(Vanilla, "step", nan_at_5)
    with pytest.raises(TrainingDiverged, match=r"step 5: loss 'loss_G' is nan .*the last "
                                               r"good checkpoint, .*checkpoint.npz \(step 4\), "
                                               r"is kept"):
        train(variant, loader, tmp_path, steps=10, checkpoint_every=2, progress=False)
    assert load_checkpoint(tmp_path)["step"] == 4
    assert [r["step"] for r in read_log(tmp_path / "log.jsonl")] == [1, 2, 3, 4]


def test_infinite_loss_before_any_checkpoint(tmp_path, monkeypatch):
    variant, loader = setup()
    monkeypatch.setattr(Vanilla, "step", lambda self, batch: {"loss_D": float("inf")})
    with pytest.raises(TrainingDiverged, match="step 1: loss 'loss_D' is inf .*no checkpoint "
                                               "was saved"):
        train(variant, loader, tmp_path, steps=3, progress=False)
    assert not os.path.exists(tmp_path / "checkpoint.npz")


def test_sigint_finishes_the_step_saves_and_restores_the_handler(tmp_path, monkeypatch,
                                                                 capsys):
    variant, loader = setup()
    real_step = Vanilla.step

    def interrupt_at_3(self, batch):
        losses = real_step(self, batch)
        if self.d_updates == 3:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while step 3 runs
        return losses

    monkeypatch.setattr(Vanilla, "step", interrupt_at_3)
    before = signal.getsignal(signal.SIGINT)
    result = train(variant, loader, tmp_path, steps=1000, checkpoint_every=500,
                   progress=False)
    assert result["interrupted"] and result["step"] == 3
    assert signal.getsignal(signal.SIGINT) is before
    assert load_checkpoint(tmp_path)["step"] == 3
    assert f"interrupted at step 3: checkpoint saved to {tmp_path}" in capsys.readouterr().out


# ==================== bad arguments ====================

def test_bad_arguments(tmp_path):
    variant, loader = setup()
    with pytest.raises(ValueError, match="give exactly one of steps and epochs, found "
                                         "steps=None and epochs=None"):
        train(variant, loader, tmp_path)
    with pytest.raises(ValueError, match="give exactly one of steps and epochs"):
        train(variant, loader, tmp_path, steps=2, epochs=1)
    with pytest.raises(ValueError, match="sample_every must be a positive int, found 0"):
        train(variant, loader, tmp_path, steps=2, sample_every=0)
    with pytest.raises(ValueError, match="steps and epochs must be positive ints"):
        train(variant, loader, tmp_path, steps=-1)
    other = Vanilla((2,), **OPTIONS)
    with pytest.raises(ValueError, match=r"tiny holds samples of shape \(1, 8, 8\), but "
                                         r"vanilla was built for \(2,\)"):
        train(other, loader, tmp_path, steps=2)


def test_unreadable_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no checkpoint.npz"):
        load_checkpoint(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.npz")
    save({"weights": minigan.zeros(2)}, tmp_path / "other.npz")
    with pytest.raises(CheckpointError, match="not a training checkpoint of this minigan$"):
        load_checkpoint(tmp_path / "other.npz")
    save({"variant": {}, "fixed_noise": minigan.zeros(2)}, tmp_path / "old.npz")
    with pytest.raises(CheckpointError, match=r"written before the model protocol \(layout 1\)"
                                              r"; this minigan reads layout 2"):
        load_checkpoint(tmp_path / "old.npz")
    save({"version": 3}, tmp_path / "new.npz")
    with pytest.raises(CheckpointError, match="layout 3 is not supported"):
        load_checkpoint(tmp_path / "new.npz")
    save({"version": 2, "model": {}}, tmp_path / "part.npz")
    with pytest.raises(CheckpointError, match="it lacks state, step, elapsed, rng, loader, "
                                              "preview, meta"):
        load_checkpoint(tmp_path / "part.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="not an .npz"):
        load_checkpoint(tmp_path / "junk.npz")


def test_log_lines_are_plain_json(tmp_path):
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=2, progress=False)
    with open(tmp_path / "log.jsonl") as f:
        lines = f.read().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["step"] == 1


# ==================== run directories: nothing is lost or mislabelled (issue 16) ==========

@pytest.fixture
def quick_pictures(monkeypatch):
    """Each picture an empty file, named as the run names it: these tests are about which
    files a run keeps, not what they show (matplotlib would cost ~0.1 s a picture)."""
    def draw(self):
        for name in (f"samples_{self.step:06d}.png", "samples.png", "loss_curves.png"):
            open(os.path.join(self.out_dir, name), "wb").close()
        self.drawn_step = self.step

    monkeypatch.setattr(train_module._Run, "draw", draw)


def snapshot(directory):
    """{name: bytes} of every file in ``directory``."""
    return {name: (directory / name).read_bytes() for name in sorted(os.listdir(directory))}


def test_a_new_run_refuses_a_directory_that_holds_a_run(tmp_path, quick_pictures):
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=2, progress=False)
    before = snapshot(tmp_path)
    variant, loader = setup()
    with pytest.raises(RunExists, match=r"already holds a vanilla run at step 2 "
                                        r"\(checkpoint.npz\): starting a new run there"):
        train(variant, loader, tmp_path, steps=3, progress=False)
    assert snapshot(tmp_path) == before
    # a run killed before its first checkpoint left a log: that is a run too
    (tmp_path / "checkpoint.npz").unlink()
    with pytest.raises(RunExists, match=r"holds the files of a run \(log.jsonl, "):
        train(variant, loader, tmp_path, steps=3, progress=False)


def test_resume_into_a_directory_of_another_run_is_refused(tmp_path, quick_pictures):
    """The issue: `train X --resume A --out B` replaced run B's checkpoint and log with
    A's. Now B is untouched unless overwrite=True, which replaces B's files by A's."""
    for name, steps in (("a", 3), ("b", 5)):
        variant, loader = setup(seed=SEED if name == "a" else SEED + 1)
        train(variant, loader, tmp_path / name, steps=steps, sample_every=1, progress=False)
    before = snapshot(tmp_path / "b")
    variant, loader = setup()
    with pytest.raises(RunExists, match=r"b already holds a vanilla run at step 5 "
                                        r"\(checkpoint.npz\): resuming .*a/checkpoint.npz "
                                        r"\(step 3\) there"):
        train(variant, loader, tmp_path / "b", steps=4, resume=tmp_path / "a",
              progress=False)
    assert snapshot(tmp_path / "b") == before
    train(variant, loader, tmp_path / "b", steps=4, resume=tmp_path / "a", overwrite=True,
          progress=False)
    assert [r["step"] for r in read_log(tmp_path / "b" / "log.jsonl")] == [1, 2, 3, 4]
    assert read_log(tmp_path / "b" / "log.jsonl")[:3] == read_log(tmp_path / "a" / "log.jsonl")
    # none of b's own pictures is left to pass for a's
    assert sorted(p for p in os.listdir(tmp_path / "b") if p.startswith("samples_")) == \
        ["samples_000004.png"]


def test_resume_from_an_older_copy_inside_the_run_is_refused(tmp_path, quick_pictures):
    """The issue: `--resume RUN/some_copy.npz` rewound RUN/checkpoint.npz and cut its log.
    A copy of the same state (same run, same step) is fine; rewinding needs overwrite."""
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=2, progress=False)
    shutil.copy(tmp_path / "checkpoint.npz", tmp_path / "step2.npz")
    train(variant, loader, tmp_path, steps=4, resume=tmp_path, progress=False)
    shutil.copy(tmp_path / "checkpoint.npz", tmp_path / "step4.npz")
    before = snapshot(tmp_path)
    variant, loader = setup()
    with pytest.raises(RunExists, match=r"holds a vanilla run at step 4 .*: resuming "
                                        r".*step2.npz \(step 2\) there"):
        train(variant, loader, tmp_path, steps=5, resume=tmp_path / "step2.npz",
              progress=False)
    assert snapshot(tmp_path) == before
    train(variant, loader, tmp_path, steps=5, resume=tmp_path / "step4.npz", progress=False)
    assert [r["step"] for r in read_log(tmp_path / "log.jsonl")] == [1, 2, 3, 4, 5]
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=3, resume=tmp_path / "step2.npz", overwrite=True,
          progress=False)
    assert load_checkpoint(tmp_path)["step"] == 3
    assert [r["step"] for r in read_log(tmp_path / "log.jsonl")] == [1, 2, 3]
    assert (tmp_path / "step2.npz").exists()  # the file resumed from is not a run file


def test_a_copy_of_another_runs_checkpoint_does_not_take_this_runs_log(tmp_path,
                                                                       quick_pictures, capsys):
    for name, seed in (("a", SEED), ("b", SEED + 1)):
        variant, loader = setup(seed=seed)
        train(variant, loader, tmp_path / name, steps=3, progress=False)
    shutil.copy(tmp_path / "a" / "checkpoint.npz", tmp_path / "b" / "from_a.npz")
    variant, loader = setup()
    train(variant, loader, tmp_path / "c", steps=4, resume=tmp_path / "b" / "from_a.npz",
          progress=False)
    assert "is the log of another run: the log of this one starts at step 3" in \
        capsys.readouterr().out
    assert [r["step"] for r in read_log(tmp_path / "c" / "log.jsonl")] == [4]


def test_overwrite_deletes_the_old_runs_files_and_only_them(tmp_path, quick_pictures):
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=4, sample_every=1, progress=False)
    (tmp_path / "grid.png").write_bytes(b"a grid of the old run")   # minigan sample's
    (tmp_path / "notes.txt").write_text("mine")
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=2, sample_every=2, overwrite=True, progress=False)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz", "log.jsonl", "loss_curves.png",
                                            "notes.txt", "samples.png", "samples_000002.png"]


def test_temporary_files_of_a_killed_save_are_removed_at_the_start(tmp_path,
                                                                  quick_pictures):
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=2, progress=False)
    stale = [f".checkpoint.npz.{'0' * 32}.tmp", f".samples_000002.png.{'a1' * 16}.tmp"]
    others = [f".notes.txt.{'0' * 32}.tmp", ".checkpoint.npz.short.tmp"]
    for name in stale + others:
        (tmp_path / name).write_bytes(b"half a file")
    train(variant, loader, tmp_path, steps=3, resume=tmp_path, progress=False)
    assert not any((tmp_path / name).exists() for name in stale)
    assert all((tmp_path / name).exists() for name in others)


# ==================== non-finite weights (issue 16) ====================

def test_a_huge_learning_rate_never_saves_infinite_state(tmp_path, quick_pictures):
    """Vanilla with lr 1e10 on the ring: after step 2 the losses are finite (~1e20) but
    Adam's second moments of G overflowed to inf. The run stops before saving them, and the
    checkpoint of step 1 really is good."""
    minigan.manual_seed(0)
    loader = DataLoader(load_dataset("ring8:256"), batch_size=32, seed=0)
    model = Vanilla((2,), lr=1e10, **OPTIONS)
    with np.errstate(over="ignore", invalid="ignore"), \
            pytest.raises(TrainingDiverged, match=r"step 2: the optimizer of G's exp_avg_sq "
                                                  r"of parameter 0 holds \d+ inf .*the last "
                                                  r"good checkpoint, .* \(step 1\), is kept"):
        train(model, loader, tmp_path, steps=5, checkpoint_every=1, progress=False)
    checkpoint = load_checkpoint(tmp_path)  # refuses non-finite state itself
    assert checkpoint["step"] == 1


def test_a_run_never_ends_with_non_finite_weights(tmp_path, monkeypatch, quick_pictures):
    variant, loader = setup()
    real_step = Vanilla.step

    def inf_weight_at_4(self, batch):
        losses = real_step(self, batch)
        if self.d_updates == 4:
            self.G[0].weight.data[0, 0] = np.inf  # after the losses: they are finite
        return losses

    monkeypatch.setattr(Vanilla, "step", inf_weight_at_4)
    with pytest.raises(TrainingDiverged, match=r"step 4: network G's 0.weight holds 1 inf "
                                               r"\(of 64 values\) .*no checkpoint was saved"):
        train(variant, loader, tmp_path, steps=4, progress=False)
    assert not (tmp_path / "checkpoint.npz").exists()


# ==================== the log (issue 16) ====================

def test_a_torn_last_log_line_is_dropped_and_said(tmp_path, quick_pictures, capsys):
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=4, progress=False)
    with open(tmp_path / "log.jsonl", "a") as f:
        f.write('{"step": 5, "loss_D": 1.3')  # the crash came mid-line
    assert [r["step"] for r in read_log(tmp_path / "log.jsonl")] == [1, 2, 3, 4]
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=6, resume=tmp_path, progress=False)
    assert "log.jsonl: dropped its last line (line 5), torn by a crash" in \
        capsys.readouterr().out
    assert [r["step"] for r in read_log(tmp_path / "log.jsonl")] == [1, 2, 3, 4, 5, 6]


def test_a_damaged_log_line_before_the_last_is_an_error(tmp_path, quick_pictures):
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=4, progress=False)
    lines = (tmp_path / "log.jsonl").read_text().splitlines(keepends=True)
    lines[1] = '{"step": 2, "loss_D\n'
    (tmp_path / "log.jsonl").write_text("".join(lines))
    variant, loader = setup()
    with pytest.raises(LogError, match=r"log.jsonl, line 2: .*only a torn last line can be "
                                       r"dropped"):
        train(variant, loader, tmp_path, steps=6, resume=tmp_path, progress=False)
    assert load_checkpoint(tmp_path)["step"] == 4


# ==================== SIGTERM and progress (issue 16) ====================

def test_sigterm_finishes_the_step_and_saves_like_ctrl_c(tmp_path, monkeypatch, capsys,
                                                         quick_pictures):
    variant, loader = setup()
    real_step = Vanilla.step

    def terminate_at_3(self, batch):
        losses = real_step(self, batch)
        if self.d_updates == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # kill, timeout, docker stop
        return losses

    def unhandled(signum, frame):  # what would otherwise end the process, unsaved
        raise AssertionError("SIGTERM was not handled by the training loop")

    monkeypatch.setattr(Vanilla, "step", terminate_at_3)
    before = signal.signal(signal.SIGTERM, unhandled)
    try:
        result = train(variant, loader, tmp_path, steps=1000, checkpoint_every=500,
                       progress=False)
        assert signal.getsignal(signal.SIGTERM) is unhandled
    finally:
        signal.signal(signal.SIGTERM, before)
    assert result["interrupted"] and result["signal"] == "SIGTERM" and result["step"] == 3
    assert load_checkpoint(tmp_path)["step"] == 3
    assert f"interrupted at step 3 by SIGTERM: checkpoint saved to {tmp_path}" in \
        capsys.readouterr().out


def test_progress_lines_when_output_is_not_a_terminal(tmp_path, capsys, quick_pictures):
    variant, loader = setup()
    train(variant, loader, tmp_path, steps=3, progress=1e-9)  # a line after every step
    lines = capsys.readouterr().err.splitlines()
    assert [line.split()[:3] for line in lines] == [["vanilla", "step", f"{n}/3"]
                                                    for n in (1, 2, 3)]
    assert all(" loss_D " in line and " it/s  ETA " in line for line in lines)
    assert lines[-1].endswith("ETA 00:00:00")
    variant, loader = setup()
    train(variant, loader, tmp_path / "quiet", steps=3, progress=False)
    assert capsys.readouterr() == ("", "")
    with pytest.raises(ValueError, match="progress must be True, False or a number of "
                                         "seconds > 0, found 0"):
        train(variant, loader, tmp_path, steps=3, progress=0)
