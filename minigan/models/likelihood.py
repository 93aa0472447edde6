"""What minigan's explicit density models share (notes 003, "explicit vs implicit"): Bernoulli
pixels, held-out negative log-likelihoods in nats and bits per dimension, and their report.

A GAN's generator defines p(x) only implicitly: it can sample, but not say how probable a
digit is. An explicit model (VAE, PixelCNN) gives log p(x), or a bound on it, for any x,
so models are compared by the negative log-likelihood (NLL) of held-out data: the number
of nats (or bits) a code built from the model would need per image.

Pixels. Digits binarised to b ∈ {0, 1} (``minigan.data.binarized``) are stored as
x = 2b − 1 ∈ {−1, +1}, like every image data set of minigan; these models read
b = (x + 1)/2 (``bernoulli_targets``). Training accepts any x in [−1, 1] (on grey digits
the Bernoulli NLL is then a cross-entropy, the usual VAE recipe on grey MNIST); every
likelihood a model *reports* is computed only on exactly binary data, since only there is
it a probability (``exact=True``, an error otherwise).

Units. NLL in nats = −ln p(x); in bits per dimension it is divided by D ln 2, D the
number of pixels (784 for a digit: the true pixel count, not a padded one):

    bits/dim = NLL_nats / (D ln 2),   e.g. 80 nats per digit = 80 / (784 · 0.6931) = 0.147

>>> round(bits_per_dim(80.0, 784), 4)
0.1472
"""
import math

import numpy as np

from minigan import backend, metrics
from minigan.autograd import Tensor, no_grad
from minigan.data import BINARIZED, load_dataset
from minigan.functional import exp, sum
from minigan.models.base import Model

EVAL_BATCH = 100      # held-out images per forward pass of ``evaluate``
LN_2PI = math.log(2 * math.pi)


def bernoulli_targets(x, who, exact=False):
    """b = (x + 1)/2, the Bernoulli targets of images x in [−1, 1] (a Tensor, same shape).

    A ValueError naming ``who`` if some x lies outside [−1, 1], or, with ``exact``, if
    some x is not exactly −1 or +1 (a likelihood is reported on binary pixels only).
    """
    data = x.data
    xp = backend.get_array_module(data)
    if exact:
        bad = xp.logical_and(data != -1, data != 1)
        if bool(bad.any()):
            value = float(data[bad].ravel()[0])
            raise ValueError(f"{who}: a likelihood is reported on binary pixels only, x in "
                             f"{{-1, +1}}; found {value:g} (use the binarised digits: "
                             f"--data {' or '.join(BINARIZED)})")
    elif bool((data < -1).any()) or bool((data > 1).any()):
        raise ValueError(f"{who}: expected images in [-1, 1] (b = (x + 1)/2 is the "
                         f"probability of a white pixel), found values from "
                         f"{float(data.min()):g} to {float(data.max()):g}")
    return (x + 1) * 0.5


def bits_per_dim(nats, dims):
    """nats per image -> bits per pixel: nats / (dims · ln 2)."""
    return nats / (dims * math.log(2))


def log_normal(z, mu, logvar):
    """log N(z; μ, diag e^{logvar}) per sample, summed over every axis but the first:

        −½ Σ_j [(z_j − μ_j)² e^{−logvar_j} + logvar_j + ln 2π],   shape (N,).

    With μ = 0 and logvar = 0 it is the standard normal prior log p(z). Differentiable in
    all three arguments (used by lesson 16's estimators and the IWAE bound).
    """
    d = z - mu
    axes = tuple(range(1, z.ndim))
    return -0.5 * sum(d * d * exp(-logvar) + logvar + LN_2PI, axis=axes)


def log_mean_exp(a, axis=0):
    """log (1/k) Σ_i e^{a_i} along ``axis`` of an array, without overflow:
    m + log mean e^{a − m}, m = max a."""
    xp = backend.get_array_module(a)
    m = a.max(axis=axis, keepdims=True)
    return (m + xp.log(xp.exp(a - m).mean(axis=axis, keepdims=True))).squeeze(axis)


def data_label(spec):
    """How a data spec is binarised, for every reported number: "mnist5k-bin (threshold
    at ½)" or "mnist5k-sbin (stochastic, fixed seed)"; a ValueError for other data."""
    name = spec.split(":")[0]
    if name not in BINARIZED:
        raise ValueError(f"likelihoods are reported on binarised digits ({', '.join(BINARIZED)}"
                         f"), found {spec!r}")
    how = "threshold at 1/2" if BINARIZED[name] == "threshold" else "stochastic, fixed seed"
    return f"{name} ({how})"


def spread_images(dataset, count, device):
    """``count`` images of ``dataset`` evenly spread over it (a class-sorted data set
    then shows every class), as a Tensor on ``device``."""
    index = np.linspace(0, len(dataset) - 1, count).round().astype(int)
    return Tensor(backend.to_device(dataset.x[index], device))


class LikelihoodModel(Model):
    """Base class of the explicit density models: Bernoulli pixels, held-out report.

    A subclass defines ``heldout_bounds(x)``: per-image numbers on a batch of binary
    images, a dict name -> (N,) array, each the exact NLL −log p(x) or an upper bound on
    it (−ELBO, say), in nats, so that lower is better everywhere; ``evaluate`` averages
    them over the test split of the data set and adds bits per dimension and the scores
    of the model's samples.
    """
    kind = "likelihood"
    data_kinds = ("image",)

    def targets(self, x, exact=False):
        """``bernoulli_targets`` of x, errors naming this model."""
        return bernoulli_targets(x, self.name, exact)

    def nats(self, x):
        """Per-image nats (N,) on images x, cheap enough to watch every epoch: the exact
        NLL, or a one-sample estimate of −ELBO (what early stopping follows)."""
        raise NotImplementedError(f"{type(self).__name__} must define nats")

    def heldout_bounds(self, x):
        """{name: (N,) NLL or NLL upper bound in nats} for binary images x (a Tensor on
        this model's device)."""
        raise NotImplementedError(f"{type(self).__name__} must define heldout_bounds")

    def heldout(self, images, batch_size=EVAL_BATCH):
        """The mean of each of ``heldout_bounds`` over ``images`` (an (N, C, H, W) array of
        exactly binary ±1 images), in nats: {name: float}."""
        parts = {}
        with no_grad():
            for start in range(0, len(images), batch_size):
                x = Tensor(backend.to_device(images[start:start + batch_size], self.device))
                self.targets(x, exact=True)
                for name, values in self.heldout_bounds(x).items():
                    parts.setdefault(name, []).append(np.asarray(values, np.float64))
        return {name: float(np.concatenate(v).mean()) for name, v in parts.items()}

    def evaluate(self, data, num_samples=1000):
        """The held-out numbers on the test split of ``data`` (binarised digits): each of
        ``heldout_bounds`` in nats and in bits/dim, named with the binarisation, and the
        digit scores (``metrics.score_samples``) of ``num_samples`` samples."""
        label = data_label(data)
        test = load_dataset(data, split="test")
        scores = {"data": label, "test_images": len(test)}
        for name, nats in self.heldout(test.x).items():
            scores[f"{name}_nats"] = nats
            scores[f"{name}_bits_per_dim"] = bits_per_dim(nats, self.num_features)
        samples = np.concatenate([self.sample(min(EVAL_BATCH, num_samples - s)).numpy()
                                  for s in range(0, num_samples, EVAL_BATCH)])
        scores.update(metrics.score_samples(samples, data, device=self.device))
        return scores
