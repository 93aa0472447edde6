"""WGAN-GP (Gulrajani et al. 2017; notes 000, 002): the Lipschitz constraint as a penalty.

Instead of clipping weights, the critic is pushed towards gradients of norm 1 at random
interpolates between real and fake samples (notes 002, "gradient penalty"):

    x̂ = ε x + (1 − ε) G(z),  ε ~ U[0, 1] per sample
    critic minimises  L_D = E_z[D(G(z))] − E_x[D(x)] + λ E_x̂[(‖∇_x̂ D(x̂)‖₂ − 1)²]
    G minimises       L_G = −E_z[D(G(z))]

with λ = 10. The penalty differentiates through ∇_x̂ D (double backprop). No batch norm in
the critic, since it couples the samples of a batch and the penalty is per sample (notes
002): layer norm by default. No clipping; Adam with lr 1e-4 and β = (0, 0.9); 5 critic
steps per generator step. The log's "grad_norm" is the mean ‖∇_x̂ D(x̂)‖, which the penalty
holds near 1.

>>> import minigan
>>> gan = WGANGP((2,))
>>> sorted(gan.step(minigan.randn(8, 2)))
['D(G(z))', 'D(x)', 'gp', 'grad_norm', 'loss_D']
"""
from minigan import optim
from minigan.gan.blocks import AdversarialGAN
from minigan.gan.losses import gradient_penalty


class WGANGP(AdversarialGAN):
    """WGAN with gradient penalty: λ = 10, layer-norm critic, Adam(1e-4, β = (0, 0.9))."""
    name = "wgan-gp"

    def __init__(self, data_shape, num_classes=None, device="cpu", *, lr=1e-4, beta1=0.0,
                 beta2=0.9, lam=10.0, k=5, latent_dim=64, upsample="convtranspose",
                 norm="layer", width=64, d_width=None, hidden=128, depth=2,
                 sample_bn="batch"):
        super().__init__(data_shape, num_classes, device, "wasserstein", dict(
            lr=lr, beta1=beta1, beta2=beta2, lam=lam, k=k, latent_dim=latent_dim,
            upsample=upsample, norm=norm, width=width, d_width=d_width, hidden=hidden,
            depth=depth, sample_bn=sample_bn))
        self.lam = lam
        self.set_optimizers(optim.Adam, lr=lr, betas=(beta1, beta2))

    @classmethod
    def loss_choices(cls):
        return ("wasserstein",)

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--lr", type=float, default=1e-4,
                            help="Adam learning rate of G and the critic (default 1e-4)")
        parser.add_argument("--beta1", type=float, default=0.0, help="Adam β₁ (default 0)")
        parser.add_argument("--beta2", type=float, default=0.9, help="Adam β₂ (default 0.9)")
        parser.add_argument("--lam", type=float, default=10.0,
                            help="weight λ of the gradient penalty (default 10)")
        parser.add_argument("--k", type=int, default=5,
                            help="critic updates per generator update (default 5)")
        cls.add_network_arguments(parser, norm="layer")

    def critic_penalty(self, real, fake, labels):
        penalty, norm = gradient_penalty(lambda x: self.discriminate(x, labels), real, fake,
                                         self.lam)
        return penalty, {"gp": penalty.item(), "grad_norm": norm}
