"""The translation models (pix2pix, CycleGAN, DiscoGAN) and their pieces: the tasks built from
the digits, the U-Net and PatchGAN (shapes, receptive field, first- and second-order
gradients), the reconstruction losses, the replay buffer, each model's objective (its first
Adam step, recomputed from the docstring's formula), evaluation and `minigan sample`."""
import numpy as np
import pytest

import minigan
from minigan import cli, gradcheck, gradgradcheck, nn
from minigan.checkpoint import build_model, load_checkpoint
from minigan.data import DATASETS, DataLoader, load_dataset
from minigan.data import translation as T
from minigan.data.embedded import load_mnist5k
from minigan.functional.loss import l1_loss, mse_loss
from minigan.functional import cat
from minigan.models import losses as L
from minigan.models.cyclegan import CycleGAN
from minigan.models.discogan import DiscoGAN
from minigan.models.pix2pix import Pix2Pix
from minigan.models.translation import ReplayBuffer, class_map, patch_picture
from minigan.models.translation_networks import UNet, patchgan, receptive_field
from tests.helpers import randn64

SHAPE = (1, 28, 28)


# ==================== tasks ====================

def test_edge_map_of_a_square_is_its_border():
    """A k×k ink square has 4(k − 1) border pixels: those with background among their 8
    neighbours."""
    images = np.zeros((1, 9, 9), np.uint8)
    images[0, 2:7, 2:7] = 255
    edges = T.edge_map(images)[0] > 0
    assert edges.sum() == 4 * (5 - 1)
    assert edges[2, 2:7].all() and edges[2:7, 2].all() and not edges[3:6, 3:6].any()


def test_dilate_spreads_each_pixel_over_its_3x3_neighbourhood():
    images = np.zeros((1, 5, 5), np.uint8)
    images[0, 0, 0], images[0, 3, 3] = 100, 7
    out = T.dilate(images)[0]
    expected = np.zeros((5, 5), np.uint8)
    expected[2:5, 2:5] = 7
    expected[0:2, 0:2] = 100
    np.testing.assert_array_equal(out, expected)


def test_paired_tasks_are_the_digits_with_their_inputs():
    digits = load_dataset("mnist5k", split="test")
    images, _ = load_mnist5k("test")
    edges = load_dataset("digits-edges", split="test")
    assert sorted(edges.fields) == ["x", "x_paired", "y"] and len(edges) == 500
    np.testing.assert_array_equal(edges.x, digits.x)
    np.testing.assert_array_equal(edges.labels, digits.labels)
    np.testing.assert_array_equal(edges.fields["x_paired"] == 1, T.edge_map(images)[:, None] > 0)
    thick = load_dataset("digits-thick")
    assert len(thick) == 4500
    assert (thick.x >= thick.fields["x_paired"]).all()   # dilation only adds ink


@pytest.mark.parametrize("name", ["digits-inverted", "digits-rot90"])
def test_unpaired_tasks_never_pair_an_image_with_its_own_translation(name):
    ds = load_dataset(name, split="test")
    a, b = ds.x, ds.fields["x_b"]
    a_to_b, b_to_a = T.truth(name)
    sigma = T.derangement(len(a))
    assert (sigma != np.arange(len(a))).all() and sorted(sigma) == list(range(len(a)))
    np.testing.assert_array_equal(b, a_to_b(a[sigma]))
    np.testing.assert_array_equal(ds.fields["y_b"], ds.labels[sigma])
    assert (b != a_to_b(a)).any(axis=(1, 2, 3)).all()    # no B image is its A's truth
    np.testing.assert_array_equal(b_to_a(a_to_b(a)), a)


