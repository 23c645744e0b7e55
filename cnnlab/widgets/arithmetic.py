"""ArithmeticCalculator: move a control, watch every size and count of a layer follow.

Controls: layer kind (convolution / pooling / transposed convolution), input size, filter
(pool) size, stride, padding (a number, before/after, or "same"; the cropping for a
transposed convolution), dilation, input channels, filters, groups. Shown: a table of every
quantity (output size with the exact value before flooring, the 'same' padding split,
effective filter size, parameters, neurons, connections, multiply-adds, receptive field) with
the formula filled in, an explanation box for combinations that cannot work (the
arithmetic's own ``ValueError`` text), and the arithmetic card picture
(``cnnlab.viz.arithmetic_card``). The widget computes nothing itself: every number comes from
``cnnlab.arithmetic``.

Speed: the table and the explanation update on every control move (well under a millisecond
of work); the card picture takes 0.2-0.4 s to render (matplotlib text), so inside a Jupyter
kernel it is redrawn once the controls have been still for ``card_delay`` seconds (an asyncio
timer on the kernel's loop); elsewhere (scripts, tests) it is redrawn at once.

Sizes are square here (height = width); the card functions take (h, w) pairs for other cases.

    calc = ArithmeticCalculator(input_size=32, filter_size=5, stride=2, padding=2,
                                channels=3, filters=8)
    display(calc)
"""
from __future__ import annotations

import asyncio
import html
import sys

import ipywidgets as widgets

from ..viz.arithmetic_card import ArithmeticCard, arithmetic_entries, describe_sizes

PADDING_MODES = ("number", "before,after", "same")
_STYLE = {"description_width": "110px"}


def _picture_layout():
    """At its own pixel size (a VBox would stretch it to the full width), never wider than
    the page."""
    return widgets.Layout(max_width="100%", align_self="flex-start")


def _slider(description, value, low, high):
    return widgets.IntSlider(value=value, min=low, max=high, description=description,
                             style=_STYLE, layout=widgets.Layout(width="330px"),
                             continuous_update=True)


