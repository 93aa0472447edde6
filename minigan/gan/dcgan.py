"""DCGAN (Radford et al. 2016; notes 000 and 003): the GAN game played by convolutional nets.

Objective, the same as the original GAN's (notes 004), D(·) = σ(l) with l D's logit:

    min_G max_D  E_x[log D(x)] + E_z[log(1 − D(G(z)))]

    D minimises  L_D = −E_x[log D(x)] − E_z[log(1 − D(G(z)))]
    G minimises  L_G = −E_z[log D(G(z))]          (non-saturating, notes 000: "maximise
                                                   D(G(z)) early"; ``--loss minimax`` uses
                                                   E_z[log(1 − D(G(z)))] instead)

``--loss lsgan`` (least squares) and ``--loss hinge`` swap in the other pairs of
``losses.py``, on the same raw scores. What makes it DCGAN is the networks (``blocks.py``):
transposed convolutions + batch norm + ReLU in G, ending in tanh; strided convolutions +
batch norm + LeakyReLU(0.2) in D, ending in one logit; weights N(0, 0.02²); Adam with
lr 2e-4 and β = (0.5, 0.999). On MNIST the generator walks 1 → 3 → 6 → 13 → 28.

>>> import minigan
>>> gan = DCGAN((1, 28, 28), width=8)
>>> sorted(gan.step(minigan.rand(4, 1, 28, 28) * 2 - 1))
['D(G(z))', 'D(x)', 'loss_D', 'loss_G']
>>> gan.sample(gan.noise(3)).shape
(3, 1, 28, 28)
"""
from minigan import optim
from minigan.gan.blocks import AdversarialGAN


class DCGAN(AdversarialGAN):
    """Deep convolutional GAN: conv nets, BN, Adam(2e-4, β₁ 0.5); BCE, LSGAN or hinge loss."""
    name = "dcgan"

    def __init__(self, data_shape, num_classes=None, device="cpu", *, loss="bce", lr=2e-4,
                 beta1=0.5, beta2=0.999, k=1, latent_dim=64, upsample="convtranspose",
                 norm="batch", width=64, d_width=None, hidden=128, depth=2,
                 sample_bn="batch"):
        super().__init__(data_shape, num_classes, device, loss, dict(
            loss=loss, lr=lr, beta1=beta1, beta2=beta2, k=k, latent_dim=latent_dim,
            upsample=upsample, norm=norm, width=width, d_width=d_width, hidden=hidden,
            depth=depth, sample_bn=sample_bn))
        self.set_optimizers(optim.Adam, lr=lr, betas=(beta1, beta2))

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--loss", choices=cls.loss_choices(), default="bce",
                            help="bce: non-saturating BCE (default); minimax: G minimises "
                                 "log(1 - D(G(z))); lsgan: least squares; hinge")
        parser.add_argument("--lr", type=float, default=2e-4,
                            help="Adam learning rate of G and D (default 2e-4)")
        parser.add_argument("--beta1", type=float, default=0.5, help="Adam β₁ (default 0.5)")
        parser.add_argument("--beta2", type=float, default=0.999,
                            help="Adam β₂ (default 0.999)")
        parser.add_argument("--k", type=int, default=1,
                            help="discriminator updates per generator update (default 1)")
        cls.add_network_arguments(parser, norm="batch")
