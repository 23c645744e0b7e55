"""Pieces shared by the step explorers: the step navigator, the message line, safe observers.

* ``Navigator``: Play (linked to the slider), ◀ / ▶ step buttons and a slider over the output
  positions in scan order; ``on_change(callback)`` calls back with the new position.
* ``Message``: an HTML line that shows an error (the engine's ValueError text) or a note.
* ``safe(message, fn)``: a handler that never lets an exception escape into ipywidgets' log
  (where nobody sees it): the text goes to the message line and the widget stays usable.
* ``record_of(...)``: the LayerRecord to show from a record, a trace and a layer name, a
  network, an image and a layer name, or a layer, an image and its network.
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from ..viz.canvas import push  # noqa: F401  (re-exported for the explorers)


class Message(widgets.HTML):
    """An HTML line for errors and notes; ``error(text)``, ``note(text)``, ``clear()``;
    ``text`` is the plain text shown (for tests)."""

    def __init__(self):
        super().__init__(value="")
        self.text = ""

    def error(self, text: str):
        self.text = str(text)
        self.value = (f"<div style='color:#B00020'><b>Not possible:</b> "
                      f"{html.escape(self.text)}<br><i>The picture still shows the last valid "
                      "settings.</i></div>")

    def note(self, text: str):
        self.text = str(text)
        self.value = f"<i>{html.escape(self.text)}</i>"

    def clear(self):
        self.text, self.value = "", ""


def safe(message: Message, fn):
    """``fn`` wrapped so that ValueError/TypeError (a settings problem) shows in ``message``
    and any other exception shows there too, prefixed with its type."""
    def handler(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as e:
            message.error(str(e))
        except Exception as e:                  # noqa: BLE001 - never lose it in the log
            message.error(f"{type(e).__name__}: {e}")
    return handler


class Navigator(widgets.HBox):
    """Play / step / slider over ``count`` positions (0 .. count-1)."""

    def __init__(self, count: int, interval_ms: int = 600):
        self.play = widgets.Play(value=0, min=0, max=max(count - 1, 0), step=1,
                                 interval=interval_ms, description="play")
        self.slider = widgets.IntSlider(value=0, min=0, max=max(count - 1, 0),
                                        description="position", continuous_update=True,
                                        layout=widgets.Layout(width="360px"))
        # a kernel-side link: works in the browser and in plain pytest alike
        self.link = widgets.link((self.play, "value"), (self.slider, "value"))
        self.back = widgets.Button(description="◀ step", layout=widgets.Layout(width="70px"))
        self.forward = widgets.Button(description="step ▶", layout=widgets.Layout(width="70px"))
        self.back.on_click(lambda _b: self.move(-1))
        self.forward.on_click(lambda _b: self.move(+1))
        super().__init__([self.play, self.back, self.slider, self.forward])

    def move(self, delta: int):
        self.slider.value = min(max(self.slider.value + delta, 0), self.slider.max)

    def set_count(self, count: int):
        """Change the number of positions (keeps the position when it still exists)."""
        top = max(count - 1, 0)
        value = min(self.slider.value, top)
        for w in (self.slider, self.play):
            if w.value > top:
                w.value = top
            w.max = top
        self.slider.value = value

    def on_change(self, callback):
        self.slider.observe(lambda change: callback(change["new"]), names="value")


def hide(*ws):
    for w in ws:
        w.disabled = True
        w.layout.display = "none"


def record_of(who: str, source, image=None, *, network=None, layer=None,
              example: str = "conv_1"):
    """The LayerRecord an explorer shows, from any of

        record                          a record of a trace made earlier
        trace, layer="conv_1"           a Trace and the name of one of its layers
        net, image, layer="conv_1"      a Network traced on ``image`` up to that layer
        net["conv_1"], image, network=net

    ``who`` names the explorer in the errors; ``example`` is the layer name they suggest.
    A layer does not know its network: it has to be given.
    """
    from ..network import Network
    from ..trace import LayerRecord, Trace
    if isinstance(source, LayerRecord):
        return source
    if isinstance(source, Trace):
        if layer is None:
            raise ValueError(f"{who}: name the layer of the trace to show: "
                             f"{who}(trace, layer={example!r})")
        return source[layer]
    if isinstance(source, Network):
        net, name = source, layer
        if name is None:
            raise ValueError(f"{who}: name the layer of the network to show: "
                             f"{who}(net, image, layer={example!r})")
    else:
        net, name = network, getattr(source, "name", None)
    if image is None:
        raise ValueError(f"{who}: give the image to trace the network on: "
                         f"{who}(net, image, layer={example!r})")
    if net is None:
        raise ValueError(f"{who}: {name or source!r} is a layer, and a layer does not know its "
                         f"network: {who}(net, image, layer={name or example!r}) or "
                         f"{who}(net[{name or example!r}], image, network=net)")
    if not isinstance(net, Network):
        raise TypeError(f"{who}: network = {type(net).__name__}: expected a cnnlab Network")
    return net.trace(image, upto=name)[name]
