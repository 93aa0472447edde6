"""Variational autoencoder (Kingma & Welling 2014; notes 003, "VAE" and "Variational Lower
Bound"): a latent-variable model of binary digits trained by its evidence lower bound.

Model. z ~ p(z) = N(0, I) (``latent_dim`` numbers), then every pixel independently
b_i ~ Bernoulli(σ(l_i)), l = Dec(z) the decoder's logits:

    log p(b | z) = Σ_i [b_i log σ(l_i) + (1 − b_i) log(1 − σ(l_i))],  p(b) = ∫ p(b|z) p(z) dz.

p(b) and the posterior p(z|b) have no closed form (notes 003: "p(x), p(z|x) cannot be
computed"), so an encoder predicts a Gaussian q(z|b) = N(μ(x), diag e^{logvar(x)}) in
their place, and for every q

    log p(b) = E_q[log p(b|z)] − KL(q(z|b) ‖ p(z)) + KL(q(z|b) ‖ p(z|b))
             =            ELBO(b; q)               + (≥ 0, not computable)

so the ELBO is a lower bound of log p(b), tight when q is the true posterior (notes 003:
"maximise the computable part"; lesson 16 checks the identity by quadrature). Training
maximises it, i.e. minimises per image

    L = −ELBO = E_{ε~N(0,I)} [−log p(b | z = μ + e^{logvar/2} ⊙ ε)] + KL(q ‖ N(0, I)),
    KL = ½ Σ_j (μ_j² + e^{logvar_j} − 1 − logvar_j)            (``losses.gaussian_kl``)

with one ε per image. Writing z = μ + σ ⊙ ε (the reparameterisation) moves the sampling
into ε, which has no parameters, so ∂L/∂μ and ∂L/∂logvar go through z by the chain rule:
∂z/∂μ = 1, ∂z/∂logvar = ½ σ ⊙ ε.

Reported, on held-out binary digits, in nats (lower is better; all ≥ −log p(b)):

    nll_bound_elbo       −ELBO (its E_q estimated with the same k samples as below)
    nll_bound_iwae{k}    −log (1/k) Σ_i p(b|z_i) p(z_i) / q(z_i|b),  z_i ~ q(z|b):
                         the importance-weighted bound (Burda et al. 2016), ≥ −log p(b),
                         nearer to it as k grows (k = ``iw_samples``, 200)

Networks: ``arch mlp``: encoder 784-400-(20 μ, 20 logvar), decoder 20-400-784 logits,
ReLU (the MLP of Kingma & Welling with ReLU); ``arch conv``: two stride-2 4×4 convolutions
(28 → 14 → 7) and a linear layer each way. Pixels: x ∈ [−1, 1] in, b = (x + 1)/2 as the
targets (``likelihood.py``); a likelihood is reported on binary digits only. ``sample``
returns the decoder's Bernoulli means as images 2σ(l) − 1 (the usual VAE picture), or
binary draws b ~ Bernoulli(σ(l)) (``draw=True``: a true sample of p(b)).

With 4,500 digits the held-out ELBO stops improving and then worsens (overfitting) after
some tens of epochs; ``benchmarks/likelihood.py`` stops early on a validation split. On
the 500 test digits of mnist5k-bin the MLP VAE reaches −ELBO 99.5 and −IWAE₂₀₀ 91.3 nats
(epoch 63, 22 s of CPU), the conv variant (width 16) 92.5 and 82.5 (BENCHMARKS.md).

>>> import minigan
>>> vae = VAE((1, 28, 28))
>>> sorted(vae.step({"x": minigan.rand(4, 1, 28, 28) * 2 - 1}))
['kl', 'loss', 'recon']
>>> vae.sample(2).shape
(2, 1, 28, 28)
"""
import numpy as np

from minigan import backend, metrics, nn, optim, viz
from minigan.autograd import Tensor, no_grad
from minigan.creation import rand, randn, zeros_like
from minigan.data import load_dataset
from minigan.functional.activation import sigmoid, tanh
from minigan.functional import cat, mean
from minigan.models.adversarial import eval_mode
from minigan.models.likelihood import (LikelihoodModel, log_mean_exp, log_normal,
                                       spread_images)
