"""ConvolutionExplorer: step a convolution window by window, and change it while you watch.

    ConvolutionExplorer()                          # a 5×5 example, 3×3 filter, padding 1, stride 2
    ConvolutionExplorer(net["conv_1"], image)      # a real layer of a real network on an image
    ConvolutionExplorer(trace["conv_1"])           # a record of a trace made earlier
    ConvolutionExplorer(trace["transposed_1"])     # a transposed convolution, read as the
                                                   # convolution of its upsampled input

Without a layer, every control change (input size, filter size, stride, padding incl. "same",
padding value — zeros, a number or one of the three edge modes —, dilation, number of input
channels, number of filters, seed) builds a one-layer cnnlab Network on small integers
(``cnnlab.examples.conv_example``), traces it (``net.trace``) and redraws; changing only the
input size keeps the example (the same filter, the input's numbers where they were). With a layer,
the network is traced on the image and that layer is shown; the hyperparameter controls are
hidden. Either way the picture is ``cnnlab.viz.conv_step.ConvStepFigure`` (one persistent
figure, updated in place per step) and the numbers are the trace's.

An impossible setting (a filter larger than the padded input, a padding value mode wider than
the input, ...) shows the engine's own explanation under the controls; the picture keeps the
last valid settings and every control stays usable.
"""
from __future__ import annotations

import ipywidgets as widgets
import traitlets

from ..examples import conv_example
from ..viz.conv_step import ConvStepFigure
from ..viz.transposed_step import TransposedStepFigure
from ._step_explorer import MapIndex, StepExplorer

PADDING_VALUES = ["zeros", "a number", "replicate", "symmetric-include-edge",
                  "symmetric-exclude-edge"]


class ConvolutionExplorer(StepExplorer):
    """See the module docstring.

    source : None (the example), a convolution Layer of a Network (with ``image``), or a
        convolution LayerRecord of a trace
    image : the image to trace ``network`` on (H×W×C or H×W)
    network : the Network holding ``source`` (found automatically when omitted)

    State (traitlets, see ``cnnlab.widgets._step_explorer``): ``position``, ``filter`` and
    the example's settings ``input_size``, ``filter_size``, ``stride``, ``padding`` ("0" ..
    "3" or "same"), ``padding_value`` (one of PADDING_VALUES), ``number`` (the constant for
    "a number"), ``dilation``, ``channels``, ``num_filters``, ``seed``.

    Attributes: ``record`` (the LayerRecord shown), ``figure`` (ConvStepFigure), ``image``
    (ipywidgets.Image), ``caption`` (HTML with the written-out sum), ``message``,
    ``navigator`` (``.slider``, ``.play``, ``.back``, ``.forward``), ``filter_picker``,
    ``controls`` (dict of the hyperparameter widgets), ``from_layer``.
    """

    filter = MapIndex(0, help="the filter shown")
    filter_picker = property(lambda self: self.picker, doc="the filter dropdown, linked to "
                             "``filter``")
    input_size = traitlets.Int(5)
    filter_size = traitlets.Int(3)
    stride = traitlets.Int(2)
    padding = traitlets.Unicode("1")
    padding_value = traitlets.Unicode("zeros")
    number = traitlets.Float(1.0)
    dilation = traitlets.Int(1)
    channels = traitlets.Int(1)
    num_filters = traitlets.Int(2)
    seed = traitlets.Int(0)

    name = "ConvolutionExplorer"
    kinds = ("conv", "transposed-conv")
    picker_trait = "filter"
    setting_traits = {"input": "input_size", "filter": "filter_size", "stride": "stride",
                      "padding": "padding", "padding_value": "padding_value",
                      "number": "number", "dilation": "dilation", "channels": "channels",
                      "filters": "num_filters", "seed": "seed"}
    caption_style = "font-size:12px; line-height:1.3"
    wrong_kind = "a convolution (PoolingExplorer shows pooling layers)"
    example_layer = "conv_1"

    def __init__(self, source=None, image=None, *, network=None, filter: int = 0,
                 max_channels: int = 3):
        self.max_channels = max_channels
        super().__init__(source, image, network=network, which=filter)

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

    def _control_rows(self):
        c = self.controls
        return [[c[k] for k in ("input", "filter", "stride")],
                [c[k] for k in ("padding", "padding_value", "number", "dilation")],
                [c[k] for k in ("channels", "filters", "seed")]]

    def settings(self) -> dict:
        """The example's keyword arguments for ``conv_example``, from the state."""
        mode = self.padding_value
        value = {"zeros": 0, "a number": self.number}.get(mode, mode)
        self.controls["number"].disabled = mode != "a number"
        return dict(input_size=self.input_size, filter_size=self.filter_size,
                    stride=self.stride,
                    padding=self.padding if self.padding == "same" else int(self.padding),
                    dilation=self.dilation, padding_value=value, channels=self.channels,
                    num_filters=self.num_filters, seed=self.seed)

    def _example(self):
        # a change of the input size alone keeps the example: same filter, and the numbers
        # of the input stay where they were (new rows / columns get new numbers)
        settings = self.settings()
        last = getattr(self, "_last_example", None)
        keep = None
        if last is not None and {k: v for k, v in last[0].items() if k != "input_size"} == {
                k: v for k, v in settings.items() if k != "input_size"}:
            keep = last[1:]
        net, x = conv_example(**settings, keep=keep)
        self._last_example = (settings, x, net.layers[1].params["weights"])
        return net, x

    def _figure(self, record, filter):
        cls = TransposedStepFigure if record.kind == "transposed-conv" else ConvStepFigure
        return cls(record, filter, max_channels=self.max_channels, text=False)

    def go_to(self, row: int, col: int, filter: int | None = None):
        """Jump to output (row, col), optionally of another filter (the NetworkExplorer's
        'open in ConvolutionExplorer' calls this)."""
        super().go_to(row, col, filter)
