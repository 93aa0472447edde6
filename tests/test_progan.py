"""Progressive GAN (minigan/models/progan.py): the schedule and its α, the fade blend inside
both networks and on the real images, growth of the parameter set, Adam restarts, the
weight average, and bit-exact resumption across growth steps. The α bug class (α
overwritten by a default, reset on resume, or not advancing) has a test of its own."""

import numpy as np
import pytest

import minigan
from minigan import backend, gradcheck, gradgradcheck
from minigan.checkpoint import build_model, load_checkpoint
from minigan.data import DataLoader, Dataset
from minigan.functional import avg_pool2d, interpolate
from minigan.models.losses import drift_penalty
from minigan.models.progan import ProGAN, resolutions, schedule
from minigan.serialization import load, save
from minigan.train import read_log, train
from tests.helpers import randn64

SHAPE = (1, 28, 28)


def tiny(**options):
    """A narrow ProGAN whose levels change every 2 steps at batch 4 (8 images a phase)."""
    return ProGAN(SHAPE, **{"width": 8, "latent_dim": 8, "stable_images": 8,
                            "fade_images": 8, **options})


def digits(n=24):
    rng = np.random.default_rng(0)
    return Dataset(rng.uniform(-1, 1, (n,) + SHAPE).astype(np.float32), name="tiny")


def weights(model):
    return {f"{net}.{k}": v.numpy().copy() for net, m in model.networks.items()
            for k, v in m.state_dict().items()}


# ==================== the schedule ====================

def test_resolutions_halve_while_even():
    assert resolutions(28) == [7, 14, 28]
    assert resolutions(32) == [4, 8, 16, 32]
    assert resolutions(7) == [7]


def test_schedule_by_hand():
    """levels 3, S = 8, F = 16: phase 0 on [0, 8), fade 1 on [8, 24), stable 1 on [24, 32),
    fade 2 on [32, 48), stable 2 from 48 on; α = images into the fade / 16."""
    expected = {0: (0, 1.0), 7: (0, 1.0), 8: (1, 0.0), 12: (1, 0.25), 23: (1, 15 / 16),
                24: (2, 1.0), 31: (2, 1.0), 32: (3, 0.0), 40: (3, 0.5), 48: (4, 1.0),
                10 ** 6: (4, 1.0)}
    for images, phase_alpha in expected.items():
        assert schedule(images, 3, 8, 16) == phase_alpha, images
    assert schedule(123, 1, 8, 16) == (0, 1.0)


# ==================== the α bug class ====================

def test_alpha_follows_the_schedule_step_by_step_and_is_the_alpha_the_networks_use():
    """α rises 0, ¼, ½, ¾ through a 16-image fade at batch 4 (not stuck at one value, not
    overwritten by 1), and every step's real images are blended with that same α."""
    minigan.manual_seed(0)
    model = tiny(fade_images=16)
    batches = DataLoader(digits(), 4, seed=0).batches()
    seen = []
    for _ in range(8):
        logs = model.step(next(batches))
        seen.append((logs["level"], logs["alpha"]))
    assert seen == [(0, 1), (0, 1), (1, 0), (1, .25), (1, .5), (1, .75), (1, 1), (1, 1)]


def test_real_images_are_pooled_to_the_level_and_faded_with_alpha():
    minigan.manual_seed(0)
    x = minigan.rand(4, *SHAPE)
    for real_fade in (True, False):
        model = tiny(fade_images=16, real_fade=real_fade)
        model.images_seen = 12                      # level 1, α = 4/16
        model.enter(1)
        assert (model.resolution, model.alpha) == (14, 0.25)
        x14 = avg_pool2d(x, 2).numpy()
        blurred = x14.reshape(4, 1, 7, 2, 7, 2).mean(axis=(3, 5)).repeat(2, 2).repeat(2, 3)
        expected = 0.75 * blurred + 0.25 * x14 if real_fade else x14
        np.testing.assert_allclose(model.real_images(x).numpy(), expected, atol=1e-6)


def test_the_networks_blend_old_and_new_paths_with_alpha():
    """G(z) = (1 − α) up(toRGB₀(h)) + α toRGB₁(block₁(h));
    D(x) = final((1 − α) fromRGB₀(pool(x)) + α block₁(fromRGB₁(x)))."""
    minigan.manual_seed(0)
    model = tiny()
    model.images_seen = 8
    model.enter(1)
    G, D = model.G, model.D
    z, x = minigan.randn(4, 8), minigan.randn(4, 1, 14, 14)
    h = G.base(z)
    old = interpolate(G.to_rgb[0](h), scale_factor=2).numpy()
    new = G.to_rgb[1](G.blocks[0](h)).numpy()
    np.testing.assert_allclose(G(z, 0.3).numpy(), 0.7 * old + 0.3 * new, atol=1e-5)
    h_old = D.from_rgb[0](avg_pool2d(x, 2)).numpy()
    h_new = D.blocks[0](D.from_rgb[1](x)).numpy()
    np.testing.assert_allclose(D(x, 0.3).numpy(),
                               D.final(minigan.tensor(0.7 * h_old + 0.3 * h_new)).numpy(),
                               atol=1e-5)
    assert G(z, 1.0).numpy().tolist() == new.tolist()


