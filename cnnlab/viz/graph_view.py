"""A picture of a network's layer graph: boxes for the layers, arrows for the connections.

    graph_view(net)                          # a Picture (shows itself as PNG in a notebook)
    graph_view(net, highlight="layer2_1_add")
    view = GraphView(net); view.show("conv1"); view.png()     # one figure, re-highlighted

Each box gives the layer's name (bold) and its type and output size H×W×C. The boxes sit
where ``cnnlab.viz.graph_layout`` puts them: the main path down the left lane, top to
bottom; a branch that leaves and rejoins in its own lane beside it, its layers on the rows
of the main-path layers they run in parallel with. Arrows: straight down a lane; an identity
skip (a connection that jumps over layers of its own lane) goes round the right of the lane
and is labelled "identity"; a branch's arrows bend across. A join is marked: a circled "+"
on an Addition, "concat" on a DepthConcatenation, each incoming arrow labelled with the
input it feeds (in1, in2, ...). The highlighted layer is vermillion, as in every cnnlab
picture. A chain is one lane of boxes.

Nothing is computed here but positions: names, types and sizes are the network's own.
"""
from __future__ import annotations

import io

import numpy as np

from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from .canvas import HIGHLIGHT
from .graph_layout import network_layout
from .style import Picture, figure, font

BOX_W, BOX_H = 2.5, 0.42         # inches (before the style's size scale)
JOIN_H = 0.56                    # a join's box: a line more for its inputs' names
LANE_GAP, ROW = 0.9, 0.68        # between lanes; from one row's top to the next one's
MARGIN, SKIP_OUT = 0.25, 0.28    # around the picture; a side route's distance from a box
FILL, EDGE = "white", "#555555"
ENDS = "#E4ECF4"                 # the input and output layers
JOIN_FILL, JOIN_EDGE = "#FFF1C2", "#A07000"
HIGHLIGHT_FILL = "#FBE3D3"
JOIN_MARK = {"add": "+", "depthcat": "concat"}


def size_text(shape) -> str:
    """(28, 28, 16) -> '28×28×16'."""
    return "×".join(str(int(v)) for v in shape)


