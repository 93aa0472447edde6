"""DCGAN, WGAN, WGAN-GP and CGAN: they build, train a few steps on tiny data on each device,
walk the notes' layer sizes, keep their constraints, sample and round-trip their state.
(What every model of the registry must do is in test_models.py.)"""
import numpy as np
import pytest

import minigan
from minigan import cli, nn
from minigan.data import ring8
from minigan.models import MODELS, get_model
from minigan.models import networks as B
from minigan.models.conditioning import OneHot, one_hot
from minigan.nn.constant_channels import SNConstantChannelsConv2d
from minigan.nn.conv import Conv2d, ConvTranspose2d
from minigan.nn.norm import BatchNorm2d, LayerNorm
from minigan.nn.resize import Upsample
from minigan.nn.spectral import SNConv2d, SNLinear

MINE = ["dcgan", "wgan", "wgan-gp", "cgan"]
SMALL = dict(width=8, hidden=16)


def images(n, device):
    return minigan.rand(n, 1, 28, 28, device=device) * 2 - 1


def labels(n, device, k=10):
    return minigan.tensor(np.arange(n) % k, device=device)


def build(name, shape=(1, 28, 28), device="cpu", **options):
    num_classes = 10 if shape != (2,) else 8
    return get_model(name)(shape, num_classes, device, **{**SMALL, **options})


def spatial_walk(blocks, x):
    sizes = []
    for block in blocks:
        x = block(x)
        sizes.append(x.shape[-1])
    return sizes, x


# ==================== registry ====================

def test_variants_are_registered():
    for name in MINE:
        assert name in MODELS and MODELS[name].name == name


# ==================== training steps on tiny data ====================

@pytest.mark.parametrize("name", MINE)
def test_steps_on_images(name, device):
    gan = build(name, device=device)
    x, y = images(16, device), labels(16, device)
    for _ in range(3):
        losses = gan.step({"x": x, "y": y})
        assert all(np.isfinite(v) for v in losses.values()), losses
    assert gan.d_updates == 3 and gan.g_updates == (3 if gan.hp.k == 1 else 0)
    out = gan.sample(5)
    assert out.shape == (5, 1, 28, 28) and out.device == device
    assert -1 <= out.numpy().min() and out.numpy().max() <= 1


@pytest.mark.parametrize("name", MINE)
def test_steps_on_ring8_points(name, device):
    data = ring8(32)
    gan = build(name, shape=(2,), device=device, k=1)
    x = minigan.tensor(data.points[:16], device=device)
    y = minigan.tensor(data.labels[:16], device=device)
    for _ in range(3):
        losses = gan.step({"x": x, "y": y})
        assert "loss_G" in losses and all(np.isfinite(v) for v in losses.values())
    out = gan.sample(7)
    assert out.shape == (7, 2)


@pytest.mark.parametrize("name", MINE)
def test_point_mlps_have_depth_hidden_layers(name):
    def linear_shapes(net):
        return [tuple(m.weight.shape) for m in net.modules() if type(m).__name__ == "Linear"]
    gan = build(name, shape=(2,), hidden=6, depth=3, latent_dim=4)
    extra = gan.condition.extra          # the one-hot label (8 classes) or cluster (dcgan)
    assert linear_shapes(gan.G) == [(6, 4 + extra), (6, 6), (6, 6), (2, 6)]
    assert linear_shapes(gan.D) == [(6, 2 + extra), (6, 6), (6, 6), (1, 6)]
    assert len(linear_shapes(build(name, shape=(2,)).G)) == 3      # default: 2 hidden layers
    with pytest.raises(ValueError, match="depth must be an int >= 1, found 0"):
        build(name, shape=(2,), depth=0)


# ==================== DCGAN geometry (notes 000) ====================

