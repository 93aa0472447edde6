"""The command line: help, train/resume, sample, eval's metrics hook, download, list, the
errors for unknown names (exit 2, the choices on stderr, no traceback), a NaN run (exit
1) and Ctrl-C on a real subprocess (exit 130 with a checkpoint that resumes)."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from matplotlib.image import imread

import minigan
from minigan import cli
from minigan.checkpoint import load_checkpoint
from minigan.data import DATASETS, load_dataset
from minigan.models import MODELS
from minigan.models.vanilla import Vanilla
from minigan.train import read_log

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--data", "ring8:256", "--batch-size", "32", "--latent-dim", "4", "--hidden", "16"]


def run_main(argv, capsys):
    """(exit status, stdout, stderr) of ``minigan ARGV`` run in this process."""
    try:
        status = cli.main([str(a) for a in argv])
    except SystemExit as exit:  # argparse: --help and usage errors
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def run_module(*argv, **kwargs):
    return subprocess.run([sys.executable, "-m", "minigan", *map(str, argv)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def points_run(tmp_path_factory):
    """A finished 4-step ring8 run, shared by the read-only tests."""
    out = tmp_path_factory.mktemp("points")
    assert cli.main(["train", "vanilla", *TINY, "--steps", "4", "--out", str(out)]) == 0
    return out


# ==================== help ====================

@pytest.mark.parametrize("command", [[], ["train"], ["train", "vanilla"], ["sample"], ["eval"],
                                     ["download"], ["list"]])
def test_help_of_every_command_exits_0(command, capsys):
    status, out, _ = run_main(command + ["--help"], capsys)
    assert status == 0 and out.startswith("usage: minigan")


def test_help_of_train_vanilla_lists_its_options(capsys):
    _, out, _ = run_main(["train", "vanilla", "--help"], capsys)
    for option in ("--data", "--steps", "--epochs", "--batch-size", "--device", "--seed",
                   "--out", "--resume", "--sample-every", "--checkpoint-every", "--lr",
                   "--k", "--g-loss", "{minimax,nonsaturating}"):
        assert option in out, option


# ==================== unknown names and bad input ====================

def test_unknown_variant_lists_the_choices_without_traceback():
    result = run_module("train", "nope")
    assert result.returncode == 2
    assert "invalid choice: 'nope' (choose from" in result.stderr
    assert "vanilla" in result.stderr and "Traceback" not in result.stderr


def test_unknown_dataset_lists_the_choices_without_traceback(tmp_path):
    result = run_module("train", "vanilla", "--data", "nope", "--out", tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "minigan train: error: unknown dataset 'nope': expected one of" in result.stderr
    assert all(name in result.stderr for name in DATASETS)


def test_unknown_download_lists_the_choices(capsys):
    status, _, err = run_main(["download", "cifar"], capsys)
    assert status == 2 and "invalid choice: 'cifar'" in err and "fashion-mnist" in err


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "--steps: expected a positive integer, found 0"),
    (["--steps", "3", "--epochs", "1"], "not allowed with argument"),
    (["--g-loss", "bogus"], "invalid choice: 'bogus'"),
    (["--lr", "-1", "--steps", "1"], "vanilla: lr must be a number >= 0, found -1.0"),
    (["--device", "tpu", "--steps", "1"], "unknown device 'tpu'"),
])
def test_bad_training_options_exit_2(argv, message, tmp_path, capsys):
    status, _, err = run_main(["train", "vanilla", *TINY, "--out", tmp_path, *argv], capsys)
    assert status == 2 and message in err


@pytest.mark.skipif(minigan.cuda_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu_is_a_clear_error(tmp_path, capsys):
    status, _, err = run_main(["train", "vanilla", *TINY, "--device", "cuda", "--out",
                               tmp_path], capsys)
    assert status == 1 and "device 'cuda' was requested but CuPy" in err


def test_a_missing_or_foreign_checkpoint_exits_2(tmp_path, capsys):
    status, _, err = run_main(["sample", tmp_path / "nothing"], capsys)
    assert status == 2 and "does not exist" in err
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    status, _, err = run_main(["eval", tmp_path / "bad.npz"], capsys)
    assert status == 2 and "not an .npz" in err


# ==================== train, resume ====================

def test_train_writes_a_run_and_refuses_to_overwrite_it(points_run, capsys):
    assert len(read_log(points_run / "log.jsonl")) == 4
    checkpoint = load_checkpoint(points_run)
    minigan.manual_seed(0)  # the ring is drawn after seeding, as the run drew it
    assert checkpoint["meta"] == {"data": "ring8:256", "batch_size": 32, "seed": 0,
                                  "data_fingerprint": load_dataset("ring8:256").fingerprint()}
    assert checkpoint["model"]["config"] == {"k": 1, "latent_dim": 4, "lr": 2e-4,
                                               "g_loss": "nonsaturating", "hidden": 16}
    for name in ("samples.png", "samples_000004.png", "loss_curves.png"):
        assert imread(points_run / name).ndim == 3
    status, _, err = run_main(["train", "vanilla", *TINY, "--steps", "2", "--out",
                               points_run], capsys)
    assert status == 2 and f"--resume {points_run}" in err and "--overwrite" in err


def test_resume_continues_to_the_total_number_of_steps(tmp_path, capsys):
    common = ["train", "vanilla", *TINY, "--g-loss", "minimax", "--seed", "3"]
    assert run_main(common + ["--steps", "6", "--out", tmp_path / "whole"], capsys)[0] == 0
    assert run_main(common + ["--steps", "3", "--out", tmp_path / "split"], capsys)[0] == 0
    # the saved data set, seed and options are used, whatever the command line says
    status, out, _ = run_main(["train", "vanilla", "--resume", tmp_path / "split",
                               "--steps", "6"], capsys)
    assert status == 0 and "resuming" in out and "at step 3" in out
    strip = lambda log: [{k: v for k, v in r.items() if k != "elapsed"} for r in log]
    assert strip(read_log(tmp_path / "split" / "log.jsonl")) == \
        strip(read_log(tmp_path / "whole" / "log.jsonl"))
    assert load_checkpoint(tmp_path / "split")["model"]["config"]["g_loss"] == "minimax"


def test_nan_loss_exits_1_with_the_step_and_loss_named(tmp_path, capsys, monkeypatch):
    real_step = Vanilla.step

    def nan_at_3(self, batch):
        losses = real_step(self, batch)
        if self.d_updates == 3:
            losses["loss_D"] = float("nan")
        return losses

    monkeypatch.setattr(Vanilla, "step", nan_at_3)
    status, _, err = run_main(["train", "vanilla", *TINY, "--steps", "5",
                               "--checkpoint-every", "2", "--out", tmp_path], capsys)
    assert status == 1
    assert "step 3: loss 'loss_D' is nan" in err and "(step 2), is kept" in err
    assert load_checkpoint(tmp_path)["step"] == 2


def _long_run_with_a_first_log_line(tmp_path):
    """A long vanilla run in a child process, once its first log line is written (so it
    has a checkpoint to save and a step to finish when a signal comes)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "minigan", "train", "vanilla", *TINY, "--steps", "100000",
         "--out", str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    log = tmp_path / "log.jsonl"
    deadline = time.monotonic() + 45
    while not (log.exists() and log.read_text().strip()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no log line within 45 s"
        time.sleep(0.05)
    return process


def test_ctrl_c_saves_a_checkpoint_that_resumes(tmp_path, capsys):
    """Exit status 130 (128 + SIGINT, what shells report for Ctrl-C): the run did not
    finish, but it saved a checkpoint, and --resume continues it."""
    process = _long_run_with_a_first_log_line(tmp_path)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=45)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    step = load_checkpoint(tmp_path)["step"]
    assert step >= 1 and len(read_log(tmp_path / "log.jsonl")) == step
    assert f"interrupted at step {step}: checkpoint saved to {tmp_path}" in out
    status, _, _ = run_main(["train", "vanilla", "--resume", tmp_path, "--steps", step + 2],
                            capsys)
    assert status == 0 and load_checkpoint(tmp_path)["step"] == step + 2


