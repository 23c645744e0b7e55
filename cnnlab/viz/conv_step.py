"""One step of a convolution: the window, the products, the sum, the output filling in.

Reads a convolution ``LayerRecord`` of a trace (``net.trace(x)["conv_1"]``) and its
``WindowStep``s (``record.step(row, col, filter)``); nothing here computes a network value.
For output position (row, col) of filter f the picture shows

    value = Σ_c Σ_{u,v} xp[row·sh + u·dh, col·sw + v·dw, c] · w[u, v, c, f]  + b[f]

as panels, one row per input channel c that the filter sees (at most ``max_channels`` drawn):

* the padded input channel, padding cells grey and hatched (their numbers are the values the
  padding-value mode filled in), the window outlined in vermillion; with dilation the cells
  actually read are marked one by one;
* the filter channel as the layer applies it (``effective_weights``: the dilated filter, its
  holes blank and hatched);
* the element-wise products patch·weights of this window, titled with the channel's sum
  (written with the step's decimals: the products shown add up to it, or it says "≈");

and on the right the output map filling in: cells before the current one (in scan order,
row by row) show the recorded outputs, later cells are blank, the current one is outlined. The
text below writes the sum out: the terms ``w·x`` (abbreviated for big windows), each channel's
partial sum and their total, then ``total + bias = value``.

``ConvStepFigure(record, filter=0)``; ``show_step(i)`` or ``show_step((row, col))``; ``png()``.
The figure is built once; each step only moves and re-colours artists (a few ms).
"""
from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.lines import Line2D

from ._step_view import StepView
from .colourbar import HEIGHT as BAR_ROOM
from .style import font, get_style
from .canvas import (HIGHLIGHT, INSERTED, MAX_NUMBERS, WEIGHTS, Canvas, fmt,
                     limits)


def padding_label(value) -> str:
    """How padding cells were filled, for a panel title."""
    if isinstance(value, str):
        return value
    return f"the constant {fmt(value)}"


