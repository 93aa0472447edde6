# %% [markdown]
# # Lesson 08 — mode collapse on the ring of 8 Gaussians
#
# Notes 002 ("GAN에서의 문제점 — 모드붕괴") describe the failure: the generator finds a few
# samples that fool the discriminator and maps the whole latent space onto them. When the
# discriminator learns to reject them, the generator jumps to another few — a *mode* in the
# notes' words is "a sample that always fools the discriminator". Notes 003 ("GAN의 단점",
# "Unrolled GAN") add that on a distribution with several peaks a GAN learns one peak at a
# time. This lesson produces that failure on purpose, in the setting where it was first
# shown (Metz et al., *Unrolled GANs*): a deep generator, a small learning rate, and the
# 8-Gaussian ring. It is *shown* as scatter plots over time and *measured* with
# `minigan.metrics.toy_metrics`.

# %%
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from _common import check, setup

import minigan
from minigan import nn, optim, viz
from minigan.data import DataLoader, load_dataset
from minigan.models import get_model
from minigan.models.losses import d_loss_bce, g_loss_nonsaturating
from minigan.metrics import toy_metrics

QUICK, OUT = setup("08_mode_collapse")
minigan.manual_seed(0)

# %% [markdown]
# ## 1. Measuring diversity
#
# `toy_metrics` sends every sample to its nearest mode centre. With its default radius
# ($3\sigma$) it counts only samples that sit *on* a mode (quality). To measure *diversity*
# alone we drop the radius (every sample counts for its nearest mode) and call a mode
# visited when it receives at least 5 % of the samples. Real data visits all 8; a generator
# whose samples form one blob visits 1 or 2 (a blob between two modes splits between them).

# %%
ring = load_dataset("ring8:20000")


def modes_visited(points):
    return toy_metrics(points, ring.modes, ring.std, min_share=0.05, radius=np.inf)


real = ring.points[:2000]
check("real data visits all 8 modes", modes_visited(real)["modes_covered"], 8, 0)
one_blob = ring.modes[3] + 0.1 * np.random.default_rng(0).standard_normal((2000, 2))
check("one blob at mode 3 visits 1 mode", modes_visited(one_blob)["modes_covered"], 1, 0)

# %% [markdown]
# ## 2. The setting that collapses
#
# $G$: $z \in \mathbb{R}^{256} \to 128 \to 128 \to 2$ with ReLU; $D$: $2 \to 128 \to 1$ with ReLU;
# both Adam with lr $10^{-4}$ and $\beta = (0.5, 0.999)$, batch 512, the non-saturating loss of
# lesson 01. The loop is written out: one $D$ step on a real and a fake batch, then one $G$
# step with $D$ frozen (notes 002: "freeze D while training G").

# %%
LATENT, BATCH = 256, (128 if QUICK else 512)
G = nn.Sequential(nn.Linear(LATENT, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                  nn.Linear(128, 2))
D = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 1))
opt_G = optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999))
opt_D = optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))
loader = DataLoader(ring, batch_size=BATCH, seed=0)

steps, every = (500, 100) if QUICK else (3000, 500)
snapshots = {}
for step, batch in enumerate(loader.batches(steps), start=1):
    x = batch["x"]
    with minigan.no_grad():
        fake = G(minigan.randn(BATCH, LATENT))
    loss_D = d_loss_bce(D(x), D(fake))
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()

    D.requires_grad_(False)
    loss_G = g_loss_nonsaturating(D(G(minigan.randn(BATCH, LATENT))))
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()
    D.requires_grad_(True)

    if step % every == 0:
        with minigan.no_grad():
            snapshots[step] = G(minigan.randn(2000, LATENT)).numpy()

# %% [markdown]
# ## 3. What it did
#
# For each snapshot: the modes visited, the mode nearest to the centre of the samples
# (where the blob sits), and how spread out the samples are (the root-mean-square distance
# to their centre; the real ring's is its radius, 2).

# %%
def describe(snapshots):
    """{step: (modes visited, mode nearest to the samples' centre, spread)}, printed."""
    report = {}
    for at, points in snapshots.items():
        visit = modes_visited(points)
        centre = points.mean(axis=0)
        nearest = int(np.argmin(np.linalg.norm(ring.modes - centre, axis=1)))
        spread = float(np.sqrt(((points - centre) ** 2).sum(axis=1).mean()))
        report[at] = (visit["modes_covered"], nearest, spread)
        print(f"step {at:5}: modes visited {visit['modes_covered']}, blob nearest to mode "
              f"{nearest}, spread {spread:.2f}, samples per mode {visit['mode_counts']}")
    return report


