"""A folder of PNG images, all of one size, read by ``matplotlib.image.imread``.

minigan needs no image library of its own: matplotlib (already used for plots) reads PNG.
"""
import os

import numpy as np

ALPHA_CHANNELS = {2: 1, 4: 3}  # grey+alpha -> grey, RGBA -> RGB


def _to_uint8(pixels, path):
    """imread's (H, W) or (H, W, C) array -> uint8 (C, H, W), alpha dropped."""
    pixels = np.round(pixels * 255).astype(np.uint8)  # imread gives PNGs as floats in [0, 1]
    if pixels.ndim == 2:
        return pixels[None]  # (H, W) -> (1, H, W)
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"{path}: expected a grey or RGB(A) image, found shape {pixels.shape}")
    pixels = pixels[:, :, :ALPHA_CHANNELS.get(pixels.shape[2], pixels.shape[2])]
    return pixels.transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)


def load_folder(directory):
    """Every .png in ``directory`` (not its subfolders), in sorted file-name order.

    Grey images give C=1, RGB (or RGBA, alpha dropped) give C=3; all must share C, H and W.
    Returns uint8 images of shape (N, C, H, W).
    Raises ValueError naming the first file whose size or channels differ from the first.
    """
    from matplotlib import image as mpimg  # lazy: matplotlib takes a while to import

    names = sorted(n for n in os.listdir(directory) if n.lower().endswith(".png"))
    if not names:
        raise ValueError(f"{directory}: expected at least one .png file, found none")
    images = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            pixels = mpimg.imread(path)
        # Pillow's PNG parser reports a bad signature as SyntaxError
        except (OSError, ValueError, SyntaxError) as e:
            raise ValueError(f"{path}: expected a PNG image, found an unreadable file "
                             f"({e})") from e
        image = _to_uint8(pixels, path)
        if images and image.shape != images[0].shape:
            raise ValueError(f"{path}: expected (C, H, W) = {images[0].shape} like "
                             f"{names[0]}, found {image.shape}")
        images.append(image)
    return np.stack(images)
