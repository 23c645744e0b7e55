"""The ReLU family, tanh and sigmoid: element-wise, no parameters, shape unchanged."""
from __future__ import annotations

from .base import Layer, is_number


class _Elementwise(Layer):
    def _forward(self, x, *, training=False, rng=None):
        y = self._f(x)
        self._cache = (x, y)
        return y

    def _backward(self, dy):
        x, y = self._need_cache()
        return self._df(x, y, dy)


class ReLU(_Elementwise):
    """f(x) = x for x >= 0, 0 otherwise."""
    kind, type_name = "relu", "ReLU"

    def _f(self, x):
        return self.kernels.relu_forward(x)

    def _df(self, x, y, dy):
        return self.kernels.relu_backward(x, dy)

    def describe(self):
        return "ReLU"


class LeakyReLU(_Elementwise):
    """f(x) = x for x > 0, scale·x otherwise."""
    kind, type_name = "leakyrelu", "Leaky ReLU"

    def __init__(self, scale=0.01, *, name=""):
        super().__init__(name=name)
        if not is_number(scale):
            raise self.error("scale", scale, "must be a finite number")
        self.scale = float(scale)

    def _f(self, x):
        return self.kernels.leaky_relu_forward(x, self.scale)

    def _df(self, x, y, dy):
        return self.kernels.leaky_relu_backward(x, dy, self.scale)

    def describe(self):
        return f"Leaky ReLU with scale {self.scale:g}"

    def config(self):
        return {"scale": self.scale, "name": self.name}


class ClippedReLU(_Elementwise):
    """f(x) = min(max(x, 0), ceiling)."""
    kind, type_name = "clippedrelu", "Clipped ReLU"

    def __init__(self, ceiling, *, name=""):
        super().__init__(name=name)
        if not is_number(ceiling) or ceiling <= 0:
            raise self.error("ceiling", ceiling, "must be a positive finite number")
        self.ceiling = float(ceiling)

    def _f(self, x):
        return self.kernels.clipped_relu_forward(x, self.ceiling)

    def _df(self, x, y, dy):
        return self.kernels.clipped_relu_backward(x, dy, self.ceiling)

    def describe(self):
        return f"Clipped ReLU with ceiling {self.ceiling:g}"

    def config(self):
        return {"ceiling": self.ceiling, "name": self.name}


class Tanh(_Elementwise):
    """f(x) = tanh(x)."""
    kind, type_name = "tanh", "Tanh"

    def _f(self, x):
        return self.kernels.tanh_forward(x)

    def _df(self, x, y, dy):
        return self.kernels.tanh_backward(y, dy)

    def describe(self):
        return "Hyperbolic tangent"


class Sigmoid(_Elementwise):
    """f(x) = 1 / (1 + e^-x)."""
    kind, type_name = "sigmoid", "Sigmoid"

    def _f(self, x):
        return self.kernels.sigmoid_forward(x)

    def _df(self, x, y, dy):
        return self.kernels.sigmoid_backward(y, dy)

    def describe(self):
        return "sigmoid"
