"""NetworkExplorer: pick an image, a layer and a neuron; see the maps and the receptive field.

    ex = NetworkExplorer(net, images)     # images: one H×W×C image or a batch N×H×W×C
    ex = NetworkExplorer()                # untrained LeNet-5 on embedded generated digits

Controls: image (for a batch), layer, neuron row / column / channel, and the first channel of
the page of maps shown. Shown: the layer's feature maps (``cnnlab.viz.network_view``) with
the neuron outlined, its value and shape, the network's prediction, and the neuron's receptive
field drawn back onto the input with the chain of windows through the earlier layers
(``cnnlab.viz.receptive_field``). For a convolution layer the button "open in
ConvolutionExplorer" opens ``cnnlab.widgets.convolution.ConvolutionExplorer`` on that layer
and image, at the neuron's window.

On a layer graph (``net.is_graph``: a ResNet, an Inception block) the network's graph
(``cnnlab.viz.graph_view``: branches side by side, the joins marked) is shown beside the
maps with the chosen layer highlighted — the part of it around that layer when the whole is
taller than ``GRAPH_WINDOW`` inches; a chain keeps the layout above, without it.

Every number comes from ``net.trace(image)`` (one forward pass per image, recorded once and
reused while layers and neurons change) and ``trace.receptive_field(...)``.

The default network is LeNet-5 (``cnnlab.models.lenet5``, normalization "none") with its
seed-0 initial weights, UNTRAINED: training it would take longer than the 2 s a widget may
take to appear. Its random filters still show edges and blobs; pass a trained network to see
learned features. The default images are 8 embedded digits (``make_digits(8, seed=0)`` / 255;
the first call in a process builds the glyph bank, about 2 s).
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from ..viz.graph_view import GraphView
from ..viz.network_view import LayerMapsView, shape_text
from ..viz.receptive_field import ReceptiveFieldView

_STYLE = {"description_width": "70px"}
GRAPH_DPI = 72               # the graph picture: about 510 px wide for a ResNet
GRAPH_WINDOW = 9.0           # inches of it shown (650 px), centred on the chosen layer


def _picture_layout():
    """At its own pixel size (a VBox would stretch it to the full width), never wider than
    the page."""
    return widgets.Layout(max_width="100%", align_self="flex-start")


def default_example():
    """(network, images): untrained LeNet-5 and 8 generated digits scaled to 0..1."""
    from ..datasets import make_digits
    from ..models import lenet5
    from ..network import Network
    images, _labels = make_digits(8, seed=0)
    return Network(lenet5(normalization="none"), seed=0), images / 255.0


def _batch(net, image) -> np.ndarray:
    x = np.asarray(image)
    h, w, c = net.input_size
    if x.shape in ((h, w, c), (h, w)):
        return x.reshape(1, h, w, c)
    return x


class NetworkExplorer(widgets.VBox):
    """Feature maps, neuron values and receptive fields of one network on its images.

    Attributes: ``controls`` (dict: image, layer, row, col, channel, start), ``maps`` (the
    LayerMapsView), ``field_view`` (ReceptiveFieldView), ``maps_image`` / ``field_image``
    (ipywidgets.Image), ``readout`` (HTML: value, shape, prediction), ``note`` (HTML: why a
    receptive field is not shown), ``open_button``, ``convolution_area`` (VBox holding the
    ConvolutionExplorer once opened), ``trace`` (the current Trace), ``record``; on a layer
    graph also ``graph`` (the GraphView) and ``graph_image`` (None for a chain).
    """

    def __init__(self, net=None, image=None, *, layer=None):
        if net is None:
            net, default_images = default_example()
            image = default_images if image is None else image
        if image is None:
            raise ValueError("NetworkExplorer: give an image (H×W×C) or a batch (N×H×W×C) to "
                             "go with the network")
        self.net = net
        self.images = net.check_input(_batch(net, image))
        self.trace = None
        self.record = None
        self.maps = LayerMapsView()
        self.field_view = ReceptiveFieldView()
        self._busy = False
        c = self.controls = {
            "image": widgets.IntSlider(0, 0, max(len(self.images) - 1, 0),
                                       description="image", style=_STYLE,
                                       disabled=len(self.images) == 1),
            "layer": widgets.Dropdown(description="layer", style=_STYLE),
            "row": widgets.IntSlider(0, 0, 0, description="row", style=_STYLE),
            "col": widgets.IntSlider(0, 0, 0, description="column", style=_STYLE),
            "channel": widgets.IntSlider(0, 0, 0, description="channel", style=_STYLE),
            "start": widgets.IntSlider(0, 0, 0, step=self.maps.max_maps,
                                       description="first map", style=_STYLE),
        }
        self.readout = widgets.HTML()
        self.note = widgets.HTML()
        # no fixed width: the pictures show at their own pixel size (never blown up)
        self.maps_image = widgets.Image(format="png", layout=_picture_layout())
        self.field_image = widgets.Image(format="png", layout=_picture_layout())
        self.open_button = widgets.Button(description="open in ConvolutionExplorer",
                                          icon="search", layout=widgets.Layout(width="260px"))
        self.open_button.on_click(lambda _b: self.open_convolution())
        self.convolution_area = widgets.VBox()
        self.convolution = None
        self.graph = self.graph_image = None
        if getattr(net, "is_graph", False):
            self.graph = GraphView(net, dpi=GRAPH_DPI)
            self.graph_image = widgets.Image(format="png", layout=_picture_layout())
        self._retrace()
        names = [rec.name for rec in self.trace]
        c["layer"].options = names
        c["layer"].value = layer if layer is not None else self._first_spatial(names)
        c["image"].observe(self._on_image, names="value")
        c["layer"].observe(self._on_layer, names="value")
        for key in ("row", "col", "channel"):
            c[key].observe(self._on_neuron, names="value")
        c["start"].observe(self._on_start, names="value")
        pictures = [widgets.HBox([c["start"]]), self.maps_image, self.note, self.field_image]
        if self.graph is not None:
            # the graph beside the maps (under them when the page is too narrow for both)
            self.graph_image.layout.margin = "0 12px 0 0"
            pictures = [widgets.HBox([self.graph_image, widgets.VBox(pictures)],
                                     layout=widgets.Layout(flex_flow="row wrap",
                                                           align_items="flex-start"))]
        super().__init__([
            widgets.HBox([c["image"], c["layer"]]),
            widgets.HBox([c["row"], c["col"], c["channel"]]),
            self.readout, *pictures,
            self.open_button, self.convolution_area])
        self._on_layer()

    # ---- state ------------------------------------------------------------------------------
    def _retrace(self):
        self.trace = self.net.trace(self.images, image=self.controls["image"].value)

    def _first_spatial(self, names):
        for name in names:
            if self.trace[name].kind == "conv":
                return name
        return names[0]

    @property
    def neuron(self) -> tuple[int, int, int]:
        c = self.controls
        return c["row"].value, c["col"].value, c["channel"].value

    # ---- observers --------------------------------------------------------------------------
    def _on_image(self, change=None):
        self._retrace()
        self._on_layer()

    def _on_layer(self, change=None):
        """A new layer: neuron sliders fitted to its output, maps and field redrawn."""
        self.record = self.trace[self.controls["layer"].value]
        h, w, ch = np.shape(self.record.output)
        self._busy = True                  # one redraw for the whole change, not one per slider
        try:
            for key, size in (("row", h), ("col", w), ("channel", ch)):
                slider = self.controls[key]
                slider.max = size - 1
                slider.value = min(slider.value, size - 1)
                slider.disabled = size == 1
            start = self.controls["start"]
            start.max = max(0, (ch - 1) // self.maps.max_maps * self.maps.max_maps)
            start.value = self.neuron[2] - self.neuron[2] % self.maps.max_maps
            start.disabled = ch <= self.maps.max_maps or h * w == 1
        finally:
            self._busy = False
        self.open_button.disabled = self.record.kind != "conv"
        if self.graph is not None:
            self.graph.show(self.record.name)
            self.graph_image.value = self.graph.png(window=GRAPH_WINDOW)
        self.redraw()

    def _on_neuron(self, change=None):
        if self._busy:
            return
        ch = self.neuron[2]
        start = self.controls["start"]
        if not start.value <= ch < start.value + self.maps.max_maps:
            self._busy = True
            start.value = ch - ch % self.maps.max_maps
            self._busy = False
        self.redraw()

    def _on_start(self, change=None):
        if self._busy:
            return
        self.maps.show(self.record, start=self.controls["start"].value, neuron=self.neuron)
        self.maps_image.value = self.maps.png()

    # ---- drawing ------------------------------------------------------------------------------
    def redraw(self):
        """Maps with the neuron outlined, the readout, and the receptive field."""
        rec, (row, col, ch) = self.record, self.neuron
        self.maps.show(rec, start=self.controls["start"].value, neuron=(row, col, ch))
        self.maps_image.value = self.maps.png()
        value = float(np.asarray(rec.output)[row, col, ch])
        self.readout.value = self._readout(rec, row, col, ch, value)
        try:
            field = self.trace.receptive_field(rec.name, row, col)
        except ValueError as e:
            self.note.value = (f"<i>No receptive field drawn for {html.escape(rec.name)}: "
                               f"{html.escape(str(e))}</i>")
            self.field_image.layout.display = "none"
            return
        self.note.value = ""
        self.field_view.show(self.trace, field, value=value)
        self.field_image.value = self.field_view.png()
        self.field_image.layout.display = None

    def _readout(self, rec, row, col, ch, value) -> str:
        text = (f"<b>{html.escape(rec.name)}</b> ({html.escape(rec.type_name)}), output "
                f"{shape_text(np.shape(rec.output))}: value at row {row}, column {col}, "
                f"channel {ch} = <b>{value:.6g}</b>")
        label = getattr(self.trace, "label", None)
        probs = getattr(self.trace, "prediction", None)
        if label is not None:
            text += f" &nbsp;·&nbsp; network's prediction for this image: class {label}"
            if probs is not None:
                text += f" ({100 * float(np.ravel(probs)[int(label)]):.1f}%)"
        return text

    # ---- into the ConvolutionExplorer -------------------------------------------------------
    def open_convolution(self):
        """Show a ConvolutionExplorer of the current conv layer at the neuron's window."""
        if self.record is None or self.record.kind != "conv":
            self.note.value = "<i>The ConvolutionExplorer opens on convolution layers.</i>"
            return
        try:
            from .convolution import ConvolutionExplorer
        except ImportError as e:
            self.note.value = ("<i>cnnlab.widgets.convolution is not available: "
                               f"{html.escape(str(e))}</i>")
            return
        row, col, ch = self.neuron
        try:
            # the record of this explorer's trace: the same image, the same numbers, no re-run
            explorer = ConvolutionExplorer(self.record)
            explorer.go_to(row, col, filter=ch)
        except ValueError as e:
            self.note.value = f"<i>{html.escape(str(e))}</i>"
            return
        self.convolution = explorer
        self.convolution_area.children = [widgets.HTML(
            f"<b>ConvolutionExplorer: {html.escape(self.record.name)} at row {row}, column "
            f"{col}, filter {ch}</b>"), explorer]
