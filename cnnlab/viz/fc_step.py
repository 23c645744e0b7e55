"""One step of a fully connected layer: one output neuron as input × weights and its sum.

Output neuron j of a fully connected layer is one dot product over the flattened input
(x flattened in H×W×C order, so term i is input position (row, col, channel) =
unravel(i, (H, W, C))) plus the bias:

    y_j = Σ_i W[j, i] · x_i + b_j

The picture, left to right:

* the input, each channel a small H×W map side by side (a mosaic; a 1×1×C input is laid out in
  rows of 12) — the same for every neuron;
* the weight row W[j, :] laid out the same way, so a weight sits where its input value sits:
  the neuron's "template";
* the products W[j, i] · x_i, same layout (purple negative, orange positive);
* the running sum: the sum of the first i products as i goes along the flattened input, then
  + b_j: its last point is y_j;
* the output vector filling in, neuron j outlined and titled ``= value``.

The written-out sum is the step's ``text()``. The weight row is ``record.weights[j]`` and the
value ``step.value``; products and running sum are the step's when it carries them
(``products``, ``running_sum``), otherwise the element-wise product of the recorded input and
weight row (what the step's sum adds up).
"""
from __future__ import annotations

import numpy as np

from ..arithmetic.formatting import factor
from ._step_view import record_step
from .canvas import WEIGHTS, Canvas, limits
from .element_step import HEADER_PT, HEIGHT, TEXT_PT, TITLE_PT, WIDTH, ElementStepFigure, \
    MapPanel, mark


