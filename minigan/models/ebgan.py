"""EBGAN (Zhao, Mathieu & LeCun 2017; notes 003, "EBGAN, BEGAN"): the discriminator as an
energy function, an autoencoder whose reconstruction error is the energy.

With E(x) = (1/M)‖Dec(Enc(x)) − x‖² the per-sample mean squared reconstruction error
(low on data, high elsewhere), a margin m > 0 and the codes s_i = Enc(G(z_i)):

    D minimises  L_D = E_x[E(x)] + E_z[max(0, m − E(G(z)))]
    G minimises  L_G = E_z[E(G(z))] + λ_PT · f_PT(s),
                 f_PT = 1/(N(N−1)) Σ_{i≠j} (s_iᵀs_j / (‖s_i‖‖s_j‖))²

D pushes real energies down and fake energies up, but no further than m (the hinge: a
fake of energy ≥ m gives D no gradient, so D cannot spend its capacity on fakes that
are already bad). The pull-away term (PT) is a batch-level penalty on G: the mean squared
cosine between the codes of distinct fakes, 0 when they are orthogonal, 1 when they are
all parallel, so G is pushed away from making the same sample twice (mode collapse).
The square matters (``losses.pull_away_term``): without it, opposite codes would count
as "diverse" (cosine −1) and the term could go negative.

Networks: G = ``networks.conv_decoder`` (z → Linear → 7×7 → 14 → 28, tanh), D =
``networks.AutoEncoder`` (conv encoder to a code of ``code`` numbers, and the mirrored
decoder), no batch norm; Adam for both. The margin is a fixed option (the paper's), so
the model's state is its networks, optimisers and update counts.

>>> import minigan
>>> gan = EBGAN((1, 28, 28), width=4, code=8, latent_dim=8)
>>> sorted(gan.step({"x": minigan.rand(4, 1, 28, 28) * 2 - 1}))
['E(G(z))', 'E(x)', 'loss_D', 'loss_G', 'pt']
"""
from minigan import functional as F
from minigan.models.autoencoding import AUTOENCODER_OPTIONS, AutoencoderGAN
from minigan.models.losses import d_loss_ebgan, pull_away_term
from minigan.models.options import Option, extend


class EBGAN(AutoencoderGAN):
    """Energy-based GAN: autoencoder D, margin loss, pull-away term on G's codes."""
    name = "ebgan"
    energy_power = 2
    options = (
        Option("margin", 1.0, "m: D raises a fake's energy up to m, no further", above=0),
        Option("pt_weight", 0.1, "λ_PT, weight of the pull-away term in G's loss (0: off)",
               least=0),
    ) + extend(AUTOENCODER_OPTIONS, lr=1e-3)

    def discriminator_loss(self, real_energy, fake_energy):
        return d_loss_ebgan(real_energy, fake_energy, self.hp.margin), {}

    def generator_loss(self, fake_energy, fake_code):
        pt = pull_away_term(fake_code)
        loss = F.mean(fake_energy)
        if self.hp.pt_weight:
            loss = loss + self.hp.pt_weight * pt
        return loss, {"pt": pt.item()}
