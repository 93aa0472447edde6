"""VAE/GAN (Larsen et al. 2016; notes 003, "Adversarial VAE (VAE/GAN)"): a VAE whose
reconstruction is judged in a discriminator's feature space, and whose decoder is also a
GAN generator.

The notes' one line, "build a base with the VAE, then sharpen it with a GAN", is the
motivation: a pixel-wise likelihood (−log p(b|z), or squared error) rewards the average of
the plausible images, hence blur. Larsen et al. train all three networks together from
the start, with the reconstruction measured on D's l-th layer features D_l:

    x̃ = Dec(z), z ~ q(z|x) (reparameterised);   x_p = Dec(z_p), z_p ~ N(0, I)

    L_prior = KL(q(z|x) ‖ N(0, I))                          (``losses.gaussian_kl``)
    L_llike = ½ Σ_j (D_l(x̃)_j − D_l(x)_j)²                 (``losses.feature_reconstruction``:
                                                              −log N(D_l(x) | D_l(x̃), I) + c)
    L_GAN   = log D(x) + log(1 − D(x̃)) + log(1 − D(x_p))

and each network its own loss:

    encoder        L_prior + L_llike                  (no GAN term: the encoder gets no
                                                       gradient from L_GAN)
    decoder        γ L_llike + (1 − γ) L_G,  L_G = −log D(x̃) − log D(x_p)
                   (the non-saturating form of −L_GAN, as for every GAN here; γ ∈ [0, 1]
                   trades reconstruction against fooling D; Larsen et al. write
                   γ L_llike − L_GAN)
    discriminator  −L_GAN                            (``losses.d_loss_vaegan``; D never sees
                                                       L_llike)

One ``step`` updates D on x, x̃, x_p (detached), then the encoder and the decoder, each by
the gradient of its own loss alone (two ``grad`` calls on one graph), D frozen.

Why "likelihood": the model is a VAE, an encoder q(z|x), the prior KL and a decoder, and
it sits with the VAE it modifies (``minigan list``) and is compared with it. Its decoder
still outputs Bernoulli logits, so ``evaluate`` reports the same −ELBO and −IWAE bounds in
nats, but they measure a decoder that was never trained for pixel likelihood: L_llike is a
density of D's features, which change as D trains, not of pixels. Its sample quality and
reconstructions (pixel MSE and the digit classifier's accuracy on them) are the numbers
to compare with the VAE's (BENCHMARKS.md).

Networks: the conv encoder and decoder of ``vae.py``; the decoder's image is
2σ(l) − 1 = tanh(l/2) in [−1, 1] (the data's range, what D sees); D:

    x (N, C, 28, 28) → Conv(C, w, 4, 2, 1)+LReLU(0.2) → Conv(w, 2w, 4, 2, 1)+LReLU(0.2)
      = D_l(x) (N, 2w, 7, 7) → flatten → Linear(2w·7·7, 1) → logit

>>> import minigan
>>> model = VAEGAN((1, 28, 28), width=8)
>>> sorted(model.step({"x": minigan.rand(4, 1, 28, 28) * 2 - 1}))
['D(x)', 'D(x_p)', 'D(x~)', 'kl', 'loss_D', 'loss_G', 'recon_features']
>>> model.sample(2).shape
(2, 1, 28, 28)
"""
import numpy as np

from minigan import nn, optim
from minigan.autograd import grad, no_grad
from minigan.functional.activation import sigmoid
from minigan.functional import mean
from minigan.models.adversarial import frozen
from minigan.models.losses import (d_loss_vaegan, feature_reconstruction, gaussian_kl,
                                   g_loss_nonsaturating)
from minigan.models.options import Option, extend
from minigan.models.vae import VAE, _quarter, reparameterize


class FeatureDiscriminator(nn.Module):
    """D with its feature layer exposed: ``forward`` gives (logit (N, 1), D_l(x) (N, 2w,
    H/4, W/4)), the second strided convolution's activations."""

    def __init__(self, data_shape, width):
        super().__init__()
        c, h, w = _quarter(data_shape, "VAE/GAN discriminator")
        self.features = nn.Sequential(nn.Conv2d(c, width, 4, 2, 1), nn.LeakyReLU(0.2),
                                      nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * h * w, 1))

    def forward(self, x):
        f = self.features(x)
        return self.head(f), f


