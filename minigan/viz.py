"""Pictures of a GAN run: sample grids, loss curves, latent walks, 2-D scatter plots.

Everything here works on plain NumPy arrays. Callers pass ``tensor.numpy()``; anything
``numpy.asarray`` accepts works too, and an object with a ``.numpy()`` method is converted
with it. Images are in the generator's range [-1, 1] (tanh output), shaped ``(N, C, H, W)``
or ``(N, H, W)``, and are shown as ``(x + 1) / 2`` clipped to [0, 1].

Figures are built as ``matplotlib.figure.Figure`` with an Agg canvas attached, never
through ``pyplot``: no global backend switch, no figure registry, so nothing to close and
nothing that leaks across a long training run. Every ``save_*`` function creates the parent
directories and writes its PNG atomically (a temporary file in the same directory, then
``os.replace``), so a run killed mid-save never leaves a truncated picture behind.
"""
import math

import numpy as np

from minigan.atomic import atomic_write

DPI = 100
# Small sample grids (a 4x4 MNIST grid is 122 px) are scaled up by a whole number of screen
# pixels per image pixel until the longer side reaches this, so they stay crisp and legible.
TARGET_GRID_PX = 512
TITLE_MARGIN_PX = 24
LABEL_FONT_PT = 9
# Width of one label character at LABEL_FONT_PT and DPI, rounded up, plus a gap to the image.
_LABEL_CHAR_PX = 8
_LABEL_GAP_PX = 8
# A loss curve longer than this is drawn per bin (min-max band, mean at the bin's end).
MAX_LINE_POINTS = 2000


def _as_array(x):
    """``x.numpy()`` when ``x`` has one (a minigan Tensor), else ``numpy.asarray(x)``."""
    numpy_method = getattr(x, "numpy", None)
    if callable(numpy_method):
        x = numpy_method()
    return np.asarray(x)


# ==================================================================== image grids

def make_grid(images, nrow=None, padding=2, pad_value=1.0):
    """Tile a batch of images into one picture, ``nrow`` images per row.

    Pixel values map from the generator's range to display range as
    ``y = clip((x + 1) / 2, 0, 1)``, so -1 is black and +1 is white. ``padding`` pixels of
    ``pad_value`` (a display value in [0, 1], default white) surround every image, the
    outer border included; slots after the last image in a partial last row are filled
    with ``pad_value`` too.

    Shape:
        - images: ``(N, C, H, W)`` with C in {1, 3}, or ``(N, H, W)``
        - output: ``(H', W')`` for one channel, ``(H', W', 3)`` for three, with
          ``rows = ceil(N / nrow)``, ``H' = rows * (H + padding) + padding`` and
          ``W' = nrow * (W + padding) + padding``. ``nrow`` defaults to ``ceil(sqrt(N))``.

    >>> make_grid(np.zeros((5, 1, 8, 8))).shape   # nrow = 3, rows = 2
    (22, 32)
    >>> make_grid(-np.ones((1, 2, 2)), padding=1, pad_value=0.5)
    array([[0.5, 0.5, 0.5, 0.5],
           [0.5, 0. , 0. , 0.5],
           [0.5, 0. , 0. , 0.5],
           [0.5, 0.5, 0.5, 0.5]])
    """
    x = _as_array(images)
    if x.ndim == 3:
        x = x[:, None]  # (N, H, W) -> (N, 1, H, W)
    if x.ndim != 4:
        raise ValueError(f"make_grid expects images of shape (N, C, H, W) or (N, H, W), "
                         f"got shape {x.shape}")
    N, C, H, W = x.shape
    if C not in (1, 3):
        raise ValueError(f"make_grid expects 1 (grey) or 3 (RGB) channels, got C={C} "
                         f"in shape {x.shape}")
    if N == 0:
        raise ValueError("make_grid got an empty batch (N=0)")
    if nrow is None:
        nrow = math.ceil(math.sqrt(N))
    if nrow < 1:
        raise ValueError(f"nrow must be >= 1, got {nrow}")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    rows = math.ceil(N / nrow)
    p = padding

    # Each slot is an image with its top and left padding; the bottom and right border
    # of the whole grid are added at the end.
    slots = np.full((rows * nrow, C, H + p, W + p), pad_value, dtype=np.float64)
    slots[:N, :, p:, p:] = np.clip((x + 1.0) / 2.0, 0.0, 1.0)
    slots = slots.reshape(rows, nrow, C, H + p, W + p)
    grid = slots.transpose(2, 0, 3, 1, 4)  # (rows, nrow, C, H+p, W+p) -> (C, rows, H+p, nrow, W+p)
    grid = grid.reshape(C, rows * (H + p), nrow * (W + p))
    grid = np.pad(grid, ((0, 0), (0, p), (0, p)), constant_values=pad_value)
    if C == 1:
        return grid[0]  # (1, H', W') -> (H', W')
    return grid.transpose(1, 2, 0)  # (3, H', W') -> (H', W', 3)


