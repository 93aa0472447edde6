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
import math
import os
import zipfile
import zlib
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

MAX_STRUCTURE_BYTES = 64 << 20   # the JSON of a checkpoint is kilobytes; more is not ours
MAX_DEFLATE_RATIO = 1100         # deflate cannot do better than ~1032:1
_CHUNK = 16 << 20                # bytes read at a time into an array
_DTYPE_KINDS = "biufcSU"         # numbers, bools and text: what ``save`` writes


def load(path, device=None):
    """Read a file written by ``save``: the same nesting and Python types, Tensors (on
    ``device``, default: the default device) where Tensors were saved, NumPy arrays where
    arrays were saved.

    Only the archive members the structure entry names are read, and each member's
    declared shape and dtype are checked against its size in the archive before anything
    is allocated: extra members cost nothing, and a damaged size cannot ask for terabytes.
    A missing file is a FileNotFoundError; a file that is not an .npz archive, not
    minigan's, or damaged (truncated, a bad CRC, a mangled header, an unsupported zip
    feature) is a one-line CheckpointError naming the file."""
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
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if _META + ".npy" not in members:
                raise CheckpointError(f"{path!r} is an .npz archive but not a minigan "
                                      f"checkpoint: it has no {_META!r} entry (was it written "
                                      "by minigan.save?)")
            reader = _Members(archive, members, os.path.getsize(path), path)
            meta = _parse_structure(reader.read(_META, limit=MAX_STRUCTURE_BYTES), path)
            arrays = {key: reader.read(key) for key in _keys(meta["root"], path)}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            EOFError, OSError, ValueError, zlib.error) as error:
        # NotImplementedError: a zip version or compression zipfile lacks; RuntimeError:
        # an encrypted member.
        raise corrupt(path, f"the file is truncated or corrupt "
                            f"({type(error).__name__}: {error})") from error
    try:
        return _decode(meta["root"], arrays, device)
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as error:
        raise corrupt(path, f"its structure entry is corrupt ({type(error).__name__}: "
                            f"{error})") from error


def corrupt(path, detail):
    """The one-line CheckpointError of a damaged checkpoint ``path`` (None: unnamed)."""
    name = "" if path is None else f" {os.fspath(path)!r}"
    return CheckpointError(f"corrupt checkpoint{name}: " + " ".join(str(detail).split()))


def _parse_structure(array, path):
    """The structure entry's JSON: {"format", "version", "root"}, checked."""
    try:
        if array.dtype.kind != "U" or array.shape != ():
            raise ValueError(f"expected one string, found {array.dtype} {array.shape}")
        meta = json.loads(str(array[()]))
        if not isinstance(meta, dict):
            raise ValueError(f"expected a JSON object, found {type(meta).__name__}")
    except (ValueError, RecursionError) as error:
        raise corrupt(path, f"its structure entry is corrupt ({type(error).__name__}: "
                            f"{error})") from error
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path!r}: unknown format {meta.get('format')!r}, "
                              f"expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path!r}: checkpoint format version {meta.get('version')}"
                              f" is not supported (this minigan reads version {VERSION})")
    if "root" not in meta:
        raise corrupt(path, "its structure entry has no root")
    return meta


def _keys(root, path):
    """The array members the structure names, in order, without recursion (a crafted
    file may nest deeply)."""
    keys, todo = [], [root]
    try:
        while todo:
            node = todo.pop()
            kind = node["type"]
            if kind in ("tensor", "array", "scalar"):
                if not isinstance(node["key"], str):
                    raise TypeError(f"array key {node['key']!r} is not a string")
                keys.append(node["key"])
            elif kind == "dict":
                todo.extend(value for _, value in node["items"])
            elif kind in ("list", "tuple"):
                todo.extend(node["items"])
            elif kind not in ("value", "int", "float"):
                raise ValueError(f"unknown entry type {kind!r}")
    except (ValueError, KeyError, TypeError) as error:
        raise corrupt(path, f"its structure entry is corrupt ({type(error).__name__}: "
                            f"{error})") from error
    return list(dict.fromkeys(keys))


class _Members:
    """Reads one ``.npy`` member of an open archive at a time, checking its declared
    size against the archive before allocating it."""

    def __init__(self, archive, members, file_size, path):
        self.archive, self.members, self.file_size, self.path = (archive, members,
                                                                 file_size, path)

    def read(self, key, limit=None):
        name = key + ".npy"
        info = self.members.get(name)
        if info is None:
            raise corrupt(self.path, f"its structure names the array {key!r}, but the "
                                     f"archive has no member {name!r}")
        stored = info.compress_type == zipfile.ZIP_STORED
        if info.compress_size > self.file_size or (stored and info.compress_size
                                                   != info.file_size) \
                or info.file_size > MAX_DEFLATE_RATIO * info.compress_size + (1 << 16) \
                or (limit is not None and info.file_size > limit):
            raise corrupt(self.path, f"member {name!r} claims {info.file_size} bytes "
                                     f"({info.compress_size} compressed) in a file of "
                                     f"{self.file_size} bytes")
        with self.archive.open(info) as f:
            dtype, shape, fortran = self._header(f, name)
            count = math.prod(shape)
            nbytes = count * dtype.itemsize
            if f.tell() + nbytes != info.file_size:
                raise corrupt(self.path, f"member {name!r} declares {dtype} {shape} "
                                         f"({nbytes} bytes of data), but holds "
                                         f"{info.file_size - f.tell()}")
            array = np.empty(count, dtype)
            view = memoryview(array.view(np.uint8)) if count else memoryview(b"")
            done = 0
            while done < nbytes:
                got = f.readinto(view[done:done + _CHUNK])
                if not got:
                    raise corrupt(self.path, f"member {name!r} is truncated")
                done += got
        return array.reshape(shape, order="F" if fortran else "C")

    def _header(self, f, name):
        """(dtype, shape, fortran_order) of an .npy header, checked; any damage is a
        CheckpointError (NumPy's own parser raises ValueError, SyntaxError or a
        tokenizer error on a mangled header)."""
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"npy format version {version} is not one minigan writes")
        except CheckpointError:
            raise
        except Exception as error:  # noqa: BLE001 -- any parser failure means damage
            raise corrupt(self.path, f"member {name!r} has a damaged .npy header "
                                     f"({type(error).__name__}: {error})") from error
        if dtype.hasobject:
            raise corrupt(self.path, f"member {name!r} holds Python objects (dtype "
                                     f"{dtype}), which only pickle can load: refused")
        if dtype.fields is not None or dtype.kind not in _DTYPE_KINDS:
            raise corrupt(self.path, f"member {name!r} has dtype {dtype}, not one minigan "
                                     "writes")
        if not (isinstance(shape, tuple) and all(isinstance(n, int) and n >= 0
                                                 for n in shape)):
            raise corrupt(self.path, f"member {name!r} has a damaged shape {shape!r}")
        return dtype, shape, fortran


def _decode(node, arrays, device):
    kind = node["type"]
    if kind == "value":
        value = node["value"]
        if value is not None and not isinstance(value, (bool, str)):
            raise TypeError(f"a plain value must be None, a bool or a string, found {value!r}")
        return value
    if kind == "int":
        if type(node["value"]) is not int:
            raise TypeError(f"an int entry holds {node['value']!r}")
        return node["value"]
    if kind == "float":
        if not isinstance(node["value"], str):
            raise TypeError(f"a float entry holds {node['value']!r}, not its repr")
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