# ==================== sample, eval, download, list ====================

def test_sample_points_writes_a_png(points_run, tmp_path, capsys):
    status, out, _ = run_main(["sample", points_run, "--n", "50", "--out",
                               tmp_path / "s.png"], capsys)
    assert status == 0 and "wrote 50 samples" in out
    assert imread(tmp_path / "s.png").ndim == 3


def test_sample_images_from_an_mnist5k_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert run_main(["train", "vanilla", "--steps", "2", "--batch-size", "16", "--out", run],
                    capsys)[0] == 0
    status, _, _ = run_main(["sample", run / "checkpoint.npz", "--n", "9", "--out",
                             tmp_path / "grid.png"], capsys)
    assert status == 0
    side = 3 * (28 + 2) + 2  # a 3x3 grid, drawn at ceil(512 / 92) = 6x
    assert imread(tmp_path / "grid.png").shape[:2] == (6 * side, 6 * side)


def test_sample_label_needs_a_conditional_variant(points_run, tmp_path, capsys):
    status, _, err = run_main(["sample", points_run, "--label", "3", "--out",
                               tmp_path / "s.png"], capsys)
    assert status == 2 and "vanilla is not class-conditional" in err


@pytest.mark.parametrize("extension", [".npy", ".npz"])
def test_sample_writes_raw_samples_for_outside_evaluators(points_run, tmp_path, capsys,
                                                          extension):
    out = tmp_path / f"s{extension}"
    assert run_main(["sample", points_run, "--n", "7", "--out", out, "--seed", "2"],
                    capsys)[0] == 0
    samples = np.load(out)["samples"] if extension == ".npz" else np.load(out)
    assert samples.shape == (7, 2) and samples.dtype == np.float32
    # the same numbers as the model's own sample(7) after the same seed
    from minigan.checkpoint import build_model
    model = build_model(load_checkpoint(points_run))
    minigan.manual_seed(2)
    np.testing.assert_array_equal(samples, model.sample(7).numpy())


