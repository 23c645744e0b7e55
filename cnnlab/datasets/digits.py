"""Embedded handwritten-style digits: an MNIST-like data set generated on the fly, no download.

Each image starts from a clean glyph of the :mod:`glyph bank <cnnlab.datasets._glyphs>` (digit
characters of fonts that ship with matplotlib, and pen-stroke digits drawn through jittered
control points), chosen at random together with a stroke width. Then, per image:

1. a random affine map -- rotation, shear, anisotropic scale, translation -- plus a smooth random
   *elastic* displacement field (a coarse grid of random offsets, interpolated), both applied by
   computing, for every output pixel, where it comes from in the glyph and sampling there
   bilinearly (all images of a chunk at once, with numpy fancy indexing);
2. the geometry follows MNIST's normalisation: the glyph's larger side fills a 20 x 20 box of the
   28 x 28 image and its centre of ink sits at the image centre, before the random distortion;
3. random ink intensity (the core of a stroke saturates at 255 as in MNIST), a random slight
   blur and additive Gaussian noise, then rounding to uint8.

Everything random comes from ``numpy.random.default_rng(seed)``: the same seed gives
bit-identical arrays on machines with the same matplotlib version (its fonts and its Agg
rasteriser make the glyph bank).
"""
from __future__ import annotations

import numpy as np

from ._glyphs import CELL, GLYPH_BOX, glyph_bank

class_names = tuple(str(d) for d in range(10))

# --- distribution of the random distortions (angles in degrees, lengths in output pixels at
# 28 x 28; they scale with image_size) ---
_FONT_FRACTION = 0.4            # share of images drawn from font styles (the rest: hand styles)
_WIDTH_WEIGHTS = (0.15, 0.25, 0.25, 0.2, 0.15)   # one per _glyphs.STROKE_WIDTHS
_ROTATION_SD = 5.0              # rotation ~ normal, clipped to +-15 degrees
_ROTATION_MAX = 15.0
_SHEAR_SD = 0.1                 # horizontal shear (x += k*y) ~ normal, clipped to +-0.4
_SHEAR_MAX = 0.4
_SCALE_RANGE = (0.88, 1.06)     # overall size relative to MNIST's 20 px box
_ASPECT_SD = 0.08               # log of width/height ratio ~ normal
_SHIFT_SD = 0.8                 # translation ~ normal, clipped to +-2.5 px
_SHIFT_MAX = 2.5
_ELASTIC_GRID = 4               # coarse grid of random displacements, g x g per image
_ELASTIC_SD = 0.3               # their standard deviation in pixels
_GAIN_RANGE = (0.9, 1.5)        # ink intensity multiplier before clipping to 1
_BLUR_MAX = 0.7                 # weight of a 3x3 blurred copy mixed in, ~ U(0, max)
_NOISE_MAX = 0.04               # noise standard deviation ~ U(0, max), in units of full scale

_CHUNK = 1024                   # images sampled per vectorised step


