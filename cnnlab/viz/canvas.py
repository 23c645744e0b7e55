"""A persistent Agg figure for pictures that change many times a second.

Every step picture in ``cnnlab.viz`` (and the widgets that show them) draws on ONE
``matplotlib.figure.Figure`` (not pyplot: nothing is displayed by itself, nothing leaks
between notebooks) and then only updates its artists in place — ``set_data`` / ``set_array``
on images, ``set_text`` on numbers, ``set_xy`` on rectangles — before writing PNG bytes. With
ticks and tick labels off this takes a few milliseconds per step; re-plotting takes ~70 ms.

* ``Canvas(width, height)``: the figure (a ``cnnlab.viz.style.Picture``, sized and its
  fonts scaled by the style: ``set_style("projector")``); ``axes(rect)`` a bare axes;
  ``grid(ax, values)`` a grid-of-numbers image (``GridImage``; ``colourbar=True`` adds a
  ``cnnlab.viz.colourbar.ColourBar`` under it); ``outline(ax)`` a highlight rectangle;
  ``title(ax, text)``; ``png()`` the PNG bytes.
* ``GridImage``: an H×W array drawn with ``imshow`` and, when H, W ≤ ``max_numbers``, one text
  artist per cell; ``update(values)`` changes colours and numbers in place. NaN cells are
  blank (e.g. output cells not computed yet).
* ``push(image_widget, data)``: put PNG bytes into an ``ipywidgets.Image``.

Colours (colour-blind safe, shared by every step picture): ``viridis`` for activations,
the diverging ``PuOr`` for weights and products (0 in the middle), grey hatched cells for
padding, vermillion ``HIGHLIGHT`` for the current window, blue ``SECOND`` for the previous
window / the winner.
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from ..arithmetic import formatting
from .style import figure, font

HIGHLIGHT = "#D55E00"      # vermillion: the current window / output cell
SECOND = "#0072B2"         # blue: the previous window, the max-pool winner
PADDING = "#C8C8C8"        # grey fill of padding cells
INSERTED = "#E6E6E6"       # lighter grey: zeros inserted by a transposed convolution
ACTIVATIONS = "viridis"
WEIGHTS = "PuOr"
MAX_NUMBERS = 12           # write numbers into a grid when both sides are at most this


# a cell's number: 3 significant figures, NaN blank, ±∞ (cnnlab.arithmetic.formatting)
fmt = formatting.cell


def limits(values, symmetric: bool = False) -> tuple[float, float]:
    """(vmin, vmax) of the finite values; symmetric around 0 if asked; a constant gets ±0.5
    (a constant image with an automatic range never changes colour)."""
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return (-1.0, 1.0)
    lo, hi = float(a.min()), float(a.max())
    if symmetric:
        m = max(abs(lo), abs(hi)) or 1.0
        return -m, m
    if hi - lo < 1e-12:
        return lo - 0.5, hi + 0.5
    return lo, hi


class GridImage:
    """One H×W array as coloured cells, with numbers written in when the grid is small.

    image : the AxesImage; texts : H×W object array of Text artists (None when not numbered);
    values : the array last drawn. ``update(values)`` re-colours and re-writes in place.
    """

    def __init__(self, ax, values, *, cmap=ACTIVATIONS, vmin=None, vmax=None,
                 numbers: bool | None = None, fontsize: float = 8, symmetric: bool = False,
                 formatter=None):
        values = np.asarray(values, dtype=float)
        self.formatter = formatter or fmt          # how a cell's number is written
        if vmin is None or vmax is None:
            vmin, vmax = limits(values, symmetric)
        self.ax, self.norm = ax, Normalize(vmin, vmax)
        if isinstance(cmap, str):
            from matplotlib import colormaps
            cmap = colormaps[cmap]
        cmap = cmap.with_extremes(bad="white")        # NaN / inf cells: blank
        self.image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=self.norm,
                               interpolation="nearest", aspect="equal")
        h, w = values.shape
        if numbers is None:
            numbers = h <= MAX_NUMBERS and w <= MAX_NUMBERS
        self.texts = None
        if numbers:
            # shrink the numbers (not below 5 pt) until the longest fits its cell
            fig_w = ax.figure.get_figwidth()
            cell_pt = ax.get_position().width * fig_w * 72 / w
            longest = max([len(self.formatter(v)) for v in values.ravel()[:400]] + [1])
            # (sizes in points before the style's scale: ``font`` applies it)
            fontsize = max(font(5.0), min(font(fontsize), 0.92 * cell_pt / (0.62 * longest)))
            self.texts = np.empty((h, w), object)
            for i in range(h):
                for j in range(w):
                    self.texts[i, j] = ax.text(j, i, "", ha="center", va="center",
                                               fontsize=fontsize)
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        self.values = None
        self.colourbar = None          # a ColourBar under the grid (Canvas.colourbar)
        self.update(values)

    def update(self, values, *, vmin=None, vmax=None, formatter=None):
        """Draw new values (same shape); NaN cells stay blank. ``formatter``: write the
        numbers this way from now on (every cell is rewritten)."""
        values = np.asarray(values, dtype=float)
        if formatter is not None:
            self.formatter, self.values = formatter, None
        if vmin is not None and vmax is not None:
            self.norm.vmin, self.norm.vmax = vmin, vmax
            if self.colourbar is not None:
                self.colourbar.update(vmin, vmax)
        self.image.set_data(np.ma.masked_invalid(values))
        if self.texts is not None:
            old = self.values
            # dark text on light cells, white on dark ones (viridis / PuOr are dark at the ends
            # that matter); only cells whose value changed are touched
            shade = self.norm(np.nan_to_num(values, nan=self.norm.vmax, posinf=self.norm.vmax,
                                            neginf=self.norm.vmin))
            for (i, j), v in np.ndenumerate(values):
                if old is not None and (old[i, j] == v or (np.isnan(v) and np.isnan(old[i, j]))):
                    continue
                t = self.texts[i, j]
                t.set_text(self.formatter(v) if np.isfinite(v) else fmt(v))
                # ±∞ / NaN cells are drawn blank (white): dark text
                t.set_color(self._text_color(shade[i, j]) if np.isfinite(v) else "#333333")
        self.values = values.copy()

    def _text_color(self, s):
        name = self.image.cmap.name
        if name.startswith("PuOr"):
            return "white" if s < 0.2 or s > 0.8 else "black"
        return "white" if s < 0.45 else "black"


class Canvas:
    """A persistent Agg figure of ``width`` × ``height`` inches (see the module docstring)."""

    def __init__(self, width: float, height: float, dpi: int = 100):
        # a cnnlab.viz.style Picture: sized by the style, shown as PNG by a notebook
        self.figure = figure(width, height, dpi=dpi)
        self.dynamic, self.background = [], None

    def axes(self, rect, *, frame: bool = False):
        """A bare axes at ``rect`` = (left, bottom, width, height) in figure fractions."""
        ax = self.figure.add_axes(rect)
        ax.set_xticks([])
        ax.set_yticks([])
        if not frame:
            for s in ax.spines.values():
                s.set_visible(False)
        return ax

    def grid(self, ax, values, *, colourbar: bool = False, **options) -> GridImage:
        """A GridImage on ``ax``; ``colourbar=True`` puts its colour bar under it (leave
        ``colourbar.HEIGHT`` inches free there)."""
        grid = GridImage(ax, values, **options)
        if colourbar:
            from .colourbar import ColourBar
            grid.colourbar = ColourBar(grid)
        return grid

    @staticmethod
    def outline(ax, color=HIGHLIGHT, linewidth=2.5, linestyle="-") -> Rectangle:
        """A cell-aligned rectangle (move it with ``place``)."""
        r = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor=color, linewidth=linewidth,
                      linestyle=linestyle, zorder=5)
        ax.add_patch(r)
        return r

    @staticmethod
    def place(rect, top, left, bottom, right):
        """Move ``rect`` around cells top..bottom-1 × left..right-1."""
        rect.set_xy((left - 0.5, top - 0.5))
        rect.set_width(right - left)
        rect.set_height(bottom - top)

    @staticmethod
    def title(ax, text, **options):
        """A title above the axes' top-left corner; a plain Text artist, so it can be redrawn
        on its own (``ax.set_title`` places itself only during a full draw)."""
        options["fontsize"] = font(options.get("fontsize", 9))
        options.pop("loc", None)
        return ax.text(0, 1.0, text, transform=ax.transAxes, ha="left", va="bottom",
                       clip_on=False, **options)

    @staticmethod
    def shade(ax, mask, color=PADDING, hatch="///", alpha=0.8, max_hatched=400):
        """Cover the True cells of ``mask`` (padding, holes): one translucent grey image, plus
        hatching when the grid has at most ``max_hatched`` cells. Static: returns the image."""
        mask = np.asarray(mask, bool)
        from matplotlib.colors import to_rgba
        rgba = np.zeros(mask.shape + (4,))
        rgba[mask] = to_rgba(color, alpha)
        overlay = ax.imshow(rgba, interpolation="nearest", zorder=2)
        if mask.size <= max_hatched:
            for i, j in zip(*np.nonzero(mask)):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch=hatch,
                                       edgecolor="#888888", linewidth=0, zorder=2))
        return overlay

    # ---- fast redraws: a cached background plus the artists that change ----------------------
    def animated(self, *artists):
        """Declare artists that change from step to step (GridImage objects allowed): the rest
        of the figure is drawn once into a cached background, and each ``png()`` redraws only
        these over it (blitting), so static numbers cost nothing per step."""
        for a in artists:
            if isinstance(a, GridImage):
                self.dynamic.append(a.image)
                # the frame is drawn over the image in a full draw: keep it so
                self.dynamic.extend(s for s in a.ax.spines.values() if s.get_visible())
                if a.texts is not None:
                    self.dynamic.extend(a.texts.ravel())
            else:
                self.dynamic.append(a)
        self.background = None

    def invalidate(self):
        """Forget the cached background (after changing a static artist)."""
        self.background = None

    def render(self) -> np.ndarray:
        """Draw the figure (background + changing artists); the H×W×4 uint8 buffer."""
        canvas = self.figure.canvas
        if not self.dynamic:
            canvas.draw()
        else:
            if self.background is None:
                visible = [a.get_visible() for a in self.dynamic]
                for a in self.dynamic:
                    a.set_visible(False)
                canvas.draw()
                self.background = canvas.copy_from_bbox(self.figure.bbox)
                for a, v in zip(self.dynamic, visible):
                    a.set_visible(v)
            canvas.restore_region(self.background)
            # in z-order, as a full draw would (stable: equal z keeps the declared order)
            for a in sorted(self.dynamic, key=lambda a: a.get_zorder()):
                if a.get_visible():
                    self.figure.draw_artist(a)
        return np.asarray(canvas.buffer_rgba())

    def _repr_png_(self) -> bytes:
        return self.png()

    def png(self, compress_level: int = 1) -> bytes:
        """The figure as PNG bytes (zlib level 1: fast, and these flat pictures stay small)."""
        from PIL import Image
        buffer = io.BytesIO()
        rgba = self.render()
        h, w = rgba.shape[:2]
        picture = Image.frombuffer("RGBA", (w, h), rgba, "raw", "RGBA", 0, 1).convert("RGB")
        picture.save(buffer, format="png", compress_level=compress_level)
        return buffer.getvalue()

    def rgba(self) -> np.ndarray:
        """The figure as an H×W×4 uint8 array (a copy; for animation frames)."""
        return self.render().copy()


def push(image_widget, data: bytes) -> None:
    """Show PNG ``data`` in an ``ipywidgets.Image`` (format png)."""
    image_widget.format = "png"
    image_widget.value = data
