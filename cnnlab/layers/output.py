"""Softmax and the output layers that compute a loss (classification, regression).

A loss layer's forward is the identity: the Network stops before it and asks it for
``loss(y, targets)`` and the gradient that starts backpropagation.
"""
from __future__ import annotations

import numpy as np

from .base import Layer


class Softmax(Layer):
    """Turn the scores a of each position into probabilities over the channels (last axis).

        y_r = exp(a_r) / Σ_j exp(a_j)

    Computed as exp(a_r - max a) / Σ_j exp(a_j - max a): the same numbers, but no exp
    overflows and the largest term is exactly 1, so the sum is at least 1.
    """
    kind, type_name = "softmax", "Softmax"

    def _forward(self, x, *, training=False, rng=None):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        y = e / e.sum(axis=-1, keepdims=True)
        self._cache = y
        return y

    def _backward(self, dy):
        # d y_r / d a_j = y_r·([r == j] - y_j), so dx_j = Σ_r dy_r·y_r·([r == j] - y_j)
        #                                               = y_j·(dy_j - Σ_r dy_r·y_r)
        y = self._need_cache()
        return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))

    def describe(self):
        return "softmax"


def _clip(y):
    """y with zeros raised to the dtype's smallest positive normal number, so ln y is finite
    (about -87 in float32, -708 in float64) and -t/y does not divide by zero."""
    return np.maximum(y, np.finfo(y.dtype).tiny)


class Classification(Layer):
    """Cross-entropy of the softmax probabilities y against 1-of-K targets t.

        loss = -(1/N) Σ_n Σ_k t_nk·ln y_nk

    averaged over the N images of the mini-batch (the reference sums over images; training
    reports the mean over the mini-batch). ln 0 is avoided by clipping y at the dtype's
    smallest positive normal number (``numpy.finfo(dtype).tiny``): a probability that
    underflowed to 0 for the true class costs about 87 (float32) or 708 (float64), not inf.

    Targets (``targets``): integer class indices (N,) in 0..K-1 for a 1×1×K output, or an
    array of the output's shape (or N×K for 1×1×K) of one-hot rows or probabilities summing
    to 1 over the classes.

    ``classes``: optional class names, one per output channel (checked at build).
    """
    kind, type_name = "classoutput", "Classification Output"
    is_loss = True

    def __init__(self, *, classes=None, name=""):
        super().__init__(name=name)
        if classes is not None:
            if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
                raise self.error("classes", classes, "expected a list of class names")
            classes = [str(c) for c in classes]
            if not classes:
                raise self.error("classes", classes, "expected at least one class name")
            repeated = sorted({c for c in classes if classes.count(c) > 1})
            if repeated:
                raise self.error("classes", classes,
                                 f"class names must be distinct; repeated: {', '.join(repeated)}")
        self.classes = classes

    def _build(self, input_shape, rng):
        k = input_shape[-1]
        if self.classes is not None and len(self.classes) != k:
            raise self.error("classes", self.classes,
                             f"{len(self.classes)} classes given for a network with {k} outputs")
        return input_shape

    def _forward(self, x, *, training=False, rng=None):
        return x

    def _backward(self, dy):
        return dy

    # ---- targets -------------------------------------------------------------------------
    def targets(self, labels, shape) -> np.ndarray:
        """Targets t (float64, of ``shape`` = the output's N×H×W×K) from labels.

        ``labels`` is either N class indices 0..K-1 (for a 1×1×K output; integer-valued
        floats such as 2.0 count as integers), or an array of ``shape`` (or N×K for a 1×1×K
        output) whose entries are >= 0 and sum to 1 over the classes at every position.
        """
        shape = tuple(shape)
        n, k = shape[0], shape[-1]
        labels = np.asarray(labels)
        if labels.dtype.kind not in "biuf":
            raise self.error("labels", f"array of dtype {labels.dtype}",
                             f"expected class indices 0..{k - 1} or target probabilities "
                             "(train_network maps class names to indices)")
        if labels.shape == shape or (shape[1:3] == (1, 1) and labels.shape == (n, k)):
            return self._probability_targets(labels, shape)
        if labels.ndim != 1 or len(labels) != n:
            raise self.error("labels", f"array of shape {labels.shape}",
                             f"expected {n} class indices or targets of shape "
                             + " x ".join(map(str, shape))
                             + (f" or {n} x {k}" if shape[1:3] == (1, 1) else ""))
        if shape[1:3] != (1, 1):
            raise self.error("labels", f"array of shape {labels.shape}",
                             f"one class index per image needs a 1x1xK output; this one is "
                             f"{'x'.join(map(str, shape[1:]))}: give targets of shape "
                             + " x ".join(map(str, shape)))
        # class indices: integers (bool is not a class index) within 0..K-1; an integer
        # array needs only the range check
        if labels.dtype.kind not in "iu":
            as_float = labels.astype(np.float64)
            bad = ~np.isfinite(as_float) | (as_float != np.round(as_float))
            if labels.dtype.kind == "b":
                bad[:] = True
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                raise self.error(f"labels[{i}]", labels[i].item(), "class labels must be "
                                 f"integers 0..{k - 1}")
        index = labels.astype(np.int64)
        bad = (index < 0) | (index >= k)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise self.error(f"labels[{i}]", int(index[i]),
                             f"out of range: the network has {k} classes (0..{k - 1})")
        t = np.zeros((n, k))
        t[np.arange(n), index] = 1
        return t.reshape(shape)

    def _probability_targets(self, labels, shape):
        """Check one-hot/probability targets (in the shape given) and reshape them to shape."""
        t = labels.astype(np.float64)
        bad = ~np.isfinite(t) | (t < 0)
        if np.any(bad):
            where = tuple(int(v) for v in np.argwhere(bad)[0])
            raise self.error(f"labels[{', '.join(map(str, where))}]", t[where].item(),
                             "target probabilities must be finite and >= 0")
        sums = t.sum(axis=-1)
        off = np.abs(sums - 1) > 1e-5      # (y - t)/N is the softmax-input gradient only then
        if np.any(off):
            where = tuple(int(v) for v in np.argwhere(off)[0])
            raise self.error(f"sum of labels[{', '.join(map(str, where))}, :]",
                             sums[where].item(), "targets must sum to 1 over the classes "
                             "(one-hot rows or probabilities)")
        return t.reshape(shape)

    # ---- loss and its gradients ----------------------------------------------------------
    def loss_terms(self, y, labels) -> np.ndarray:
        """Per image n: -Σ_k t_nk·ln y_nk (summed over every position of an H×W×K output);
        shape (N,). The trace and the visualiser show these; ``loss`` is their mean."""
        t = self.targets(labels, y.shape)
        return -(t * np.log(_clip(y))).reshape(len(y), -1).sum(axis=1)

    def loss(self, y, labels) -> float:
        """-(1/N) Σ_n Σ_k t_nk·ln y_nk: the mean of ``loss_terms``."""
        return float(self.loss_terms(y, labels).mean())

    def loss_gradient(self, y, labels) -> np.ndarray:
        """d loss / d y = -t / (N·y) (y clipped as in ``loss``), in y's dtype."""
        t = self.targets(labels, y.shape)
        return (-t / (len(y) * _clip(y))).astype(y.dtype)

    def softmax_loss_gradient(self, y, labels) -> np.ndarray:
        """d loss / d a, the gradient at the SOFTMAX INPUT a, where y = softmax(a).

        Chaining -t/(N·y) through the softmax Jacobian y_r·([r == j] - y_j) gives
        (1/N)·(y_j·Σ_r t_r - t_j) = (y - t)/N, since the targets sum to 1. This form is exact
        and bounded by 1/N, whereas the two-step route divides by y (huge or inf when a
        probability underflows) and then multiplies by y again, losing the digits in between.
        The Network uses it whenever Softmax directly precedes this layer.
        """
        t = self.targets(labels, y.shape)
        return ((y - t) / len(y)).astype(y.dtype)

    def describe(self):
        names = self.classes
        if names is not None and len(names) <= 4:
            shown = [f"'{c}'" for c in names]
            listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
            return f"crossentropyex with {'class' if len(shown) == 1 else 'classes'} {listed}"
        if names is not None:
            return f"crossentropyex with '{names[0]}' and {len(names) - 1} other classes"
        if self.built:
            return f"crossentropyex with {self.output_shape[-1]} classes"
        return "crossentropyex"

    def config(self):
        return {"classes": None if self.classes is None else list(self.classes),
                "name": self.name}