@pytest.mark.parametrize("upsample", B.UPSAMPLES)
def test_mnist_layer_walk(upsample):
    G = B.dcgan_generator(64, (1, 28, 28), width=8, upsample=upsample)
    sizes, x = spatial_walk(G, minigan.randn(2, 64, 1, 1))
    assert sizes == [3, 6, 13, 28] and x.shape == (2, 1, 28, 28)
    D = B.dcgan_discriminator(1, (1, 28, 28), width=16)
    channels = [m.out_channels for m in D.modules() if isinstance(m, Conv2d)]
    assert channels == [16, 32, 1]  # the notes' discriminator
    sizes, scores = spatial_walk(list(D)[:-1], x)
    assert sizes == [13, 5] and D(x).shape == (2, 1)


def test_mnist_generator_is_the_notes_network():
    G = B.dcgan_generator(64, (1, 28, 28), width=64)
    layers = [m for m in G.modules() if isinstance(m, ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0]) for m in layers] \
        == [(64, 256, 3, 2), (256, 128, 4, 1), (128, 64, 3, 2), (64, 1, 4, 2)]


def test_nearest_upsampling_replaces_every_stride_two_transposed_conv():
    G = B.dcgan_generator(64, (1, 28, 28), width=8, upsample="nearest")
    transposed = [m for m in G.modules() if isinstance(m, ConvTranspose2d)]
    assert [m.stride[0] for m in transposed] == [1]  # only 3 -> 6 (stride 1) stays
    assert sum(isinstance(m, Upsample) for m in G.modules()) == 3