def make_digits(num_images: int = 12000, *, seed=0, image_size: int = 28):
    """Generate ``num_images`` MNIST-like handwritten-style digit images, deterministically.

    Parameters
    ----------
    num_images: how many images, N >= 0.
    seed: anything ``numpy.random.default_rng`` accepts (an int, a ``SeedSequence``); the same
        seed gives bit-identical arrays.
    image_size: side S of the square images (28 as in MNIST; the digit's 20 px box and all
        distortions scale with it).

    Returns
    -------
    X: uint8 array (N, S, S, 1), channels last; white digit (up to 255) on black (0).
    y: int64 array (N,), labels 0..9. Classes are balanced -- each occurs N//10 or N//10 + 1
       times -- and the order is shuffled.

    The first call in a process renders the glyph bank (about 1-2 s); later calls reuse it.

    >>> X, y = make_digits(20, seed=3)
    >>> X.shape, X.dtype, y.shape, y.dtype
    ((20, 28, 28, 1), dtype('uint8'), (20,), dtype('int64'))
    >>> sorted(np.bincount(y).tolist())
    [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    """
    num_images = int(num_images)
    image_size = int(image_size)
    if num_images < 0:
        raise ValueError(f"num_images must be >= 0, got {num_images}")
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8 pixels, got {image_size}")
    rng = np.random.default_rng(seed)
    bank = glyph_bank()
    num_styles, _, num_widths = bank.images.shape[:3]
    n = num_images

    # Balanced, shuffled labels.
    y = rng.permutation(np.arange(n, dtype=np.int64) % 10)

    # Which clean glyph each image starts from: a style (font or hand) and a stroke width.
    use_font = rng.random(n) < _FONT_FRACTION
    style = np.where(use_font, rng.integers(0, bank.num_fonts, n),
                     rng.integers(bank.num_fonts, num_styles, n))
    width = rng.choice(num_widths, size=n, p=np.asarray(_WIDTH_WEIGHTS) / sum(_WIDTH_WEIGHTS))
    glyph = (style * 10 + y) * num_widths + width        # index into bank.images viewed flat

    # Random affine map per image, forward: glyph -> image, A = R(angle) @ Shear(k) @ diag(sx, sy).
    angle = np.deg2rad(np.clip(rng.normal(0.0, _ROTATION_SD, n), -_ROTATION_MAX, _ROTATION_MAX))
    shear = np.clip(rng.normal(0.0, _SHEAR_SD, n), -_SHEAR_MAX, _SHEAR_MAX)
    scale = rng.uniform(*_SCALE_RANGE, n)
    aspect = np.exp(rng.normal(0.0, _ASPECT_SD, n))
    sx, sy = scale * np.sqrt(aspect), scale / np.sqrt(aspect)
    unit = image_size / 28.0                      # pixel distances below are for 28 x 28
    shift = np.clip(rng.normal(0.0, _SHIFT_SD, (n, 2)), -_SHIFT_MAX, _SHIFT_MAX) * unit
    gain = rng.uniform(*_GAIN_RANGE, n)
    blur = rng.uniform(0.0, _BLUR_MAX, n)
    noise = rng.uniform(0.0, _NOISE_MAX, n)

    c, s = np.cos(angle), np.sin(angle)
    # Image y points down and glyph-bank y points down too, so the same matrix works for both.
    a11, a12 = c * sx, (c * shear - s) * sy
    a21, a22 = s * sx, (s * shear + c) * sy
    # We need the inverse map (image -> glyph) to know where each output pixel comes from;
    # it also converts image pixels to bank pixels (the 20 px box is GLYPH_BOX bank pixels).
    det = a11 * a22 - a12 * a21
    zoom = GLYPH_BOX / (20.0 * unit)
    inv = np.stack([np.stack([a22, -a12], -1), np.stack([-a21, a11], -1)], -2)
    inv *= (zoom / det)[:, None, None]                                   # (n, 2, 2)

    X = np.empty((n, image_size, image_size, 1), dtype=np.uint8)
    interp = _interpolation_matrix(_ELASTIC_GRID, image_size)
    centre = (image_size - 1) / 2.0
    ii, jj = np.meshgrid(np.arange(image_size) - centre, np.arange(image_size) - centre,
                         indexing="ij")
    flat_bank = bank.images.reshape(-1, CELL * CELL)
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        m = hi - lo
        # Smooth elastic displacement: random offsets on a coarse grid, interpolated to pixels.
        coarse = rng.normal(0.0, _ELASTIC_SD * unit, (m, 2, _ELASTIC_GRID, _ELASTIC_GRID))
        field = np.einsum("ik,nckl,jl->ncij", interp, coarse, interp)     # (m, 2, S, S)
        px = jj[None] + field[:, 0] - shift[lo:hi, 0, None, None]
        py = ii[None] + field[:, 1] - shift[lo:hi, 1, None, None]
        t = inv[lo:hi]
        cen = bank.centres.reshape(-1, 2)[glyph[lo:hi]]                  # (m, 2) x, y
        gx = t[:, 0, 0, None, None] * px + t[:, 0, 1, None, None] * py + cen[:, 0, None, None]
        gy = t[:, 1, 0, None, None] * px + t[:, 1, 1, None, None] * py + cen[:, 1, None, None]
        img = _bilinear(flat_bank, glyph[lo:hi], gx, gy)                 # (m, S, S) in 0..1

        img = np.minimum(img * gain[lo:hi, None, None], 1.0)
        img += blur[lo:hi, None, None] * (_blur3x3(img) - img)
        img += rng.normal(0.0, 1.0, img.shape) * noise[lo:hi, None, None]
        X[lo:hi, :, :, 0] = np.rint(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)
    return X, y


