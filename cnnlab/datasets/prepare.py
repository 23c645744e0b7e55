"""Your own digit, MNIST-style: a photo or a drawing -> the 28 x 28 image a digit network reads.

    from cnnlab.datasets import prepare_digit
    x = prepare_digit("my_seven.png")            # 28 x 28 x 1 float32, white ink on black
    net.classify(x[None])

MNIST's digits were made this way (LeCun, Cortes and Burges, "The MNIST database"): the
writer's digit was size-normalised to fit a 20 x 20 box keeping its aspect ratio, with
anti-aliasing, then centred in a 28 x 28 field by its centre of mass. ``prepare_digit``
does the same to any image:

1. **grayscale**: RGB by the ITU-R 601 luma L = 0.299 R + 0.587 G + 0.114 B (Pillow's
   ``convert("L")``); a transparent background (RGBA) is laid on paper of the contrasting
   shade first; values scaled to 0..1 (integers by their dtype's maximum, floats as given
   if in 0..1, as 0..255 if in 0..255, else by their own min and max);
2. **ink is bright**: the background is the median of the image's border (its outermost
   rows and columns); light paper (median > 0.5) is inverted, so ink = 1 − gray, as MNIST
   stores white ink on black. ``invert=True/False`` overrides the guess;
3. **clean**: the background level is subtracted and the strongest ink scaled to 1, so
   grey pencil on grey paper becomes white on black;
4. **crop** to the bounding box of the pixels with ink above ``threshold`` (0.2 of the
   strongest; specks below it do not widen the box);
5. **fit 20 x 20**: resize (Pillow, Lanczos: anti-aliased) so the longer side is 20 pixels
   and the other keeps the aspect ratio (rounded, at least 1);
6. **centre of mass**: paste into 28 x 28 so the ink's centre of mass lands on the centre
   of the field, pixel index (13.5, 13.5), to within half a pixel (MNIST shifted by whole
   pixels; so does this: no second resampling blurs the digit). A digit whose mass sits far
   from its box's middle can be cut at the field's edge, as in MNIST.

The result is float32 28 x 28 x 1 in 0..255 (white digit on black), the value range of
cnnlab's embedded digits (``make_digits``, uint8 0..255), so a network trained on those
reads it with its own input normalization.
"""
from __future__ import annotations

import os

import numpy as np

FIELD = 28          # MNIST's image side
BOX = 20            # the box the digit is fitted into


def _pixels(image) -> np.ndarray:
    """A PIL image, path or array -> H×W, H×W×3 or H×W×4 float64 array (values as stored)."""
    from PIL import Image
    if isinstance(image, (str, os.PathLike)):
        try:
            with Image.open(image) as opened:
                opened.load()
                image = opened.copy()
        except (OSError, ValueError) as e:
            raise ValueError(f"prepare_digit: cannot read an image from {str(image)!r}: {e}") \
                from None
    if isinstance(image, Image.Image):
        if image.mode in ("F", "I", "I;16", "I;16B", "I;16L"):
            a = np.asarray(image, dtype=np.float64)
            return a / 65535.0 if image.mode.startswith("I;16") else a
        has_alpha = "A" in image.mode or "transparency" in image.info
        return np.asarray(image.convert("RGBA" if has_alpha else "RGB"), np.float64) / 255.0
    a = np.asarray(image)
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise ValueError(f"prepare_digit: expected a PIL image, a path or an array of numbers; "
                         f"got {type(image).__name__} of dtype {a.dtype}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or a.ndim == 3 and a.shape[2] in (3, 4)):
        raise ValueError(f"prepare_digit: an array of shape {a.shape}; expected H x W "
                         "(grayscale), H x W x 1, H x W x 3 (RGB) or H x W x 4 (RGBA)")
    if min(a.shape[:2]) < 2:
        raise ValueError(f"prepare_digit: a {a.shape[0]} x {a.shape[1]} image is too small "
                         "to hold a digit")
    if a.dtype.kind == "b":
        return a.astype(np.float64)
    if a.dtype.kind in "iu":
        return a.astype(np.float64) / float(np.iinfo(a.dtype).max)
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("prepare_digit: the image contains NaN or infinite values")
    lo, hi = a.min(), a.max()
    if lo >= 0 and hi <= 1:
        return a
    if lo >= 0 and hi <= 255:
        return a / 255.0
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def _gray(a: np.ndarray) -> np.ndarray:
    """H×W 0..1 gray from H×W, RGB or RGBA (alpha composited on contrasting paper)."""
    if a.ndim == 2:
        return a
    luma = a[:, :, 0] * 0.299 + a[:, :, 1] * 0.587 + a[:, :, 2] * 0.114
    if a.shape[2] == 3:
        return luma
    alpha = a[:, :, 3]
    if np.all(alpha >= 1.0):
        return luma
    if alpha.max() <= 0:
        raise ValueError("prepare_digit: the image is fully transparent (no digit)")
    # the visible strokes decide the paper: dark ink goes on white, light ink on black
    ink_is_dark = np.average(luma, weights=alpha) < 0.5
    paper = 1.0 if ink_is_dark else 0.0
    return alpha * luma + (1 - alpha) * paper


def _border(g: np.ndarray) -> np.ndarray:
    return np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])