class GraphView:
    """The graph picture of ``net`` (see the module docstring), drawn once.

    Attributes: ``layout`` (the GraphLayout), ``figure`` (a Picture), ``boxes`` (name ->
    FancyBboxPatch), ``labels`` (name -> (name Text, type-and-size Text)), ``marks`` (join
    name -> its mark's Text), ``port_labels`` ((destination, port) -> Text), ``arrows``
    (one FancyArrowPatch per connection, in ``layout.edges`` order), ``routes`` (the
    points each arrow goes through, the last its tip), ``skip_labels``,
    ``highlighted`` (the name shown highlighted, or None), ``overlay`` (the highlight's
    box, over the highlighted layer's). Coordinates are inches from the
    picture's top-left corner (the axes' data units), before the style's scale.
    """

    def __init__(self, net, highlight=None, *, dpi: int = 80):
        self.net = net
        self.layout = lay = network_layout(net)
        layers = {layer.name: layer for layer in net.layers}
        lane_w = BOX_W + LANE_GAP
        self.width = 2 * MARGIN + lay.num_lanes * lane_w - LANE_GAP + SKIP_OUT + 0.35
        self.height = 2 * MARGIN + max(lay.num_rows, 1) * ROW - (ROW - JOIN_H)
        self.figure = figure(self.width, self.height, dpi=dpi)
        ax = self.axes = self.figure.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, self.width)
        ax.set_ylim(self.height, 0)
        ax.axis("off")
        # each box: its centre x, its top, its height (a join's is taller: its inputs'
        # names in1, in2, ... are written along its top, where their arrows arrive)
        self.frames = {n: (MARGIN + lay.lanes[n] * lane_w + BOX_W / 2,
                           MARGIN + lay.rows[n] * ROW,
                           JOIN_H if layers[n].kind in JOIN_MARK else BOX_H)
                       for n in lay.names}
        self.boxes, self.labels, self.marks, self.fronts = {}, {}, {}, {}
        self.port_labels, self.arrows, self.routes, self.skip_labels = {}, [], [], []
        for name in lay.names:
            self._box(name, layers[name])
        # a join's arrows arrive side by side along its top, in the left-to-right order of
        # their sources' lanes (an identity skip arrives at the side): so none cross
        self.slots = {}
        for join in lay.joins:
            ins = sorted((e for e in lay.edges if e.destination == join and e.route != "side"),
                         key=lambda e: (lay.lanes[e.source], e.port))
            self.slots.update({(join, e.port): (i, len(ins)) for i, e in enumerate(ins)})
        for edge in lay.edges:
            self._arrow(edge)
        # the highlight: one box over the chosen layer's, under its texts. Moving it redraws
        # only it and that layer's texts over a cached picture of the rest (blitting: a few
        # ms instead of the half second a full draw of 30 boxes and arrows takes)
        self.overlay = FancyBboxPatch((0, 0), BOX_W, BOX_H,
                                      boxstyle="round,pad=0,rounding_size=0.07",
                                      facecolor=HIGHLIGHT_FILL, edgecolor=HIGHLIGHT,
                                      linewidth=3, zorder=4, visible=False)
        self.axes.add_patch(self.overlay)
        self.highlighted, self.background = None, None
        self.show(highlight)

    # ---- drawing ---------------------------------------------------------------------------
    def _box(self, name, layer):
        x, top, h = self.frames[name]
        kind = layer.kind
        join = kind in JOIN_MARK
        ends = not self.net.sources(name) or getattr(layer, "is_loss", False)
        box = FancyBboxPatch((x - BOX_W / 2, top), BOX_W, h,
                             boxstyle="round,pad=0,rounding_size=0.07", linewidth=1.2,
                             facecolor=JOIN_FILL if join else ENDS if ends else FILL,
                             edgecolor=JOIN_EDGE if join else EDGE, zorder=3)
        self.axes.add_patch(box)
        self.fronts[name] = []          # what is drawn over the highlight, in front
        shift, y = 0.0, top + h - BOX_H / 2       # the text's middle: the box's lower part
        if join:           # the join's mark at the box's left: "+" or "concat"
            mark = JOIN_MARK[kind]
            if mark == "+":
                circle = Circle((x - BOX_W / 2 + 0.25, top + h / 2), 0.16,
                                facecolor="white", edgecolor=JOIN_EDGE, linewidth=1.5,
                                zorder=4.5)
                self.axes.add_patch(circle)
                self.fronts[name].append(circle)
                self.marks[name] = self.axes.text(x - BOX_W / 2 + 0.25, top + h / 2, "+",
                                                  fontsize=font(14), weight="bold",
                                                  ha="center", va="center_baseline",
                                                  color=JOIN_EDGE, zorder=5)
                shift = 0.2
            else:
                self.marks[name] = self.axes.text(x - BOX_W / 2 + 0.06, top + h / 2, mark,
                                                  fontsize=font(8.5), weight="bold",
                                                  ha="left", va="center", color=JOIN_EDGE,
                                                  zorder=5, rotation=90)
                shift = 0.1
        title = self.axes.text(x + shift, y - 0.02, name, fontsize=font(10), weight="bold",
                               ha="center", va="bottom", zorder=5)
        detail = self.axes.text(x + shift, y + 0.01,
                                f"{layer.type_name} · {size_text(layer.output_shape)}",
                                fontsize=font(8.5), ha="center", va="top", zorder=5,
                                color="#333333")
        self.boxes[name], self.labels[name] = box, (title, detail)
        self._fit((title, detail), BOX_W - 0.14 - 2 * shift)
        self.fronts[name] += [title, detail] + ([self.marks[name]] if join else [])

    def _fit(self, texts, width):
        """Shrink texts wider than ``width`` layout inches until they fit (a long name in
        the projector style, whose text grows faster than its boxes)."""
        renderer = self.figure.canvas.get_renderer()
        per_inch = self.figure.get_figwidth() * self.figure.dpi / self.width
        for text in texts:
            wide = text.get_window_extent(renderer).width
            if wide > width * per_inch:
                text.set_fontsize(text.get_fontsize() * width * per_inch / wide)

    def _arrow(self, edge):
        (xs, ts, hs), (xd, top, hd) = self.frames[edge.source], self.frames[edge.destination]
        n_in = len(self.net.sources(edge.destination))
        bottom = ts + hs
        slot, slots = self.slots.get((edge.destination, edge.port), (0, 1))
        spread = min(0.6, BOX_W / (slots + 1))
        xa = xd + (slot - (slots - 1) / 2) * spread
        if edge.route == "side":           # round the right of the lane, into the side
            out = xs + BOX_W / 2 + SKIP_OUT * (1 + edge.depth)
            ys, yd = ts + hs / 2, top + hd / 2
            points = [(xs + BOX_W / 2, ys), (out, ys), (out, yd), (xd + BOX_W / 2, yd)]
            self.skip_labels.append(self.axes.text(
                out + 0.06, (ys + yd) / 2, "identity", rotation=90, fontsize=font(8.5),
                ha="left", va="center", color=EDGE, style="italic"))
        elif edge.route == "bend":
            if n_in > 1:
                # into a join: down the source's lane, across just above the join, down;
                # the further right the input, the lower it turns (so no two cross)
                turn = top - 0.07 - 0.05 * (slots - 1 - slot)
            else:                          # out of a branch point: across between the rows
                turn = (bottom + top) / 2
            points = [(xs, bottom), (xs, turn), (xa, turn), (xa, top)]
        else:
            points = [(xs if n_in == 1 else xa, bottom), (xa, top)]
        codes = [Path.MOVETO] + [Path.LINETO] * (len(points) - 1)
        arrow = FancyArrowPatch(path=Path(points, codes), arrowstyle="-|>",
                                mutation_scale=font(10), linewidth=1.1, color=EDGE, zorder=2,
                                shrinkA=0, shrinkB=0)
        self.axes.add_patch(arrow)
        self.arrows.append(arrow)
        self.routes.append(points)
        if n_in > 1:        # which input of the join the arrow feeds: inside, along its top
            side = edge.route == "side"
            label = self.port_labels[(edge.destination, edge.port)] = self.axes.text(
                xd + BOX_W / 2 - 0.06 if side else xa, top + 0.03, f"in{edge.port}",
                fontsize=font(8), ha="right" if side else "center", va="top",
                color=JOIN_EDGE, weight="bold", zorder=5)
            self.fronts[edge.destination].append(label)

    # ---- the highlighted layer ---------------------------------------------------------------
    def show(self, highlight=None):
        """Highlight layer ``highlight`` (a name; None: none)."""
        if highlight is not None and highlight not in self.boxes:
            raise ValueError(f"GraphView: no layer {highlight!r} in this network; it has "
                             f"{', '.join(self.layout.names)}")
        if highlight is not None:
            left, top, right, bottom = self.box_extent(highlight)
            self.overlay.set_bounds(left, top, right - left, bottom - top)
        self.overlay.set_visible(highlight is not None)
        self.highlighted = highlight
        return self

    def box_extent(self, name):
        """(left, top, right, bottom) of layer ``name``'s box, inches from the top left."""
        x, top, h = self.frames[name]
        return (x - BOX_W / 2, top, x + BOX_W / 2, top + h)

    def _repr_png_(self) -> bytes:
        return self.png()

    def render(self):
        """The picture as an H×W×4 uint8 buffer: the cached rest, the highlight over it."""
        canvas = self.figure.canvas
        if self.background is None:
            shown = self.overlay.get_visible()
            self.overlay.set_visible(False)
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.figure.bbox)
            self.overlay.set_visible(shown)
        canvas.restore_region(self.background)
        if self.highlighted is not None:
            for artist in [self.overlay] + self.fronts[self.highlighted]:
                self.figure.draw_artist(artist)
        return np.asarray(canvas.buffer_rgba())

    def window(self, height: float):
        """(first, last) pixel rows of a ``height``-inch tall part of the picture centred on
        the highlighted layer (the top part when none is; the whole when it is shorter)."""
        rows = int(self.figure.canvas.get_width_height()[1])
        per_inch = rows / self.height                 # pixels per layout inch (styled)
        span = min(rows, int(round(height * per_inch)))
        if self.highlighted is None:
            return 0, span
        _left, top, _right, bottom = self.box_extent(self.highlighted)
        first = int(round((top + bottom) / 2 * per_inch)) - span // 2
        first = min(max(first, 0), rows - span)
        return first, first + span

    def png(self, window: float | None = None) -> bytes:
        """PNG bytes (zlib level 1: fast, and a picture of boxes stays small). ``window``:
        only a part that many inches tall, centred on the highlighted layer (for a graph
        too tall to show whole, as the NetworkExplorer does)."""
        from PIL import Image
        rgba = self.render()
        if window is not None:
            first, last = self.window(window)
            rgba = np.ascontiguousarray(rgba[first:last])
        h, w = rgba.shape[:2]
        buffer = io.BytesIO()
        Image.frombuffer("RGBA", (w, h), rgba, "raw", "RGBA", 0, 1).convert("RGB").save(
            buffer, format="png", compress_level=1)
        return buffer.getvalue()


def graph_view(net, highlight=None, *, dpi: int = 80) -> Picture:
    """The graph picture of ``net`` (a Network, or a Trace: its network), layer
    ``highlight`` highlighted; the Picture's ``view`` is its :class:`GraphView`."""
    net = getattr(net, "network", net)
    view = GraphView(net, highlight, dpi=dpi)
    view.figure.view = view
    return view.figure

