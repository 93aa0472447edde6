"""The model protocol, checked for every model of the registry (``minigan.models.MODELS``):
a new model file is tested here without a line added. Each model is built with its own
defaults on tiny data made from what it declares (``data_kinds``, ``needs``)."""
import argparse
import inspect
import math

import numpy as np
import pytest
from matplotlib.image import imread

import minigan
from minigan import backend, cli
from minigan.checkpoint import build_model, load_checkpoint
from minigan.data import DataLoader, Dataset
from minigan.models import KINDS, MODELS, by_kind, get_model
from minigan.models.base import Model
from minigan.models.options import Option
from minigan.train import read_log, train

NAMES = sorted(MODELS)
CLASSES = 10
IMAGE = (1, 28, 28)


def data_shape(cls):
    return IMAGE if "image" in cls.data_kinds else (2,)


def tiny_dataset(cls, n=8):
    """n samples of what ``cls`` reads: "x" in [-1, 1], labels "y" cycling over the
    classes, and any other field shaped like "x" (the input of a paired task, say)."""
    rng = np.random.default_rng(0)
    shape = data_shape(cls)
    fields = {f: rng.uniform(-1, 1, (n,) + shape).astype(np.float32)
              for f in cls.needs if f not in ("x", "y")}
    labels = np.arange(n) % CLASSES if "y" in cls.needs else None
    return Dataset(rng.uniform(-1, 1, (n,) + shape).astype(np.float32), labels,
                   name="tiny", num_classes=CLASSES if labels is not None else None, **fields)


def build(name, device="cpu"):
    cls = get_model(name)
    return cls(data_shape(cls), CLASSES, device)


def batch_of(cls, device="cpu", n=4):
    return next(iter(DataLoader(tiny_dataset(cls, n), n, shuffle=False, device=device)))


# ==================== declarations ====================

@pytest.mark.parametrize("name", NAMES)
def test_every_model_declares_what_the_loop_needs(name):
    cls = MODELS[name]
    assert issubclass(cls, Model) and cls.name == name and cls.kind in KINDS
    assert set(cls.data_kinds) <= {"image", "points"} and cls.data_kinds
    assert "x" in cls.needs
    names = [o.name for o in cls.options]
    assert all(isinstance(o, Option) for o in cls.options) and len(set(names)) == len(names)
    module_doc = inspect.getmodule(cls).__doc__ or ""
    assert len(module_doc.splitlines()) > 5, f"{name}: the module docstring states its objective"


def test_the_registry_groups_models_by_kind():
    groups = by_kind()
    assert list(groups) == [k for k in KINDS if k in groups]
    assert sorted(n for models in groups.values() for n in models) == NAMES
    assert {"vanilla", "dcgan", "wgan", "wgan-gp", "cgan"} <= set(groups["adversarial"])


@pytest.mark.parametrize("name", NAMES)
def test_cli_defaults_equal_constructor_defaults(name):
    """The flags of `minigan train NAME` come from the same options as the keyword
    arguments: parsing no flags gives exactly the config of a model built with none."""
    args = cli.build_parser().parse_args(["train", name])
    from_cli = {option: getattr(args, option) for option in args.model_options}
    assert from_cli == build(name).config()
    signature = inspect.signature(MODELS[name])
    assert {p.name: p.default for p in signature.parameters.values()
            if p.kind is p.KEYWORD_ONLY} == from_cli


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_names_real_options_with_valid_values(name):
    """A preset is a partial set of option values: each name an option of the model, each
    value one its option accepts; the model builds from it and reports those values."""
    cls = MODELS[name]
    assert isinstance(cls.presets, dict)
    options = {o.name: o for o in cls.options}
    for preset, values in cls.presets.items():
        assert values and set(values) <= set(options), f"{name} --preset {preset}"
        for option, value in values.items():
            assert options[option].check(value, name) == value
        model = cls(data_shape(cls), CLASSES, "cpu", **values)
        assert {k: model.config()[k] for k in values} == values


@pytest.mark.parametrize("name", [n for n in NAMES if MODELS[n].presets])
def test_cli_preset_sets_option_defaults_and_explicit_flags_win(name):
    cls = MODELS[name]
    for preset, values in cls.presets.items():
        args = cli.parse_args(["train", name, "--preset", preset])
        from_cli = {option: getattr(args, option) for option in args.model_options}
        defaults = {o.name: o.default for o in cls.options}
        assert from_cli == {**defaults, **values}
        option = next(o for o in cls.options if o.kind is int and o.name in values)
        flag = "--" + option.name.replace("_", "-")
        value = values[option.name] + 1
        for argv in ([flag, str(value), "--preset", preset], ["--preset", preset, flag,
                                                              str(value)]):
            args = cli.parse_args(["train", name, *argv])
            assert getattr(args, option.name) == value
    with pytest.raises(SystemExit):
        cli.parse_args(["train", name, "--preset", "no-such-preset"])


