"""DCGAN (Radford et al. 2016; notes 000 and 003): the GAN game played by convolutional nets.

Objective, the same as the original GAN's (notes 004), D(·) = σ(l) with l D's logit:

    min_G max_D  E_x[log D(x)] + E_z[log(1 − D(G(z)))]

    D minimises  L_D = −E_x[log D(x)] − E_z[log(1 − D(G(z)))]
    G minimises  L_G = −E_z[log D(G(z))]          (non-saturating, notes 000: "maximise
                                                   D(G(z)) early"; ``--loss minimax`` uses
                                                   E_z[log(1 − D(G(z)))] instead)

``--loss lsgan`` (least squares) and ``--loss hinge`` swap in the other pairs of
``losses.py``, on the same raw scores. What makes it DCGAN is the networks (``networks.py``):
transposed convolutions + batch norm + ReLU in G, ending in tanh; strided convolutions +
batch norm + LeakyReLU(0.2) in D, ending in one logit; weights N(0, 0.02²); Adam with
β = (0.5, 0.999). On MNIST the generator walks 1 → 3 → 6 → 13 → 28.

Two recipes (BENCHMARKS.md, "The first command" measures them on five seeds):

``--preset notes`` is the notes' DCGAN exactly (notes 000): G 64 channels wide, D 16 and
32, Adam lr 2e-4 for both, samples from G itself. The lessons teach it. On the embedded
digits it needs ~6,000 iterations of batch 128 and covers the ten digits on some seeds
only (FID ≈ 75–95 with the shipped classifier).

The defaults are the same game made fast and reliable on the embedded digits:

* ``clusters`` 40: an unconditional generator must carve ten digit shapes out of one
  Gaussian, and drops or blends some of them. Here every real batch is sorted into 40
  clusters by online k-means on its pixels (``nn.kmeans``, no labels), and both networks
  see the cluster as cgan sees a class: G(z, k) with k one-hot beside z, D(x, k) with k's
  one-hot planes beside x (given as their 40 values, ``nn.constant_channels``), G's fakes
  drawn for the clusters of the real batch. A sample is G(z, k) with k drawn with its
  cluster's frequency in the data, so the model is a mixture p(x) = Σ_k π_k p_G(x | k) —
  unconditional from the outside. The purer the clusters, the closer this is to cgan,
  which is given the labels: 40 clusters of pixels are ~75 % one digit each (20: ~67 %,
  ``benchmarks/cluster_purity.py``), and the clusters' count costs G and D almost nothing.
* ``ema`` 0.999: samples come from θ̄, an exponential moving average of G's weights
  θ̄ ← θ̄ + (1 − β)(θ − θ̄) after every G update (Yazıcı et al. 2019), which smooths away
  the last updates' noise.
* ``width`` 24, ``d_width`` 24: 3/8 of the notes' G, 1.5× their D; G's FLOPs per
  sample are (24/64)² ≈ 14 % of the notes', so more iterations fit in the same minutes
  (same code, same VM: 5,000 steps in 4.4–4.7 minutes against 5.8–6.3 at 32 and 32,
  BENCHMARKS.md).
* ``lr`` 4e-4, twice the notes' Adam rate for G and D: the weight average smooths what
  the larger steps shake up: at 32 channels the FID of 7,000 steps at 2e-4 came at ~5,000.

The options also hold the other usual tricks, measured and left off by default:
``lr_d`` (a larger D learning rate, TTUR), ``spectral_norm`` (``nn.spectral``), hinge loss.

Measured (``python -m minigan train dcgan --steps 5000``, batch 64, seeds 0–4, 2 cores):
all ten classes on every seed, classifier-FID 11.3–14.8 (cgan, given the labels: 10.1),
4 min 15 s for seed 0 and 4.1–4.3 minutes for seeds 2–4 on a Zen 3-class VM (BENCHMARKS.md,
"The first command").

>>> import minigan
>>> gan = DCGAN((1, 28, 28), width=8)
>>> sorted(gan.step({"x": minigan.rand(4, 1, 28, 28) * 2 - 1}))
['D(G(z))', 'D(x)', 'loss_D', 'loss_G']
>>> gan.sample(3).shape
(3, 1, 28, 28)
"""
import numpy as np

from minigan import backend, optim
from minigan.autograd import Tensor
from minigan.creation import rand
from minigan.models.adversarial import AdversarialModel
from minigan.models.conditioning import OneHot
from minigan.models.losses import LOSSES
from minigan.models.networks import NETWORK_OPTIONS
from minigan.models.options import Option, extend
from minigan.nn.kmeans import OnlineKMeans

