"""One backward step: the chain rule at one input element of one layer.

Going backward, a layer receives the gradient of the loss with respect to its output, dL/dy
(the *incoming* gradient, what the layer after it sent back), and sends back the gradient
with respect to its input. For input element x the chain rule reads

    dL/dx = Σ_{outputs y that read x} dL/dy · dy/dx        (incoming × local derivative)

— one term for an element-wise layer (ReLU: dy/dx = 1 if x > 0 else 0), one per window that
covers x for a convolution or pooling, one per output neuron for a fully connected layer.
A backward step (``record.backward_step_at(k)``) is that sum for one input element
(``step.flat_index`` in the flattened input); its ``value`` is the recorded dL/dx there.

The picture: left, the incoming gradient dL/dy (the record's ``output_gradient``) of the
element's channel, the dL/dy the step reads (``step.sources``) outlined; for the loss, and a
softmax feeding a cross-entropy loss (whose step is the combined (p − t)/N), there is no
incoming gradient and the panel says so; middle, the step's local derivative in words
(``local_formula``), how many terms dL/dy · ∂y/∂x it adds, the first two, and their sum (the
whole sum is the step's ``text()``, written under the picture or in the stepper's caption); right, dL/dx of the channel
filling in (``input_gradient``, in step order), the element outlined and titled with the
step's value. Under them the step's ``text()``.
"""
from __future__ import annotations

import numpy as np

from ..arithmetic.formatting import factor
from ..trace import sums as printed
from ._step_view import record_step
from .canvas import Canvas
from .element_step import HEADER_PT, HEIGHT, TEXT_PT, TITLE_PT, WIDTH, ElementStepFigure, \
    MapPanel, unravel

def part_of(step, name):
    """The step's ``name`` part (``incoming``, ``local``, ``product``): the attribute of that
    name or one starting with it (``incoming_gradient``, ``local_derivative``)."""
    for attr in (name, f"{name}_gradient", f"{name}_derivative", f"{name}s"):
        v = getattr(step, attr, None)
        if v is not None:
            return v
    return None