def test_ground_truths_by_hand():
    x = np.arange(4.0).reshape(1, 1, 2, 2)                   # [[0, 1], [2, 3]]
    np.testing.assert_array_equal(T.rot90(x)[0, 0], [[1, 3], [0, 2]])   # anticlockwise
    np.testing.assert_array_equal(T.rot270(x)[0, 0], [[2, 0], [3, 1]])
    pixels = np.array([0, 51, 255], np.uint8)             # 1 − v in [0, 1] units is −x
    x = pixels / 127.5 - 1
    np.testing.assert_allclose(T.invert(x), (255 - pixels) / 127.5 - 1, atol=1e-15)


def test_quickdraw_task_splits_every_tenth_drawing(tmp_path):
    drawings = np.random.default_rng(0).integers(0, 256, (25, 784), dtype=np.uint8)
    path = tmp_path / "cat.npy"
    np.save(path, drawings)
    train = load_dataset(f"digits-quickdraw:{path}")
    test = load_dataset(f"digits-quickdraw:{path}", split="test")
    assert len(train) == 23 and len(test) == 2                   # ranks 9 and 19 are test
    np.testing.assert_allclose(test.fields["x_b"][:, 0],
                               drawings[[9, 19]].reshape(2, 28, 28) / 127.5 - 1, atol=1e-6)
    assert T.truth(f"digits-quickdraw:{path}") is None and "y_b" not in train.fields
    with pytest.raises(ValueError, match="digits-quickdraw:PATH"):
        load_dataset("digits-quickdraw")
    assert set(T.TASKS) <= set(DATASETS)


# ==================== networks ====================

def test_unet_skip_shapes_and_channels():
    G = UNet(1, 3, 28, width=4)
    x = minigan.randn(2, 1, 28, 28)
    features = G.encode(x)
    # level i: 32 / 2^(i+1) pixels, c_i = 4 · 2^min(i, 3) channels
    assert [f.shape for f in features] == [(2, 4, 16, 16), (2, 8, 8, 8), (2, 16, 4, 4),
                                           (2, 32, 2, 2), (2, 32, 1, 1)]
    # decoder block i reads [its predecessor's output, e_i]: 2·c_i channels; the innermost c_4
    assert [block[1].in_channels for block in G.up] == [8, 16, 32, 64, 32]
    assert G(x).shape == (2, 3, 28, 28)
    plain = UNet(1, 1, 28, width=4, skips=False)
    assert [block[1].in_channels for block in plain.up] == [4, 8, 16, 32, 32]


@pytest.mark.parametrize("skips, size", [(True, 4), (False, 4), (True, 6)])
def test_unet_gradients_first_and_second_order(skips, size):
    """Train mode (batch norm on batch statistics); 6×6 is padded to 8 and cut back."""
    minigan.manual_seed(1)
    G = UNet(1, 1, size, width=2, skips=skips, dropout=0).double()
    x = randn64(2, 1, size, size)
    assert gradcheck(G, [x]) and gradgradcheck(G, [x])


@pytest.mark.parametrize("channels, layers, size", [(2, 1, 8), (1, 2, 12)])
def test_patchgan_gradients_first_and_second_order(channels, layers, size):
    minigan.manual_seed(2)
    D = patchgan(channels, width=2, layers=layers).double()
    x = randn64(2, channels, size, size)
    assert gradcheck(D, [x]) and gradgradcheck(D, [x])


@pytest.mark.parametrize("layers, size, expected", [(1, 28, 16), (2, 48, 34), (3, 96, 70)])
def test_patchgan_receptive_field_by_backpropagating_one_logit(layers, size, expected):
    """The analytic r (module docstring: 16, 34, 70) equals the side of the input square
    one logit's gradient is non-zero on. Eval mode: batch norm's batch statistics would
    tie every logit to every pixel."""
    minigan.manual_seed(0)
    D = patchgan(1, width=2, layers=layers).double().eval()
    r, jump, start = receptive_field(D)
    assert r == expected
    x = randn64(1, 1, size, size)
    logits = D(x)
    i = logits.shape[2] // 2
    (g,) = minigan.grad(logits[0, 0, i, i], x)
    rows, cols = np.nonzero(g.numpy()[0, 0])
    assert rows.max() - rows.min() + 1 == r and cols.max() - cols.min() + 1 == r
    assert rows.min() == i * jump + start and len(rows) == r * r