def digits_split(num_train: int = 10000, num_test: int = 2000, *, seed=0):
    """Independent training and test sets of generated digits.

    The two sets come from two independent random streams derived from ``seed``: with
    ``ss = numpy.random.SeedSequence(seed)`` and ``train_ss, test_ss = ss.spawn(2)``, this returns
    ``make_digits(num_train, seed=train_ss) + make_digits(num_test, seed=test_ss)``. The spawned
    streams differ from each other and from ``make_digits(seed=k)`` for every integer ``k``.
    Both sets use the same glyph bank, so test accuracy measures generalisation over the random
    distortions, not to unseen writers.

    Returns ``(X_train, y_train, X_test, y_test)``: uint8 (N, 28, 28, 1) images and int64 labels
    as :func:`make_digits` describes.
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    train_ss, test_ss = ss.spawn(2)
    X_train, y_train = make_digits(num_train, seed=train_ss)
    X_test, y_test = make_digits(num_test, seed=test_ss)
    return X_train, y_train, X_test, y_test


def _interpolation_matrix(g: int, size: int) -> np.ndarray:
    """(size, g) matrix mapping g coarse samples spread over [0, size-1] to size pixels (linear)."""
    pos = np.linspace(0.0, g - 1.0, size)
    k = np.arange(g)
    return np.maximum(0.0, 1.0 - np.abs(pos[:, None] - k[None, :]))


def _bilinear(flat_bank: np.ndarray, which: np.ndarray, gx: np.ndarray, gy: np.ndarray):
    """Sample glyphs bilinearly: image n at the points (gx[n], gy[n]) of glyph ``which[n]``.

    flat_bank: uint8 (G, CELL*CELL); which: (m,); gx, gy: (m, S, S) in bank pixels.
    Points outside the cell read the cell's border, which is background. Returns float32 in 0..1.
    """
    gx = np.clip(gx, 0.0, CELL - 1.001)
    gy = np.clip(gy, 0.0, CELL - 1.001)
    x0 = gx.astype(np.intp)
    y0 = gy.astype(np.intp)
    fx = (gx - x0).astype(np.float32)
    fy = (gy - y0).astype(np.float32)
    base = which.astype(np.intp)[:, None, None] * (CELL * CELL) + y0 * CELL + x0
    flat = flat_bank.reshape(-1)
    v00 = flat[base].astype(np.float32)
    v01 = flat[base + 1].astype(np.float32)
    v10 = flat[base + CELL].astype(np.float32)
    v11 = flat[base + CELL + 1].astype(np.float32)
    top = v00 + fx * (v01 - v00)
    bottom = v10 + fx * (v11 - v10)
    return (top + fy * (bottom - top)) * np.float32(1.0 / 255.0)


def _blur3x3(img: np.ndarray) -> np.ndarray:
    """[1, 2, 1] x [1, 2, 1] / 16 blur of (m, S, S) images with zero padding."""
    p = np.pad(img, ((0, 0), (1, 1), (1, 1)))
    v = 0.25 * p[:, :-2, :] + 0.5 * p[:, 1:-1, :] + 0.25 * p[:, 2:, :]
    return 0.25 * v[:, :, :-2] + 0.5 * v[:, :, 1:-1] + 0.25 * v[:, :, 2:]

