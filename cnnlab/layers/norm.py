"""Batch normalization and cross-channel (local response) normalization."""
from __future__ import annotations

import numpy as np

from .. import arithmetic as ar
from .. import initializers
from .base import Layer, is_int, is_number, nonnegative_factor


class BatchNormalization(Layer):
    """Normalize each channel, then scale and shift it: y = scale·(x - μ)/√(σ² + ε) + offset.

    Training uses the mini-batch mean and (biased) variance over N, H, W and updates the
    trained statistics: trained = (1 - decay)·trained + decay·batch, the variance entering
    with the unbiased estimate (as PyTorch does). Prediction uses the trained statistics.
    """
    kind, type_name = "batchnorm", "Batch Normalization"
    has_training_mode = True

    def __init__(self, *, epsilon=1e-5, mean_decay=0.1, variance_decay=0.1, scale=None,
                 offset=None, scale_initializer="ones", offset_initializer="zeros",
                 scale_learn_rate_factor=1, offset_learn_rate_factor=1, scale_l2_factor=1,
                 offset_l2_factor=1, name=""):
        super().__init__(name=name)
        if not is_number(epsilon) or epsilon <= 0:
            raise self.error("epsilon", epsilon, "must be a positive number")
        for key, v in (("mean_decay", mean_decay), ("variance_decay", variance_decay)):
            if not is_number(v) or not 0 <= v <= 1:
                raise self.error(key, v, "must be in [0, 1]")
        self.epsilon, self.mean_decay, self.variance_decay = (float(epsilon), float(mean_decay),
                                                              float(variance_decay))
        self._inits = {"scale": initializers.check(self.label, "scale_initializer",
                                                   scale_initializer),
                       "offset": initializers.check(self.label, "offset_initializer",
                                                    offset_initializer)}
        self._given = {"scale": scale, "offset": offset}
        self.learn_rate_factors = {
            "scale": nonnegative_factor(self.label, "scale_learn_rate_factor",
                                        scale_learn_rate_factor),
            "offset": nonnegative_factor(self.label, "offset_learn_rate_factor",
                                         offset_learn_rate_factor)}
        self.l2_factors = {
            "scale": nonnegative_factor(self.label, "scale_l2_factor", scale_l2_factor),
            "offset": nonnegative_factor(self.label, "offset_l2_factor", offset_l2_factor)}
        self.last_mean = self.last_variance = self.last_normalized = None

    def _build(self, input_shape, rng):
        c = input_shape[2]
        self._arith = {"parameters": ar.batchnorm_parameters(c)}
        for key in ("scale", "offset"):
            if self._given[key] is not None:
                self.params[key] = initializers.given(self.label, key,
                                                      np.asarray(self._given[key]).reshape(-1),
                                                      (c,), self.dtype)
            else:
                self.params[key] = initializers.initialize(self._inits[key], (c,), num_in=c,
                                                           num_out=c, rng=rng,
                                                           dtype=self.dtype, label=self.label,
                                                           parameter=key)
        self.state = {"trained_mean": np.zeros(c, self.dtype),
                      "trained_variance": np.ones(c, self.dtype)}
        return input_shape

    def forward(self, x, *, training=False, rng=None):
        self._require_built()
        if training:
            m = x.shape[0] * x.shape[1] * x.shape[2]
            if m < 2:
                raise ValueError(f"{self.label}: training needs more than one value per "
                                 f"channel (batch {x.shape[0]} of {x.shape[1]}x{x.shape[2]}); "
                                 "the batch variance is undefined")
            mean = x.mean(axis=(0, 1, 2))
            var = x.var(axis=(0, 1, 2))
            s = self.state
            s["trained_mean"] = ((1 - self.mean_decay) * s["trained_mean"]
                                 + self.mean_decay * mean).astype(self.dtype)
            s["trained_variance"] = ((1 - self.variance_decay) * s["trained_variance"]
                                     + self.variance_decay * var * m / (m - 1)).astype(self.dtype)
        else:
            mean, var = self.state["trained_mean"], self.state["trained_variance"]
        y, xhat = self.kernels.batchnorm_forward(x, self.params["scale"], self.params["offset"],
                                                 mean, var, self.epsilon)
        self.last_mean, self.last_variance, self.last_normalized = mean, var, xhat
        self._cache = (xhat, var, training)
        return y

    def backward(self, dy):
        xhat, var, training = self._need_cache()
        dx, dg, db = self.kernels.batchnorm_backward(dy, xhat, self.params["scale"], var,
                                                     self.epsilon, training)
        self.grads = {"scale": dg, "offset": db}
        return dx

    def describe(self):
        return (f"Batch normalization with {self.input_shape[2]} channels" if self.built
                else "Batch normalization")

    def config(self):
        def init_name(i):
            return "custom" if callable(i) else i
        return {"epsilon": self.epsilon, "mean_decay": self.mean_decay,
                "variance_decay": self.variance_decay,
                "scale_initializer": init_name(self._inits["scale"]),
                "offset_initializer": init_name(self._inits["offset"]),
                "scale_learn_rate_factor": self.learn_rate_factors["scale"],
                "offset_learn_rate_factor": self.learn_rate_factors["offset"],
                "scale_l2_factor": self.l2_factors["scale"],
                "offset_l2_factor": self.l2_factors["offset"], "name": self.name}

    def arithmetic(self):
        return dict(self._arith) if self.built else {}


class CrossChannelNormalization(Layer):
    """x' = x / (k + α·ss / n)^β, ss the sum of squares over a window of n neighbouring
    channels (c - n//2 .. c + (n-1)//2, clipped at the ends).

    This is the reference documents' form: it divides α by the window size, so AlexNet's
    formula corresponds to α multiplied by n.
    """
    kind, type_name = "crossnorm", "Cross Channel Normalization"

    def __init__(self, window_channel_size, *, alpha=1e-4, beta=0.75, k=2, name=""):
        super().__init__(name=name)
        if not is_int(window_channel_size) or window_channel_size < 1:
            raise self.error("window_channel_size", window_channel_size,
                             "must be a positive integer")
        if not is_number(alpha) or alpha < 0:
            raise self.error("alpha", alpha, "must be a nonnegative number")
        if not is_number(beta):
            raise self.error("beta", beta, "must be a finite number")
        if not is_number(k) or k <= 0:
            raise self.error("k", k, "must be positive so k + α·ss/n stays positive")
        self.window_channel_size = int(window_channel_size)
        self.alpha, self.beta, self.k = float(alpha), float(beta), float(k)
        self.last_scale = None

    def forward(self, x, *, training=False, rng=None):
        self._require_built()
        y, scale = self.kernels.lrn_forward(x, self.window_channel_size, self.alpha, self.beta,
                                            self.k)
        self._cache = (x, y, scale)
        self.last_scale = scale
        return y

    def backward(self, dy):
        x, y, scale = self._need_cache()
        return self.kernels.lrn_backward(x, y, scale, dy, self.window_channel_size, self.alpha,
                                         self.beta)

    def describe(self):
        return f"cross channel normalization with {self.window_channel_size} channels per element"

    def config(self):
        return {"window_channel_size": self.window_channel_size, "alpha": self.alpha,
                "beta": self.beta, "k": self.k, "name": self.name}
