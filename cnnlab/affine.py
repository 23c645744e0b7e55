"""Affine maps of images: the geometry behind ``cnnlab.ImageDataAugmenter``.

Coordinates are pixel centres, x to the right (columns) and y DOWN (rows), as an image is
displayed; the origin is the image centre ((W − 1)/2, (H − 1)/2), so that a 90° rotation or
a reflection of a square image maps pixel centres exactly onto pixel centres.

The forward map of one image, applied to a point p (relative to the centre), is

    p' = T + Sh · S · R · F · p

    F  = diag(−1 or 1, −1 or 1)              reflection left-right (x) and/or up-down (y)
    R  = [[cos θ,  sin θ], [−sin θ, cos θ]]  rotation by θ, COUNTERCLOCKWISE on screen for
                                             θ > 0 (y points down; MATLAB's imrotate, PIL's
                                             Image.rotate and np.rot90 turn the same way)
    S  = diag(sx, sy)                        scale: > 1 makes the content bigger
    Sh = [[1, tan a], [tan b, 1]]            shear: a = x_shear, b = y_shear (degrees)
    T  = (tx, ty)                            translation: content moves right / down

so a point is reflected first, then rotated, scaled, sheared and translated. The output
image has the input's size: output pixel q takes the input's value at
p = (Sh·S·R·F)⁻¹ · (q − T) (inverse mapping: every output pixel gets exactly one value, and
there are no holes), read with bilinear interpolation (or nearest neighbour); points outside
the input read ``fill_value``.

    >>> import numpy as np
    >>> m = forward_matrices(np.array([90.0]), np.ones(1), np.ones(1), np.zeros(1),
    ...                      np.zeros(1), np.zeros(1), np.zeros(1), np.array([False]),
    ...                      np.array([False]))
    >>> np.round(m[0], 12) + 0.0      # x' = y, y' = -x: the point right of centre goes up
    array([[ 0.,  1.,  0.],
           [-1.,  0.,  0.],
           [ 0.,  0.,  1.]])
"""
from __future__ import annotations

import numpy as np

INTERPOLATIONS = ("bilinear", "nearest")
# sampling positions closer than this to a whole pixel are snapped onto it: a 90° rotation
# computes cos 90° = 6e-17, not 0, and must still copy pixels exactly
_SNAP = 1e-6


def forward_matrices(rotation, x_scale, y_scale, x_shear, y_shear, x_translation,
                     y_translation, x_reflection, y_reflection) -> np.ndarray:
    """N forward maps as N×3×3 homogeneous matrices (angles in degrees, see module docstring).

    Each argument is a length-N array (booleans for the reflections).
    """
    theta = np.deg2rad(np.asarray(rotation, float))
    n = theta.shape[0]
    c, s = np.cos(theta), np.sin(theta)
    rot = np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2)          # N×2×2
    flip = np.zeros((n, 2, 2))
    flip[:, 0, 0] = np.where(x_reflection, -1.0, 1.0)
    flip[:, 1, 1] = np.where(y_reflection, -1.0, 1.0)
    scale = np.zeros((n, 2, 2))
    scale[:, 0, 0], scale[:, 1, 1] = x_scale, y_scale
    shear = np.tile(np.eye(2), (n, 1, 1))
    shear[:, 0, 1] = np.tan(np.deg2rad(np.asarray(x_shear, float)))
    shear[:, 1, 0] = np.tan(np.deg2rad(np.asarray(y_shear, float)))
    m = np.zeros((n, 3, 3))
    m[:, :2, :2] = shear @ scale @ rot @ flip
    m[:, 0, 2], m[:, 1, 2] = x_translation, y_translation
    m[:, 2, 2] = 1.0
    return m


def warp(images: np.ndarray, matrices: np.ndarray, *, fill_value=0.0,
         interpolation: str = "bilinear") -> np.ndarray:
    """Apply forward map ``matrices[n]`` (N×3×3, centred pixel coordinates) to ``images[n]``.

    images: N×H×W×C (any real dtype); returns float64 N×H×W×C. ``fill_value``: a number, or
    one number per channel, for the output pixels whose source lies outside the image. All
    images at once: numpy fancy indexing, no loop over pixels.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation = {interpolation!r}: expected one of "
                         f"{', '.join(map(repr, INTERPOLATIONS))}")
    n, h, w, c = images.shape
    fill = np.broadcast_to(np.asarray(fill_value, float), (c,))
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    # output pixel centres relative to the image centre, minus the translation
    ys, xs = np.mgrid[0:h, 0:w].astype(float)
    qx = xs[None] - cx - matrices[:, 0, 2, None, None]
    qy = ys[None] - cy - matrices[:, 1, 2, None, None]
    inv = np.linalg.inv(matrices[:, :2, :2])                                   # N×2×2
    # p = A⁻¹ (q − T), back to absolute pixel coordinates of the input
    px = inv[:, 0, 0, None, None] * qx + inv[:, 0, 1, None, None] * qy + cx
    py = inv[:, 1, 0, None, None] * qx + inv[:, 1, 1, None, None] * qy + cy
    px = np.where(np.abs(px - np.rint(px)) < _SNAP, np.rint(px), px)
    py = np.where(np.abs(py - np.rint(py)) < _SNAP, np.rint(py), py)
    batch = np.arange(n)[:, None, None]
    src = images.astype(float, copy=False)

    def read(yy, xx):
        """images[n, yy, xx, :] where inside, else the fill value: N×H×W×C."""
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        v = src[batch, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
        return np.where(inside[..., None], v, fill)

    if interpolation == "nearest":
        # round half up (floor(x + 0.5)): the same for every image, whatever numpy's rint does
        return read(np.floor(py + 0.5).astype(np.intp), np.floor(px + 0.5).astype(np.intp))
    x0, y0 = np.floor(px), np.floor(py)
    fx, fy = (px - x0)[..., None], (py - y0)[..., None]
    x0, y0 = x0.astype(np.intp), y0.astype(np.intp)
    # bilinear: weights (1−fx)(1−fy), fx(1−fy), (1−fx)fy, fx·fy on the four neighbours
    top = read(y0, x0) * (1 - fx) + read(y0, x0 + 1) * fx
    bottom = read(y0 + 1, x0) * (1 - fx) + read(y0 + 1, x0 + 1) * fx
    return top * (1 - fy) + bottom * fy
