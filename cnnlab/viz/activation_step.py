"""One step of an element-wise activation: the function's curve with the point on it.

    ReLU          f(x) = max(0, x)
    Leaky ReLU    f(x) = x for x > 0, scale · x otherwise
    Clipped ReLU  f(x) = min(max(0, x), ceiling)
    tanh          f(x) = (e^x − e^(−x)) / (e^x + e^(−x))
    sigmoid       f(x) = 1 / (1 + e^(−x))

The middle panel draws the curve over the range of the layer's inputs (the formula above, for
the eye), every recorded (input, output) pair of the channel as small grey dots (they lie on
the curve: that is what the layer computed), and the current element as a big vermillion point
at (x, step.value) with dotted guides to both axes. The frame around it is
``element_step.ElementStepFigure``.
"""
from __future__ import annotations

import numpy as np

from .element_step import ElementStepFigure, mark


def curve(kind: str, hyperparameters: dict, x: np.ndarray) -> np.ndarray:
    """The activation's formula (module docstring), for drawing its curve only."""
    if kind == "relu":
        return np.maximum(x, 0)
    if kind == "leakyrelu":
        return np.where(x > 0, x, hyperparameters.get("scale", 0.01) * x)
    if kind == "clippedrelu":
        return np.clip(x, 0, hyperparameters["ceiling"])
    if kind == "tanh":
        return np.tanh(x)
    if kind == "sigmoid":
        return 1 / (1 + np.exp(-x))
    raise ValueError(f"activation curve: no formula for layer kind {kind!r}")


FORMULAS = {"relu": "f(x) = max(0, x)", "leakyrelu": "f(x) = x if x > 0 else {scale:g}·x",
            "clippedrelu": "f(x) = min(max(0, x), {ceiling:g})", "tanh": "f(x) = tanh(x)",
            "sigmoid": "f(x) = 1 / (1 + e^−x)"}


class ActivationStepFigure(ElementStepFigure):
    """The step picture of an activation record (see the module docstring)."""

    kinds = tuple(FORMULAS)

    def __init__(self, record, **options):
        self.operation = FORMULAS[record.kind].format(**record.hyperparameters) \
            if record.kind in FORMULAS else record.type_name
        super().__init__(record, **options)

    def _build_middle(self, ax):
        rec = self.record
        x = np.asarray(rec.input, dtype=float)
        lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
        pad = max(0.1 * (hi - lo), 0.5)
        grid = np.linspace(min(lo, 0) - pad, max(hi, 0) + pad, 300)
        ax.plot(grid, curve(rec.kind, rec.hyperparameters, grid), color="#333333", lw=2.5)
        ax.axhline(0, color="#999999", lw=0.8)
        ax.axvline(0, color="#999999", lw=0.8)
        self.dots, = ax.plot([], [], ".", color="#9a9a9a", markersize=4)
        self.guides, = ax.plot([], [], ":", color="#D55E00", lw=1.5)
        self.point = mark(ax)
        ax.set_xlabel("x (input)", fontsize=12)
        ax.set_ylabel("f(x) (output)", fontsize=12)
        self.channel = None
        return [self.dots, self.guides, self.point]

    def _show_middle(self, step, x, y, position):
        rec = self.record
        ch = position[2]
        if ch != self.channel and rec.output_shape[0] * rec.output_shape[1] > 1:
            self.dots.set_data(rec.input[:, :, ch].ravel(), rec.output[:, :, ch].ravel())
            self.channel = ch
        elif self.channel is None:
            self.dots.set_data(np.ravel(rec.input), np.ravel(rec.output))
            self.channel = ch
        x0 = self.middle_axes.get_xlim()[0]
        y0 = self.middle_axes.get_ylim()[0]
        self.guides.set_data([x0, x, x], [y, y, y0])
        self.point.set_data([x], [y])