def prepare_digit(image, *, invert="auto", threshold: float = 0.2) -> np.ndarray:
    """A photo or drawing of one digit as a 28 x 28 x 1 MNIST-style image (module docstring).

    image : a PIL image, a path to an image file, or an H×W, H×W×1, H×W×3 or H×W×4 array of
        any numeric dtype
    invert : "auto" (light paper -> invert, judged by the border), True or False
    threshold : ink level (0..1 of the strongest ink) that counts for the bounding box
    Returns float32 28 x 28 x 1 in 0..255, white ink on black.
    """
    from PIL import Image
    if invert not in ("auto", True, False):
        raise ValueError(f"prepare_digit: invert = {invert!r}; expected 'auto', True or False")
    if not (isinstance(threshold, (int, float)) and 0 < threshold < 1):
        raise ValueError(f"prepare_digit: threshold = {threshold!r}; expected a number "
                         "strictly between 0 and 1")
    g = _gray(_pixels(image))
    background = float(np.median(_border(g)))
    if invert is True or invert == "auto" and background > 0.5:
        g, background = 1.0 - g, 1.0 - background
    ink = g - background
    peak = float(ink.max())
    if peak < 0.05:
        raise ValueError(f"prepare_digit: no digit found: the image is blank (the brightest "
                         f"ink is {peak:.3f} above the background {background:.3f}, on a "
                         "0..1 scale)" + (": invert=True made the dark paper light; try "
                         "invert='auto'" if invert is True and background > 0.5 else ""))
    ink = np.clip(ink / peak, 0.0, 1.0)
    rows, cols = np.nonzero(ink > threshold)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    crop = ink[top:bottom, left:right]
    h, w = crop.shape
    # the longer side becomes 20 px, the shorter keeps the aspect ratio
    scale = BOX / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    small = Image.fromarray(crop.astype(np.float32)).resize(
        (new_w, new_h), resample=Image.Resampling.LANCZOS)
    small = np.clip(np.asarray(small, dtype=np.float64), 0.0, 1.0)   # Lanczos rings below 0
    if small.sum() <= 0:
        raise ValueError("prepare_digit: the digit vanished when resized to 20 x 20 (a "
                         "single speck?)")
    # centre of mass of the fitted digit, in its own pixel indices
    ys, xs = np.mgrid[0:new_h, 0:new_w]
    cy, cx = (ys * small).sum() / small.sum(), (xs * small).sum() / small.sum()
    # whole-pixel offsets that put it nearest to the field's centre (13.5, 13.5)
    centre = (FIELD - 1) / 2.0
    oy, ox = int(np.floor(centre - cy + 0.5)), int(np.floor(centre - cx + 0.5))
    out = np.zeros((FIELD, FIELD), np.float64)
    y0, x0 = max(oy, 0), max(ox, 0)
    y1, x1 = min(oy + new_h, FIELD), min(ox + new_w, FIELD)
    out[y0:y1, x0:x1] = small[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    return (out * 255.0).astype(np.float32)[:, :, None]
