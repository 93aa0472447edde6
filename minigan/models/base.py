"""The protocol every generative model of minigan follows, GAN or not.

The training loop (``minigan/train.py``), checkpoints (``minigan/checkpoint.py``) and the
command line only ever use this interface:

    model = Model(data_shape, num_classes, device, **options)
    logs = model.step(batch)           # one update; batch: a dict of Tensors ("x", "y", ..)
    x = model.sample(n, condition)     # no graph, eval mode, data-shaped
    c = model.sample_inputs(data, n)   # a translation model's inputs (else None)
    inputs = model.preview_inputs(ds)  # drawn once per run, kept in the checkpoint
    model.preview(path, inputs, title) # the run's picture: a grid, class rows, pairs, ...
    model.evaluate(data, n)            # the model's own scores
    model.config(), model.state_dict(), model.load_state_dict(state)

Writing a model: subclass ``Model`` (or a family skeleton such as ``adversarial.
AdversarialModel``), set ``name`` (its CLI name), ``kind``, ``data_kinds``, ``needs`` and
``options``; build its networks and optimisers in ``__init__`` and list them in
``self.networks`` and ``self.optimizers``; implement ``step``, ``sample``,
``preview_inputs``/``preview`` and ``evaluate``. Dropping the module into
``minigan/models/`` registers it (``minigan.models.MODELS``): the CLI, the checkpoints and
the contract tests find it there.

A model may name sets of option values in ``presets`` (``DCGAN.presets["notes"]``: the
notes' exact DCGAN): ``minigan train MODEL --preset NAME`` starts from them (flags given
explicitly still win), and Python code passes ``Model(shape, **Model.presets[NAME])``.

A model whose parameter set changes while it trains (a progressive GAN growing) saves what
it needs to rebuild itself in ``state_dict()`` and overrides ``load_state_dict`` to grow
first.
"""
import inspect
import math

from minigan import backend
from minigan.autograd import Tensor
from minigan.models.options import resolve, signature

