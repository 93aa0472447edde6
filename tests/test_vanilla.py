"""The vanilla GAN (notes 004): G's two losses against the notes' hand derivations, D's and
G's losses against a NumPy MLP written from the formulas, the k-step schedule, frozen D,
sampling, state dicts, the registry and bad options."""
import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.models import MODELS, get_model
from minigan.models import losses as L
from minigan.models.adversarial import AdversarialModel
from minigan.models.base import Model
from minigan.models.vanilla import Vanilla

G_LOSSES = {"minimax": L.g_loss_minimax, "nonsaturating": L.g_loss_nonsaturating}


def sigma(l):
    return 1 / (1 + np.exp(-l))


def logit(values, device="cpu"):
    return minigan.tensor(values, dtype="float64", device=device, requires_grad=True)


# ==================== G's losses: the notes' derivatives w.r.t. the logit ====================

@pytest.mark.parametrize("l", [-10.0, -2.0, 0.0, 0.7, 5.0])
def test_g_losses_values_and_derivatives_match_the_notes(l, device):
    # one logit, so the mean is the element itself
    x = logit([l], device)
    minimax, nonsat = G_LOSSES["minimax"](x), G_LOSSES["nonsaturating"](x)
    assert minimax.item() == pytest.approx(np.log(1 - sigma(l)), rel=1e-12)
    assert nonsat.item() == pytest.approx(-np.log(sigma(l)), rel=1e-12)
    # d/dl [log(1 − σ(l))] = −σ(l);  d/dl [−log σ(l)] = −(1 − σ(l))
    (g_minimax,) = minigan.grad(minimax, x)
    (g_nonsat,) = minigan.grad(nonsat, x)
    assert g_minimax.item() == pytest.approx(-sigma(l), rel=1e-12)
    assert g_nonsat.item() == pytest.approx(-(1 - sigma(l)), rel=1e-12)


def test_minimax_gradient_vanishes_where_nonsaturating_does_not(device):
    """D rejects the fakes: l = −10, D(G(z)) = σ(−10) ≈ 4.54e-5 (notes 004)."""
    x = logit([-10.0], device)
    (g_minimax,) = minigan.grad(G_LOSSES["minimax"](x), x)
    (g_nonsat,) = minigan.grad(G_LOSSES["nonsaturating"](x), x)
    assert abs(g_minimax.item()) == pytest.approx(4.5397868702434395e-05, rel=1e-9)
    assert abs(g_nonsat.item()) == pytest.approx(1 - 4.5397868702434395e-05, rel=1e-12)
    assert abs(g_nonsat.item()) / abs(g_minimax.item()) > 2e4


def test_g_losses_are_finite_at_extreme_logits(device):
    x = logit([-1000.0, 1000.0], device)
    for loss in G_LOSSES.values():
        value = loss(x)
        (g,) = minigan.grad(value, x)
        assert np.isfinite(value.item()) and np.all(np.isfinite(g.numpy()))


@pytest.mark.parametrize("name", sorted(G_LOSSES))
@pytest.mark.parametrize("shape", [(1,), (5, 1), (3, 2)])
def test_g_losses_gradcheck_first_and_second_order(name, shape, device):
    x = minigan.randn(*shape, dtype="float64", device=device, requires_grad=True)
    minigan.gradcheck(G_LOSSES[name], [x])
    minigan.gradgradcheck(G_LOSSES[name], [x])


# ==================== the step against a NumPy MLP ====================

def numpy_mlp(layers, x, hidden_slope, out):
    """Linear → activation → Linear (→ tanh), straight from the formulas, in float64."""
    (w1, b1), (w2, b2) = layers
    h = x @ w1.T + b1
    h = np.where(h > 0, h, hidden_slope * h)
    y = h @ w2.T + b2
    return np.tanh(y) if out == "tanh" else y


def weights(module):
    state = {k: v.numpy().astype(np.float64) for k, v in module.state_dict().items()}
    linears = sorted({k.split(".")[0] for k in state}, key=int)
    return [(state[f"{i}.weight"], state[f"{i}.bias"]) for i in linears]


def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


