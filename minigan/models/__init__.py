"""minigan's generative models, one module each, and the registry that names them.

Every module of this package that defines a ``Model`` subclass with a ``name`` is found
and registered in ``MODELS`` (name -> class) at import, so a new model needs only its
file: the command line, checkpoints and the contract tests find it here. ``get_model``
looks one up; ``by_kind`` groups them as ``minigan list`` shows them.

    adversarial   GANs: a generator against a discriminator (``adversarial.py``)
    translation   image-to-image models: paired or unpaired domains
    likelihood    explicit density models: VAE, autoregressive models

>>> "vanilla" in MODELS and get_model("vanilla").__name__
'Vanilla'
>>> {"cgan", "dcgan"} <= set(by_kind()["adversarial"])
True
"""
import importlib
import pkgutil

from minigan.models.base import KINDS, Model


def _discover():
    """name -> Model subclass, for the models defined in this package's modules."""
    models = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Model) and value.name
                    and value.__module__ == module.__name__):
                if value.name in models:
                    raise ImportError(f"two models are named {value.name!r}: "
                                      f"{models[value.name].__module__} and {module.__name__}")
                if value.kind not in KINDS:
                    raise ImportError(f"model {value.name!r} has kind {value.kind!r}, expected "
                                      f"one of {', '.join(KINDS)}")
                models[value.name] = value
    return models


MODELS = _discover()


def get_model(name):
    """The Model class registered as ``name``; ValueError listing the choices otherwise."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: expected one of "
                         f"{', '.join(sorted(MODELS))}")
    return MODELS[name]


def by_kind():
    """{kind: {name: class}} for every kind of ``KINDS`` that has a model, in that order."""
    groups = {kind: {} for kind in KINDS}
    for name in sorted(MODELS):
        groups[MODELS[name].kind][name] = MODELS[name]
    return {kind: models for kind, models in groups.items() if models}
