"""Data sets for minigan: real MNIST & friends, 2-D toy mixtures, and the batch loader.

``load_dataset(spec)`` turns a short spec into a ``Dataset``:

    mnist5k              5,000 real MNIST digits shipped with minigan (works offline);
                         training uses the 4,500 of its train split, the 500 test digits
                         are held out for the metrics
    mnist5k-bin          mnist5k binarised by a threshold at half intensity, x in {-1, +1}
    mnist5k-sbin         mnist5k binarised stochastically, b ~ Bernoulli(v/255), drawn
                         once with a fixed seed (``binarized.py``), x in {-1, +1}
    mnist[:DIR]          MNIST IDX files in DIR (default ROOT/mnist, see ``download``)
    fashion-mnist[:DIR]  Fashion-MNIST IDX files in DIR (default ROOT/fashion-mnist)
    quickdraw:PATH       a Quick, Draw! numpy_bitmap .npy (N x 784 uint8)
    folder:DIR           the .png images in DIR, all the same size
    ring8[:N], grid25[:N]  N points (default 10,000) of a 2-D Gaussian mixture
    digits-edges, digits-thick   paired translation tasks made from mnist5k's digits
    digits-inverted, digits-rot90, digits-quickdraw:PATH   unpaired ones (``translation``)

>>> ds = load_dataset("mnist5k", split="test")
>>> ds.images.shape, float(ds.images.min()), float(ds.images.max())
((500, 1, 28, 28), -1.0, 1.0)
"""
import os

from minigan.data.binarized import load_mnist5k_binary
from minigan.data.download import default_root, download
from minigan.data.embedded import load_mnist5k
from minigan.data.folder import load_folder
from minigan.data.idx import load_mnist_dir
from minigan.data.loader import DataLoader, Dataset
from minigan.data.quickdraw import load_quickdraw
from minigan.data.toy import grid25, ring8
from minigan.data.translation import TASKS as TRANSLATION_TASKS, load_translation

__all__ = ["DATASETS", "load_dataset", "Dataset", "DataLoader", "download", "ring8",
           "grid25"]

DATASETS = {
    "mnist5k": "5,000 real MNIST digits (500 per class) shipped with minigan; no download",
    "mnist5k-bin": "mnist5k binarised: pixel 1 where intensity > 0.5 (x in {-1, +1})",
    "mnist5k-sbin": "mnist5k binarised: pixel 1 with probability = intensity, fixed seed "
                    "(x in {-1, +1})",
    "mnist": "MNIST, 60,000 + 10,000 digits, from IDX files: mnist:DIR",
    "fashion-mnist": "Fashion-MNIST, 60,000 + 10,000 clothing images (IDX): fashion-mnist:DIR",
    "quickdraw": "one Quick, Draw! category, numpy_bitmap .npy (N x 784): quickdraw:PATH",
    "folder": "every .png in a folder, all the same size, grey or RGB: folder:DIR",
    "ring8": "2-D toy: 8 Gaussians on a circle of radius 2, std 0.02 (ring8[:N])",
    "grid25": "2-D toy: 25 Gaussians on a 5x5 grid, spacing 2, std 0.05 (grid25[:N])",
    "digits-edges": "paired: edge map of a digit -> the digit (mnist5k's split; pix2pix)",
    "digits-thick": "paired: a digit -> the digit dilated 3x3 (mnist5k's split; pix2pix)",
    "digits-inverted": "unpaired: digits <-> inverted digits (cyclegan, discogan)",
    "digits-rot90": "unpaired: digits <-> digits turned 90 degrees (cyclegan, discogan)",
    "digits-quickdraw": "unpaired: digits <-> Quick, Draw! drawings: digits-quickdraw:PATH",
}
TOY_SIZE = 10_000
DIGIT_CLASSES = 10  # MNIST's digits and Fashion-MNIST's ten kinds of clothing
NEEDS_ARGUMENT = {"quickdraw": "PATH", "folder": "DIR", "digits-quickdraw": "PATH"}
HAS_SPLITS = ("mnist5k", "mnist5k-bin", "mnist5k-sbin", "mnist",
              "fashion-mnist") + TRANSLATION_TASKS
BINARIZED = {"mnist5k-bin": "threshold", "mnist5k-sbin": "stochastic"}


def load_dataset(spec, root=None, split=None):
    """The data set named by ``spec`` (see the module docstring), as a ``Dataset``.

    root: where ``mnist``/``fashion-mnist`` without a DIR look (ROOT/name; default
    ``download.default_root()``); split: "train", "test" or "all" for mnist5k (default train:
    the fixed stratified 4,500 of the 4,500/500 split, so that the 500 test digits stay
    unseen by training and the metrics can compare against them), mnist and fashion-mnist
    (default train), and the translation tasks built from mnist5k (default train; Quick,
    Draw!'s every 10th drawing is test); the other data sets have no split.
    Raises ValueError for an unknown name, listing the choices.
    """
    name, _, argument = spec.partition(":")
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")
    if name in NEEDS_ARGUMENT and not argument:
        raise ValueError(f"{name} needs a location: expected {name}:{NEEDS_ARGUMENT[name]}")
    if split is not None and name not in HAS_SPLITS:
        raise ValueError(f"{name} has no {split!r} split: only {', '.join(HAS_SPLITS)} do")
    if name == "mnist5k":
        if argument:
            raise ValueError(f"mnist5k is embedded: expected 'mnist5k', found {spec!r}")
        return Dataset.from_uint8(*load_mnist5k(split or "train"), name=spec,
                                  num_classes=DIGIT_CLASSES)
    if name in BINARIZED:
        if argument:
            raise ValueError(f"{name} is embedded: expected {name!r}, found {spec!r}")
        return load_mnist5k_binary(split or "train", BINARIZED[name])
    if name in ("mnist", "fashion-mnist"):
        directory = argument or os.path.join(root or default_root(), name)
        return Dataset.from_uint8(*load_mnist_dir(directory, split or "train"), name=spec,
                                  num_classes=DIGIT_CLASSES)
    if name in TRANSLATION_TASKS:
        return load_translation(spec, split or "train")
    if name == "quickdraw":
        return Dataset.from_uint8(load_quickdraw(argument), name=spec)
    if name == "folder":
        return Dataset.from_uint8(load_folder(argument), name=spec)
    if argument and not argument.isdigit():
        raise ValueError(f"{name}: expected a number of points {name}:N, found {spec!r}")
    return {"ring8": ring8, "grid25": grid25}[name](int(argument or TOY_SIZE))
