"""PoolingExplorer: step max or average pooling window by window, and change it while you watch.

    PoolingExplorer()                            # a 6×6 example, 3×3 max pooling, stride 2
    PoolingExplorer(net["maxpool_1"], image)     # a real pooling layer on an image
    PoolingExplorer(trace["maxpool_1"])          # a record of a trace

Without a layer every control change (input size, pool size, stride, padding incl. "same",
max / average, seed) builds a one-layer network (``cnnlab.examples.pool_example``), traces
it and redraws ``cnnlab.viz.pool_step.PoolStepFigure``; with a layer those controls are
hidden and a channel picker chooses the map. Impossible settings show the engine's
explanation; the picture keeps the last valid settings.
"""
from __future__ import annotations

import ipywidgets as widgets
import traitlets

from ..examples import pool_example
from ..viz.pool_step import PoolStepFigure
from ._step_explorer import MapIndex, StepExplorer

POOL_KINDS = ("maxpool", "avgpool", "gapool", "gmpool")


class PoolingExplorer(StepExplorer):
    """See the module docstring.

    State (traitlets, see ``cnnlab.widgets._step_explorer``): ``position``, ``channel`` and
    the example's settings ``input_size``, ``pool_size``, ``stride``, ``padding`` ("0",
    "1", "2" or "same"), ``mode`` ("max" or "average"), ``seed``.

    Attributes: ``record``, ``figure`` (PoolStepFigure), ``image``, ``caption``,
    ``message``, ``navigator``, ``channel_picker``, ``controls``."""

    channel = MapIndex(0, help="the channel shown")
    channel_picker = property(lambda self: self.picker, doc="the channel dropdown, linked to "
                             "``channel``")
    input_size = traitlets.Int(6)
    pool_size = traitlets.Int(3)
    stride = traitlets.Int(2)
    padding = traitlets.Unicode("0")
    mode = traitlets.Unicode("max")
    seed = traitlets.Int(0)

    name = "PoolingExplorer"
    kinds = POOL_KINDS
    picker_trait = "channel"
    setting_traits = {"input": "input_size", "pool": "pool_size", "stride": "stride",
                      "padding": "padding", "mode": "mode", "seed": "seed"}
    wrong_kind = "a pooling layer"
    example_layer = "maxpool_1"

    def __init__(self, source=None, image=None, *, network=None, channel: int = 0):
        super().__init__(source, image, network=network, which=channel)

    def _make_controls(self):
        slider = dict(continuous_update=False, layout=widgets.Layout(width="240px"))
        return {
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

    def _control_rows(self):
        c = self.controls
        return [[c["input"], c["pool"], c["stride"]], [c["padding"], c["mode"], c["seed"]]]

    def settings(self) -> dict:
        """The example's keyword arguments for ``pool_example``, from the state."""
        return dict(input_size=self.input_size, pool_size=self.pool_size, stride=self.stride,
                    padding=self.padding if self.padding == "same" else int(self.padding),
                    mode=self.mode, seed=self.seed)

    def _example(self):
        return pool_example(**self.settings())

    def _figure(self, record, channel):
        return PoolStepFigure(record, channel, text=False)

    def go_to(self, row: int, col: int, channel: int | None = None):
        """Jump to output (row, col), optionally of another channel."""
        super().go_to(row, col, channel)
