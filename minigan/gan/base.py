"""The interface every GAN variant implements, and the alternating update they all share.

A variant owns its generator G, its discriminator (or critic) D, their optimisers and its
losses; the objective it optimises is written in its docstring. The training loop
(``minigan/train.py``) and the CLI only ever use this interface:

    gan = Variant(data_shape, num_classes, device, **options)
    losses = gan.step(real, labels)    # one D update; a G update after every k-th one
    x = gan.sample(gan.noise(64))      # no graph; images in [-1, 1]
    gan.config()                       # the options, saved so a checkpoint rebuilds gan
    gan.state_dict(), gan.load_state_dict(state)

Writing a variant (see ``vanilla.py``): subclass ``GAN``, set ``name`` (its CLI name),
``data_kinds`` and ``conditional``; in ``__init__`` call ``super().__init__`` with every
option, build G, D and their optimisers and list them in ``self.models`` and
``self.optimizers``; implement ``discriminator_step``, ``generator_step`` and
``generate``; add the CLI options in ``add_arguments``. Dropping the module into
``minigan/gan/`` registers it (``minigan.gan.VARIANTS``).
"""
import contextlib
import inspect
import math

from minigan import backend
from minigan.autograd import Tensor, no_grad
from minigan.creation import randn

DATA_KINDS = ("image", "points")


def data_kind_of(data_shape):
    """"image" for a (C, H, W) sample shape, "points" for a (D,) one."""
    if len(data_shape) == 3:
        return "image"
    if len(data_shape) == 1:
        return "points"
    raise ValueError(f"expected the shape of one sample, (C, H, W) for images or (D,) for "
                     f"points, found {tuple(data_shape)}")


@contextlib.contextmanager
def frozen(module):
    """Parameters of ``module`` stop requiring gradients inside the block (notes 002:
    "freeze D while training G"): G's update then computes no gradient for D's weights."""
    module.requires_grad_(False)
    try:
        yield module
    finally:
        module.requires_grad_(True)