@pytest.mark.parametrize("name", [n for n in NAMES if MODELS[n].presets])
def test_a_preset_on_resume_counts_as_giving_its_options(name):
    # a run trained with the defaults, resumed with --preset: every option the preset
    # changes is refused by name; without --preset nothing is
    cls = MODELS[name]
    defaults = {o.name: o.default for o in cls.options}
    meta = {"batch_size": 64, "seed": 0}
    plain = cli.parse_args(["train", name, "--resume", "run"])
    cli._refuse_changes(plain, meta, defaults)
    for preset, values in cls.presets.items():
        changed = sorted(o for o, v in values.items() if v != defaults[o])
        args = cli.parse_args(["train", name, "--resume", "run", "--preset", preset])
        assert set(values) <= args.given
        if not changed:
            cli._refuse_changes(args, meta, defaults)
            continue
        with pytest.raises(cli.UsageError) as refused:
            cli._refuse_changes(args, meta, defaults)
        for option in changed:
            assert f"--{option.replace('_', '-')} " in str(refused.value)


@pytest.mark.parametrize("name", NAMES)
def test_config_rebuilds_the_model_and_unknown_options_are_named(name):
    model = build(name)
    again = type(model)(model.data_shape, model.num_classes, "cpu", **model.config())
    assert again.config() == model.config()
    with pytest.raises(ValueError, match=rf"{name}: unknown option 'no_such_option'"):
        type(model)(model.data_shape, CLASSES, "cpu", no_such_option=1)


@pytest.mark.parametrize("name", NAMES)
def test_every_option_is_checked(name):
    """A value of the wrong type is refused with the option's name, for every option."""
    cls = MODELS[name]
    for option in cls.options:
        bad = "not a number" if option.kind in (int, float) else 3.5
        with pytest.raises(ValueError, match=rf"{name}: {option.name} must be"):
            cls(data_shape(cls), CLASSES, **{option.name: bad})


# ==================== the protocol ====================

@pytest.mark.parametrize("name", NAMES)
def test_step_returns_finite_floats_and_sample_has_the_data_shape(name, device):
    cls = MODELS[name]
    model = build(name, device)
    for _ in range(2):
        logs = model.step(batch_of(cls, device))
        assert logs and all(isinstance(v, float) and math.isfinite(v) for v in logs.values())
    x = model.sample(3)
    assert x.shape == (3,) + model.data_shape and not x.requires_grad and x.device == device


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_gives_the_same_next_step(name):
    cls = MODELS[name]
    a = build(name)
    batch = batch_of(cls)
    a.step(batch)
    minigan.manual_seed(99)                 # b starts from other weights
    b = build(name)
    b.load_state_dict(a.state_dict())
    rng = backend.get_rng_state()
    logs_a = a.step(batch)
    backend.set_rng_state(rng)
    assert b.step(batch) == logs_a


@pytest.mark.parametrize("name", NAMES)
def test_a_run_previews_checkpoints_and_resumes(name, tmp_path):
    cls = MODELS[name]
    dataset = tiny_dataset(cls)
    minigan.manual_seed(0)
    model = build(name)
    train(model, DataLoader(dataset, 4, seed=0), tmp_path, steps=2, sample_every=2,
          progress=False)
    assert imread(tmp_path / "samples_000002.png").ndim == 3
    checkpoint = load_checkpoint(tmp_path)
    assert checkpoint["model"]["name"] == name and checkpoint["step"] == 2
    minigan.manual_seed(1)
    resumed = build_model(checkpoint)
    train(resumed, DataLoader(dataset, 4, seed=1), tmp_path, steps=3, resume=tmp_path,
          progress=False)
    assert [r["step"] for r in read_log(tmp_path / "log.jsonl")] == [1, 2, 3]


@pytest.mark.parametrize("name", NAMES)
def test_a_model_refuses_data_without_the_fields_it_reads(name, tmp_path):
    cls = MODELS[name]
    model = build(name)
    bare = Dataset(np.zeros((8,) + model.data_shape, np.float32), name="bare")
    missing = [f for f in cls.needs if f != "x"]
    if missing:
        with pytest.raises(ValueError, match=rf"{name} needs the batch fields .* but bare has "
                                             rf"no {missing[0]}"):
            train(model, DataLoader(bare, 4), tmp_path, steps=1, progress=False)
    wrong = Dataset(np.zeros((8, 3), np.float32), name="wrong")
    with pytest.raises(ValueError, match=rf"wrong holds samples of shape \(3,\), but {name}"):
        train(model, DataLoader(wrong, 4), tmp_path, steps=1, progress=False)


def test_the_option_spec_makes_flags_with_their_defaults():
    parser = argparse.ArgumentParser()
    for option in (Option("lr", 2e-4, "learning rate", least=0),
                   Option("norm", "batch", "D's norm", choices=("batch", "none")),
                   Option("no_gan", False, "L1 only"),
                   Option("d_width", None, "D's width", least=1, type=int)):
        option.add_to(parser)
    assert vars(parser.parse_args([])) == {"lr": 2e-4, "norm": "batch", "no_gan": False,
                                           "d_width": None}
    parsed = parser.parse_args(["--lr", "1e-3", "--no-gan", "--d-width", "8"])
    assert (parsed.lr, parsed.no_gan, parsed.d_width) == (1e-3, True, 8)
    assert "(default 0.0002)" in parser.format_help()