KINDS = ("adversarial", "translation", "likelihood")
_LEADING = [inspect.Parameter("data_shape", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("num_classes", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=None),
            inspect.Parameter("device", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default="cpu")]
DATA_KINDS = ("image", "points")


def data_kind_of(data_shape):
    """"image" for a (C, H, W) sample shape, "points" for a (D,) one."""
    if len(data_shape) == 3:
        return "image"
    if len(data_shape) == 1:
        return "points"
    raise ValueError(f"expected the shape of one sample, (C, H, W) for images or (D,) for "
                     f"points, found {tuple(data_shape)}")


class HParams(dict):
    """A model's option values: a dict whose entries also read as attributes
    (``self.hp.lr``), so the math in a model reads like its docstring."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no option {name!r}: the options are "
                                 f"{', '.join(self)}") from None


class Model:
    """Base class of minigan's generative models: options, data checks, state.

    data_shape: the shape of one sample, (C, H, W) or (D,); num_classes: the number of
    classes of a labelled data set (class-conditional models need it, others ignore it);
    device: "cpu" or "cuda"; options: the model's hyperparameters (see ``options``).
    """
    name = None                # the model's name in the registry and on the command line
    kind = None                # one of KINDS: how ``minigan list`` groups it
    data_kinds = ("image",)    # which data it can model: "image" and/or "points"
    needs = ("x",)             # the batch fields ``step`` reads: "x", "y" (labels), ...
    options = ()               # its hyperparameters, as ``options.Option``s
    presets = {}               # named sets of option values: {"notes": {"lr": 2e-4, ..}}
    counters = ()              # int attributes saved with the state (update counts)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__signature__ = signature(cls.options, _LEADING)

    def __init__(self, data_shape, num_classes=None, device="cpu", **options):
        self.data_shape = tuple(int(n) for n in data_shape)
        self.data_kind = data_kind_of(self.data_shape)
        if self.data_kind not in self.data_kinds:
            raise ValueError(f"{self.name} models {' or '.join(self.data_kinds)} data, found "
                             f"{self.data_kind} of shape {self.data_shape}")
        if "y" in self.needs and not num_classes:
            raise ValueError(f"{self.name} is class-conditional: it needs a labelled data set "
                             f"(num_classes >= 2), found num_classes={num_classes}")
        self.num_classes = int(num_classes) if num_classes else None
        self.device = backend.check_device(device)
        self.hp = HParams(resolve(type(self).options, options, self.name))
        self.networks = {}    # name -> Module, e.g. {"G": ..., "D": ...}
        self.optimizers = {}  # name -> Optimizer

    @property
    def num_features(self):
        """Numbers per sample: C·H·W for images, D for points."""
        return math.prod(self.data_shape)

    def config(self):
        """The options this model was built with: ``type(m)(shape, k, device,
        **m.config())`` builds the same model."""
        return dict(self.hp)

    # ---- data ----
    def check_data(self, dataset):
        """A clear error unless ``dataset`` has samples of this model's shape and every
        field its ``step`` reads, so a run fails before its first step, not mid-way."""
        shape = tuple(dataset.x.shape[1:])
        if shape != self.data_shape:
            raise ValueError(f"{dataset.name} holds samples of shape {shape}, but {self.name} "
                             f"was built for {self.data_shape}")
        missing = [f for f in self.needs if f not in dataset.fields]
        if missing:
            raise ValueError(f"{self.name} needs the batch fields {', '.join(self.needs)}, "
                             f"but {dataset.name} has no {', '.join(missing)} (fields: "
                             f"{', '.join(dataset.fields)})"
                             + (": train it on a labelled data set" if "y" in missing else ""))

    def batch_field(self, batch, field, shape=None):
        """``batch[field]``, checked: a Tensor with ``shape`` (default: (N, *data_shape))."""
        if not isinstance(batch, dict):
            raise TypeError(f"{self.name}: a batch is a dict of Tensors ({', '.join(self.needs)}"
                            f"), found {type(batch).__name__}")
        value = batch.get(field)
        if not isinstance(value, Tensor):
            raise ValueError(f"{self.name}: the batch has no Tensor {field!r} (it has "
                             f"{', '.join(batch) or 'nothing'})")
        expected = shape if shape is not None else (value.shape[0],) + self.data_shape
        if value.shape != expected:
            raise ValueError(f"{self.name}: expected batch[{field!r}] of shape {expected}, "
                             f"found {value.shape}")
        return value

    # ---- the protocol ----
    def step(self, batch):
        """One training update on ``batch``; returns what to log, as floats."""
        raise NotImplementedError(f"{type(self).__name__} must define step")

    def sample(self, n, condition=None):
        """n samples, no graph, networks in eval mode: (n, *data_shape)."""
        raise NotImplementedError(f"{type(self).__name__} must define sample")

    def sample_inputs(self, data, n):
        """The condition ``sample`` needs when it is a batch of images (a translation
        model's inputs): n of them from the data set spec ``data``. None (the default) for
        models that sample from noise, alone or with a label."""
        return None

    def preview_inputs(self, dataset):
        """What every preview picture of a run is drawn from (fixed noise, test inputs),
        drawn once at the start of a run and kept in its checkpoint: a dict."""
        raise NotImplementedError(f"{type(self).__name__} must define preview_inputs")

    def preview(self, path, inputs, title=None):
        """Draw the model's picture from ``inputs`` into the PNG ``path``."""
        raise NotImplementedError(f"{type(self).__name__} must define preview")

    def evaluate(self, data, num_samples=1000):
        """The model's scores against the data set spec ``data``: a dict name -> value."""
        raise NotImplementedError(f"{type(self).__name__} has no evaluation")

    # ---- state ----
    def state_dict(self):
        """Networks, optimisers and counters: everything that changes while training."""
        return {"networks": {name: m.state_dict() for name, m in self.networks.items()},
                "optimizers": {name: o.state_dict() for name, o in self.optimizers.items()},
                "counters": {name: getattr(self, name) for name in self.counters}}

    def load_state_dict(self, state):
        """Restore a ``state_dict()`` of a model built with the same options."""
        for group, mine in (("networks", self.networks), ("optimizers", self.optimizers),
                            ("counters", dict.fromkeys(self.counters))):
            if set(state[group]) != set(mine):
                raise ValueError(f"{self.name}: the saved state has {group} "
                                 f"{sorted(state[group])}, expected {sorted(mine)}")
        for name, network in self.networks.items():
            try:
                network.load_state_dict(state["networks"][name])
            except (ValueError, KeyError, RuntimeError) as error:
                raise ValueError(f"{self.name}: network {name}: {error}") from error
        for name, optimizer in self.optimizers.items():
            try:
                optimizer.load_state_dict(state["optimizers"][name])
            except (ValueError, KeyError, RuntimeError) as error:
                raise ValueError(f"{self.name}: optimizer of {name}: {error}") from error
        for name in self.counters:
            setattr(self, name, int(state["counters"][name]))

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.hp.items())
        return f"{type(self).__name__}(data_shape={self.data_shape}, {options})"
