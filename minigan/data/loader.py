"""Dataset (a whole data set as one float array) and DataLoader (shuffled, resumable batches).

Images are scaled once, when the Dataset is made: uint8 v -> v/127.5 - 1, so 0 -> -1 and
255 -> +1 exactly, the range of a tanh generator output. A batch then costs one fancy index
and one copy to the device.

Shuffling is reproducible without global state: the order of epoch e is a permutation
drawn from ``numpy.random.default_rng([seed, e])``. With the epoch and the number of
batches already taken (``state_dict()``), a resumed run yields exactly the batches the
interrupted one would have.
"""
import numpy as np

from minigan import backend
from minigan.autograd import Tensor


class Dataset:
    """A data set held in memory as one float array.

    x: (N, C, H, W) images in [-1, 1] or (N, D) points, float32/float64;
    labels: (N,) integers or None; name: shown in messages.
    ``images`` and ``points`` are ``x`` under the name that says which kind it holds.
    """

    def __init__(self, x, labels=None, name="dataset"):
        if not isinstance(x, np.ndarray) or x.dtype.type not in backend.FLOAT_DTYPES \
                or x.ndim not in (2, 4):
            raise ValueError(f"{name}: expected a float32/float64 array (N, C, H, W) or "
                             f"(N, D), found {type(x).__name__} {getattr(x, 'shape', '')} "
                             f"{getattr(x, 'dtype', '')}")
        if labels is not None:
            labels = np.asarray(labels, dtype=np.int64)
            if labels.shape != (len(x),):
                raise ValueError(f"{name}: expected labels of shape ({len(x)},), "
                                 f"found {labels.shape}")
        self.x, self.labels, self.name = x, labels, name

    @classmethod
    def from_uint8(cls, images, labels=None, name="dataset", dtype=None):
        """Images uint8 (N, H, W) or (N, C, H, W) -> Dataset with x = images/127.5 - 1."""
        if images.dtype != np.uint8 or images.ndim not in (3, 4):
            raise ValueError(f"{name}: expected uint8 images (N, H, W) or (N, C, H, W), "
                             f"found {images.dtype} {images.shape}")
        if images.ndim == 3:
            images = images[:, None]  # (N, H, W) -> (N, 1, H, W)
        x = images.astype(dtype or backend.get_default_dtype())
        x /= 127.5
        x -= 1.0
        return cls(x, labels, name)

    def __len__(self):
        return len(self.x)

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
        labels = "" if self.labels is None else ", labelled"
        return f"Dataset({self.name}: {self.x.shape} {self.x.dtype}{labels})"


class DataLoader:
    """Batches of a Dataset as ``(x, y)`` Tensors on ``device``; y is None without labels.

    batch_size: samples per batch; shuffle: a fresh permutation each epoch (else file
    order); seed: of the shuffle (None: drawn once from ``backend.generator()``);
    drop_last: skip the last, smaller batch; device: "cpu" or "cuda"; dtype: of x
    (default ``backend.get_default_dtype()``), converted once here.
    ``len(loader)`` is the number of batches per epoch. Iterating continues from where the
    previous iteration stopped (an iteration that ran to the end starts the next epoch).

    >>> from minigan.data import Dataset
    >>> loader = DataLoader(Dataset(np.zeros((10, 2))), batch_size=4, seed=0)
    >>> len(loader), [x.shape for x, y in loader]
    (2, [(4, 2), (4, 2)])
    """

    def __init__(self, dataset, batch_size, shuffle=True, seed=None, drop_last=True,
                 device="cpu", dtype=None):
        self.device = backend.check_device(device)
        dtype = np.dtype(dtype or backend.get_default_dtype()).type
        if dtype not in backend.FLOAT_DTYPES:
            raise ValueError(f"dtype: expected float32 or float64, found {np.dtype(dtype)}")
        self.x = dataset.x.astype(dtype, copy=False)
        self.labels = dataset.labels
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        if self.batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, found {batch_size}")
        if len(self) == 0:
            raise ValueError(f"batch_size {batch_size} gives no batches of {dataset.name} "
                             f"({len(self.x)} samples, drop_last={drop_last})")
        self.seed = int(backend.generator().integers(2**63)) if seed is None else int(seed)
        self.epoch = 0
        self.position = 0  # batches of this epoch already yielded

    def __len__(self):
        n, b = len(self.x), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def order(self, epoch):
        """The sample indices of ``epoch``, in the order they are batched."""
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.x))

    def __iter__(self):
        if self.position >= len(self):
            self.epoch, self.position = self.epoch + 1, 0
        order = self.order(self.epoch)
        while self.position < len(self):
            index = order[self.position * self.batch_size:(self.position + 1) * self.batch_size]
            # Counted before the yield: a checkpoint saved while this batch is in use
            # resumes after it.
            self.position += 1
            x = Tensor(backend.to_device(self.x[index], self.device))
            y = None if self.labels is None else \
                Tensor(backend.to_device(self.labels[index], self.device))
            yield x, y

    def batches(self, count=None):
        """``count`` batches (None: without end), epoch after epoch, each epoch in its own
        order: the loop of a training run counted in steps rather than epochs. Like
        iterating, it continues from where the loader stands.

        >>> from minigan.data import Dataset
        >>> loader = DataLoader(Dataset(np.zeros((10, 2))), batch_size=4, seed=0)
        >>> len([x for x, y in loader.batches(5)]), loader.epoch, loader.position
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
                "num_samples": len(self.x), "batch_size": self.batch_size}

    def load_state_dict(self, state):
        """Continue from a ``state_dict()``; the data set size and batch size must match."""
        for key, mine in (("num_samples", len(self.x)), ("batch_size", self.batch_size)):
            if int(state[key]) != mine:
                raise ValueError(f"loader state: expected {key} {mine}, found {state[key]}")
        self.seed, self.epoch, self.position = (int(state[k]) for k in
                                                ("seed", "epoch", "position"))