from minigan.models.losses import bernoulli_nll, gaussian_kl
from minigan.models.options import Option

IW_BUDGET = 2000     # images × importance samples decoded at once by the IWAE bound
PREVIEW_ROW = 8
PREVIEW_SAMPLE_ROWS = 4


# ==================== encoder and decoder ====================

def mlp_encoder(data_shape, hidden, latent_dim):
    """x (N, C, H, W) -> flatten -> Linear(C·H·W, hidden)+ReLU -> Linear(hidden, 2·latent):
    (μ, logvar) side by side."""
    features = int(np.prod(data_shape))
    return nn.Sequential(nn.Flatten(), nn.Linear(features, hidden), nn.ReLU(),
                         nn.Linear(hidden, 2 * latent_dim))


def mlp_decoder(data_shape, hidden, latent_dim):
    """z (N, latent) -> Linear(latent, hidden)+ReLU -> Linear(hidden, C·H·W) -> logits
    (N, C, H, W)."""
    features = int(np.prod(data_shape))
    return nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, features),
                         nn.Unflatten(1, tuple(data_shape)))


def _quarter(data_shape, who):
    c, h, w = data_shape
    if h % 4 or w % 4:
        raise ValueError(f"{who}: the conv networks halve the image twice, so H and W must "
                         f"be multiples of 4, found {h}×{w}")
    return c, h // 4, w // 4


def conv_encoder(data_shape, width, latent_dim):
    """x (N, C, H, W) -> Conv(C, w, 4, 2, 1)+ReLU -> Conv(w, 2w, 4, 2, 1)+ReLU
    (H -> H/2 -> H/4) -> flatten -> Linear(2w·H/4·W/4, 2·latent)."""
    c, h, w = _quarter(data_shape, "conv encoder")
    return nn.Sequential(nn.Conv2d(c, width, 4, 2, 1), nn.ReLU(),
                         nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(),
                         nn.Flatten(),                          # (N, 2w, H/4, W/4) -> (N, ·)
                         nn.Linear(2 * width * h * w, 2 * latent_dim))


def conv_decoder(data_shape, width, latent_dim):
    """z (N, latent) -> Linear(latent, 2w·H/4·W/4)+ReLU -> (N, 2w, H/4, W/4)
    -> ConvT(2w, w, 4, 2, 1)+ReLU -> ConvT(w, C, 4, 2, 1) -> logits (N, C, H, W)."""
    c, h, w = _quarter(data_shape, "conv decoder")
    return nn.Sequential(nn.Linear(latent_dim, 2 * width * h * w), nn.ReLU(),
                         nn.Unflatten(1, (2 * width, h, w)),
                         nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),
                         nn.ConvTranspose2d(width, c, 4, 2, 1))


def reparameterize(mu, logvar, eps=None):
    """z = μ + e^{logvar/2} ⊙ ε with ε ~ N(0, I) from minigan's generator (or ``eps``):
    a sample of N(μ, diag e^{logvar}) that is differentiable in μ and logvar,
    ∂z/∂μ = 1, ∂z/∂logvar = ½ e^{logvar/2} ⊙ ε."""
    if eps is None:
        eps = randn(*mu.shape, dtype=mu.dtype, device=mu.device)
    return mu + (logvar * 0.5).exp() * eps


def bernoulli_image(u, logits):
    """Binary draws b = [u < σ(l)] (u ~ U[0, 1) given) as images 2b − 1 ∈ {−1, +1}: a pixel
    is white with probability σ(l). No graph."""
    b = u.data < sigmoid(logits).data
    return Tensor((2 * b - 1).astype(logits.data.dtype))


# ==================== the model ====================

