"""ForwardStepper: walk a whole forward pass — and back — step by step, like a debugger.

    stepper = ForwardStepper(net, image)                 # labels: the predicted class
    stepper = ForwardStepper(net, image, labels=3)       # the loss of class 3
    stepper.step(); stepper.step_over_layer(); stepper.back()
    stepper.direction = "backward"                       # from the loss back to the input
    stepper.layer_name, stepper.image                    # the layer stepped, its picture

One ``net.trace(image, backward=True, labels=...)`` records everything once; every layer's
steps (``record.step_at(k)``; backward ``record.backward_step_at(k)``) are made on demand
and drawn by the layer type's step picture (``cnnlab.viz.step_pictures``), each picture built
the first time its layer is reached and kept.

Shown, top to bottom: the network as a strip of boxes (name, type, output shape, number of
steps; the current layer highlighted) — for a layer graph also its graph picture
(``cnnlab.viz.graph_view``, the part around the current layer), where the branches and
joins show; the controls; the step's picture (``image``, an
``ipywidgets.Image``); the step written out in large type (``caption``).

Controls: **◀ back**, **step ▶**, **step over layer ▶▶** (to the first step of the next layer),
**run to layer** (a dropdown: the first step of that layer), **play** (``ipywidgets.Play``:
one step per tick), the **forward / backward** switch, and the **pass** slider over every step
of the walk. The backward walk starts at the loss (the last layer with backward steps) and
walks back to the input; it needs labels: without ``labels`` the network's predicted class is
used (so the loss is the one of that prediction), and a network without a softmax
classification (regression) must be given its targets.

Keyboard: ipywidgets has no key events, and a custom front end (anywidget, ipyevents) would be
an extra dependency and one more thing that can fail to render. The pass slider is an
ipywidgets IntSlider, whose handle takes the keyboard: click the slider's handle (or Tab to
it), then ← / → step back / forward one step (Home / End go to the first / last step of the
walk). That works in JupyterLab, Notebook 7, VS Code and exported HTML with a kernel.

State is traitlets (``direction``, ``layer_index`` in the walk, ``position`` in the layer);
the widgets only draw. Errors (an impossible direction, a bad layer name) go to the message
line.
"""
from __future__ import annotations

import bisect
import html

import ipywidgets as widgets
import numpy as np
import traitlets

from ..viz.canvas import push
from ..viz.graph_view import GraphView
from ..viz.step_pictures import DIRECTIONS, step_picture, steps_of
from ._controls import Message, safe
from ._pass_strip import PassStrip

BIG = {"font_size": "16px"}
GRAPH_WINDOW = 5.0     # inches of a layer graph's picture shown, around the current layer
CAPTION = "font-size:19px; line-height:1.35; font-family:monospace; white-space:pre-wrap"


def trace_for(net, image, labels=None):
    """The trace the stepper walks: forward and, when labels are known, backward."""
    if labels is None:
        first = net.trace(image)
        if first.label is None:
            return first                   # no classification: forward only
        labels = [first.label]
    return net.trace(image, backward=True, labels=np.atleast_1d(labels))


