"""Quick, Draw! "numpy_bitmap" files: one .npy per category, N x 784 uint8 drawings.

The 28x28 bitmaps of https://github.com/googlecreativelab/quickdraw-dataset, each stored
flattened in row-major order, white strokes on black like MNIST.
"""
import numpy as np


def load_quickdraw(path):
    """Drawings of one Quick, Draw! category.

    path: a .npy holding a uint8 array of shape (N, 784), N >= 1.
    Returns uint8 images of shape (N, 28, 28).
    Raises ValueError naming the file, the expected and the found shape or dtype.
    """
    try:
        array = np.load(path, allow_pickle=False)  # never unpickle a downloaded file
    except ValueError as e:
        raise ValueError(f"{path}: expected a .npy of uint8 (N, 784), found an unreadable "
                         f"or pickled file ({e})") from e
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{path}: expected a .npy array, found {type(array).__name__}")
    if array.ndim != 2 or array.shape[1] != 784 or len(array) == 0:
        raise ValueError(f"{path}: expected shape (N, 784) with N >= 1, found {array.shape}")
    if array.dtype != np.uint8:
        raise ValueError(f"{path}: expected dtype uint8, found {array.dtype}")
    return array.reshape(-1, 28, 28)  # (N, 784) -> (N, H, W)
