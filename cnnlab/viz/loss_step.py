"""One step of the loss: one class's (or one response's) term, its target, the total so far.

Classification (cross-entropy) over K classes with targets t (one-hot for a class label):

    term_k = −t_k · ln p_k          loss = Σ_k term_k      (only the true class counts)

Regression (half squared error) over R responses with targets t:

    term_r = ½ (y_r − t_r)²          loss = Σ_r term_r

Left: the layer's input (the probabilities, or the responses) as bars with the targets drawn
as outlined bars, the current class / response in vermillion; right: the terms filling in,
the current one outlined, titled with its value and the running total. The step's value is
the layer's input there (the layer passes it on unchanged): the left panel's title writes it
(``value_text``), the right one the term (``term_text``). The targets are the
steps' (``step.target``, ``step.terms``, ``step.loss``: ``cnnlab.trace.steps_output``).
"""
from __future__ import annotations

import numpy as np

from ..arithmetic.formatting import factor
from ._step_view import record_step
from .canvas import HIGHLIGHT, Canvas
from .element_step import HEADER_PT, HEIGHT, TEXT_PT, TITLE_PT, WIDTH, ElementStepFigure

GREY, BLUE = "#bbbbbb", "#0072B2"


class LossStepFigure:
    """The step picture of a loss record traced with labels (see the module docstring)."""

    kinds = ("classoutput", "regressionoutput")

    def __init__(self, record, *, dpi: int = 80, text: bool = True):
        self.text = text          # False: no written-out step (the caller shows it)
        if record.kind not in self.kinds:
            raise ValueError(f"LossStepFigure: record {record.name!r} is a "
                             f"{record.type_name}, not a loss layer")
        first = record.step_at(0)
        if first.terms is None:
            raise ValueError(f"LossStepFigure: {record.name} was traced without labels; "
                             "trace with labels=... to see the loss terms")
        self.record = rec = record
        self.classify = rec.kind == "classoutput"
        self.canvas = c = Canvas(WIDTH, HEIGHT, dpi)
        self.header = c.figure.text(0.015, 0.975, "", fontsize=HEADER_PT, weight="bold",
                                    va="top")
        y = np.asarray(rec.input, float).reshape(-1)
        t = np.asarray(rec.targets, float).reshape(-1)
        self.terms = np.asarray(first.terms, float)
        k = len(y)
        bottom, h = 1.6 / HEIGHT, 3.0 / HEIGHT
        self.in_ax = c.figure.add_axes((0.7 / WIDTH, bottom, 5.4 / WIDTH, h))
        self.term_ax = c.figure.add_axes((7.1 / WIDTH, bottom, 5.4 / WIDTH, h))
        for ax in (self.in_ax, self.term_ax):
            ax.tick_params(labelsize=12)
            ax.set_xlim(-0.6, k - 0.4)
            if k <= 20:
                ax.set_xticks(range(k), [str(i) for i in range(k)])
            ax.set_xlabel("class" if self.classify else "response", fontsize=12)
        lo = min(float(y.min()), float(t.min()), 0.0)
        hi = max(float(y.max()), float(t.max()), 1.0 if self.classify else 0.0)
        self.in_ax.set_ylim(lo - 0.05 * (hi - lo), hi * 1.1)
        self.in_bars = self.in_ax.bar(range(k), y, color=GREY)
        self.in_ax.bar(range(k), t, fill=False, edgecolor="#333333", linewidth=2,
                       linestyle="--")
        self.value_text = c.title(self.in_ax, "", fontsize=TITLE_PT)
        top = float(np.nanmax(self.terms[np.isfinite(self.terms)], initial=0.0)) or 1.0
        self.term_ax.set_ylim(0, top * 1.2)
        self.term_bars = self.term_ax.bar(range(k), np.zeros(k), color=BLUE)
        self.outline = self.term_ax.bar([0], [0], fill=False, edgecolor=HIGHLIGHT,
                                        linewidth=3)[0]
        self.term_text = c.title(self.term_ax, "", fontsize=TITLE_PT)
        self.equation = c.figure.text(0.015, 0.15, "", fontsize=TEXT_PT, family="monospace",
                                      va="top")
        self.equation.set_visible(text)
        c.animated(self.header, *self.in_bars, *self.term_bars, self.outline,
                   self.value_text, self.term_text, self.equation)
        self.step = self.index = None
        self.show_step(0)

    def show_step(self, k: int):
        rec = self.record
        n = rec.num_steps
        step = record_step(self, k, unit="terms")
        self.step, self.index = step, int(k)
        j = int(step.flat_index)
        term = float(step.term)
        for i, bar in enumerate(self.in_bars):
            bar.set_color(HIGHLIGHT if i == j else GREY)
        for i, bar in enumerate(self.term_bars):
            bar.set_height(self.terms[i] if i <= j else 0.0)
        self.outline.set_x(j - 0.4)
        self.outline.set_height(max(term, 0.0))
        total = float(np.sum(self.terms[:j + 1]))     # the terms drawn so far
        what = "−t·ln p" if self.classify else "½(y − t)²"
        self.term_text.set_text(f"terms {what}:  term {j} = {factor(term)}, "
                                f"total so far {factor(total)}")
        name = "p" if self.classify else "y"
        self.value_text.set_text(f"{'probabilities' if self.classify else 'responses'} "
                                 f"(bars), targets t (dashed):\nt_{j} = "
                                 f"{factor(step.target)},  {name}_{j} = {factor(step.value)}")
        self.header.set_text(f"{rec.name}  ({rec.type_name})   term {j}: step {k + 1} of {n}"
                             f"   loss = {factor(step.loss)}")
        if self.text:
            self.equation.set_text(ElementStepFigure.wrapped(step.text(), lines=2))
        return self

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()