def _grid_scale(grid, scale):
    if scale is None:
        return max(1, math.ceil(TARGET_GRID_PX / max(grid.shape[:2])))
    if scale < 1 or int(scale) != scale:
        raise ValueError(f"scale must be a whole number >= 1, got {scale}")
    return int(scale)


def _save_grid(grid, path, title=None, labels=None, label_rows_px=None, scale=None, dpi=DPI):
    """Write a display-range grid pixel-exactly: ``scale`` screen pixels per grid pixel.

    The saved PNG is ``(H' * scale + title margin, W' * scale + label margin)`` pixels;
    the margins are zero without a title or labels. ``label_rows_px`` are the label
    centres in grid pixel rows.
    """
    scale = _grid_scale(grid, scale)
    img_h, img_w = grid.shape[0] * scale, grid.shape[1] * scale
    top = TITLE_MARGIN_PX if title else 0
    left = (_LABEL_GAP_PX + _LABEL_CHAR_PX * max(len(s) for s in labels)) if labels else 0
    fig_w, fig_h = left + img_w, top + img_h

    fig = _new_figure((fig_w / dpi, fig_h / dpi), dpi)
    ax = fig.add_axes((left / fig_w, 0.0, img_w / fig_w, img_h / fig_h))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0,
              interpolation="nearest", aspect="auto")
    ax.set_axis_off()
    if title:
        fig.text(0.5, 1.0 - top / 2 / fig_h, title, ha="center", va="center")
    if labels:
        for label, row_px in zip(labels, label_rows_px):
            y = 1.0 - (top + row_px * scale) / fig_h
            fig.text((left - _LABEL_GAP_PX / 2) / fig_w, y, label, ha="right", va="center",
                     fontsize=LABEL_FONT_PT)
    _save_figure(fig, path)


def save_image_grid(images, path, nrow=None, title=None, row_labels=None, padding=2,
                    scale=None, dpi=DPI):
    """Save ``make_grid(images, nrow, padding)`` as a PNG, greyscale for one channel.

    ``row_labels`` names each row of the grid at its left, e.g. one row per class for a
    conditional GAN: ``nrow`` samples of class 0, then of class 1, ... with
    ``row_labels=[str(k) for k in range(10)]``. There must be one label per grid row.

    The PNG shows each grid pixel as a ``scale x scale`` block (``scale`` defaults to the
    smallest whole number that makes the longer side at least ``TARGET_GRID_PX``), so
    without title or labels it is exactly ``(H' * scale, W' * scale)`` pixels; a title adds
    ``TITLE_MARGIN_PX`` on top, labels a margin on the left.

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_image_grid(np.zeros((4, 1, 28, 28)), os.path.join(d, "grid.png"), scale=2)
    """
    x = _as_array(images)
    grid = make_grid(x, nrow=nrow, padding=padding)
    labels = None
    label_rows_px = None
    if row_labels is not None:
        labels = [str(s) for s in row_labels]
        N, H = x.shape[0], x.shape[-2]
        rows = math.ceil(N / (nrow or math.ceil(math.sqrt(N))))
        if len(labels) != rows:
            raise ValueError(f"row_labels has {len(labels)} labels but the grid of {N} "
                             f"images has {rows} rows")
        # centre of grid row r: its top padding, r whole rows above it, half an image
        label_rows_px = [padding + r * (H + padding) + H / 2 for r in range(rows)]
    _save_grid(grid, path, title=title, labels=labels, label_rows_px=label_rows_px,
               scale=scale, dpi=dpi)


# ==================================================================== loss curves

def _loss_series(history):
    """``{name: (steps, values)}`` from ``{name: [v0, v1, ...]}`` or ``[{name: v}, ...]``.

    With a list of per-step dicts a loss may be missing at some steps (a critic logged
    five times per generator step, say); its steps are the indices where it is present.
    """
    if isinstance(history, dict):
        series = {}
        for name, values in history.items():
            v = np.array([float(_as_array(x)) for x in values])
            series[name] = (np.arange(len(v)), v)
    elif isinstance(history, (list, tuple)):
        steps, values = {}, {}
        for step, record in enumerate(history):
            if not isinstance(record, dict):
                raise TypeError(f"a loss history list must hold one dict per step, found "
                                f"{type(record).__name__} at step {step}")
            for name, x in record.items():
                steps.setdefault(name, []).append(step)
                values.setdefault(name, []).append(float(_as_array(x)))
        series = {name: (np.array(steps[name]), np.array(values[name])) for name in steps}
    else:
        raise TypeError(f"history must be a dict of name -> list of floats or a list of "
                        f"per-step dicts, got {type(history).__name__}")
    if not any(len(v) for _, v in series.values()):
        raise ValueError("history holds no loss values to plot")
    return series