class VAEGAN(VAE):
    """VAE/GAN: VAE encoder and decoder, a discriminator; reconstruction in D's features."""
    name = "vaegan"
    options = extend(VAE.options,
                     Option("gamma", 0.5, "decoder loss: gamma * feature reconstruction "
                            "+ (1 - gamma) * GAN loss", least=0),
                     Option("d_width", 32, "channels of D's first convolution", least=1),
                     Option("beta1", 0.5, "Adam beta1 of all three networks", least=0),
                     arch="conv", lr=2e-4)

    def __init__(self, data_shape, num_classes=None, device="cpu", **options):
        super().__init__(data_shape, num_classes, device, **options)
        if self.hp.gamma > 1:
            raise ValueError(f"{self.name}: gamma must be in [0, 1], found {self.hp.gamma}")
        self.D = self.networks["D"]

    def build_networks(self):
        """The VAE's encoder and decoder, and D."""
        return {**super().build_networks(),
                "D": FeatureDiscriminator(self.data_shape, self.hp.d_width)}

    def build_optimizers(self):
        """One Adam per network: the three follow three different losses."""
        return {name: optim.Adam(net.parameters(), lr=self.hp.lr, betas=(self.hp.beta1, 0.999))
                for name, net in self.networks.items()}

    def losses(self, x):
        """The forward pass of one step: x̃, x_p (with their graphs), q's (μ, logvar)."""
        mu, logvar = self.encode(x)
        recon = self.image(self.decode(reparameterize(mu, logvar)))
        prior = self.image(self.decode(self.noise(x.shape[0])))
        return recon, prior, mu, logvar

    def step(self, batch):
        """D on (x, x̃, x_p) detached; then the encoder by ∇(L_prior + L_llike) and the
        decoder by ∇(γ L_llike + (1 − γ) L_G), D frozen."""
        x = self.batch_field(batch, "x")
        self.targets(x)                                      # x must lie in [−1, 1]
        recon, prior, mu, logvar = self.losses(x)
        logs = self.discriminator_step(x, recon.detach(), prior.detach())
        with frozen(self.D):
            with no_grad():
                _, real_features = self.D(x)
            recon_logits, recon_features = self.D(recon)
            prior_logits, _ = self.D(prior)
            llike = mean(feature_reconstruction(recon_features, real_features))
            kl = mean(gaussian_kl(mu, logvar))
            gan = g_loss_nonsaturating(recon_logits) + g_loss_nonsaturating(prior_logits)
            gamma = self.hp.gamma
            self._apply("encoder", kl + llike, retain_graph=True)
            self._apply("decoder", gamma * llike + (1 - gamma) * gan)
        logs.update({"recon_features": llike.item(), "kl": kl.item(), "loss_G": gan.item()})
        return logs

    def discriminator_step(self, x, recon, prior):
        """One Adam step of D on −L_GAN (fakes detached: no graph reaches the decoder)."""
        real_logits, _ = self.D(x)
        recon_logits, _ = self.D(recon)
        prior_logits, _ = self.D(prior)
        loss = d_loss_vaegan(real_logits, recon_logits, prior_logits)
        self.optimizers["D"].zero_grad()
        loss.backward()
        self.optimizers["D"].step()
        with no_grad():
            scores = [float(np.mean(sigmoid(s).numpy()))
                      for s in (real_logits, recon_logits, prior_logits)]
        return {"loss_D": loss.item(), "D(x)": scores[0], "D(x~)": scores[1],
                "D(x_p)": scores[2]}

    def _apply(self, name, loss, retain_graph=False):
        """Set the gradients of network ``name`` to ∇ loss (that loss only) and step."""
        params = list(self.networks[name].parameters())
        grads = grad(loss, params, retain_graph=retain_graph)
        for p, g in zip(params, grads):
            p.grad = g
        self.optimizers[name].step()
