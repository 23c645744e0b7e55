"""The window layers (convolution, transposed convolution, pooling) stepped over ALL maps.

``ConvStepFigure``, ``TransposedStepFigure`` and ``PoolStepFigure`` each draw one filter or
channel. A whole-pass step of such a layer names any output by ``step.flat_index`` in the
flattened H×W×C output; the steps go map by map (filter 0's windows first), each map row by
row. This picture is the one-map figure of the step's map, built when the steps reach that
map (a few tens of milliseconds, once per map) and kept while they stay in it:

    row, col, map = unravel(step.flat_index, (H_out, W_out, C_out))
    figure(map).show_step((row, col))

``value_text`` is the figure's output title, which writes the recorded output at (row, col)
of that map — the step's value. The windows' own sums are written under the picture.
"""
from __future__ import annotations

import numpy as np

from ._step_view import record_step
from .conv_step import ConvStepFigure
from .element_step import MAX_NUMBERED, unravel
from .pool_step import PoolStepFigure
from .transposed_step import TransposedStepFigure

FIGURES = {"conv": ConvStepFigure, "transposed-conv": TransposedStepFigure,
           "maxpool": PoolStepFigure, "avgpool": PoolStepFigure, "gapool": PoolStepFigure,
           "gmpool": PoolStepFigure}


class WindowLayerStepFigure:
    """Steps of a window layer over all its maps (see the module docstring).

    record : a convolution, transposed convolution or pooling record with ``step_at``
    dpi : of the one-map figures (the default 100 draws their 8-9 pt numbers legibly)
    text : write the window's sum into the picture (False: the caller writes ``step.text()``
        itself, e.g. in large HTML; text layout is the slowest part of a step — and then the
        output map's numbers are left out too when it has more than ``MAX_NUMBERED`` cells:
        100 numbers redrawn per step cost ~60 ms; its colours still fill in)
    max_channels : input channels drawn as rows of a convolution (all are summed)
    After ``show_step(k)``: ``step`` (the record's step k), ``index``, ``map`` (the filter or
    channel), ``figure`` (the one-map figure), ``value_text``."""

    def __init__(self, record, *, dpi: int = 100, text: bool = True, max_channels: int = 3):
        if record.kind not in FIGURES:
            raise ValueError(f"WindowLayerStepFigure: record {record.name!r} is a "
                             f"{record.type_name}, not a convolution or pooling layer")
        self.record, self.dpi, self.text = record, dpi, text
        self.options = {"max_channels": max_channels} if record.kind in ("conv",
                                                                         "transposed-conv") else {}
        self.figures = {}
        self.map = self.figure = self.step = self.index = None
        self.show_step(0)

    def figure_of(self, which: int):
        """The one-map figure of filter / channel ``which`` (made once, the last 4 kept)."""
        if which not in self.figures:
            if len(self.figures) >= 4:
                self.figures.pop(next(iter(self.figures)))
            figure = FIGURES[self.record.kind](self.record, which, dpi=self.dpi,
                                               text=self.text, **self.options)
            texts = figure.output_grid.texts
            if not self.text and texts is not None and texts.size > MAX_NUMBERED:
                for t in texts.ravel():
                    t.set_visible(False)
            self.figures[which] = figure
        return self.figures[which]

    def show_step(self, k: int):
        rec = self.record
        step = record_step(self, k)
        row, col, which = unravel(step.flat_index, rec.output_shape)
        self.figure = self.figure_of(which)
        self.figure.show_step((row, col))
        self.step, self.index, self.map = step, int(k), which
        self.value_text = self.figure.output_title
        return self

    @property
    def canvas(self):
        return self.figure.canvas

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.figure.png()