def test_sample_npz_keeps_the_labels_and_refuses_other_formats(tmp_path, capsys):
    run = tmp_path / "run"
    assert run_main(["train", "cgan", "--data", "ring8:64", "--batch-size", "16", "--steps", "1",
                     "--hidden", "8", "--out", run], capsys)[0] == 0
    out = tmp_path / "threes.npz"
    assert run_main(["sample", run, "--n", "5", "--label", "3", "--out", out], capsys)[0] == 0
    saved = np.load(out)
    assert saved["samples"].shape == (5, 2) and saved["labels"].tolist() == [3] * 5
    status, _, err = run_main(["sample", run, "--out", tmp_path / "grid.jpg"], capsys)
    assert status == 2 and "expected a file ending in .png, .npy, .npz or a folder, found " \
                           "'.jpg'" in err


def test_eval_calls_the_models_evaluate(points_run, capsys, monkeypatch):
    calls = []

    def evaluate(model, data, num_samples):
        calls.append((model.name, data, model.g_updates, num_samples))
        return {"modes covered": 3, "high quality": 0.25}

    monkeypatch.setattr(Vanilla, "evaluate", evaluate)
    status, out, _ = run_main(["eval", points_run, "--n", "300"], capsys)
    assert status == 0 and calls == [("vanilla", "ring8:256", 4, 300)]
    assert "modes covered  3" in out and "high quality   0.2500" in out


def test_download_calls_the_verified_download(tmp_path, capsys, monkeypatch):
    import minigan.data
    calls = []
    monkeypatch.setattr(minigan.data, "download",
                        lambda name, root: calls.append((name, root)) or f"{root}/{name}")
    status, out, _ = run_main(["download", "fashion-mnist", "--root", tmp_path], capsys)
    assert status == 0 and calls == [("fashion-mnist", str(tmp_path))]
    assert f"--data fashion-mnist:{tmp_path}/fashion-mnist" in out


