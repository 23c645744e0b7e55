"""Feature maps: what every layer of a network made of one input image.

Reads a ``Trace`` (``net.trace(image)``): each ``LayerRecord``'s ``.output`` (H×W×C, a fully
connected output is 1×1×K) and ``trace.image``. Nothing is computed here but colour limits.

* ``network_view(trace)``: one row per layer, the input first, a few channels per layer
  (``max_channels``), each row titled with the layer's name, type and H×W×C shape; in a
  layer graph (rows in topological order) also with what it reads when that is not the row
  above: the branch it starts from, the inputs an Addition sums or a concatenation stacks.
* ``LayerMapsView``: one persistent figure showing one layer's maps (up to ``max_maps``
  channels from ``start``), the chosen neuron outlined; ``show(rec, ...)`` re-targets the same
  artists to another layer, so an explorer switches layers without re-plotting. A 1×1×K
  output is drawn as one strip of K values (numbers written in when K ≤ 12).

Colours (shared with every cnnlab picture, ``cnnlab.viz.canvas``): viridis for activations,
vermillion for the chosen neuron; one colour range per layer so its channels compare; a
constant map gets a range around its value (``canvas.limits``).
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from .canvas import ACTIVATIONS as CMAP
from .canvas import HIGHLIGHT, Canvas, limits
from .style import Picture, figure, font, inches

MAX_NUMBERS = 12            # write values into cells when a strip has at most this many
_TITLE = 0.4                # inches above the panels for the figure title


def shape_text(shape) -> str:
    """(28, 28, 6) -> '28×28×6'."""
    return "×".join(str(int(v)) for v in shape)


def png_bytes(figure) -> bytes:
    """A matplotlib figure as PNG bytes (at its own dpi)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    return buffer.getvalue()


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def _image_of(values):
    """An H×W×C input as something imshow draws: the map (C = 1), RGB (C = 3), else the mean."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 2:
        return values, "the image"
    if values.shape[-1] == 1:
        return values[..., 0], "the image"
    if values.shape[-1] == 3:
        lo, hi = limits(values)
        return (values - lo) / (hi - lo), "the image (RGB, rescaled to 0..1)"
    return values.mean(axis=-1), f"the mean of its {values.shape[-1]} channels"


# ---- one layer -------------------------------------------------------------------------------

class LayerMapsView:
    """One layer's feature maps in a fixed grid of ``columns`` × rows panels.

    After ``show``: ``channels`` (the channel index in each visible panel), ``images``
    (AxesImage per panel), ``highlight`` (Rectangle around the chosen neuron, or invisible),
    ``title`` (figure title text), ``strip_texts`` (the numbers of a 1×1×K strip).
    """

    def __init__(self, *, max_maps: int = 16, columns: int = 8, panel_inches: float = 1.15,
                 dpi: int = 100):
        self.max_maps, self.columns, self.panel_inches = max_maps, columns, panel_inches
        # a shared Canvas: the maps are drawn once into a cached background, a neuron move
        # redraws only the outline and crosshair over it (blitting)
        self.canvas = Canvas(columns * panel_inches, panel_inches + _TITLE, dpi=dpi)
        self.figure = self.canvas.figure
        self.axes = [self.figure.add_axes((0, 0, 1, 1)) for _ in range(max_maps)]
        self.strip_ax = self.figure.add_axes((0, 0, 1, 1))
        blank = np.zeros((2, 2))
        self.images = [ax.imshow(blank, cmap=CMAP, vmin=0, vmax=1, interpolation="nearest")
                       for ax in self.axes]
        self.panel_titles = [ax.set_title("", fontsize=8, pad=2) for ax in self.axes]
        self.strip_image = self.strip_ax.imshow(blank, cmap=CMAP, vmin=0, vmax=1,
                                                interpolation="nearest", aspect="auto")
        self.strip_texts = [self.strip_ax.text(0, 0, "", ha="center", va="center", fontsize=8)
                            for _ in range(MAX_NUMBERS)]
        for ax in self.axes + [self.strip_ax]:
            _bare(ax)
        self.highlight = Rectangle((0, 0), 1, 1, fill=False, lw=2, ec=HIGHLIGHT, visible=False)
        # two thin lines through the chosen neuron: a one-pixel outline is easy to miss
        self.crosshair = [Line2D([], [], lw=0.8, color=HIGHLIGHT, alpha=0.7, visible=False)
                          for _ in range(2)]
        self.title = self.figure.suptitle("", fontsize=10, y=0.99, va="top")
        self.canvas.animated(self.highlight, *self.crosshair)
        self.channels: list[int] = []
        self.record = None
        self._static = None          # what the cached background shows

    def show(self, rec, *, start: int = 0, neuron=None) -> None:
        """Draw ``rec.output`` (H×W×C): channels start .. start + max_maps - 1.

        ``neuron``: (row, col, channel) to outline; its channel is brought into view if the
        page starting at ``start`` does not contain it.
        """
        out = np.asarray(rec.output)
        h, w, c = out.shape
        previous, self.record = (self._static, self.record), rec
        for artist in [self.highlight] + self.crosshair:
            if artist.axes is not None:
                artist.remove()
            artist.set_visible(False)
        vmin, vmax = limits(out)
        self.title.set_text(f"{rec.name} ({rec.type_name}): output {shape_text(out.shape)}"
                            f", colour range {vmin:.3g} .. {vmax:.3g}")
        if h == 1 and w == 1:
            self._strip(out[0, 0], vmin, vmax, neuron)
        else:
            self._maps(out, vmin, vmax, start, neuron)
        # the background stays valid while the same record and page are shown
        self._static = (tuple(self.channels), h * w == 1)
        if previous != (self._static, rec):
            self.canvas.invalidate()

    def _maps(self, out, vmin, vmax, start, neuron):
        h, w, c = out.shape
        self.strip_ax.set_visible(False)
        if neuron is not None and not start <= neuron[2] < start + self.max_maps:
            start = neuron[2] - neuron[2] % self.max_maps
        start = int(min(max(start, 0), max(c - 1, 0)))
        self.channels = list(range(start, min(c, start + self.max_maps)))
        self._layout(-(-len(self.channels) // self.columns))
        for k, (ax, im, title) in enumerate(zip(self.axes, self.images, self.panel_titles)):
            if k >= len(self.channels):
                ax.set_visible(False)
                continue
            ch = self.channels[k]
            ax.set_visible(True)
            im.set_data(out[:, :, ch])
            im.set_clim(vmin, vmax)
            im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
            ax.set_xlim(-0.5, w - 0.5)
            ax.set_ylim(h - 0.5, -0.5)
            title.set_text(f"channel {ch}")
            if neuron is not None and neuron[2] == ch:
                row, col = neuron[0], neuron[1]
                self._mark(ax, row, col)
                self.crosshair[0].set_data([-0.5, w - 0.5], [row, row])
                self.crosshair[1].set_data([col, col], [-0.5, h - 0.5])
                for line in self.crosshair:
                    line.set_transform(ax.transData)
                    ax.add_line(line)
                    line.set_visible(True)

    def _strip(self, values, vmin, vmax, neuron):
        """A 1×1×K output: one 1×K strip, numbers in the cells when K is small."""
        k = len(values)
        for ax in self.axes:
            ax.set_visible(False)
        self.channels = list(range(k))
        self._layout(1)
        self.strip_ax.set_visible(True)
        self.strip_image.set_data(values.reshape(1, k))
        self.strip_image.set_clim(vmin, vmax)
        self.strip_image.set_extent((-0.5, k - 0.5, 0.5, -0.5))
        self.strip_ax.set_xlim(-0.5, k - 0.5)
        self.strip_ax.set_ylim(0.5, -0.5)
        for j, text in enumerate(self.strip_texts):
            if j < k <= MAX_NUMBERS:
                mid = (vmin + vmax) / 2
                text.set_text(f"{j}\n{values[j]:.3g}")
                text.set_position((j, 0))
                text.set_color("black" if values[j] > mid else "white")
                text.set_visible(True)
            else:
                text.set_visible(False)
        if neuron is not None:
            self._mark(self.strip_ax, 0, neuron[2])

    def _layout(self, rows: int):
        """Figure height for ``rows`` rows of panels; panels placed in inches from the top."""
        p, cols = self.panel_inches, self.columns
        width, height = cols * p, rows * p + _TITLE
        self.figure.set_size_inches(inches(width), inches(height))   # the style scales it
        for k, ax in enumerate(self.axes):
            r, c = divmod(k, cols)
            ax.set_position(((c * p + 0.05) / width, (height - _TITLE - (r + 1) * p + 0.03)
                             / height, (p - 0.1) / width, (p - 0.24) / height))
        self.strip_ax.set_position((0.01, 0.03 / height, 0.98, (p - 0.1) / height))

    def _mark(self, ax, row, col):
        """Outline cell (row, col) of ax (the artist moves between axes: reset its transform)."""
        self.highlight.set_xy((col - 0.5, row - 0.5))
        self.highlight.set_width(1)
        self.highlight.set_height(1)
        self.highlight.set_transform(ax.transData)
        ax.add_patch(self.highlight)
        self.highlight.set_visible(True)

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        return self.canvas.png()


# ---- every layer --------------------------------------------------------------------------

def _classes(trace, records):
    """(class names, index of the first record of the final 1×1×K layers) or (None, None).

    The final layers are the trailing run of 1×1×K outputs, K the network's output size
    (the last fully connected layer, softmax, classification): their cells are classes.
    """
    shapes = [tuple(np.shape(r.output)) for r in records]
    k = shapes[-1][2] if shapes and shapes[-1][:2] == (1, 1) else None
    if k is None or trace.prediction is None:
        return None, None
    first = len(shapes)
    while first > 0 and shapes[first - 1] == (1, 1, k):
        first -= 1
    names = getattr(trace.network.loss_layer, "classes", None) or [str(j) for j in range(k)]
    return list(names), first


def _row_colourbar(label, vmin, vmax, cmap):
    """A small colour bar at the bottom of a row's label, its ends written under it."""
    bar = label.inset_axes((0.0, 0.1, 0.85, 0.11))
    bar.imshow(np.linspace(0, 1, 128)[None, :], cmap=cmap, aspect="auto",
               extent=(0, 1, 0, 1))
    bar.set_yticks([])
    bar.set_xticks([0, 1], [f"{vmin:.3g}", f"{vmax:.3g}"])
    bar.tick_params(labelsize=font(7.5), length=2, pad=1)
    for t, ha in zip(bar.get_xticklabels(), ("left", "right")):
        t.set_horizontalalignment(ha)
    bar.set_label("colourbar")
    return bar