class BackwardStepFigure:
    """The picture of a backward step of any layer (see the module docstring):
    ``show_step(k)``, ``png()``; after it ``step``, ``index``, ``value_text``, ``equation``."""

    def __init__(self, record, *, dpi: int = 80, text: bool = True):
        self.text = text          # False: no written-out step (the caller shows it)
        if getattr(record, "input_gradient", None) is None:
            raise ValueError(f"BackwardStepFigure: {record.name} has no recorded gradient; "
                             "trace with backward=True and labels=...")
        self.record = rec = record
        self.canvas = c = Canvas(WIDTH, HEIGHT, dpi)
        self.header = c.figure.text(0.015, 0.975, "", fontsize=HEADER_PT, weight="bold",
                                    va="top")
        top, size = 0.95, 3.3
        y = 1 - (top + size) / HEIGHT

        def rect(x):
            return (x / WIDTH, y, size / WIDTH, size / HEIGHT)

        incoming = rec.output_gradient
        left = c.axes(rect(0.3), frame=incoming is not None)
        if incoming is None:
            self.incoming_panel = None
            c.title(left, "incoming gradient", fontsize=TITLE_PT)
            left.text(0.02, 0.5, ElementStepFigure.wrapped(getattr(
                rec, "note", "the loss: the gradient starts here, no incoming gradient"),
                30, 6),
                fontsize=13, va="center", transform=left.transAxes)
        else:
            self.incoming_panel = MapPanel(c, left, incoming, "incoming dL/dy",
                                           cmap="PuOr", symmetric=True)
            # a square as large as a cell around each source (a fixed 9-point marker sat
            # on the cell's number when the map has few, large cells)
            grid_rows, grid_cols = self.incoming_panel.plane(0).shape
            box = left.get_position()
            cell_pt = 0.9 * 72 * min(box.width * c.figure.get_figwidth() / grid_cols,
                                     box.height * c.figure.get_figheight() / grid_rows)
            (self.sources,) = left.plot([], [], linestyle="none", marker="s",
                                        markersize=max(cell_pt, 4), markerfacecolor="none",
                                        markeredgecolor="#D55E00", markeredgewidth=2,
                                        zorder=6)
        self.middle = c.axes((4.5 / WIDTH, y, 4.2 / WIDTH, size / HEIGHT))
        c.title(self.middle, "the chain rule at this element", fontsize=TITLE_PT)
        self.parts = self.middle.text(0.0, 0.97, "", fontsize=13, va="top",
                                      transform=self.middle.transAxes, family="monospace")
        self.gradient_panel = MapPanel(c, c.axes(rect(9.3), frame=True), rec.input_gradient,
                                       "dL/dx", cmap="PuOr", symmetric=True)
        self.value_text = self.gradient_panel.title
        self.equation = c.figure.text(0.015, 0.17, "", fontsize=TEXT_PT, family="monospace",
                                      va="top")
        self.equation.set_visible(text)
        dynamic = [self.header, self.parts, *self.gradient_panel.artists(), self.equation]
        if self.incoming_panel is not None:
            dynamic += self.incoming_panel.artists() + [self.sources]
        c.animated(*dynamic)
        self.step = self.index = None
        self.show_step(0)

    def show_step(self, k: int):
        rec = self.record
        n = rec.num_backward_steps
        step = record_step(self, k, backward=True, unit="backward steps")
        self.step, self.index = step, int(k)
        flat = int(step.flat_index)
        position = unravel(flat, rec.input_shape)
        self.header.set_text(f"{rec.name}  ({rec.type_name})   backward step {k + 1} of {n}"
                             f"   input position {position}")
        self.gradient_panel.show(flat, upto=True, title=f"dL/dx = {factor(step.value)}")
        if self.incoming_panel is not None:
            self._show_sources(step, position, flat)
        lines = []
        formula = getattr(step, "local_formula", None)
        if formula:
            lines.append(ElementStepFigure.wrapped(f"∂y/∂x = {formula}", 38, 2))
        incoming, local = part_of(step, "incoming"), part_of(step, "local")
        if incoming is not None and local is not None:
            # short: every glyph is drawn again each step; the caption has the whole sum
            g, d = np.ravel(incoming), np.ravel(local)
            terms = printed.join_terms([printed.product_term(factor(a), factor(b))
                                        for a, b in zip(g[:2], d[:2])])
            lines += [f"{len(g)} term{'s' if len(g) != 1 else ''} dL/dy · ∂y/∂x:",
                      f"  {terms}{' + ...' if len(g) > 2 else ''}"]
        else:                                         # where the gradient starts
            lines.append(ElementStepFigure.wrapped(str(getattr(step, "reads", "")), 38))
        lines.append(f"dL/dx = Σ = {factor(step.value)}")
        self.parts.set_text("\n".join(lines))
        if self.text:
            self.equation.set_text(ElementStepFigure.wrapped(step.text(), lines=3))
        return self

    def _show_sources(self, step, position, flat):
        """The incoming gradients the step reads, outlined on the incoming-gradient map (of
        the channel of the first one; the element's own channel for element-wise layers)."""
        out = np.asarray(self.record.output_gradient)
        sources = np.asarray(getattr(step, "sources", np.zeros((0, 3), int))).reshape(-1, 3)
        sources = sources[(sources >= 0).all(axis=1)]
        if out.shape == tuple(self.record.input_shape):
            target = flat
        elif len(sources):
            target = int(np.ravel_multi_index(tuple(sources[0]), out.shape))
        else:
            target = int(np.ravel_multi_index((0, 0, min(position[2], out.shape[2] - 1)),
                                              out.shape))
        panel = self.incoming_panel
        _r, _c, ch = panel.show(target)
        cells = [panel.cell(int(np.ravel_multi_index(tuple(s), out.shape))) for s in sources]
        cells = [(r, c) for r, c, k in cells if panel.vector or k == ch]
        self.sources.set_data([c for _r, c in cells], [r for r, _c in cells])
        panel.outline.set_visible(not cells)

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()