class Regression(Layer):
    """Half mean squared error, summed over the responses of an image, averaged over images.

        loss = (1/N) Σ_n ½ Σ_i (t_ni - y_ni)²

    i runs over all R = H·W·C responses of image n; as in the reference, the sum is NOT divided
    by R (the "mean" is over the mini-batch only). d loss / d y = (y - t)/N.

    Targets: an array of the output's shape N×H×W×C, or N×R (the responses flattened row-major
    over H, W, C, as ``y.reshape(N, -1)`` does; for a 1×1×R output that is the natural N×R),
    or (N,) when R = 1.
    """
    kind, type_name = "regressionoutput", "Regression Output"
    is_loss = True

    def _forward(self, x, *, training=False, rng=None):
        return x

    def _backward(self, dy):
        return dy

    def targets(self, labels, shape) -> np.ndarray:
        """Targets t (float64, of ``shape`` = the output's N×H×W×C) from the regression
        targets ``labels``: an array of ``shape``, N×R, or (N,) when R = 1 (the same call as
        ``Classification.targets``), or a ValueError naming the layer."""
        t, shape = np.asarray(labels), tuple(shape)
        n, r = shape[0], int(np.prod(shape[1:]))
        if t.dtype.kind not in "biuf":
            raise self.error("targets", f"array of dtype {t.dtype}",
                             "regression targets must be numbers")
        if not (t.shape == shape or t.shape == (n, r) or (r == 1 and t.shape == (n,))):
            raise self.error("targets", f"array of shape {t.shape}",
                             f"the output is N x {' x '.join(map(str, shape[1:]))} with "
                             f"N = {n}: expected shape {shape} or {(n, r)}"
                             + (f" or {(n,)}" if r == 1 else ""))
        t = t.astype(np.float64)
        bad = ~np.isfinite(t)
        if np.any(bad):
            where = tuple(int(v) for v in np.argwhere(bad)[0])
            raise self.error(f"targets[{', '.join(map(str, where))}]", t[where].item(),
                             "regression targets must be finite")
        return t.reshape(shape)

    def loss(self, y, t) -> float:
        """(1/N)·½·Σ (t - y)² over every response of every image."""
        t = self.targets(t, y.shape)
        return float(0.5 * np.sum((t - y) ** 2) / len(y))

    def loss_gradient(self, y, t) -> np.ndarray:
        """d loss / d y = (y - t)/N, in y's dtype."""
        return ((y - self.targets(t, y.shape)) / len(y)).astype(y.dtype)

    def describe(self):
        return "mean-squared-error"