report = describe(snapshots)
real_spread = float(np.sqrt(((real - real.mean(axis=0)) ** 2).sum(axis=1).mean()))
check("the real ring's spread is its radius", real_spread, 2.0, 0.05)
if QUICK:
    visited, _, spread = report[steps]
    assert visited <= 2 and spread < 0.9, "after 500 steps: still one blob"
else:
    late = [r for at, r in report.items() if at >= 1000]
    assert all(visited <= 3 for visited, _, _ in late), "collapsed: a few modes at a time"
    assert all(spread < 1.0 for _, _, spread in late), "collapsed: one tight blob, not a ring"
    assert len({nearest for _, nearest, _ in late}) >= 2, "the blob hops between modes"

fig = Figure(figsize=(2.6 * len(snapshots), 2.8), dpi=100)
FigureCanvasAgg(fig)
for i, (at, points) in enumerate(snapshots.items()):
    ax = fig.add_subplot(1, len(snapshots), i + 1)
    ax.scatter(real[:, 0], real[:, 1], s=3, color="0.75")
    ax.scatter(points[:, 0], points[:, 1], s=3, color="C0", alpha=0.5)
    limit = max(3.0, float(np.abs(points).max()) + 0.2)   # keep a blob that wandered off in view
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_title(f"step {at}: {report[at][0]} mode(s)", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
fig.savefig(f"{OUT}/collapse_over_time.png")
print(f"saved {OUT}/collapse_over_time.png")

# %% [markdown]
# ## 4. Same generator, a different game
#
# Notes 003 list the remedies: unrolled GANs (the generator optimises against the
# discriminator a few steps in the future), and the Wasserstein critic of lessons 05–06,
# whose gradient does not vanish on the modes the generator has abandoned. minigan's
# `wgan-gp` variant uses a generator of the same shape ($z \to 128 \to 128 \to 2$) on points.
# With 5 critic steps per generator step, 15,000 critic steps give its generator the same
# 3,000 updates as above, and we take the same snapshots. It does not settle either: the
# number of modes it visits moves up and down between snapshots. But at no snapshot is it
# one blob: it always visits more modes, and spreads wider, than the collapsed run ever
# did. (Its samples are still blurry around the modes: quality takes longer than coverage.
# BENCHMARKS.md trains it to all 8 modes, with a generator one layer deeper.)
#
# `--quick` stops both runs after 500 generator updates, before the hopping starts. What it
# can show already, measured with seeds 0–4 (batches of 128 for the GAN, 64 for the critic):
# the BCE generator is still one blob (1–2 modes visited, spread 0.28–0.71), while the
# WGAN-GP generator of the same shape, after the same number of updates, has spread out
# (4–5 modes, spread 1.2–1.8). The full run checks the collapse itself: from step 1,000 on,
# at most 3 modes and a spread below 1 at every snapshot, at least two different places
# for the blob, and WGAN-GP ahead on modes and spread at every snapshot.

# %%
minigan.manual_seed(0)
wgan = get_model("wgan-gp")((2,))
loader = DataLoader(ring, batch_size=64 if QUICK else 256, seed=0)
wgan_snapshots = {}
for batch in loader.batches(5 * steps):             # as many generator updates as above
    if "loss_G" in wgan.step(batch) and wgan.g_updates % every == 0:   # a generator update
        wgan_snapshots[wgan.g_updates] = wgan.sample(2000).numpy()
wgan_report = describe(wgan_snapshots)
if QUICK:
    visited, _, spread = wgan_report[steps]
    assert visited >= 3 and spread >= 1.0, "after 500 updates WGAN-GP's G has spread out"
else:
    late = [r for at, r in report.items() if at >= 1000]
    most_visited = max(visited for visited, _, _ in late)
    assert all(visited > most_visited for visited, _, _ in wgan_report.values()), \
        "the Wasserstein critic keeps the generator spread over more modes"
    assert all(spread >= 1.0 for _, _, spread in wgan_report.values()), "never one tight blob"
points = wgan_snapshots[max(wgan_snapshots)]
viz.save_scatter_2d(points, f"{OUT}/wgan_gp_samples.png", data=real, modes=ring.modes,
                    title=f"WGAN-GP, {wgan.g_updates} generator updates")
print(f"saved {OUT}/wgan_gp_samples.png")
