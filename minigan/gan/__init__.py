"""GAN variants, one module each, and the registry that names them.

Every module of this package that defines a ``GAN`` subclass with a ``name`` is found and
registered in ``VARIANTS`` (name -> class) at import, so a new variant needs only its
file. ``get_variant(name)`` looks one up; ``losses`` holds the loss zoo of the notes.

>>> "vanilla" in VARIANTS
True
>>> get_variant("vanilla").__name__
'Vanilla'
"""
import importlib
import pkgutil

from minigan.gan.base import GAN


def _discover():
    """name -> GAN subclass, for the variants defined in this package's modules."""
    variants = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, GAN) and value.name
                    and value.__module__ == module.__name__):
                if value.name in variants:
                    raise ImportError(f"two GAN variants are named {value.name!r}: "
                                      f"{variants[value.name].__module__} and "
                                      f"{module.__name__}")
                variants[value.name] = value
    return variants


VARIANTS = _discover()


def get_variant(name):
    """The GAN class registered as ``name``; ValueError listing the choices otherwise."""
    if name not in VARIANTS:
        raise ValueError(f"unknown GAN variant {name!r}: expected one of "
                         f"{', '.join(sorted(VARIANTS))}")
    return VARIANTS[name]
