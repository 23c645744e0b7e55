"""The step-explorer skeleton shared by ConvolutionExplorer and PoolingExplorer.

The explorer is state plus a renderer (the ipympl / anywidget model). Its state is traitlets
of its own:

* ``position``: the output position shown, in scan order (row · W_out + col);
* the map shown: ``filter`` (convolution) or ``channel`` (pooling), a ``MapIndex`` trait
  named by ``picker_trait``;
* the example's settings (``input_size``, ``stride``, ``padding``, ...), named by
  ``setting_traits`` (control key -> trait), used only when no layer or record was given.

The controls (``navigator.slider``, the picker dropdown, ``controls[...]``) are linked to
those traits with ``ipywidgets.link`` (kernel-side, so it also works in plain pytest), and
observers on the traits redraw: setting ``w.position = 4`` is the same as moving the slider,
and ``ipywidgets.link((a, "position"), (b, "position"))`` steps two explorers together.

A subclass gives ``name``, ``kinds`` (record kinds it shows), ``picker_trait``, the traits,
``_make_controls()``, ``_control_rows()``, ``settings()``, ``_example()`` (the one-layer
network and image of the settings, from ``cnnlab.examples``) and
``_figure(record, which)``.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import traitlets

from ..trace.records import LayerRecord
from ..viz.canvas import push
from ._controls import Message, Navigator, find_network, hide, safe


class MapIndex(traitlets.Int):
    """The filter or channel shown: an index into the third axis of the record's output,
    refused (TraitError) when the record has no such map."""

    def validate(self, obj, value):
        return obj.check_map(super().validate(obj, value))


class StepExplorer(widgets.VBox):
    """Base class; see the module docstring."""

    position = traitlets.Int(0, help="the output position shown, in scan order")

    name = "StepExplorer"
    kinds: tuple = ()
    picker_trait = "filter"
    setting_traits: dict = {}
    caption_style = "font-size:12px"
    wrong_kind = ""             # what the error adds when a record of another kind is given
    example_layer = "conv_1"    # in the "give the image" message

    def __init__(self, source=None, image=None, *, network=None, layer=None, which: int = 0):
        self.message = Message()
        self.image = widgets.Image(format="png")
        self.caption = widgets.HTML()
        self.record, self.figure = None, None
        self.from_layer = source is not None
        self.controls = self._make_controls()
        self.picker = widgets.Dropdown(options=[0], value=0, description=self.picker_trait,
                                       layout=widgets.Layout(width="160px"))
        self.navigator = Navigator(1)
        self.control_box = widgets.VBox([widgets.HBox(row) for row in self._control_rows()])
        super().__init__([self.control_box, widgets.HBox([self.navigator, self.picker]),
                          self.message, self.image, self.caption])
        # state <-> controls; observers on the state redraw
        self.links = [widgets.link((self, "position"), (self.navigator.slider, "value")),
                      widgets.link((self, self.picker_trait), (self.picker, "value"))]
        self.observe(safe(self.message, lambda _c: self.show(self.position)), names="position")
        self.observe(safe(self.message, lambda _c: self._draw(self.which)),
                     names=self.picker_trait)
        if source is None:
            for key, trait in self.setting_traits.items():
                self.links.append(widgets.link((self, trait), (self.controls[key], "value")))
            self.observe(safe(self.message, lambda _c: self.rebuild()),
                         names=list(self.setting_traits.values()))
            self.rebuild()
        else:
            hide(*self.controls.values())
            self.control_box.layout.display = "none"
            self.set_record(self._record_of(source, image, network, layer), which)

    # ---- state --------------------------------------------------------------------------------
    @property
    def which(self) -> int:
        """The filter or channel shown (the value of ``picker_trait``)."""
        return getattr(self, self.picker_trait)

    @traitlets.validate("position")
    def _valid_position(self, proposal):
        i, n = proposal["value"], self.record.num_positions if self.record is not None else 1
        if not 0 <= i < n:
            raise traitlets.TraitError(f"{self.name}: position = {i} is out of range "
                                       f"0..{n - 1} ({self.record.name} has {n} output "
                                       "positions)")
        return i

    def check_map(self, value: int) -> int:
        """``value`` when it names a map of the record's output (see ``MapIndex``)."""
        n = self.record.output_shape[2] if self.record is not None else 1
        if not 0 <= value < n:
            what = self.picker_trait
            raise traitlets.TraitError(f"{self.name}: {what} = {value} is out of range "
                                       f"0..{n - 1} ({self.record.name} has {n} "
                                       f"{what}s)")
        return value

    # ---- sources --------------------------------------------------------------------------
    def _record_of(self, source, image, network, layer):
        """The record to show: a trace record, or a layer traced on ``image``."""
        if isinstance(source, LayerRecord):
            record = source
        else:
            if image is None:
                raise ValueError(f"{self.name}: give the image to trace the network on: "
                                 f"{self.name}(net[{self.example_layer!r}], image)")
            net = network if network is not None else find_network(source)
            record = net.trace(image, upto=source.name)[source.name]
        if record.kind not in self.kinds:
            raise ValueError(f"{self.name}: {record.name} is a {record.type_name}, not "
                             f"{self.wrong_kind}")
        return record

    def rebuild(self):
        """Build, trace and draw the example from the settings (errors go to ``message``)."""
        net, x = self._example()
        record = net.trace(x)[1]                  # the one layer after the input layer
        self.set_record(record, min(self.which, record.output_shape[2] - 1))

    # ---- drawing --------------------------------------------------------------------------
    def set_record(self, record, which: int = 0):
        """Show another record (rebuilds the figure once)."""
        figure = self._figure(record, which)
        self.record, self.figure = record, figure
        self.message.clear()
        n = record.output_shape[2]
        self.navigator.set_count(record.num_positions)   # moves ``position`` back if it must
        if list(self.picker.options) != list(range(n)):
            self.picker.options = list(range(n))
        if self.which != which:
            setattr(self, self.picker_trait, which)  # its observer redraws
        self.show(self.position)

    def _draw(self, which):
        if self.record is not None and (self.figure is None or getattr(self.figure, self.picker_trait) != which):
            self.figure = self._figure(self.record, which)
            self.show(self.position)

    def show(self, index: int):
        """Draw step ``index`` (scan order) of the current filter or channel."""
        if self.figure is None:
            return
        self.figure.show_step(int(index))
        push(self.image, self.figure.png())
        self.caption.value = (f"<pre style='{self.caption_style}'>"
                              + html.escape(self.figure.caption()) + "</pre>")

    def go_to(self, row: int, col: int, which: int | None = None):
        """Jump to output (row, col), optionally of another filter or channel."""
        oh, ow, n = self.record.output_shape
        if not (0 <= row < oh and 0 <= col < ow):
            raise ValueError(f"{self.name}.go_to: ({row}, {col}) is outside the "
                             f"{oh}×{ow} output of {self.record.name}")
        if which is not None:
            if not 0 <= which < n:
                raise ValueError(f"{self.name}.go_to: {self.picker_trait} = {which} is out "
                                 f"of range 0..{n - 1}")
            setattr(self, self.picker_trait, int(which))
        index = int(row) * ow + int(col)
        if self.position == index:
            self.show(index)
        self.position = index
