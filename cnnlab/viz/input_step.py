"""One step of the image input layer: the normalization of one pixel value.

The input layer computes y = (x − shift) / scale with statistics of the training data
(``cnnlab.layers.input``): zerocenter y = x − mean; zscore y = (x − mean) / std;
rescale-zero-one y = (x − min) / (max − min); rescale-symmetric y = 2(x − min)/(max − min) − 1;
none y = x. The statistic may be one number, one per channel or one per pixel (the mean
image); the middle panel writes the formula with the statistics AT THIS ELEMENT (the step's
``statistics``, ``cnnlab.trace.steps_elementwise.InputStep``). The frame around it is
``element_step.ElementStepFigure``.
"""
from __future__ import annotations

from ..arithmetic.formatting import factor
from .element_step import ElementStepFigure

FORMULAS = {"zerocenter": "y = x − mean", "zscore": "y = (x − mean) / std",
            "rescale-zero-one": "y = (x − min) / (max − min)",
            "rescale-symmetric": "y = 2 (x − min) / (max − min) − 1", "none": "y = x"}


class InputStepFigure(ElementStepFigure):
    """The step picture of an image input record (see the module docstring)."""

    kinds = ("imageinput",)

    def __init__(self, record, **options):
        self.normalization = record.normalization
        self.operation = f"normalization \"{self.normalization}\""
        super().__init__(record, **options)

    def _build_middle(self, ax):
        ax.axis("off")
        ax.text(0.0, 0.85, FORMULAS.get(self.normalization, self.normalization), fontsize=16,
                transform=ax.transAxes, family="monospace")
        self.numbers = ax.text(0.0, 0.65, "", fontsize=15, transform=ax.transAxes, va="top",
                               family="monospace")
        return [self.numbers]

    def _show_middle(self, step, x, y, position):
        lines = [f"x = {factor(step.x)}"] + [f"{k} = {factor(v)}"
                                             for k, v in step.statistics.items()]
        lines.append(f"y = {factor(y)}")
        self.numbers.set_text("\n".join(lines))
