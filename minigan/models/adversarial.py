"""The adversarial skeleton every GAN of minigan shares: k D updates per G update.

A GAN is a (discriminator loss, generator loss) pair of ``losses.LOSSES``, a generator G
and a discriminator (or critic) D, and their optimisers. One ``step(batch)``:

    fake = G(z)                                   (no graph unless G updates this step)
    L_D = d_loss(D(x), D(fake)) + penalty;  D ← D − opt(∇L_D)        every step
    L_G = g_loss(D(G(z)));                  G ← G − opt(∇L_G)        every k-th step, D frozen

The generator update reuses the fake batch of the discriminator update just made (D saw it
detached; G's update goes through its graph), so G runs forward once per iteration, as in
PyTorch's DCGAN example. Algorithm 1 of the GAN paper (notes 004) draws a new noise batch
for G; both are unbiased estimates of the same gradient, and reusing saves a third of a
DCGAN iteration.

A model of this family sets its options, chooses its loss family (``loss_family``) and its
optimisers (``build_optimizers``), and may add a term to D's loss (``critic_penalty``: the
gradient penalty) or act after each D update (``after_critic_step``: weight clipping).
Its networks are DCGAN's for images and MLPs for points (``networks.py``), unless it builds
its own (``build_networks``, as the vanilla GAN does). A class-conditional model sets
``needs = ("x", "y")``: its ``condition`` component (``conditioning.OneHot``) then feeds
the labels to both networks. An unconditional model may still condition both networks on
labels of its own (``build_condition``, ``real_labels``, ``own_labels``: dcgan's k-means
clusters); from the outside it stays unconditional.
"""
import contextlib
import copy

import numpy as np

from minigan import metrics, viz
from minigan.autograd import Tensor, no_grad
from minigan.nn.averaging import average_decay, update_average
from minigan.creation import randn
from minigan.functional.activation import sigmoid
from minigan.models.base import Model
from minigan.models.conditioning import OneHot, Unconditioned
from minigan.models.losses import get_losses, score_stats
from minigan.models.networks import (batch_statistics, dcgan_d_width, dcgan_discriminator,
                                     dcgan_generator, dcgan_init_, mlp_discriminator,
                                     mlp_generator)

GRID_SIZE = 64          # samples in a preview grid (8 × 8)
PER_CLASS = 8           # a conditional model's grid: one row of 8 per class
SCATTER_POINTS = 1000   # generated points in a 2-D preview
REAL_POINTS = 2000      # real points drawn under them
EVAL_BATCH = 250        # samples generated at a time by ``evaluate``


@contextlib.contextmanager
def frozen(module):
    """Parameters of ``module`` stop requiring gradients inside the block (notes 002:
    "freeze D while training G"): G's update then computes no gradient for D's weights."""
    module.requires_grad_(False)
    try:
        yield module
    finally:
        module.requires_grad_(True)


