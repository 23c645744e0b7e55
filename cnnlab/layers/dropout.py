"""Dropout: while training, zero each element with probability p and scale survivors by
1/(1-p); when predicting, pass the input through unchanged."""
from __future__ import annotations

import numpy as np

from .base import Layer, is_number


class Dropout(Layer):
    kind, type_name = "dropout", "Dropout"
    has_training_mode = True

    def __init__(self, probability=0.5, *, name=""):
        super().__init__(name=name)
        if not is_number(probability) or not 0 <= probability < 1:
            raise self.error("probability", probability,
                             "must be in [0, 1): at 1 nothing survives and 1/(1-p) is infinite")
        self.probability = float(probability)
        self.last_mask = None

    @property
    def scale(self) -> float:
        """The factor 1/(1-p) applied to the elements that survive."""
        return 1.0 / (1.0 - self.probability)

    def _forward(self, x, *, training=False, rng=None):
        if not training or self.probability == 0:
            self._cache = None
            self.last_mask = None
            return x
        if rng is None:
            raise ValueError(f"{self.label}: training needs a random Generator (rng=...); "
                             "a Network passes its own")
        # rand(size(X)) < p marks the DROPPED elements; float64 draws make the mask the same
        # for float32 and float64 networks with the same seed
        mask = rng.random(x.shape) < self.probability
        self.last_mask = mask
        self._cache = mask
        return np.where(mask, 0, x * x.dtype.type(self.scale)).astype(x.dtype, copy=False)

    def _backward(self, dy):
        if self._cache is None:
            return dy
        return np.where(self._cache, 0, dy * dy.dtype.type(self.scale)).astype(dy.dtype,
                                                                              copy=False)

    def describe(self):
        return f"{self.probability * 100:g}% dropout"

    def config(self):
        return {"probability": self.probability, "name": self.name}
