"""ArithmeticCalculator: move a control, watch every size and count of a layer follow.

Controls: layer kind (convolution / pooling / transposed convolution); height and width of
the input, the filter (pool) size, the stride and the dilation; the padding (the cropping for
a transposed convolution) in every form a layer takes — one number p, MATLAB's [a b] (a rows
top and bottom, b columns left and right), [t b l r], or "same"; input channels, filters,
groups. Shown: a table of every quantity (output size with the value before flooring, the
'same' padding split, effective filter size, parameters, neurons, connections, multiply-adds,
receptive field) with the formula filled in — one row per axis when height and width differ —,
an explanation box for combinations that cannot work (the arithmetic's own ``ValueError``
text), and the arithmetic card picture (``cnnlab.viz.arithmetic_card``). The widget computes
nothing itself: every number comes from ``cnnlab.arithmetic``, and the padding is read by
``cnnlab.arithmetic.padding``, the reader the layers use.

Speed: the table and the explanation update on every control move (well under a millisecond
of work); the card picture takes 0.2-0.4 s to render (matplotlib text), so inside a Jupyter
kernel it is redrawn once the controls have been still for ``card_delay`` seconds (an asyncio
timer on the kernel's loop); elsewhere (scripts, tests) it is redrawn at once.

    calc = ArithmeticCalculator(input_size=28, filter_size=(6, 4), stride=4, padding=(1, 0))
    display(calc)                                   # output 7x7, as the layer gives
"""
from __future__ import annotations

import asyncio
import html
import sys

import ipywidgets as widgets

from .. import arithmetic as ar
from ..viz.arithmetic_card import ArithmeticCard, arithmetic_entries, describe_sizes

#: padding forms: one number on every side, [a b] (rows, columns), [t b l r], "same"
PADDING_MODES = ("number", "[a b]", "[t b l r]", "same")
#: the (height, width) controls: name -> (description, low, high)
SIZES = {"input": ("input", 1, 64), "filter": ("filter size", 1, 11),
         "stride": ("stride", 1, 8), "dilation": ("dilation", 1, 6)}
SIDES = ("top", "bottom", "left", "right")
_STYLE = {"description_width": "110px"}
_NARROW = {"description_width": "50px"}


def _picture_layout():
    """At its own pixel size (a VBox would stretch it to the full width), never wider than
    the page."""
    return widgets.Layout(max_width="100%", align_self="flex-start")


def _slider(description, value, low, high, *, width="330px", style=None):
    return widgets.IntSlider(value=value, min=low, max=high, description=description,
                             style=style or _STYLE, layout=widgets.Layout(width=width),
                             continuous_update=True)


def _hw(name, value):
    """(h, w) of a size given as an int or a pair, for a control's starting value."""
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        return value, value
    items = list(value)
    if len(items) != 2:
        raise ValueError(f"ArithmeticCalculator: {name} = {value!r} must be an integer or a "
                         f"(height, width) pair, not {len(items)} numbers")
    return items[0], items[1]


def _padding_start(padding, kind):
    """(mode, (top, bottom, left, right)) for the padding controls, from any padding form."""
    sides = ar.padding.parse_sides(padding, who="ArithmeticCalculator",
                                   name="cropping" if kind == "transposed" else "padding")
    if sides == "same":
        return "same", (0, 0, 0, 0)
    t, b, l, r = sides
    if t == b == l == r:
        return "number", sides
    if t == b and l == r:
        return "[a b]", sides
    return "[t b l r]", sides


