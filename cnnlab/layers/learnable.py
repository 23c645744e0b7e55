"""The options every layer with a filter bank shares: initial arrays, initializers, learn-rate
and L2 factors, the bias (and whether there is one), and how config() records them.

``Convolution2D`` and ``TransposedConvolution2D`` (and, for the initializers and factors,
``FullyConnected``) read their learnable options here, so the checks and the messages are the
same in every layer:

    learn rate of a parameter  = learn rate · its learn-rate factor
    L2 penalty of a parameter  = (λ/2) · its L2 factor · Σ θ²,   λ = l2_regularization

(``cnnlab.solvers`` applies both). Also here: the small validators
of filter-bank layers (``channels_option``, ``initial_array``, ``shape_error``) and the
``brackets`` display of vectors.
"""
from __future__ import annotations

import numpy as np

from .. import initializers
from .base import Layer, is_int, nonnegative_factor, pair, positive_int


# ---- validators of filter-bank layers -------------------------------------------------------

def channels_option(label: str, value):
    """num_channels: "auto" or a positive integer."""
    if isinstance(value, str) and value == "auto":
        return value
    if not is_int(value) or value < 1:
        raise ValueError(f"{label}: num_channels = {value!r}: expected 'auto' or a positive "
                         "integer")
    return int(value)


def initial_array(label: str, parameter: str, value):
    """An optional weights/bias array given at construction, copied; its shape is checked at
    build, when the number of input channels is known."""
    if value is None:
        return None
    arr = np.array(value)
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"{label}: {parameter} = array of dtype {arr.dtype}: must be a real "
                         "numeric array")
    return arr


def shape_error(label: str, parameter: str, shape, why: str) -> ValueError:
    """A ValueError for a given weights/bias array of the wrong shape."""
    return ValueError(f"{label}: {parameter} = array of shape {tuple(shape)}: {why}")


def initializer_name(init):
    """An initializer as config() records it: its name, or 'custom' for a function."""
    return "custom" if callable(init) else init


def brackets(values) -> str:
    """(1, 1) -> '[1 1]', as the layer array display writes vectors."""
    return "[" + " ".join(str(v) for v in values) + "]"


# ---- the shared options ----------------------------------------------------------------------

class LearnableLayer(Layer):
    """A layer with "weights" and "bias" parameters whose options are read by
    ``_set_learnable``; ``_weights_from`` / ``_bias_from`` make the arrays at build."""

    def _set_learnable(self, weights, bias, inits, learn_rate_factors, l2_factors, *,
                       has_bias=True, arrays=True):
        """Check and keep the learnable options: the initial ``weights`` and ``bias`` arrays
        (or None), ``inits`` = (weights_initializer, bias_initializer), the (weights, bias)
        pairs of learn-rate and L2 factors, and ``has_bias``. ``arrays=False``: the layer
        keeps its own initial arrays."""
        weights_initializer, bias_initializer = inits
        weight_learn_rate_factor, bias_learn_rate_factor = learn_rate_factors
        weight_l2_factor, bias_l2_factor = l2_factors
        label = self.label
        if arrays:
            self._initial_weights = initial_array(label, "weights", weights)
            self._initial_bias = initial_array(label, "bias", bias)
        if not isinstance(has_bias, bool):
            raise self.error("has_bias", has_bias, "must be True or False")
        if not has_bias and bias is not None:
            raise self.error("has_bias", has_bias, "a bias array was given too: a layer "
                             "without bias adds a fixed 0")
        self._has_bias = has_bias
        self.weights_initializer = initializers.check(label, "weights_initializer",
                                                      weights_initializer)
        self.bias_initializer = initializers.check(label, "bias_initializer", bias_initializer)
        self.learn_rate_factors = {
            "weights": nonnegative_factor(label, "weight_learn_rate_factor",
                                          weight_learn_rate_factor),
            "bias": nonnegative_factor(label, "bias_learn_rate_factor", bias_learn_rate_factor)}
        self.l2_factors = {
            "weights": nonnegative_factor(label, "weight_l2_factor", weight_l2_factor),
            "bias": nonnegative_factor(label, "bias_l2_factor", bias_l2_factor)}

    @property
    def has_bias(self) -> bool:
        return self._has_bias

    def _weights_from(self, rng, shape, *, num_in: int, num_out: int, expected: str):
        """The weights: the given array (which must have ``shape``; ``expected`` says what
        that is in words) or a draw from the initializer with fan-in/fan-out num_in/num_out."""
        given = self._initial_weights
        if given is not None:
            if given.shape != tuple(shape):
                raise shape_error(self.label, "weights", given.shape, f"expected {expected}")
            return initializers.given(self.label, "weights", given, shape, self.dtype)
        return initializers.initialize(self.weights_initializer, shape, num_in=num_in,
                                       num_out=num_out, rng=rng, dtype=self.dtype,
                                       label=self.label, parameter="weights")

    def _bias_from(self, rng, f: int, *, num_in: int, num_out: int):
        """The (f,) bias: the given array (f values, shaped (f,), 1×1×f, 1×f or f×1) or a
        draw from the bias initializer."""
        b = self._initial_bias
        if b is not None:
            if b.size != f or b.shape not in ((f,), (1, 1, f), (1, f), (f, 1)):
                raise shape_error(self.label, "bias", b.shape,
                                  f"expected {f} values, shape ({f},) or 1x1x{f}")
            return initializers.given(self.label, "bias", b.reshape(f), (f,), self.dtype)
        return initializers.initialize(self.bias_initializer, (f,), num_in=num_in,
                                       num_out=num_out, rng=rng, dtype=self.dtype,
                                       label=self.label, parameter="bias")

    def _learnable_config(self) -> dict:
        """The config() entries of the shared options (initializers and factors)."""
        return {"weights_initializer": initializer_name(self.weights_initializer),
                "bias_initializer": initializer_name(self.bias_initializer),
                "weight_learn_rate_factor": self.learn_rate_factors["weights"],
                "bias_learn_rate_factor": self.learn_rate_factors["bias"],
                "weight_l2_factor": self.l2_factors["weights"],
                "bias_l2_factor": self.l2_factors["bias"]}


class FilterBank(LearnableLayer):
    """A layer of F filters of FH×FW slid with a stride (the convolution and the transposed
    convolution): the hyperparameters both read the same way, and the input-channel check."""

    def _set_filter_bank(self, filter_size, num_filters, stride, num_channels):
        label = self.label
        self._filter_size = pair(label, "filter_size", filter_size)
        self._num_filters = positive_int(label, "num_filters", num_filters)
        self._stride = pair(label, "stride", stride)
        self._num_channels_option = channels_option(label, num_channels)
        self._num_channels = None      # C, fixed at build
        self._arith = {}               # the cnnlab.arithmetic Results of the build

    @property
    def filter_size(self): return self._filter_size
    @property
    def num_filters(self): return self._num_filters
    @property
    def stride(self): return self._stride

    @property
    def num_channels(self):
        """Input channels C once built; before that "auto" or the given number."""
        return self._num_channels if self._num_channels is not None else \
            self._num_channels_option

    def _check_channels(self, input_shape):
        """At build: the input's channels against a given num_channels."""
        h, w, c = input_shape
        if is_int(self._num_channels_option) and self._num_channels_option != c:
            raise self.error("num_channels", self._num_channels_option,
                             f"the input {h}x{w}x{c} has {c} channels")

    def arithmetic(self):
        """The cnnlab.arithmetic Results behind the output size and the parameter count
        ("output_height", "output_width", "parameters", ...), with their formulas."""
        self._require_built()
        return dict(self._arith)