def test_patch_picture_paints_each_logit_over_its_patch_centre():
    """layers 1 on 28×28: 12×12 logits, jump 2, r 16, start −5; patch i's centre is
    2i + 2.5, so logit i covers pixels 2i + 2 and 2i + 3: rows 2..25, grey outside."""
    D = patchgan(1, width=2, layers=1)
    scores = np.ones((1, 1, 12, 12))                              # real: white
    scores[0, 0, 0, 0] = 0                                        # top-left patch fake: black
    picture = patch_picture(scores, D, 28)[0, 0]
    assert (picture[2:26, 2:26][2:, 2:] == 1).all()
    np.testing.assert_array_equal(picture[2:4, 2:4], -1)
    assert (picture[:2] == 0).all() and (picture[26:] == 0).all() and (picture[:, 26:] == 0).all()


# ==================== losses ====================

@pytest.mark.parametrize("distance", ["l1", "mse"])
@pytest.mark.parametrize("shapes", [[(3,)], [(2, 1, 3, 3), (4, 5)]])
def test_reconstruction_loss_value_gradient_and_second_order(distance, shapes):
    pairs = [(randn64(*s), randn64(*s)) for s in shapes]
    loss = L.reconstruction_loss(pairs, distance)
    d = (lambda o, t: np.abs(o - t)) if distance == "l1" else (lambda o, t: (o - t) ** 2)
    expected = sum(d(o.numpy(), t.numpy()).mean() for o, t in pairs)
    assert np.isclose(loss.item(), expected, rtol=1e-12)
    grads = minigan.grad(loss, [o for o, _ in pairs])
    for g, (o, t) in zip(grads, pairs):
        diff = o.numpy() - t.numpy()
        closed = np.sign(diff) if distance == "l1" else 2 * diff
        np.testing.assert_allclose(g.numpy(), closed / diff.size, rtol=1e-12)
    flat = [x for pair in pairs for x in pair]
    fn = lambda *xs: L.reconstruction_loss(list(zip(xs[::2], xs[1::2])), distance)
    assert gradcheck(fn, flat) and gradgradcheck(fn, flat)
    with pytest.raises(ValueError, match="unknown distance"):
        L.reconstruction_loss(pairs, "cosine")


def test_lambda_l1_gradient_is_minus_lambda_sign_over_n():
    """pix2pix: ∂(λ·L1)/∂G(x) = −λ · sign(y − G(x)) / N."""
    fake, y = randn64(4, 1, 5, 5), randn64(4, 1, 5, 5)
    (g,) = minigan.grad(100 * l1_loss(fake, y), fake)
    np.testing.assert_allclose(g.numpy(), -100 * np.sign(y.numpy() - fake.numpy()) / 100,
                               rtol=1e-12)


# ==================== replay buffer ====================

def test_replay_buffer_fills_then_swaps_half_the_time():
    pool = ReplayBuffer(50)
    first = minigan.tensor(np.arange(50.0).reshape(50, 1))
    np.testing.assert_array_equal(pool.query(first).numpy(), first.numpy())
    assert len(pool) == 50
    swapped, shown_total = 0, 0
    for step in range(1, 101):
        new = np.arange(8.0)[:, None] + 100 * step            # every image a distinct value
        before = pool.images[:, 0].tolist()
        shown = pool.query(minigan.tensor(new)).numpy()[:, 0]
        # shown + stored afterwards = stored before + the new fakes, as multisets
        assert sorted(shown.tolist() + pool.images[:, 0].tolist()) == \
            sorted(before + new[:, 0].tolist())
        swapped += int((shown != new[:, 0]).sum())
        shown_total += len(shown)
    assert abs(swapped / shown_total - 0.5) < 0.045                # ½ ± 3.6 σ (800 draws)
    assert ReplayBuffer(0).query(first) is first


