"""StackGAN-lite (minigan/models/stackgan.py): the caption component, the matching-aware
loss against its closed form, wrong-class captions, the two-stage schedule with stage I
frozen, conditioning augmentation on and off, the residual block's derivatives."""

import numpy as np
import pytest

import minigan
from minigan import gradcheck, gradgradcheck
from minigan.data import DataLoader, Dataset
from minigan.models.conditioning import CaptionEmbedding
from minigan.models.losses import d_loss_matching_aware
from minigan.models.stackgan import ResidualBlock, StackGAN
from tests.helpers import randn64

K = 10


def tiny(**options):
    return StackGAN((1, 28, 28), K, **{"width": 4, "d_width": 4, "latent_dim": 4,
                                       "stage1_steps": 2, **options})


def batches(n=8):
    rng = np.random.default_rng(0)
    data = Dataset(rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32), np.arange(n) % K,
                   name="tiny", num_classes=K)
    return DataLoader(data, 4, seed=0).batches()


def values(params):
    return [p.numpy().copy() for p in params]


# ==================== captions ====================

def test_captions_are_a_fixed_table_per_seed_plus_fresh_jitter():
    a, b, c = CaptionEmbedding(K, 32, 0.1, seed=3), CaptionEmbedding(K, 32, 0.1, seed=3), \
        CaptionEmbedding(K, 32, 0.1, seed=4)
    assert np.array_equal(a.table, b.table) and not np.array_equal(a.table, c.table)
    labels = minigan.tensor(np.repeat([2, 7], 2000))
    phi = a.embed(labels, minigan.zeros(1)).numpy()
    noise = phi - a.table[np.repeat([2, 7], 2000)]
    assert phi.shape == (4000, 32) and abs(noise.std() - 0.1) < 0.003
    assert abs(noise.mean()) < 0.003
    z, x = minigan.zeros(3, 5), minigan.zeros(3, 1, 4, 4)
    y = minigan.tensor([0, 1, 2])
    assert a.latent(z, y).shape == (3, 37) and a.input(x, y).shape == (3, 33, 4, 4)
    assert a.grid_labels(2).numpy().tolist() == np.repeat(np.arange(K), 2).tolist()


# ==================== the matching-aware loss ====================

def test_matching_aware_loss_value_and_gradients():
    real, wrong, fake = randn64(4, 1), randn64(3, 1), randn64(5, 1)
    sp = lambda v: np.log1p(np.exp(v))            # noqa: E731
    sig = lambda v: 1 / (1 + np.exp(-v))           # noqa: E731
    r, w, f = real.numpy(), wrong.numpy(), fake.numpy()
    loss = d_loss_matching_aware(real, wrong, fake)
    assert loss.item() == pytest.approx(sp(-r).mean() + 0.5 * (sp(w).mean() + sp(f).mean()),
                                        rel=1e-12)
    g_r, g_w, g_f = minigan.grad(loss, [real, wrong, fake])
    np.testing.assert_allclose(g_r.numpy(), -(1 - sig(r)) / 4, rtol=1e-10)
    np.testing.assert_allclose(g_w.numpy(), 0.5 * sig(w) / 3, rtol=1e-10)
    np.testing.assert_allclose(g_f.numpy(), 0.5 * sig(f) / 5, rtol=1e-10)
    assert gradcheck(d_loss_matching_aware, [real, wrong, fake])
    assert gradgradcheck(d_loss_matching_aware, [real, wrong, fake])


def test_wrong_labels_are_every_other_class_never_the_same():
    minigan.manual_seed(0)
    gan = tiny()
    labels = minigan.tensor(np.arange(5000) % K)
    wrong = gan._wrong_labels(labels).numpy()
    assert (wrong != labels.numpy()).all()
    counts = np.bincount((wrong - labels.numpy()) % K, minlength=K)
    assert counts[0] == 0 and counts[1:].min() > 450     # shifts 1..9, ~555 each


# ==================== the two stages ====================

