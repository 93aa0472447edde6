"""Hyperparameters declared once: a model's keyword arguments, ``config()`` and CLI flags.

A model lists its options as ``Option``s. From that one list come the keyword arguments its
constructor accepts (with their defaults and checks), the dict ``config()`` returns (saved
in checkpoints, so a run can be rebuilt), and the ``--flags`` of ``minigan train MODEL``,
whose help text states the same default. Nothing is written twice, so the three cannot drift.

>>> spec = (Option("lr", 2e-4, "learning rate", above=0),
...         Option("norm", "batch", "D's normalisation", choices=("batch", "none")))
>>> resolve(spec, {"lr": 1e-3}, "demo")
{'lr': 0.001, 'norm': 'batch'}
>>> resolve(spec, {"lr": 0}, "demo")
Traceback (most recent call last):
...
ValueError: demo: lr must be a number > 0, found 0
>>> resolve(spec, {"momentum": 0.9}, "demo")
Traceback (most recent call last):
...
ValueError: demo: unknown option 'momentum': expected one of lr, norm
"""
import argparse
import dataclasses
import inspect


@dataclasses.dataclass(frozen=True)
class Option:
    """One hyperparameter of a model.

    name: its keyword (``--name-with-dashes`` on the command line); default: its value when
    not given; help: one line for ``--help`` (the default is appended there); choices: the
    values a string option may take; least / above: an inclusive / exclusive lower bound of
    a number; below: an exclusive upper bound; optional: None is allowed too (e.g. "the
    variant's own default").
    The type is the default's type (int, float, str or bool), or ``type`` when the default
    is None.
    """
    name: str
    default: object
    help: str
    choices: tuple = None
    least: float = None
    above: float = None
    below: float = None
    optional: bool = False
    type: type = None

    @property
    def kind(self):
        return self.type or type(self.default)

    def replace(self, **changes):
        """This option with some fields changed (a subclass's own default, say)."""
        return dataclasses.replace(self, **changes)

    def check(self, value, model):
        """``value`` if it is valid for this option (ints are accepted for floats), else a
        ValueError naming the model, the option, what was expected and what was found."""
        if value is None and (self.optional or self.default is None):
            return None
        kind = self.kind
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{model}: {self.name} must be True or False, found {value!r}")
            return value
        if kind is str:
            if self.choices is not None and value not in self.choices:
                raise ValueError(f"{model}: {self.name} must be one of "
                                 f"{', '.join(self.choices)}, found {value!r}")
            if not isinstance(value, str):
                raise ValueError(f"{model}: {self.name} must be a string, found {value!r}")
            return value
        number = (int,) if kind is int else (int, float)
        what = "an int" if kind is int else "a number"
        bound = (f" >= {self.least}" if self.least is not None else
                 f" > {self.above}" if self.above is not None else "")
        if self.below is not None:
            bound += f"{' and' if bound else ''} < {self.below}"
        if isinstance(value, bool) or not isinstance(value, number) or value != value \
                or (self.least is not None and value < self.least) \
                or (self.above is not None and not value > self.above) \
                or (self.below is not None and not value < self.below):
            raise ValueError(f"{model}: {self.name} must be {what}{bound}, found {value!r}")
        return kind(value)

    def add_to(self, parser):
        """Add ``--name`` to an argparse parser (or group), with this default and checks
        left to ``check`` (argparse only converts the text)."""
        flag = "--" + self.name.replace("_", "-")
        shown = "none" if self.default is None else self.default
        text = f"{self.help} (default {shown})"
        if self.kind is bool:
            # --flag turns a False default on; a True default gets --flag/--no-flag. (Not
            # BooleanOptionalAction for both: it reads "--no-gan" as "no_gan = False".)
            action = "store_true" if not self.default else argparse.BooleanOptionalAction
            parser.add_argument(flag, dest=self.name, default=self.default, help=text,
                                action=action)
        else:
            parser.add_argument(flag, dest=self.name, default=self.default, help=text,
                                type=self.kind, choices=self.choices)


def extend(options, *added, **defaults):
    """``options`` with the defaults named in ``defaults`` changed and ``added`` appended;
    an added option of an existing name takes that option's place.

    >>> base = (Option("lr", 2e-4, "learning rate"), Option("k", 1, "D steps per G step"))
    >>> [(o.name, o.default) for o in extend(base, Option("clip", 0.01, "c"), k=5)]
    [('lr', 0.0002), ('k', 5), ('clip', 0.01)]
    """
    names = [o.name for o in options]
    unknown = set(defaults) - set(names)
    if unknown:
        raise ValueError(f"extend: no options named {', '.join(sorted(unknown))}")
    result = [o.replace(default=defaults[o.name]) if o.name in defaults else o
              for o in options]
    for option in added:
        if option.name in names:
            result[names.index(option.name)] = option
        else:
            result.append(option)
    return tuple(result)


def resolve(options, given, model):
    """The value of every option, in declaration order: ``given`` (checked) where present,
    the default otherwise. An unknown name is a ValueError listing the known ones."""
    names = [o.name for o in options]
    unknown = [name for name in given if name not in names]
    if unknown:
        raise ValueError(f"{model}: unknown option {unknown[0]!r}: expected one of "
                         f"{', '.join(names)}")
    return {o.name: o.check(given[o.name], model) if o.name in given else o.default
            for o in options}


def signature(options, leading):
    """An ``inspect.Signature`` of ``leading`` parameters and the options as keyword-only
    ones, so ``help(Model)`` and IDEs show the real keywords and defaults."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    return inspect.Signature(list(leading) + [inspect.Parameter(o.name, keyword,
                                                                default=o.default)
                                              for o in options])
