"""The original GAN (Goodfellow et al. 2014; notes 004, 000): two MLPs and the min-max game.

Objective (notes 004), D(·) ∈ (0, 1) the probability that a sample is real:

    min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))]

which the notes also write as the loss L = −V that D minimises and G maximises:
L(D, G) = E_x[−log D(x)] + E_z[−log(1 − D(G(z)))].

D's side is binary cross-entropy with label 1 for real and 0 for fake. D outputs a logit
l (D = σ(l)) and the loss is computed from l, which is finite for every l (σ(l) rounds to
0 or 1 in float32 once |l| > 17, and log 0 = −inf):

    L_D = BCE(l_real, 1) + BCE(l_fake, 0) = softplus(−l_real) + softplus(l_fake).

G's side, two choices (``g_loss``):

    minimax        G minimises E_z[log(1 − D(G(z)))] = E[log σ(−l)] = −E[softplus(l)],
                   since 1 − σ(l) = σ(−l) and log σ(−l) = −log(1 + e^l).
                   d/dl [log(1 − σ(l))] = −σ(l) = −D(G(z)).
    nonsaturating  G minimises −E_z[log D(G(z))] = E[softplus(−l)],
                   d/dl [−log σ(l)] = −(1 − σ(l)) = −(1 − D(G(z))).

Early in training G's samples are poor, D rejects them, D(G(z)) ≈ 0 and the minimax
gradient −D(G(z)) ≈ 0: log(1 − D(G(z))) saturates and G barely learns. The non-saturating
loss has the same fixed point (D(G(z)) = ½ at equilibrium pushes both the same way) but
its gradient −(1 − D(G(z))) ≈ −1 is largest exactly there (notes 004, "Different Loss
function"; notes 000: "use max log D(G(z)) early").

Algorithm (notes 004): k discriminator updates per generator update, Adam with
β = (0.5, 0.999). Networks, from the notes' PyTorch listing (D with LeakyReLU(0.2) as in
notes 000, and no sigmoid since the loss takes logits):

    G: z (100) → Linear 128 → ReLU → Linear 784 → tanh  → image (1, 28, 28) in [−1, 1]
    D: x (784) → Linear 128 → LeakyReLU(0.2) → Linear 1 → logit l

On 2-D points (``ring8``, ``grid25``) the same MLPs map to and from 2 numbers, and G has
no tanh (the points lie outside [−1, 1]).

>>> import minigan
>>> gan = Vanilla((1, 28, 28))
>>> sorted(gan.step(minigan.rand(8, 1, 28, 28) * 2 - 1))
['D(G(z))', 'D(x)', 'loss_D', 'loss_G']
>>> gan.sample(gan.noise(4)).shape
(4, 1, 28, 28)
"""
from minigan import nn, optim
from minigan.autograd import no_grad
from minigan.creation import ones_like, zeros_like
from minigan.functional.activation import sigmoid
from minigan.functional.loss import binary_cross_entropy_with_logits
from minigan.gan.base import GAN, frozen
from minigan.gan.losses import g_loss_minimax, g_loss_nonsaturating, score_stats

# G's two losses, on D's logits l = logit D(G(z)); their derivations are in losses.py.
G_LOSSES = {"minimax": g_loss_minimax, "nonsaturating": g_loss_nonsaturating}


class Vanilla(GAN):
    """The original GAN: MLP generator and discriminator, BCE, k D steps per G step."""
    name = "vanilla"
    data_kinds = ("image", "points")

    def __init__(self, data_shape, num_classes=None, device="cpu", *, lr=2e-4, k=1,
                 g_loss="nonsaturating", latent_dim=100, hidden=128):
        if g_loss not in G_LOSSES:
            raise ValueError(f"vanilla: g_loss must be one of {', '.join(G_LOSSES)}, "
                             f"found {g_loss!r}")
        super().__init__(data_shape, num_classes, device, k=k, latent_dim=latent_dim, lr=lr,
                         g_loss=g_loss, hidden=hidden)
        n = self.num_features
        squash = [nn.Tanh()] if self.data_kind == "image" else []
        self.G = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                               nn.Linear(hidden, n), *squash).to(self.device)
        self.D = nn.Sequential(nn.Linear(n, hidden), nn.LeakyReLU(0.2),
                               nn.Linear(hidden, 1)).to(self.device)
        self.opt_G = optim.Adam(self.G.parameters(), lr=lr, betas=(0.5, 0.999))
        self.opt_D = optim.Adam(self.D.parameters(), lr=lr, betas=(0.5, 0.999))
        self.models = {"G": self.G, "D": self.D}
        self.optimizers = {"G": self.opt_G, "D": self.opt_D}
        self.g_loss = G_LOSSES[g_loss]

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--lr", type=float, default=2e-4,
                            help="Adam learning rate of G and D (default 2e-4)")
        parser.add_argument("--k", type=int, default=1,
                            help="discriminator updates per generator update (default 1)")
        parser.add_argument("--g-loss", choices=list(G_LOSSES), default="nonsaturating",
                            help="G's loss: minimax log(1 - D(G(z))) or non-saturating "
                                 "-log D(G(z)) (default nonsaturating)")
        parser.add_argument("--latent-dim", type=int, default=100,
                            help="size of the noise vector z (default 100)")
        parser.add_argument("--hidden", type=int, default=128,
                            help="units of the hidden layer of G and D (default 128)")

    def generate(self, z, labels=None):
        x = self.G(z)
        return x.reshape((z.shape[0],) + self.data_shape)  # (N, C*H*W) -> (N, C, H, W)

    def discriminator_step(self, real, fake, labels=None):
        n = real.shape[0]
        real_logits = self.D(real.reshape(n, -1))         # (N, C, H, W) -> (N, C*H*W)
        fake_logits = self.D(fake.reshape(n, -1))
        loss = (binary_cross_entropy_with_logits(real_logits, ones_like(real_logits))
                + binary_cross_entropy_with_logits(fake_logits, zeros_like(fake_logits)))
        self.opt_D.zero_grad()
        loss.backward()
        self.opt_D.step()
        with no_grad():  # diagnostics only: no graph
            d_real, d_fake = score_stats(sigmoid(real_logits), sigmoid(fake_logits))
        return {"loss_D": loss.item(), "D(x)": d_real, "D(G(z))": d_fake}

    def generator_step(self, fake, labels=None):
        with frozen(self.D):
            loss = self.g_loss(self.D(fake.reshape(fake.shape[0], -1)))
            self.opt_G.zero_grad()
            loss.backward()
            self.opt_G.step()
        return {"loss_G": loss.item()}
