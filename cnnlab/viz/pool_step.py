"""One step of max or average pooling: the window, its winner or its mean, the output filling.

Reads a pooling ``LayerRecord`` (``trace["maxpool_1"]``) and its ``PoolStep``s
(``record.step(row, col, channel)``); nothing here computes a network value.

    max pooling      y[row, col, c] = max_{u < PH, v < PW} xp[row·sh + u, col·sw + v, c]
    average pooling  y[row, col, c] = (1 / (PH·PW)) · Σ_{u, v} xp[row·sh + u, col·sw + v, c]

Panels: the padded input channel (padding grey and hatched; max pooling pads with -∞, shown
as "-∞", so a padding cell never wins), the current window outlined in vermillion and the
previous window dashed in blue (when the stride is smaller than the pool the two overlap and
share cells; when it is larger the cells between windows are skipped); the window's values on
their own with the winner outlined (max) or the mean written under them (average); the output
map filling in, in scan order.

``PoolStepFigure(record, channel=0)``; ``show_step(i)`` or ``show_step((row, col))``; ``png()``.
"""
from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.lines import Line2D

from ..trace.sums import factor
from ._step_view import StepView
from .colourbar import HEIGHT as BAR_ROOM
from .style import font, get_style
from .canvas import MAX_NUMBERS, SECOND, Canvas, limits