def _branch_text(trace, records, i) -> str:
    """For a layer graph: where row i's input comes from, when it is not the row above it
    ("\n= a + b" at an Addition, "\n= [a | b]" at a concatenation, "\n← a" where a branch
    starts); "" in a chain."""
    net = trace.network
    if not getattr(net, "is_graph", False):
        return ""
    rec = records[i]
    sources = net.sources(rec.name)
    if rec.kind == "add":
        return "\n= " + " + ".join(sources)
    if rec.kind == "depthcat":
        return "\n= [" + " | ".join(sources) + "]"
    above = records[i - 1].name if i else None
    return f"\n← {sources[0]}" if sources and sources[0] != above else ""


def network_view(trace, *, max_channels: int = 6, layers=None, panel_inches: float = 1.1,
                 dpi: int = 80) -> Picture:
    """One row per layer (the input first): up to ``max_channels`` maps of each output.

    ``layers``: names (or indices) to include; default every layer whose output is not the
    same shape as the previous one's plus every convolution/pooling (element-wise layers
    such as ReLU are kept: they show what the activation did). Rows of 1×1×K outputs show
    the K values as one strip; on the final layers of a classifier (the last fully connected
    layer, softmax, output) each cell is labelled with its class and the predicted class is
    outlined. Every row's label ends with its colour bar (one range per layer).
    """
    records = list(trace) if layers is None else [trace[name] for name in layers]
    rows = len(records) + 1
    classes, first_final = _classes(trace, records)
    width, height = (max_channels + 1.6) * panel_inches + 0.2, rows * panel_inches * 0.92 + 0.2
    fig = figure(width, height, dpi=dpi)
    # margins in inches: 0.2 at the right for the rotated "+N more channels", 0.22 at the
    # bottom for the last row's colour-bar numbers (they hang below its label)
    grid = fig.add_gridspec(rows, max_channels + 1, width_ratios=[1.6] + [1] * max_channels,
                            left=0.01, right=1 - 0.2 / width, top=1 - 0.04 / height,
                            bottom=0.22 / height, wspace=0.06, hspace=0.12)
    image, what = _image_of(trace.image)
    label = fig.add_subplot(grid[0, 0])
    label.axis("off")
    label.text(0, 0.62, f"input\n{shape_text(np.shape(trace.image))}", fontsize=font(9),
               va="center", ha="left", transform=label.transAxes)
    ax = fig.add_subplot(grid[0, 1])
    lo, hi = limits(image)
    ax.imshow(image, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
    _row_colourbar(label, lo, hi, "gray")
    _bare(ax)
    for r, rec in enumerate(records, start=1):
        out = np.asarray(rec.output)
        h, w, c = out.shape
        label = fig.add_subplot(grid[r, 0])
        label.axis("off")
        label.text(0, 0.62, f"{rec.name}\n{rec.type_name}\n{shape_text(out.shape)}"
                   + _branch_text(trace, records, r - 1),
                   fontsize=font(8.5), va="center", ha="left", transform=label.transAxes)
        vmin, vmax = limits(out)
        _row_colourbar(label, vmin, vmax, CMAP)
        if h == 1 and w == 1:
            ax = fig.add_subplot(grid[r, 1:])
            ax.imshow(out.reshape(1, c), cmap=CMAP, vmin=vmin, vmax=vmax, aspect="auto",
                      interpolation="nearest")
            final = classes is not None and r - 1 >= first_final
            if c <= MAX_NUMBERS:
                for j in range(c):
                    text = f"{out[0, 0, j]:.2g}"
                    if final:               # the class this cell scores
                        text = f"{classes[j]}\n{text}"
                    ax.text(j, 0, text, ha="center", va="center",
                            fontsize=font(8 if final else 7),
                            color="black" if out[0, 0, j] > (vmin + vmax) / 2 else "white")
            if final and rec.kind in ("softmax", "classoutput"):
                ax.add_patch(Rectangle((trace.label - 0.5, -0.5), 1, 1, fill=False,
                                       ec=HIGHLIGHT, lw=2.5))
            _bare(ax)
            continue
        for j in range(min(c, max_channels)):
            ax = fig.add_subplot(grid[r, 1 + j])
            ax.imshow(out[:, :, j], cmap=CMAP, vmin=vmin, vmax=vmax, interpolation="nearest")
            _bare(ax)
        if c > max_channels:
            ax.text(1.04, 0.5, f"+{c - max_channels}", transform=ax.transAxes,
                    fontsize=font(7), va="center", ha="left", rotation=90)
    return fig
