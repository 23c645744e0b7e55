"""Random geometric augmentation of training images: MATLAB's ``imageDataAugmenter``.

    aug = cl.ImageDataAugmenter(rotation=(-10, 10), x_translation=(-2, 2))
    options = cl.TrainingOptions("adam", augmentation=aug)
    batch = aug.augment(images, rng)          # N×H×W×C -> N×H×W×C, new random draws

Every image of a mini-batch gets its own transform, drawn uniformly from each range (MATLAB
``RandRotation``, ``RandXTranslation``, ... ): ranges are (lo, hi) pairs — degrees for
``rotation`` and the shears, pixels for the translations, factors for the scales — and
lo = hi fixes the value. ``x_reflection`` / ``y_reflection`` flip an image left-right /
up-down with probability 0.5. The geometry (order of the maps, sign conventions, inverse
mapping with bilinear interpolation) is written out in :mod:`cnnlab.affine`; the output
keeps the input's size (MATLAB's ``OutputView = "same"``) and pixels whose source lies
outside the image get ``fill_value``.

Inside ``train_network`` each mini-batch is augmented just before its forward pass, with
draws from the network's Generator (``net.rng``, the one dropout uses): the same seed gives
the same training run, and a checkpoint (which saves that Generator) resumes it exactly.
Validation data and the normalization statistics of the input layer are NOT augmented:
they are computed from the images as given.

Differences from MATLAB: a range must be a (lo, hi) pair (no function handles); ``scale``
and ``x_scale``/``y_scale`` cannot be combined (MATLAB silently ignores the latter).
"""
from __future__ import annotations

import math

import numpy as np

from .affine import INTERPOLATIONS, forward_matrices, warp

# (option, identity value, what it measures, lowest allowed value)
RANGES = (("rotation", 0.0, "degrees", -math.inf), ("scale", 1.0, "factor", 0.0),
          ("x_scale", 1.0, "factor", 0.0), ("y_scale", 1.0, "factor", 0.0),
          ("x_shear", 0.0, "degrees", -90.0), ("y_shear", 0.0, "degrees", -90.0),
          ("x_translation", 0.0, "pixels", -math.inf),
          ("y_translation", 0.0, "pixels", -math.inf))


def _number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_)) and math.isfinite(float(v))