def test_gradients_with_respect_to_alpha_through_both_networks():
    """The fade is the only place α enters; ∂G/∂α and ∂D/∂α through the whole (float64)
    networks against finite differences (second order: the fade's own test)."""
    minigan.manual_seed(0)
    model = tiny(width=8)
    model.images_seen = 8
    model.enter(1)
    for p in list(model.G.parameters()) + list(model.D.parameters()):
        p.data = p.data.astype(np.float64)
    z, x = randn64(4, 8, requires_grad=False), randn64(4, 1, 14, 14, requires_grad=False)
    alpha = minigan.tensor(0.4, dtype="float64", requires_grad=True)
    assert gradcheck(lambda a: model.G(z, a), [alpha])
    assert gradcheck(lambda a: model.D(x, a), [alpha])


def test_the_model_generates_and_judges_with_its_own_alpha_mid_fade():
    """Not with α = 1 (the fade overwritten by a default) nor any other value."""
    minigan.manual_seed(0)
    model = tiny()
    model.images_seen = 12
    model.enter(1)
    z, x = minigan.randn(4, 8), minigan.randn(4, 1, 14, 14)
    assert model.alpha == 0.5
    assert model.generate(z).numpy().tolist() == model.G(z, 0.5).numpy().tolist()
    assert model.discriminate(x).numpy().tolist() == model.D(x, 0.5).numpy().tolist()
    assert not np.allclose(model.G(z, 0.5).numpy(), model.G(z, 1.0).numpy())
    assert not np.allclose(model.D(x, 0.5).numpy(), model.D(x, 1.0).numpy())


def test_the_critic_loss_is_wasserstein_plus_drift():
    model = tiny(drift=0.25)
    real, fake = minigan.tensor([[1.0], [3.0]]), minigan.tensor([[0.5], [-0.5]])
    assert model.d_loss(real, fake).item() == pytest.approx(0.0 - 2.0 + 0.25 * 5.0)


def test_alpha_is_restored_on_resume_mid_fade_not_reset():
    minigan.manual_seed(0)
    model = tiny()
    batches = DataLoader(digits(), 4, seed=0).batches()
    for _ in range(3):                              # the third step starts the fade at α 0
        model.step(next(batches))
    assert model.alpha == 0.5
    minigan.manual_seed(7)
    fresh = tiny()
    assert fresh.alpha == 1.0 and fresh.level == 0
    fresh.load_state_dict(model.state_dict())
    assert (fresh.level, fresh.alpha, fresh.images_seen) == (1, 0.5, 12)
    assert fresh.step(next(batches))["alpha"] == 0.5


def test_a_saved_alpha_that_contradicts_the_images_seen_is_refused():
    minigan.manual_seed(0)
    model = tiny()
    batches = DataLoader(digits(), 4, seed=0).batches()
    for _ in range(3):
        model.step(next(batches))
    state = model.state_dict()
    state["progress"]["alpha"] = 1.0
    with pytest.raises(ValueError, match=r"saved state says α = 1.0, but its 12 images seen "
                                         r"give α = 0.5"):
        tiny().load_state_dict(state)


# ==================== growth, Adam, EMA ====================

def test_growing_adds_parameters_keeps_the_old_ones_and_restarts_adam():
    minigan.manual_seed(0)
    model = tiny()
    old = {name: p for name, p in model.G.named_parameters()}
    batches = DataLoader(digits(), 4, seed=0).batches()
    model.step(next(batches))
    assert len(model.optimizers["G"].state) == len(old)
    model.images_seen = 8
    model.step(next(batches))                        # enters level 1's fade
    grown = dict(model.G.named_parameters())
    assert set(old) < set(grown)
    assert all(grown[name] is p for name, p in old.items())
    new = set(grown) - set(old)
    assert new and all(n.startswith(("blocks.0.", "to_rgb.1.")) for n in new)
    optimizer = model.optimizers["G"]
    assert len(optimizer.param_groups[0]["params"]) == len(grown)
    assert all(state["step"] == 1 for state in optimizer.state.values())  # one step since
    assert set(dict(model.G_ema.named_parameters())) == set(grown)
    model.images_seen = 16                           # the fade ends: Adam restarts again
    model.step(next(batches))
    assert all(state["step"] == 1 for state in model.optimizers["D"].state.values())


def test_the_average_of_a_newborn_layer_starts_as_the_layer():
    minigan.manual_seed(0)
    model = tiny()
    model.grow_to(2)
    average = dict(model.G_ema.named_parameters())
    for name, p in model.G.named_parameters():
        assert np.array_equal(average[name].numpy(), p.numpy()), name
        assert not average[name].requires_grad


def test_a_model_cannot_shrink_to_an_earlier_level():
    minigan.manual_seed(0)
    grown = tiny(grow=False)
    with pytest.raises(ValueError, match="at level 2 and cannot shrink to level 0"):
        grown.load_state_dict(tiny().state_dict())


