"""Steps of the element-wise layers: one output element from one input element.

Each step reads the input x at its own (row, col, channel) and nothing else:

    image input    y = (x − shift) / scale with the normalization's statistics at that
                   element: zerocenter x − mean; zscore (x − mean) / std; rescale-zero-one
                   (x − min) / (max − min); rescale-symmetric 2·(x − min) / (max − min) − 1;
                   none: y = x
    relu           y = max(0, x)
    leaky relu     y = x if x > 0 else scale·x
    clipped relu   y = min(max(x, 0), ceiling)
    tanh           y = tanh(x)
    sigmoid        y = 1 / (1 + e^−x)
    dropout        training: y = 0 where the element was dropped, x·1/(1 − p) where kept;
                   prediction (or p = 0): y = x

The steps walk channel by channel, each channel row by row. ``value`` is the formula in
float64 from the recorded input; ``output`` what the network recorded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..arithmetic.formatting import factor
from .step_base import Step, flat_of, signed

ACTIVATIONS = ("relu", "leakyrelu", "clippedrelu", "tanh", "sigmoid")


def sigmoid(x: float) -> float:
    # written so that no exp overflows, as the kernels do
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@dataclass(frozen=True)
class ActivationStep(Step):
    """One element through an activation (fields of ``Step`` plus):

    function : the layer kind ("relu", "leakyrelu", "clippedrelu", "tanh", "sigmoid")
    x : the input element;  parameter : the leaky scale or the clipped ceiling (else None)
    """
    function: str
    x: float
    parameter: float | None = None

    @property
    def reads(self) -> str:
        return f"input x = {factor(self.x)} at {self.where}"

    def formula(self) -> str:
        x, v = signed(self.x), factor(self.value)
        if self.function == "relu":
            return f"max(0, {factor(self.x)}) = {v}"
        if self.function == "leakyrelu":
            if self.x > 0:
                return f"{factor(self.x)} > 0, so y = x = {v}"
            return f"{factor(self.x)} ≤ 0, so y = {factor(self.parameter)}·{x} = {v}"
        if self.function == "clippedrelu":
            return f"min(max({factor(self.x)}, 0), {factor(self.parameter)}) = {v}"
        if self.function == "tanh":
            return f"tanh({factor(self.x)}) = {v}"
        return f"1 / (1 + e^−{x}) = {v}"

    def text(self) -> str:
        return f"output {self.where}: {self.formula()}"


def activation_step(rec, row, col, ch) -> ActivationStep:
    x = float(rec.input[row, col, ch])
    kind = rec.kind
    parameter = None
    if kind == "relu":
        value = max(0.0, x)
    elif kind == "leakyrelu":
        parameter = float(rec.hyperparameters["scale"])
        value = x if x > 0 else parameter * x
    elif kind == "clippedrelu":
        parameter = float(rec.hyperparameters["ceiling"])
        value = min(max(x, 0.0), parameter)
    elif kind == "tanh":
        value = math.tanh(x)
    else:
        value = sigmoid(x)
    return ActivationStep(row=row, col=col, channel=ch,
                          flat_index=flat_of(rec.output_shape, row, col, ch), value=value,
                          output=float(rec.output[row, col, ch]), function=kind, x=x,
                          parameter=parameter)


@dataclass(frozen=True)
class InputStep(Step):
    """One element of the image input layer's normalization (fields of ``Step`` plus):

    normalization : the layer's normalization; x : the raw pixel value
    statistics : {name: value} of the statistics used at this element ("mean", "std",
        "min", "max"; empty for "none" or when they are not set)
    shift, scale : y = (x − shift) / scale
    """
    normalization: str
    x: float
    statistics: dict
    shift: float
    scale: float

    @property
    def reads(self) -> str:
        stats = ", ".join(f"{k} = {factor(v)}" for k, v in self.statistics.items())
        return f"pixel x = {factor(self.x)} at {self.where}" + (f"; {stats}" if stats else "")

    def formula(self) -> str:
        s, x, v = self.statistics, factor(self.x), factor(self.value)
        if self.normalization == "zerocenter" and "mean" in s:
            return f"x − mean = {x} − {signed(s['mean'])} = {v}"
        if self.normalization == "zscore" and "mean" in s:
            return f"(x − mean) / std = ({x} − {signed(s['mean'])}) / {factor(s['std'])} = {v}"
        if self.normalization == "rescale-zero-one" and "min" in s:
            return (f"(x − min) / (max − min) = ({x} − {signed(s['min'])}) / "
                    f"({factor(s['max'])} − {signed(s['min'])}) = {v}")
        if self.normalization == "rescale-symmetric" and "min" in s:
            return (f"2·(x − min) / (max − min) − 1 = 2·({x} − {signed(s['min'])}) / "
                    f"({factor(s['max'])} − {signed(s['min'])}) − 1 = {v}")
        why = "no normalization" if self.normalization == "none" else "statistics not set"
        return f"{why}: y = x = {v}"

    def text(self) -> str:
        return f"output {self.where}: {self.formula()}"


def _statistic(arr, row, col, ch) -> float:
    """A stored statistic (1×1×1, 1×1×C or H×W×C) at one element."""
    a = np.asarray(arr)
    a = a.reshape((1,) * (3 - a.ndim) + a.shape)
    return float(a[min(row, a.shape[0] - 1), min(col, a.shape[1] - 1), min(ch, a.shape[2] - 1)])


def input_step(rec, row, col, ch) -> InputStep:
    x = float(rec.input[row, col, ch])
    norm = rec.normalization
    needs = {"zerocenter": ("mean",), "zscore": ("mean", "std"),
             "rescale-zero-one": ("min", "max"), "rescale-symmetric": ("min", "max")}
    names = needs.get(norm, ())
    stats = ({k: _statistic(rec.statistics[k], row, col, ch) for k in names}
             if all(k in rec.statistics for k in names) else {})
    shift, scale = 0.0, 1.0
    if norm == "zerocenter" and stats:
        shift = stats["mean"]
    elif norm == "zscore" and stats:
        shift, scale = stats["mean"], stats["std"]
    elif norm == "rescale-zero-one" and stats:
        shift, scale = stats["min"], stats["max"] - stats["min"]
    elif norm == "rescale-symmetric" and stats:
        # 2·(x − min)/(max − min) − 1 = (x − (min + max)/2) / ((max − min)/2)
        shift, scale = (stats["min"] + stats["max"]) / 2, (stats["max"] - stats["min"]) / 2
    return InputStep(row=row, col=col, channel=ch,
                     flat_index=flat_of(rec.output_shape, row, col, ch),
                     value=(x - shift) / scale, output=float(rec.output[row, col, ch]),
                     normalization=norm, x=x, statistics=stats, shift=shift, scale=scale)


@dataclass(frozen=True)
class DropoutStep(Step):
    """One element through dropout (fields of ``Step`` plus):

    x : the input element; training : whether the trace ran in training mode
    kept : False when this element was dropped (always True when predicting)
    probability : p; scale : 1/(1 − p), the factor of the kept elements in training
    """
    x: float
    training: bool
    kept: bool
    probability: float
    scale: float

    @property
    def reads(self) -> str:
        mask = "" if not self.training else f"; mask {'kept' if self.kept else 'dropped'}"
        return f"input x = {factor(self.x)} at {self.where}{mask}"

    def formula(self) -> str:
        x, v = factor(self.x), factor(self.value)
        if not self.training or self.probability == 0:
            why = "prediction: dropout is the identity" if not self.training else "p = 0"
            return f"{why}, y = x = {v}"
        if not self.kept:
            return f"dropped (probability {self.probability:g}): y = 0·{signed(self.x)} = {v}"
        return (f"kept: y = x·1/(1 − {self.probability:g}) = {x}·{factor(self.scale)} "
                f"= {v}")

    def text(self) -> str:
        return f"output {self.where}: {self.formula()}"


def dropout_step(rec, row, col, ch) -> DropoutStep:
    x = float(rec.input[row, col, ch])
    masked = rec.mask is not None
    kept = bool(rec.mask[row, col, ch]) if masked else True
    value = (x * rec.scale if kept else 0.0) if masked else x
    return DropoutStep(row=row, col=col, channel=ch,
                       flat_index=flat_of(rec.output_shape, row, col, ch), value=value,
                       output=float(rec.output[row, col, ch]), x=x,
                       training=bool(rec.training), kept=kept,
                       probability=float(rec.probability),
                       scale=float(rec.scale) if masked else 1.0)
