"""minigan.checkpoint: a damaged or hostile training checkpoint is one clear error.

Each case takes a real checkpoint of a tiny vanilla run, changes one entry the way a
damaged disk, a hand edit or a diverged run would, writes it back with the plain
serializer, and expects ``load_checkpoint``/``build_model`` (and so ``minigan sample``
and ``eval``) to name the entry in one line, never a TypeError or KeyError from deep
inside the loop (issue 16, items 2 and 8)."""
import numpy as np
import pytest

import minigan
from minigan import cli
from minigan.autograd import Tensor
from minigan.checkpoint import (NonFiniteState, build_model, find_nonfinite, load_checkpoint,
                                save_checkpoint)
from minigan.data import DataLoader, load_dataset
from minigan.models.vanilla import Vanilla
from minigan.serialization import CheckpointError, load, save
from minigan.train import train


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """The path of a 2-step checkpoint of a tiny vanilla GAN on ring8."""
    out = tmp_path_factory.mktemp("good")
    minigan.manual_seed(0)
    loader = DataLoader(load_dataset("ring8:64"), batch_size=16, seed=0)
    train(Vanilla((2,), latent_dim=4, hidden=8), loader, out, steps=2, sample_every=100,
          progress=False)
    return out / "checkpoint.npz"


def damaged(good, tmp_path, change):
    """A copy of ``good`` with ``change(checkpoint_dict)`` applied."""
    checkpoint = load(good, device="cpu")
    change(checkpoint)
    path = tmp_path / "damaged.npz"
    save(checkpoint, path)
    return path


def _set(*keys, value):
    def change(checkpoint):
        node = checkpoint
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return change


def _delete(*keys):
    def change(checkpoint):
        node = checkpoint
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]
    return change


CORRUPT = [
    (_set("step", value="12"), "step is '12', expected an int >= 0"),
    (_set("step", value=2.0), "step is 2.0, expected an int >= 0"),
    (_set("step", value=-5), "step is -5, expected an int >= 0"),
    (_set("elapsed", value=float("nan")), "elapsed is nan"),
    (_set("state", "counters", "d_updates", value=-1), "counter d_updates is -1"),
    (_set("state", "counters", "g_updates", value=True), "counter g_updates is True"),
    (_delete("loader", "position"), "the loader state lacks 'position'"),
    (_set("loader", "epoch", value=-2), "the loader's epoch is -2, expected an int >= 0"),
    (_set("loader", value=[1, 2]), "loader is [1, 2], expected a dict"),
    (_set("rng", "state", value="not a number"), "expected the state of a PCG64 generator"),
    (_set("state", "optimizers", "G", "state", 0, "step", value=-3),
     "the optimizer of G: step of parameter 0 is -3"),
    (_set("state", "optimizers", "D", "state", 1, "exp_avg", value=Tensor(np.zeros(8, int))),
     "the optimizer of D: exp_avg of parameter 1 is int64, expected floats"),
    (_delete("state", "optimizers", "D", "param_groups"),
     "the optimizer of D lacks its state or param_groups"),
    (_set("model", "data_shape", value=[2, 0]), "model data_shape is [2, 0]"),
    (_set("meta", value="x"), "meta is a str, expected a dict"),
]


@pytest.mark.parametrize("change, message", CORRUPT)
def test_a_damaged_entry_is_one_corrupt_checkpoint_line(good, tmp_path, change, message):
    path = damaged(good, tmp_path, change)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    assert str(error.value) == f"corrupt checkpoint {str(path)!r}: {message}" or \
        (str(error.value).startswith(f"corrupt checkpoint {str(path)!r}: ")
         and message in str(error.value))
    assert "\n" not in str(error.value)


