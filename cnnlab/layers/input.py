"""Image input: fixes the input size and normalizes the data, as MATLAB's imageInputLayer.

Every normalization is y = (x - shift) / scale with statistics of the training data:

=================== ================================== ==================================
normalization       output                             statistics
=================== ================================== ==================================
"zerocenter"        x - mean                           mean
"zscore"            (x - mean) / std                   mean, std (same dimensions)
"rescale-zero-one"  (x - min) / (max - min)  in [0, 1] min, max
"rescale-symmetric" 2·(x - min) / (max - min) - 1      min, max
                    in [-1, 1]
"none"              x                                  -
=================== ================================== ==================================

``normalization_dimension`` says over which values each statistic is taken (MATLAB's
NormalizationDimension):

- "channel": one number per channel, over all images and all H×W positions; stored 1×1×C.
  A channel-wise z-score gives every channel mean 0 and standard deviation 1.
- "element": one number per position and channel (the mean *image*), over the images;
  stored H×W×C.
- "all": one number for everything; stored 1×1×1.
- "auto" (the default): statistics you give are used over the dimensions their shape says
  (a scalar: all, C values or 1×1×C: channel, H×W×C: element); statistics computed by
  ``fit`` (and so by training) are channel-wise.

``statistics_dimension`` tells which one is in use. Standard deviations are those of the data
themselves (numpy's default, dividing by the number of values, not one less), so the fitted
data come out with exactly mean 0 and standard deviation 1. A statistic that cannot scale (a
standard deviation of 0, or max = min: a constant pixel or channel) is replaced so that those
values are only shifted: std 1, max = min + 1.
"""
from __future__ import annotations

import numpy as np

from .base import Layer, is_int

NORMALIZATIONS = ("zerocenter", "zscore", "rescale-zero-one", "rescale-symmetric", "none")
DIMENSIONS = ("auto", "channel", "element", "all")
_NEEDS = {"zerocenter": ("mean",), "zscore": ("mean", "std"),
          "rescale-zero-one": ("min", "max"), "rescale-symmetric": ("min", "max"), "none": ()}
_STATISTICS = ("mean", "std", "min", "max")
#: from the coarsest to the finest: a statistic can be broadcast to a finer dimension
_ORDER = ("all", "channel", "element")