def _moving_average(values, window):
    """Trailing mean ``m_i = mean(v[max(0, i - window + 1) : i + 1])``; same length as v.

    The first ``window - 1`` points average over what exists so far, so the smoothed
    curve starts at step 0 like the raw one.
    """
    c = np.concatenate([[0.0], np.cumsum(values)])
    hi = np.arange(1, len(values) + 1)
    lo = np.maximum(hi - window, 0)
    return (c[hi] - c[lo]) / (hi - lo)


def save_loss_curves(history, path, smooth=None, title=None, figsize=(6.4, 4.0), dpi=DPI):
    """Plot one line per loss against the training step, with a legend.

    ``history`` is ``{"loss_D": [...], "loss_G": [...]}`` (one value per step) or a list of
    per-step dicts ``[{"loss_D": ..., "loss_G": ...}, ...]``. GAN losses are noisy and do
    not fall steadily (notes 002: oscillating, uninformative loss), so ``smooth=k`` draws
    the raw values faintly with a trailing moving average of the last ``k`` logged values
    of each loss on top. A loss logged at more than ``MAX_LINE_POINTS`` steps is drawn per
    bin of consecutive steps: its raw values as the band between each bin's min and max,
    its moving average at each bin's last step (the PNG has fewer pixel columns than that,
    and drawing every point of a 60,000-step run took 2 s per picture). The PNG is
    ``figsize * dpi`` pixels.

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_loss_curves({"loss_D": [1.4, 1.2, 1.3], "loss_G": [0.7, 0.9, 0.8]},
    ...                      os.path.join(d, "loss.png"), smooth=2)
    """
    if smooth is not None and (int(smooth) != smooth or smooth < 1):
        raise ValueError(f"smooth must be None or a whole number of steps >= 1, got {smooth}")
    smoothing = smooth is not None and smooth > 1
    series = _loss_series(history)
    fig = _new_figure(figsize, dpi)
    ax = fig.add_subplot()
    for i, (name, (steps, values)) in enumerate(series.items()):
        color = f"C{i % 10}"
        raw = dict(color=color, alpha=0.25) if smoothing else dict(color=color, label=name)
        bins = _bins(len(values), MAX_LINE_POINTS)
        if bins is None:
            ax.plot(steps, values, linewidth=0.8 if smoothing else None, **raw)
        else:
            ax.fill_between(steps[bins[:, 1] - 1], np.minimum.reduceat(values, bins[:, 0]),
                            np.maximum.reduceat(values, bins[:, 0]), linewidth=0, **raw)
        if smoothing:
            mean = _moving_average(values, int(smooth))
            last = slice(None) if bins is None else bins[:, 1] - 1
            ax.plot(steps[last], mean[last], color=color,
                    label=f"{name} (mean of last {int(smooth)})")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    _save_figure(fig, path)


