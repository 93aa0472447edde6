"""DiscoGAN (Kim et al. 2017; notes 003 "DiscoGAN": two generators that translate each
way, trained on pictures that need not be pairs): discovering a relation between two
domains from unpaired images.

G_AB: A → B ("G") and G_BA: B → A ("F"), discriminators D_B and D_A that each give one
probability per image. The paper's objective, with the GAN's BCE:

    L_G = L_GAN_B + L_CONST_A + L_GAN_A + L_CONST_B
      L_GAN_B   = −E_a[log D_B(G_AB(a))]                       (non-saturating)
      L_CONST_A = E_a[‖G_BA(G_AB(a)) − a‖²] / pixels           (reconstruction, squared error)
      (and L_GAN_A, L_CONST_B with A and B swapped)
    L_D = L_D_A + L_D_B,   L_D_B = −E_b[log D_B(b)] − E_a[log(1 − D_B(G_AB(a)))]

The same shape as CycleGAN's objective (``translation.UnpairedModel``), with BCE instead
of least squares, a squared-error reconstruction weighted 1 instead of an L1 one weighted
10, no identity term and no replay buffer. The generators are encoder-decoders *without*
skips (``translation_networks.UNet(skips=False)``): conv 4×4 stride 2 + LeakyReLU(0.2)
down, transposed conv + ReLU up, batch norm between. Everything reaches the output through
the bottleneck. The paper's 64×64 generators have four stride-2 levels (down to 4×4); on
28×28 digits (padded to 32) minigan's default is two (``depth`` 2: 32 → 16 → 8, an 8×8×2w
bottleneck). Measured on digits ↔ inverted (BENCHMARKS.md), four levels (2×2) collapse:
every digit comes out as one class, with a cycle error of 0.15; two levels find the
inversion (L1 0.05 to the truth, 97 % of the digits kept). A spatial bottleneck keeps the
map local, and the local map is the right one there. D is the notes' DCGAN discriminator
(``networks.dcgan_discriminator``, 28 → 13 → 5 → 1, one logit per image).
Adam(2e-4, β = (0.5, 0.999)), generators first.

Where the authors' code (SKTBrain/DiscoGAN, ``image_translation.py``) differs from the
paper, this module follows the paper:
  - a curriculum: for the first 10,000 iterations (``--gan_curriculum``) each generator
    minimises 0.99 · GAN + 0.01 · reconstruction (``--starting_rate`` 0.01), afterwards
    0.5 · GAN + 0.5 · reconstruction (``--default_rate``); the paper weighs them 1 and 1
    throughout and mentions no schedule;
  - its GAN term is 0.1 · BCE + 0.9 · feature matching (a hinge on the squared
    difference of D's mean hidden features, real vs fake), not the paper's BCE alone;
  - D is updated on every third iteration only (``--update_interval`` 3) and the
    generators on the other two, where the paper alternates one and one;
  - D's loss is halved, and Adam has weight decay 1e-5.

>>> import minigan
>>> model = DiscoGAN((1, 28, 28), width=4, d_width=4)
>>> a, b = minigan.rand(4, 1, 28, 28) * 2 - 1, minigan.rand(4, 1, 28, 28) * 2 - 1
>>> sorted(model.step({"x": a, "x_b": b}))
['cycle', 'loss_D_A', 'loss_D_B', 'loss_G']
>>> model.sample(4, a).shape
(4, 1, 28, 28)
"""
from minigan import optim
from minigan.models.losses import d_loss_bce, g_loss_nonsaturating
from minigan.models.networks import dcgan_discriminator, dcgan_init_
from minigan.models.options import Option
from minigan.models.translation import UnpairedModel
from minigan.models.translation_networks import UNet

DEPTH = 2  # stride-2 levels: the paper's four squeeze 28×28 digits to 2×2 (docstring)


class DiscoGAN(UnpairedModel):
    """DiscoGAN: two skip-less encoder-decoders, image-level Ds, BCE + squared-error cycle."""
    name = "discogan"
    distance = "mse"
    lambda_rec = 1.0        # the paper adds L_GAN and L_CONST with equal weights
    lambda_identity = 0.0
    pool_size = 0
    options = (
        Option("lr", 2e-4, "Adam learning rate", least=0),
        Option("beta1", 0.5, "Adam β₁", least=0),
        Option("beta2", 0.999, "Adam β₂", least=0),
        Option("width", 16, "channels of each generator's first level (the paper: 64)",
               least=1),
        Option("depth", DEPTH, "stride-2 levels of the generators: 2 on 28×28 leaves an "
               "8×8 bottleneck, the paper's 4 a 2×2 one, 5 reaches 1×1", least=1),
        Option("d_width", 16, "channels of each D's first block (the notes' DCGAN: 16)",
               least=1),
    )

    def build_generator(self):
        channels, size = self.data_shape[0], self.data_shape[1]
        return UNet(channels, channels, size, self.hp.width, depth=self.hp.depth,
                    skips=False, dropout=0)

    def build_discriminator(self):
        return dcgan_init_(dcgan_discriminator(self.data_shape[0], self.data_shape,
                                               self.hp.d_width, "batch"))

    def build_optimizer(self, network):
        return optim.Adam(network.parameters(), lr=self.hp.lr,
                          betas=(self.hp.beta1, self.hp.beta2))

    def d_loss(self, real_scores, fake_scores):
        return d_loss_bce(real_scores, fake_scores)

    def g_loss(self, fake_scores):
        return g_loss_nonsaturating(fake_scores)
