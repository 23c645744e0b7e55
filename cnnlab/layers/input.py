"""Image input: fixes the input size and normalizes the data.

=================== ============================ ============================
normalization       output                       statistics (from fit)
=================== ============================ ============================
"zerocenter"        x - mean                     mean image H×W×C
"zscore"            (x - mean) / std             mean image, std per channel
"rescale-zero-one"  (x - min) / (max - min)      min and max over all data
"none"              x                            -
=================== ============================ ============================
Statistics can also be given (a scalar, per channel (C,), or H×W×C).
"""
from __future__ import annotations

import numpy as np

from .base import Layer, is_int

NORMALIZATIONS = ("zerocenter", "zscore", "rescale-zero-one", "none")
_NEEDS = {"zerocenter": ("mean",), "zscore": ("mean", "std"),
          "rescale-zero-one": ("min", "max"), "none": ()}


class ImageInput(Layer):
    kind, type_name = "imageinput", "Image Input"

    def __init__(self, input_size, *, normalization="zerocenter", mean=None, std=None,
                 min=None, max=None, name=""):
        super().__init__(name=name)
        size = tuple(input_size) if not is_int(input_size) else (input_size,)
        if len(size) == 2:
            size = size + (1,)
        if len(size) != 3 or not all(is_int(v) and v > 0 for v in size):
            raise self.error("input_size", input_size,
                             "expected (H, W) or (H, W, C) of positive integers")
        if normalization not in NORMALIZATIONS:
            raise self.error("normalization", normalization,
                             f"expected one of {', '.join(NORMALIZATIONS)}")
        self._size = tuple(int(v) for v in size)
        self.normalization = normalization
        for key, value in (("mean", mean), ("std", std), ("min", min), ("max", max)):
            if value is not None:
                self.state[key] = self._statistic(key, value)
        if "std" in self.state and np.any(self.state["std"] <= 0):
            raise self.error("std", std, "must be positive")
        if "min" in self.state and "max" in self.state and np.any(
                self.state["max"] <= self.state["min"]):
            raise self.error("max", max, "must be larger than min")

    @property
    def input_size(self):
        return self._size

    def _statistic(self, key, value):
        arr = np.asarray(value, dtype=np.float64)
        h, w, c = self._size
        if arr.shape not in ((), (c,), (h, w, c), (1, 1, c)) or not np.all(np.isfinite(arr)):
            raise self.error(key, value, f"expected a finite scalar, {c} per-channel values or "
                             f"a {h}x{w}x{c} image")
        return np.broadcast_to(arr, (h, w, c)).copy()

    def _build(self, input_shape, rng):
        for key in self.state:
            self.state[key] = self.state[key].astype(self.dtype)
        return self._size

    @property
    def statistics_set(self) -> bool:
        return all(k in self.state for k in _NEEDS[self.normalization])

    def fit(self, x):
        """Compute the statistics this normalization needs from training images N×H×W×C."""
        x = np.asarray(x, dtype=np.float64)
        if self.normalization in ("zerocenter", "zscore"):
            self.state["mean"] = x.mean(axis=0)
        if self.normalization == "zscore":
            std = x.std(axis=(0, 1, 2))
            self.state["std"] = np.broadcast_to(np.where(std > 0, std, 1.0), self._size).copy()
        if self.normalization == "rescale-zero-one":
            lo, hi = x.min(), x.max()
            self.state["min"] = np.full(self._size, lo)
            self.state["max"] = np.full(self._size, hi if hi > lo else lo + 1.0)
        for key in self.state:
            self.state[key] = self.state[key].astype(self.dtype)

    def _shift_scale(self, dtype):
        """x ↦ (x - shift) / scale for the chosen normalization (identity where unset)."""
        s = self.state
        if self.normalization == "zerocenter":
            return s.get("mean", 0), 1
        if self.normalization == "zscore":
            return s.get("mean", 0), s.get("std", 1)
        if self.normalization == "rescale-zero-one":
            lo = s.get("min", 0)
            return lo, (s["max"] - lo) if "max" in s else 1
        return 0, 1

    def _forward(self, x, *, training=False, rng=None):
        shift, scale = self._shift_scale(x.dtype)
        return ((x - shift) / scale).astype(x.dtype, copy=False)

    def _backward(self, dy):
        _, scale = self._shift_scale(dy.dtype)
        return (dy / scale).astype(dy.dtype, copy=False)

    def describe(self):
        h, w, c = self._size
        text = f"{h}x{w}x{c} images with '{self.normalization}' normalization"
        return text if self.statistics_set else text + " (statistics not set: fit on training data)"

    def config(self):
        return {"input_size": list(self._size), "normalization": self.normalization,
                "name": self.name}
