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
>>> sorted(gan.step({"x": minigan.randn(8, 2)}))
['D(G(z))', 'D(x)', 'gp', 'grad_norm', 'loss_D']
"""
from minigan import optim
from minigan.models.adversarial import AdversarialModel
from minigan.models.losses import gradient_penalty
from minigan.models.networks import NETWORK_OPTIONS
from minigan.models.options import Option, extend


class WGANGP(AdversarialModel):
    """WGAN with gradient penalty: λ = 10, layer-norm critic, Adam(1e-4, β = (0, 0.9))."""
    name = "wgan-gp"
    options = (
        Option("lr", 1e-4, "Adam learning rate of G and the critic", least=0),
        Option("beta1", 0.0, "Adam β₁", least=0),
        Option("beta2", 0.9, "Adam β₂", least=0),
        Option("lam", 10.0, "weight λ of the gradient penalty", least=0),
        Option("k", 5, "critic updates per generator update", least=1),
    ) + extend(NETWORK_OPTIONS, norm="layer")

    def loss_family(self):
        return "wasserstein"

    def build_optimizers(self):
        return self.optimizer_pair(optim.Adam, lr=self.hp.lr,
                                   betas=(self.hp.beta1, self.hp.beta2))

    def critic_penalty(self, real, fake, labels):
        penalty, norm = gradient_penalty(lambda x: self.discriminate(x, labels), real, fake,
                                         self.hp.lam)
        return penalty, {"gp": penalty.item(), "grad_norm": norm}
