"""The step picture of a layer that joins branches: Addition and DepthConcatenation.

A join reads several inputs (in1, in2, ..., each the output of another layer: the record's
``inputs`` and ``sources``) and writes one output element per step:

    addition             y[r, c, ch] = in1[r, c, ch] + in2[r, c, ch] + ...
    depth concatenation  y[r, c, ch] = in_i[r, c, ch − offset_i]      (a copy)

The picture (13 × 5.6 inches, as every one-value step picture, ``element_step.py``):

* a header: the layer, its type, "step k + 1 of n", the position;
* one map per input, left to right in input order, each titled with the input's name, the
  layer that fed it and the value it holds at the step's element (the element outlined);
  "+" between them for an Addition. For a concatenation only the input the element is
  copied from is outlined and named with its channel; the others are dimmed and say which
  output channels they fill;
* right: the output map of the element's channel filling in, in step order, titled
  ``= value``;
* under them the step's ``text()`` (the sum, or which input and channel it copies).

Every number written is the step's (``cnnlab.trace.steps_combine``): the inputs' values and
``step.value``, computed by the trace from the recorded inputs; nothing is computed here.
"""
from __future__ import annotations

from ..arithmetic.formatting import factor
from ..trace.step_base import flat_of
from ._step_view import record_step
from .canvas import Canvas
from .style import font
from .element_step import HEADER_PT, HEIGHT, TEXT_PT, TITLE_PT, WIDTH, ElementStepFigure, \
    MapPanel, unravel

MAX_PANEL = 3.0                    # inches: a map's side with two inputs
OPERATOR_PT = 30
DIMMED = 0.3                       # alpha of a concatenation's inputs not read


class JoinStepFigure:
    """The picture of an Addition's or a DepthConcatenation's forward step (module
    docstring): ``show_step(k)``, ``png()``; after it ``step``, ``index``, ``value_text``
    (the output's title, ``output = value``), ``input_titles`` (one Text per input),
    ``operators`` (the "+" / "=" Texts), ``equation``, ``canvas``."""

    kinds = ("add", "depthcat")

    def __init__(self, record, *, dpi: int = 80, text: bool = True):
        if record.kind not in self.kinds:
            raise ValueError(f"{type(self).__name__}: record {record.name!r} is a "
                             f"{record.type_name}, not an Addition or a DepthConcatenation")
        self.record, self.text = record, text
        self.adds = record.kind == "add"
        inputs = list(record.inputs)
        n = len(inputs)
        self.canvas = c = Canvas(WIDTH, HEIGHT, dpi)
        self.header = c.figure.text(0.015, 0.975, "", fontsize=HEADER_PT, weight="bold",
                                    va="top")
        # n input maps and the output, with an operator's width (0.55 in) between each two
        gap = 0.55
        size = min(MAX_PANEL, (WIDTH - 0.6 - gap * n) / (n + 1))
        top = 1.3                                        # inches from the top: 3-line titles
        y = 1 - (top + size) / HEIGHT

        def rect(x):
            return (x / WIDTH, y, size / WIDTH, size / HEIGHT)

        # an input's title: "in2 ← relu1" on one line if it fits the map's width
        self.fits = int(size * 72 / (0.6 * (TITLE_PT if size >= MAX_PANEL else 11)))
        x, self.input_panels, self.operators = 0.3, [], []
        middle = y + size / 2 / HEIGHT
        for i, array in enumerate(inputs):
            panel = MapPanel(c, c.axes(rect(x), frame=True), array, f"in{i + 1}")
            panel.title.set_fontsize(font(TITLE_PT if size >= MAX_PANEL else 11))
            self.input_panels.append(panel)
            x += size
            sign = ("+" if i < n - 1 else "=") if self.adds else ("|" if i < n - 1 else "→")
            self.operators.append(c.figure.text((x + gap / 2) / WIDTH, middle, sign,
                                                fontsize=OPERATOR_PT, ha="center",
                                                va="center", weight="bold"))
            x += gap
        if not self.adds:                     # which output channels each input fills
            offset, self.ranges = 0, []
            for array in inputs:
                self.ranges.append((offset, offset + array.shape[2] - 1))
                offset += array.shape[2]
        self.input_titles = [p.title for p in self.input_panels]
        self.output_panel = MapPanel(c, c.axes(rect(x), frame=True), record.output, "output")
        self.value_text = self.output_panel.title
        self.equation = c.figure.text(0.015, 0.17, "", fontsize=TEXT_PT, family="monospace",
                                      va="top")
        self.equation.set_visible(text)
        dynamic = [self.header, self.equation, *self.output_panel.artists()]
        for p in self.input_panels:
            dynamic += p.artists()
        c.animated(*dynamic)
        self.step = self.index = None
        self.show_step(0)

    def show_step(self, k: int):
        """Draw step ``k`` (0 .. record.num_steps - 1)."""
        rec = self.record
        step = record_step(self, k)
        self.step, self.index = step, int(k)
        flat = int(step.flat_index)
        row, col, ch = unravel(flat, rec.output_shape)
        self.header.set_text(f"{rec.name}  ({rec.type_name})   step {k + 1} of "
                             f"{rec.num_steps}   position {(row, col, ch)}")
        if self.adds:
            for i, (panel, source, term) in enumerate(zip(self.input_panels, step.sources,
                                                          step.terms)):
                panel.show(flat, title=f"{self._fed(i, source)}\n"
                                       f"{self._where(panel, ch)}{factor(term)}")
        else:
            self._show_copy(step, row, col)
        where = "" if self.output_panel.vector else f", channel {ch}"
        self.output_panel.show(flat, upto=True, title=f"output{where}\n= {factor(step.value)}")
        if self.text:
            self.equation.set_text(ElementStepFigure.wrapped(step.text()))
        return self

    def _show_copy(self, step, row, col):
        """A concatenation: the input copied from outlined at its channel, the others
        dimmed, each titled with the output channels it fills."""
        rec = self.record
        for i, panel in enumerate(self.input_panels):
            shape = rec.inputs[i].shape
            lo, hi = self.ranges[i]
            read = i + 1 == step.input
            channel = step.input_channel if read else min(panel.channel or 0, shape[2] - 1)
            where = "" if panel.vector else f"channel {channel}: "
            title = (f"{self._fed(i, step.source)}\n{where}{factor(step.value)}" if read else
                     f"{self._fed(i, rec.sources[i])}\nfills channels {lo}..{hi}")
            panel.show(flat_of(shape, row, col, channel), title=title)
            panel.outline.set_visible(read)
            panel.grid.image.set_alpha(1.0 if read else DIMMED)

    def _fed(self, i, source) -> str:
        """'in2 ← relu1', or on two lines when that is wider than the map."""
        one = f"in{i + 1} ← {source}"
        return one if len(one) <= self.fits else f"in{i + 1} ←\n{source}"

    @staticmethod
    def _where(panel, ch) -> str:
        return "" if panel.vector else f"channel {ch}: "

    def _repr_png_(self) -> bytes:
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()
