"""One step of batch normalization: the channel's histogram, μ and σ, and the element on it.

Batch norm normalizes each channel c with a mean μ_c and variance σ²_c — of the batch when
training, the running statistics when predicting (``record.mode`` says which) — then scales
and shifts it with the learned γ_c (``scale_param``) and β_c (``offset``):

    x̂ = (x − μ_c) / √(σ²_c + ε)          y = γ_c · x̂ + β_c

The middle panel is the histogram of the channel's inputs (the traced image's H×W values)
drawn in normalized units x̂, so that μ sits at 0 and μ ± σ at ±1 whatever the channel (the
axis stays put while the steps move from channel to channel); the current element is the
vermillion line at its x̂ and the panel's title gives μ, σ, x̂, γ and β. The histograms are of
the record's ``normalized`` (x̂ of every element), the numbers the step's
(``cnnlab.trace.steps_norm.BatchNormStep``); the frame around it is
``element_step.ElementStepFigure``.
"""
from __future__ import annotations

import numpy as np

from ..arithmetic.formatting import factor
from ..trace import sums as printed
from .canvas import SECOND
from .element_step import ElementStepFigure, mark

BINS = 30


class BatchNormStepFigure(ElementStepFigure):
    """The step picture of a batch normalization record (see the module docstring)."""

    kinds = ("batchnorm",)
    operation = "histogram of the channel, in units x̂"
    output_symmetric = False

    def _build_middle(self, ax):
        rec = self.record
        xhat = np.asarray(rec.normalized, dtype=float)
        finite = xhat[np.isfinite(xhat)]
        span = float(np.clip(np.abs(finite).max() if finite.size else 3.0, 3.0, 8.0))
        self.edges = np.linspace(-span, span, BINS + 1)
        c = rec.output_shape[2]
        self.counts = np.stack([np.histogram(np.clip(xhat[..., ch].ravel(), -span, span),
                                             self.edges)[0] / xhat[..., ch].size
                                for ch in range(c)])
        self.bars = ax.stairs(self.counts[0], self.edges, fill=True, color="#9ecae1",
                              edgecolor="#3182bd")
        top = float(self.counts.max()) * 1.15 or 1.0
        ax.set_xlim(-span, span)
        ax.set_ylim(0, top)
        ax.axvline(0, color=SECOND, lw=2.5)
        for s in (-1, 1):
            ax.axvline(s, color=SECOND, lw=2, ls="--")
        ax.text(0, top * 0.98, " μ", color=SECOND, fontsize=13, va="top")
        ax.text(1, top * 0.98, " μ+σ", color=SECOND, fontsize=13, va="top")
        ax.text(-1, top * 0.98, "μ−σ ", color=SECOND, fontsize=13, va="top", ha="right")
        ax.set_xlabel("x̂ = (x − μ) / σ", fontsize=12)
        ax.set_ylabel("fraction of the channel", fontsize=12)
        self.line = ax.axvline(0, color="#D55E00", lw=3)
        self.point = mark(ax)
        self.channel = None
        return [self.bars, self.line, self.point, self.middle_title]

    def _show_middle(self, step, x, y, position):
        rec = self.record
        ch = position[2]
        if ch != self.channel:
            self.bars.set_data(self.counts[ch], self.edges)
            self.channel = ch
        xhat = float(step.normalized)
        shown = float(np.clip(xhat, self.edges[0], self.edges[-1]))
        self.line.set_xdata([shown, shown])
        self.point.set_data([shown], [self.middle_axes.get_ylim()[1] * 0.5])
        self.middle_title.set_text(
            f"channel {ch}, {step.statistics} statistics: μ = {factor(step.mean)}, "
            f"σ = √(σ² + ε) = {factor(step.sigma)}\nx̂ = {factor(xhat)},  γx̂ + β = "
            + printed.join_terms([printed.product_term(factor(step.scale), factor(xhat)),
                                  factor(step.offset)]))
