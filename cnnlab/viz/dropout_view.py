"""Dropout: the mask over the activations, the survivors scaled, the count against the odds.

Reads a dropout ``LayerRecord`` (``net.trace(x, training=True)["dropout_1"]``): ``input``,
``output``, ``mask`` (True = kept; None in prediction mode), ``probability`` p, ``scale``
1/(1 - p), ``kept`` and ``expected_kept``. In training each activation is dropped
independently with probability p and the survivors are multiplied by 1/(1 - p), so the
expected value of every output equals its input:

    y = x · m / (1 - p),   m ~ Bernoulli(1 - p),   E[y] = x
    values kept ~ Binomial(n, 1 - p):  expected (1 - p)·n, dropped expected p·n

In prediction mode dropout is the identity: nothing dropped, nothing scaled.

Panels for one channel (the two activation grids each on its own colour range, shown by its
colour bar, so the input looks the same whatever p is): the activations going in, the mask (kept cells blue, dropped cells
grey and crossed), the activations coming out (dropped cells 0, kept ones scaled); the text
gives the counts over every value of the layer (H×W×C).
``DropoutView(record, channel=0)``; ``show(record)`` redraws in place (same shape); ``png()``.
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap

from .canvas import MAX_NUMBERS, Canvas, fmt, limits
from .colourbar import HEIGHT as BAR_ROOM
from .style import font

MASK_COLORS = ListedColormap(["#D9D9D9", "#56B4E9"])     # dropped: grey, kept: sky blue


class DropoutView:
    """The dropout picture (see the module docstring).

    After ``show``: ``input_grid``, ``mask_grid`` (1 kept, 0 dropped), ``output_grid``,
    ``summary`` (the Text with the counts), ``record``.
    """

    def __init__(self, record, channel: int = 0, *, cell: float | None = None, dpi: int = 100):
        if getattr(record, "kind", None) != "dropout":
            raise ValueError(f"DropoutView: record {getattr(record, 'name', record)!r} is a "
                             f"{getattr(record, 'type_name', type(record).__name__)}, not "
                             "dropout")
        h, w, c = record.input_shape
        if not isinstance(channel, (int, np.integer)) or not 0 <= channel < c:
            raise ValueError(f"DropoutView: channel = {channel!r} is out of range 0..{c - 1}")
        self.channel, self.shape = int(channel), record.input_shape
        s = cell or float(np.clip(2.4 / max(h, w), 0.08, 0.4))
        gap, m, title_h, text_h = 0.4, 0.2, 0.5, 0.75
        width = max(2 * m + 3 * w * s + 2 * gap, 6.0)
        height = 0.1 + title_h + h * s + BAR_ROOM + text_h
        self.canvas = cv = Canvas(width, height, dpi)
        small = h <= MAX_NUMBERS and w <= MAX_NUMBERS
        fs = 8 if s >= 0.3 else 6.5
        axes = []
        for k in range(3):
            x = m + k * (w * s + gap)
            axes.append(cv.axes((x / width, 1 - (0.1 + title_h + h * s) / height,
                                 w * s / width, h * s / height), frame=True))
        self.input_grid = cv.grid(axes[0], np.zeros((h, w)), numbers=small, fontsize=fs,
                                  colourbar=True)
        self.mask_grid = cv.grid(axes[1], np.ones((h, w)), cmap=MASK_COLORS, vmin=0, vmax=1,
                                 numbers=False)
        self.output_grid = cv.grid(axes[2], np.zeros((h, w)), numbers=small, fontsize=fs,
                                   colourbar=True)
        self.titles = [cv.title(axes[0], f"activations in, ch {channel}"),
                       cv.title(axes[1], ""), cv.title(axes[2], "")]
        self.summary = cv.figure.text(m / width, (text_h - 0.12) / height, "", va="top",
                                      fontsize=font(9))
        self.mask_axes = axes[1]
        self._crosses = None
        self.show(record)

    def show(self, record):
        """Draw another dropout record of the same shape (a new mask, p or mode)."""
        if tuple(record.input_shape) != tuple(self.shape):
            raise ValueError(f"DropoutView.show: record input is {record.input_shape}, this "
                             f"view was built for {self.shape}")
        ch, self.record = self.channel, record
        x = record.input[:, :, ch].astype(float)
        y = record.output[:, :, ch].astype(float)
        # each grid its own range: the input's colours do not fade as p grows and the
        # survivors grow by 1/(1 - p); the colour bars say what each colour means
        self.input_grid.update(x, vmin=limits(x)[0], vmax=limits(x)[1])
        self.output_grid.update(y, vmin=limits(y)[0], vmax=limits(y)[1])
        kept = np.ones(x.shape, bool) if record.mask is None else record.mask[:, :, ch]
        self.mask_grid.update(kept.astype(float))
        if self._crosses is not None:
            self._crosses.remove()
        rr, cc = np.nonzero(~kept)
        (self._crosses,) = self.mask_axes.plot(cc, rr, linestyle="none", marker="x",
                                               color="#555555", markersize=5, zorder=4)
        p, n = record.probability, record.input.size
        if record.mask is None:
            self.titles[1].set_text("mask: all kept")
            self.titles[2].set_text("activations out = in")
            self.summary.set_text(f"{record.note}.\np = {fmt(p)}: in training about "
                                  f"{fmt(p * n)} of the {n} values (p·n) would be dropped and "
                                  f"the rest multiplied by 1/(1 - p) = {fmt(record.scale)}.")
        else:
            dropped = n - record.kept
            self.titles[1].set_text(f"mask (p = {fmt(p)}): kept blue,\ndropped grey ×")
            self.titles[2].set_text(f"activations out:\nkept × 1/(1 - p) = {fmt(record.scale)}")
            self.summary.set_text(
                f"training mode: kept {record.kept} of {n} values (expected (1 - p)·n = "
                f"{fmt(record.expected_kept)}), dropped {dropped} (expected p·n = "
                f"{fmt(p * n)}).\nEach survivor is scaled by 1/(1 - p) = {fmt(record.scale)} "
                "so every output keeps the input's expected value.")
        self.canvas.invalidate()
        return self

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()
