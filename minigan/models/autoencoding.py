"""The skeleton of the GANs whose discriminator is an autoencoder (EBGAN, BEGAN; notes 003,
"EBGAN, BEGAN"): D scores a sample by how well it reconstructs it.

D(x) = (Dec(Enc(x)), Enc(x)) (``networks.AutoEncoder``) and a sample's *energy* is its
per-sample reconstruction error E(x) = mean_i |Dec(Enc(x))_i − x_i|^p
(``losses.reconstruction_energy``). D learns low energy on real data and high energy on
fakes; G (``networks.conv_decoder``, the same shape as D's decoder) learns samples of low
energy. One ``step(batch)``:

    fake = G(z)
    E(x), E(fake)  (fake detached)   L_D = discriminator_loss(..);  D ← D − Adam(∇L_D)
    E(G(z)), Enc(G(z))  (D frozen)   L_G = generator_loss(..);      G ← G − Adam(∇L_G)

A model of this family chooses ``energy_power`` (p) and the two losses; EBGAN adds a
margin and the pull-away term, BEGAN a balance k updated after each step. D has no
normalisation; G may have batch norm (``g_norm``), and samples are then drawn with each
batch's own statistics, as in training.
"""
from minigan import optim
from minigan.models.adversarial import AdversarialModel, frozen
from minigan.models.losses import reconstruction_energy
from minigan.models.networks import AutoEncoder, batch_statistics, conv_decoder
from minigan.models.options import Option

# The options every autoencoder GAN shares; each model puts its own defaults on them.
AUTOENCODER_OPTIONS = (
    Option("lr", 1e-4, "Adam learning rate of G and D", above=0),
    Option("beta1", 0.5, "Adam β₁", least=0),
    Option("beta2", 0.999, "Adam β₂", least=0),
    Option("latent_dim", 64, "size of the noise z", least=1),
    Option("code", 32, "size of D's code Enc(x)", least=1),
    Option("width", 16, "channels of the first conv of D's encoder (and of G's last)",
           least=1),
    Option("g_norm", "none", "normalisation in G's hidden layers (D has none)",
           choices=("none", "batch")),
)


class AutoencoderGAN(AdversarialModel):
    """Base class: conv G, autoencoder D, per-sample energies, the two-player step."""
    data_kinds = ("image",)
    energy_power = 2   # p of the reconstruction energy

    def loss_family(self):
        # The skeleton wants a (D, G) pair of losses.LOSSES; this family's ``step`` uses its
        # own losses of the energies, never that pair. Energies are unbounded real scores,
        # like a critic's, hence this family's name.
        return "wasserstein"

    def build_networks(self):
        hp = self.hp
        return (conv_decoder(hp.latent_dim, self.data_shape, hp.width, squash=True,
                             norm=hp.g_norm),
                AutoEncoder(self.data_shape, hp.width, hp.code))

    def build_optimizers(self):
        return self.optimizer_pair(optim.Adam, lr=self.hp.lr,
                                   betas=(self.hp.beta1, self.hp.beta2))

    def generate(self, z, labels=None):
        """G(z); outside training with the batch's own statistics in any batch norm (as
        DCGAN samples by default), so sampling changes no state."""
        if self.G.training:
            return self.G(z)
        with batch_statistics(self.G):
            return self.G(z)

    def energy(self, x):
        """(E(x) per sample (N,), the codes Enc(x) (N, code))."""
        reconstruction, code = self.D(x)
        return reconstruction_energy(reconstruction, x, self.energy_power), code

    # ---- what a model of this family chooses ----
    def discriminator_loss(self, real_energy, fake_energy):
        """(L_D Tensor, dict of floats to log)."""
        raise NotImplementedError(f"{type(self).__name__} must define discriminator_loss")

    def generator_loss(self, fake_energy, fake_code):
        """(L_G Tensor, dict of floats to log)."""
        raise NotImplementedError(f"{type(self).__name__} must define generator_loss")

    def after_step(self, real_energy, fake_energy):
        """Called with the energies of D's step (Tensors, no graph needed) after both
        updates; returns floats to log (BEGAN updates its balance here)."""
        return {}

    # ---- one training step ----
    def step(self, batch):
        real = self.batch_field(batch, "x")
        fake = self.generate(self.noise(real.shape[0]))
        real_energy, _ = self.energy(real)
        fake_energy, _ = self.energy(fake.detach())
        loss_d, logs = self.discriminator_loss(real_energy, fake_energy)
        self.optimizers["D"].zero_grad()
        loss_d.backward()
        self.optimizers["D"].step()
        with frozen(self.D):
            g_energy, g_code = self.energy(fake)
            loss_g, g_logs = self.generator_loss(g_energy, g_code)
            self.optimizers["G"].zero_grad()
            loss_g.backward()
            self.optimizers["G"].step()
        self.d_updates += 1
        self.g_updates += 1
        logs.update(g_logs)
        logs.update(self.after_step(real_energy.detach(), fake_energy.detach()))
        return {"loss_D": loss_d.item(), "loss_G": loss_g.item(),
                "E(x)": float(real_energy.data.mean()),
                "E(G(z))": float(fake_energy.data.mean()), **logs}
