"""Pieces shared by the step explorers: the step navigator, the message line, safe observers.

* ``Navigator``: Play (linked to the slider), ◀ / ▶ step buttons and a slider over the output
  positions in scan order; ``on_change(callback)`` calls back with the new position.
* ``Message``: an HTML line that shows an error (the engine's ValueError text) or a note.
* ``safe(message, fn)``: a handler that never lets an exception escape into ipywidgets' log
  (where nobody sees it): the text goes to the message line and the widget stays usable.
* ``find_network(layer)``: the Network holding a layer, for ``Explorer(net["conv_1"], image)``.
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


def find_network(layer):
    """The Network that holds ``layer`` (layers keep a weak reference to it); ValueError if
    the layer is in no live network."""
    net = getattr(layer, "network", None)
    if net is None:
        raise ValueError(f"{getattr(layer, 'name', layer)!r} is not in any live Network; pass "
                         "network=net (or a trace record) so the explorer can trace it")
    return net
