"""Image-to-image translation tasks built from the embedded digits, offline and deterministic.

No data set of image pairs ships with minigan, so the tasks are made from mnist5k's digits
(the same 4,500/500 train/test split), with nothing random but one fixed pairing:

paired (pix2pix, notes 000 and 001: the model sees each input with its own target)
    digits-edges     input: the digit's edge map (the outline of the strokes), target: the
                     digit. The outline keeps the shape and drops the stroke's width and
                     grey levels, which the model must invent.
    digits-thick     input: the digit, target: the digit dilated (each pixel the maximum of
                     its 3×3 neighbourhood), so strokes come out about two pixels thicker.

    ``Dataset(x=target, labels, x_paired=input)``: x is what the generator must produce.

unpaired (CycleGAN, DiscoGAN, notes 003: "the two pictures need not be a pair")
    digits-inverted  domain A: the digits; domain B: inverted digits, 1 − x in [0, 1]
                     pixel units, which is −x in minigan's [−1, 1] range.
    digits-rot90     domain A: the digits; domain B: digits turned 90° anticlockwise.
    digits-quickdraw:PATH  domain A: the digits; domain B: the drawings of a Quick, Draw!
                     numpy_bitmap .npy (``quickdraw.load_quickdraw``); no ground truth.

    ``Dataset(x=A, labels=labels of A, x_b=B, y_b=labels of B)``. Field i of x_b is the
    image of a *different* digit than x[i]: B is built from A's digits and then re-paired by
    a fixed random derangement σ (a single cycle through a permutation drawn with seed
    ``PAIRING_SEED``), x_b[i] = T(x[σ(i)]) with σ(i) ≠ i. The loader shuffles all fields
    with one permutation, so a batch holds A-images and B-images of unrelated digits
    (about one pair in ten is of the same class by chance, never of the same image), and a
    model can only learn the two marginal distributions. The ground truth T (``truth``) is
    for evaluation only: per-pixel error of G(a) against T(a), and the classifier's label
    of T⁻¹(G(a)). y_b (the labels of B, absent for Quick, Draw!) is for evaluation too.

    Quick, Draw! files have no split: every 10th drawing (ranks 9, 19, ...) is test, the
    rest train; A and B are cut to the same length n: the first n drawings and a fixed
    random subset of n digits of the split (kept in file order).

>>> ds = load_translation("digits-rot90", split="test")
>>> sorted(ds.fields), ds.x.shape
(['x', 'x_b', 'y', 'y_b'], (500, 1, 28, 28))
>>> a_to_b, b_to_a = truth("digits-rot90")
>>> bool((b_to_a(a_to_b(ds.x)) == ds.x).all())
True
"""
import numpy as np

from minigan.data.embedded import load_mnist5k
from minigan.data.loader import Dataset
from minigan.data.quickdraw import load_quickdraw

PAIRED = ("digits-edges", "digits-thick")
UNPAIRED = ("digits-inverted", "digits-rot90", "digits-quickdraw")
TASKS = PAIRED + UNPAIRED
DIGIT_CLASSES = 10
PAIRING_SEED = 18          # the fixed derangement of the unpaired tasks
EDGE_THRESHOLD = 128       # a pixel is ink when its grey level is at least this
QUICKDRAW_TEST_EVERY = 10


# ==================== pixel maps (uint8 (N, H, W)) ====================