# The notes' DCGAN (notes 000's listing), every option of its networks and training at the
# listing's value: ``--preset notes``, ``DCGAN(shape, **DCGAN.presets["notes"])``. d_width
# none: D's first block a quarter of G's width on 28×28 digits (16 beside 64).
NOTES = {"loss": "bce", "lr": 2e-4, "lr_d": None, "beta1": 0.5, "beta2": 0.999, "k": 1,
         "ema": 0.0, "spectral_norm": False, "clusters": 0, "latent_dim": 64,
         "upsample": "convtranspose", "norm": "batch", "width": 64, "d_width": None,
         "sample_bn": "batch"}


# D 1.5 times as wide as the notes' (the notes' own choice, none, stays allowed).
D_WIDTH = next(o for o in NETWORK_OPTIONS if o.name == "d_width").replace(default=24,
                                                                          optional=True)


class DCGAN(AdversarialModel):
    """Deep convolutional GAN on k-means clusters, sampled from G's weight average
    (``--preset notes``: the notes' DCGAN)."""
    name = "dcgan"
    options = (
        Option("loss", "bce", "bce: non-saturating BCE; minimax: G minimises "
               "log(1 - D(G(z))); lsgan: least squares; hinge",
               choices=tuple(f for f in LOSSES if f != "wasserstein")),
        Option("lr", 4e-4, "Adam learning rate of G (and of D unless lr_d is given)", least=0),
        Option("lr_d", None, "Adam learning rate of D (none: lr); a larger one than G's is "
               "the two time-scale update rule, TTUR", least=0, type=float),
        Option("beta1", 0.5, "Adam β₁", least=0),
        Option("beta2", 0.999, "Adam β₂", least=0),
        Option("k", 1, "discriminator updates per generator update", least=1),
        Option("ema", 0.999, "decay of the moving average of G's weights that samples are "
               "drawn from (0: sample G itself)", least=0, below=1),
        Option("spectral_norm", False, "divide each of D's weights by its largest singular "
               "value (spectral normalisation)"),
        Option("clusters", 40, "condition G and D on the k-means cluster of each real sample, "
               "learnt online without labels; samples draw a cluster with its frequency in "
               "the data (0: no clusters)", least=0),
    ) + extend(NETWORK_OPTIONS, D_WIDTH, width=24)
    presets = {"notes": NOTES}

    def __init__(self, data_shape, num_classes=None, device="cpu", **options):
        self.clusters = None
        super().__init__(data_shape, num_classes, device, **options)
        if self.clusters is not None:
            self.networks["clusters"] = self.clusters

    # ---- k-means clusters as labels ----
    def build_condition(self):
        """With ``clusters`` K > 0: the one-hot cluster of a sample, fed to G and D as
        cgan feeds a class (``OnlineKMeans`` on the flattened samples finds it)."""
        if not self.hp.clusters:
            return super().build_condition()
        if self.conditional:
            raise ValueError(f"{self.name}: clusters must be 0: a class-conditional model is "
                             f"conditioned on the data's own labels")
        if self.hp.clusters < 2:
            raise ValueError(f"{self.name}: clusters must be 0 or >= 2, found "
                             f"{self.hp.clusters}")
        self.clusters = OnlineKMeans(self.hp.clusters, self.num_features, device=self.device)
        return OneHot(self.hp.clusters)

    def real_labels(self, batch, real):
        """A real batch's clusters (the centroids move with it), else as the base class."""
        if self.clusters is None:
            return super().real_labels(batch, real)
        return self.clusters(real)

    def own_labels(self, n):
        """n clusters drawn with their frequencies in the data seen so far."""
        if self.clusters is None:
            return None
        return self._clusters_at(rand(n, dtype="float64"))

    def _clusters_at(self, quantiles):
        """The clusters at ``quantiles`` (a Tensor of U[0, 1) draws) of the clusters'
        frequency distribution (inverse-CDF sampling), as labels on this device."""
        cumulative = np.cumsum(self.clusters.frequencies())
        picked = np.searchsorted(cumulative, backend.to_numpy(quantiles.data), side="right")
        return Tensor(np.minimum(picked, self.hp.clusters - 1)).to(self.device)

    def preview_inputs(self, dataset):
        """The base class's, and with clusters the quantiles that pick each preview
        sample's cluster from the frequencies of the moment (drawn once, so previews use
        no random numbers while training)."""
        inputs = super().preview_inputs(dataset)
        if self.clusters is not None:
            inputs["quantiles"] = rand(len(inputs["noise"]), dtype="float64")
        return inputs

    def preview(self, path, inputs, title=None):
        if self.clusters is not None:
            inputs = {**inputs, "labels": self._clusters_at(inputs["quantiles"])}
        super().preview(path, inputs, title)

    def build_optimizers(self):
        betas = (self.hp.beta1, self.hp.beta2)
        lr_d = self.hp.lr if self.hp.lr_d is None else self.hp.lr_d
        return {"G": optim.Adam(self.G.parameters(), lr=self.hp.lr, betas=betas),
                "D": optim.Adam(self.D.parameters(), lr=lr_d, betas=betas)}