def test_list_shows_models_by_kind_and_datasets(capsys):
    status, out, _ = run_main(["list"], capsys)
    assert status == 0
    assert "vanilla" in out and "The original GAN" in out
    assert all(name in out for name in DATASETS) and all(name in out for name in MODELS)
    kinds = {cls.kind for cls in MODELS.values()}
    assert all(f"  {kind}:" in out for kind in kinds)


def test_resume_of_a_run_not_started_by_the_cli_exits_2(tmp_path, capsys):
    from minigan.data import DataLoader, load_dataset
    from minigan.train import train

    loader = DataLoader(load_dataset("ring8:64"), batch_size=32, seed=0)
    train(Vanilla((2,), latent_dim=4, hidden=16), loader, tmp_path, steps=1, progress=False)
    status, _, err = run_main(["train", "vanilla", "--resume", tmp_path], capsys)
    assert status == 2 and "does not say its data, batch_size, seed" in err


# ==================== runs never lose, overwrite or mislabel data (issue 16) ==============

def test_sigterm_saves_a_checkpoint_and_exits_143(tmp_path, capsys):
    """kill, timeout, docker stop and cluster schedulers send SIGTERM: the run saves as for
    Ctrl-C and exits 143 (128 + 15)."""
    process = _long_run_with_a_first_log_line(tmp_path)
    process.terminate()
    out, err = process.communicate(timeout=45)
    assert process.returncode == 143, err
    assert "Traceback" not in err and "SIGTERM: finishing this step" in out
    step = load_checkpoint(tmp_path)["step"]
    assert f"interrupted at step {step} by SIGTERM: checkpoint saved" in out
    assert len(read_log(tmp_path / "log.jsonl")) == step


def test_resume_into_the_directory_of_another_run_exits_2(tmp_path, capsys):
    for name in ("a", "b"):
        assert run_main(["train", "vanilla", *TINY, "--steps", "2", "--out", tmp_path / name],
                        capsys)[0] == 0
    before = {p: (tmp_path / "b" / p).read_bytes() for p in os.listdir(tmp_path / "b")}
    status, _, err = run_main(["train", "vanilla", "--resume", tmp_path / "a", "--steps", "3",
                               "--out", tmp_path / "b"], capsys)
    assert status == 2
    assert f"{tmp_path / 'b'} holds a vanilla run at step 2 (checkpoint.npz): resuming " \
           f"{tmp_path / 'a' / 'checkpoint.npz'} (step 2) there would replace its " \
           "checkpoint and log; pass --overwrite to replace them, or another --out" in err
    assert before == {p: (tmp_path / "b" / p).read_bytes() for p in os.listdir(tmp_path / "b")}


def test_resume_refuses_changed_options_and_names_them(tmp_path, capsys):
    assert run_main(["train", "vanilla", *TINY, "--steps", "2", "--lr", "1e-3",
                     "--out", tmp_path], capsys)[0] == 0
    # --lr 2e-4 is the default: refused all the same, since it was given
    status, _, err = run_main(["train", "vanilla", "--resume", tmp_path, "--steps", "4",
                               "--lr", "2e-4", "--batch-size", "16", "--seed", "0"], capsys)
    assert status == 2
    assert "--batch-size 16 (the run's batch_size is 32); --lr 0.0002 (the run's lr is " \
           "0.001): a resumed run keeps the batch size, seed and model options" in err
    assert load_checkpoint(tmp_path)["step"] == 2
    # the same values, and what may change: steps, cadence
    status, out, _ = run_main(["train", "vanilla", "--resume", tmp_path, "--steps", "4",
                               "--lr", "1e-3", "--batch-size", "32", "--sample-every", "1",
                               "--hidden", "16"], capsys)
    assert status == 0 and "keeping its data ring8:256, batch size 32, seed 0" in out
    assert (tmp_path / "samples_000003.png").exists()
    assert load_checkpoint(tmp_path)["step"] == 4


def _drawings(path, seed):
    """A Quick, Draw! style .npy of 40 random 28x28 drawings."""
    np.save(path, np.random.default_rng(seed).integers(0, 256, (40, 784), dtype=np.uint8))