def _neighbours(images, reduce, fill):
    """Elementwise ``reduce`` over each pixel's 3×3 neighbourhood (outside: ``fill``)."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), constant_values=fill)
    h, w = images.shape[1:]
    shifts = [padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3)]
    return reduce.reduce(shifts)


def edge_map(images, threshold=EDGE_THRESHOLD):
    """The outline of the strokes: ink pixels with a background pixel among their eight
    neighbours (ink minus its 3×3 erosion), 255 on 0.

    >>> one = np.zeros((1, 5, 5), np.uint8); one[0, 1:4, 1:4] = 200   # a 3×3 blob
    >>> edge_map(one)[0] // 255                                      # its centre is inside
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 0, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]], dtype=uint8)
    """
    ink = images >= threshold
    inner = _neighbours(ink, np.logical_and, True)
    return np.where(ink & ~inner, 255, 0).astype(np.uint8)


def dilate(images):
    """Grey-level dilation: each pixel becomes the maximum of its 3×3 neighbourhood."""
    return _neighbours(images, np.maximum, 0)


# ==================== ground truths of the unpaired tasks ([−1, 1] arrays (N, C, H, W)) ====

def invert(x):
    """1 − v in [0, 1] pixel units is −x in [−1, 1]: (1 − (x + 1)/2)·2 − 1 = −x."""
    return -x


def rot90(x):
    """Turn images (N, C, H, W) 90° anticlockwise."""
    return np.ascontiguousarray(np.rot90(x, 1, axes=(2, 3)))


def rot270(x):
    """Turn images (N, C, H, W) 90° clockwise: the inverse of ``rot90``."""
    return np.ascontiguousarray(np.rot90(x, -1, axes=(2, 3)))


_TRUTH = {"digits-inverted": (invert, invert), "digits-rot90": (rot90, rot270)}


def truth(spec):
    """(A → B, B → A) ground-truth maps of an unpaired task, or None when it has none
    (Quick, Draw!, or a data set that is not a translation task)."""
    return _TRUTH.get(spec.partition(":")[0])


# ==================== loading ====================

def derangement(n, seed=PAIRING_SEED):
    """A fixed permutation σ of 0..n−1 with σ(i) ≠ i for every i (n ≥ 2): one cycle
    through a permutation π drawn with ``seed``, σ(π_k) = π_{k+1 mod n}.

    >>> s = derangement(6)
    >>> sorted(s.tolist()) == list(range(6)) and bool((s != np.arange(6)).all())
    True
    """
    if n < 2:
        raise ValueError(f"a derangement needs at least 2 items, found {n}")
    order = np.random.default_rng(seed).permutation(n)
    sigma = np.empty(n, dtype=np.int64)
    sigma[order] = np.roll(order, -1)
    return sigma


def _scale(images):
    """uint8 (N, H, W) -> (N, 1, H, W) in [−1, 1], scaled as ``Dataset.from_uint8`` does."""
    return Dataset.from_uint8(images).x


def _quickdraw_split(drawings, split):
    test = np.arange(len(drawings)) % QUICKDRAW_TEST_EVERY == QUICKDRAW_TEST_EVERY - 1
    return drawings[test if split == "test" else ~test]


def load_translation(spec, split="train"):
    """The translation task ``spec`` (see the module docstring) as a ``Dataset``, from the
    train or test split of the embedded digits ("all": both)."""
    name, _, argument = spec.partition(":")
    if name not in TASKS:
        raise ValueError(f"unknown translation task {name!r}: expected one of "
                         f"{', '.join(TASKS)}")
    if bool(argument) != (name == "digits-quickdraw"):
        raise ValueError(f"{name}: expected " + ("digits-quickdraw:PATH" if argument == ""
                                                 else f"{name!r} alone") + f", found {spec!r}")
    images, labels = load_mnist5k(split)
    if name == "digits-edges":
        return Dataset(_scale(images), labels, name=spec, num_classes=DIGIT_CLASSES,
                       x_paired=_scale(edge_map(images)))
    if name == "digits-thick":
        return Dataset(_scale(dilate(images)), labels, name=spec, num_classes=DIGIT_CLASSES,
                       x_paired=_scale(images))
    a = _scale(images)
    if name == "digits-quickdraw":
        drawings = load_quickdraw(argument)
        if split != "all":
            drawings = _quickdraw_split(drawings, split)
        n = min(len(a), len(drawings))
        if n < 2:
            raise ValueError(f"{spec}: the {split} split has {n} drawing(s); at least 2 are "
                             "needed (every 10th drawing is test)")
        keep = np.sort(np.random.default_rng(PAIRING_SEED).permutation(len(a))[:n])
        return Dataset(a[keep], labels[keep], name=spec, num_classes=DIGIT_CLASSES,
                       x_b=_scale(drawings[:n]))
    sigma = derangement(len(a))
    a_to_b = truth(name)[0]
    return Dataset(a, labels, name=spec, num_classes=DIGIT_CLASSES, x_b=a_to_b(a[sigma]),
                   y_b=labels[sigma].astype(np.int64))
