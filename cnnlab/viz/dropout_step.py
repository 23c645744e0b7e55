"""One step of dropout: the mask at the element, and the scale 1 / (1 − p).

When training, dropout keeps each value with probability 1 − p and multiplies the kept ones
by 1 / (1 − p) (so that the expected output equals the input); the dropped ones become 0:

    y = mask · x / (1 − p)          mask ∈ {0, 1}, drawn from the network's Generator

When predicting (or with p = 0) dropout is the identity, y = x. The middle panel is the
channel's mask (kept cells dark, dropped cells white) with the element outlined, or, in
prediction mode, the sentence saying that nothing is dropped. The mask is the record's
``mask`` (the one the trace drew), the scale ``scale``. The frame around it is
``element_step.ElementStepFigure``.
"""
from __future__ import annotations

import numpy as np

from .element_step import ElementStepFigure, MapPanel


class DropoutStepFigure(ElementStepFigure):
    """The step picture of a dropout record (see the module docstring)."""

    kinds = ("dropout",)

    def __init__(self, record, **options):
        self.operation = (f"mask (dark: kept), kept × 1/(1 − {record.probability:g}) = "
                          f"× {record.scale:g}" if record.mask is not None
                          else "prediction mode: y = x")
        super().__init__(record, **options)

    def _build_middle(self, ax):
        rec = self.record
        if rec.mask is None:
            ax.axis("off")
            self.mask_panel = None
            ax.text(0.5, 0.5, rec.note, ha="center", va="center", fontsize=14, wrap=True,
                    transform=ax.transAxes)
            return []
        ax.set_position(self.input_panel.ax.get_position().translated(4.3 / 13.0, 0))
        for s in ax.spines.values():
            s.set_visible(True)
        ax.set_xticks([])
        ax.set_yticks([])
        self.mask_panel = MapPanel(self.canvas, ax, np.asarray(rec.mask, float), "mask",
                                   cmap="Greys")
        self.mask_panel.grid.update(self.mask_panel.plane(0), vmin=0, vmax=1)
        return self.mask_panel.artists()

    def _show_middle(self, step, x, y, position):
        if self.mask_panel is None:
            return
        kept = bool(np.asarray(self.record.mask).reshape(-1)[step.flat_index])
        self.mask_panel.show(step.flat_index, title=(
            f"mask = 1 (kept): y = x × {self.record.scale:g}" if kept
            else "mask = 0 (dropped): y = 0"))
        self.mask_panel.grid.update(self.mask_panel.grid.values, vmin=0, vmax=1)