STATE_MISFITS = [
    # an int64 weight would be cast silently by load_state_dict: it is refused instead
    (_set("state", "networks", "G", "0.weight", value=Tensor(np.zeros((8, 4), np.int64))),
     r"network G of vanilla: 0.weight is int64 \(8, 4\) in the checkpoint, the model's is "
     r"float32 \(8, 4\)"),
    (_set("state", "networks", "D", "2.bias", value=Tensor(np.zeros(3, np.float32))),
     r"does not fit the model: vanilla: network D: .*size mismatch for 2.bias: copying a "
     r"param with shape \(3,\) from checkpoint, the shape in current model is \(1,\)"),
    (_delete("state", "networks", "G", "2.weight"),
     r"does not fit the model: vanilla: network G: .*Missing key\(s\) in state_dict: "
     r"\"2.weight\""),
    (_set("model", "config", "hidden", value=9),
     r"vanilla: network G: .*size mismatch for 0.weight: copying a param with shape \(8, 4\) "
     r"from checkpoint, the shape in current model is \(9, 4\)"),
    (_set("model", "config", "lr", value=-1.0), r"its model description does not build a "
                                                r"model: vanilla: lr must be a number >= 0"),
    (_set("model", "config", "momentum", value=0.9), r"unknown option 'momentum'"),
    (_set("state", "optimizers", "G", "state", 0, "exp_avg",
          value=Tensor(np.zeros(3, np.float32))), r"optimizer of G: loaded state 'exp_avg' "
                                                  r"has shape \(3,\)"),
]


@pytest.mark.parametrize("change, message", STATE_MISFITS)
def test_a_state_that_does_not_fit_its_model_names_the_network(good, tmp_path, change,
                                                               message):
    path = damaged(good, tmp_path, change)
    with pytest.raises(CheckpointError, match=rf"^corrupt checkpoint '.*damaged.npz': .*"
                                              rf"{message}"):
        build_model(load_checkpoint(path))


def test_an_unknown_model_is_named(good, tmp_path):
    path = damaged(good, tmp_path, _set("model", "name", value="stylegan9"))
    with pytest.raises(CheckpointError, match=r"damaged.npz: unknown model 'stylegan9': "
                                              r"expected one of"):
        build_model(load_checkpoint(path))


def test_non_finite_weights_are_neither_saved_nor_loaded(good, tmp_path):
    """The issue: a diverged run saved a checkpoint full of inf, and sample/eval drew
    from it. Writing refuses such a state; reading one (written before) says why."""
    checkpoint = load(good, device="cpu")
    checkpoint["state"]["networks"]["G"]["0.weight"].data[1, 2] = np.inf
    checkpoint["state"]["networks"]["G"]["0.weight"].data[0, 0] = np.nan
    assert find_nonfinite(checkpoint["state"]) == \
        "network G's 0.weight holds 1 nan and 1 inf (of 32 values)"
    model = Vanilla((2,), latent_dim=4, hidden=8)
    model.load_state_dict(checkpoint["state"])
    with pytest.raises(NonFiniteState, match=r"not written: network G's 0.weight holds"):
        save_checkpoint(tmp_path / "x.npz", model, 2, 1.0, checkpoint["rng"],
                        checkpoint["loader"], checkpoint["preview"], checkpoint["meta"])
    assert not (tmp_path / "x.npz").exists()
    save(checkpoint, tmp_path / "inf.npz")  # as the old minigan did
    with pytest.raises(NonFiniteState, match=r"inf.npz' \(step 2\): network G's 0.weight "
                                             r"holds 1 nan and 1 inf .*the run had diverged"):
        load_checkpoint(tmp_path / "inf.npz")


@pytest.mark.parametrize("command", [["sample", "--out", "{tmp}/s.png"], ["eval", "--n", "2"]])
@pytest.mark.parametrize("change, message", [
    (_set("step", value="12"), "corrupt checkpoint"),
    (_delete("loader", "seed"), "corrupt checkpoint"),
    (_set("state", "networks", "G", "0.weight", value=Tensor(np.full((8, 4), np.inf,
                                                                     np.float32))),
     "the run had diverged"),
    (_set("state", "networks", "D", "0.weight", value=Tensor(np.zeros((8, 5), np.float32))),
     "corrupt checkpoint"),
])
def test_sample_and_eval_of_a_damaged_checkpoint_exit_2_in_one_line(good, tmp_path, capsys,
                                                                    command, change, message):
    path = damaged(good, tmp_path, change)
    argv = [command[0], str(path)] + [a.format(tmp=tmp_path) for a in command[1:]]
    status = cli.main(argv)
    out, err = capsys.readouterr()
    assert status == 2 and message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "s.png").exists()
