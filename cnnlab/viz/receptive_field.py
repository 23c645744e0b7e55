"""The receptive field of one neuron, drawn back onto the input image, with the chain of windows.

Reads ``trace.receptive_field(layer, row, col)`` (a ``cnnlab.trace.NeuronField``):
``.mask`` (H×W bool over the input image: the pixels the neuron can see), the clipped bounds
``.top .left .bottom .right`` (bottom/right exclusive), ``.unclipped`` (the bounds before
clipping, reaching into the padding), ``.size``, and ``.chain`` — for every layer from the
neuron's own back to the first, the window (top, left, bottom, right; exclusive) that layer
reads of ITS input (element-wise layers are not drawn: they do not grow the field; an empty
window (0, 0, 0, 0) marks a transposed convolution that paints nothing at the neuron, and the
field is then empty, ``.note`` saying why). And the recorded ``LayerRecord.input`` maps those
windows sit on.

``ReceptiveFieldView`` keeps one figure: panel 0 is the input image with the field shaded and
outlined (the unclipped field dashed where it runs into the padding); panels 1.. are the
chain's windows on each layer's input (the mean over its channels), neuron's layer first.
``show(trace, field)`` updates the same artists.
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from .canvas import ACTIVATIONS, HIGHLIGHT, PADDING, Canvas, limits
from .network_view import _image_of, shape_text
from .style import font, inches

_EXTRA = 1.15                   # inches above and below the panels: titles, colour ranges
SHADE = (0.835, 0.369, 0.0)     # vermillion (#D55E00) as RGB, the shaded field


def field_bounds(field):
    """((top, left, bottom, right) clipped, (top, left, bottom, right) unclipped); exclusive."""
    clipped = (field.top, field.left, field.bottom, field.right)
    unclipped = field.unclipped
    return tuple(int(v) for v in clipped), tuple(int(v) for v in unclipped)


_IDENTITY = ((1, 1, 0), (1, 1, 0))


def chain_windows(field, trace=None):
    """[(layer name, (top, left, bottom, right))] from ``field.chain``.

    With ``trace``, element-wise layers (ReLU, batch norm, the input layer: their window is
    the 1×1 position itself, the same span as the layer above) are left out: what remains are
    the windows that grow the field.
    """
    out = []
    for name, bounds in getattr(field, "chain", []) or []:
        if trace is not None and trace[name].layer.spatial() == _IDENTITY:
            continue
        out.append((name, tuple(int(v) for v in bounds)))
    return out


def _outline(rect, bounds):
    top, left, bottom, right = bounds
    rect.set_xy((left - 0.5, top - 0.5))
    rect.set_width(right - left)
    rect.set_height(bottom - top)


class ReceptiveFieldView:
    """Input image with the field + up to ``max_chain`` chain panels, in one figure.

    Artists: ``input_image``, ``shade`` (RGBA overlay of ``field.mask``), ``box`` (clipped
    field), ``box_unclipped`` (dashed), ``chain_images``/``chain_boxes``/``chain_titles``.
    """

    def __init__(self, *, max_chain: int = 4, panel_inches: float = 2.1, dpi: int = 100):
        self.max_chain, self.panel_inches = max_chain, panel_inches
        n = 1 + max_chain
        # a shared Canvas: the maps are cached as a background; moving the neuron within one
        # layer redraws only the shading, outlines and titles over it (blitting)
        self.canvas = Canvas(n * panel_inches, panel_inches + _EXTRA, dpi=dpi)
        self.figure = self.canvas.figure
        self.axes = [self.figure.add_subplot(1, n, k + 1) for k in range(n)]
        blank = np.zeros((2, 2))
        self.input_image = self.axes[0].imshow(blank, cmap="gray", vmin=0, vmax=1,
                                               interpolation="nearest")
        self.shade = self.axes[0].imshow(np.zeros((2, 2, 4)), interpolation="nearest")
        self.box = Rectangle((0, 0), 1, 1, fill=False, lw=2, ec=HIGHLIGHT)
        self.box_unclipped = Rectangle((0, 0), 1, 1, fill=False, lw=1.2, ls="--", ec=HIGHLIGHT)
        self.axes[0].add_patch(self.box)
        self.axes[0].add_patch(self.box_unclipped)
        self.chain_images = [ax.imshow(blank, cmap=ACTIVATIONS, vmin=0, vmax=1,
                                       interpolation="nearest") for ax in self.axes[1:]]
        self.chain_boxes = [Rectangle((0, 0), 1, 1, fill=False, lw=2, ec=HIGHLIGHT)
                            for _ in self.axes[1:]]
        for ax, rect in zip(self.axes[1:], self.chain_boxes):
            ax.add_patch(rect)
        # plain Text artists (ax.set_title positions itself only in a full draw: no blitting)
        self.titles = [ax.text(0.5, 1.02, "", transform=ax.transAxes, ha="center", va="bottom",
                               fontsize=font(8.5), clip_on=False) for ax in self.axes]
        # each panel's colour range, printed under it (the maps have one range per panel)
        self.ranges = [ax.text(0.5, -0.03, "", transform=ax.transAxes, ha="center", va="top",
                               fontsize=font(7.5), clip_on=False) for ax in self.axes]
        for ax in self.axes:
            ax.set_xticks([])
            ax.set_yticks([])
        self.title = self.figure.suptitle("", fontsize=font(10), x=0.02, ha="left", y=0.985,
                                          va="top")
        self.canvas.animated(self.shade, self.box, self.box_unclipped, *self.chain_boxes,
                             *self.titles, *self.ranges, self.title)
        self._static = None

    def show(self, trace, field, *, value=None) -> None:
        """Draw ``field`` (a NeuronField of ``trace``); ``value``: the neuron's output."""
        image, what = _image_of(trace.image)
        h, w = image.shape[:2]
        lo, hi = limits(image)
        self.input_image.set_data(image)
        if image.ndim == 2:
            self.input_image.set_clim(lo, hi)
        self.ranges[0].set_text(f"grey: {lo:.3g} .. {hi:.3g}")
        self.input_image.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        mask = np.asarray(field.mask, dtype=bool)
        shade = np.zeros((h, w, 4))
        shade[mask] = (*SHADE, 0.35)
        self.shade.set_data(shade)
        self.shade.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        clipped, unclipped = field_bounds(field)
        _outline(self.box, clipped)
        _outline(self.box_unclipped, unclipped)
        self.box_unclipped.set_visible(unclipped != clipped)
        ut, ul, ub, ur = unclipped
        # widen the view to show the part of the field that lies in the padding
        self.axes[0].set_xlim(min(-0.5, ul - 0.5) - 0.5, max(w - 0.5, ur - 0.5) + 0.5)
        self.axes[0].set_ylim(max(h - 0.5, ub - 0.5) + 0.5, min(-0.5, ut - 0.5) - 0.5)
        top, left, bottom, right = clipped
        seen = bool(mask.any())
        self.box.set_visible(seen)
        self.titles[0].set_text(f"input {shape_text(np.shape(trace.image))}\n" + (
            f"rows {top}..{bottom - 1}, cols {left}..{right - 1}" if seen else
            "no pixel reaches the neuron"))
        shown = f" = {value:.4g}" if value is not None else ""
        what = (f"{_size_text(field)} of the input" if seen else
                getattr(field, "note", "") or "no pixel of the input reaches it")
        self.title.set_text(f"receptive field of {field.layer}[row {field.row}, col "
                            f"{field.col}]{shown}\n{what}")
        chain = chain_windows(field, trace)[:self.max_chain]
        self._layout(1 + len(chain))
        for k, ax in enumerate(self.axes[1:]):
            if k >= len(chain):
                ax.set_visible(False)
                continue
            name, bounds = chain[k]
            rec = trace[name]
            data = np.asarray(rec.input, dtype=float)
            data = data.mean(axis=-1) if data.ndim == 3 else data
            data, (bt, bl, bb, br) = _padded_view(rec, data, bounds)
            ax.set_visible(True)
            mh, mw = data.shape
            im = self.chain_images[k]
            im.set_data(np.ma.masked_invalid(data))
            im.set_clim(*limits(data))
            c = np.shape(rec.input)[-1]
            self.ranges[k + 1].set_text(f"colour: {limits(data)[0]:.3g} .. {limits(data)[1]:.3g}"
                                        + (f"\n(mean of {c} channels)" if c > 1 else ""))
            im.set_extent((-0.5, mw - 0.5, mh - 0.5, -0.5))
            ax.set_xlim(-0.5, mw - 0.5)
            ax.set_ylim(mh - 0.5, -0.5)
            ax.set_facecolor(PADDING)
            _outline(self.chain_boxes[k], (bt, bl, bb, br))
            empty = bounds[2] <= bounds[0] or bounds[3] <= bounds[1]
            self.chain_boxes[k].set_visible(not empty)
            rows = f"rows {bounds[0]}..{bounds[2] - 1}"
            cols = f"cols {bounds[1]}..{bounds[3] - 1}"
            if empty:
                title = f"{name} paints nothing\nat this neuron"
            elif len(f"{name} reads {rows},") <= 30:
                title = f"{name} reads {rows},\n{cols} of its input"
            else:                   # a long name (a layer graph's) gets a line of its own
                title = f"{name}\nreads {rows}, {cols}\nof its input"
            self.titles[k + 1].set_text(title)
        # the cached background (images, axes, limits) stays valid while these do not change
        static = (trace, tuple(name for name, _ in chain), self.axes[0].get_xlim(),
                  self.axes[0].get_ylim(), tuple(im.get_array().shape for im in
                                                 self.chain_images[:len(chain)]))
        if static != self._static:
            self._static = static
            self.canvas.invalidate()

    def _layout(self, n: int):
        """Size the figure for n panels in a row (the unused panels are hidden)."""
        width, height = n * self.panel_inches, self.panel_inches + _EXTRA
        fig_w = max(width, 4.2)
        self.figure.set_size_inches(inches(fig_w), inches(height))    # the style scales it
        for k, ax in enumerate(self.axes):
            ax.set_position(((k * self.panel_inches + 0.1) / fig_w, 0.3 / height,
                             (self.panel_inches - 0.2) / fig_w, (self.panel_inches - 0.1) / height))

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()


def _size_text(field) -> str:
    size = getattr(field, "size", None)
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return f"{size[0]}×{size[1]}"
    return f"{size}" if size is not None else "a region"


def _padded_view(rec, data, bounds):
    """The map the window is drawn on: the layer's input with its padding (grey) around it
    when the window reaches into the padding; bounds shifted to that picture."""
    top, left, bottom, right = bounds
    h, w = data.shape
    pt, pl = max(0, -top), max(0, -left)
    pb, pr = max(0, bottom - h), max(0, right - w)
    if pt or pl or pb or pr:
        data = np.pad(data, ((pt, pb), (pl, pr)), constant_values=np.nan)
    return data, (top + pt, left + pl, bottom + pt, right + pl)
