"""cnnlab.affine: the forward maps and the resampler, against hand-computed cases and an
independent per-pixel loop written from the formulas."""
from __future__ import annotations

import math

import numpy as np
import pytest

from cnnlab.affine import forward_matrices, warp


def _m(n=1, **kw):
    args = dict(rotation=0.0, x_scale=1.0, y_scale=1.0, x_shear=0.0, y_shear=0.0,
                x_translation=0.0, y_translation=0.0, x_reflection=False, y_reflection=False)
    args.update(kw)
    return forward_matrices(*(np.full(n, v) for v in args.values()))


def _image(h=4, w=5, c=1, seed=0):
    return np.random.default_rng(seed).integers(0, 9, (1, h, w, c)).astype(float)


def test_identity_copies_exactly():
    x = _image(5, 6, 3)
    np.testing.assert_array_equal(warp(x, _m()), x)


def test_rotation_by_90_is_rot90_counterclockwise_and_270_clockwise():
    x = _image(5, 5, 2)
    np.testing.assert_array_equal(warp(x, _m(rotation=90.0)), np.rot90(x, 1, axes=(1, 2)))
    np.testing.assert_array_equal(warp(x, _m(rotation=-90.0)), np.rot90(x, -1, axes=(1, 2)))
    np.testing.assert_array_equal(warp(x, _m(rotation=180.0)), x[:, ::-1, ::-1])


def test_integer_translation_shifts_and_fills():
    x = np.arange(12.0).reshape(1, 3, 4, 1)
    out = warp(x, _m(x_translation=2.0, y_translation=-1.0), fill_value=-7)[0, :, :, 0]
    # content moves 2 right and 1 up: out[r, c] = x[r + 1, c - 2]
    expected = np.array([[-7, -7, 4, 5], [-7, -7, 8, 9], [-7, -7, -7, -7]], float)
    np.testing.assert_array_equal(out, expected)


def test_half_pixel_translation_averages_neighbours():
    x = np.array([[0.0, 2.0, 4.0]]).reshape(1, 1, 3, 1)
    out = warp(x, _m(x_translation=0.5), fill_value=10.0)[0, 0, :, 0]
    np.testing.assert_allclose(out, [(10 + 0) / 2, (0 + 2) / 2, (2 + 4) / 2])
    nearest = warp(x, _m(x_translation=0.5), fill_value=10.0, interpolation="nearest")
    # source positions -0.5, 0.5, 1.5 round half up to 0, 1, 2
    np.testing.assert_array_equal(nearest[0, 0, :, 0], [0, 2, 4])


def test_reflections_are_flips():
    x = _image(3, 4, 2)
    np.testing.assert_array_equal(warp(x, _m(x_reflection=True)), x[:, :, ::-1])
    np.testing.assert_array_equal(warp(x, _m(y_reflection=True)), x[:, ::-1])


def test_scale_two_about_the_centre():
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    out = warp(x, _m(x_scale=2.0, y_scale=2.0))[0, :, :, 0]
    # output pixel (r, c) reads input (2 + (r - 2)/2, 2 + (c - 2)/2); the centre stays put
    assert out[2, 2] == x[0, 2, 2, 0]
    assert out[0, 0] == x[0, 1, 1, 0]                     # exactly on a pixel
    assert out[0, 1] == pytest.approx((x[0, 1, 1, 0] + x[0, 1, 2, 0]) / 2)


def _loop_warp(img, theta_deg, sx, sy, tx, ty, fill):
    """An independent reference: per pixel, the inverse of T·S·R written out by hand."""
    h, w = img.shape
    cx, cy = (w - 1) / 2, (h - 1) / 2
    t = math.radians(theta_deg)
    out = np.empty((h, w))
    for r in range(h):
        for c in range(w):
            u, v = (c - cx - tx) / sx, (r - cy - ty) / sy      # undo T, then S
            # undo R (R = [[cos, sin], [-sin, cos]]; its inverse is its transpose)
            x = math.cos(t) * u - math.sin(t) * v + cx
            y = math.sin(t) * u + math.cos(t) * v + cy
            x0, y0 = math.floor(x), math.floor(y)
            acc = 0.0
            for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
                weight = (1 - abs(x - (x0 + dx))) * (1 - abs(y - (y0 + dy)))
                yy, xx = y0 + dy, x0 + dx
                acc += weight * (img[yy, xx] if 0 <= yy < h and 0 <= xx < w else fill)
            out[r, c] = acc
    return out


def test_general_map_matches_a_per_pixel_loop():
    x = _image(6, 7, 1, seed=3)
    m = _m(rotation=30.0, x_scale=1.3, y_scale=0.8, x_translation=0.7, y_translation=-1.2)
    got = warp(x, m, fill_value=2.5)[0, :, :, 0]
    np.testing.assert_allclose(got, _loop_warp(x[0, :, :, 0], 30.0, 1.3, 0.8, 0.7, -1.2, 2.5),
                               rtol=0, atol=1e-12)


def test_shear_moves_rows_sideways():
    x = np.zeros((1, 5, 5, 1))
    x[0, :, 2, 0] = 1.0                                  # a vertical line through the centre
    out = warp(x, _m(x_shear=45.0))[0, :, :, 0]          # x' = x + tan 45° · y
    for r in range(5):                                   # row r moves r - 2 to the right
        assert out[r, 2 + (r - 2)] == 1.0 and out[r].sum() == 1.0


def test_per_channel_fill_and_bad_interpolation():
    x = np.zeros((1, 2, 2, 2))
    out = warp(x, _m(x_translation=5.0), fill_value=(1.0, 2.0))
    np.testing.assert_array_equal(out[0, :, :, 0], 1.0)
    np.testing.assert_array_equal(out[0, :, :, 1], 2.0)
    with pytest.raises(ValueError, match="interpolation = 'cubic'"):
        warp(x, _m(), interpolation="cubic")