def test_stage_one_trains_first_then_stage_two_with_stage_one_frozen():
    minigan.manual_seed(0)
    gan = tiny()
    it = batches()
    stage1 = list(gan.G.stage_parameters(1)) + list(gan.D.one.parameters())
    stage2 = list(gan.G.stage_parameters(2)) + list(gan.D.two.parameters())
    buffers1 = list(gan.G.one.buffers())
    for stage in (1, 2):
        before1, before2, buf = values(stage1), values(stage2), values(buffers1)
        gan.G.zero_grad()                       # .grad = None everywhere
        for _ in range(2):
            assert gan.step(next(it))["stage"] == stage
        moved1 = [not np.array_equal(a, p.numpy()) for a, p in zip(before1, stage1)]
        moved2 = [not np.array_equal(a, p.numpy()) for a, p in zip(before2, stage2)]
        if stage == 1:
            assert all(moved1) and not any(moved2)
        else:
            assert not any(moved1) and all(moved2)
            assert all(np.array_equal(a, b.numpy()) for a, b in zip(buf, buffers1))
            # frozen means outside the graph, not merely left out of the update
            assert all(p.grad is None for p in gan.G.stage_parameters(1))


@pytest.mark.parametrize("ca", [True, False])
def test_conditioning_augmentation_on_and_off(ca):
    """Without CA, c = μ(φ): log σ² is unused (its half of the CA layer gets no gradient
    and Adam leaves it where it was) and there is no KL; with CA both move."""
    minigan.manual_seed(0)
    gan = tiny(ca=ca)
    bias = gan.G.ca1.fc.bias
    before = bias.numpy().copy()
    gan.step(next(batches()))
    moved = bias.numpy() != before
    assert moved.all() if ca else not moved[16:].any()


def test_the_kl_term_is_in_the_generator_loss_with_its_weight():
    """With λ_KL = 10⁴ the KL dominates G's gradient on the CA layer's bias,
    ∂E[KL]/∂b = mean_n μ_nj on the μ half, mean_n ½(e^{logvar_nj} − 1) on the log σ²
    half (captions without jitter, so φ is known), and Adam's first step is −lr · its
    sign."""
    minigan.manual_seed(0)
    gan = tiny(kl=1e4, jitter=0.0)
    batch = next(batches())
    phi = gan.condition.embed(batch["y"], batch["x"])
    h = gan.G.ca1.fc(phi).numpy()
    before = gan.G.ca1.fc.bias.numpy().copy()
    gan.step(batch)
    step = gan.G.ca1.fc.bias.numpy() - before
    d_kl = np.r_[h[:, :16].mean(axis=0), 0.5 * (np.exp(h[:, 16:]) - 1).mean(axis=0)]
    expected = -2e-4 * np.sign(d_kl)
    np.testing.assert_allclose(step, expected, rtol=1e-3)
    # Adam's first step only sees the sign; G's gradient itself, left in .grad by the
    # step, is λ_KL · ∂E[KL]/∂b plus an adversarial part 10⁴ times smaller
    np.testing.assert_allclose(gan.G.ca1.fc.bias.grad.numpy() / 1e4, d_kl, atol=1e-3)


def test_samples_of_both_stages():
    minigan.manual_seed(0)
    gan = tiny()
    z, labels = gan.noise(4), minigan.tensor([0, 1, 2, 3])
    sketch, image = gan.sketches_and_images(z, labels)
    assert sketch.shape == image.shape == (4, 1, 28, 28)
    s = sketch.numpy()
    assert np.array_equal(s[..., ::2, ::2], s[..., 1::2, 1::2])   # 14×14 upsampled
    assert gan.sample(3, 5).shape == (3, 1, 28, 28)


def test_residual_block_derivatives():
    block = ResidualBlock(2)
    for p in block.parameters():
        p.data = p.data.astype(np.float64)
    for b in block.buffers():
        b.data = b.data.astype(np.float64)
    x = randn64(3, 2, 2, 2)
    assert gradcheck(block, [x])
    assert gradgradcheck(block, [x])