class GAN:
    """Base class of the GAN variants: the alternating D/G schedule, sampling, state.

    data_shape: the shape of one sample, (C, H, W) or (D,); num_classes: the number of
    labels (conditional variants need it, the others ignore it); device: "cpu" or "cuda";
    k: discriminator updates per generator update (notes 004's algorithm; WGAN's critic
    uses 5); latent_dim: the size of z; options: the variant's own hyperparameters.
    """
    name = None                # the variant's name in the registry and on the command line
    data_kinds = ("image",)    # which data it can model: "image" and/or "points"
    conditional = False        # True when G and D take labels (CGAN)

    def __init__(self, data_shape, num_classes=None, device="cpu", *, k=1, latent_dim=100,
                 **options):
        self.data_shape = tuple(int(n) for n in data_shape)
        self.data_kind = data_kind_of(self.data_shape)
        if self.data_kind not in self.data_kinds:
            raise ValueError(f"{self.name} models {' or '.join(self.data_kinds)} data, found "
                             f"{self.data_kind} of shape {self.data_shape}")
        if self.conditional and not num_classes:
            raise ValueError(f"{self.name} is conditional: it needs a labelled data set "
                             f"(num_classes >= 2), found num_classes={num_classes}")
        for what, value in (("k", k), ("latent_dim", latent_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{self.name}: {what} must be a positive int, found {value!r}")
        self.num_classes = int(num_classes) if num_classes else None
        self.device = backend.check_device(device)
        self.k, self.latent_dim = k, latent_dim
        self._config = dict(k=k, latent_dim=latent_dim, **options)
        self.d_updates = 0
        self.g_updates = 0
        self.models = {}      # name -> Module, e.g. {"G": ..., "D": ...}; filled by subclasses
        self.optimizers = {}  # name -> Optimizer, same names

    @property
    def num_features(self):
        """Numbers per sample: C·H·W for images, D for points."""
        return math.prod(self.data_shape)

    @classmethod
    def add_arguments(cls, parser):
        """Add this variant's options (--k, --lr, ...) to an argparse parser; each ``dest``
        must be a keyword argument of ``__init__``, with the same default."""

    @classmethod
    def upgrade_config(cls, config, data_shape):
        """The options saved in an older checkpoint, in today's terms: an option this
        variant gained since takes the value the older minigan built with, which is its
        default unless a subclass says otherwise (``AdversarialGAN``'s ``d_width``)."""
        parameters = inspect.signature(cls.__init__).parameters.values()
        defaults = {p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY}
        return {**defaults, **config}

    def config(self):
        """The options this variant was built with: ``type(gan)(shape, n, device,
        **gan.config())`` builds the same variant."""
        return dict(self._config)

    # ---- one training step ----
    def step(self, real, labels=None):
        """One discriminator update on the batch ``real`` and a fresh fake batch, then a
        generator update if this was the k-th discriminator update since the last one.
        Returns the losses (floats) of the updates made, e.g. {"loss_D": ..., "loss_G": ...}.

        The generator update reuses the fake batch of the discriminator update just made
        (D saw it detached; G's update goes through its graph), so G runs forward once per
        iteration, as in PyTorch's DCGAN example. Algorithm 1 of the GAN paper (notes 004)
        draws a new noise batch for G; both are unbiased estimates of the same gradient,
        and reusing saves a third of a DCGAN iteration."""
        self._check_batch(real, labels)
        generator_turn = (self.d_updates + 1) % self.k == 0
        with contextlib.nullcontext() if generator_turn else no_grad():
            fake = self.generate(self.noise(real.shape[0]), labels)
        losses = self.discriminator_step(real, fake.detach(), labels)
        self.d_updates += 1
        if generator_turn:
            losses.update(self.generator_step(fake, labels))
            self.g_updates += 1
        return losses

    def discriminator_step(self, real, fake, labels):
        """Update D on a real batch and a fake one (a constant: no graph reaches G); return
        its losses as floats."""
        raise NotImplementedError(f"{type(self).__name__} must define discriminator_step")

    def generator_step(self, fake, labels):
        """Update G through D's scores of ``fake`` = G(z) (with its graph; ``labels``: the
        real batch's, for conditional G)."""
        raise NotImplementedError(f"{type(self).__name__} must define generator_step")

    def _check_batch(self, real, labels):
        if not isinstance(real, Tensor) or real.shape[1:] != self.data_shape:
            found = real.shape if isinstance(real, Tensor) else type(real).__name__
            raise ValueError(f"{self.name}: expected a batch of shape (N, "
                             f"{', '.join(map(str, self.data_shape))}), found {found}")
        if self.conditional and (labels is None or labels.shape != (real.shape[0],)):
            found = None if labels is None else labels.shape
            raise ValueError(f"{self.name} is conditional: expected labels of shape "
                             f"({real.shape[0]},), found {found}")

    # ---- sampling ----
    def noise(self, n):
        """n latent vectors z ~ N(0, I), shape (n, latent_dim), from minigan's generator."""
        return randn(n, self.latent_dim, device=self.device)

    def generate(self, z, labels):
        """G(z) (or G(z, y)) shaped like the data: (N, *data_shape)."""
        raise NotImplementedError(f"{type(self).__name__} must define generate")

    def sample(self, z, labels=None):
        """G(z) with no graph, G in eval mode: images in [-1, 1] (N, C, H, W) or points
        (N, D). Sampling changes no state (no batch-norm statistics), so a run that draws
        sample grids stays bit-identical to one that does not."""
        if self.conditional and labels is None:
            raise ValueError(f"{self.name} is conditional: sample(z, labels) needs labels")
        G = self.models["G"]
        was_training = G.training
        G.eval()
        try:
            with no_grad():
                return self.generate(z, labels)
        finally:
            G.train(was_training)

    # ---- state ----
    def state_dict(self):
        """Models, optimisers and update counters: everything that changes while training."""
        return {"models": {name: m.state_dict() for name, m in self.models.items()},
                "optimizers": {name: o.state_dict() for name, o in self.optimizers.items()},
                "counters": {"d_updates": self.d_updates, "g_updates": self.g_updates}}

    def load_state_dict(self, state):
        """Restore a ``state_dict()`` of a variant built with the same options."""
        for group, mine in (("models", self.models), ("optimizers", self.optimizers)):
            if set(state[group]) != set(mine):
                raise ValueError(f"{self.name}: the saved state has {group} "
                                 f"{sorted(state[group])}, expected {sorted(mine)}")
        for name, model in self.models.items():
            model.load_state_dict(state["models"][name])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        self.d_updates = int(state["counters"]["d_updates"])
        self.g_updates = int(state["counters"]["g_updates"])

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}(data_shape={self.data_shape}, {options})"
