"""Tests for minigan.viz: grid layout, PNG files, loss-history handling, latent interpolation.

Expected grid shapes are computed by hand from the padding arithmetic; grid contents are
checked against a loop-per-image reference; interpolation against closed forms.
"""
import math
import os
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest

from minigan import viz

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _read_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC, f"{path} is not a PNG"
    return matplotlib.image.imread(path)


def _make_grid_reference(images, nrow, padding, pad_value):
    """Slow, obviously-correct grid: start from pad_value, paste each image at its slot."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 3:
        x = x[:, None]
    N, C, H, W = x.shape
    rows = -(-N // nrow)
    p = padding
    canvas = np.full((C, rows * (H + p) + p, nrow * (W + p) + p), pad_value)
    for k in range(N):
        r, c = divmod(k, nrow)
        top, left = p + r * (H + p), p + c * (W + p)
        for ch in range(C):
            for i in range(H):
                for j in range(W):
                    canvas[ch, top + i, left + j] = min(max((x[k, ch, i, j] + 1) / 2, 0), 1)
    return canvas[0] if C == 1 else canvas.transpose(1, 2, 0)


class _TensorLike:
    """Stands in for a minigan Tensor: converts only through .numpy()."""

    def __init__(self, array):
        self._array = array

    def numpy(self):
        return self._array


# ==================================================================== make_grid

@pytest.mark.parametrize("images_shape, kwargs, expected", [
    # N=1, nrow=ceil(sqrt(1))=1: 2 + 28 + 2 = 32 each way
    ((1, 1, 28, 28), {}, (32, 32)),
    # N=5, nrow=ceil(sqrt(5))=3, rows=2: H' = 2*(8+2)+2 = 22, W' = 3*(6+2)+2 = 26
    ((5, 3, 8, 6), {}, (22, 26, 3)),
    # N=16 as (N, H, W), padding 1, nrow=4: H' = 4*(10+1)+1 = 45, W' = 4*(12+1)+1 = 53
    ((16, 10, 12), {"padding": 1}, (45, 53)),
    # N=5, nrow=2, rows=3, no padding: H' = 3*7 = 21, W' = 2*9 = 18
    ((5, 1, 7, 9), {"nrow": 2, "padding": 0}, (21, 18)),
    # N=5, nrow=8 (wider than N): one row, 8 slots: H' = 1*(4+3)+3 = 10, W' = 8*(4+3)+3 = 59
    ((5, 1, 4, 4), {"nrow": 8, "padding": 3}, (10, 59)),
])
def test_make_grid_shape(images_shape, kwargs, expected):
    assert viz.make_grid(np.zeros(images_shape), **kwargs).shape == expected


def test_make_grid_value_mapping_and_clipping():
    x = np.array([-1.0, 1.0, 0.0, 0.5, -3.0, 7.0]).reshape(1, 1, 1, 6)
    grid = viz.make_grid(x, padding=0)
    np.testing.assert_allclose(grid, [[0.0, 1.0, 0.5, 0.75, 0.0, 1.0]])


def test_make_grid_padding_value():
    p, H, W = 2, 3, 4
    grid = viz.make_grid(np.zeros((4, 1, H, W)), nrow=2, padding=p, pad_value=0.25)
    # image k's slot starts at p + r*(H+p), p + c*(W+p); everything else is padding
    is_image = np.zeros(grid.shape, dtype=bool)
    for r in range(2):
        for c in range(2):
            is_image[p + r * (H + p): p + r * (H + p) + H, p + c * (W + p): p + c * (W + p) + W] = True
    assert is_image.sum() == 4 * H * W
    np.testing.assert_array_equal(grid[~is_image], 0.25)
    np.testing.assert_array_equal(grid[is_image], 0.5)


def test_make_grid_partial_last_row():
    # 5 images, 3 per row: image k filled with value k/10 mapped to (k/10 + 1)/2
    H, W, p = 4, 5, 1
    x = np.stack([np.full((1, H, W), k / 10) for k in range(5)])
    grid = viz.make_grid(x, nrow=3, padding=p, pad_value=0.0)
    for k in range(5):
        r, c = divmod(k, 3)
        tile = grid[p + r * (H + p): p + r * (H + p) + H, p + c * (W + p): p + c * (W + p) + W]
        np.testing.assert_allclose(tile, (k / 10 + 1) / 2)
    # the sixth slot (row 1, column 2) is blank
    r, c = 1, 2
    np.testing.assert_array_equal(
        grid[r * (H + p): (r + 1) * (H + p) + p, c * (W + p): (c + 1) * (W + p) + p], 0.0)


@pytest.mark.parametrize("shape, nrow, padding, pad_value", [
    ((7, 1, 5, 3), 3, 2, 1.0),
    ((7, 3, 5, 3), 4, 1, 0.0),
    ((3, 6, 6), None, 0, 0.5),
    ((1, 3, 2, 2), 5, 3, 0.2),
])
def test_make_grid_matches_loop_reference(shape, nrow, padding, pad_value):
    x = np.random.default_rng(0).uniform(-1.5, 1.5, size=shape)
    expected_nrow = nrow if nrow is not None else math.ceil(math.sqrt(shape[0]))
    np.testing.assert_allclose(
        viz.make_grid(x, nrow=nrow, padding=padding, pad_value=pad_value),
        _make_grid_reference(x, expected_nrow, padding, pad_value))


def test_make_grid_accepts_tensor_like_and_lists():
    x = np.linspace(-1, 1, 2 * 3 * 3).reshape(2, 3, 3)
    expected = _make_grid_reference(x, 2, 2, 1.0)
    np.testing.assert_allclose(viz.make_grid(_TensorLike(x)), expected)
    np.testing.assert_allclose(viz.make_grid(x.tolist()), expected)


@pytest.mark.parametrize("shape, kwargs, message", [
    ((4, 4), {}, "shape"),
    ((1, 1, 1, 4, 4), {}, "shape"),
    ((2, 2, 4, 4), {}, "C=2"),
    ((0, 1, 4, 4), {}, "empty"),
    ((2, 1, 4, 4), {"nrow": 0}, "nrow"),
])
def test_make_grid_rejects_bad_input(shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.make_grid(np.zeros(shape), **kwargs)


# ==================================================================== image PNGs

def test_save_image_grid_pixel_size_and_content(tmp_path):
    # image 0 all -1 (black), image 1 all 0 (grey 0.5); padding white
    H, W, p, scale = 6, 6, 2, 3
    x = np.stack([np.full((1, H, W), -1.0), np.zeros((1, H, W))])
    path = tmp_path / "grid.png"
    viz.save_image_grid(x, path, nrow=2, scale=scale)
    img = _read_png(path)
    # grid: H' = 1*(6+2)+2 = 10, W' = 2*(6+2)+2 = 18, each pixel a 3x3 block
    assert img.shape[:2] == (10 * scale, 18 * scale)
    # centre of each tile, in grid pixels, times scale
    cy = (p + H // 2) * scale
    black = img[cy, (p + W // 2) * scale, :3]
    grey = img[cy, (p + (W + p) + W // 2) * scale, :3]
    border = img[0, 0, :3]
    np.testing.assert_allclose(black, 0.0, atol=1 / 255)
    np.testing.assert_allclose(grey, 0.5, atol=1 / 255)
    np.testing.assert_allclose(border, 1.0, atol=1 / 255)


@pytest.mark.parametrize("n, hw", [(1, 29), (3, 57), (10, 113)])
def test_save_image_grid_exact_size_for_awkward_widths(tmp_path, n, hw):
    # widths like 29, 57, 113 px are where w / dpi * dpi rounds below w in floating point
    path = tmp_path / "g.png"
    viz.save_image_grid(np.zeros((n, hw - 4, hw - 4)), path, nrow=1, scale=1)
    # one column, padding 2: W' = (hw-4) + 2 + 2 = hw, H' = n*(hw-2) + 2
    assert _read_png(path).shape[:2] == (n * (hw - 2) + 2, hw)


def test_save_image_grid_default_scale_reaches_target(tmp_path):
    path = tmp_path / "g.png"
    viz.save_image_grid(np.zeros((16, 1, 28, 28)), path)
    # grid 4*(28+2)+2 = 122 px; smallest whole scale with 122*s >= target
    s = math.ceil(viz.TARGET_GRID_PX / 122)
    assert _read_png(path).shape[:2] == (122 * s, 122 * s)


def test_save_image_grid_rgb_title_and_row_labels(tmp_path):
    x = np.zeros((20, 3, 8, 8))
    plain, labelled = tmp_path / "plain.png", tmp_path / "labelled.png"
    viz.save_image_grid(x, plain, nrow=2, scale=2)
    viz.save_image_grid(x, labelled, nrow=2, scale=2, title="CGAN samples",
                        row_labels=[str(k) for k in range(10)])
    h0, w0 = _read_png(plain).shape[:2]
    h1, w1 = _read_png(labelled).shape[:2]
    # 10 rows of 2: H' = 10*(8+2)+2 = 102, W' = 2*(8+2)+2 = 22
    assert (h0, w0) == (204, 44)
    assert h1 == h0 + viz.TITLE_MARGIN_PX
    assert w1 > w0


def test_save_image_grid_rejects_wrong_number_of_row_labels(tmp_path):
    with pytest.raises(ValueError, match="3 labels.*10 rows"):
        viz.save_image_grid(np.zeros((20, 8, 8)), tmp_path / "g.png", nrow=2,
                            row_labels=["a", "b", "c"])
    assert not (tmp_path / "g.png").exists()


def test_save_interpolation_strip_is_one_row(tmp_path):
    path = tmp_path / "walk.png"
    viz.save_interpolation_strip(np.zeros((9, 1, 28, 28)), path, scale=1)
    # one row of 9: H' = 28 + 4 = 32, W' = 9*(28+2)+2 = 272
    assert _read_png(path).shape[:2] == (32, 272)


# ==================================================================== loss curves and scatter

def test_save_loss_curves_from_dict(tmp_path):
    rng = np.random.default_rng(1)
    history = {"loss_D": list(rng.uniform(0, 2, 200)), "loss_G": list(rng.uniform(0, 2, 200))}
    path = tmp_path / "loss.png"
    viz.save_loss_curves(history, path, smooth=20, figsize=(5.0, 3.0), dpi=80)
    assert _read_png(path).shape[:2] == (3 * 80, 5 * 80)


def test_save_loss_curves_from_list_of_dicts(tmp_path):
    # critic logged every step, generator every 5th, as in WGAN's n_critic = 5
    history = [dict(loss_C=float(-i), **({"loss_G": float(i)} if i % 5 == 0 else {}))
               for i in range(20)]
    path = tmp_path / "sub" / "dir" / "loss.png"
    viz.save_loss_curves(history, path)
    assert _read_png(path).shape[:2] == (400, 640)


def test_long_loss_curves_are_drawn_per_bin_and_keep_every_extreme(tmp_path, monkeypatch):
    bins = viz._bins(10_001, 2000)
    assert len(bins) <= 1000 and bins[0, 0] == 0 and bins[-1, 1] == 10_001
    np.testing.assert_array_equal(bins[1:, 0], bins[:-1, 1])     # consecutive, no gaps
    assert viz._bins(2000, 2000) is None                          # short: every point
    figures = []
    monkeypatch.setattr(viz, "_save_figure", lambda fig, path: figures.append(fig))
    values = np.zeros(10_000)
    values[5003], values[7777] = 10.0, -3.0       # one-step spikes a thinned line would skip
    viz.save_loss_curves({"loss_D": list(values)}, tmp_path / "loss.png", smooth=50)
    (ax,) = figures[0].axes
    (band,) = ax.collections
    heights = band.get_paths()[0].vertices[:, 1]
    assert heights.max() == 10.0 and heights.min() == -3.0
    (mean,) = ax.lines
    assert len(mean.get_xdata()) <= viz.MAX_LINE_POINTS
    # the drawn mean is the moving average itself, read at the bins' last steps
    full = viz._moving_average(values, 50)
    np.testing.assert_allclose(mean.get_ydata(), full[mean.get_xdata()])


def test_loss_series_steps_for_sparse_losses():
    series = viz._loss_series([{"a": 1.0, "b": 2.0}, {"a": 3.0}, {"a": 5.0, "b": 6.0}])
    np.testing.assert_array_equal(series["a"][0], [0, 1, 2])
    np.testing.assert_array_equal(series["a"][1], [1.0, 3.0, 5.0])
    np.testing.assert_array_equal(series["b"][0], [0, 2])
    np.testing.assert_array_equal(series["b"][1], [2.0, 6.0])


def test_loss_series_accepts_scalar_tensors():
    series = viz._loss_series({"d": [_TensorLike(np.float32(0.5)), np.array(1.5)]})
    np.testing.assert_array_equal(series["d"][1], [0.5, 1.5])


@pytest.mark.parametrize("window", [1, 3, 10, 50])
def test_moving_average_matches_formula(window):
    v = np.random.default_rng(2).normal(size=37)
    expected = [v[max(0, i - window + 1): i + 1].mean() for i in range(len(v))]
    np.testing.assert_allclose(viz._moving_average(v, window), expected)


@pytest.mark.parametrize("history, smooth, error", [
    ({}, None, ValueError),
    ({"d": []}, None, ValueError),
    ({"d": [1.0]}, 0, ValueError),
    ({"d": [1.0]}, 2.5, ValueError),
    ("loss", None, TypeError),
    ([1.0, 2.0], None, TypeError),
])
def test_save_loss_curves_rejects_bad_input(tmp_path, history, smooth, error):
    with pytest.raises(error):
        viz.save_loss_curves(history, tmp_path / "loss.png", smooth=smooth)


def test_save_scatter_2d(tmp_path):
    rng = np.random.default_rng(3)
    angles = 2 * np.pi * np.arange(8) / 8
    modes = 2 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    data = modes[rng.integers(0, 8, 500)] + 0.05 * rng.normal(size=(500, 2))
    samples = modes[rng.integers(0, 2, 300)] + 0.05 * rng.normal(size=(300, 2))
    path = tmp_path / "scatter.png"
    viz.save_scatter_2d(samples, path, data=data, modes=modes, title="8 Gaussians",
                        figsize=(4.0, 4.0), dpi=50)
    assert _read_png(path).shape[:2] == (200, 200)


@pytest.mark.parametrize("kwargs", [{"samples": np.zeros((5, 3))},
                                    {"samples": np.zeros((5, 2)), "data": np.zeros(4)},
                                    {"samples": np.zeros((5, 2)), "modes": np.zeros((2, 1))}])
def test_save_scatter_2d_rejects_non_2d_points(tmp_path, kwargs):
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        viz.save_scatter_2d(path=tmp_path / "s.png", **kwargs)


# ==================================================================== atomic writes

def test_save_overwrites_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "grid.png"
    path.write_bytes(b"old, not a png")
    viz.save_image_grid(np.zeros((4, 8, 8)), path, scale=1)
    _read_png(path)
    assert os.listdir(tmp_path) == ["grid.png"]


def test_failed_save_leaves_no_temp_file(tmp_path):
    target = tmp_path / "taken"
    (target / "inside").mkdir(parents=True)  # a non-empty directory: os.replace must fail
    with pytest.raises(OSError):
        viz.save_image_grid(np.zeros((4, 8, 8)), target, scale=1)
    assert sorted(os.listdir(tmp_path)) == ["taken"]
    assert os.listdir(target) == ["inside"]


def test_viz_never_touches_pyplot(tmp_path):
    # pyplot holds global state (backend, open-figure registry); viz must not load it
    code = ("import sys, numpy as np; from minigan import viz; "
            f"viz.save_image_grid(np.zeros((4, 8, 8)), {str(tmp_path / 'g.png')!r}); "
            f"viz.save_loss_curves({{'d': [1.0, 2.0]}}, {str(tmp_path / 'l.png')!r}); "
            "assert 'matplotlib.pyplot' not in sys.modules")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


# ==================================================================== interpolate_latents

@pytest.mark.parametrize("mode", ["linear", "slerp"])
def test_interpolation_endpoints_and_shape(mode):
    rng = np.random.default_rng(4)
    z0, z1 = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    z = viz.interpolate_latents(z0, z1, 7, mode=mode)
    assert z.shape == (7, 2, 3)
    np.testing.assert_allclose(z[0], z0, atol=1e-12)
    np.testing.assert_allclose(z[-1], z1, atol=1e-12)


def test_linear_midpoint_is_mean_and_steps_are_even():
    rng = np.random.default_rng(5)
    z0, z1 = rng.normal(size=16), rng.normal(size=16)
    z = viz.interpolate_latents(z0, z1, 5)
    np.testing.assert_allclose(z[2], (z0 + z1) / 2)
    np.testing.assert_allclose(np.diff(z, axis=0), np.tile((z1 - z0) / 4, (4, 1)))


def test_slerp_orthogonal_unit_vectors():
    # Omega = pi/2: z(t) = cos(t pi/2) e1 + sin(t pi/2) e2
    e1, e2 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    z = viz.interpolate_latents(e1, e2, 3, mode="slerp")
    np.testing.assert_allclose(z[1], [1 / math.sqrt(2), 1 / math.sqrt(2), 0.0])


def test_slerp_midpoint_closed_form_and_norm_for_equal_norms():
    rng = np.random.default_rng(6)
    z0 = rng.normal(size=100)
    z1 = rng.normal(size=100)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    omega = math.acos(z0 @ z1 / (z0 @ z0))
    z = viz.interpolate_latents(z0, z1, 9, mode="slerp")
    # sin(Omega/2) / sin(Omega) = 1 / (2 cos(Omega/2))
    np.testing.assert_allclose(z[4], (z0 + z1) / (2 * math.cos(omega / 2)))
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.linalg.norm(z0))
    # the linear midpoint is shorter by cos(Omega/2)
    lin = viz.interpolate_latents(z0, z1, 9)[4]
    np.testing.assert_allclose(np.linalg.norm(lin), np.linalg.norm(z0) * math.cos(omega / 2))


def test_slerp_constant_angular_speed_for_equal_norms():
    rng = np.random.default_rng(7)
    z0, z1 = rng.normal(size=8), rng.normal(size=8)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    z = viz.interpolate_latents(z0, z1, 6, mode="slerp")
    u = z / np.linalg.norm(z, axis=1, keepdims=True)
    step_angles = np.arccos(np.clip(np.sum(u[1:] * u[:-1], axis=1), -1, 1))
    omega = math.acos(z0 @ z1 / (np.linalg.norm(z0) * np.linalg.norm(z1)))
    np.testing.assert_allclose(step_angles, omega / 5, rtol=1e-6)


@pytest.mark.parametrize("z0, z1", [
    (np.array([1.0, 2.0]), np.array([2.0, 4.0])),     # parallel: Omega = 0
    (np.array([1.0, 2.0]), np.array([-1.0, -2.0])),   # antiparallel: Omega = pi
    (np.zeros(2), np.array([1.0, 2.0])),              # zero vector: Omega undefined
])
def test_slerp_falls_back_to_linear_when_sin_omega_vanishes(z0, z1):
    z = viz.interpolate_latents(z0, z1, 5, mode="slerp")
    t = np.linspace(0, 1, 5)[:, None]
    np.testing.assert_allclose(z, (1 - t) * z0 + t * z1)


def test_interpolation_dtype_and_tensor_like():
    z0 = np.ones(4, dtype=np.float32)
    z1 = -np.ones(4, dtype=np.float32)
    assert viz.interpolate_latents(z0, z1, 3).dtype == np.float32
    assert viz.interpolate_latents(z0.astype(np.float64), z1, 3).dtype == np.float64
    z = viz.interpolate_latents(_TensorLike(z0), _TensorLike(z1), 3)
    np.testing.assert_array_equal(z[1], np.zeros(4))


@pytest.mark.parametrize("kwargs, message", [
    ({"z1": np.zeros(3)}, "same shape"),
    ({"mode": "cubic"}, "mode"),
    ({"steps": 0}, "steps"),
])
def test_interpolation_rejects_bad_input(kwargs, message):
    args = {"z0": np.zeros(4), "z1": np.ones(4), "steps": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        viz.interpolate_latents(**args)
