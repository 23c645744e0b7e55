"""ConvolutionExplorer: step a convolution window by window, and change it while you watch.

    ConvolutionExplorer()                          # a 5×5 example, 3×3 filter, padding 1, stride 2
    ConvolutionExplorer(net["conv_1"], image)      # a real layer of a real network on an image
    ConvolutionExplorer(trace["conv_1"])           # a record of a trace made earlier
    ConvolutionExplorer(trace["transposed_1"])     # a transposed convolution, read as the
                                                   # convolution of its upsampled input

Without a layer, every control change (input size, filter size, stride, padding incl. "same",
padding value — zeros, a number or one of the three edge modes —, dilation, number of input
channels, number of filters, seed) builds a one-layer cnnlab Network on small integers
(``cnnlab.viz.animate.conv_example``), traces it (``net.trace``) and redraws. With a layer,
the network is traced on the image and that layer is shown; the hyperparameter controls are
hidden. Either way the picture is ``cnnlab.viz.conv_step.ConvStepFigure`` (one persistent
figure, updated in place per step) and the numbers are the trace's.

An impossible setting (a filter larger than the padded input, a padding value mode wider than
the input, ...) shows the engine's own explanation under the controls; the picture keeps the
last valid settings and every control stays usable.
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from ..viz.animate import conv_example, traced
from ..viz.canvas import push
from ..viz.conv_step import ConvStepFigure
from ..viz.transposed_step import TransposedStepFigure
from ..trace.records import LayerRecord
from ._controls import Message, Navigator, find_network, hide, safe

PADDING_VALUES = ["zeros", "a number", "replicate", "symmetric-include-edge",
                  "symmetric-exclude-edge"]


class ConvolutionExplorer(widgets.VBox):
    """See the module docstring.

    source : None (the example), a convolution Layer of a Network (with ``image``), or a
        convolution LayerRecord of a trace
    image : the image to trace ``network`` on (H×W×C or H×W)
    network : the Network holding ``source`` (found automatically when omitted)

    Attributes: ``record`` (the LayerRecord shown), ``figure`` (ConvStepFigure), ``image``
    (ipywidgets.Image), ``caption`` (HTML with the written-out sum), ``message``,
    ``navigator`` (``.slider``, ``.play``, ``.back``, ``.forward``), ``filter_picker``,
    ``controls`` (dict of the hyperparameter widgets), ``from_layer``.
    """

    def __init__(self, source=None, image=None, *, network=None, filter: int = 0,
                 max_channels: int = 3):
        self.message = Message()
        self.image = widgets.Image(format="png")
        self.caption = widgets.HTML()
        self.max_channels = max_channels
        self.record, self.figure = None, None
        self.from_layer = source is not None
        self.controls = self._make_controls()
        self.filter_picker = widgets.Dropdown(options=[0], value=0, description="filter",
                                              layout=widgets.Layout(width="160px"))
        self.navigator = Navigator(1)
        self.navigator.on_change(safe(self.message, self.show))
        self.filter_picker.observe(safe(self.message, lambda c: self._draw(c["new"])),
                                   names="value")
        boxes = [widgets.HBox([self.controls[k] for k in ("input", "filter", "stride")]),
                 widgets.HBox([self.controls[k] for k in ("padding", "padding_value",
                                                          "number", "dilation")]),
                 widgets.HBox([self.controls[k] for k in ("channels", "filters", "seed")])]
        self.control_box = widgets.VBox(boxes)
        super().__init__([self.control_box,
                          widgets.HBox([self.navigator, self.filter_picker]), self.message,
                          self.image, self.caption])
        if source is None:
            for w in self.controls.values():
                w.observe(safe(self.message, lambda _c: self.rebuild()), names="value")
            self.rebuild()
        else:
            hide(*self.controls.values())
            self.control_box.layout.display = "none"
            self.set_record(self._record_of(source, image, network), filter)

    # ---- sources --------------------------------------------------------------------------
    @staticmethod
    def _record_of(source, image, network):
        if isinstance(source, LayerRecord):                # a trace record
            record = source                                       # a trace record
        else:
            if image is None:
                raise ValueError("ConvolutionExplorer: give the image to trace the network on: "
                                 "ConvolutionExplorer(net['conv_1'], image)")
            net = network if network is not None else find_network(source)
            record = net.trace(image, upto=source.name)[source.name]
        if record.kind not in ("conv", "transposed-conv"):
            raise ValueError(f"ConvolutionExplorer: {record.name} is a {record.type_name}, "
                             "not a convolution (PoolingExplorer shows pooling layers)")
        return record

    def _make_controls(self):
        slider = dict(continuous_update=False, layout=widgets.Layout(width="240px"))
        return {
            "input": widgets.IntSlider(5, min=1, max=28, description="input H=W", **slider),
            "filter": widgets.IntSlider(3, min=1, max=7, description="filter", **slider),
            "stride": widgets.IntSlider(2, min=1, max=5, description="stride", **slider),
            "padding": widgets.Dropdown(options=["0", "1", "2", "3", "same"], value="1",
                                        description="padding",
                                        layout=widgets.Layout(width="170px")),
            "padding_value": widgets.Dropdown(options=PADDING_VALUES, value="zeros",
                                              description="pad value",
                                              layout=widgets.Layout(width="270px")),
            "number": widgets.FloatText(1.0, description="number",
                                        layout=widgets.Layout(width="150px")),
            "dilation": widgets.IntSlider(1, min=1, max=4, description="dilation", **slider),
            "channels": widgets.IntSlider(1, min=1, max=4, description="channels", **slider),
            "filters": widgets.IntSlider(2, min=1, max=4, description="filters", **slider),
            "seed": widgets.IntText(0, description="seed", layout=widgets.Layout(width="150px")),
        }

    def settings(self) -> dict:
        """The example's keyword arguments for ``conv_example`` from the controls."""
        c = self.controls
        padding = c["padding"].value
        mode = c["padding_value"].value
        value = {"zeros": 0, "a number": c["number"].value}.get(mode, mode)
        c["number"].disabled = mode != "a number"
        return dict(input_size=c["input"].value, filter_size=c["filter"].value,
                    stride=c["stride"].value,
                    padding=padding if padding == "same" else int(padding),
                    dilation=c["dilation"].value, padding_value=value,
                    channels=c["channels"].value, num_filters=c["filters"].value,
                    seed=c["seed"].value)

    def rebuild(self):
        """Build, trace and draw the example from the controls (errors go to ``message``)."""
        s = self.settings()
        record = traced(*conv_example(**s))
        self.set_record(record, min(self.filter_picker.value, s["num_filters"] - 1))

    # ---- drawing --------------------------------------------------------------------------
    def set_record(self, record, filter: int = 0):
        """Show another convolution record (rebuilds the figure once)."""
        self.record = record
        figure = self._figure(filter)
        self.figure = figure
        self.message.clear()
        nf = record.output_shape[2]
        self.navigator.set_count(record.num_steps)
        if list(self.filter_picker.options) != list(range(nf)):
            self.filter_picker.options = list(range(nf))
        if self.filter_picker.value != filter:
            self.filter_picker.value = filter      # its observer redraws
        self.show(self.navigator.slider.value)

    def _draw(self, filter):
        if self.record is not None and (self.figure is None or self.figure.filter != filter):
            self.figure = self._figure(filter)
            self.show(self.navigator.slider.value)

    def _figure(self, filter):
        cls = TransposedStepFigure if self.record.kind == "transposed-conv" else ConvStepFigure
        return cls(self.record, filter, max_channels=self.max_channels, text=False)

    def show(self, index: int):
        """Draw step ``index`` (scan order) of the current filter."""
        if self.figure is None:
            return
        self.figure.show_step(int(index))
        push(self.image, self.figure.png())
        self.caption.value = ("<pre style='font-size:12px; line-height:1.3'>"
                              + html.escape(self.figure.caption()) + "</pre>")

    def go_to(self, row: int, col: int, filter: int | None = None):
        """Jump to output (row, col), optionally of another filter (the NetworkExplorer's
        'open in ConvolutionExplorer' calls this)."""
        oh, ow, nf = self.record.output_shape
        if not (0 <= row < oh and 0 <= col < ow):
            raise ValueError(f"ConvolutionExplorer.go_to: ({row}, {col}) is outside the "
                             f"{oh}×{ow} output of {self.record.name}")
        if filter is not None:
            if not 0 <= filter < nf:
                raise ValueError(f"ConvolutionExplorer.go_to: filter = {filter} is out of "
                                 f"range 0..{nf - 1}")
            self.filter_picker.value = int(filter)
        index = int(row) * ow + int(col)
        if self.navigator.slider.value == index:
            self.show(index)
        self.navigator.slider.value = index


def step_benchmark(moves: int = 100, input_size: int = 28, filter_size: int = 3) -> dict:
    """Time slider moves through the widget: ``slider.value = i`` until the Image bytes are
    new (one step update). Returns median / 90th percentile / max milliseconds. A benchmark,
    not a test: run ``python -c "from cnnlab.widgets.convolution import step_benchmark as b;
    print(b())"``."""
    import time
    import numpy as np
    w = ConvolutionExplorer()
    for key, value in (("padding", "1"), ("stride", 1), ("input", input_size),
                       ("filter", filter_size)):
        w.controls[key].value = value
    times, cpu = [], []
    for i in range(1, moves + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        w.navigator.slider.value = i % w.record.num_steps
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    ms, cpu_ms = np.array(times) * 1000, np.array(cpu) * 1000
    # wall time depends on what else runs on the machine; CPU time much less
    return {"moves": moves, "output": w.record.output_shape, "median_ms": float(np.median(ms)),
            "p90_ms": float(np.percentile(ms, 90)), "max_ms": float(ms.max()),
            "median_cpu_ms": float(np.median(cpu_ms)), "png_bytes": len(bytes(w.image.value))}