@pytest.mark.parametrize("g_loss", ["minimax", "nonsaturating"])
def test_step_losses_match_a_numpy_reference(g_loss):
    """With lr = 0 nothing moves, so the losses of one step can be recomputed from the
    weights and the noise the step drew (the RNG state is replayed)."""
    gan = Vanilla((1, 4, 4), lr=0.0, g_loss=g_loss, latent_dim=5, hidden=7)
    real = minigan.rand(6, 1, 4, 4) * 2 - 1
    state = backend.get_rng_state()
    losses = gan.step({"x": real})
    backend.set_rng_state(state)
    z = gan.noise(6).numpy().astype(np.float64)  # one fake batch serves both updates
    G, D = weights(gan.G), weights(gan.D)
    x = real.numpy().reshape(6, 16).astype(np.float64)
    l_real = numpy_mlp(D, x, 0.2, None)
    l_fake = numpy_mlp(D, numpy_mlp(G, z, 0.0, "tanh"), 0.2, None)
    # L_D = −E log D(x) − E log(1 − D(G(z)))
    assert losses["loss_D"] == pytest.approx(
        -np.mean(np.log(sigma(l_real))) - np.mean(np.log(1 - sigma(l_fake))), rel=1e-5)
    assert losses["D(x)"] == pytest.approx(np.mean(sigma(l_real)), rel=1e-5)
    assert losses["D(G(z))"] == pytest.approx(np.mean(sigma(l_fake)), rel=1e-5)
    l_g = l_fake                                  # lr = 0: D has not moved
    expected = (np.mean(np.log(1 - sigma(l_g))) if g_loss == "minimax"
                else -np.mean(np.log(sigma(l_g))))
    assert losses["loss_G"] == pytest.approx(expected, rel=1e-5)


def test_k_discriminator_steps_per_generator_step():
    gan = Vanilla((2,), k=3, latent_dim=4, hidden=8)
    real = minigan.randn(5, 2)
    g_before = [p.numpy().copy() for p in gan.G.parameters()]
    keys = [sorted(gan.step({"x": real})) for _ in range(2)]
    assert keys == [["D(G(z))", "D(x)", "loss_D"]] * 2
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(g_before, gan.G.parameters()))
    assert "loss_G" in gan.step({"x": real})
    assert not all(np.array_equal(a, p.numpy()) for a, p in zip(g_before, gan.G.parameters()))
    assert (gan.d_updates, gan.g_updates) == (3, 1)


def test_generator_step_leaves_d_unchanged_and_unfrozen_afterwards():
    gan = Vanilla((2,), latent_dim=4, hidden=8)
    d_before = [p.numpy().copy() for p in gan.D.parameters()]
    gan.generator_step(gan.generate(gan.noise(5)), None)
    for a, p in zip(d_before, gan.D.parameters()):
        assert np.array_equal(a, p.numpy())
        assert p.grad is None and p.requires_grad
    assert all(p.grad is not None for p in gan.G.parameters())


def test_discriminator_step_leaves_g_unchanged():
    gan = Vanilla((2,), latent_dim=4, hidden=8)
    g_before = [p.numpy().copy() for p in gan.G.parameters()]
    with minigan.no_grad():
        fake = gan.generate(gan.noise(5))
    gan.discriminator_step(minigan.randn(5, 2), fake, None)
    assert all(np.array_equal(a, p.numpy()) and p.grad is None
               for a, p in zip(g_before, gan.G.parameters()))


def test_adam_betas_and_learning_rate():
    gan = Vanilla((2,), lr=1e-3)
    for opt in gan.optimizers.values():
        assert opt.param_groups[0]["betas"] == (0.5, 0.999)
        assert opt.param_groups[0]["lr"] == 1e-3


# ==================== images and points ====================

def test_image_architecture_is_the_notes_mlp():
    gan = Vanilla((1, 28, 28))
    shapes = [tuple(p.shape) for p in gan.G.parameters()]
    assert shapes == [(128, 100), (128,), (784, 128), (784,)]
    assert [tuple(p.shape) for p in gan.D.parameters()] == [(128, 784), (128,), (1, 128),
                                                               (1,)]
    assert type(gan.G[-1]).__name__ == "Tanh"
    assert gan.D[1].negative_slope == 0.2


def test_sample_images_in_range_without_graph_and_without_side_effects():
    gan = Vanilla((1, 28, 28))
    z = gan.noise(10)
    state = backend.get_rng_state()
    x = gan.sample(10, noise=z)
    assert x.shape == (10, 1, 28, 28) and not x.requires_grad
    assert x.numpy().min() >= -1 and x.numpy().max() <= 1
    assert backend.get_rng_state() == state and gan.G.training
    assert np.array_equal(gan.sample(10, noise=z).numpy(), x.numpy())


def test_points_mode_maps_two_numbers_and_has_no_tanh():
    gan = Vanilla((2,), latent_dim=3, hidden=8)
    assert gan.data_kind == "points"
    assert tuple(gan.G[-1].weight.shape) == (2, 8) and tuple(gan.D[0].weight.shape) == (8, 2)
    with minigan.no_grad():
        for p in gan.G[-1].parameters():
            p.data[...] = p.data * 0 + 3.0  # outputs far outside [-1, 1] if not squashed
    assert gan.sample(4).numpy().max() > 1.5
    assert sorted(gan.step({"x": minigan.randn(8, 2)})) == ["D(G(z))", "D(x)", "loss_D",
                                                            "loss_G"]


# ==================== state and configuration ====================

