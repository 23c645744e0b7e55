"""Softmax and the output layers that compute a loss (classification, regression)."""
from __future__ import annotations

import numpy as np

from .base import Layer


class Softmax(Layer):
    """y_r = exp(a_r) / Σ_j exp(a_j) over the channel axis (computed after subtracting max a)."""
    kind, type_name = "softmax", "Softmax"

    def forward(self, x, *, training=False, rng=None):
        self._require_built()
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        y = e / e.sum(axis=-1, keepdims=True)
        self._cache = y
        return y

    def backward(self, dy):
        # dx = y ⊙ (dy - Σ_c dy_c y_c): the Jacobian of softmax applied to dy
        y = self._need_cache()
        return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))

    def describe(self):
        return "softmax"


class Classification(Layer):
    """Cross-entropy of softmax probabilities y against one-hot targets t,
    averaged over the mini-batch: loss = -(1/N) Σ_n Σ_k t_nk ln y_nk."""
    kind, type_name = "classoutput", "Classification Output"
    is_loss = True

    def __init__(self, *, classes=None, name=""):
        super().__init__(name=name)
        self.classes = None if classes is None else [str(c) for c in classes]

    def _build(self, input_shape, rng):
        k = input_shape[-1]
        if self.classes is not None and len(self.classes) != k:
            raise self.error("classes", self.classes,
                             f"{len(self.classes)} classes given for a network with {k} outputs")
        return input_shape

    def forward(self, x, *, training=False, rng=None):
        return x

    def backward(self, dy):
        return dy

    def targets(self, labels, shape) -> np.ndarray:
        """One-hot targets of ``shape`` from labels 0..K-1 (N,) or an array of that shape."""
        labels = np.asarray(labels)
        n, k = shape[0], shape[-1]
        if labels.shape == tuple(shape):
            return labels.astype(np.float64)
        if labels.ndim == 2 and labels.shape == (n, k) and shape[1:3] == (1, 1):
            return labels.reshape(shape).astype(np.float64)
        if labels.ndim != 1 or len(labels) != n:
            raise self.error("labels", f"array of shape {labels.shape}",
                             f"expected {n} class indices or one-hot targets of shape "
                             f"{tuple(shape)}")
        if not np.issubdtype(labels.dtype, np.integer):
            if np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)):
                labels = labels.astype(np.int64)
            else:
                raise self.error("labels", labels[:5].tolist(),
                                 "class labels must be integers 0..K-1")
        bad = (labels < 0) | (labels >= k)
        if np.any(bad):
            raise self.error("labels", int(labels[bad][0]),
                             f"out of range: the network has {k} classes (0..{k - 1})")
        t = np.zeros((n, k))
        t[np.arange(n), labels] = 1
        return t.reshape(shape)

    def _clip(self, y):
        return np.maximum(y, np.finfo(y.dtype).tiny)   # ln 0 would be -inf

    def loss_terms(self, y, labels) -> np.ndarray:
        """Per image: -Σ_k t_k ln y_k."""
        t = self.targets(labels, y.shape)
        return -(t * np.log(self._clip(y))).reshape(len(y), -1).sum(axis=1)

    def loss(self, y, labels) -> float:
        return float(self.loss_terms(y, labels).mean())

    def loss_gradient(self, y, labels):
        """d loss / d y = -t / (N·y)."""
        t = self.targets(labels, y.shape)
        return (-t / (len(y) * self._clip(y))).astype(y.dtype)

    def softmax_loss_gradient(self, y, labels):
        """d loss / d a for y = softmax(a): (y - t)/N. Exact, and it never divides by a
        small probability, so the Network uses it when Softmax precedes this layer."""
        t = self.targets(labels, y.shape)
        return ((y - t) / len(y)).astype(y.dtype)

    def describe(self):
        if not self.built:
            return "crossentropyex"
        if self.classes is not None and len(self.classes) <= 10:
            return "crossentropyex with classes " + ", ".join(self.classes)
        return f"crossentropyex with {self.output_shape[-1]} classes"

    def config(self):
        return {"classes": self.classes, "name": self.name}


class Regression(Layer):
    """Half mean squared error: loss = (1/N) Σ_n ½ Σ_i (t_ni - y_ni)², summed over every
    response of an image (not divided by their number), averaged over the mini-batch."""
    kind, type_name = "regressionoutput", "Regression Output"
    is_loss = True

    def forward(self, x, *, training=False, rng=None):
        return x

    def backward(self, dy):
        return dy

    def _targets(self, y, t):
        t = np.asarray(t, dtype=np.float64)
        n = len(y)
        if t.shape == y.shape:
            return t
        if t.size == y.size and t.shape[:1] == (n,) and (t.ndim == 2 or t.ndim == 1):
            return t.reshape(y.shape)
        raise self.error("targets", f"array of shape {t.shape}",
                         f"expected shape {y.shape} or {n} x {y[0].size}")

    def loss(self, y, t) -> float:
        t = self._targets(y, t)
        return float(0.5 * np.sum((t - y) ** 2) / len(y))

    def loss_gradient(self, y, t):
        return ((y - self._targets(y, t)) / len(y)).astype(y.dtype)

    def describe(self):
        return "mean-squared-error"
