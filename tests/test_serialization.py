"""minigan.serialization: exact round trips through one .npz, clear errors, atomic writes."""
import io
import json
import os
import tracemalloc
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minigan
from minigan import nn, optim, serialization
from minigan.serialization import CheckpointError, load, save


def _checkpoint():
    model = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    opt = optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    (model(minigan.randn(5, 3)) ** 2).mean().backward()
    opt.step()
    return model, opt, {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 3,
        "loss": 0.1 + 0.2,  # not a short decimal: checks the float is exact
        "history": [1.5, float("inf"), float("nan"), -0.0],
        "flags": {"ema": True, "note": "ünïcode", "none": None},
        "shape": (28, 28),
        "mixed": [np.arange(3, dtype=np.int16), {"deep": [np.float32(2.5), np.int64(7)]}],
        "big": 2 ** 70,
    }


def _assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, minigan.Tensor):
        _assert_same(a.numpy(), b.numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()  # bit for bit (NaN payloads, −0.0 included)
    elif isinstance(a, float) and a != a:
        assert b != b
    else:
        assert a == b and repr(a) == repr(b)


# ==================== round trips ====================

def test_round_trip_rebuilds_the_same_nesting_types_and_bytes(tmp_path):
    _, _, ckpt = _checkpoint()
    path = tmp_path / "ckpt.npz"
    save(ckpt, path)
    loaded = load(path)
    _assert_same(ckpt, loaded)
    assert isinstance(loaded["model"], OrderedDict)
    assert list(loaded["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    assert isinstance(loaded["model"]["0.weight"], minigan.Tensor)
    assert isinstance(loaded["mixed"][0], np.ndarray)
    assert isinstance(loaded["mixed"][1]["deep"][0], np.float32)


def test_loaded_state_dicts_resume_model_and_optimizer(tmp_path):
    model, opt, ckpt = _checkpoint()
    save(ckpt, tmp_path / "c.npz")
    loaded = load(tmp_path / "c.npz")
    model2 = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    model2.load_state_dict(loaded["model"])
    opt2 = optim.Adam(model2.parameters())
    opt2.load_state_dict(loaded["optimizer"])
    assert opt2.param_groups[0]["lr"] == 2e-4 and opt2.param_groups[0]["betas"] == (0.5, 0.999)
    x = minigan.randn(6, 3)
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        (m(x) ** 2).mean().backward()
        o.step()
    for a, b in zip(model.parameters(), model2.parameters()):
        assert np.array_equal(a.numpy(), b.numpy())


def test_tensors_load_onto_the_requested_device(tmp_path, device):
    save({"w": minigan.ones(2, device=device), "a": np.zeros(2)}, tmp_path / "d.npz")
    loaded = load(tmp_path / "d.npz", device=device)
    assert loaded["w"].device == device and isinstance(loaded["a"], np.ndarray)
    assert load(tmp_path / "d.npz")["w"].device == "cpu"


def test_keys_that_collide_after_flattening_stay_apart(tmp_path):
    obj = {"a/b": np.array([1]), "a": {"b": np.array([2])}}
    save(obj, tmp_path / "k.npz")
    _assert_same(obj, load(tmp_path / "k.npz"))


def test_archive_is_plain_npz_with_flattened_names_and_json(tmp_path):
    _, _, ckpt = _checkpoint()
    save(ckpt, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as archive:
        assert "model/0.weight" in archive.files
        assert "optimizer/state/0/exp_avg" in archive.files
        meta = json.loads(str(archive["__minigan__"]))
    assert meta["format"] == "minigan-checkpoint" and meta["version"] == 1


def test_unsupported_values_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store a set at 'a/x'"):
        save({"a": {"x": {1, 2}}}, tmp_path / "s.npz")
    with pytest.raises(TypeError, match="dict keys must be str or int, found 1.5"):
        save({1.5: 1}, tmp_path / "s.npz")
    with pytest.raises(TypeError, match="holds Python objects"):
        save({"o": np.array([object()])}, tmp_path / "s.npz")
    assert not os.listdir(tmp_path)  # nothing written


# ==================== bad files ====================

def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(tmp_path / "nope.npz")


def test_truncated_file_is_a_clear_error(tmp_path):
    _, _, ckpt = _checkpoint()
    path = tmp_path / "cut.npz"
    save(ckpt, path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.npz.*truncated or corrupt"):
        load(path)


def test_corrupted_member_is_a_clear_error(tmp_path):
    path = tmp_path / "flip.npz"
    save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    data[300] ^= 0xFF  # inside the array's bytes: the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"flip\.npz.*truncated or corrupt"):
        load(path)


@pytest.mark.parametrize("content", [os.urandom(2000), b"", b"\x93NUMPY garbage"])
def test_garbage_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "garbage.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"garbage\.npz.*not an \.npz \(zip\) archive"):
        load(path)


def test_foreign_npz_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(CheckpointError, match=r"plain\.npz.*not a minigan checkpoint"):
        load(tmp_path / "plain.npz")


def test_pickled_member_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, __minigan__=_structure({"type": "array", "key": "x"}),
             x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError, match=r"evil\.npz.*holds Python objects .*pickle"):
        load(path)


def test_corrupt_structure_entry_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "meta.npz", __minigan__=np.array("{not json"))
    with pytest.raises(CheckpointError, match=r"meta\.npz.*structure entry is corrupt"):
        load(tmp_path / "meta.npz")
    np.savez(tmp_path / "v.npz", __minigan__=np.array(json.dumps(
        {"format": "minigan-checkpoint", "version": 99, "root": None})))
    with pytest.raises(CheckpointError, match="version 99 is not supported"):
        load(tmp_path / "v.npz")


# ==================== damaged and hostile archives (issue 16) ====================

def _structure(root):
    """The ``__minigan__`` entry of a file whose nesting is ``root``."""
    return np.array(json.dumps({"format": "minigan-checkpoint", "version": 1, "root": root}))


def _npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _archive(path, members, compression=zipfile.ZIP_STORED):
    """A zip of ``members`` (name -> bytes), written member by member as given."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


WEIGHTS = {"type": "dict", "ordered": False,
           "items": [["w", {"type": "tensor", "key": "w"}]]}


def test_members_the_structure_does_not_name_are_never_read(tmp_path):
    """A small file with a big compressible member beside the checkpoint (the issue: 1 MB
    on disk, 600 MB of zeros inside) costs nothing, nor does a damaged extra member."""
    path = _archive(tmp_path / "padded.npz", {
        "__minigan__.npy": _npy(_structure(WEIGHTS)),
        "w.npy": _npy(np.arange(3.0)),
        "zeros.npy": _npy(np.zeros(8 << 20)),          # 64 MiB, ~64 KiB deflated
        "mangled.npy": b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8', 'fortr"},
        compression=zipfile.ZIP_DEFLATED)
    assert os.path.getsize(path) < 1 << 20
    tracemalloc.start()
    try:
        loaded = load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded["w"].numpy().tolist() == [0.0, 1.0, 2.0]
    assert peak < 4 << 20, f"{peak / 2**20:.0f} MiB allocated to read 3 numbers"


def _header_claiming(shape, dtype="<f8"):
    """An .npy version 1.0 header declaring ``shape``, padded as NumPy pads it."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


@pytest.mark.parametrize("shape", [(10 ** 13,), (2 ** 62, 2 ** 62), (5,)])
def test_declared_sizes_are_checked_before_allocating(tmp_path, shape):
    """A member whose header claims 10^13 floats (80 TB) but holds 16 bytes is refused
    without a MemoryError; so is one claiming 5 floats and holding 2."""
    path = _archive(tmp_path / "liar.npz", {"__minigan__.npy": _npy(_structure(WEIGHTS)),
                                            "w.npy": _header_claiming(shape) + bytes(16)})
    with pytest.raises(CheckpointError, match=r"^corrupt checkpoint '.*liar\.npz': member "
                                              r"'w\.npy' declares float64 .* but holds 16$"):
        load(path)


@pytest.mark.parametrize("member, message", [
    # NumPy's header parser raises tokenize.TokenError on this one
    (b"\x93NUMPY\x01\x00\x40\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,"
     + b" " * 17 + b"\n", "damaged .npy header"),
    (_header_claiming((3,), "|O") + bytes(24), "holds Python objects"),
    (_header_claiming((3,), "V8") + bytes(24), "has dtype |V8"),
    (b"\x93NUMPY\x09\x00" + bytes(8), "damaged .npy header"),
    (b"not npy at all", "damaged .npy header"),
])
def test_a_mangled_member_is_one_corrupt_checkpoint_line(tmp_path, member, message):
    path = _archive(tmp_path / "m.npz", {"__minigan__.npy": _npy(_structure(WEIGHTS)),
                                         "w.npy": member})
    with pytest.raises(CheckpointError) as error:
        load(path)
    text = str(error.value)
    assert text.startswith(f"corrupt checkpoint {str(path)!r}: ") and message in text
    assert "\n" not in text


def test_an_unsupported_zip_version_is_a_corrupt_checkpoint(tmp_path):
    path = tmp_path / "v.npz"
    save({"w": np.ones(2)}, path)
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x01\x02", 6), (b"PK\x03\x04", 4)):  # central, local
        at = data.find(signature)
        while at >= 0:
            data[at + offset] = 99        # "version needed to extract": 9.9
            at = data.find(signature, at + 1)
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"^corrupt checkpoint .*v\.npz'.*zip file "
                                              r"version 9\.9"):
        load(path)


def test_a_structure_naming_a_missing_member_is_corrupt(tmp_path):
    path = _archive(tmp_path / "gap.npz", {"__minigan__.npy": _npy(_structure(WEIGHTS))})
    with pytest.raises(CheckpointError, match=r"^corrupt checkpoint .*names the array 'w', "
                                              r"but the archive has no member 'w\.npy'"):
        load(path)


@pytest.mark.parametrize("root", [
    {"type": "int", "value": "12"}, {"type": "int", "value": 1.5},
    {"type": "value", "value": [1, 2]}, {"type": "float", "value": 2.5},
    {"type": "dict", "items": [["a"]]}, {"type": "mystery"}, [1],
])
def test_a_structure_of_the_wrong_types_is_corrupt(tmp_path, root):
    np.savez(tmp_path / "s.npz", __minigan__=_structure(root))
    with pytest.raises(CheckpointError, match=r"^corrupt checkpoint .*structure entry is "
                                              r"corrupt"):
        load(tmp_path / "s.npz")


# ==================== atomic writes ====================

def test_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"step": 1, "w": np.ones(3)}, path)
    old_bytes = path.read_bytes()

    def crash_mid_write(file, **arrays):
        file.write(b"PK\x03\x04 partial archive")
        raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        save({"step": 2, "w": np.zeros(3)}, path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    monkeypatch.undo()
    assert load(path)["step"] == 1


def test_failed_rename_leaves_no_temp_file(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError("read-only destination")

    monkeypatch.setattr(serialization.os, "replace", refuse)
    with pytest.raises(PermissionError):
        save({"a": 1}, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_save_writes_exactly_the_given_path(tmp_path):
    save({"a": 1}, tmp_path / "checkpoint")
    assert os.listdir(tmp_path) == ["checkpoint"]
    assert zipfile.is_zipfile(tmp_path / "checkpoint")
    assert load(tmp_path / "checkpoint") == {"a": 1}


def test_saved_file_is_readable_like_a_normal_file(tmp_path):
    save({"a": 1}, tmp_path / "m.npz")
    assert os.stat(tmp_path / "m.npz").st_mode & 0o777 == 0o644
    os.chmod(tmp_path / "m.npz", 0o600)
    save({"a": 2}, tmp_path / "m.npz")  # overwriting keeps the file's mode
    assert os.stat(tmp_path / "m.npz").st_mode & 0o777 == 0o600
