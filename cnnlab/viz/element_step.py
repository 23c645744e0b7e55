"""The frame every one-value step picture shares: input map, the operation, output filling in.

An element-wise layer (activation, batch norm, dropout, image-input normalization,
cross-channel normalization) computes ONE output value from the input value at the same
position (and, for batch norm / LRN, a few statistics). Its step ``k`` (``record.step_at(k)``)
names that position by ``step.flat_index`` in the flattened H×W×C output:

    flat = (row · W + col) · C + channel        row, col, channel = unravel(flat, (H, W, C))

The picture, at a size readable on a projector (13 × 5.6 inches, 13-16 pt text; at the
default 80 dpi 1040 × 448 pixels, a size that renders and encodes in about 15 ms):

* a header: the layer, its type, "step k + 1 of n";
* left: the input map of the element's channel, the element outlined in vermillion (a
  1×1×C vector — after a fully connected layer — is laid out as a square for up to 36
  values, in rows of 12 for more);
* middle: the operation, drawn by the subclass (``_build_middle`` / ``_show_middle``): the
  activation's curve with the point, the channel's histogram with μ and σ, the dropout mask;
* right: the output map of the channel filling in, in step order (values before the current
  one shown, later ones blank), the current cell outlined and titled ``= value``;
* under them the step's own ``text()`` (the operation with its numbers filled in).

Nothing here computes a network value: the maps are the record's input and output, the
value written is ``step.value``. The figure is built once; a step moves the outlines and
rewrites a few texts; a step into another channel re-colours the two maps (a few ms).
"""
from __future__ import annotations

import textwrap

import numpy as np

from ..arithmetic.formatting import factor
from ._step_view import record_step
from .canvas import HIGHLIGHT, Canvas, limits

WIDTH, HEIGHT = 13.0, 5.6          # inches: 1040 × 448 px at 80 dpi
VECTOR_COLUMNS = 12                # a 1×1×C map is drawn as rows of this many cells
TEXT_PT, TITLE_PT, HEADER_PT = 15, 13, 16
MAX_NUMBERED = 36                  # cells of a map that get their numbers written


def unravel(flat: int, shape) -> tuple[int, int, int]:
    """(row, col, channel) of position ``flat`` in a flattened H×W×C array."""
    r, c, ch = np.unravel_index(int(flat), tuple(shape))
    return int(r), int(c), int(ch)


