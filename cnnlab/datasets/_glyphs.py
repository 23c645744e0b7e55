"""The glyph bank behind :func:`cnnlab.datasets.make_digits`: clean digit shapes, rendered once.

Two kinds of *styles* are rendered, every digit 0-9 in every style:

* **font styles** -- the digit characters of fonts that ship inside matplotlib (DejaVu Sans and
  Serif with their bold/oblique faces, STIX General, Computer Modern), so no system font and
  no download is involved;
* **hand styles** -- pen strokes through control points that this module defines (a single-stroke
  "1", an open "4", a "7" with a crossbar, a one-stroke "8", ...), each jittered by a fixed
  random generator, so there are many slightly different "writers".

Every glyph is scaled so that its larger side fills a ``GLYPH_BOX``-pixel box (MNIST fits its
digits into a 20 px box; the bank works at twice that resolution), centred in a
``CELL`` x ``CELL`` cell and rendered at several stroke widths. A font is thickened by stroking
its outline in the ink colour and thinned by stroking it in the background colour, so all styles
share the same set of stroke widths whatever the font's own weight.

Rendering uses the Agg canvas of a :class:`matplotlib.figure.Figure` created directly (never
pyplot), so nothing is displayed and no global state is left changed (a few rcParams are pinned
to their defaults only while the bank renders). It happens on first use
and is cached for the life of the process (1-2 s, most of it importing matplotlib).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CELL = 72            # bank cell side in pixels
GLYPH_BOX = 40.0     # larger side of a glyph's outline, in bank pixels (= 20 px at 28x28)
# Stroke widths in bank pixels (half that at 28x28; MNIST strokes are ~2-4 px wide there).
STROKE_WIDTHS = (3.5, 4.5, 5.5, 6.5, 8.0)

# Fonts shipped in matplotlib's mpl-data/fonts/ttf whose digits read as ordinary digits
# (cmmi10 is left out: its digits are old-style figures that descend below the baseline;
# DejaVu Sans Mono too: its zero has a dot inside, which no one writes by hand; and cmti10,
# whose curly italic 2 and 3 turn into blobs when thickened).
FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf",
    "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf",
)

HAND_STYLES = 30     # jittered pen-stroke "writers"
_HAND_SEED = 20240531  # fixed: the bank is the same in every process
_HAND_JITTER = 0.035   # control-point jitter, as a fraction of the glyph height


# --- pen-stroke skeletons ----------------------------------------------------------------------
# Coordinates are (x, y) with y up, in a box about 0.65 wide and 1 high. A variant is a list of
# strokes; a stroke is ("s", points) for a smooth curve through the points, ("l", points) for
# straight segments with sharp corners, or ("o", (cx, cy, rx, ry, start_deg, sweep_deg)) for an
# elliptic arc (a closed loop when the sweep is 360 degrees or more).

def _ellipse(cx, cy, rx, ry, start=90.0, sweep=360.0):
    return ("o", (cx, cy, rx, ry, start, sweep))


_SKELETONS: dict[int, list[list[tuple]]] = {
    0: [
        [_ellipse(0.32, 0.5, 0.28, 0.49)],
        [_ellipse(0.32, 0.5, 0.3, 0.48, 70, 400)],          # overshooting loop
        [("s", [(0.42, 0.97), (0.14, 0.85), (0.02, 0.45), (0.18, 0.03), (0.45, 0.05),
                (0.6, 0.45), (0.5, 0.92), (0.3, 0.98)])],
    ],
    1: [
        [("l", [(0.32, 1.0), (0.3, 0.0)])],
        [("l", [(0.1, 0.78), (0.34, 1.0), (0.32, 0.0)])],
        [("l", [(0.12, 0.8), (0.34, 1.0), (0.34, 0.0)]), ("l", [(0.1, 0.0), (0.56, 0.0)])],
        [("s", [(0.36, 1.0), (0.32, 0.6), (0.27, 0.0)])],
    ],
    2: [
        [("s", [(0.04, 0.72), (0.2, 0.95), (0.44, 0.98), (0.58, 0.78), (0.5, 0.55),
                (0.26, 0.28), (0.02, 0.02)]), ("l", [(0.02, 0.02), (0.64, 0.03)])],
        [("s", [(0.06, 0.76), (0.28, 0.99), (0.55, 0.86), (0.52, 0.58), (0.18, 0.2),
                (0.04, 0.03), (0.3, 0.08), (0.64, 0.02)])],
        [("s", [(0.02, 0.8), (0.3, 1.0), (0.58, 0.82), (0.4, 0.45), (0.04, 0.0)]),
         ("s", [(0.04, 0.0), (0.34, 0.06), (0.62, 0.0)])],
    ],
    3: [
        [("s", [(0.04, 0.84), (0.3, 1.0), (0.55, 0.86), (0.5, 0.64), (0.24, 0.53)]),
         ("s", [(0.24, 0.53), (0.55, 0.42), (0.6, 0.18), (0.4, 0.01), (0.14, 0.0), (0.0, 0.14)])],
        [("l", [(0.04, 1.0), (0.58, 1.0), (0.24, 0.6)]),
         ("s", [(0.24, 0.6), (0.5, 0.52), (0.62, 0.28), (0.45, 0.03), (0.2, 0.0), (0.02, 0.14)])],
        [("s", [(0.08, 0.9), (0.32, 1.0), (0.52, 0.84), (0.3, 0.55), (0.56, 0.38), (0.5, 0.08),
                (0.22, 0.0), (0.04, 0.12)])],
    ],
    4: [
        [("l", [(0.38, 1.0), (0.02, 0.35), (0.65, 0.35)]), ("l", [(0.48, 0.72), (0.48, 0.0)])],
        [("l", [(0.48, 0.0), (0.48, 1.0), (0.0, 0.32), (0.65, 0.32)])],
        [("l", [(0.08, 1.0), (0.05, 0.45), (0.6, 0.45)]), ("l", [(0.55, 1.0), (0.52, 0.0)])],
        [("s", [(0.1, 1.0), (0.06, 0.62), (0.2, 0.45), (0.62, 0.48)]),
         ("s", [(0.52, 0.98), (0.5, 0.5), (0.46, 0.0)])],
    ],
    5: [
        [("l", [(0.6, 1.0), (0.12, 1.0), (0.08, 0.57)]),
         ("s", [(0.08, 0.57), (0.3, 0.65), (0.55, 0.53), (0.6, 0.28), (0.45, 0.05), (0.2, 0.0),
                (0.02, 0.1)])],
        [("l", [(0.12, 0.98), (0.08, 0.58)]),
         ("s", [(0.08, 0.58), (0.34, 0.66), (0.58, 0.48), (0.55, 0.16), (0.3, 0.0), (0.04, 0.08)]),
         ("l", [(0.14, 1.0), (0.62, 1.02)])],
        [("l", [(0.58, 1.0), (0.16, 1.0), (0.1, 0.52)]),
         ("s", [(0.1, 0.52), (0.42, 0.6), (0.62, 0.34), (0.42, 0.04), (0.04, 0.04)])],
    ],
    6: [
        [("s", [(0.52, 1.0), (0.25, 0.78), (0.06, 0.42), (0.12, 0.1), (0.35, 0.0), (0.55, 0.15),
                (0.55, 0.38), (0.35, 0.5), (0.12, 0.4), (0.07, 0.28)])],
        [("s", [(0.46, 1.0), (0.16, 0.56), (0.08, 0.24), (0.26, 0.02), (0.5, 0.08), (0.56, 0.3),
                (0.36, 0.46), (0.1, 0.3)])],
        [("s", [(0.58, 0.92), (0.34, 1.0), (0.1, 0.78), (0.04, 0.3), (0.22, 0.0), (0.5, 0.06),
                (0.58, 0.3), (0.36, 0.48), (0.08, 0.34)])],
    ],
    7: [
        [("l", [(0.02, 1.0), (0.62, 1.0), (0.22, 0.0)])],
        [("l", [(0.02, 1.0), (0.62, 1.0), (0.24, 0.0)]), ("l", [(0.16, 0.5), (0.56, 0.5)])],
        [("l", [(0.02, 1.0), (0.62, 1.0)]),
         ("s", [(0.62, 1.0), (0.45, 0.66), (0.33, 0.3), (0.3, 0.0)])],
        [("l", [(0.0, 0.86), (0.04, 1.0), (0.62, 0.98), (0.26, 0.0)])],
    ],
    8: [
        [("s", [(0.55, 0.86), (0.32, 1.0), (0.08, 0.85), (0.12, 0.64), (0.32, 0.52),
                (0.56, 0.36), (0.58, 0.13), (0.32, 0.0), (0.06, 0.13), (0.1, 0.36), (0.32, 0.52),
                (0.5, 0.64), (0.56, 0.8), (0.5, 0.92)])],
        [_ellipse(0.32, 0.76, 0.21, 0.23), _ellipse(0.32, 0.27, 0.28, 0.27)],
        [_ellipse(0.32, 0.75, 0.24, 0.25, -90, 360), _ellipse(0.32, 0.25, 0.25, 0.25, 90, 360)],
    ],
    9: [
        [_ellipse(0.3, 0.74, 0.26, 0.25), ("l", [(0.56, 0.76), (0.52, 0.0)])],
        [_ellipse(0.3, 0.74, 0.26, 0.25), ("s", [(0.56, 0.8), (0.52, 0.35), (0.36, 0.0)])],
        [("s", [(0.55, 0.9), (0.32, 1.0), (0.08, 0.85), (0.08, 0.6), (0.3, 0.5), (0.55, 0.62),
                (0.57, 0.86), (0.55, 0.4), (0.5, 0.0)])],
    ],
}


def _catmull_rom(points: np.ndarray, samples: int = 12) -> np.ndarray:
    """Smooth curve through ``points`` (K, 2): a uniform Catmull-Rom spline, ``samples`` per span."""
    if len(points) < 3:
        return points
    p = np.concatenate([points[:1] * 2 - points[1:2], points, points[-1:] * 2 - points[-2:-1]])
    t = np.linspace(0.0, 1.0, samples, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3))
    out.append(points[-1:])
    return np.concatenate(out)


def _stroke_polylines(variant, rng: np.random.Generator) -> list[np.ndarray]:
    """The polylines (each (M, 2)) of one jittered skeleton variant."""
    lines = []
    # Points shared between strokes (a corner where two strokes meet) get the same jitter, so
    # the strokes stay connected.
    shared: dict[tuple, np.ndarray] = {}

    def jitter(pt):
        if pt not in shared:
            shared[pt] = np.asarray(pt, float) + rng.normal(0.0, _HAND_JITTER, 2)
        return shared[pt]

    for kind, data in variant:
        if kind == "o":
            cx, cy, rx, ry, start, sweep = data
            k = max(int(abs(sweep) / 10), 8)
            ang = np.deg2rad(start + np.linspace(0.0, sweep, k + 1))
            # A hand-drawn loop is not a perfect ellipse: wobble its radius smoothly.
            wob = 1.0 + 0.08 * rng.normal() * np.sin(2 * ang + rng.uniform(0, 2 * np.pi))
            c = np.array([cx, cy]) + rng.normal(0.0, _HAND_JITTER / 2, 2)
            r = np.array([rx, ry]) * np.exp(rng.normal(0.0, 0.08, 2))
            lines.append(c + np.stack([np.cos(ang), np.sin(ang)], axis=1) * r * wob[:, None])
        else:
            pts = np.array([jitter(tuple(pt)) for pt in data])
            lines.append(_catmull_rom(pts) if kind == "s" else pts)
    return lines


@dataclass(frozen=True)
class GlyphBank:
    """Rendered glyphs and where their ink is centred.

    images:  uint8 (S, 10, W, CELL, CELL) -- style x digit x stroke width, white ink on black,
             slightly blurred (a 3-tap binomial filter) so that sampling it at half resolution
             does not alias.
    centres: float64 (S, 10, W, 2) -- centre of mass (x, y) of each glyph's ink, in pixels.
    num_fonts: the first ``num_fonts`` styles are font styles, the rest hand styles.
    """

    images: np.ndarray
    centres: np.ndarray
    num_fonts: int


def _font_dir() -> Path:
    import matplotlib
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _render_grid(cells: list, cell: int) -> np.ndarray:
    """Render many glyphs, one per cell, on one Agg canvas; returns uint8 (len(cells), cell, cell).

    Each entry of ``cells`` is a list of (path, transform-to-cell-pixels, style-dict) triples;
    the transform maps the path to pixel coordinates of a cell with y up, origin bottom left.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch
    from matplotlib.transforms import Affine2D

    cols = 32
    rows = -(-len(cells) // cols)
    width, height = cols * cell, rows * cell
    # dpi 72: one point is one pixel, so line widths below are in pixels.
    fig = Figure(figsize=(width / 72, height / 72), dpi=72, facecolor="black")
    canvas = FigureCanvasAgg(fig)
    for k, items in enumerate(cells):
        r, c = divmod(k, cols)
        # Display coordinates have y up from the bottom of the canvas.
        to_cell = Affine2D().translate(c * cell, height - (r + 1) * cell)
        for path, transform, style in items:
            patch = PathPatch(path, transform=transform + to_cell, antialiased=True, **style)
            patch.set_snap(False)
            fig.add_artist(patch)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    grey = rgba[..., 0]
    return (grey.reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3)
            .reshape(rows * cols, cell, cell)[:len(cells)].copy())


