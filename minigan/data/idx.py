"""IDX files, the format of MNIST and Fashion-MNIST, raw or gzip-compressed.

An IDX file is a big-endian header, then the values in row-major order:

    bytes 0-1   0x0000
    byte  2     dtype code (0x08: unsigned byte, the only one MNIST uses)
    byte  3     number of dimensions D
    4*D bytes   each dimension as a uint32
    the rest    prod(dims) values

So images start with the magic number 0x00000803 (ubyte, 3-D: N, H, W) and labels with
0x00000801 (ubyte, 1-D: N).
"""
import gzip
import os
import struct
import zlib

import numpy as np

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
UBYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"

SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def _read_bytes(path):
    """The file's bytes, decompressed when it starts like a gzip stream."""
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:  # a truncated or damaged download
        raise ValueError(f"{path}: expected a complete gzip file, found a damaged one ({e})")


def read_idx(path, magic):
    """Read an IDX file of unsigned bytes.

    path: the file, raw or gzip-compressed (detected from its first bytes, not its name);
    magic: ``IMAGES_MAGIC`` or ``LABELS_MAGIC``, what the caller expects it to hold.
    Returns a uint8 array of shape (N, H, W) for images or (N,) for labels.
    Raises ValueError naming the file and what was expected vs found.
    """
    data = _read_bytes(path)
    ndim = magic & 0xFF
    if len(data) < 4:
        raise ValueError(f"{path}: expected an IDX header of 4 bytes, found {len(data)} bytes")
    found = struct.unpack(">I", data[:4])[0]
    if found >> 16 != 0:
        raise ValueError(f"{path}: expected an IDX magic number 0x{magic:08X}, "
                         f"found 0x{found:08X}: not an IDX file")
    if (found >> 8) & 0xFF != UBYTE:
        raise ValueError(f"{path}: expected dtype byte 0x{UBYTE:02X} (unsigned byte), "
                         f"found 0x{(found >> 8) & 0xFF:02X}")
    if found != magic:
        raise ValueError(f"{path}: expected magic 0x{magic:08X} ({ndim}-D), "
                         f"found 0x{found:08X} ({found & 0xFF}-D)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: expected a {header}-byte header, found {len(data)} bytes")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected:
        raise ValueError(f"{path}: dims {dims} need {expected} bytes, found {len(data)} "
                         f"({'truncated' if len(data) < expected else 'trailing bytes'})")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def idx_path(directory, stem):
    """``directory/stem`` or ``directory/stem.gz``, whichever exists (raw first)."""
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"{directory}: expected {stem} or {stem}.gz, found neither; "
        "`python -m minigan download mnist` (or fashion-mnist) fetches them")


def load_mnist_dir(directory, split="train"):
    """Images and labels of an MNIST-style directory of IDX files.

    directory: holds train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz) and the
    ``t10k-`` pair; split: "train", "test" or "all" (train then test).
    Returns images uint8 (N, H, W) and labels uint8 (N,).
    """
    if split == "all":
        parts = [load_mnist_dir(directory, s) for s in ("train", "test")]
        return tuple(np.concatenate(arrays) for arrays in zip(*parts))
    if split not in SPLIT_PREFIX:
        raise ValueError(f"unknown split {split!r}: expected 'train', 'test' or 'all'")
    prefix = SPLIT_PREFIX[split]
    images_file = idx_path(directory, f"{prefix}-images-idx3-ubyte")
    labels_file = idx_path(directory, f"{prefix}-labels-idx1-ubyte")
    images = read_idx(images_file, IMAGES_MAGIC)
    labels = read_idx(labels_file, LABELS_MAGIC)
    if len(images) != len(labels):
        raise ValueError(f"{images_file} holds {len(images)} images but {labels_file} "
                         f"holds {len(labels)} labels; expected the same number")
    return images, labels
