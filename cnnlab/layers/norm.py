"""Batch normalization and cross-channel (local response) normalization.

Both keep the input size H×W×C; the arithmetic lives in ``cnnlab.kernels.*.norm``.
"""
from __future__ import annotations

import numpy as np

from .. import arithmetic as ar
from .. import initializers
from .base import Layer, is_int, is_number, nonnegative_factor
from .learnable import initializer_name


class BatchNormalization(Layer):
    """Normalize each channel, then scale and shift it.

        y = scale_c·(x - μ_c)/sqrt(σ²_c + ε) + offset_c          (per channel c)

    Parameters: ``scale`` (C,) and ``offset`` (C,) (γ and β of the textbooks).
    State: ``trained_mean`` (C,), starting at 0, and ``trained_variance`` (C,), starting at 1.

    Training (``forward(x, training=True)``): μ and σ² are the mean and the biased variance
    (divide by M = N·H·W) of the mini-batch over N, H, W, and the trained statistics move
    towards them::

        trained_mean     = (1 - mean_decay)·trained_mean         + mean_decay·μ
        trained_variance = (1 - variance_decay)·trained_variance + variance_decay·σ²·M/(M-1)

    The running variance takes the unbiased estimate σ²·M/(M-1), as PyTorch's running_var
    does (so the two agree step for step with momentum = decay). A batch with M = 1 has no
    spread to estimate and is refused.

    Prediction (``training=False``): μ and σ² are the trained statistics.

    After each forward call ``last_mean``, ``last_variance`` (the statistics it divided by)
    and ``last_normalized`` (x̂, N×H×W×C) show what it did; they describe that call only.
    """
    kind, type_name = "batchnorm", "Batch Normalization"
    has_training_mode = True

    def __init__(self, *, epsilon=1e-5, mean_decay=0.1, variance_decay=0.1, scale=None,
                 offset=None, scale_initializer="ones", offset_initializer="zeros",
                 scale_learn_rate_factor=1, offset_learn_rate_factor=1, scale_l2_factor=1,
                 offset_l2_factor=1, name=""):
        super().__init__(name=name)
        # the reference documents give no lower bound; ε must only keep sqrt(σ² + ε) > 0
        if not is_number(epsilon) or epsilon <= 0:
            raise self.error("epsilon", epsilon, "must be a positive number")
        for key, v in (("mean_decay", mean_decay), ("variance_decay", variance_decay)):
            if not is_number(v) or not 0 <= v <= 1:
                raise self.error(key, v, "must be a number in [0, 1] (the weight of the new "
                                         "mini-batch statistic)")
        self.epsilon = float(epsilon)
        self.mean_decay, self.variance_decay = float(mean_decay), float(variance_decay)
        self._inits = {"scale": initializers.check(self.label, "scale_initializer",
                                                   scale_initializer),
                       "offset": initializers.check(self.label, "offset_initializer",
                                                    offset_initializer)}
        self._given = {}
        for key, value in (("scale", scale), ("offset", offset)):
            if value is not None:
                arr = np.array(value)
                if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
                    raise self.error(key, value, "must be a real numeric array of C values")
                if not np.all(np.isfinite(arr)):
                    raise self.error(key, value, "contains NaN or infinite values")
                self._given[key] = arr
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
            if key in self._given:    # (C,) or MATLAB's 1×1×C
                self.params[key] = initializers.given(self.label, key, self._given[key], (c,),
                                                      self.dtype)
            else:
                self.params[key] = initializers.initialize(
                    self._inits[key], (c,), num_in=c, num_out=c, rng=rng, dtype=self.dtype,
                    label=self.label, parameter=key)
        self.state = {"trained_mean": np.zeros(c, self.dtype),
                      "trained_variance": np.ones(c, self.dtype)}
        return input_shape

    def _forward(self, x, *, training=False, rng=None):
        if training:
            n, h, w = x.shape[:3]
            m = n * h * w
            if m < 2:
                raise self.error("input", f"array of shape {x.shape}",
                                 f"training needs at least 2 values per channel to estimate "
                                 f"a variance, but N·H·W = {n}·{h}·{w} = {m}")
            mean, var = self.kernels.batch_moments(x)      # var is biased: divides by M
            s, dt = self.state, self.dtype
            s["trained_mean"] = ((1 - self.mean_decay) * s["trained_mean"]
                                 + self.mean_decay * mean).astype(dt)
            s["trained_variance"] = ((1 - self.variance_decay) * s["trained_variance"]
                                     + self.variance_decay * var * (m / (m - 1))).astype(dt)
        else:
            mean = self.state["trained_mean"].copy()
            var = self.state["trained_variance"].copy()
        y, xhat = self.kernels.batchnorm_forward(x, self.params["scale"], self.params["offset"],
                                                 mean, var, self.epsilon)
        self.last_mean, self.last_variance, self.last_normalized = mean, var, xhat
        self._cache = (xhat, var, training)
        return y

    @property
    def last_normalized(self):
        """x̂ of the last forward call (N×H×W×C). When a fused stage of the fast backend ran
        this layer (``kernels/fast/conv_norm_stage.py``, ``norm_stage.py``), it left the
        input and the statistics instead (``record_normalization``) and x̂ = (x − μ)·(1/σ)
        is computed here when first read: the stages never write x̂ for the whole batch."""
        if self._normalized is None and self._normalized_from is not None:
            x, mean, inv_std = self._normalized_from
            self._normalized = ((x - mean) * inv_std).astype(x.dtype, copy=False)
            self._normalized_from = None
        return self._normalized

    @last_normalized.setter
    def last_normalized(self, xhat):
        self._normalized, self._normalized_from = xhat, None

    def record_normalization(self, x, mean, variance, inv_std):
        """What a fused stage that ran this layer leaves it: the input ``x`` and the
        statistics it normalized with (``last_mean``, ``last_variance``; ``inv_std`` =
        1/sqrt(variance + ε) as the stage computed it), from which ``last_normalized``
        follows."""
        self.last_mean, self.last_variance = mean, variance
        self._normalized, self._normalized_from = None, (x, mean, inv_std)

    def _backward(self, dy):
        # training: the batch statistics depend on x, and the kernel differentiates through them
        xhat, var, training = self._need_cache()
        dx, dscale, doffset = self.kernels.batchnorm_backward(
            dy, xhat, self.params["scale"], var, self.epsilon, training)
        self.grads = {"scale": dscale, "offset": doffset}
        return dx

    def describe(self):
        if not self.built:
            return "Batch normalization"
        return f"Batch normalization with {self.input_shape[2]} channels"

    def config(self):
        return {"epsilon": self.epsilon, "mean_decay": self.mean_decay,
                "variance_decay": self.variance_decay,
                "scale_initializer": initializer_name(self._inits["scale"]),
                "offset_initializer": initializer_name(self._inits["offset"]),
                "scale_learn_rate_factor": self.learn_rate_factors["scale"],
                "offset_learn_rate_factor": self.learn_rate_factors["offset"],
                "scale_l2_factor": self.l2_factors["scale"],
                "offset_l2_factor": self.l2_factors["offset"], "name": self.name}

    def arithmetic(self):
        """{"parameters": 2·C} as a cnnlab.arithmetic Result."""
        self._require_built()
        return dict(self._arith)


