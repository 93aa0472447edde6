"""CycleGAN (Zhu et al. 2017; notes 000 "CycleGAN", after pix2pix's "paired image에서만
적용 가능 => unpaired image-to-image translation"): two translators trained from two
unpaired sets of images, each the other's inverse.

G: A → B and F: B → A, a discriminator D_B on domain B and D_A on domain A (PatchGANs,
``translation_networks.patchgan``). With LSGAN's least-squares adversarial loss:

    L(G, F, D_A, D_B) = L_GAN(G, D_B) + L_GAN(F, D_A) + λ L_cyc(G, F) + λ_id λ L_id(G, F)

    L_GAN(G, D_B): D_B minimises ½ E_b[(D_B(b) − 1)²] + ½ E_a[D_B(G(a))²],
                   G minimises E_a[(D_B(G(a)) − 1)²]                  (and alike for F, D_A)
    L_cyc = E_a |F(G(a)) − a| + E_b |G(F(b)) − b|                     λ = 10
    L_id  = E_b |G(b) − b| + E_a |F(a) − a|                           λ_id = 0.5

The adversarial terms alone only ask G(A) to *look like* B as a whole: any G that maps the
distribution of A onto that of B wins, a class-permuting one included. The cycle term asks
G and F to be each other's inverse on the data; it is zero for every bijection paired with
its inverse, permutations included (lesson 11), so what the measured class matrix of
``benchmarks/unpaired.py`` shows is how far the networks' bias toward simple, local maps
carries. The identity term (the paper's photo ↔ painting runs) asks G to leave images that
are already in B alone; on digits ↔ inverted digits, where the truth is G(b) = −b, it asks
G to tell the domains apart first (invert a black background, keep a white one). Measured
(BENCHMARKS.md, 1,500 steps): with the default 0.5 G's L1 to the true inversion is 0.24,
with ``--lambda-identity 0`` it is 0.016.

D is shown fakes drawn from a 50-image replay buffer (``translation.ReplayBuffer``), half
the time an older one. Generators: pix2pix's U-Net (``translation_networks.UNet``, 28×28
padded to 32, down to 1×1) without dropout; the paper's own generator is a ResNet, the
authors' code also offers this U-Net. No horizontal flips of the data: a mirrored digit is
no longer a digit. Adam(2e-4, β = (0.5, 0.999)), generators first, then discriminators;
weights initialised N(0, 0.02²) as in the authors' code (``networks.dcgan_init_``).

>>> import minigan
>>> model = CycleGAN((1, 28, 28), width=4, d_width=4)
>>> a, b = minigan.rand(4, 1, 28, 28) * 2 - 1, minigan.rand(4, 1, 28, 28) * 2 - 1
>>> sorted(model.step({"x": a, "x_b": b}))
['cycle', 'identity', 'loss_D_A', 'loss_D_B', 'loss_G']
>>> model.sample(4, a).shape
(4, 1, 28, 28)
"""
from minigan import optim
from minigan.models.losses import d_loss_lsgan, g_loss_lsgan
from minigan.models.networks import dcgan_init_
from minigan.models.options import Option
from minigan.models.translation import UnpairedModel
from minigan.models.translation_networks import UNet, patchgan

NORMS = ("instance", "batch")


class CycleGAN(UnpairedModel):
    """CycleGAN: two U-Nets, two PatchGANs, LSGAN loss, cycle λ = 10, identity 0.5·λ, pool 50."""
    name = "cyclegan"
    patch_discriminator = True
    options = (
        Option("lambda_cycle", 10.0, "weight λ of the cycle loss", least=0),
        Option("lambda_identity", 0.5, "weight of the identity loss, as a multiple of λ "
               "(0: none)", least=0),
        Option("pool_size", 50, "fakes kept in each replay buffer (0: none)", least=0),
        Option("lr", 2e-4, "Adam learning rate", least=0),
        Option("beta1", 0.5, "Adam β₁", least=0),
        Option("beta2", 0.999, "Adam β₂", least=0),
        Option("width", 16, "channels of each U-Net's first level (the paper: 64)", least=1),
        Option("d_width", 16, "channels of each PatchGAN's first layer (the paper: 64)",
               least=1),
        Option("d_layers", 1, "stride-2 layers of the PatchGANs (1: 16×16 patches)", least=1),
        Option("norm", "instance", "normalisation of G and D (the paper: instance)",
               choices=NORMS),
    )

    @property
    def lambda_rec(self):
        return self.hp.lambda_cycle

    @property
    def lambda_identity(self):
        return self.hp.lambda_identity

    @property
    def pool_size(self):
        return self.hp.pool_size

    def build_generator(self):
        channels, size = self.data_shape[0], self.data_shape[1]
        return dcgan_init_(UNet(channels, channels, size, self.hp.width, norm=self.hp.norm,
                                dropout=0))

    def build_discriminator(self):
        return dcgan_init_(patchgan(self.data_shape[0], self.hp.d_width, self.hp.d_layers,
                                    self.hp.norm))

    def build_optimizer(self, network):
        return optim.Adam(network.parameters(), lr=self.hp.lr,
                          betas=(self.hp.beta1, self.hp.beta2))

    def d_loss(self, real_scores, fake_scores):
        """½ E[(D(real) − 1)²] + ½ E[D(fake)²] over every patch (``losses.d_loss_lsgan``)."""
        return d_loss_lsgan(real_scores, fake_scores)

    def g_loss(self, fake_scores):
        """E[(D(G(a)) − 1)²], the paper's generator term: twice ``losses.g_loss_lsgan``,
        which carries LSGAN's ½; the weights λ = 10 and 0.5·λ are relative to this."""
        return 2 * g_loss_lsgan(fake_scores)