class ImageInput(Layer):
    """The first layer: images of ``input_size`` and their normalization (module docstring).

    Parameters
    ----------
    input_size : (H, W) or (H, W, C)
    normalization : "zerocenter" (default), "zscore", "rescale-zero-one",
        "rescale-symmetric" or "none"
    normalization_dimension : "auto" (default), "channel", "element" or "all"
    mean, std, min, max : optional statistics, each a scalar, C values (or 1×1×C) or H×W×C
    """
    kind, type_name = "imageinput", "Image Input"
    input_names = ()          # fed the images, not another layer (MATLAB: NumInputs 0)

    def __init__(self, input_size, *, normalization="zerocenter",
                 normalization_dimension="auto", mean=None, std=None, min=None, max=None,
                 name=""):
        super().__init__(name=name)
        size = tuple(input_size) if not is_int(input_size) else (input_size,)
        if len(size) == 2:
            size = size + (1,)
        if len(size) != 3 or not all(is_int(v) and v > 0 for v in size):
            raise self.error("input_size", input_size,
                             "expected (H, W) or (H, W, C) of positive integers")
        if not isinstance(normalization, str) or normalization not in NORMALIZATIONS:
            raise self.error("normalization", normalization,
                             f"expected one of {', '.join(NORMALIZATIONS)}")
        if not isinstance(normalization_dimension, str) or \
                normalization_dimension not in DIMENSIONS:
            raise self.error("normalization_dimension", normalization_dimension,
                             f"expected one of {', '.join(DIMENSIONS)}")
        self._size = tuple(int(v) for v in size)
        self.normalization = normalization
        self.normalization_dimension = normalization_dimension
        for key, value in (("mean", mean), ("std", std), ("min", min), ("max", max)):
            if value is not None:
                self.state[key] = self._statistic(key, value)
        self._check_values(std=std, max=max)

    @property
    def input_size(self):
        return self._size

    # ---- statistics ----------------------------------------------------------------------
    def _shape_of(self, dimension):
        h, w, c = self._size
        return {"all": (1, 1, 1), "channel": (1, 1, c), "element": (h, w, c)}[dimension]

    def _dimension_of(self, shape) -> str:
        """The dimension a statistic of this (stored or given) shape stands for."""
        h, w, c = self._size
        if shape in ((c,), (1, 1, c)):      # first: with one channel, channel-wise = all
            return "channel"
        if shape in ((), (1,), (1, 1, 1)):
            return "all"
        if shape == (h, w, c):
            return "element"
        raise ValueError(shape)

    def _statistic(self, key, value):
        """A given statistic in the stored shape of its dimension, or a clear ValueError."""
        arr = np.asarray(value, dtype=np.float64)
        h, w, c = self._size
        try:
            own = self._dimension_of(arr.shape)
        except ValueError:
            own = None
        if own is None or not np.all(np.isfinite(arr)):
            raise self.error(key, value, f"expected a finite scalar, {c} per-channel values "
                                         f"(or 1x1x{c}) or a {h}x{w}x{c} image")
        wanted = self.normalization_dimension
        if wanted == "auto":
            wanted = own
        elif arr.size > np.prod(self._shape_of(wanted)):     # finer than asked for
            raise self.error(key, f"array of shape {arr.shape}",
                             f"normalization_dimension = {wanted!r} needs "
                             f"{'one number' if wanted == 'all' else f'{c} per-channel values'}"
                             f", not {own}-wise statistics")
        return np.broadcast_to(arr.reshape(self._shape_of(own)), self._shape_of(wanted)).copy()

    def _check_values(self, **given):
        s = self.state
        if "std" in s and np.any(s["std"] <= 0):
            raise self.error("std", given.get("std", s["std"]), "must be positive")
        if "min" in s and "max" in s and np.any(s["max"] <= s["min"]):
            raise self.error("max", given.get("max", s["max"]), "must be larger than min")

    def check_state(self, key, value):
        """A saved statistic (``cnnlab.io``) checked as if given: its shape and values."""
        if key not in _STATISTICS:
            raise self.error("state", key, f"an image input keeps only {', '.join(_STATISTICS)}")
        arr = np.asarray(value)
        checked = self._statistic(key, arr)
        if key == "std" and np.any(checked <= 0):
            raise self.error("std", f"array of shape {arr.shape}", "must be positive")
        if checked.shape != arr.shape:
            raise self.error(key, f"array of shape {arr.shape}",
                             f"normalization_dimension = {self.normalization_dimension!r} "
                             f"stores it as {'x'.join(map(str, checked.shape))}")
        return arr

    @property
    def statistics_set(self) -> bool:
        return all(k in self.state for k in _NEEDS[self.normalization])

    @property
    def statistics_dimension(self) -> str | None:
        """The dimension in use: "channel", "element" or "all" (None for "none").

        With "auto" it is the finest of the statistics in use (channel-wise before any are
        set, as ``fit`` computes them).
        """
        needed = _NEEDS[self.normalization]
        if not needed:
            return None
        if self.normalization_dimension != "auto":
            return self.normalization_dimension
        shapes = [self.state[k].shape for k in needed if k in self.state]
        if not shapes:
            return "channel"
        return _ORDER[max(_ORDER.index(self._dimension_of(s)) for s in shapes)]

    def _build(self, input_shape, rng):
        for key in self.state:
            self.state[key] = self.state[key].astype(self.dtype)
        return self._size

    def fit(self, x):
        """Compute the statistics this normalization needs from training images N×H×W×C.

        Mean and standard deviation (or min and max) are taken over the same values:
        "channel" (and "auto") over images, rows and columns, "element" over images only,
        "all" over everything.
        """
        x = np.asarray(x, dtype=np.float64)
        dimension = "channel" if self.normalization_dimension == "auto" \
            else self.normalization_dimension
        axes = {"channel": (0, 1, 2), "element": (0,), "all": (0, 1, 2, 3)}[dimension]
        shape = self._shape_of(dimension)

        def over(f):
            return f(x, axis=axes).reshape(shape)
        if self.normalization in ("zerocenter", "zscore"):
            self.state["mean"] = over(np.mean)
        if self.normalization == "zscore":
            std = over(np.std)                  # divides by the number of values
            self.state["std"] = np.where(std > 0, std, 1.0)
        if self.normalization.startswith("rescale"):
            lo, hi = over(np.min), over(np.max)
            self.state["min"] = lo
            self.state["max"] = np.where(hi > lo, hi, lo + 1.0)
        for key in self.state:
            self.state[key] = self.state[key].astype(self.dtype)

    def _shift_scale(self):
        """x ↦ (x - shift) / scale for the chosen normalization (identity where unset)."""
        s = self.state
        if self.normalization == "zerocenter":
            return s.get("mean", 0), 1
        if self.normalization == "zscore":
            return s.get("mean", 0), s.get("std", 1)
        if self.normalization.startswith("rescale") and "min" in s and "max" in s:
            lo, hi = s["min"], s["max"]
            if self.normalization == "rescale-zero-one":
                return lo, hi - lo
            # 2·(x - min)/(max - min) - 1 = (x - (min + max)/2) / ((max - min)/2)
            return (lo + hi) / 2, (hi - lo) / 2
        return 0, 1

    # ---- computing -----------------------------------------------------------------------
    def _forward(self, x, *, training=False, rng=None):
        shift, scale = self._shift_scale()
        y = x - shift
        if not (np.isscalar(scale) and scale == 1):      # ÷ 1 is exact: skip the pass
            y = y / scale
        return y.astype(x.dtype, copy=False)

    def _backward(self, dy):
        _, scale = self._shift_scale()
        return (dy / scale).astype(dy.dtype, copy=False)

    def describe(self):
        h, w, c = self._size
        text = f"{h}x{w}x{c} images with '{self.normalization}' normalization"
        dimension = self.statistics_dimension
        if dimension == "element":
            text += " (element-wise statistics)"
        elif dimension == "all":
            text += " (one statistic over all values)"
        return text if self.statistics_set else text + " (statistics not set: fit on training data)"

    def config(self):
        return {"input_size": list(self._size), "normalization": self.normalization,
                "normalization_dimension": self.normalization_dimension, "name": self.name}