@pytest.mark.parametrize("size", [8, 32, 64])
@pytest.mark.parametrize("upsample", B.UPSAMPLES)
def test_power_of_two_layer_walk(size, upsample):
    G = B.dcgan_generator(16, (3, size, size), width=2, upsample=upsample)
    sizes, x = spatial_walk(G, minigan.randn(2, 16, 1, 1))
    expected = [4 * 2 ** i for i in range(int(np.log2(size // 4)) + 1)]  # 4, 8, ..., size
    assert sizes == expected and x.shape == (2, 3, size, size)
    D = B.dcgan_discriminator(3, (3, size, size), width=2)
    sizes, _ = spatial_walk(list(D)[:-1], x)
    assert sizes == [size // 2 ** i for i in range(1, len(sizes) + 1)] and sizes[-1] == 4
    assert D(x).shape == (2, 1)


def test_bad_image_size_is_an_error():
    with pytest.raises(ValueError, match=r"28×28 or 2\^k×2\^k.*found 30×30"):
        build("dcgan", shape=(1, 30, 30))


def discriminator_channels(gan):
    return [m.out_channels for m in gan.D.modules() if isinstance(m, Conv2d)]


def test_discriminator_width_defaults_to_the_notes_and_can_be_set():
    # the notes' DCGAN: G 64 beside D 16 on MNIST (a quarter), 64 beside 64 at 64×64
    assert discriminator_channels(build("dcgan", width=64, d_width=None)) == [16, 32, 1]
    assert discriminator_channels(build("wgan-gp", width=64)) == [16, 32, 1]
    assert discriminator_channels(build("dcgan", shape=(3, 16, 16), width=8,
                                        d_width=None)) == [8, 16, 1]
    # dcgan's default recipe: D's first block 24 channels whatever G's width
    assert discriminator_channels(get_model("dcgan")((1, 28, 28))) == [24, 48, 1]
    # the notes' CGAN: D as wide as G
    assert discriminator_channels(build("cgan", width=64)) == [64, 128, 1]
    assert discriminator_channels(build("cgan", width=64, d_width=16)) == [16, 32, 1]
    assert discriminator_channels(build("dcgan", width=8, d_width=5)) == [5, 10, 1]
    assert build("dcgan", d_width=5).config()["d_width"] == 5
    with pytest.raises(ValueError, match="d_width must be an int >= 1, found 0"):
        build("dcgan", d_width=0)


@pytest.mark.parametrize("norm", B.NORMS)
def test_critic_norm_choices(norm):
    D = B.dcgan_discriminator(1, (1, 28, 28), width=2, norm=norm)
    kinds = {type(m).__name__ for m in D.modules()}
    assert ("BatchNorm2d" in kinds) == (norm == "batch")
    assert ("LayerNorm" in kinds) == (norm == "layer")
    assert ("InstanceNorm2d" in kinds) == (norm == "instance")
    assert D(images(3, "cpu")).shape == (3, 1)


def test_dcgan_initialisation():
    G = B.dcgan_init_(B.dcgan_generator(64, (1, 28, 28), width=64))
    weights = np.concatenate([m.weight.numpy().ravel() for m in G.modules()
                              if isinstance(m, ConvTranspose2d)])
    assert abs(weights.mean()) < 1e-3 and weights.std() == pytest.approx(0.02, rel=0.02)
    gammas = np.concatenate([m.weight.numpy() for m in G.modules() if isinstance(m, BatchNorm2d)])
    assert gammas.mean() == pytest.approx(1.0, abs=0.01) and gammas.std() < 0.03
    assert all(not m.bias.numpy().any() for m in G.modules() if isinstance(m, BatchNorm2d))


# ==================== what each variant adds ====================

def test_wgan_clips_critic_weights_after_a_critic_step(device):
    gan = build("wgan", device=device)
    assert gan.hp.k == 5
    gan.step({"x": images(16, device)})
    assert gan.g_updates == 0  # a critic step only
    for p in gan.D.parameters():
        assert np.abs(p.numpy()).max() <= 0.01 + 1e-9
    assert max(np.abs(p.numpy()).max() for p in gan.G.parameters()) > 0.01


def test_wgan_gp_logs_gradient_norm_and_has_no_batch_norm(device):
    gan = build("wgan-gp", device=device)
    assert not any(isinstance(m, BatchNorm2d) for m in gan.D.modules())
    assert any(isinstance(m, LayerNorm) for m in gan.D.modules())
    losses = gan.step({"x": images(8, device)})
    assert losses["grad_norm"] > 0 and losses["gp"] >= 0
    assert losses["loss_D"] == pytest.approx(losses["D(G(z))"] - losses["D(x)"] + losses["gp"],
                                              rel=1e-4, abs=1e-5)


def test_optimisers_follow_the_notes():
    dcgan = build("dcgan", **get_model("dcgan").presets["notes"])  # the defaults' lr is 4e-4
    wgan, gp = build("wgan"), build("wgan-gp")
    assert type(dcgan.optimizers["D"]).__name__ == "Adam"
    assert dcgan.optimizers["G"].param_groups[0]["betas"] == (0.5, 0.999)
    assert dcgan.optimizers["G"].param_groups[0]["lr"] == 2e-4
    assert type(wgan.optimizers["D"]).__name__ == "RMSprop"
    assert wgan.optimizers["D"].param_groups[0]["lr"] == 5e-5
    assert gp.optimizers["D"].param_groups[0]["betas"] == (0.0, 0.9)
    assert gp.optimizers["D"].param_groups[0]["lr"] == 1e-4 and gp.hp.lam == 10.0


@pytest.mark.parametrize("loss", ["bce", "minimax", "lsgan", "hinge"])
def test_dcgan_loss_choices(loss, device):
    gan = build("dcgan", device=device, loss=loss)
    losses = gan.step({"x": images(8, device)})
    assert np.isfinite(losses["loss_D"]) and np.isfinite(losses["loss_G"])


def test_cgan_conditions_both_networks(device):
    gan = build("cgan", device=device)
    convs = [m for m in gan.D.modules() if isinstance(m, Conv2d)]
    assert convs[0].in_channels == 1 + 10
    first = next(m for m in gan.G.modules() if isinstance(m, ConvTranspose2d))
    assert first.in_channels == 64 + 10
    z = gan.noise(1)
    z4 = minigan.functional.cat([z] * 4, axis=0)
    out = gan.sample(4, minigan.tensor([3, 3, 5, 5], device=device), noise=z4).numpy()
    assert out.shape == (4, 1, 28, 28)
    np.testing.assert_allclose(out[0], out[1], atol=1e-6)
    assert np.abs(out[0] - out[2]).max() > 1e-4  # same z, another label: another image
    with pytest.raises(ValueError, match=r"the batch has no Tensor 'y'"):
        gan.step({"x": images(16, device)})


def test_condition_input_appends_constant_one_hot_channels():
    x = minigan.zeros(2, 1, 3, 3)
    out = OneHot(4).input(x, minigan.tensor([2, 0])).numpy()
    assert out.shape == (2, 5, 3, 3)
    np.testing.assert_array_equal(out[0, 1:, 0, 0], [0, 0, 1, 0])
    np.testing.assert_array_equal(out[1, 1:].sum(axis=(1, 2)), [9, 0, 0, 0])
    with pytest.raises(ValueError, match=r"in 0..3, found shape \(2,\) with values \[0, 7\]"):
        one_hot(minigan.tensor([7, 0]), 4, x)


# ==================== sampling and state ====================

def test_sampling_changes_no_state_and_uses_batch_statistics():
    gan = build("dcgan", clusters=0)
    gan.step({"x": images(8, "cpu")})
    before = {k: v.numpy().copy() for k, v in gan.G.state_dict().items()}
    z = gan.noise(6)
    batch = gan.sample(6, noise=z).numpy()
    for k, v in gan.G.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert gan.G.training
    # batch statistics: a sample depends on the other samples of its batch
    alone = gan.sample(3, noise=z[:3]).numpy()
    assert np.abs(alone - batch[:3]).max() > 1e-6
    running = build("dcgan", sample_bn="running", clusters=0)
    running.load_state_dict(gan.state_dict())
    np.testing.assert_allclose(running.sample(3, noise=z[:3]).numpy(),
                               running.sample(6, noise=z).numpy()[:3], atol=1e-6)


def test_sample_class_draws_inside_batches_of_every_class():
    """With batch statistics a one-class batch would have its label's channel means
    normalised away, so sample_class draws its rows inside batches whose labels cycle over
    all classes, as in training; with running statistics a batch's mix does not matter."""
    gan = build("cgan")
    gan.step({"x": images(20, "cpu"), "y": labels(20, "cpu")})
    minigan.manual_seed(1)
    three = gan.sample(4, 3).numpy()
    minigan.manual_seed(1)
    cycling = minigan.tensor([(3 + i) % 10 for i in range(40)])
    mixed = gan.sample(40, cycling, noise=gan.noise(40)).numpy()
    np.testing.assert_array_equal(three, mixed[::10])
    minigan.manual_seed(1)
    z = gan.noise(40)[::10]          # the same noise vectors, now in a batch of 3s only
    one_class = gan.sample(4, minigan.tensor([3] * 4), noise=z).numpy()
    assert np.abs(one_class - three).max() > 1e-3

    running = build("cgan", sample_bn="running")
    running.load_state_dict(gan.state_dict())
    minigan.manual_seed(1)
    three = running.sample(4, 3).numpy()
    minigan.manual_seed(1)
    np.testing.assert_allclose(three, running.sample(4, minigan.tensor([3] * 4),
                                                     noise=running.noise(4)).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match=r"expected a class in 0..9, found 10"):
        gan.sample(4, 10)
    with pytest.raises(ValueError, match="dcgan is not conditional"):
        build("dcgan").sample(4, 3)


@pytest.mark.parametrize("name", MINE)
def test_state_dict_round_trip(name, tmp_path, device):
    from minigan.serialization import load, save
    gan = build(name, device=device, k=1)
    batch = {"x": images(8, device), "y": labels(8, device)}
    gan.step(batch)
    path = tmp_path / "state.npz"
    save({"config": gan.config(), "state": gan.state_dict()}, path)
    saved = load(path, device=device)
    copy = type(gan)((1, 28, 28), 10, device, **saved["config"])
    copy.load_state_dict(saved["state"])
    assert copy.config() == gan.config() and copy.d_updates == gan.d_updates == 1
    for (k, a), (_, b) in zip(gan.G.state_dict().items(), copy.G.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    minigan.manual_seed(5)
    after = gan.step(batch)
    minigan.manual_seed(5)
    assert copy.step(batch) == after  # optimiser state restored too: the same next step


def test_bad_options_are_errors():
    with pytest.raises(ValueError, match="loss must be one of bce, minimax, lsgan, hinge, "
                                         "found 'wasserstein'"):
        build("dcgan", loss="wasserstein")
    with pytest.raises(ValueError, match="norm must be one of .*found 'group'"):
        build("wgan-gp", norm="group")
    with pytest.raises(ValueError, match="clip must be a number > 0, found 0"):
        build("wgan", clip=0)
    with pytest.raises(ValueError, match="width must be an int >= 4, found 2"):
        build("cgan", width=2)


# ==================== the command line ====================

def test_cli_train_and_sample_one_label(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "cgan", "--steps", "2", "--batch-size", "8", "--width", "8",
                     "--out", str(run), "--sample-every", "2"]) == 0
    grid = tmp_path / "three.png"
    assert cli.main(["sample", str(run), "--label", "3", "--n", "4", "--out", str(grid)]) == 0
    assert grid.exists()


def _critic_gradients(lam):
    """The gradient of WGAN-GP's critic loss w.r.t. D's weights in its first update, on
    fixed ring points from seed 0, in float64 (captured just before the optimiser step)."""
    previous = minigan.get_default_dtype()
    minigan.set_default_dtype("float64")
    try:
        minigan.manual_seed(0)
        gan = build("wgan-gp", shape=(2,), lam=lam)
        captured = []
        step = gan.optimizers["D"].step

        def capture():
            captured.append([p.grad.numpy().copy() for p in gan.D.parameters()])
            step()
        gan.optimizers["D"].step = capture
        gan.step({"x": minigan.tensor(ring8(16).points, dtype="float64")})
    finally:
        minigan.set_default_dtype(previous)
    return np.concatenate([g.ravel() for g in captured[0]])


def test_wgan_gp_penalty_is_part_of_the_critic_update():
    """From one seed the critic's gradient is ∇L + λ∇GP₁ with the same L and GP₁ for every
    λ (the fakes and ε do not depend on λ): it must move with λ, and linearly. A penalty that
    is only logged (detached) leaves λ = 10 equal to λ = 0."""
    g0, g10, g20 = (_critic_gradients(lam) for lam in (0.0, 10.0, 20.0))
    penalty_part = g10 - g0
    assert np.abs(penalty_part).max() > 1e-3 * np.abs(g0).max()
    np.testing.assert_allclose(g20 - g0, 2 * penalty_part, rtol=1e-9, atol=1e-12)


# ==================== the recipe's ingredients and the notes preset (issue 22) ====================

NOTES_DCGAN = {"loss": "bce", "lr": 2e-4, "lr_d": None, "beta1": 0.5, "beta2": 0.999, "k": 1,
               "ema": 0.0, "spectral_norm": False, "clusters": 0, "latent_dim": 64,
               "upsample": "convtranspose", "norm": "batch", "width": 64, "d_width": None,
               "sample_bn": "batch"}


def test_the_notes_preset_is_the_notes_dcgan_and_cgan_keeps_it():
    """--preset notes: the notes' DCGAN listing (notes 000) — G 64, D 16/32 channels with
    batch norm, BCE, Adam(2e-4, β = (0.5, 0.999)), one D step per G step, z of 64, no
    weight average, no spectral norm; cgan's defaults are those values (its D as wide as
    G, the notes' CGAN)."""
    DCGAN, CGAN = get_model("dcgan"), get_model("cgan")
    assert DCGAN.presets["notes"] == NOTES_DCGAN
    notes = DCGAN((1, 28, 28), **DCGAN.presets["notes"])
    assert discriminator_channels(notes) == [16, 32, 1]
    assert sum(isinstance(m, BatchNorm2d) for m in notes.D.modules()) == 2
    assert not any(isinstance(m, (SNConv2d, SNLinear)) for m in notes.D.modules())
    assert sorted(notes.networks) == ["D", "G"] and notes.G_ema is None
    assert notes.clusters is None and type(notes.condition).__name__ == "Unconditioned"
    for net in ("G", "D"):
        group = notes.optimizers[net].param_groups[0]
        assert type(notes.optimizers[net]).__name__ == "Adam"
        assert (group["lr"], group["betas"]) == (2e-4, (0.5, 0.999))
    cgan = build("cgan")
    assert {k: v for k, v in cgan.config().items() if k in NOTES_DCGAN} \
        == {**NOTES_DCGAN, "width": 8}        # SMALL's width
    assert discriminator_channels(CGAN((1, 28, 28), 10)) == [64, 128, 1]


def test_lr_d_sets_the_discriminator_learning_rate_alone():
    gan = build("dcgan", lr=1e-4, lr_d=4e-4)
    assert gan.optimizers["G"].param_groups[0]["lr"] == 1e-4
    assert gan.optimizers["D"].param_groups[0]["lr"] == 4e-4
    same = build("dcgan", lr=3e-4, lr_d=None)
    assert same.optimizers["D"].param_groups[0]["lr"] == 3e-4
    with pytest.raises(ValueError, match="lr_d must be a number >= 0, found -1"):
        build("dcgan", lr_d=-1)


@pytest.mark.parametrize("shape", [(1, 28, 28), (2,)])
def test_spectral_norm_option_normalises_every_layer_of_d_only(shape):
    gan = build("dcgan", shape=shape, spectral_norm=True, norm="none")
    layers = [m for m in gan.D.modules() if isinstance(m, (Conv2d, nn.Linear))]
    spectral = (SNConv2d, SNLinear, SNConstantChannelsConv2d)   # the last: the cluster planes'
    assert layers and all(isinstance(m, spectral) for m in layers)
    assert not any(isinstance(m, (SNConv2d, SNLinear)) for m in gan.G.modules())
    plain = build("dcgan", shape=shape, spectral_norm=False)
    assert not any(isinstance(m, (SNConv2d, SNLinear)) for m in plain.D.modules())


def test_ema_averages_g_after_each_g_update_and_samples_come_from_it():
    """θ̄ ← θ̄ + (1 − β_t)(θ − θ̄), β_t = min(ema, (1 + t)/(10 + t)) after G's t-th update
    (t from 0), only on G's turns (k = 2: every second step); sample() decodes with θ̄."""
    gan = build("dcgan", ema=0.5, k=2, clusters=0)
    assert sorted(gan.networks) == ["D", "G", "G_ema"]
    params = lambda net: [p.numpy().copy() for p in net.parameters()]
    average = params(gan.G)                       # the average starts at G's initial weights
    assert all(not p.requires_grad for p in gan.G_ema.parameters())
    x = images(8, "cpu")
    for step in range(4):
        gan.step({"x": x})
        if step % 2 == 1:                         # a G update: t = 0, then 1
            t = gan.g_updates - 1
            decay = min(0.5, (1 + t) / (10 + t))
            average = [a + (1 - decay) * (p - a) for a, p in zip(average, params(gan.G))]
        for a, e in zip(params(gan.G_ema), average):
            np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-7)
    z = gan.noise(5)
    plain = build("dcgan", ema=0.0, k=2, clusters=0)
    plain.G.load_state_dict(gan.G_ema.state_dict())
    np.testing.assert_allclose(gan.sample(5, noise=z).numpy(), plain.sample(5, noise=z).numpy(),
                               atol=1e-6)
    assert np.abs(gan.sample(5, noise=z).numpy()
                  - build("dcgan", ema=0.0, clusters=0).sample(5, noise=z).numpy()).max() > 1e-4
    assert gan.G is not gan.G_ema and gan.G.training
    with pytest.raises(ValueError, match=r"ema must be a number >= 0 and < 1, found 1"):
        build("dcgan", ema=1)


def test_clusters_condition_both_networks_on_k_means_labels_of_the_real_batch():
    """clusters K: G's input is [z, onehot(k)], D's input has K one-hot planes (as cgan's
    labels); the labels of a real batch are its nearest centroids, and G's update uses
    them, so fakes are drawn per cluster as often as the data falls in it."""
    gan = build("dcgan", clusters=3, latent_dim=4)
    assert sorted(gan.networks) == ["D", "G", "G_ema", "clusters"] and not gan.conditional
    assert next(m for m in gan.D.modules() if isinstance(m, Conv2d)).in_channels == 1 + 3
    assert next(m for m in gan.G.modules()
                if isinstance(m, ConvTranspose2d)).in_channels == 4 + 3
    x = images(6, "cpu")
    gan.step({"x": x})
    flat = x.numpy().reshape(6, -1)       # the first 3 samples seed the 3 centroids
    seeded = ((flat[:, None] - flat[None, :3]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(gan.clusters.counts.numpy(), np.bincount(seeded, minlength=3))
    np.testing.assert_allclose(gan.clusters.centroids.numpy(),
                               [flat[seeded == j].mean(0) for j in range(3)], atol=1e-6)
    centroids = gan.clusters.centroids.numpy()
    nearest = ((flat[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    gan.clusters.eval()
    np.testing.assert_array_equal(gan.clusters(x).numpy(), nearest)
    with pytest.raises(ValueError, match="dcgan is not conditional"):
        gan.sample(2, minigan.tensor([0, 1]))
    with pytest.raises(ValueError, match="cgan: clusters must be 0"):
        build("cgan", clusters=3)
    with pytest.raises(ValueError, match="clusters must be 0 or >= 2, found 1"):
        build("dcgan", clusters=1)


def test_cluster_samples_follow_the_cluster_frequencies():
    """Inverse-CDF draws: with counts (0, 3, 1) the frequencies are (0, ¾, ¼); a uniform u
    picks cluster 1 for u < ¾, cluster 2 above."""
    gan = build("dcgan", clusters=3)
    gan.clusters.counts.data[...] = [0, 3, 1]
    picked = gan._clusters_at(minigan.tensor([0.0, 0.5, 0.7499, 0.75, 0.99], dtype="float64"))
    np.testing.assert_array_equal(picked.numpy(), [1, 1, 1, 2, 2])
    shares = np.bincount(gan.own_labels(4000).numpy(), minlength=3) / 4000
    np.testing.assert_allclose(shares, [0, 0.75, 0.25], atol=0.03)


def test_previews_of_a_cluster_model_use_no_random_numbers(tmp_path):
    """A run that draws a picture every step ends with the same weights as one that never
    does: the previews' clusters come from quantiles drawn once at the start."""
    from minigan.data import DataLoader, Dataset
    from minigan.train import train
    data = Dataset(np.random.default_rng(0).uniform(-1, 1, (16, 1, 28, 28)).astype(np.float32),
                   name="tiny")
    finals = []
    for every in (1, 1000):
        minigan.manual_seed(0)
        gan = build("dcgan", clusters=3, ema=0.9, d_width=4)
        train(gan, DataLoader(data, 8, seed=0), tmp_path / str(every), steps=2,
              sample_every=every, progress=False)
        finals.append({k: v.numpy() for k, v in gan.G_ema.state_dict().items()})
    for k in finals[0]:
        np.testing.assert_array_equal(finals[0][k], finals[1][k], err_msg=k)
