"""A thin colour bar under a grid of cells: which colour means which number.

Every feature map and output grid a cnnlab picture draws has one (``Canvas.colourbar``): a
strip of the grid's colour map from its lowest to its highest value, directly under the
grid, with the two ends written below it (and 0 where a diverging range crosses it). The
picture must leave ``HEIGHT`` inches free under the grid.

``update(vmin, vmax)`` rewrites the end numbers when the grid's range changes
(``GridImage.update`` calls it); the strip itself never changes, only what its ends mean.
"""
from __future__ import annotations

import numpy as np

from .style import font

GAP, BAR = 0.05, 0.08              # inches: grid to bar, bar height
HEIGHT = 0.32                      # inches to leave under a grid: gap, bar and its numbers
MIN_WIDTH = 0.8                    # a bar is at least this wide (inches), for its numbers


class ColourBar:
    """The bar of ``grid`` (a ``canvas.GridImage``). Attributes: ``ax`` (the strip's axes),
    ``low``, ``high``, ``zero`` (Text artists), ``vmin``, ``vmax``."""

    def __init__(self, grid, *, fmt=None):
        from .canvas import fmt as cell_fmt
        self.fmt = fmt or cell_fmt
        fig = grid.ax.figure
        fw, fh = fig.get_size_inches()
        box = grid.ax.get_position()
        width = max(box.width, MIN_WIDTH / fw)
        left = box.x0 + min(0.0, (box.width - width) / 2)   # a widened bar stays centred
        left = min(max(left, 0.0), 1.0 - width)
        self.ax = fig.add_axes((left, box.y0 - (GAP + BAR) / fh, width, BAR / fh))
        self.ax.set_xticks([])
        self.ax.set_yticks([])
        for s in self.ax.spines.values():
            s.set_linewidth(0.5)
        self.ax.imshow(np.linspace(0.0, 1.0, 256)[None, :], cmap=grid.image.cmap,
                       aspect="auto", interpolation="nearest", extent=(0, 1, 0, 1))
        self.ax.set_xlim(0, 1)
        options = dict(transform=self.ax.transAxes, va="top", fontsize=font(7.5), clip_on=False)
        self.low = self.ax.text(0, -0.3, "", ha="left", **options)
        self.high = self.ax.text(1, -0.3, "", ha="right", **options)
        self.zero = self.ax.text(0.5, -0.3, "", ha="center", **options)
        self.vmin = self.vmax = None
        self.update(grid.norm.vmin, grid.norm.vmax)

    def update(self, vmin, vmax) -> None:
        """Write the range ``vmin`` .. ``vmax`` at the bar's ends."""
        self.vmin, self.vmax = float(vmin), float(vmax)
        self.low.set_text(self.fmt(self.vmin))
        self.high.set_text(self.fmt(self.vmax))
        if self.vmin < 0 < self.vmax:
            at = -self.vmin / (self.vmax - self.vmin)
            # only where it does not collide with the end numbers
            self.zero.set_visible(0.25 < at < 0.75)
            self.zero.set_position((at, -0.3))
            self.zero.set_text("0")
        else:
            self.zero.set_visible(False)

    def texts(self) -> list[str]:
        """The numbers written under the bar, left to right (what a reader sees)."""
        shown = [self.low.get_text()]
        if self.zero.get_visible():
            shown.append(self.zero.get_text())
        return shown + [self.high.get_text()]