class MapPanel:
    """One H×W×C array shown channel by channel (or as a vector laid out in rows)."""

    def __init__(self, canvas, ax, array, title, *, cmap="viridis", symmetric=False,
                 columns: int | None = None):
        self.array = np.asarray(array, dtype=float)
        h, w, c = self.array.shape
        self.vector = h * w == 1
        # a vector: rows of ``columns`` cells (default: a square for up to 36 values, so
        # that their numbers are large; rows of 12 for more)
        default = int(np.ceil(np.sqrt(c))) if c <= MAX_NUMBERED else VECTOR_COLUMNS
        self.columns = min(c, columns or default)
        self.canvas, self.ax, self.symmetric = canvas, ax, symmetric
        self.name = title
        first = self.plane(0)
        lo, hi = limits(self.array if self.vector else first, symmetric)
        # numbers in the cells only when there are few: every number is redrawn each step
        self.grid = canvas.grid(ax, first, cmap=cmap, vmin=lo, vmax=hi, fontsize=11,
                                numbers=first.size <= MAX_NUMBERED)
        self.outline = canvas.outline(ax, linewidth=3)
        self.title = canvas.title(ax, "", fontsize=TITLE_PT)
        self.channel = None

    def plane(self, ch: int) -> np.ndarray:
        """The 2-D picture of channel ``ch`` (of the whole vector when H = W = 1)."""
        if not self.vector:
            return self.array[:, :, ch]
        v = self.array.reshape(-1)
        cols = self.columns
        rows = -(-len(v) // cols)
        out = np.full(rows * cols, np.nan)
        out[:len(v)] = v
        return out.reshape(rows, cols)

    def cell(self, flat: int) -> tuple[int, int, int]:
        """(row, col) in the picture of channel ``ch`` for array position ``flat``, and ch."""
        r, c, ch = unravel(flat, self.array.shape)
        if self.vector:
            cols = self.columns
            return ch // cols, ch % cols, ch
        return r, c, ch

    def show(self, flat: int, *, upto: bool = False, title: str | None = None):
        """Outline position ``flat``; with ``upto`` blank every later position of its
        channel (the step order: row by row within a channel, channels one after another)."""
        r, c, ch = self.cell(flat)
        values = self.plane(ch)
        if upto:
            values = values.copy()
            values.reshape(-1)[r * values.shape[1] + c + 1:] = np.nan
        if ch != self.channel and not self.vector:
            lo, hi = limits(values if not upto else self.array[:, :, ch], self.symmetric)
            self.grid.update(values, vmin=lo, vmax=hi)
        else:
            self.grid.update(values)
        self.channel = ch
        Canvas.place(self.outline, r, c, r + 1, c + 1)
        where = "" if self.vector else f", channel {ch}"
        self.title.set_text(title or f"{self.name}{where}")
        return r, c, ch

    def artists(self):
        return [self.grid, self.outline, self.title]


class ElementStepFigure:
    """Base class of the one-value step pictures (see the module docstring).

    record : a LayerRecord with ``num_steps`` / ``step_at``; ``show_step(k)``; ``png()``.
    After ``show_step``: ``step``, ``index``, ``value_text`` (the Text writing the value),
    ``equation`` (the Text of ``step.text()``), ``canvas``.
    """

    kinds: tuple = ()
    operation = ""             # the middle panel's title
    input_symmetric = output_symmetric = False

    def __init__(self, record, *, dpi: int = 80, text: bool = True):
        self.text = text          # False: no written-out step (the caller shows it)
        if self.kinds and record.kind not in self.kinds:
            raise ValueError(f"{type(self).__name__}: record {record.name!r} is a "
                             f"{record.type_name}, not one of the kinds {self.kinds}")
        self.record = record
        self.canvas = c = Canvas(WIDTH, HEIGHT, dpi)
        self.header = c.figure.text(0.015, 0.975, "", fontsize=HEADER_PT, weight="bold",
                                    va="top")
        top, size = 0.95, 3.3                 # panel tops (inches from the top), side
        y = 1 - (top + size) / HEIGHT

        def rect(x):
            return (x / WIDTH, y, size / WIDTH, size / HEIGHT)

        self.input_panel = MapPanel(c, c.axes(rect(0.3), frame=True), record.input, "input",
                                    symmetric=self.input_symmetric)
        self.middle_axes = c.figure.add_axes((4.55 / WIDTH, y + 0.25 / HEIGHT, 3.9 / WIDTH,
                                              (size - 0.25) / HEIGHT))
        self.middle_axes.tick_params(labelsize=11)
        self.middle_title = c.title(self.middle_axes, self.operation, fontsize=TITLE_PT)
        self.output_panel = MapPanel(c, c.axes(rect(9.3), frame=True), record.output,
                                     "output", symmetric=self.output_symmetric)
        self.value_text = self.output_panel.title
        self.equation = c.figure.text(0.015, 0.17, "", fontsize=TEXT_PT, family="monospace",
                                      va="top")
        self.equation.set_visible(text)
        middle = self._build_middle(self.middle_axes) or []
        c.animated(self.header, *self.input_panel.artists(), *self.output_panel.artists(),
                   self.equation, *middle)
        self.step = self.index = None
        self.show_step(0)

    # ---- subclasses ---------------------------------------------------------------------------
    def _build_middle(self, ax) -> list:
        """Draw the operation's static parts; return the artists that change per step."""
        ax.axis("off")
        return []

    def _show_middle(self, step, x: float, y: float, position) -> None:
        """Update the operation for ``step``: input value x, output value y, position
        (row, col, channel)."""

    # ---- one step -----------------------------------------------------------------------------
    def show_step(self, k: int):
        """Draw step ``k`` (0 .. record.num_steps - 1)."""
        rec = self.record
        n = rec.num_steps
        step = record_step(self, k)
        self.step, self.index = step, int(k)
        flat = int(step.flat_index)
        position = unravel(flat, rec.output_shape)
        x = float(np.asarray(rec.input).reshape(-1)[flat]) if rec.input.size == rec.output.size \
            else float("nan")
        self.header.set_text(f"{rec.name}  ({rec.type_name})   step {k + 1} of {n}   "
                             f"position {position}")
        self.input_panel.show(flat, title=self._input_title(x, position))
        self.output_panel.show(flat, upto=True, title=f"output = {factor(step.value)}")
        self._show_middle(step, x, float(step.value), position)
        if self.text:
            self.equation.set_text(self.wrapped(step.text()))
        return self

    def _input_title(self, x, position):
        where = "" if self.input_panel.vector else f", channel {position[2]}"
        return f"input{where}: x = {factor(x)}"

    @staticmethod
    def wrapped(text: str, width: int = 100, lines: int = 3) -> str:
        out = []
        for part in str(text).split("\n"):
            out += textwrap.wrap(part, width) or [""]
        return "\n".join(out[:lines] + (["..."] if len(out) > lines else []))

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()


def mark(ax, **options):
    """A marker (one point) to move with ``set_data([x], [y])``."""
    (line,) = ax.plot([], [], marker="o", markersize=13, color=HIGHLIGHT, zorder=6,
                      linestyle="none", **options)
    return line