def test_state_dict_round_trip_continues_identically():
    a = Vanilla((2,), latent_dim=3, hidden=8)
    real = minigan.randn(8, 2)
    for _ in range(3):
        a.step({"x": real})
    minigan.manual_seed(123)
    b = Vanilla((2,), latent_dim=3, hidden=8)
    b.load_state_dict(a.state_dict())
    assert (b.d_updates, b.g_updates) == (3, 3)
    state = backend.get_rng_state()
    la = a.step({"x": real})
    backend.set_rng_state(state)
    lb = b.step({"x": real})
    assert la == lb
    for pa, pb in zip(list(a.G.parameters()) + list(a.D.parameters()),
                      list(b.G.parameters()) + list(b.D.parameters())):
        assert np.array_equal(pa.numpy(), pb.numpy())


def test_config_rebuilds_the_same_variant():
    a = Vanilla((2,), lr=1e-3, k=2, g_loss="minimax", latent_dim=3, hidden=8)
    assert a.config() == {"k": 2, "latent_dim": 3, "lr": 1e-3, "g_loss": "minimax",
                          "hidden": 8}
    b = Vanilla((2,), **a.config())
    assert b.config() == a.config() and b.hp.k == 2 and b.g_loss is L.g_loss_minimax
    assert a.g_loss is L.g_loss_minimax and a.d_loss is b.d_loss is L.d_loss_bce


def test_registry():
    assert MODELS["vanilla"] is Vanilla and get_model("vanilla") is Vanilla
    assert issubclass(Vanilla, AdversarialModel) and Vanilla.kind == "adversarial"
    assert all(issubclass(cls, Model) and cls.name == name for name, cls in MODELS.items())
    with pytest.raises(ValueError, match=r"unknown model 'nope': expected one of .*vanilla"):
        get_model("nope")


# ==================== bad input ====================

def test_bad_options_and_batches():
    with pytest.raises(ValueError, match="g_loss must be one of minimax, nonsaturating, "
                                         "found 'saturating'"):
        Vanilla((2,), g_loss="saturating")
    with pytest.raises(ValueError, match=r"vanilla: k must be an int >= 1, found 0"):
        Vanilla((2,), k=0)
    with pytest.raises(ValueError, match=r"vanilla: lr must be a number >= 0, found -0.1"):
        Vanilla((2,), lr=-0.1)
    with pytest.raises(ValueError, match=r"vanilla: unknown option 'lam': expected one of "
                                         r"lr, k, g_loss, latent_dim, hidden"):
        Vanilla((2,), lam=10)
    with pytest.raises(ValueError, match=r"expected the shape of one sample, \(C, H, W\) for "
                                         r"images or \(D,\) for points, found \(28, 28\)"):
        Vanilla((28, 28))
    gan = Vanilla((1, 4, 4), latent_dim=3, hidden=8)
    with pytest.raises(ValueError, match=r"expected batch\['x'\] of shape \(5, 1, 4, 4\), "
                                         r"found \(5, 16\)"):
        gan.step({"x": minigan.randn(5, 16)})
    with pytest.raises(TypeError, match=r"a batch is a dict of Tensors \(x\), found Tensor"):
        gan.step(minigan.randn(5, 1, 4, 4))


def test_a_variant_rejects_data_it_cannot_model():
    class ImagesOnly(Vanilla):
        name = None
        data_kinds = ("image",)

    with pytest.raises(ValueError, match=r"models image data, found points of shape \(2,\)"):
        ImagesOnly((2,))


def test_a_conditional_variant_needs_classes_and_labels():
    class Conditional(Vanilla):
        name = None
        needs = ("x", "y")

    with pytest.raises(ValueError, match="is class-conditional: it needs a labelled data set"):
        Conditional((2,))
    gan = Conditional((2,), num_classes=3)
    with pytest.raises(ValueError, match=r"the batch has no Tensor 'y' \(it has x\)"):
        gan.step({"x": minigan.randn(4, 2)})
    with pytest.raises(ValueError, match=r"expected batch\['y'\] of shape \(4,\), found \(3,\)"):
        gan.step({"x": minigan.randn(4, 2), "y": minigan.tensor([0, 1, 2])})
    with pytest.raises(ValueError, match=r"expected a class in 0..2, found 5"):
        gan.sample(2, 5)


def test_the_generator_update_reuses_the_fake_batch_of_the_discriminator_update():
    # One noise batch per iteration: the step draws exactly what one gan.noise(n) draws.
    gan = Vanilla((2,), latent_dim=4, hidden=8)
    real = minigan.randn(5, 2)
    start = backend.get_rng_state()
    gan.step({"x": real})
    after_step = backend.get_rng_state()
    backend.set_rng_state(start)
    gan.noise(5)
    assert backend.get_rng_state() == after_step