def test_resume_from_another_folder_and_with_moved_data(tmp_path, capsys, monkeypatch):
    """The data path is stored absolute: the run resumes from another working directory;
    after the file moves, --data may name the new place (same contents, checked), not
    another data set."""
    (tmp_path / "here").mkdir()
    _drawings(tmp_path / "here" / "cats.npy", 0)
    monkeypatch.chdir(tmp_path / "here")
    assert run_main(["train", "vanilla", "--data", "quickdraw:cats.npy", "--batch-size", "8",
                     "--hidden", "8", "--steps", "2", "--out", tmp_path / "run"],
                    capsys)[0] == 0
    assert load_checkpoint(tmp_path / "run")["meta"]["data"] == \
        f"quickdraw:{tmp_path / 'here' / 'cats.npy'}"
    monkeypatch.chdir(tmp_path)
    assert run_main(["train", "vanilla", "--resume", "run", "--steps", "3"], capsys)[0] == 0
    os.rename(tmp_path / "here" / "cats.npy", tmp_path / "moved.npy")
    status, _, err = run_main(["train", "vanilla", "--resume", "run", "--steps", "4"], capsys)
    assert status == 2 and f"the run's data set quickdraw:{tmp_path / 'here' / 'cats.npy'}: " \
                           "[Errno 2] No such file" in err
    assert err.rstrip().endswith("if it moved, give its new place with --data")
    status, out, _ = run_main(["train", "vanilla", "--resume", "run", "--steps", "4",
                               "--data", "quickdraw:moved.npy"], capsys)
    assert status == 0 and f"data: quickdraw:{tmp_path / 'moved.npy'} instead of " \
                           f"quickdraw:{tmp_path / 'here' / 'cats.npy'} (same contents)" in out
    assert load_checkpoint("run")["meta"]["data"] == f"quickdraw:{tmp_path / 'moved.npy'}"
    _drawings(tmp_path / "dogs.npy", 1)
    status, _, err = run_main(["train", "vanilla", "--resume", "run", "--steps", "5",
                               "--data", "quickdraw:dogs.npy"], capsys)
    assert status == 2 and "--data quickdraw:dogs.npy: not the data the run trained on" in err
    assert load_checkpoint("run")["step"] == 4


@pytest.mark.skipif(minigan.cuda_available(), reason="this machine has a CUDA GPU")
def test_device_flag_wins_over_the_variable_and_errors_name_it(tmp_path, capsys,
                                                               monkeypatch):
    monkeypatch.setenv("MINIGAN_DEVICE", "cuda")
    assert run_main(["train", "vanilla", *TINY, "--steps", "1", "--device", "cpu", "--out",
                     tmp_path / "a"], capsys)[0] == 0
    assert os.environ["MINIGAN_DEVICE"] == "cuda"  # as it was
    assert run_main(["sample", tmp_path / "a", "--device", "cpu"], capsys)[0] == 0
    status, _, err = run_main(["train", "vanilla", *TINY, "--steps", "1", "--out",
                               tmp_path / "b"], capsys)
    assert status == 1 and "MINIGAN_DEVICE=cuda: device 'cuda' was requested" in err
    monkeypatch.setenv("MINIGAN_DEVICE", "tpu")
    status, _, err = run_main(["eval", tmp_path / "a"], capsys)
    assert status == 2 and "MINIGAN_DEVICE=tpu: unknown device 'tpu'" in err


@pytest.mark.parametrize("argv, message", [
    (["train", "vanilla", "--seed", "-1"], "argument --seed: expected a seed, an integer >= 0, "
                                           "found -1"),
    (["train", "vanilla", "--threads", "0"], "argument --threads: expected 'auto' or a number "
                                             "of threads >= 1, found 0"),
    (["train", "wgan-gp", "--lam", "-1"], "wgan-gp: lam must be a number >= 0, found -1.0"),
    (["eval", "RUN", "--n", "1"], "argument --n: expected an integer >= 2, found 1"),
    (["eval", "RUN", "--data", "bogus"], "--data bogus: unknown dataset 'bogus': expected "
                                         "one of mnist5k"),
    (["sample", "RUN", "--seed", "-2"], "argument --seed: expected a seed, an integer >= 0"),
    (["sample", "RUN", "--out", "x.jpg"], "expected a file ending in .png, .npy, .npz or a "
                                          "folder, found '.jpg'"),
])
def test_bad_input_names_its_option_and_exits_2(points_run, tmp_path, capsys, argv, message):
    argv = [str(points_run) if a == "RUN" else a for a in argv]
    if argv[0] == "train":
        argv += ["--data", "ring8:64", "--steps", "1", "--out", tmp_path]
    status, _, err = run_main(argv, capsys)
    assert status == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "log.jsonl").exists()