class CrossChannelNormalization(Layer):
    """Local response normalization across channels (no parameters).

        x' = x / (k + alpha·ss / window_channel_size)^beta

    ss is the sum of x² over a window of neighbouring channels at the same position: for
    channel c, channels c - n//2 .. c + (n-1)//2 (n = window_channel_size), clipped to the
    channels that exist. For odd n the window is centred; for even n it reaches one channel
    further back than forward (PyTorch's LocalResponseNorm convention). The division is always
    by n, even where the window is clipped at the first and last channels.

    This is the reference documents' form. AlexNet's paper writes k + alpha·ss without the
    division by n: its alpha equals this alpha divided by n.

    A window wider than the number of channels is allowed: it is clipped like any window at
    the ends (with n >= 2·C - 1 every channel sees all channels).

    Validation keeps the base k + alpha·ss/n positive (k > 0, alpha >= 0), so any finite beta
    is defined. ``last_scale`` (N×H×W×C) holds the bases of the last forward call.
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
            raise self.error("k", k, "must be a positive number so that the base "
                                     "k + alpha·ss/window_channel_size stays positive")
        self.window_channel_size = int(window_channel_size)
        self.alpha, self.beta, self.k = float(alpha), float(beta), float(k)
        self.last_scale = None

    def _forward(self, x, *, training=False, rng=None):
        y, scale = self.kernels.lrn_forward(x, self.window_channel_size, self.alpha, self.beta,
                                            self.k)
        self._cache = (x, y, scale)
        self.last_scale = scale
        return y

    def _backward(self, dy):
        x, y, scale = self._need_cache()
        return self.kernels.lrn_backward(x, y, scale, dy, self.window_channel_size, self.alpha,
                                         self.beta)

    def describe(self):
        return f"cross channel normalization with {self.window_channel_size} channels per element"

    def config(self):
        return {"window_channel_size": self.window_channel_size, "alpha": self.alpha,
                "beta": self.beta, "k": self.k, "name": self.name}
