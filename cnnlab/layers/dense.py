"""Fully connected: every output neuron sees every input value.

The input N×H×W×C is flattened row-major (over H, then W, then C) to N×D, and
y = x·Wᵀ + b with W of size OutputSize×D. The matrix product is the "loop" here: numpy
hands it to BLAS, the same in both backends.
"""
from __future__ import annotations

import numpy as np

from .. import arithmetic as ar
from .. import initializers
from .base import is_int
from .learnable import LearnableLayer


class FullyConnected(LearnableLayer):
    kind, type_name = "fc", "Fully Connected"

    def __init__(self, output_size, *, input_size="auto", weights=None, bias=None,
                 weights_initializer="glorot", bias_initializer="zeros",
                 weight_learn_rate_factor=1, bias_learn_rate_factor=1, weight_l2_factor=1,
                 bias_l2_factor=0, name=""):
        super().__init__(name=name)
        if not is_int(output_size) or output_size < 1:
            raise self.error("output_size", output_size, "must be a positive integer")
        if input_size != "auto" and (not is_int(input_size) or input_size < 1):
            raise self.error("input_size", input_size, "must be 'auto' or a positive integer")
        self.output_size, self._input_option = int(output_size), input_size
        self._initial = {"weights": None if weights is None else np.asarray(weights),
                         "bias": None if bias is None else np.asarray(bias)}
        self._set_learnable(weights, bias, (weights_initializer, bias_initializer),
                            (weight_learn_rate_factor, bias_learn_rate_factor),
                            (weight_l2_factor, bias_l2_factor), arrays=False)

    @property
    def input_size(self):
        return int(np.prod(self.input_shape)) if self.built else self._input_option

    def _build(self, input_shape, rng):
        d, k = int(np.prod(input_shape)), self.output_size
        if self._input_option != "auto" and self._input_option != d:
            raise self.error("input_size", self._input_option,
                             f"the input {'x'.join(map(str, input_shape))} flattens to {d}")
        self._arith = {"parameters": ar.fc_parameters(d, k)}
        for key, shape in (("weights", (k, d)), ("bias", (k,))):
            given = self._initial[key]
            if given is not None:
                if key == "bias" and given.size == k:
                    given = given.reshape(k)
                self.params[key] = initializers.given(self.label, key, given, shape, self.dtype)
            else:
                init = self.weights_initializer if key == "weights" else self.bias_initializer
                self.params[key] = initializers.initialize(
                    init, shape, num_in=d, num_out=k, rng=rng, dtype=self.dtype,
                    label=self.label, parameter=key)
        return (1, 1, k)

    def _forward(self, x, *, training=False, rng=None):
        flat = x.reshape(len(x), -1)
        self._cache = flat
        y = flat @ self.params["weights"].T + self.params["bias"]
        return y.reshape(len(x), 1, 1, self.output_size)

    def _backward(self, dy):
        flat = self._need_cache()
        dy = dy.reshape(len(dy), self.output_size)
        self.grads = {"weights": dy.T @ flat, "bias": dy.sum(axis=0)}
        return (dy @ self.params["weights"]).reshape((len(dy),) + self.input_shape)

    def describe(self):
        return f"{self.output_size} fully connected layer"

    def config(self):
        return {"output_size": self.output_size, "input_size": self._input_option,
                **self._learnable_config(), "name": self.name}

    def arithmetic(self):
        return dict(self._arith) if self.built else {}

    def multiply_adds(self):
        return ar.fc_multiply_adds(self.input_size, self.output_size).value if self.built else 0

    def spatial(self):
        return None
