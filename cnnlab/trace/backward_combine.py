"""Backward steps of an Addition: the gradient reaches every input whole.

    y = in1 + in2 + ...   so   ∂y/∂in_i = 1   and   dL/d in_i[r, c, ch] = dL/dy[r, c, ch]

for every input i — one term, the incoming gradient times 1. In a residual block
y = F(x) + x this is why the skip path helps: whatever F does to its share, the identity
input receives dL/dy unchanged. A step walks the element (r, c, ch) of the inputs (all
H×W×C, channel by channel as every spatial layer); its ``value`` is dL/dy · 1, its
``output`` the recorded gradient of in1 (``rec.input_gradient``), and ``gradients`` every
input's recorded gradient there (``rec.input_gradients``, in1 first), each the same number.

A DepthConcatenation has no backward steps: it hands input i its slice of dL/dy
(channels offset_i .. offset_i + C_i − 1), a copy that ``rec.input_gradients`` shows whole.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arithmetic.formatting import factor
from .backward_steps import GradientStep
from .step_base import flat_of


@dataclass(frozen=True)
class AdditionGradientStep(GradientStep):
    """A ``GradientStep`` (one term: dL/dy · 1) plus ``gradients`` (each input's recorded
    dL/d in_i at the element, in1 first) and ``fed`` (the layer each input came from)."""
    gradients: tuple
    fed: tuple

    @property
    def reads(self) -> str:
        return f"the incoming gradient dL/dy{self.where}, passed to all {len(self.fed)} inputs"

    def text(self, max_terms: int = 12) -> str:
        each = ", ".join(f"in{i + 1} (back to '{s}') = {factor(g)}"
                         for i, (s, g) in enumerate(zip(self.fed, self.gradients)))
        return (f"dL/dx {self.where} = dL/dy · ∂y/∂x, ∂y/∂x = 1 for every input: "
                f"{factor(self.incoming[0])} · 1 = {factor(self.value)}; {each}")


def addition_gradient(rec, row, col, ch) -> AdditionGradientStep:
    g = float(rec.output_gradient[row, col, ch])
    return AdditionGradientStep(
        row=row, col=col, channel=ch, flat_index=flat_of(rec.input_shape, row, col, ch),
        value=g, output=float(rec.input_gradient[row, col, ch]),
        local_formula="1 (y = in1 + in2 + ...: every input gets dL/dy whole)",
        sources=np.array([[row, col, ch]]), labels=(f"dL/dy({row}, {col}, {ch})",),
        incoming=np.array([g]), local=np.array([1.0]), products=np.array([g]),
        gradients=tuple(float(x[row, col, ch]) for x in rec.input_gradients),
        fed=tuple(rec.sources))
