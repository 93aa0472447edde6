"""Wasserstein GAN (Arjovsky et al. 2017; notes 000, 002, 003): a critic estimates W₁.

The Earth Mover's distance between the data and the generator's distribution (notes 003),
by the Kantorovich–Rubinstein duality over 1-Lipschitz critics f:

    W₁(P_r, P_g) = sup_{‖f‖_L ≤ 1}  E_x[f(x)] − E_z[f(G(z))]

    critic minimises  L_D = E_z[D(G(z))] − E_x[D(x)]      (labels +1 / −1, notes 002)
    G minimises       L_G = −E_z[D(G(z))]

D is a critic: no sigmoid, its score is any real number. The Lipschitz constraint is
enforced crudely by clipping every critic parameter to [−c, c] after each critic update,
c = 0.01; the critic is trained 5 times per generator update, with RMSprop at lr 5e-5
(notes 002). −L_D estimates W₁ (up to the Lipschitz constant the clipping gives) and,
unlike the BCE loss, falls as the samples improve.

>>> import minigan
>>> gan = WGAN((2,))
>>> _ = gan.step(minigan.randn(8, 2))
>>> max(float(abs(p.data).max()) for p in gan.D.parameters()) <= 0.01
True
"""
from minigan import optim
from minigan.autograd import no_grad
from minigan.gan.blocks import AdversarialGAN


class WGAN(AdversarialGAN):
    """Wasserstein GAN: critic without sigmoid, weight clipping, RMSprop, 5 critic steps."""
    name = "wgan"

    def __init__(self, data_shape, num_classes=None, device="cpu", *, lr=5e-5, clip=0.01,
                 k=5, latent_dim=64, upsample="convtranspose", norm="batch", width=64,
                 d_width=None, hidden=128, depth=2, sample_bn="batch"):
        if not clip > 0:
            raise ValueError(f"wgan: clip must be > 0, found {clip!r}")
        super().__init__(data_shape, num_classes, device, "wasserstein", dict(
            lr=lr, clip=clip, k=k, latent_dim=latent_dim, upsample=upsample, norm=norm,
            width=width, d_width=d_width, hidden=hidden, depth=depth, sample_bn=sample_bn))
        self.clip = clip
        self.set_optimizers(optim.RMSprop, lr=lr)

    @classmethod
    def loss_choices(cls):
        return ("wasserstein",)

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--lr", type=float, default=5e-5,
                            help="RMSprop learning rate of G and the critic (default 5e-5)")
        parser.add_argument("--clip", type=float, default=0.01,
                            help="critic weights are clipped to [-clip, clip] (default 0.01)")
        parser.add_argument("--k", type=int, default=5,
                            help="critic updates per generator update (default 5)")
        cls.add_network_arguments(parser, norm="batch")

    def after_critic_step(self):
        """w ← clip(w, −c, c) for every critic parameter (notes 002's Lipschitz constraint)."""
        with no_grad():
            for p in self.D.parameters():
                p.data.clip(-self.clip, self.clip, out=p.data)