# ==================== each model's objective: its first Adam step ====================

def snapshot(network):
    return {k: p.numpy().copy() for k, p in network.named_parameters()}


def restore(network, weights):
    for k, p in network.named_parameters():
        p.data[...] = weights[k]


def check_first_adam_step(network, before, after, lr, loss):
    """Adam's first step moves θ by −lr · g/(|g| + ε) exactly (m̂ = g, √v̂ = |g|): with the
    networks set as the update saw them, g = ∇ ``loss()`` must give the move made."""
    params = dict(network.named_parameters())
    grads = minigan.grad(loss(), list(params.values()))
    for (k, p), g in zip(params.items(), grads):
        g = g.numpy().astype(np.float64)
        np.testing.assert_allclose((before[k] - after[k]) / lr, g / (np.abs(g) + 1e-8),
                                   atol=2e-3, err_msg=k)


def batch(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return [minigan.tensor(rng.uniform(-1, 1, (n,) + SHAPE).astype(np.float32))
            for _ in range(2)]


@pytest.mark.parametrize("variant", [{}, {"no_gan": True}, {"lambda_l1": 0.0}])
def test_pix2pix_step_follows_its_objective(variant):
    """D first: ½ BCE(D(x, y), 1) + ½ BCE(D(x, G(x)), 0); then G with the updated D:
    −log D(x, G(x)) + λ |y − G(x)| (the cGAN term dropped by no_gan, which leaves D
    untouched; the L1 term by lambda_l1 0)."""
    model = Pix2Pix(SHAPE, width=4, d_width=4, dropout=0.0, **variant)
    G, D, lam, lr = model.G, model.D, model.hp.lambda_l1, model.hp.lr
    gan = not model.hp.no_gan
    x, y = batch()
    g0, d0 = snapshot(G), snapshot(D)
    model.step({"x": y, "x_paired": x})
    g1, d1 = snapshot(G), snapshot(D)
    pair = lambda a, b: D(cat([a, b], axis=1))
    restore(G, g0)
    if gan:
        restore(D, d0)
        check_first_adam_step(D, d0, d1, lr, lambda: 0.5 * L.d_loss_bce(
            pair(x, y), pair(x, G(x).detach())))
        restore(D, d1)
    else:
        assert all((d1[k] == d0[k]).all() for k in d0)

    def g_loss():
        fake = G(x)
        total = lam * l1_loss(fake, y)
        return total + L.g_loss_nonsaturating(pair(x, fake)) if gan else total
    check_first_adam_step(G, g0, g1, lr, g_loss)


@pytest.mark.parametrize("cls", [CycleGAN, DiscoGAN])
def test_unpaired_step_follows_its_objective(cls):
    """Generators first: g(D_B(G(a))) + g(D_A(F(b))) + λ[d(F(G(a)), a) + d(G(F(b)), b)]
    + λ_id λ [d(G(b), b) + d(F(a), a)], CycleGAN's g = E(D − 1)², d = |·|, λ = 10,
    λ_id = 0.5; DiscoGAN's g = −log D, d = (·)², λ = 1, no identity. Then each D on the
    fakes made before that update (the pool is still filling: they pass through)."""
    model = cls(SHAPE, width=4, d_width=4)
    G, F, D_A, D_B = (model.networks[n] for n in ("G", "F", "D_A", "D_B"))
    if cls is CycleGAN:
        g_adv, d_adv = (lambda s: ((s - 1) ** 2).mean()), L.d_loss_lsgan
        dist, lam, lam_id = l1_loss, 10.0, 0.5
    else:
        g_adv, d_adv = L.g_loss_nonsaturating, L.d_loss_bce
        dist, lam, lam_id = mse_loss, 1.0, 0.0
    a, b = batch()
    nets = {"G": G, "F": F, "D_A": D_A, "D_B": D_B}
    before = {n: snapshot(m) for n, m in nets.items()}
    model.step({"x": a, "x_b": b})
    after = {n: snapshot(m) for n, m in nets.items()}
    for n, m in nets.items():
        restore(m, before[n])

    def generators_loss():
        fake_b, fake_a = G(a), F(b)
        total = g_adv(D_B(fake_b)) + g_adv(D_A(fake_a))
        total = total + lam * (dist(F(fake_b), a) + dist(G(fake_a), b))
        return total + lam_id * lam * (dist(G(b), b) + dist(F(a), a))
    for n in ("G", "F"):
        check_first_adam_step(nets[n], before[n], after[n], model.hp.lr, generators_loss)
    fake_b, fake_a = G(a).detach(), F(b).detach()
    check_first_adam_step(D_A, before["D_A"], after["D_A"], model.hp.lr,
                          lambda: d_adv(D_A(a), D_A(fake_a)))
    check_first_adam_step(D_B, before["D_B"], after["D_B"], model.hp.lr,
                          lambda: d_adv(D_B(b), D_B(fake_b)))


# ==================== sampling and evaluation ====================

def test_sample_translates_given_inputs_and_checks_their_shape():
    model = Pix2Pix(SHAPE, width=4, d_width=4)
    x = np.zeros((2,) + SHAPE, np.float32)
    assert model.sample(2, x).shape == (2,) + SHAPE
    with pytest.raises(ValueError, match=r"expected inputs of shape \(3, 1, 28, 28\)"):
        model.sample(3, x)
    inputs = model.sample_inputs("digits-edges", 10)      # one per class of the test split
    test = load_dataset("digits-edges", split="test")
    np.testing.assert_array_equal(inputs.numpy(), test.fields["x_paired"][::50])


class Negate(nn.Module):
    """The exact translation of digits-inverted: x -> −x."""

    def forward(self, x):
        return -x


def test_unpaired_evaluation_of_the_exact_translation():
    """G = F = −x is the ground truth of digits ↔ inverted: L1 and cycle errors 0, the
    classifier's accuracy that of the real test digits, every class mapped to itself."""
    from minigan.metrics import classify

    model = CycleGAN(SHAPE, width=4, d_width=4)
    model.G = model.F = model.networks["G"] = model.networks["F"] = Negate()
    scores = model.evaluate("digits-inverted", num_samples=100)
    assert scores["l1_AB"] == scores["l1_BA"] == scores["cycle_l1_A"] == 0
    test = load_dataset("digits-inverted", split="test")
    a = test.x[::5]
    real = float(np.mean(classify(a)[0].argmax(axis=1) == test.labels[::5]))
    assert scores["accuracy_A→B"] == real and scores["images"] == 100
    assert scores["class_map_A→B"] == " ".join(f"{i}→{i}" for i in range(10))


def test_class_map_names_the_most_common_class_of_each_row():
    m = np.zeros((3, 3), int)
    m[0, 2], m[1, 1], m[2, 0], m[2, 1] = 5, 4, 3, 2
    assert class_map(m) == "0→2 1→1 2→0"


def test_cli_sample_translates_held_out_inputs(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "pix2pix", "--data", "digits-thick", "--steps", "1",
                     "--batch-size", "2", "--width", "2", "--d-width", "2",
                     "--out", str(out)]) == 0
    assert cli.main(["sample", str(out), "--n", "3", "--out", str(tmp_path / "g.npy")]) == 0
    samples = np.load(tmp_path / "g.npy")
    assert samples.shape == (3,) + SHAPE and np.abs(samples).max() <= 1
    # the run's own task (digits-thick: plain digits in), not the model's default (edges)
    model = build_model(load_checkpoint(out))
    thick = load_dataset("digits-thick", split="test").fields["x_paired"][[0, 166, 333]]
    np.testing.assert_allclose(samples, model.sample(3, thick).numpy(), atol=1e-6)
    assert cli.main(["sample", str(out), "--n", "3", "--label", "1",
                     "--out", str(tmp_path / "h.npy")]) == 2