def test_sample_writes_into_the_run_or_a_folder_and_says_where(points_run, tmp_path,
                                                               capsys):
    status, out, _ = run_main(["sample", points_run, "--n", "5"], capsys)
    assert status == 0 and out == f"wrote 5 samples to {points_run / 'grid.png'}\n"
    assert imread(points_run / "grid.png").ndim == 3
    status, out, err = run_main(["sample", points_run, "--n", "5", "--out", tmp_path], capsys)
    assert status == 0 and out == f"wrote 5 samples to {tmp_path / 'grid.png'}\n"
    assert os.listdir(tmp_path) == ["grid.png"]


def test_cgan_on_unlabelled_data_is_refused_before_training(tmp_path, capsys):
    _drawings(tmp_path / "cats.npy", 0)
    status, _, err = run_main(["train", "cgan", "--data", f"quickdraw:{tmp_path / 'cats.npy'}",
                               "--steps", "2", "--out", tmp_path / "run"], capsys)
    assert status == 2 and "cgan is class-conditional: it needs a labelled data set" in err
    assert not (tmp_path / "run").exists()


def test_progress_line_when_stderr_is_not_a_terminal(tmp_path, capsys):
    """Under pytest stderr is not a terminal, as in a log file or a cluster job: no bar,
    but progress lines (every 30 s, and the last one)."""
    status, _, err = run_main(["train", "vanilla", *TINY, "--steps", "3", "--out", tmp_path],
                              capsys)
    assert status == 0 and err.startswith("vanilla step 3/3  loss_D ") and "it/s" in err


def test_exit_codes_follow_the_docstring(points_run, tmp_path, capsys, monkeypatch):
    """Bad input 2 (here a path through a file), a failed run 1 (a full disk, no memory),
    one line on stderr each."""
    (tmp_path / "file").write_text("not a folder")
    status, _, err = run_main(["sample", points_run, "--out", tmp_path / "file" / "s.png"],
                              capsys)
    assert status == 2 and f"File exists: {str(tmp_path / 'file')!r}" in err
    from minigan import train as train_module

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(train_module, "save_checkpoint", disk_full)
    status, _, err = run_main(["train", "vanilla", *TINY, "--steps", "1", "--out",
                               tmp_path / "run"], capsys)
    assert status == 1
    assert err.splitlines()[-1] == "minigan train: error: [Errno 28] No space left on device"

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(train_module, "save_checkpoint", no_memory)
    status, _, err = run_main(["train", "vanilla", *TINY, "--steps", "1", "--overwrite",
                               "--out", tmp_path / "run"], capsys)
    assert status == 1 and err.splitlines()[-1] == "minigan train: error: MemoryError"


def test_a_second_sigterm_stops_at_once_with_143(tmp_path, capsys, monkeypatch):
    real_step = Vanilla.step

    def terminate_twice(self, batch):
        losses = real_step(self, batch)
        if self.d_updates == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # finish the step and save, please ...
            os.kill(os.getpid(), signal.SIGTERM)  # ... no: now
        return losses

    monkeypatch.setattr(Vanilla, "step", terminate_twice)
    status, _, err = run_main(["train", "vanilla", *TINY, "--steps", "50", "--checkpoint-every",
                               "50", "--out", tmp_path], capsys)
    assert status == 143 and "minigan train: error: SIGTERM: stopped without saving" in err
    assert not (tmp_path / "checkpoint.npz").exists()