class ConvStepFigure(StepView):
    """The step picture of a convolution record (see the module docstring).

    record : a convolution (or transposed convolution) LayerRecord; filter : which filter
    max_channels : input channels drawn as rows (all are summed in the text)
    max_terms : products written out in the sum before abbreviating

    After ``show_step``: ``step`` (the WindowStep), ``index`` (scan-order position),
    ``window`` (list of the outline rectangles on the input panels), ``product_grids``,
    ``output_grid`` (its ``values`` hold NaN for cells not computed yet), ``equation`` (the
    Text under the panels), ``canvas``.
    """

    input_label = "input"
    filter_label = "filter"
    title_lines = 2            # lines in the input panel's title
    inserted = None            # cells to tint as inserted zeros (transposed convolution)
    kinds, kind_text, map_name = ("conv", "transposed-conv"), "a convolution", "filter"

    def __init__(self, record, filter: int = 0, *, max_channels: int = 3, max_terms: int = 12,
                 cell: float | None = None, dpi: int = 100, text: bool = True):
        self.record, self.filter = record, self.checked(record, filter)
        self.max_terms = max_terms
        self.text = text
        self.channels = record.channels_of(self.filter)
        self.shown = self.channels[:max_channels]
        self._build(cell, dpi)
        self.index = None
        self.show_step(0)

    # ---- layout ----------------------------------------------------------------------------
    def _build(self, cell, dpi):
        rec = self.record
        xp, wts = rec.padded_input, rec.effective_weights
        hp, wp = xp.shape[:2]
        eh, ew = wts.shape[:2]
        fh, fw = rec.weights.shape[:2]
        oh, ow = rec.output_shape[:2]
        big = max(hp, wp, oh, ow)
        s = cell or float(np.clip(3.0 / big, 0.09, 0.42))       # inches per input cell
        # filter / product cells: wide enough for their longest number
        sample = [fmt(v) for v in wts[:, :, :, self.filter].ravel()[:200]]
        middle = rec.step(oh // 2, ow // 2, self.filter)
        sample += [middle.number(v) for v in middle.products.ravel()[:200]]
        longest = max(len(t) for t in sample)
        sf = max(s, 0.32, 0.075 * longest + 0.06) if max(eh, ew) <= MAX_NUMBERS else s
        gap, left_m, top_m = 0.35, 0.2, 0.15
        title_h = 0.12 + 0.165 * self.title_lines
        rows = len(self.shown)
        out_w, out_h = ow * s, oh * s
        # room under the input maps and the output grid for their colour bars
        row_h = max(hp * s + BAR_ROOM, eh * sf, 1.0) + title_h
        row_h = max(row_h, (out_h + BAR_ROOM + title_h) / rows)
        widths = [wp * s, ew * sf, fw * sf, out_w]
        width = max(left_m * 2 + sum(widths) + gap * 3 + 0.3, 6.5)
        eq_h = (0.55 + 0.17 * (2 if len(self.channels) > 1 else 0)) if self.text else 0.1
        height = top_m + rows * row_h + eq_h
        self.canvas = c = Canvas(width, height, dpi)
        self.width_in = width

        def rect(x, y_top, w, h):     # inches from the top-left corner -> figure fractions
            return (x / width, 1 - (y_top + h) / height, w / width, h / height)

        vin = limits(xp[:, :, self.channels])
        vw = limits(wts[:, :, :, self.filter], symmetric=True)
        prods = [rec.step(r, q, self.filter).products for r, q in ((0, 0), (oh - 1, ow - 1))]
        self._vprod = limits(np.concatenate([p.ravel() for p in prods] + [
            (np.abs(wts[:, :, :, self.filter]).max() * np.abs(xp[np.isfinite(xp)]).max()
             * np.array([-1.0, 1.0])) if np.isfinite(xp).any() else np.zeros(1)]),
            symmetric=True)
        x0 = left_m
        self.input_axes, self.input_grids, self.window, self.read_marks = [], [], [], []
        self.filter_grids, self.product_axes, self.product_grids = [], [], []
        self.product_titles = []
        holes = np.ones((eh, ew), bool)
        holes[::rec.dilation[0], ::rec.dilation[1]] = False
        numbers_in = hp <= MAX_NUMBERS and wp <= MAX_NUMBERS
        for k, ch in enumerate(self.shown):
            y = top_m + k * row_h + title_h
            x = x0
            ax = c.axes(rect(x, y, wp * s, hp * s), frame=True)
            g = c.grid(ax, xp[:, :, ch], vmin=vin[0], vmax=vin[1], numbers=numbers_in,
                       fontsize=8 if s >= 0.3 else 6.5, colourbar=True)
            if self.inserted is not None:
                c.shade(ax, self.inserted, color=INSERTED, hatch="..")
            c.shade(ax, rec.padding_mask)
            if g.texts is not None:
                fixed = rec.padding_mask if self.inserted is None else (rec.padding_mask
                                                                        | self.inserted)
                for t in g.texts[fixed]:
                    t.set_color("#333333")
                    t.set_style("italic")
            c.title(ax, self._input_title(ch), loc="left")
            self.input_axes.append(ax)
            self.input_grids.append(g)
            self.window.append(c.outline(ax))
            mark = Line2D([], [], linestyle="none", marker="s", markersize=s * 72 * 0.55,
                          markerfacecolor="none", markeredgecolor=HIGHLIGHT,
                          markeredgewidth=1.2, zorder=6)
            ax.add_line(mark)
            self.read_marks.append(mark)
            x += wp * s + gap
            ax = c.axes(rect(x, y, ew * sf, eh * sf), frame=True)
            cidx = self.channels.index(ch)
            wk = np.where(holes, np.nan, wts[:, :, cidx, self.filter])
            self.filter_grids.append(c.grid(ax, wk, cmap=WEIGHTS, vmin=vw[0], vmax=vw[1]))
            if holes.any():
                c.shade(ax, holes, color="white", hatch="xx", alpha=1.0)
            c.title(ax, f"{self.filter_label} {self.filter}, ch {ch}" + (
                f"\ndilation {rec.dilation[0]}×{rec.dilation[1]}: holes" if holes.any()
                else ""), loc="left")
            x += ew * sf + gap
            ax = c.axes(rect(x, y, fw * sf, fh * sf), frame=True)
            self.product_axes.append(ax)
            self.product_titles.append(c.title(ax, f"products, ch {ch}"))
            self.product_grids.append(c.grid(ax, middle.products[:, :, cidx], cmap=WEIGHTS,
                                             vmin=self._vprod[0], vmax=self._vprod[1],
                                             formatter=middle.number))
            x += fw * sf + gap
        self.output_x = x
        ax = c.axes(rect(x, top_m + title_h, out_w, out_h), frame=True)
        out = rec.output[:, :, self.filter]
        vo = limits(out)
        self.output_axes = ax
        self.output_grid = c.grid(ax, np.full(out.shape, np.nan), vmin=vo[0], vmax=vo[1],
                                  fontsize=8 if s >= 0.3 else 6.5, colourbar=True)
        self.output_outline = c.outline(ax)
        self.output_title = c.title(ax, "", loc="left")
        self.equation = c.figure.text(left_m / width, (eq_h - 0.12) / height, "", va="top",
                                      ha="left", fontsize=font(9), family="monospace")
        st = get_style()       # characters per line: the style scales fonts and figure
        self._wrap = max(40, int((width - 2 * left_m) * st.size_scale / (0.085 * st.font_scale)))
        if self.text:
            c.animated(*self.window, *self.read_marks, *self.product_grids,
                       *self.product_titles, self.output_grid,
                       self.output_outline, self.output_title, self.equation)
        else:
            # numbers that change go to the caller's HTML (see ``caption``): text layout is
            # the slowest thing matplotlib does per step
            self.output_title.set_text(f"output, filter {self.filter}")
            c.animated(*self.window, *self.read_marks, *self.product_grids, self.output_grid,
                       self.output_outline)

    def _input_title(self, ch):
        rec = self.record
        pads = rec.pads
        text = f"{self.input_label}, ch {ch}"
        if any(pads):
            text += f"\npadding {pads} with {padding_label(rec.padding_value)}"
        return text

    # ---- one step --------------------------------------------------------------------------
    def show_step(self, which):
        """Draw the step at scan index ``which`` or at output position ``(row, col)``."""
        i, row, col = self.position(which)
        rec = self.record
        step = rec.step(row, col, self.filter)
        self.step, self.index = step, i
        dilated = max(rec.dilation) > 1
        cc, rr = np.meshgrid(step.cols, step.rows)
        for k, ch in enumerate(self.shown):
            Canvas.place(self.window[k], step.top, step.left, step.bottom, step.right)
            if dilated:
                self.read_marks[k].set_data(cc.ravel(), rr.ravel())
            cidx = step.channels.index(ch)
            # the products written at the step's decimals, so that they add up to the sum
            self.product_grids[k].update(step.products[:, :, cidx], formatter=step.number)
            if not self.text:
                continue
            self.product_titles[k].set_text(
                f"products, ch {ch}\n{step.channel_sum_text(cidx)}")
        out = rec.output[:, :, self.filter].astype(float).copy()
        flat = out.reshape(-1)
        flat[i + 1:] = np.nan                  # not computed yet in scan order
        self.output_grid.update(out)
        Canvas.place(self.output_outline, row, col, row + 1, col + 1)
        if not self.text:
            return self
        self.output_title.set_text(f"output, filter {self.filter}\n({row}, {col}) = "
                                   f"{step.number(step.output)}")
        self.equation.set_text(self.equation_text(step))
        return self

    def equation_text(self, step) -> str:
        """The sum written out, wrapped to the figure's width.

        The digits follow ``cnnlab.trace.sums``: the products' factors with 4 significant
        figures, and every number that is added (channel sums, total, bias, value) with the
        step's one number of decimals, so the printed terms add up to the printed totals;
        "≈" marks a total the printed terms reach only to within their rounding.
        """
        head = f"({step.row}, {step.col}):"
        if len(step.channels) == 1:
            lines = textwrap.wrap(step.products_text(self.max_terms), self._wrap) or [""]
            if len(lines) > 5:          # keep the end: "+ bias b = value"
                lines = lines[:4] + ["..."] + lines[-1:]
            return head + " " + "\n".join(lines)
        # several channels: the sums that make the value are never cut, the products may be
        sums = (textwrap.wrap(step.channel_sums_text(), self._wrap)
                + textwrap.wrap(step.total_text(), self._wrap))
        products = textwrap.wrap(step.products_text(self.max_terms, bias=False), self._wrap)
        room = max(1, 5 - len(sums))
        if len(products) > room:
            products = products[:room - 1] + ["..."] if room > 1 else [products[0] + " ..."]
        return head + " " + "\n".join(products + sums)

    def caption(self, step=None) -> str:
        """The step's numbers as plain text (what ``text=False`` leaves out of the picture)."""
        step = step or self.step
        pairs = [f"ch {c}: {step.number(v)}" for c, v in zip(step.channels, step.channel_sums)]
        sums = ", ".join(pairs if len(pairs) <= 8 else pairs[:6] + ["...", pairs[-1]])
        return (f"output ({step.row}, {step.col}) of filter {step.filter} = "
                f"{step.number(step.output)}; channel sums {sums}\n" + self.equation_text(step))

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()
