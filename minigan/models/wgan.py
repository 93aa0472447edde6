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
>>> _ = gan.step({"x": minigan.randn(8, 2)})
>>> max(float(abs(p.data).max()) for p in gan.D.parameters()) <= 0.01
True
"""
from minigan import optim
from minigan.autograd import no_grad
from minigan.models.adversarial import AdversarialModel
from minigan.models.networks import NETWORK_OPTIONS
from minigan.models.options import Option


class WGAN(AdversarialModel):
    """Wasserstein GAN: critic without sigmoid, weight clipping, RMSprop, 5 critic steps."""
    name = "wgan"
    options = (
        Option("lr", 5e-5, "RMSprop learning rate of G and the critic", least=0),
        Option("clip", 0.01, "critic weights are clipped to [-clip, clip]", above=0),
        Option("k", 5, "critic updates per generator update", least=1),
    ) + NETWORK_OPTIONS

    def loss_family(self):
        return "wasserstein"

    def build_optimizers(self):
        return self.optimizer_pair(optim.RMSprop, lr=self.hp.lr)

    def after_critic_step(self):
        """w ← clip(w, −c, c) for every critic parameter (notes 002's Lipschitz constraint)."""
        with no_grad():
            for p in self.D.parameters():
                p.data.clip(-self.hp.clip, self.hp.clip, out=p.data)
