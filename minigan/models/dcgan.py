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
lr 2e-4 and β = (0.5, 0.999). On MNIST the generator walks 1 → 3 → 6 → 13 → 28.

>>> import minigan
>>> gan = DCGAN((1, 28, 28), width=8)
>>> sorted(gan.step({"x": minigan.rand(4, 1, 28, 28) * 2 - 1}))
['D(G(z))', 'D(x)', 'loss_D', 'loss_G']
>>> gan.sample(3).shape
(3, 1, 28, 28)
"""
from minigan import optim
from minigan.models.adversarial import AdversarialModel
from minigan.models.losses import LOSSES
from minigan.models.networks import NETWORK_OPTIONS
from minigan.models.options import Option

# The notes' DCGAN (notes 000's listing), every option of its networks and training at the
# listing's value: ``--preset notes``, ``DCGAN(shape, **DCGAN.presets["notes"])``. d_width
# none: D's first block a quarter of G's width on 28×28 digits (16 beside 64).
NOTES = {"loss": "bce", "lr": 2e-4, "lr_d": None, "beta1": 0.5, "beta2": 0.999, "k": 1,
         "ema": 0.0, "spectral_norm": False, "latent_dim": 64, "upsample": "convtranspose",
         "norm": "batch", "width": 64, "d_width": None, "sample_bn": "batch"}


class DCGAN(AdversarialModel):
    """Deep convolutional GAN: conv nets, BN, Adam(2e-4, β₁ 0.5); BCE, LSGAN or hinge loss."""
    name = "dcgan"
    options = (
        Option("loss", "bce", "bce: non-saturating BCE; minimax: G minimises "
               "log(1 - D(G(z))); lsgan: least squares; hinge",
               choices=tuple(f for f in LOSSES if f != "wasserstein")),
        Option("lr", 2e-4, "Adam learning rate of G (and of D unless lr_d is given)", least=0),
        Option("lr_d", None, "Adam learning rate of D (none: lr); a larger one than G's is "
               "the two time-scale update rule, TTUR", least=0, type=float),
        Option("beta1", 0.5, "Adam β₁", least=0),
        Option("beta2", 0.999, "Adam β₂", least=0),
        Option("k", 1, "discriminator updates per generator update", least=1),
        Option("ema", 0.0, "decay of the moving average of G's weights that samples are "
               "drawn from (0: sample G itself)", least=0, below=1),
        Option("spectral_norm", False, "divide each of D's weights by its largest singular "
               "value (spectral normalisation)"),
    ) + NETWORK_OPTIONS
    presets = {"notes": NOTES}

    def build_optimizers(self):
        betas = (self.hp.beta1, self.hp.beta2)
        lr_d = self.hp.lr if self.hp.lr_d is None else self.hp.lr_d
        return {"G": optim.Adam(self.G.parameters(), lr=self.hp.lr, betas=betas),
                "D": optim.Adam(self.D.parameters(), lr=lr_d, betas=betas)}
