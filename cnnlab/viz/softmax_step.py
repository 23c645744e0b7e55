"""One step of softmax: the exponentials, their sum, and one probability.

Softmax turns K scores z into probabilities; a shift s (0 for scores of moderate size, else
their largest value: e^(z − s) has the same ratios as e^z and never overflows) is taken off:

    e_k = e^(z_k − s)          p_k = e_k / Σ_r e_r

Left: the K exponentials as bars, the current class k in vermillion, the sum Σ e written
above; right: the probabilities filling in class by class (later classes not drawn yet), the
current one outlined and titled ``p_k = value``. The exponentials, their sum and the shift are
the step's (``cnnlab.trace.steps_output.SoftmaxStep``), the probabilities the record's
output.
"""
from __future__ import annotations

import numpy as np

from ..arithmetic.formatting import factor
from ._step_view import record_step
from .canvas import HIGHLIGHT, Canvas
from .element_step import HEADER_PT, HEIGHT, TEXT_PT, TITLE_PT, WIDTH, ElementStepFigure

GREY, BLUE = "#bbbbbb", "#0072B2"


class SoftmaxStepFigure:
    """The step picture of a softmax record (see the module docstring): ``show_step(k)``,
    ``png()``; after it ``step``, ``index``, ``value_text``, ``equation``, ``exp_bars``,
    ``prob_bars``."""

    kinds = ("softmax",)

    def __init__(self, record, *, dpi: int = 80, text: bool = True):
        self.text = text          # False: no written-out step (the caller shows it)
        if record.kind not in self.kinds:
            raise ValueError(f"SoftmaxStepFigure: record {record.name!r} is a "
                             f"{record.type_name}, not a softmax layer")
        self.record = rec = record
        self.canvas = c = Canvas(WIDTH, HEIGHT, dpi)
        self.header = c.figure.text(0.015, 0.975, "", fontsize=HEADER_PT, weight="bold",
                                    va="top")
        e = np.asarray(rec.step_at(0).exponentials, float)
        k = len(e)
        bottom, h = 1.6 / HEIGHT, 3.0 / HEIGHT
        self.exp_ax = c.figure.add_axes((0.7 / WIDTH, bottom, 5.4 / WIDTH, h))
        self.prob_ax = c.figure.add_axes((7.1 / WIDTH, bottom, 5.4 / WIDTH, h))
        labels = [str(i) for i in range(k)] if k <= 20 else None
        for ax in (self.exp_ax, self.prob_ax):
            ax.tick_params(labelsize=12)
            ax.set_xlim(-0.6, k - 0.4)
            if labels:
                ax.set_xticks(range(k), labels)
            ax.set_xlabel("class", fontsize=12)
        self.exp_ax.set_ylim(0, float(e.max()) * 1.25)
        self.prob_ax.set_ylim(0, 1.05)
        self.exp_bars = self.exp_ax.bar(range(k), e, color=GREY)
        self.prob_bars = self.prob_ax.bar(range(k), np.zeros(k), color=BLUE)
        self.exp_title = c.title(self.exp_ax, "", fontsize=TITLE_PT)
        self.value_text = c.title(self.prob_ax, "", fontsize=TITLE_PT)
        self.outline = self.prob_ax.bar([0], [0], fill=False, edgecolor=HIGHLIGHT,
                                        linewidth=3)[0]
        self.equation = c.figure.text(0.015, 0.15, "", fontsize=TEXT_PT, family="monospace",
                                      va="top")
        self.equation.set_visible(text)
        c.animated(self.header, *self.exp_bars, *self.prob_bars, self.exp_title,
                   self.value_text, self.outline, self.equation)
        self.step = self.index = None
        self.show_step(0)

    def show_step(self, k: int):
        rec = self.record
        n = rec.num_steps
        step = record_step(self, k, unit="classes")
        self.step, self.index = step, int(k)
        j = int(step.flat_index)
        e = np.asarray(step.exponentials, float)
        p = np.asarray(rec.output, float).reshape(-1)
        for i, bar in enumerate(self.exp_bars):
            bar.set_color(HIGHLIGHT if i == j else GREY)
        for i, bar in enumerate(self.prob_bars):
            bar.set_height(p[i] if i <= j else 0.0)
        self.outline.set_x(j - 0.4)
        self.outline.set_height(p[j])
        shift = f"z − {factor(step.shift)}" if step.shift else "z"
        self.exp_title.set_text(f"exponentials e^({shift}):  e_{j} = "
                                f"{factor(step.exponential)},  Σ e = {factor(step.exp_sum)}")
        self.value_text.set_text(f"probabilities:  p_{j} = e_{j} / Σ e = "
                                 f"{factor(step.value)}")
        self.header.set_text(f"{rec.name}  ({rec.type_name})   class {j}: step {k + 1} of {n}")
        if self.text:
            self.equation.set_text(ElementStepFigure.wrapped(step.text(), lines=2))
        return self

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()

