"""PoolingExplorer: step max or average pooling window by window, and change it while you watch.

    PoolingExplorer()                            # a 6×6 example, 3×3 max pooling, stride 2
    PoolingExplorer(net["maxpool_1"], image)     # a real pooling layer on an image
    PoolingExplorer(trace["maxpool_1"])          # a record of a trace

Without a layer every control change (input size, pool size, stride, padding incl. "same",
max / average, seed) builds a one-layer network (``cnnlab.viz.animate.pool_example``), traces
it and redraws ``cnnlab.viz.pool_step.PoolStepFigure``; with a layer those controls are
hidden and a channel picker chooses the map. Impossible settings show the engine's
explanation; the picture keeps the last valid settings.
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from ..viz.animate import pool_example, traced
from ..viz.canvas import push
from ..viz.pool_step import PoolStepFigure
from ..trace.records import LayerRecord
from ._controls import Message, Navigator, find_network, hide, safe

POOL_KINDS = ("maxpool", "avgpool", "gapool", "gmpool")


class PoolingExplorer(widgets.VBox):
    """See the module docstring. Attributes: ``record``, ``figure`` (PoolStepFigure),
    ``image``, ``caption``, ``message``, ``navigator``, ``channel_picker``, ``controls``."""

    def __init__(self, source=None, image=None, *, network=None, channel: int = 0):
        self.message = Message()
        self.image = widgets.Image(format="png")
        self.caption = widgets.HTML()
        self.record, self.figure = None, None
        slider = dict(continuous_update=False, layout=widgets.Layout(width="240px"))
        self.controls = {
            "input": widgets.IntSlider(6, min=1, max=28, description="input H=W", **slider),
            "pool": widgets.IntSlider(3, min=1, max=6, description="pool", **slider),
            "stride": widgets.IntSlider(2, min=1, max=6, description="stride", **slider),
            "padding": widgets.Dropdown(options=["0", "1", "2", "same"], value="0",
                                        description="padding",
                                        layout=widgets.Layout(width="170px")),
            "mode": widgets.ToggleButtons(options=["max", "average"], value="max",
                                          description="mode"),
            "seed": widgets.IntText(0, description="seed", layout=widgets.Layout(width="150px")),
        }
        self.channel_picker = widgets.Dropdown(options=[0], value=0, description="channel",
                                               layout=widgets.Layout(width="160px"))
        self.navigator = Navigator(1)
        self.navigator.on_change(safe(self.message, self.show))
        self.channel_picker.observe(safe(self.message, lambda c: self._draw(c["new"])),
                                    names="value")
        c = self.controls
        self.control_box = widgets.VBox([
            widgets.HBox([c["input"], c["pool"], c["stride"]]),
            widgets.HBox([c["padding"], c["mode"], c["seed"]])])
        super().__init__([self.control_box,
                          widgets.HBox([self.navigator, self.channel_picker]), self.message,
                          self.image, self.caption])
        if source is None:
            for w in c.values():
                w.observe(safe(self.message, lambda _c: self.rebuild()), names="value")
            self.rebuild()
        else:
            hide(*c.values())
            self.control_box.layout.display = "none"
            self.set_record(self._record_of(source, image, network), channel)

    @staticmethod
    def _record_of(source, image, network):
        if isinstance(source, LayerRecord):                # a trace record
            record = source
        else:
            if image is None:
                raise ValueError("PoolingExplorer: give the image to trace the network on: "
                                 "PoolingExplorer(net['maxpool_1'], image)")
            net = network if network is not None else find_network(source)
            record = net.trace(image, upto=source.name)[source.name]
        if record.kind not in POOL_KINDS:
            raise ValueError(f"PoolingExplorer: {record.name} is a {record.type_name}, not a "
                             "pooling layer")
        return record

    def settings(self) -> dict:
        c = self.controls
        padding = c["padding"].value
        return dict(input_size=c["input"].value, pool_size=c["pool"].value,
                    stride=c["stride"].value,
                    padding=padding if padding == "same" else int(padding),
                    mode=c["mode"].value, seed=c["seed"].value)

    def rebuild(self):
        self.set_record(traced(*pool_example(**self.settings())), 0)

    def set_record(self, record, channel: int = 0):
        figure = PoolStepFigure(record, channel, text=False)
        self.record, self.figure = record, figure
        self.message.clear()
        nc = record.output_shape[2]
        self.navigator.set_count(record.num_steps)
        if list(self.channel_picker.options) != list(range(nc)):
            self.channel_picker.options = list(range(nc))
        if self.channel_picker.value != channel:
            self.channel_picker.value = channel
        self.show(self.navigator.slider.value)

    def _draw(self, channel):
        if self.record is not None and (self.figure is None or self.figure.channel != channel):
            self.figure = PoolStepFigure(self.record, channel, text=False)
            self.show(self.navigator.slider.value)

    def show(self, index: int):
        if self.figure is None:
            return
        self.figure.show_step(int(index))
        push(self.image, self.figure.png())
        self.caption.value = ("<pre style='font-size:12px'>"
                              + html.escape(self.figure.caption()) + "</pre>")

    def go_to(self, row: int, col: int, channel: int | None = None):
        """Jump to output (row, col), optionally of another channel."""
        oh, ow, nc = self.record.output_shape
        if not (0 <= row < oh and 0 <= col < ow):
            raise ValueError(f"PoolingExplorer.go_to: ({row}, {col}) is outside the "
                             f"{oh}×{ow} output of {self.record.name}")
        if channel is not None:
            self.channel_picker.value = int(channel)
        index = int(row) * ow + int(col)
        if self.navigator.slider.value == index:
            self.show(index)
        self.navigator.slider.value = index