class ArithmeticCalculator(widgets.VBox):
    """Live layer arithmetic: controls on the left, the quantities table on the right, the
    card below.

    Parameters are the starting values of the controls. ``input_size``, ``filter_size``,
    ``stride``, ``dilation``: an int (height = width) or a (height, width) pair. ``padding``:
    any form a layer takes (p, (a, b) = a rows top and bottom and b columns left and right,
    (top, bottom, left, right), "same"). Attributes: ``controls`` (dict name -> widget:
    ``kind``, ``input_height``, ``input_width``, ``filter_height``, ... ``dilation_width``,
    ``padding_mode``, ``pad_top``, ``pad_bottom``, ``pad_left``, ``pad_right``, ``channels``,
    ``filters``, ``groups``), ``table`` (HTML of the quantities), ``explanation`` (HTML, the
    reason a combination is invalid, empty otherwise), ``image`` (the card PNG), ``entries``
    (the current ``arithmetic_card.Entry`` list), ``card`` (the ArithmeticCard).
    ``show_card=False`` leaves the picture out (table and explanation only).
    """

    def __init__(self, kind="conv", *, input_size=28, filter_size=3, stride=1, padding=0,
                 dilation=1, channels=1, filters=8, groups=1, show_card=True):
        mode, sides = _padding_start(padding, kind)
        start = {"input": input_size, "filter": filter_size, "stride": stride,
                 "dilation": dilation}
        kinds = [("convolution", "conv"), ("pooling", "pool"), ("transposed conv", "transposed")]
        c = self.controls = {
            "kind": widgets.ToggleButtons(options=kinds, value=kind, description="layer",
                                          style={"button_width": "130px"})}
        rows = []
        for name, (description, low, high) in SIZES.items():
            h, w = _hw(f"{name}_size" if name in ("input", "filter") else name, start[name])
            c[f"{name}_height"] = _slider(f"{description} H", h, low, high, width="330px")
            c[f"{name}_width"] = _slider("W", w, low, high, width="230px", style=_NARROW)
            rows.append(widgets.HBox([c[f"{name}_height"], c[f"{name}_width"]]))
        c["padding_mode"] = widgets.Dropdown(options=PADDING_MODES, value=mode,
                                             description="padding", style=_STYLE,
                                             layout=widgets.Layout(width="330px"))
        rows.append(c["padding_mode"])
        for side, value in zip(SIDES, sides):
            c[f"pad_{side}"] = _slider(side, value, 0, 10, width="280px")
        rows.append(widgets.HBox([c["pad_top"], c["pad_bottom"]]))
        rows.append(widgets.HBox([c["pad_left"], c["pad_right"]]))
        c["channels"] = _slider("channels", channels, 1, 64)
        c["filters"] = _slider("filters", filters, 1, 64)
        c["groups"] = _slider("groups", groups, 1, 16)
        rows += [c["channels"], c["filters"], c["groups"]]
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
        left = widgets.VBox(rows, layout=widgets.Layout(min_width="580px"))
        super().__init__([c["kind"], self.explanation, widgets.HBox([left, self.table])]
                         + ([self.image] if self.show_card else []))
        self.update()

    # ---- reading the controls -------------------------------------------------------------
    def padding(self):
        """The padding the controls describe: "same", p, (a, b) or (t, b, l, r)."""
        c = self.controls
        mode = c["padding_mode"].value
        t, b, l, r = (c[f"pad_{side}"].value for side in SIDES)
        if mode == "same":
            return "same"
        if mode == "number":
            return t
        if mode == "[a b]":
            return (t, l)
        return (t, b, l, r)

    def settings(self) -> dict:
        """The keywords for ``arithmetic_entries`` the controls describe now (sizes as
        (height, width) pairs)."""
        c = self.controls
        hw = {name: (c[f"{name}_height"].value, c[f"{name}_width"].value) for name in SIZES}
        return {"kind": c["kind"].value, "input_size": hw["input"],
                "filter_size": hw["filter"], "stride": hw["stride"],
                "padding": self.padding(), "dilation": hw["dilation"],
                "channels": c["channels"].value, "filters": c["filters"].value,
                "groups": c["groups"].value}

    def _enable(self, kind: str, mode: str):
        """Grey out the controls the kind of layer (and the padding form) does not use."""
        c = self.controls
        for axis in ("height", "width"):
            c[f"dilation_{axis}"].disabled = kind != "conv"
        c["groups"].disabled = kind != "conv"
        c["filters"].disabled = kind == "pool"
        used = {"same": (), "number": ("top",), "[a b]": ("top", "left"),
                "[t b l r]": SIDES}[mode]
        for side in SIDES:
            c[f"pad_{side}"].disabled = side not in used
        word = "cropping" if kind == "transposed" else "padding"
        c["padding_mode"].description = word
        names = {"number": {"top": word},
                 "[a b]": {"top": "rows (a)", "left": "columns (b)"}}.get(mode, {})
        for side in SIDES:
            c[f"pad_{side}"].description = names.get(side, side)
        c["filter_height"].description = "pool size H" if kind == "pool" else "filter size H"

    # ---- updating ---------------------------------------------------------------------------
    def update(self, change=None):
        """Recompute every entry from the controls and redraw table, explanation and card."""
        s = self.settings()
        self._enable(s["kind"], self.controls["padding_mode"].value)
        try:
            entries = arithmetic_entries(**s)
            errors = [(e.label, e.error) for e in entries if e.error is not None]
            self._title = describe_sizes(**s)
        except ValueError as e:           # not expected from the controls' ranges; shown anyway
            entries, errors, self._title = [], [("settings", str(e))], ""
        self.entries = entries
        self.explanation.value = _explain(errors)
        self.table.value = _table(entries)
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