def _bins(n, max_points):
    """None when n ≤ max_points points can be drawn as they are; otherwise (B, 2) [start,
    stop) index pairs of B ≤ max_points / 2 bins of consecutive points covering 0..n (a
    min-max band has two vertices per bin)."""
    if n <= max_points:
        return None
    starts = np.arange(0, n, -(-n // (max_points // 2)))
    return np.stack([starts, np.append(starts[1:], n)], axis=1)


# ==================================================================== 2-D samples

def _points(x, what):
    x = _as_array(x).astype(np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{what} must have shape (N, 2), got {x.shape}")
    return x


def save_scatter_2d(samples, path, data=None, modes=None, title=None, figsize=(5.0, 5.0),
                    dpi=DPI):
    """Scatter generated 2-D points over real data, with the mixture's mode centres marked.

    The picture for toy mixtures (a ring or grid of Gaussians): mode collapse shows as
    generated points piling onto a few of the marked centres. ``samples``, ``data`` and
    ``modes`` are ``(N, 2)``, ``(M, 2)`` and ``(K, 2)``. The PNG is ``figsize * dpi`` pixels.

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_scatter_2d(np.zeros((10, 2)), os.path.join(d, "s.png"), modes=[[0, 0]])
    """
    samples = _points(samples, "samples")
    fig = _new_figure(figsize, dpi)
    ax = fig.add_subplot()
    if data is not None:
        data = _points(data, "data")
        ax.scatter(data[:, 0], data[:, 1], s=4, color="0.75", label="real")
    ax.scatter(samples[:, 0], samples[:, 1], s=4, color="C0", alpha=0.6, label="generated")
    if modes is not None:
        modes = _points(modes, "modes")
        ax.scatter(modes[:, 0], modes[:, 1], s=60, marker="x", color="C3",
                   label="mode centres")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    # below the axes, so it never hides a mode; equal-size markers so tiny dots show
    legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    for handle in legend.legend_handles:
        handle.set_sizes([30])
    if title:
        ax.set_title(title)
    fig.tight_layout()
    _save_figure(fig, path)


# ==================================================================== latent walks

def interpolate_latents(z0, z1, steps, mode="linear"):
    """``steps`` points from ``z0`` to ``z1`` (both included), for a walk in the latent space.

    ``z0`` and ``z1`` are one latent each, of any shape; slerp treats each as one flattened
    vector. With ``t_k = k / (steps - 1)``:

    .. math::
        \\text{linear:}\\quad z(t) = (1 - t) z_0 + t z_1

        \\text{slerp:}\\quad z(t) = \\frac{\\sin((1 - t)\\Omega)}{\\sin\\Omega} z_0
                                  + \\frac{\\sin(t\\Omega)}{\\sin\\Omega} z_1,
        \\qquad \\cos\\Omega = \\frac{\\langle z_0, z_1 \\rangle}{\\lVert z_0\\rVert \\lVert z_1\\rVert}

    For ``|z0| = |z1|`` slerp moves along the circle of that radius through both at
    constant angular speed, so every point keeps that norm: Gaussian latents live near a sphere of radius
    ``sqrt(dim)``, and the linear midpoint, shorter by ``cos(Omega / 2)``, falls inside it,
    where the generator saw few samples. Where ``sin(Omega)`` is ~0 (parallel or
    antiparallel latents, or a zero one) the formula is 0/0 and this falls back to linear.
    See notes 001, "Walking in the latent space".

    Shape:
        - z0, z1: any shape ``S``, the same for both
        - output: ``(steps, *S)``, float32 for float32 inputs, float64 otherwise

    >>> interpolate_latents(np.array([0.0, 2.0]), np.array([2.0, 0.0]), 3)
    array([[0., 2.],
           [1., 1.],
           [2., 0.]])
    >>> interpolate_latents(np.array([0.0, 2.0]), np.array([2.0, 0.0]), 3, mode="slerp")[1]
    array([1.41421356, 1.41421356])
    """
    z0, z1 = _as_array(z0), _as_array(z1)
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, got {z0.shape} and {z1.shape}")
    if mode not in ("linear", "slerp"):
        raise ValueError(f"mode must be 'linear' or 'slerp', got {mode!r}")
    if steps < 1 or int(steps) != steps:
        raise ValueError(f"steps must be a whole number >= 1, got {steps}")
    dtype = np.result_type(z0.dtype, z1.dtype, np.float32)
    a = z0.astype(np.float64).reshape(-1)  # S -> (D,)
    b = z1.astype(np.float64).reshape(-1)  # S -> (D,)
    t = np.linspace(0.0, 1.0, int(steps))[:, None]  # (steps, 1)

    w0, w1 = 1.0 - t, t
    if mode == "slerp":
        norms = np.linalg.norm(a) * np.linalg.norm(b)
        if norms > 0.0:
            omega = np.arccos(np.clip(a @ b / norms, -1.0, 1.0))
            if np.sin(omega) > 1e-6:
                w0 = np.sin((1.0 - t) * omega) / np.sin(omega)
                w1 = np.sin(t * omega) / np.sin(omega)
    z = w0 * a + w1 * b  # (steps, 1) * (D,) -> (steps, D)
    return z.reshape((int(steps),) + z0.shape).astype(dtype)  # (steps, D) -> (steps, *S)


def save_interpolation_strip(images, path, title=None, padding=2, scale=None, dpi=DPI):
    """Save images as a single row, left to right: the generator's outputs along a latent walk.

    Same pixel layout as ``save_image_grid`` with ``nrow = len(images)``.

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_interpolation_strip(np.zeros((8, 28, 28)), os.path.join(d, "walk.png"))
    """
    x = _as_array(images)
    grid = make_grid(x, nrow=len(x), padding=padding)
    _save_grid(grid, path, title=title, scale=scale, dpi=dpi)


# ==================================================================== files

def _new_figure(figsize, dpi):
    """A ``Figure`` with an Agg canvas. matplotlib is imported here, not at the top: it
    takes ~0.6 s, which every ``python -m minigan`` command and every script importing
    minigan.models would pay whether or not it draws."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _save_figure(fig, path):
    """Write ``fig`` as a PNG at ``path`` atomically (see minigan.atomic)."""
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=fig.dpi)