class PoolStepFigure(StepView):
    """The step picture of a pooling record (see the module docstring).

    After ``show_step``: ``step`` (the PoolStep), ``index``, ``window`` / ``previous``
    (rectangles on the input), ``winner_mark`` (Line2D at the winner, max only),
    ``patch_grid``, ``output_grid`` (NaN where not computed yet), ``equation``.
    """

    kinds = ("maxpool", "avgpool", "gapool", "gmpool")
    kind_text, map_name = "a pooling layer", "channel"

    def __init__(self, record, channel: int = 0, *, cell: float | None = None,
                 dpi: int = 100, text: bool = True):
        self.record, self.channel = record, self.checked(record, channel)
        self.text = text
        self.is_max = record.mode.endswith("max")
        self._build(cell, dpi)
        self.index = None
        self.show_step(0)

    def _build(self, cell, dpi):
        rec, ch = self.record, self.channel
        xp = rec.padded_input[:, :, ch]
        hp, wp = xp.shape
        ph, pw = rec.pool_size
        oh, ow = rec.output_shape[:2]
        s = cell or float(np.clip(3.0 / max(hp, wp, oh, ow), 0.09, 0.42))
        sp = max(s, 0.32) if max(ph, pw) <= MAX_NUMBERS else s
        gap, m, title_h = 0.6, 0.2, 0.5
        eq_h = 0.65 if self.text else 0.1
        width = max(2 * m + (wp + ow) * s + pw * sp + 2 * gap + 0.3, 6.0)
        # room under the input and output grids for their colour bars
        height = 0.15 + title_h + max(hp * s + BAR_ROOM, ph * sp + 0.4, oh * s + BAR_ROOM) + eq_h
        self.canvas = c = Canvas(width, height, dpi)

        def rect(x, y, w, h):
            return (x / width, 1 - (y + h) / height, w / width, h / height)

        v = limits(xp)
        y0 = 0.15 + title_h
        small = hp <= MAX_NUMBERS and wp <= MAX_NUMBERS
        ax = c.axes(rect(m, y0, wp * s, hp * s), frame=True)
        self.input_grid = g = c.grid(ax, xp, vmin=v[0], vmax=v[1], numbers=small,
                                     fontsize=8 if s >= 0.3 else 6.5, colourbar=True)
        c.shade(ax, rec.padding_mask)
        if g.texts is not None:
            for t in g.texts[rec.padding_mask]:
                t.set_color("#333333")
                t.set_style("italic")
        pads = tuple(rec.pads)
        fill = "-∞ (never wins)" if self.is_max else "0 (counted in the mean)"
        c.title(ax, f"input, ch {ch}" + (f"\npadding {pads} filled with {fill}"
                                         if any(pads) else ""))
        self.previous = c.outline(ax, color=SECOND, linewidth=1.8, linestyle="--")
        self.window = c.outline(ax)
        self.winner_mark = Line2D([], [], linestyle="none", marker="s",
                                  markersize=max(4.0, s * 72 * 0.8), markerfacecolor="none",
                                  markeredgecolor=SECOND, markeredgewidth=2, zorder=6)
        ax.add_line(self.winner_mark)
        x = m + wp * s + gap
        ax = c.axes(rect(x, y0, pw * sp, ph * sp), frame=True)
        sample = rec.step(oh // 2, ow // 2, ch).patch            # sizes the numbers
        self.patch_grid = c.grid(ax, sample, vmin=v[0], vmax=v[1])
        self.patch_outline = c.outline(ax, color=SECOND)
        self.patch_title = c.title(ax, "")
        x += pw * sp + gap
        ax = c.axes(rect(x, y0, ow * s, oh * s), frame=True)
        vo = limits(rec.output[:, :, ch])
        self.output_grid = c.grid(ax, np.full((oh, ow), np.nan), vmin=vo[0], vmax=vo[1],
                                  fontsize=8 if s >= 0.3 else 6.5, colourbar=True)
        self.output_outline = c.outline(ax)
        self.output_title = c.title(ax, f"output, ch {ch}")
        self.equation = c.figure.text(m / width, (eq_h - 0.12) / height, "", va="top",
                                      fontsize=font(9), family="monospace")
        self.patch_title.set_text(f"window {ph}×{pw}\n"
                                  + ("winner outlined" if self.is_max else "averaged"))
        st = get_style()       # characters per line: the style scales fonts and figure
        self._wrap = max(40, int((width - 2 * m) * st.size_scale / (0.085 * st.font_scale)))
        dyn = [self.previous, self.window, self.winner_mark, self.patch_grid,
               self.patch_outline, self.output_grid, self.output_outline]
        if self.text:
            dyn += [self.output_title, self.equation]
        c.animated(*dyn)

    def show_step(self, which):
        i, row, col = self.position(which)
        rec = self.record
        step = rec.step(row, col, self.channel)
        self.step, self.index = step, i
        Canvas.place(self.window, step.top, step.left, step.bottom, step.right)
        if i > 0:
            prev = rec.step(*divmod(i - 1, rec.output_shape[1]), self.channel)
            Canvas.place(self.previous, prev.top, prev.left, prev.bottom, prev.right)
        self.previous.set_visible(i > 0)
        self.patch_grid.update(step.patch)
        if self.is_max:
            r, q = step.winner
            self.winner_mark.set_data([q], [r])
            Canvas.place(self.patch_outline, r - step.top, q - step.left, r - step.top + 1,
                         q - step.left + 1)
        self.winner_mark.set_visible(self.is_max)
        self.patch_outline.set_visible(self.is_max)
        out = rec.output[:, :, self.channel].astype(float).copy()
        out.reshape(-1)[i + 1:] = np.nan
        self.output_grid.update(out)
        Canvas.place(self.output_outline, row, col, row + 1, col + 1)
        if self.text:
            self.output_title.set_text(f"output, ch {self.channel}\n({row}, {col}) = "
                                       f"{factor(step.output)}")
            self.equation.set_text(self.caption(step))
        return self

    def caption(self, step=None) -> str:
        """The window's sum or maximum written out (digits by ``cnnlab.trace.sums``: an
        average's cells and sum share their decimals and add up as printed)."""
        step = step or self.step
        head = f"output ({step.row}, {step.col}) of channel {step.channel}: "
        body = step.body_text(16).replace("inf", "∞")     # as the grid writes it: -∞
        if self.is_max:
            body += (f", the winner at padded row {step.winner[0]}, column "
                     f"{step.winner[1]}")
        return "\n".join(textwrap.wrap(head + body, self._wrap))

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()
