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

The update is the one every GAN of minigan shares (``adversarial.py``: D on a real and a
fake batch, then every k-th step G with D frozen), with the losses above from
``losses.py``: ``d_loss_bce`` for D, ``g_loss_nonsaturating`` or ``g_loss_minimax`` for G.

>>> import minigan
>>> gan = Vanilla((1, 28, 28))
>>> sorted(gan.step({"x": minigan.rand(8, 1, 28, 28) * 2 - 1}))
['D(G(z))', 'D(x)', 'loss_D', 'loss_G']
>>> gan.sample(4).shape
(4, 1, 28, 28)
"""
from minigan import nn, optim
from minigan.models.adversarial import AdversarialModel
from minigan.models.options import Option

# G's two losses name a (D loss, G loss) pair of losses.LOSSES: D's BCE is the same in both.
G_LOSSES = {"minimax": "minimax", "nonsaturating": "bce"}


class Vanilla(AdversarialModel):
    """The original GAN: MLP generator and discriminator, BCE, k D steps per G step."""
    name = "vanilla"
    options = (
        Option("lr", 2e-4, "Adam learning rate of G and D", least=0),
        Option("k", 1, "discriminator updates per generator update", least=1),
        Option("g_loss", "nonsaturating", "G's loss: minimax log(1 - D(G(z))) or "
               "non-saturating -log D(G(z))", choices=tuple(G_LOSSES)),
        Option("latent_dim", 100, "size of the noise vector z", least=1),
        Option("hidden", 128, "units of the hidden layer of G and D", least=1),
    )

    def build_networks(self):
        n, hidden = self.num_features, self.hp.hidden
        squash = [nn.Tanh()] if self.data_kind == "image" else []
        G = nn.Sequential(nn.Linear(self.hp.latent_dim, hidden), nn.ReLU(),
                          nn.Linear(hidden, n), *squash)
        D = nn.Sequential(nn.Linear(n, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))
        return G, D

    def build_optimizers(self):
        return self.optimizer_pair(optim.Adam, lr=self.hp.lr, betas=(0.5, 0.999))

    def loss_family(self):
        return G_LOSSES[self.hp.g_loss]

    def generate(self, z, labels=None):
        x = self.G(z)
        return x.reshape((z.shape[0],) + self.data_shape)  # (N, C*H*W) -> (N, C, H, W)

    def discriminate(self, x, labels=None):
        return self.D(x.reshape(x.shape[0], -1))           # (N, C, H, W) -> (N, C*H*W)