def _fit(extents, box: float, cell: int):
    """Affine transform that scales a bbox's larger side to ``box`` and centres it in the cell."""
    from matplotlib.transforms import Affine2D
    x0, y0, x1, y1 = extents
    s = box / max(x1 - x0, y1 - y0)
    return (Affine2D().translate(-(x0 + x1) / 2, -(y0 + y1) / 2).scale(s)
            .translate(cell / 2, cell / 2))


def _polyline_extents(path) -> tuple:
    """(x0, y0, x1, y1) of a path made of straight segments only."""
    v = path.vertices
    return (*v.min(axis=0), *v.max(axis=0))


def _font_paths():
    """TextPath of each digit in each font: list (font) of list (digit) of Path."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    root = _font_dir()
    out = []
    for name in FONT_FILES:
        prop = FontProperties(fname=str(root / name))
        out.append([TextPath((0, 0), str(d), size=100, prop=prop) for d in range(10)])
    return out


def _stroke_width_estimate(images: np.ndarray) -> np.ndarray:
    """Mean stroke width of binary-ish shapes (K, H, W) in pixels: 2 * area / perimeter.

    A stroke of length L and width w has area L*w and outline length about 2L. The outline
    length of an anti-aliased image is the integral of its gradient magnitude.
    """
    a = images.astype(np.float64) / 255.0
    gy, gx = np.gradient(a, axis=(1, 2))
    perimeter = np.hypot(gx, gy).sum(axis=(1, 2))
    return 2.0 * a.sum(axis=(1, 2)) / np.maximum(perimeter, 1e-9)


def _blur3(images: np.ndarray) -> np.ndarray:
    """Separable [1, 2, 1] / 4 blur of uint8 images over the last two axes, rounded to uint8.

    Integer arithmetic (the sum of the 3x3 weights is 16) keeps this exact and fast; the
    border row and column of a cell are background, so no padding is needed.
    """
    a = images.astype(np.uint16)
    out = np.zeros_like(a)
    v = a[..., :-2, :] + 2 * a[..., 1:-1, :] + a[..., 2:, :]
    out[..., 1:-1, 1:-1] = v[..., :-2] + 2 * v[..., 1:-1] + v[..., 2:]
    return ((out + 8) >> 4).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def glyph_bank() -> GlyphBank:
    """Render (once per process) and return the :class:`GlyphBank`.

    The rendering settings a user may have changed in matplotlib's rcParams (path
    simplification, sketch/xkcd style, snapping) are pinned to matplotlib's defaults while the
    bank renders -- and restored afterwards -- so the bank never depends on them.
    """
    import matplotlib
    keys = ("path.simplify", "path.simplify_threshold", "path.snap", "path.sketch",
            "path.effects", "agg.path.chunksize")
    with matplotlib.rc_context({k: matplotlib.rcParamsDefault[k] for k in keys}):
        return _render_bank()


def _render_bank() -> GlyphBank:
    from matplotlib.path import Path as MplPath

    fonts = _font_paths()
    # Exact outline extents need the extrema of every Bezier segment: slow, so done once.
    font_fits = [[_fit(p.get_extents().extents, GLYPH_BOX, CELL) for p in ps] for ps in fonts]
    fill = dict(facecolor="white", edgecolor="none", linewidth=0)
    # 1. Natural stroke width of every font, measured on a plain render.
    native = _render_grid(
        [[(p, fit, fill)] for ps, fits in zip(fonts, font_fits) for p, fit in zip(ps, fits)],
        CELL)
    font_width = _stroke_width_estimate(native).reshape(len(fonts), 10).mean(axis=1)

    # 2. Hand styles: jittered skeletons as polylines, fitted to the box.
    rng = np.random.default_rng(_HAND_SEED)
    hand = []
    for s in range(HAND_STYLES):
        per_digit = []
        for d in range(10):
            variants = _SKELETONS[d]
            variant = variants[(s + int(rng.integers(len(variants)))) % len(variants)]
            lines = _stroke_polylines(variant, rng)
            verts = np.concatenate(lines)
            codes = np.concatenate([[MplPath.MOVETO] + [MplPath.LINETO] * (len(ln) - 1)
                                    for ln in lines])
            per_digit.append(MplPath(verts, codes))
        hand.append(per_digit)

    # 3. Every style at every stroke width. A font outline stroked with width |dw| in the ink
    # colour grows by dw/2 on each side; stroked in the background colour it shrinks.
    cells = []
    for w in STROKE_WIDTHS:
        for f, paths in enumerate(fonts):
            dw = w - font_width[f]
            edge = "white" if dw > 0 else "black"
            style = dict(facecolor="white", edgecolor=edge, linewidth=abs(dw),
                         joinstyle="round", capstyle="round")
            cells += [[(p, fit, style)] for p, fit in zip(paths, font_fits[f])]
        for paths in hand:
            style = dict(facecolor="none", edgecolor="white", linewidth=w,
                         joinstyle="round", capstyle="round")
            # The centre line is fitted so that the ink (line plus caps) fills the box.
            cells += [[(p, _fit(_polyline_extents(p), GLYPH_BOX - w, CELL), style)]
                      for p in paths]
    num_styles = len(fonts) + len(hand)
    images = _render_grid(cells, CELL).reshape(len(STROKE_WIDTHS), num_styles, 10, CELL, CELL)
    images = images.transpose(1, 2, 0, 3, 4)

    bank_images = np.ascontiguousarray(_blur3(images))
    coords = np.arange(CELL, dtype=np.float64)
    cols = bank_images.sum(axis=3, dtype=np.float64)    # (S, 10, W, CELL): mass per column
    rows = bank_images.sum(axis=4, dtype=np.float64)    # mass per row
    mass = cols.sum(axis=3)
    cx = (cols * coords).sum(axis=3) / mass
    cy = (rows * coords).sum(axis=3) / mass
    centres = np.stack([cx, cy], axis=-1)
    bank_images.flags.writeable = False
    centres.flags.writeable = False
    return GlyphBank(bank_images, centres, len(fonts))