def mosaic(flat: np.ndarray, shape) -> np.ndarray:
    """A flattened H×W×C array as its C channel maps side by side (NaN between them), or a
    1×1×C vector as rows of 12."""
    h, w, c = shape
    if h * w == 1:
        cols = min(c, 12)
        out = np.full(-(-c // cols) * cols, np.nan)
        out[:c] = flat
        return out.reshape(-1, cols)
    cols = int(np.ceil(np.sqrt(c * h / w)))
    rows = -(-c // cols)
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    maps = np.asarray(flat, float).reshape(h, w, c)
    for ch in range(c):
        r, q = divmod(ch, cols)
        out[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = maps[:, :, ch]
    return out


class FullyConnectedStepFigure:
    """The step picture of a fully connected record (see the module docstring).

    ``show_step(k)`` (neuron k), ``png()``; after it: ``step``, ``index``, ``value_text``,
    ``equation``, ``weight_grid``, ``product_grid``, ``running``."""

    kinds = ("fc",)

    def __init__(self, record, *, dpi: int = 80, text: bool = True):
        self.text = text          # False: no written-out step (the caller shows it)
        if record.kind not in self.kinds:
            raise ValueError(f"FullyConnectedStepFigure: record {record.name!r} is a "
                             f"{record.type_name}, not a fully connected layer")
        self.record = rec = record
        self.canvas = c = Canvas(WIDTH, HEIGHT, dpi)
        self.header = c.figure.text(0.015, 0.975, "", fontsize=HEADER_PT, weight="bold",
                                    va="top")
        x = np.asarray(rec.flattened_input, float)
        w = np.asarray(rec.weights, float)
        top, size = 0.95, 2.4
        y0 = 1 - (top + size) / HEIGHT

        def rect(left, width=size):
            return (left / WIDTH, y0, width / WIDTH, size / HEIGHT)

        shape = rec.input_shape
        self.input_ax = c.axes(rect(0.25), frame=True)
        self.input_grid = c.grid(self.input_ax, mosaic(x, shape), numbers=False)
        c.title(self.input_ax, f"input x {shape[0]}×{shape[1]}×{shape[2]}", fontsize=TITLE_PT)
        self.weight_ax = c.axes(rect(2.85), frame=True)
        vw = limits(w, symmetric=True)
        self.weight_grid = c.grid(self.weight_ax, mosaic(w[0], shape), cmap=WEIGHTS,
                                  vmin=vw[0], vmax=vw[1], numbers=False)
        self.weight_title = c.title(self.weight_ax, "", fontsize=TITLE_PT)
        self.product_ax = c.axes(rect(5.45), frame=True)
        vp = limits(np.abs(w).max(axis=0) * np.abs(x), symmetric=True)
        self.product_grid = c.grid(self.product_ax, mosaic(w[0] * x, shape), cmap=WEIGHTS,
                                   vmin=vp[0], vmax=vp[1], numbers=False)
        c.title(self.product_ax, "products W[j, i]·x_i", fontsize=TITLE_PT)
        self.sum_ax = c.figure.add_axes((8.45 / WIDTH, y0 + 0.3 / HEIGHT, 2.6 / WIDTH,
                                         (size - 0.3) / HEIGHT))
        sums = np.cumsum(w * x, axis=1)
        lo = min(float(sums.min()), float((sums[:, -1] + rec.bias).min()), 0.0)
        hi = max(float(sums.max()), float((sums[:, -1] + rec.bias).max()), 0.0)
        pad = 0.08 * (hi - lo or 1.0)
        self.sum_ax.set_xlim(0, len(x) + max(1, len(x) // 12))
        self.sum_ax.set_ylim(lo - pad, hi + pad)
        self.sum_ax.axhline(0, color="#999999", lw=0.8)
        self.sum_ax.tick_params(labelsize=10)
        self.sum_ax.set_xlabel("term i (flattened input)", fontsize=11)
        c.title(self.sum_ax, "running sum, then + b", fontsize=TITLE_PT)
        self.running, = self.sum_ax.plot([], [], color="#333333", lw=1.5)
        self.bias_line, = self.sum_ax.plot([], [], color="#0072B2", lw=2.5)
        self.end = mark(self.sum_ax)
        k = rec.output_shape[2]               # the outputs as a column (or columns of 12)
        self.output = MapPanel(c, c.axes(rect(10.9, 1.6), frame=True), rec.output, "output",
                               columns=-(-k // 12))
        self.value_text = self.output.title
        self.reads = c.figure.text(0.015, 0.27, "", fontsize=TITLE_PT, va="top")
        self.equation = c.figure.text(0.015, 0.19, "", fontsize=TEXT_PT, family="monospace",
                                      va="top")
        self.equation.set_visible(text)
        c.animated(self.header, self.weight_grid, self.weight_title, self.product_grid,
                   self.running, self.bias_line, self.end, *self.output.artists(),
                   self.reads, self.equation)
        self.step = self.index = None
        self.show_step(0)

    def show_step(self, k: int):
        """Draw output neuron ``k``'s step."""
        rec = self.record
        n = rec.num_steps
        step = record_step(self, k, unit="output neurons")
        self.step, self.index = step, int(k)
        j = int(step.flat_index)
        x = np.asarray(rec.flattened_input, float)
        row = np.asarray(rec.weights[j], float)
        products = np.asarray(getattr(step, "products", None) if getattr(
            step, "products", None) is not None else row * x, float).reshape(-1)
        running = getattr(step, "running_sum", None)
        running = np.cumsum(products) if running is None else np.asarray(running, float)
        shape = rec.input_shape
        self.weight_grid.update(mosaic(row, shape))
        self.product_grid.update(mosaic(products, shape))
        self.weight_title.set_text(f"weights W[{j}, :]")
        terms = np.arange(1, len(running) + 1)
        self.running.set_data(terms, running)
        end = len(running) + max(1, len(running) // 12)
        self.bias_line.set_data([len(running), end], [running[-1], step.value])
        self.end.set_data([end], [step.value])
        self.header.set_text(f"{rec.name}  ({rec.type_name})   neuron {j}: step {k + 1} "
                             f"of {n}   ({len(x):,} products + bias)")
        self.output.show(j, upto=True, title=f"y[{j}] = {factor(step.value)}")
        big = np.argsort(-np.abs(products))[:2]
        where = ", ".join(f"{tuple(int(v) for v in np.unravel_index(i, shape))}: "
                          f"{factor(row[i])}·{factor(x[i])}" for i in big)
        self.reads.set_text(f"largest terms at (row, col, channel) {where}")
        if self.text:
            self.equation.set_text(ElementStepFigure.wrapped(step.text(), lines=2))
        return self

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()