class ForwardStepper(widgets.VBox):
    """See the module docstring.

    net : a built Network; image : one H×W×C (or H×W) image; labels : the true class (or
    regression targets) for the loss and the backward walk — default the predicted class
    interval_ms : play speed (milliseconds per step)

    Attributes: ``trace``, ``record`` (the layer stepped), ``current_step`` (its step),
    ``figure`` (its picture), ``image``, ``caption``, ``strip``, ``graph`` and
    ``graph_image`` (a layer graph's GraphView and its picture; None for a chain),
    ``message``, the controls
    ``back_button``, ``step_button``, ``over_button``, ``run_to``, ``play``,
    ``direction_buttons``, ``slider``.
    """

    direction = traitlets.Unicode("forward", help='"forward" or "backward"')
    layer_index = traitlets.Int(0, help="which layer of the walk (0: the first stepped)")
    position = traitlets.Int(0, help="which step of that layer")

    def __init__(self, net, image, labels=None, *, interval_ms: int = 300):
        self.trace = trace_for(net, image, labels)
        self.walks = {d: [r for r in self.trace if steps_of(r, d)] for d in DIRECTIONS}
        self.walks["backward"].reverse()
        if not self.walks["forward"]:
            raise ValueError("ForwardStepper: no layer of this network has steps")
        self.counts = {d: [steps_of(r, d) for r in w] for d, w in self.walks.items()}
        self.offsets = {d: list(np.cumsum([0] + c)) for d, c in self.counts.items()}
        self.figures, self._moving = {}, False
        self.message = Message()
        self.strip = PassStrip()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.caption = widgets.HTML()
        # a layer graph: its picture, the current layer highlighted (None for a chain)
        self.graph = self.graph_image = self.sources = None
        if getattr(net, "is_graph", False):
            self.sources = {layer.name: net.sources(layer.name) for layer in net.layers}
            self.graph = GraphView(net, dpi=72)
            self.graph_image = widgets.Image(format="png", layout=widgets.Layout(
                max_width="100%", align_self="flex-start"))
        button = dict(layout=widgets.Layout(width="auto", height="40px"), style=BIG)
        self.back_button = widgets.Button(description="◀ back", **button)
        self.step_button = widgets.Button(description="step ▶", button_style="primary",
                                          **button)
        self.over_button = widgets.Button(description="step over layer ▶▶", **button)
        self.run_to = widgets.Dropdown(description="run to layer",
                                       style={"description_width": "90px"},
                                       layout=widgets.Layout(width="290px"))
        self.play = widgets.Play(value=0, min=0, max=1, step=1, interval=interval_ms,
                                 description="play", show_repeat=False)
        self.direction_buttons = widgets.ToggleButtons(options=list(DIRECTIONS),
                                                       value="forward",
                                                       style={"button_width": "100px"})
        if not self.walks["backward"]:
            self.direction_buttons.disabled = True
        self.slider = widgets.IntSlider(0, min=0, max=1, description="pass",
                                        continuous_update=True,
                                        layout=widgets.Layout(width="100%"))
        self.back_button.on_click(safe(self.message, lambda _b: self.back()))
        self.step_button.on_click(safe(self.message, lambda _b: self.step()))
        self.over_button.on_click(safe(self.message, lambda _b: self.step_over_layer()))
        self.run_to.observe(safe(self.message, self._run_to_changed), names="value")
        self.play.observe(safe(self.message, self._tick), names="value")
        self.slider.observe(safe(self.message, self._slid), names="value")
        self.links = [widgets.link((self, "direction"), (self.direction_buttons, "value"))]
        self.observe(safe(self.message, self._new_direction), names="direction")
        self.observe(safe(self.message, lambda _c: self._moving or self._draw()),
                     names=["layer_index", "position"])
        super().__init__([
            self.strip, *([self.graph_image] if self.graph is not None else []),
            widgets.HBox([self.back_button, self.step_button, self.over_button, self.run_to,
                          self.play, self.direction_buttons],
                         layout=widgets.Layout(flex_flow="row wrap", align_items="center")),
            self.slider, self.message, self.image, self.caption])
        self._new_direction(None)

    # ---- where we are -------------------------------------------------------------------------
    @property
    def walk(self) -> list:
        """The records stepped in the current direction, in walking order."""
        return self.walks[self.direction]

    @property
    def record(self):
        return self.walk[self.layer_index]

    @property
    def layer_name(self) -> str:
        """The name of the layer being stepped."""
        return self.record.name

    @property
    def num_steps(self) -> int:
        """Steps of the current layer in the current direction."""
        return self.counts[self.direction][self.layer_index]

    @property
    def current_step(self):
        rec = self.record
        if self.direction == "backward":
            return rec.backward_step_at(self.position)
        return rec.step_at(self.position)

    @property
    def pass_index(self) -> int:
        """The step's index in the whole walk (what the pass slider shows)."""
        return int(self.offsets[self.direction][self.layer_index]) + self.position

    @traitlets.validate("direction")
    def _valid_direction(self, proposal):
        d = proposal["value"]
        if d not in DIRECTIONS:
            raise traitlets.TraitError(f"ForwardStepper: direction = {d!r} must be "
                                       "\"forward\" or \"backward\"")
        if d == "backward" and not self.walks["backward"]:
            raise traitlets.TraitError("ForwardStepper: no backward steps: the network has "
                                       "no classification output to take a predicted class "
                                       "from; give labels=... (the targets)")
        return d

    # ---- moving ---------------------------------------------------------------------------
    def go_to(self, layer, k: int = 0):
        """Show step ``k`` of ``layer`` (its name, or its index in the walk)."""
        names = [r.name for r in self.walk]
        if isinstance(layer, str):
            if layer not in names:
                raise ValueError(f"ForwardStepper: no layer {layer!r} to step {self.direction}"
                                 f"; the walk is {', '.join(names)}")
            layer = names.index(layer)
        if not 0 <= layer < len(names):
            raise ValueError(f"ForwardStepper: layer index {layer} is out of range "
                             f"0..{len(names) - 1}")
        n = self.counts[self.direction][layer]
        if not 0 <= k < n:
            raise ValueError(f"ForwardStepper: step {k} of {names[layer]} is out of range "
                             f"0..{n - 1}")
        self._moving = True
        try:
            self.layer_index, self.position = int(layer), int(k)
        finally:
            self._moving = False
        self._draw()
        return self

    def step(self):
        """One step on (into the next layer after a layer's last step; stays at the end)."""
        if self.position + 1 < self.num_steps:
            return self.go_to(self.layer_index, self.position + 1)
        if self.layer_index + 1 < len(self.walk):
            return self.go_to(self.layer_index + 1, 0)
        self.message.note(f"end of the {self.direction} pass")
        self.play.playing = False
        return self

    def back(self):
        """One step back (to the previous layer's last step from a layer's first)."""
        if self.position > 0:
            return self.go_to(self.layer_index, self.position - 1)
        if self.layer_index > 0:
            return self.go_to(self.layer_index - 1, self.counts[self.direction][
                self.layer_index - 1] - 1)
        self.message.note(f"start of the {self.direction} pass")
        return self

    def step_over_layer(self):
        """To the first step of the next layer (the last step of the last layer)."""
        if self.layer_index + 1 < len(self.walk):
            return self.go_to(self.layer_index + 1, 0)
        return self.go_to(self.layer_index, self.num_steps - 1)

    def run_to_layer(self, name: str):
        """To the first step of layer ``name``."""
        return self.go_to(name, 0)

    # ---- control handlers -------------------------------------------------------------------
    def _new_direction(self, _change):
        walk = self.walk
        self._moving = True
        try:
            self.run_to.options = [r.name for r in walk]
            self.run_to.value = walk[0].name
            total = int(self.offsets[self.direction][-1])
            self.slider.max = self.play.max = max(total - 1, 1)
            self.play.value = 0
            self.layer_index, self.position = 0, 0
        finally:
            self._moving = False
        self._draw()

    def _run_to_changed(self, change):
        if not self._moving and change["new"] is not None and change["new"] != self.layer_name:
            self.run_to_layer(change["new"])

    def _tick(self, change):
        if not self._moving and change["new"] == change["old"] + 1:
            self.step()

    def _slid(self, change):
        if self._moving:
            return
        g = int(change["new"])
        offsets = self.offsets[self.direction]
        layer = min(bisect.bisect_right(offsets, g) - 1, len(self.walk) - 1)
        self.go_to(layer, min(g - int(offsets[layer]), self.counts[self.direction][layer] - 1))

    # ---- drawing ---------------------------------------------------------------------------
    def figure_of(self, record, direction):
        key = (direction, record.name)
        if key not in self.figures:
            # the step's text goes to the caption, in large type: not into the picture
            options = {"max_channels": 1} if direction == "forward" and record.kind in (
                "conv", "transposed-conv") else {}
            self.figures[key] = step_picture(record, direction, text=False, **options)
        return self.figures[key]

    @property
    def figure(self):
        return self.figure_of(self.record, self.direction)

    def _draw(self):
        rec, k = self.record, self.position
        figure = self.figure
        figure.show_step(k)
        push(self.image, figure.png())
        step = figure.step
        reads = getattr(step, "reads", "")
        self.caption.value = (
            f"<div style='{CAPTION}'><b>{html.escape(rec.name)}</b> step {k + 1} of "
            f"{self.num_steps}: {html.escape(step.text())}"
            + (f"<br><span style='font-size:16px; color:#555'>reads: "
               f"{html.escape(str(reads))}</span>" if reads else "") + "</div>")
        walked = {r.name for r in self.walk[:self.layer_index]}
        counts = [steps_of(r, self.direction) for r in self.trace]
        self.strip.show(list(self.trace), counts, rec.name, walked, self.direction,
                        self.sources)
        if self.graph is not None and self.graph.highlighted != rec.name:
            self.graph.show(rec.name)
            push(self.graph_image, self.graph.png(window=GRAPH_WINDOW))
        self._moving = True
        try:
            self.slider.value = self.pass_index
            if self.run_to.value != rec.name:
                self.run_to.value = rec.name
        finally:
            self._moving = False
        if self.message.text.startswith(("end of", "start of")) and 0 < self.pass_index < \
                self.slider.max:
            self.message.clear()
