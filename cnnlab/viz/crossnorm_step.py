"""One step of cross-channel (local response) normalization: the window of channels.

At a pixel, channel c is divided by a power of the sum of squares of the n channels around it
(``window_channel_size`` = n, the window cut at the first and last channel):

    ss = Σ_{c' in window(c)} x(c')²       y(c) = x(c) / (k + α · ss / n)^β

The middle panel shows x² of every channel at the element's pixel as bars, the window of
channel c filled vermillion and the others grey, titled with ss and the divisor. ``ss`` is the
record's ``window_sums``, the window ``windows[c]``, the divisor base ``scale_factor``; the
frame around it is ``element_step.ElementStepFigure``.
"""
from __future__ import annotations

import numpy as np

from ..arithmetic.formatting import factor
from .canvas import HIGHLIGHT
from .element_step import ElementStepFigure


class CrossNormStepFigure(ElementStepFigure):
    """The step picture of a cross-channel normalization record (see the module
    docstring)."""

    kinds = ("crossnorm",)
    operation = "x² of every channel at this pixel"

    def _build_middle(self, ax):
        c = self.record.output_shape[2]
        squares = np.asarray(self.record.input, float) ** 2
        self.bars = ax.bar(np.arange(c), np.zeros(c), color="#bbbbbb", width=0.8)
        ax.set_xlim(-0.6, c - 0.4)
        ax.set_ylim(0, float(squares.max()) * 1.1 or 1.0)
        ax.set_xlabel("channel", fontsize=12)
        return list(self.bars) + [self.middle_title]

    def _show_middle(self, step, x, y, position):
        rec = self.record
        r, q, ch = position
        lo, hi = rec.windows[ch]
        squares = np.asarray(rec.input, float)[r, q] ** 2
        for i, bar in enumerate(self.bars):
            bar.set_height(squares[i])
            bar.set_color(HIGHLIGHT if lo <= i <= hi else "#bbbbbb")
        hp = rec.hyperparameters
        self.middle_title.set_text(
            f"window channels {lo}..{hi}: ss = {factor(rec.window_sums[r, q, ch])}\n"
            f"y = x / ({factor(hp.get('k', 2))} + {factor(hp.get('alpha', 1e-4))}·ss/"
            f"{hp.get('window_channel_size')})^{factor(hp.get('beta', 0.75))}")
