"""Checkpoints: nested dicts/lists of Tensors, arrays and plain values <-> one ``.npz`` file.

Never pickle: a pickle runs code when it is loaded, so a checkpoint from the internet could
do anything. Instead, each array is stored as an ordinary ``.npy`` member of the archive,
named after its path in the nesting ("model/0.weight"), and the nesting itself — dict keys
and their types, lists, tuples, ints, floats, bools, strings, None, which leaves are Tensors
— is written as a small JSON document in the member ``__minigan__``. ``load`` reads with
``allow_pickle=False`` and rebuilds exactly the same structure and Python types.

Writes are atomic: the archive goes to a temporary file in the same directory, is flushed to
disk (fsync), and only then renamed over the destination (``os.replace``). A crash or an
error mid-write leaves the previous checkpoint intact and no partial file behind.

>>> import os, tempfile, minigan
>>> from minigan import nn
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
>>> save({"model": nn.Linear(3, 2).state_dict(), "epoch": 7}, path)
>>> ckpt = load(path)
>>> ckpt["epoch"], list(ckpt["model"]), ckpt["model"]["weight"].shape
(7, ['weight', 'bias'], (2, 3))
"""
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np

from minigan import backend
from minigan.atomic import atomic_write
from minigan.autograd import Tensor

FORMAT = "minigan-checkpoint"
VERSION = 1
_META = "__minigan__"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read: corrupt, truncated or not minigan's."""


# ==================== save ====================

def save(obj, path):
    """Write ``obj`` (dicts with str/int keys, lists, tuples, Tensors, arrays, ints, floats,
    bools, strings, None, NumPy scalars) to the ``.npz`` file ``path``, atomically.

    The file is written exactly at ``path`` (no suffix is added)."""
    arrays = {}
    structure = _encode(obj, "", arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "root": structure})
    arrays[_META] = np.array(meta)
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def _encode(obj, where, arrays):
    """The JSON description of ``obj``; arrays go into ``arrays`` under unique names."""
    if obj is None or isinstance(obj, (bool, str)):
        return {"type": "value", "value": obj}
    if isinstance(obj, int):
        return {"type": "int", "value": obj}
    if isinstance(obj, float):
        # repr round-trips a float exactly; it also spells nan and inf, which JSON lacks
        return {"type": "float", "value": repr(obj)}
    if isinstance(obj, Tensor):
        return {"type": "tensor", "key": _store(backend.to_numpy(obj.data), where, arrays)}
    if isinstance(obj, backend.ARRAY_TYPES):
        return {"type": "array", "key": _store(backend.to_numpy(obj), where, arrays)}
    if isinstance(obj, np.generic):
        return {"type": "scalar", "key": _store(np.asarray(obj), where, arrays)}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"save: dict keys must be str or int, found {key!r} "
                                f"({type(key).__name__}) at {where or 'the top level'!r}")
            child = f"{where}/{key}" if where else str(key)
            items.append([key, _encode(value, child, arrays)])
        return {"type": "dict", "ordered": isinstance(obj, OrderedDict), "items": items}
    if isinstance(obj, (list, tuple)):
        children = [_encode(value, f"{where}/{i}" if where else str(i), arrays)
                    for i, value in enumerate(obj)]
        return {"type": type(obj).__name__, "items": children}
    raise TypeError(f"save: cannot store a {type(obj).__name__} at {where or 'the top level'!r}"
                    "; expected dicts, lists, tuples, Tensors, arrays, numbers, strings or None")


def _store(array, where, arrays):
    if array.dtype.hasobject:
        raise TypeError(f"save: the array at {where!r} holds Python objects (dtype object), "
                        "which can only be stored by pickling")
    name, n = where or "root", 1
    while name in arrays or name == _META:  # "a/b" may come from {"a/b": x} and {"a": {"b": y}}
        name, n = f"{where or 'root'}#{n}", n + 1
    arrays[name] = array
    return name


# ==================== load ====================

def load(path, device=None):
    """Read a file written by ``save``: the same nesting and Python types, Tensors (on
    ``device``, default: the default device) where Tensors were saved, NumPy arrays where
    arrays were saved. A missing, truncated or corrupt file raises an error naming it."""
    path = os.fspath(path)
    device = backend.check_device(device) if device is not None else backend.default_device()
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint file {path!r} does not exist")
    with open(path, "rb") as f:
        signature = f.read(4)
    if signature != b"PK\x03\x04":  # every .npz is a zip archive, which starts so
        what = "is empty" if not signature else f"starts with {signature!r}"
        raise CheckpointError(f"cannot read checkpoint {path!r}: it is not an .npz (zip) "
                              f"archive (the file {what}, not the zip signature b'PK\\x03\\x04')")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, KeyError) as error:
        raise CheckpointError(f"cannot read checkpoint {path!r}: the file is truncated or "
                              f"corrupt ({type(error).__name__}: {error})") from error
    if _META not in arrays:
        raise CheckpointError(f"{path!r} is an .npz archive but not a minigan checkpoint: "
                              f"it has no {_META!r} entry (was it written by minigan.save?)")
    try:
        meta = json.loads(str(arrays.pop(_META)))
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{path!r}: unknown format {meta.get('format')!r}, "
                                  f"expected {FORMAT!r}")
        if meta.get("version") != VERSION:
            raise CheckpointError(f"{path!r}: checkpoint format version {meta.get('version')}"
                                  f" is not supported (this minigan reads version {VERSION})")
        return _decode(meta["root"], arrays, device)
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"cannot read checkpoint {path!r}: its structure entry is "
                              f"corrupt ({type(error).__name__}: {error})") from error


def _decode(node, arrays, device):
    kind = node["type"]
    if kind == "value":
        return node["value"]
    if kind == "int":
        return int(node["value"])
    if kind == "float":
        return float(node["value"])
    if kind == "tensor":
        return Tensor(backend.to_device(arrays[node["key"]], device))
    if kind == "array":
        return arrays[node["key"]]
    if kind == "scalar":
        return arrays[node["key"]][()]
    if kind == "dict":
        items = ((key, _decode(value, arrays, device)) for key, value in node["items"])
        return OrderedDict(items) if node.get("ordered") else dict(items)
    if kind in ("list", "tuple"):
        items = [_decode(value, arrays, device) for value in node["items"]]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"unknown entry type {kind!r}")
