"""The picture style every cnnlab renderer reads: "default", or "projector" for a classroom.

    import cnnlab.viz as viz
    viz.set_style("projector")      # bigger text and numbers, bigger pictures
    viz.set_style("default")        # back
    with viz.style("projector"):    # only for the figures built inside the block
        fig = viz.filters_figure(net["conv_1"])

A style is two factors, read when a figure is BUILT (a figure made earlier keeps its look):

* ``font_scale`` multiplies every font size a renderer asks for (``font(8)``), titles,
  labels and the numbers written in cells alike (numbers still shrink to fit their cell);
* ``size_scale`` multiplies the size of every figure (``figure(...)`` and ``Canvas``), so
  cells grow too and their bigger numbers fit.

The projector style makes text 1.5× and pictures 1.25× larger: text gains 1.2× relative to
the picture, and everything 1.25× in pixels, which a projected notebook needs at the back of
a room.

``Picture`` is the matplotlib Figure every renderer returns: it has ``_repr_png_``, so a
figure left as the last expression of a notebook cell displays as a picture even without
``%matplotlib inline`` (instead of ``<Figure size 640x480 with 4 Axes>``), and ``png()``.
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


@dataclass(frozen=True)
class Style:
    name: str
    font_scale: float
    size_scale: float


STYLES = {"default": Style("default", 1.0, 1.0),
          "projector": Style("projector", 1.5, 1.25)}

# the one setting, like matplotlib's rcParams: a style is a display preference of the
# session, not a value of the engine (nothing computed depends on it)
_current = {"style": STYLES["default"]}


def set_style(name: str) -> Style:
    """Use style ``name`` ("default" or "projector") for the figures built from now on."""
    if not isinstance(name, str) or name not in STYLES:
        raise ValueError(f"cnnlab.viz.set_style: unknown style {name!r}; expected one of "
                         f"{', '.join(map(repr, STYLES))}")
    _current["style"] = STYLES[name]
    return STYLES[name]


def get_style() -> Style:
    """The style in use (``.name``, ``.font_scale``, ``.size_scale``)."""
    return _current["style"]


@contextlib.contextmanager
def style(name: str):
    """``with style("projector"):`` — the style for the block, the previous one after it."""
    previous = get_style()
    set_style(name)
    try:
        yield get_style()
    finally:
        _current["style"] = previous


def font(points: float) -> float:
    """A font size in points, scaled by the style."""
    return float(points) * get_style().font_scale


def inches(size: float) -> float:
    """A figure dimension in inches, scaled by the style."""
    return float(size) * get_style().size_scale


class Picture(Figure):
    """A matplotlib Figure (Agg, no pyplot) that a notebook displays as a PNG picture."""

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=self.dpi)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()


def figure(width: float, height: float, *, dpi: int = 100) -> Picture:
    """A new Picture of ``width`` × ``height`` inches (scaled by the style) on an Agg canvas."""
    fig = Picture(figsize=(inches(width), inches(height)), dpi=dpi)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    return fig