class ImageDataAugmenter:
    """Random rotation, scale, shear, translation and reflection of images (see module doc).

    rotation : (lo, hi) degrees, positive = counterclockwise on screen; default (0, 0)
    scale : (lo, hi) factor > 0 for both axes (> 1 enlarges); default (1, 1)
    x_scale, y_scale : (lo, hi) factors per axis, drawn independently (not with ``scale``)
    x_shear, y_shear : (lo, hi) degrees, strictly between −90 and 90
    x_translation, y_translation : (lo, hi) pixels, positive = right / down
    x_reflection, y_reflection : bool; flip left-right / up-down with probability 0.5
    fill_value : the value of pixels that come from outside the image: a number, or one
        number per channel
    interpolation : "bilinear" (default) or "nearest"
    """

    def __init__(self, *, rotation=(0, 0), scale=None, x_scale=(1, 1), y_scale=(1, 1),
                 x_shear=(0, 0), y_shear=(0, 0), x_translation=(0, 0), y_translation=(0, 0),
                 x_reflection=False, y_reflection=False, fill_value=0.0,
                 interpolation="bilinear"):
        given = dict(rotation=rotation, scale=scale, x_scale=x_scale, y_scale=y_scale,
                     x_shear=x_shear, y_shear=y_shear, x_translation=x_translation,
                     y_translation=y_translation)
        if scale is not None and (tuple(np.ravel(x_scale)) != (1, 1)
                                  or tuple(np.ravel(y_scale)) != (1, 1)):
            raise ValueError(f"ImageDataAugmenter: scale = {scale!r} scales both axes; give "
                             f"either scale or x_scale/y_scale, not both (x_scale = "
                             f"{x_scale!r}, y_scale = {y_scale!r})")
        for name, identity, unit, low in RANGES:
            v = given[name]
            if v is None and name == "scale":
                self.scale = None
                continue
            if not (isinstance(v, (tuple, list, np.ndarray)) and np.ndim(v) == 1
                    and len(v) == 2 and all(_number(e) for e in v)):
                raise ValueError(f"ImageDataAugmenter: {name} = {v!r}: expected a pair "
                                 f"(lo, hi) of finite numbers ({unit})")
            lo, hi = float(v[0]), float(v[1])
            if lo > hi:
                raise ValueError(f"ImageDataAugmenter: {name} = {v!r}: lo = {lo:g} is above "
                                 f"hi = {hi:g} (write the range as (lo, hi) with lo <= hi)")
            if unit == "factor" and lo <= 0:
                raise ValueError(f"ImageDataAugmenter: {name} = {v!r}: scale factors must be "
                                 f"> 0 (lo = {lo:g}; 1 keeps the size, 0 would collapse the "
                                 "image to a point)")
            if unit == "degrees" and name != "rotation" and not (-90 < lo and hi < 90):
                raise ValueError(f"ImageDataAugmenter: {name} = {v!r}: shear angles must lie "
                                 "strictly between -90 and 90 degrees (tan 90° is infinite)")
            setattr(self, name, (lo, hi))
        for name, v in (("x_reflection", x_reflection), ("y_reflection", y_reflection)):
            if not isinstance(v, (bool, np.bool_)):
                raise ValueError(f"ImageDataAugmenter: {name} = {v!r}: expected True or False "
                                 "(a reflection happens with probability 0.5 when True)")
            setattr(self, name, bool(v))
        fill = np.asarray(fill_value)
        if fill.ndim > 1 or fill.size == 0 or fill.dtype.kind not in "biuf" \
                or not np.all(np.isfinite(fill)):
            raise ValueError(f"ImageDataAugmenter: fill_value = {fill_value!r}: expected a "
                             "finite number or one finite number per channel")
        self.fill_value = float(fill) if fill.ndim == 0 else tuple(map(float, fill))
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"ImageDataAugmenter: interpolation = {interpolation!r}: "
                             f"expected one of {', '.join(map(repr, INTERPOLATIONS))}")
        self.interpolation = interpolation

    # ---- the random draws --------------------------------------------------------------------
    def sample(self, n: int, rng) -> dict[str, np.ndarray]:
        """Draw the parameters of ``n`` transforms from ``rng`` (a Generator, or a seed).

        Returns a dict of length-n arrays, one per option (rotation, x_scale, y_scale, x_shear,
        y_shear, x_translation, y_translation in degrees / factors / pixels, x_reflection and
        y_reflection booleans). Only options whose range is not a single value draw numbers,
        in this fixed order, so an augmenter that changes nothing leaves ``rng`` untouched.
        """
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        out = {}

        def uniform(name, pair):
            lo, hi = pair
            out[name] = rng.uniform(lo, hi, n) if hi > lo else np.full(n, lo)

        uniform("rotation", self.rotation)
        if self.scale is not None:
            uniform("x_scale", self.scale)
            out["y_scale"] = out["x_scale"]           # one factor for both axes
        else:
            uniform("x_scale", self.x_scale)
            uniform("y_scale", self.y_scale)
        for name in ("x_shear", "y_shear", "x_translation", "y_translation"):
            uniform(name, getattr(self, name))
        for name in ("x_reflection", "y_reflection"):
            out[name] = rng.random(n) < 0.5 if getattr(self, name) else np.zeros(n, bool)
        return out

    def augment(self, images, rng=None) -> np.ndarray:
        """A randomly transformed copy of ``images`` (N×H×W×C, or N×H×W), one draw per image.

        ``rng``: a ``numpy.random.Generator`` (advanced by the draws) or a seed (None: fresh
        randomness). The result has the input's shape and dtype (integer images are rounded
        and clipped to their dtype's range).
        """
        x = np.asarray(images)
        self.check(x, "augment")
        return self.apply(x, self.sample(len(x), rng))

    def apply(self, images, parameters: dict) -> np.ndarray:
        """``images`` transformed by ``parameters`` (a ``sample(n, rng)`` result, n images)."""
        x = np.asarray(images)
        self.check(x, "apply")
        p = parameters
        if any(len(p[k]) != len(x) for k in p):
            raise ValueError(f"ImageDataAugmenter.apply: parameters for "
                             f"{len(p['rotation'])} images, {len(x)} images given")
        flat = x[..., None] if x.ndim == 3 else x
        m = forward_matrices(p["rotation"], p["x_scale"], p["y_scale"], p["x_shear"],
                             p["y_shear"], p["x_translation"], p["y_translation"],
                             p["x_reflection"], p["y_reflection"])
        out = warp(flat, m, fill_value=self.fill_value, interpolation=self.interpolation)
        if x.dtype.kind in "biu":
            info = np.iinfo(x.dtype) if x.dtype.kind != "b" else None
            out = np.rint(out) if info is None else np.clip(np.rint(out), info.min, info.max)
        return out.astype(x.dtype).reshape(x.shape)

    def check(self, images, method: str = "check"):
        """Refuse images this augmenter cannot transform (ValueError naming ``method``)."""
        x = np.asarray(images)
        if x.ndim not in (3, 4) or x.dtype.kind not in "biuf" or 0 in x.shape[1:3]:
            raise ValueError(f"ImageDataAugmenter.{method}: images have shape {x.shape} and "
                             f"dtype {x.dtype}; expected numbers as N x H x W x C (or N x H x W)")
        c = 1 if x.ndim == 3 else x.shape[-1]
        if isinstance(self.fill_value, tuple) and len(self.fill_value) != c:
            raise ValueError(f"ImageDataAugmenter.{method}: fill_value has "
                             f"{len(self.fill_value)} values for images with {c} channels")

    # ---- description -------------------------------------------------------------------------
    def config(self) -> dict:
        """The options as plain numbers and lists (for checkpoints and reprs)."""
        cfg = {name: (None if getattr(self, name) is None else list(getattr(self, name)))
               for name, *_ in RANGES}
        cfg.update(x_reflection=self.x_reflection, y_reflection=self.y_reflection,
                   fill_value=(list(self.fill_value) if isinstance(self.fill_value, tuple)
                               else self.fill_value), interpolation=self.interpolation)
        return cfg

    def __eq__(self, other):
        return isinstance(other, ImageDataAugmenter) and self.config() == other.config()

    __hash__ = None

    def __repr__(self):
        default = ImageDataAugmenter().config()
        changed = [f"{k}={tuple(v) if isinstance(v, list) else v!r}"
                   for k, v in self.config().items() if v != default[k]]
        return f"ImageDataAugmenter({', '.join(changed)})"


def check_augmentation(value):
    """TrainingOptions' check: None or an ImageDataAugmenter (the error names the type)."""
    if value is not None and not isinstance(value, ImageDataAugmenter):
        raise ValueError(f"TrainingOptions: augmentation = {value!r}: expected a "
                         "cnnlab.ImageDataAugmenter or None")
