"""Dataset (a whole data set as one float array) and DataLoader (shuffled, resumable batches).

Images are scaled once, when the Dataset is made: uint8 v -> v/127.5 - 1, so 0 -> -1 and
255 -> +1 exactly, the range of a tanh generator output. A batch then costs one fancy index
and one copy to the device.

Shuffling is reproducible without global state: the order of epoch e is a permutation
drawn from ``numpy.random.default_rng([seed, e])``. With the epoch and the number of
batches already taken (``state_dict()``), a resumed run yields exactly the batches the
interrupted one would have.
"""
import hashlib

import numpy as np

from minigan import backend
from minigan.autograd import Tensor


class Dataset:
    """A data set held in memory as named arrays of N samples each, its *fields*.

    x: (N, C, H, W) images in [-1, 1] or (N, D) points, float32/float64 (field "x");
    labels: (N,) integer classes or None (field "y"); name: shown in messages;
    num_classes: the classes the labels come from (labels outside 0..num_classes−1 are an
    error naming the first one); without it, the labels must be exactly 0..K−1.
    fields: more per-sample arrays, e.g. ``x_paired`` (N, C, H, W), the input image that
    belongs to each target of a paired translation task. A batch of a ``DataLoader`` is a
    dict with one Tensor per field.
    ``images`` and ``points`` are ``x`` under the name that says which kind it holds.
    """

    def __init__(self, x, labels=None, name="dataset", num_classes=None, **fields):
        if not isinstance(x, np.ndarray) or x.dtype.type not in backend.FLOAT_DTYPES \
                or x.ndim not in (2, 4):
            raise ValueError(f"{name}: expected a float32/float64 array (N, C, H, W) or "
                             f"(N, D), found {type(x).__name__} {getattr(x, 'shape', '')} "
                             f"{getattr(x, 'dtype', '')}")
        self.name = name
        self.fields = {"x": x}
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (len(x),) or labels.dtype.kind not in "iu":
                raise ValueError(f"{name}: expected integer labels of shape ({len(x)},), "
                                 f"found {labels.dtype} {labels.shape}")
            self.fields["y"] = labels.astype(np.int64)
            self._num_classes = _check_classes(self.fields["y"], num_classes, name)
        for field, value in fields.items():
            if not isinstance(value, np.ndarray) or len(value) != len(x):
                raise ValueError(f"{name}: expected field {field!r} to be an array of "
                                 f"{len(x)} samples, found {type(value).__name__} "
                                 f"{getattr(value, 'shape', '')}")
            self.fields[field] = value

    @property
    def x(self):
        return self.fields["x"]

    @property
    def labels(self):
        return self.fields.get("y")

    @property
    def num_classes(self):
        """K for labels in 0..K−1; None for a data set without labels."""
        return self._num_classes if "y" in self.fields else None

    @classmethod
    def from_uint8(cls, images, labels=None, name="dataset", dtype=None, num_classes=None):
        """Images uint8 (N, H, W) or (N, C, H, W) -> Dataset with x = images/127.5 - 1."""
        if images.dtype != np.uint8 or images.ndim not in (3, 4):
            raise ValueError(f"{name}: expected uint8 images (N, H, W) or (N, C, H, W), "
                             f"found {images.dtype} {images.shape}")
        if images.ndim == 3:
            images = images[:, None]  # (N, H, W) -> (N, 1, H, W)
        x = images.astype(dtype or backend.get_default_dtype())
        x /= 127.5
        x -= 1.0
        return cls(x, labels, name, num_classes)

    def __len__(self):
        return len(self.x)

    def fingerprint(self):
        """A hash of every field (name, dtype, shape and values): equal for the same data
        read from anywhere, so a run can tell its data set from another one after the
        files moved. 32 hex digits (BLAKE2b); ~0.3 s for the 60,000 MNIST digits.

        >>> a = Dataset(np.zeros((4, 2)), name="a")
        >>> a.fingerprint() == Dataset(np.zeros((4, 2)), name="b").fingerprint()
        True
        >>> a.fingerprint() == Dataset(np.ones((4, 2))).fingerprint()
        False
        """
        digest = hashlib.blake2b(digest_size=16)
        for name in sorted(self.fields):
            value = np.ascontiguousarray(self.fields[name])
            digest.update(f"{name} {value.dtype.str} {value.shape}\n".encode())
            digest.update(value.reshape(-1).view(np.uint8))
        return digest.hexdigest()

    @property
    def images(self):
        if self.x.ndim != 4:
            raise AttributeError(f"{self.name} holds points {self.x.shape}, not images")
        return self.x

    @property
    def points(self):
        if self.x.ndim != 2:
            raise AttributeError(f"{self.name} holds images {self.x.shape}, not points")
        return self.x

    def __repr__(self):
        labels = "" if self.labels is None else f", {self.num_classes} classes"
        return f"Dataset({self.name}: {self.x.shape} {self.x.dtype}{labels})"


