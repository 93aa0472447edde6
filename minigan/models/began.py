"""BEGAN (Berthelot, Schumm & Metz 2017; notes 003, "EBGAN, BEGAN"): an autoencoder D and
a proportional controller that keeps G and D in balance.

With L(v) = (1/M)‖v − Dec(Enc(v))‖₁ the per-sample mean absolute reconstruction error
(``losses.reconstruction_energy`` with p = 1):

    D minimises  L_D = L(x) − k_t · L(G(z))
    G minimises  L_G = L(G(z))
    k_{t+1} = clip(k_t + λ_k (γ L(x) − L(G(z))), 0, 1),   k_0 = 0

(batch means). D reconstructs real images and, weighted by k_t, un-reconstructs fakes; G
makes images D reconstructs well. k_t is a proportional controller on the balance
γ L(x) − L(G(z)): when G wins (L(G(z)) < γ L(x)) k grows and D fights the fakes harder;
when D wins k shrinks. It stops moving where

    E[L(G(z))] = γ E[L(x)],

so γ ∈ (0, 1], the *diversity ratio*, sets the equilibrium ratio L(G)/L(x): a low γ lets
D spend more on reconstructing real images (sharper, less varied samples). The notes
write that BEGAN keeps "G's loss over D's loss near 1"; the controller holds the ratio
at γ, which is 1 only for γ = 1 (lesson 13 shows it). The paper's convergence measure,
logged as "M_global",

    M_global = L(x) + |γ L(x) − L(G(z))|,

falls as training converges, unlike the GAN losses. k_t is a float of the model's state,
saved and restored with it (bit-exact resume).

Networks: as EBGAN's (``autoencoding.py``): conv decoder G, conv autoencoder D, no batch
norm; Adam for both, λ_k = 1e-3. The defaults are the recipe of BENCHMARKS.md on the
embedded digits: lr 3e-4 (the paper's is 1e-4), halved every 2,000 steps (``lr_halving``;
the paper halves it when M_global stalls), width 16, batch 32. In 12,000 steps, for
γ = 0.3, 0.5 and 0.7, M_global falls (0.44–0.61 → 0.17), L(G)/L(x) ends at γ (0.300,
0.500, 0.704) and k_t settles inside (0, 1) at 0.006, 0.053 and 0.113: over the last
quarter its trend moves it by less than 10 % of its level. At a constant lr, γ = 0.3's
k_t had not settled in 10,000 steps. The samples are still mostly 1s (1, 1 and 4 classes
of 10), the digits D reconstructs best.

>>> import minigan
>>> gan = BEGAN((1, 28, 28), width=4, code=8, latent_dim=8)
>>> logs = gan.step({"x": minigan.rand(4, 1, 28, 28) * 2 - 1})
>>> sorted(logs)
['E(G(z))', 'E(x)', 'M_global', 'k', 'loss_D', 'loss_G', 'ratio']
>>> 0.0 <= gan.k <= 1.0
True
"""
from minigan import functional as F
from minigan.models.autoencoding import AUTOENCODER_OPTIONS, AutoencoderGAN
from minigan.models.losses import began_balance, began_convergence, d_loss_began
from minigan.models.options import Option, extend


class BEGAN(AutoencoderGAN):
    """Boundary equilibrium GAN: L1 autoencoder D, L_D = L(x) − k L(G(z)), k held by γ."""
    name = "began"
    energy_power = 1
    options = (
        Option("gamma", 0.5, "γ, the diversity ratio: k_t holds L(G(z))/L(x) at γ", above=0),
        Option("lambda_k", 1e-3, "λ_k, the gain of k_t's proportional control", least=0),
        Option("lr_halving", 2000, "halve G's and D's learning rate every this many steps "
               "(0: never)", least=0),
    ) + extend(AUTOENCODER_OPTIONS, lr=3e-4)

    def __init__(self, data_shape, num_classes=None, device="cpu", **options):
        super().__init__(data_shape, num_classes, device, **options)
        self.k = 0.0

    def learning_rate(self):
        """This step's lr: lr · 2^−⌊t / lr_halving⌋ after t steps (the paper halves it
        when M_global stalls; a fixed period needs no judgement of "stalls")."""
        if not self.hp.lr_halving:
            return self.hp.lr
        return self.hp.lr * 0.5 ** (self.d_updates // self.hp.lr_halving)

    def step(self, batch):
        # from the step count, which a checkpoint keeps: a resumed run continues the schedule
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = self.learning_rate()
        return super().step(batch)

    def discriminator_loss(self, real_energy, fake_energy):
        return d_loss_began(real_energy, fake_energy, self.k), {}

    def generator_loss(self, fake_energy, fake_code):
        return F.mean(fake_energy), {}

    def after_step(self, real_energy, fake_energy):
        """k_{t+1} from this step's L(x) and L(G(z)); logs k_{t+1}, M_global and the
        ratio L(G(z))/L(x)."""
        real, fake = float(real_energy.data.mean()), float(fake_energy.data.mean())
        self.k = began_balance(self.k, real, fake, self.hp.gamma, self.hp.lambda_k)
        return {"k": self.k, "M_global": began_convergence(real, fake, self.hp.gamma),
                "ratio": fake / real}

    # ---- k_t is state ----
    def state_dict(self):
        return {**super().state_dict(), "balance": {"k": self.k}}

    def load_state_dict(self, state):
        if "balance" not in state:
            raise ValueError(f"{self.name}: the saved state has no balance k_t (keys: "
                             f"{', '.join(sorted(state))})")
        super().load_state_dict(state)
        self.k = float(state["balance"]["k"])
