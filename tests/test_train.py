"""The training loop: the files a run writes, bit-exact resume, the NaN stop, Ctrl-C, and
bad arguments. Runs use tiny data (8x8 images, 2-D points) and tiny MLPs: seconds in all."""
import json
import math
import os
import signal

import numpy as np
import pytest
from matplotlib.image import imread

import minigan
from minigan.checkpoint import build_model, load_checkpoint
from minigan.data import DataLoader, Dataset, load_dataset
from minigan.models.vanilla import Vanilla
from minigan.serialization import CheckpointError, save
from minigan.train import TrainingDiverged, read_log, train

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