def _check_classes(labels, num_classes, name):
    """The number of classes of ``labels``: ``num_classes`` when every label lies in
    0..num_classes−1, else K = max + 1 when 0..K−1 all occur; otherwise an error naming
    the odd label (one stray 255 must not make a 256-class model)."""
    if labels.size == 0:
        return num_classes
    if num_classes is not None:
        bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
        if bad.size:
            raise ValueError(f"{name}: label {labels[bad[0]]} at index {bad[0]} is outside "
                             f"the {num_classes} classes 0..{num_classes - 1}")
        return int(num_classes)
    if labels.min() < 0:
        raise ValueError(f"{name}: labels must be classes 0..K-1, found label "
                         f"{labels.min()} at index {labels.argmin()}")
    counts = np.bincount(labels)
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        odd = labels.max()
        raise ValueError(f"{name}: labels must be the classes 0..K-1 with none missing, but "
                         f"{missing.size} of 0..{odd} never occur (first: {missing[0]}); the "
                         f"largest label, {odd} at index {labels.argmax()}, may be a stray one")
    return len(counts)


class DataLoader:
    """Batches of a Dataset as dicts of Tensors on ``device``, one per field ("x", and
    "y" for labels, ...).

    batch_size: samples per batch; shuffle: a fresh permutation each epoch (else file
    order); seed: of the shuffle (None: drawn once from ``backend.generator()``);
    drop_last: skip the last, smaller batch; device: "cpu" or "cuda"; dtype: of x
    (default ``backend.get_default_dtype()``), converted once here.
    ``len(loader)`` is the number of batches per epoch. Iterating continues from where the
    previous iteration stopped (an iteration that ran to the end starts the next epoch).

    >>> from minigan.data import Dataset
    >>> loader = DataLoader(Dataset(np.zeros((10, 2))), batch_size=4, seed=0)
    >>> len(loader), [batch["x"].shape for batch in loader]
    (2, [(4, 2), (4, 2)])
    """

    def __init__(self, dataset, batch_size, shuffle=True, seed=None, drop_last=True,
                 device="cpu", dtype=None):
        self.device = backend.check_device(device)
        dtype = np.dtype(dtype or backend.get_default_dtype()).type
        if dtype not in backend.FLOAT_DTYPES:
            raise ValueError(f"dtype: expected float32 or float64, found {np.dtype(dtype)}")
        self.dataset = dataset
        # float fields in the loader's dtype once, here, not at every batch
        self.fields = {name: value.astype(dtype, copy=False) if value.dtype.kind == "f"
                       else value for name, value in dataset.fields.items()}
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        if self.batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, found {batch_size}")
        if len(self) == 0:
            raise ValueError(f"batch_size {batch_size} gives no batches of {dataset.name} "
                             f"({len(dataset)} samples, drop_last={drop_last})")
        self.seed = int(backend.generator().integers(2**63)) if seed is None else int(seed)
        self.epoch = 0
        self.position = 0  # batches of this epoch already yielded

    def __len__(self):
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def order(self, epoch):
        """The sample indices of ``epoch``, in the order they are batched."""
        if not self.shuffle:
            return np.arange(len(self.dataset))
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.dataset))

    def __iter__(self):
        if self.position >= len(self):
            self.epoch, self.position = self.epoch + 1, 0
        order = self.order(self.epoch)
        while self.position < len(self):
            index = order[self.position * self.batch_size:(self.position + 1) * self.batch_size]
            # Counted before the yield: a checkpoint saved while this batch is in use
            # resumes after it.
            self.position += 1
            yield {name: Tensor(backend.to_device(value[index], self.device))
                   for name, value in self.fields.items()}

    def batches(self, count=None):
        """``count`` batches (None: without end), epoch after epoch, each epoch in its own
        order: the loop of a training run counted in steps rather than epochs. Like
        iterating, it continues from where the loader stands.

        >>> from minigan.data import Dataset
        >>> loader = DataLoader(Dataset(np.zeros((10, 2))), batch_size=4, seed=0)
        >>> len(list(loader.batches(5))), loader.epoch, loader.position
        (5, 2, 1)
        """
        taken = 0
        while count is None or taken < count:
            for batch in self:
                yield batch
                taken += 1
                if taken == count:
                    return

    def state_dict(self):
        """Where the loader is: ints only, so it fits in an .npz checkpoint."""
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position,
                "num_samples": len(self.dataset), "batch_size": self.batch_size}

    def load_state_dict(self, state):
        """Continue from a ``state_dict()``; the data set size and batch size must match."""
        for key, mine in (("num_samples", len(self.dataset)), ("batch_size", self.batch_size)):
            if int(state[key]) != mine:
                raise ValueError(f"loader state: expected {key} {mine}, found {state[key]}")
        self.seed, self.epoch, self.position = (int(state[k]) for k in
                                                ("seed", "epoch", "position"))