class VAE(LikelihoodModel):
    """Bernoulli VAE: Gaussian encoder q(z|x), decoder logits, −ELBO minimised with Adam."""
    name = "vae"
    options = (
        Option("arch", "mlp", "encoder and decoder: mlp (784-400-latent) or conv (two "
               "stride-2 convolutions each way)", choices=("mlp", "conv")),
        Option("latent_dim", 20, "size of the latent vector z", least=1),
        Option("hidden", 400, "hidden units of the MLP encoder and decoder", least=1),
        Option("width", 32, "channels of the conv networks' first layer", least=1),
        Option("lr", 1e-3, "Adam learning rate", least=0),
        Option("iw_samples", 200, "k of the importance-weighted bound reported by eval",
               least=1),
    )

    def __init__(self, data_shape, num_classes=None, device="cpu", **options):
        super().__init__(data_shape, num_classes, device, **options)
        self.networks = {name: net.to(self.device)
                         for name, net in self.build_networks().items()}
        self.encoder, self.decoder = self.networks["encoder"], self.networks["decoder"]
        self.optimizers = self.build_optimizers()

    def build_networks(self):
        """{"encoder", "decoder"} of ``arch``."""
        hp, shape = self.hp, self.data_shape
        if hp.arch == "mlp":
            return {"encoder": mlp_encoder(shape, hp.hidden, hp.latent_dim),
                    "decoder": mlp_decoder(shape, hp.hidden, hp.latent_dim)}
        return {"encoder": conv_encoder(shape, hp.width, hp.latent_dim),
                "decoder": conv_decoder(shape, hp.width, hp.latent_dim)}

    def build_optimizers(self):
        """One Adam over the encoder's and the decoder's weights: both follow −ELBO."""
        params = list(self.encoder.parameters()) + list(self.decoder.parameters())
        return {"vae": optim.Adam(params, lr=self.hp.lr)}

    # ---- the pieces of the bound ----
    def encode(self, x):
        """q(z|x): (μ, logvar), each (N, latent_dim)."""
        h = self.encoder(x)
        k = self.hp.latent_dim
        return h[:, :k], h[:, k:]

    def decode(self, z):
        """The decoder's logits l (N, *data_shape): p(b_i = 1 | z) = σ(l_i)."""
        return self.decoder(z)

    def negative_elbo(self, x):
        """(−ELBO, reconstruction −log p(b|z), KL), each (N,), one z ~ q(z|x) per image."""
        mu, logvar = self.encode(x)
        recon = bernoulli_nll(self.decode(reparameterize(mu, logvar)), self.targets(x))
        kl = gaussian_kl(mu, logvar)
        return recon + kl, recon, kl

    def nats(self, x):
        """−ELBO per image (N,), one z ~ q(z|x) each, networks in eval mode."""
        with eval_mode(self.encoder), eval_mode(self.decoder):
            return self.negative_elbo(x)[0]

    def step(self, batch):
        """One Adam step on the batch mean of −ELBO (nats per image)."""
        loss, recon, kl = (mean(t) for t in self.negative_elbo(self.batch_field(batch, "x")))
        self.optimizers["vae"].zero_grad()
        loss.backward()
        self.optimizers["vae"].step()
        return {"loss": loss.item(), "recon": recon.item(), "kl": kl.item()}

    def heldout_bounds(self, x):
        """−ELBO and −IWAE_k per image (nats), from the same k = ``iw_samples`` draws
        z_i ~ q(z|x): log w_i = log p(b|z_i) + log p(z_i) − log q(z_i|x),
        −ELBO = mean_i(−log p(b|z_i)) + KL (closed form), −IWAE = −log mean_i e^{log w_i}."""
        k = self.hp.iw_samples
        chunk = max(1, IW_BUDGET // k)
        elbo, iwae = [], []
        with eval_mode(self.encoder), eval_mode(self.decoder):
            for start in range(0, x.shape[0], chunk):
                part = x[start:start + chunk]
                n = part.shape[0]
                mu, logvar = self.encode(part)
                mu_k, logvar_k, x_k = (cat([t] * k) for t in (mu, logvar, part))  # (k·n, ·)
                z = reparameterize(mu_k, logvar_k)
                recon = bernoulli_nll(self.decode(z), self.targets(x_k))         # (k·n,)
                zero = zeros_like(z)
                log_w = log_normal(z, zero, zero) - log_normal(z, mu_k, logvar_k) - recon
                recon, log_w = (backend.to_numpy(t.data).astype(np.float64).reshape(k, n)
                                for t in (recon, log_w))
                kl = backend.to_numpy(gaussian_kl(mu, logvar).data).astype(np.float64)
                elbo.append(recon.mean(axis=0) + kl)
                iwae.append(-log_mean_exp(log_w, axis=0))
        return {"nll_bound_elbo": np.concatenate(elbo),
                f"nll_bound_iwae{k}": np.concatenate(iwae)}

    # ---- sampling and pictures ----
    def noise(self, n):
        """n latent vectors z ~ N(0, I), (n, latent_dim), in the decoder's dtype."""
        dtype = next(self.decoder.parameters()).dtype
        return randn(n, self.hp.latent_dim, dtype=dtype, device=self.device)

    def image(self, logits):
        """The decoder's picture of its logits: the Bernoulli means as 2σ(l) − 1 = tanh(l/2),
        in [−1, 1] like the data."""
        return tanh(logits * 0.5)

    def sample(self, n, condition=None, noise=None, draw=False):
        """n images from z ~ N(0, I) (or ``noise``), no graph: the Bernoulli means
        2σ(Dec(z)) − 1, or with ``draw`` binary draws 2b − 1, b ~ Bernoulli(σ(Dec(z)))."""
        if condition is not None:
            raise ValueError(f"{self.name} is not conditional: it draws samples of no "
                             "particular class")
        z = self.noise(n) if noise is None else noise
        if z.shape != (n, self.hp.latent_dim):
            raise ValueError(f"{self.name}: expected noise of shape {(n, self.hp.latent_dim)}, "
                             f"found {z.shape}")
        with eval_mode(self.decoder), no_grad():
            logits = self.decode(z)
            if not draw:
                return self.image(logits)
            u = rand(*logits.shape, dtype=logits.dtype, device=self.device)
            return bernoulli_image(u, logits)

    def reconstruct(self, x):
        """The decoder's picture of the posterior mean z = μ(x), no graph."""
        with eval_mode(self.encoder), eval_mode(self.decoder), no_grad():
            return self.image(self.decode(self.encode(x)[0]))

    def preview_inputs(self, dataset):
        """Fixed noise for the sample rows, and up to two rows of training images to
        reconstruct."""
        per_row = min(PREVIEW_ROW, len(dataset))
        count = per_row * max(1, min(2, len(dataset) // per_row))
        images = spread_images(dataset, count, self.device)
        return {"noise": self.noise(per_row * PREVIEW_SAMPLE_ROWS), "images": images}

    def preview(self, path, inputs, title=None):
        """Rows of data, their reconstructions, then samples from the fixed noise."""
        images, noise = inputs["images"], inputs["noise"]
        per_row = len(noise) // PREVIEW_SAMPLE_ROWS
        grid = np.concatenate([images.numpy(), self.reconstruct(images).numpy(),
                               self.sample(len(noise), noise=noise).numpy()])
        data_rows = len(images) // per_row
        labels = (["data"] + [""] * (data_rows - 1) + ["recon"] + [""] * (data_rows - 1)
                  + ["samples"] + [""] * (PREVIEW_SAMPLE_ROWS - 1))
        viz.save_image_grid(grid, path, nrow=per_row, title=title, row_labels=labels)

    # ---- scores ----
    def evaluate(self, data, num_samples=1000):
        """``LikelihoodModel.evaluate`` and the reconstructions of the test digits: their
        pixel MSE in [−1, 1] and how often the digit classifier still reads the label."""
        scores = super().evaluate(data, num_samples)
        scores.update(self.reconstruction_scores(load_dataset(data, split="test")))
        return scores

    def reconstruction_scores(self, test):
        """{"recon_mse", "recon_accuracy"} of the posterior-mean reconstructions of ``test``
        (a labelled Dataset of digits in [−1, 1])."""
        parts = []
        for start in range(0, len(test), 250):
            x = Tensor(backend.to_device(test.x[start:start + 250], self.device))
            parts.append(self.reconstruct(x).numpy())
        recon = np.concatenate(parts)
        probs, _ = metrics.classify(recon, metrics.load_classifier(device=self.device))
        return {"recon_mse": float(np.mean((recon - test.x) ** 2)),
                "recon_accuracy": metrics.label_accuracy(probs, test.labels)}