class ArithmeticCalculator(widgets.VBox):
    """Live layer arithmetic: controls on the left, the quantities table on the right, the
    card below.

    Parameters are the starting values of the controls. ``padding``: an int, a
    (before, after) pair or "same". Attributes: ``controls`` (dict name -> widget),
    ``table`` (HTML of the quantities), ``explanation`` (HTML, the reason a combination is
    invalid, empty otherwise), ``image`` (the card PNG), ``entries`` (the current
    ``arithmetic_card.Entry`` list), ``card`` (the ArithmeticCard). ``show_card=False``
    leaves the picture out (table and explanation only).
    """

    def __init__(self, kind="conv", *, input_size=28, filter_size=3, stride=1, padding=0,
                 dilation=1, channels=1, filters=8, groups=1, show_card=True):
        if isinstance(padding, str):
            mode, before, after = "same", 0, 0
        elif isinstance(padding, (tuple, list)):
            mode, (before, after) = "before,after", padding
        else:
            mode, before, after = "number", padding, padding
        kinds = [("convolution", "conv"), ("pooling", "pool"), ("transposed conv", "transposed")]
        c = self.controls = {
            "kind": widgets.ToggleButtons(options=kinds, value=kind, description="layer",
                                          style={"button_width": "130px"}),
            "input_size": _slider("input size", input_size, 1, 64),
            "filter_size": _slider("filter size", filter_size, 1, 11),
            "stride": _slider("stride", stride, 1, 8),
            "padding_mode": widgets.Dropdown(options=PADDING_MODES, value=mode,
                                             description="padding",
                                             style=_STYLE,
                                             layout=widgets.Layout(width="330px")),
            "pad_before": _slider("padding", before, 0, 10),
            "pad_after": _slider("padding after", after, 0, 10),
            "dilation": _slider("dilation", dilation, 1, 6),
            "channels": _slider("channels", channels, 1, 64),
            "filters": _slider("filters", filters, 1, 64),
            "groups": _slider("groups", groups, 1, 16),
        }
        self.table = widgets.HTML(layout=widgets.Layout(width="640px"))
        self.explanation = widgets.HTML()
        self.image = widgets.Image(format="png", layout=_picture_layout())
        self.card = ArithmeticCard(width_inches=9.0, dpi=80)
        self.card_delay = 0.25
        self.show_card = bool(show_card)
        self._pending = None
        self.entries = []
        for control in c.values():
            control.observe(self.update, names="value")
        left = widgets.VBox(list(c.values())[1:], layout=widgets.Layout(min_width="340px"))
        super().__init__([c["kind"], self.explanation, widgets.HBox([left, self.table])]
                         + ([self.image] if self.show_card else []))
        self.update()

    # ---- reading the controls -------------------------------------------------------------
    def settings(self) -> dict:
        """The keywords for ``arithmetic_entries`` the controls describe now."""
        c = self.controls
        mode = c["padding_mode"].value
        if mode == "same":
            padding = "same"
        elif mode == "before,after":
            padding = (c["pad_before"].value, c["pad_after"].value)
        else:
            padding = c["pad_before"].value
        return {"kind": c["kind"].value, "input_size": c["input_size"].value,
                "filter_size": c["filter_size"].value, "stride": c["stride"].value,
                "padding": padding, "dilation": c["dilation"].value,
                "channels": c["channels"].value, "filters": c["filters"].value,
                "groups": c["groups"].value}

    def _enable(self, kind: str, mode: str):
        """Grey out the controls the kind of layer does not use."""
        c = self.controls
        c["dilation"].disabled = kind != "conv"
        c["groups"].disabled = kind != "conv"
        c["filters"].disabled = kind == "pool"
        c["pad_before"].disabled = mode == "same"
        c["pad_after"].disabled = mode != "before,after"
        word = "cropping" if kind == "transposed" else "padding"
        c["padding_mode"].description = word
        c["pad_before"].description = word if mode == "number" else f"{word} before"
        c["pad_after"].description = f"{word} after"
        c["filter_size"].description = "pool size" if kind == "pool" else "filter size"

    # ---- updating ---------------------------------------------------------------------------
    def update(self, change=None):
        """Recompute every entry from the controls and redraw table, explanation and card."""
        s = self.settings()
        self._enable(s["kind"], self.controls["padding_mode"].value)
        try:
            entries = arithmetic_entries(**s)
        except ValueError as e:           # not expected from the controls' ranges; shown anyway
            entries = []
            self.explanation.value = _explain([("settings", str(e))])
        self.entries = entries
        errors = [(e.label, e.error) for e in entries if e.error is not None]
        self.explanation.value = _explain(errors)
        self.table.value = _table(entries)
        self._title = describe_sizes(**s)
        self._schedule_card()

    def _schedule_card(self):
        """Redraw the card now (no kernel) or after the controls rest (in a kernel)."""
        if not self.show_card:
            return
        loop = _kernel_loop()
        if loop is None:
            self.draw_card()
            return
        if self._pending is not None:
            self._pending.cancel()
        self._pending = loop.call_later(self.card_delay, self.draw_card)

    def draw_card(self):
        """Render the card of the current entries into ``image``."""
        self._pending = None
        self.card.draw(self.entries, self._title)
        self.image.value = self.card.png()

    def values(self) -> dict:
        """label -> displayed value text, as in the table (for tests and lessons)."""
        return {e.label: e.value_text for e in self.entries}


def _kernel_loop():
    """The running event loop of an IPython kernel, or None (scripts, tests, and other
    programs that happen to run a loop — Playwright's sync API does — draw at once)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _explain(errors) -> str:
    if not errors:
        return ""
    items = "".join(f"<li><b>{html.escape(label)}</b>: {html.escape(text)}</li>"
                    for label, text in errors)
    return ("<div style='border:2px solid #D55E00;padding:4px 8px;color:#8a3000'>"
            f"<b>This combination does not work:</b><ul style='margin:2px 0'>{items}</ul></div>")


def _table(entries) -> str:
    rows = []
    for e in entries:
        detail = (e.error if e.error is not None
                  else e.result.substituted if e.result is not None else "")
        colour = "#D55E00" if e.error is not None else "inherit"
        rows.append(f"<tr><td style='padding-right:8px'>{html.escape(e.label)}</td>"
                    f"<td style='padding-right:8px;color:{colour}'><b>"
                    f"{html.escape(e.value_text)}</b></td>"
                    f"<td style='font-family:monospace;font-size:85%'>"
                    f"{html.escape(detail).replace(chr(10), '<br>')}</td></tr>")
        notes = e.result.notes if e.result is not None else ()
        if notes:
            rows.append("<tr><td></td><td colspan='2' style='color:#555;font-size:85%;"
                        "font-style:italic;padding-bottom:4px'>"
                        + "<br>".join("• " + html.escape(note) for note in notes)
                        + "</td></tr>")
    return ("<table style='border-collapse:collapse;line-height:1.3'>"
            + "".join(rows) + "</table>")