@contextlib.contextmanager
def eval_mode(module):
    """``module`` in eval mode inside the block, back in its former mode after it."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


class AdversarialModel(Model):
    """Base class of the GANs: networks G and D, the alternating update, sampling."""
    kind = "adversarial"
    data_kinds = ("image", "points")
    counters = ("d_updates", "g_updates")

    def __init__(self, data_shape, num_classes=None, device="cpu", **options):
        super().__init__(data_shape, num_classes, device, **options)
        self.condition = self.build_condition()
        self.d_updates = self.g_updates = 0
        self.G, self.D = (net.to(self.device) for net in self.build_networks())
        self.networks = {"G": self.G, "D": self.D}
        self.optimizers = self.build_optimizers()
        # The weight average samples are drawn from (a model declaring the "ema" option);
        # a network of the state, so checkpoints keep it and a resume continues it exactly.
        self.G_ema = None
        if self.hp.get("ema"):
            self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
            self.networks["G_ema"] = self.G_ema
        family = self.loss_family()
        self.d_loss, self.g_loss = get_losses(family)
        self.probabilities = family in ("bce", "minimax")  # D's scores are logits of D(·)

    # ---- what a model of this family chooses ----
    @property
    def conditional(self):
        """Whether the caller gives the labels: class-conditional models (needs "y")."""
        return "y" in self.needs

    def build_condition(self):
        """How labels enter G and D (``conditioning``): one-hot for a class-conditional
        model, none otherwise."""
        return OneHot(self.num_classes) if self.conditional else Unconditioned()

    def real_labels(self, batch, real):
        """The labels a real batch is conditioned on: its "y" (N,) when class-conditional,
        else None."""
        if self.conditional:
            return self.batch_field(batch, "y", shape=(real.shape[0],))
        return None

    def own_labels(self, n):
        """The labels an unconditional model draws itself for n samples (None: it has
        none)."""
        return None

    def loss_family(self):
        """The name of the (D loss, G loss) pair in ``losses.LOSSES``."""
        return self.hp.loss

    def build_optimizers(self):
        """{"G": optimizer of G, "D": optimizer of D}."""
        raise NotImplementedError(f"{type(self).__name__} must define build_optimizers")

    def optimizer_pair(self, optimizer, **hyperparameters):
        """One ``optimizer`` (an optim class) for G and one for D, same hyperparameters."""
        return {name: optimizer(net.parameters(), **hyperparameters)
                for name, net in self.networks.items()}

    def build_networks(self):
        """(G, D): DCGAN's conv nets for images, MLPs for points (``networks.py``), with the
        condition's extra inputs (for images, D(x, v): the values v of the label's constant
        planes, which D's first layer takes without building or convolving them)."""
        hp, extra = self.hp, self.condition.extra
        spectral = bool(hp.get("spectral_norm"))
        if self.data_kind == "points":
            return (mlp_generator(hp.latent_dim + extra, self.num_features, hp.hidden, hp.depth),
                    mlp_discriminator(self.num_features + extra, hp.hidden, hp.depth,
                                      spectral))
        d_width = hp.d_width or self.default_d_width(self.data_shape, hp.width)
        return (dcgan_init_(dcgan_generator(hp.latent_dim + extra, self.data_shape, hp.width,
                                            hp.upsample)),
                dcgan_init_(dcgan_discriminator(self.data_shape[0] + extra, self.data_shape,
                                                d_width, hp.norm, spectral,
                                                constant_channels=extra)))

    @classmethod
    def default_d_width(cls, data_shape, width):
        """D's first-block channels when ``d_width`` is not given, for G's ``width``: the
        notes' DCGAN pairs G's 64 with D's 16 on 28×28 MNIST, and 64 with 64 at 64×64."""
        return dcgan_d_width(data_shape, width)

    def critic_penalty(self, real, fake, labels):
        """A term added to D's loss, and the floats to log about it (default: none)."""
        return None, {}

    def after_critic_step(self):
        """Called after each D update (WGAN clips the weights here)."""

    # ---- the two networks, with the labels when conditional ----
    def noise(self, n):
        """n latent vectors z ~ N(0, I), shape (n, latent_dim), from minigan's generator."""
        return randn(n, self.hp.latent_dim, device=self.device)

    def generate(self, z, labels=None):
        """G(z) (or G(z, y)) shaped like the data, (N, *data_shape), with its graph."""
        z = self.condition.latent(z, labels)
        if self.data_kind == "image":
            z = z.reshape(z.shape + (1, 1))  # (N, Z) -> (N, Z, 1, 1)
        if self.G.training or self.hp.sample_bn == "running":
            return self.G(z)
        with batch_statistics(self.G):
            return self.G(z)

    def discriminate(self, x, labels=None):
        """D's raw scores (N, 1): logits for the BCE losses, critic values otherwise; a
        conditional D gets the labels as the condition lays them out
        (``discriminator_inputs``)."""
        return self.D(*self.condition.discriminator_inputs(x, labels))

    # ---- one training step ----
    def step(self, batch):
        """One D update on ``batch["x"]`` and a fresh fake batch, then a G update if this
        was the k-th D update since the last one. Returns the losses of the updates made."""
        real = self.batch_field(batch, "x")
        labels = self.real_labels(batch, real)
        generator_turn = (self.d_updates + 1) % self.hp.k == 0
        with contextlib.nullcontext() if generator_turn else no_grad():
            fake = self.generate(self.noise(real.shape[0]), labels)
        logs = self.discriminator_step(real, fake.detach(), labels)
        self.d_updates += 1
        if generator_turn:
            logs.update(self.generator_step(fake, labels))
            if self.G_ema is not None:
                self.update_ema()
            self.g_updates += 1
        return logs

    def discriminator_step(self, real, fake, labels=None):
        """Update D on a real batch and a fake one (a constant: no graph reaches G)."""
        real_scores = self.discriminate(real, labels)
        fake_scores = self.discriminate(fake, labels)
        loss = self.d_loss(real_scores, fake_scores)
        penalty, logs = self.critic_penalty(real, fake, labels)
        total = loss if penalty is None else loss + penalty
        self.optimizers["D"].zero_grad()
        total.backward()
        self.optimizers["D"].step()
        self.after_critic_step()
        if self.probabilities:
            with no_grad():  # diagnostics only: no graph
                real_scores, fake_scores = sigmoid(real_scores), sigmoid(fake_scores)
        d_real, d_fake = score_stats(real_scores, fake_scores)
        return {"loss_D": total.item(), "D(x)": d_real, "D(G(z))": d_fake, **logs}

    def generator_step(self, fake, labels=None):
        """Update G through D's scores of ``fake`` = G(z), with its graph; D frozen."""
        with frozen(self.D):
            loss = self.g_loss(self.discriminate(fake, labels))
            self.optimizers["G"].zero_grad()
            loss.backward()
            self.optimizers["G"].step()
        return {"loss_G": loss.item()}

    def update_ema(self):
        """G_ema follows G after G's update number t: θ̄ ← θ̄ + (1 − β_t)(θ − θ̄) with
        β_t = min(ema, (1 + t)/(10 + t)) (``nn.averaging``)."""
        update_average(self.G_ema, self.G, average_decay(self.hp.ema, self.g_updates))

    # ---- sampling ----
    def sample(self, n, condition=None, noise=None):
        """n samples G(z), no graph, G in eval mode: images in [−1, 1] (n, C, H, W) or
        points (n, D). Sampling changes no state (no batch-norm statistics), so a run that
        draws pictures stays bit-identical to one that does not.

        condition: for a conditional model, the labels (n,) as a Tensor, one class (an
        int) for every sample, or None for the classes in turn; unconditional models take
        None. noise: the latent vectors z (n, latent_dim) to decode (default: drawn now).
        """
        if isinstance(condition, (int, np.integer)) and not isinstance(condition, bool):
            if noise is not None:
                raise ValueError(f"{self.name}: sample(n, class) draws its own noise; "
                                 "pass labels to decode given noise")
            return self._sample_class(int(condition), n)
        labels = self._labels(n, condition)
        z = self.noise(n) if noise is None else noise
        if z.shape != (n, self.hp.latent_dim):
            raise ValueError(f"{self.name}: expected noise of shape {(n, self.hp.latent_dim)}, "
                             f"found {z.shape}")
        return self._decode(z, labels)

    def _decode(self, z, labels):
        """G(z) (or G(z, y)) for sampling: no graph, eval mode, the weight average if any."""
        with self._averaged_generator(), eval_mode(self.G), no_grad():
            return self.generate(z, labels)

    @contextlib.contextmanager
    def _averaged_generator(self):
        """Inside the block ``self.G`` is G's weight average G_ema when the model keeps
        one, so every ``generate`` (a model's own too) samples the average."""
        if self.G_ema is None:
            yield
            return
        trained, self.G = self.G, self.G_ema
        try:
            yield
        finally:
            self.G = trained

    def _labels(self, n, condition):
        if not self.conditional:
            if condition is not None:
                raise ValueError(f"{self.name} is not conditional: it draws samples of no "
                                 "particular class")
            return self.own_labels(n)
        if condition is None:
            return self.condition.cycle_labels(n, self.device)
        labels = condition if isinstance(condition, Tensor) else Tensor(condition)
        if labels.shape != (n,):
            raise ValueError(f"{self.name}: expected labels of shape ({n},), found "
                             f"{labels.shape}")
        return labels

    def _sample_class(self, label, n):
        """n samples of class ``label``.

        With batch statistics (sample_bn "batch") they are drawn inside batches whose
        labels cycle over all classes, as in training, and the rows of ``label`` kept: in
        a batch of one class, the first batch norm subtracts the label's own channel means
        as "the batch mean", and part of the condition is lost (the CGAN of BENCHMARKS.md
        at 4,000 iterations, 100 samples per class: label accuracy 0.97 drawn in mixed
        batches, 0.92 in one-class batches; 0.67 and 0.53 with a narrower D).
        """
        if not self.conditional:
            raise ValueError(f"{self.name} is not conditional: it has no class to sample")
        k = self.condition.num_classes
        if not 0 <= label < k:
            raise ValueError(f"{self.name}: expected a class in 0..{k - 1}, found {label}")
        every = k if self.hp.sample_bn == "batch" else 1
        labels = (label + np.arange(n * every) % every) % k
        samples = self.sample(n * every, Tensor(labels).to(self.device))
        return samples[::every]   # label at rows 0, every, 2·every, ...

    # ---- pictures and scores ----
    def preview_inputs(self, dataset):
        """Fixed noise (and a grid's labels, one row per class), or for 2-D points the
        noise of a scatter with real points and the mixture's modes under it."""
        if self.data_kind == "points":
            return {"noise": self.noise(SCATTER_POINTS), "real": dataset.x[:REAL_POINTS],
                    "modes": getattr(dataset, "modes", None)}
        labels = self.condition.grid_labels(PER_CLASS, self.device) if self.conditional else None
        return {"noise": self.noise(GRID_SIZE if labels is None else len(labels)),
                "labels": labels}

    def preview(self, path, inputs, title=None):
        """A sample grid (one row per class when conditional) or a 2-D scatter."""
        noise, labels = inputs["noise"], inputs.get("labels")
        if labels is None and self.conditional:   # a scatter: the classes in turn
            labels = self.condition.cycle_labels(len(noise), self.device)
        samples = self._decode(noise, labels).numpy()
        if self.data_kind == "points":
            viz.save_scatter_2d(samples, path, data=inputs["real"], modes=inputs["modes"],
                                title=title)
        elif self.conditional:
            rows = [str(c) for c in range(self.condition.num_classes)]
            viz.save_image_grid(samples, path, nrow=len(samples) // len(rows), title=title,
                                row_labels=rows)
        else:
            viz.save_image_grid(samples, path, title=title)

    def evaluate(self, data, num_samples=1000):
        """``metrics.score_samples`` of ``num_samples`` samples, drawn ``EVAL_BATCH`` at a
        time (a conditional model's labels cycle over the classes)."""
        labels = self.condition.cycle_labels(num_samples) if self.conditional else None
        parts = []
        for start in range(0, num_samples, EVAL_BATCH):
            z = self.noise(min(EVAL_BATCH, num_samples - start))
            y = None if labels is None else labels[start:start + len(z)].to(self.device)
            parts.append(self.sample(len(z), y, noise=z).numpy())
        return metrics.score_samples(np.concatenate(parts), data,
                                     None if labels is None else labels.numpy(),
                                     device=self.device)