def test_the_generator_average_and_samples_from_it():
    """θ_ema ← β θ_ema + (1 − β) θ with β = min(ema, (1 + t)/(10 + t)) after t updates:
    0.1 at the first update, 0.75 (the option) from t = 26 on."""
    minigan.manual_seed(0)
    model = tiny(ema=0.75)
    batches = DataLoader(digits(), 4, seed=0).batches()
    for t, beta in ((0, 0.1), (26, 0.75)):
        model.g_updates = t
        before = {k: p.numpy().copy() for k, p in model.G_ema.named_parameters()}
        model.step(next(batches))
        for name, p in model.G.named_parameters():
            np.testing.assert_allclose(dict(model.G_ema.named_parameters())[name].numpy(),
                                       beta * before[name] + (1 - beta) * p.numpy(),
                                       rtol=1e-5, atol=1e-7)
    z = minigan.randn(3, 8)
    expected = np.clip(model.G_ema(z).numpy().repeat(4, 2).repeat(4, 3), -1, 1)
    np.testing.assert_array_equal(model.sample(3, noise=z).numpy(), expected)


def test_the_fixed_baseline_is_full_size_from_the_first_step():
    model = tiny(grow=False)
    assert (model.level, model.resolution, model.alpha) == (2, 28, 1.0)
    logs = model.step(next(DataLoader(digits(), 4, seed=0).batches()))
    assert (logs["level"], logs["alpha"]) == (2.0, 1.0)


# ==================== bit-exact resumption across growth ====================

def test_resuming_across_growth_steps_is_bit_exact(tmp_path):
    """10 steps in one go against 10 steps in three legs (checkpoints after steps 2 and 5:
    before the first growth and after it, in the middle of a fade), each leg a fresh model
    built with another seed and loaded from a checkpoint file, with minigan's RNG and the
    loader's position restored. Levels grow at steps 3 and 7."""
    data = digits()

    def run(legs):
        minigan.manual_seed(0)
        model = tiny()
        loader = DataLoader(data, 4, seed=0)
        logs, done = [], 0
        for leg, until in enumerate(legs):
            if leg:
                saved = load(tmp_path / "ckpt.npz")
                minigan.manual_seed(100 + leg)
                model = tiny()
                model.load_state_dict(saved["state"])
                loader = DataLoader(data, 4, seed=leg)
                loader.load_state_dict(saved["loader"])
                backend.set_rng_state(saved["rng"])
            batches = loader.batches()
            for _ in range(until - done):
                logs.append(model.step(next(batches)))
            done = until
            save({"state": model.state_dict(), "loader": loader.state_dict(),
                  "rng": backend.get_rng_state()}, tmp_path / "ckpt.npz")
        return model, logs

    whole, logs_whole = run([10])
    legs, logs_legs = run([2, 5, 10])
    assert [(r["level"], r["alpha"]) for r in logs_whole][2:8] == [
        (1, 0), (1, .5), (1, 1), (1, 1), (2, 0), (2, .5)]
    assert logs_legs == logs_whole
    a, b = weights(whole), weights(legs)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert legs.images_seen == whole.images_seen == 40


def test_a_training_run_resumes_across_a_growth_step(tmp_path):
    """What ``minigan train --resume`` does: 8 steps of ``train`` in one go against 3
    steps (the checkpoint is at level 1, mid-fade), then a model rebuilt from that
    checkpoint file (built at level 0, grown by loading) and resumed to step 8 through
    the second growth (step 7): the same log, the same weights."""
    data = digits()
    options = {"sample_every": 100, "checkpoint_every": 100, "progress": False}
    minigan.manual_seed(0)
    whole = tiny()
    train(whole, DataLoader(data, 4, seed=0), tmp_path / "whole", steps=8, **options)
    minigan.manual_seed(0)
    train(tiny(), DataLoader(data, 4, seed=0), tmp_path / "legs", steps=3, **options)
    checkpoint = load_checkpoint(tmp_path / "legs")
    minigan.manual_seed(5)
    resumed = build_model(checkpoint)
    assert (checkpoint["step"], resumed.level, resumed.alpha) == (3, 1, 0.5)
    train(resumed, DataLoader(data, 4, seed=1), tmp_path / "legs", steps=8,
          resume=tmp_path / "legs", **options)
    logs = [[{k: v for k, v in r.items() if k != "elapsed"}
             for r in read_log(tmp_path / run / "log.jsonl")] for run in ("whole", "legs")]
    assert [(r["level"], r["alpha"]) for r in logs[0]][6:] == [(2, 0), (2, .5)]
    assert logs[1] == logs[0]
    a, b = weights(whole), weights(resumed)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)


# ==================== the drift term ====================

def test_drift_penalty_value_and_derivatives():
    scores = randn64(5, 1)
    value = drift_penalty(scores, 1e-3)
    assert value.item() == pytest.approx(1e-3 * (scores.numpy() ** 2).mean(), rel=1e-12)
    (g,) = minigan.grad(value, scores)
    np.testing.assert_allclose(g.numpy(), 2e-3 * scores.numpy() / 5, rtol=1e-12)
    assert gradcheck(lambda s: drift_penalty(s, 0.5), [scores])
    assert gradgradcheck(lambda s: drift_penalty(s, 0.5), [scores])
