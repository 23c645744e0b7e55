"""The arithmetic card: a layer's sizes and counts with every formula filled in.

For a convolution, pooling or transposed convolution layer (a built layer, or raw sizes) the
card lists, one block per quantity, the value, the symbolic formula (``Result.formula``), the
formula with the numbers put in (``Result.substituted``) and the notes (``Result.notes``: what
a non-tiling stride discards, where 'same' puts the odd padding row, ...). Every number comes
from ``cnnlab.arithmetic``; this module only arranges text.

    entries = arithmetic_entries("conv", input_size=32, filter_size=5, stride=2, padding=2,
                                 channels=3, filters=8)
    card = ArithmeticCard(); card.draw(entries, title="..."); png = card.png()
    fig = arithmetic_card(net["conv_1"])          # a built layer: its own hyperparameters

A quantity that cannot be computed (a filter larger than the padded input, groups that do not
divide the channels) becomes an entry holding the arithmetic's ``ValueError`` text, drawn in
red, so the card explains rather than hides an impossible layer.
"""
from __future__ import annotations

import io
import numbers
import re
import textwrap
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import arithmetic as ar
from .style import Picture, get_style

KINDS = ("conv", "pool", "transposed")

# Okabe-Ito colours (colour-blind safe)
BLUE, VERMILLION, GREY, BLACK = "#0072B2", "#D55E00", "#555555", "#000000"


@dataclass
class Entry:
    """One quantity of a card: a label and a Result, or a plain shown text, or an error."""
    label: str
    result: ar.Result | None = None
    shown: str | None = None
    error: str | None = None

    @property
    def value_text(self) -> str:
        """The value as the card's heading shows it ('16  (exact 16.5, floored)')."""
        if self.error is not None:
            return "cannot be computed"
        if self.shown is not None:
            return self.shown
        v, exact = self.result.value, self.result.unfloored
        text = f"{v:,}" if isinstance(v, int) else str(v)
        if isinstance(v, int) and exact is not None and exact != v:
            text += f"   (before flooring {ar.format_number(exact)})"
        return text


# ---- which Results a layer has -----------------------------------------------------------------

def _pair(value):
    """An int (both axes) or an (h, w) pair; anything else is passed on for arithmetic to refuse."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return value, value
    if ar.is_sequence(value) and len(value) == 2:
        return tuple(value)
    return value, value


def _axis_padding(padding, kind="conv"):
    """'same', or ((top, bottom), (left, right)), read by ``cnnlab.arithmetic.padding`` as the
    layers read it: (a, b) is a rows top and bottom and b columns left and right."""
    sides = ar.padding.parse_sides(padding, who="arithmetic_entries",
                                   name="cropping" if kind == "transposed" else "padding")
    return sides if sides == "same" else ar.padding.axes(sides)


def _try(entries, label, func, *args, **kw):
    """Append Entry(label, func(...)) or Entry(label, error=...); return the Result or None."""
    try:
        result = func(*args, **kw)
    except ValueError as e:
        entries.append(Entry(label, error=str(e)))
        return None
    entries.append(Entry(label, result))
    return result


def _per_axis(entries, label, func, hw_args, **kw):
    """One entry when both axes agree ('output size (height = width)'), else one per axis."""
    (h_args, h_kw), (w_args, w_kw) = hw_args
    if h_args == w_args and h_kw == w_kw:
        r = _try(entries, f"{label} (height = width)", func, *h_args, **h_kw, **kw)
        return r, r
    return (_try(entries, f"{label}, height", func, *h_args, **h_kw, **kw),
            _try(entries, f"{label}, width", func, *w_args, **w_kw, **kw))


def arithmetic_entries(kind="conv", *, input_size=28, filter_size=3, stride=1, padding=0,
                       dilation=1, channels=1, filters=1, groups=1) -> list[Entry]:
    """The card's entries for a layer of ``kind`` "conv" | "pool" | "transposed".

    Sizes are an int (both axes) or an (h, w) pair. ``padding`` takes every form a layer
    takes (``cnnlab.arithmetic.padding``): p, (a, b) = a rows top and bottom and b columns left
    and right, (top, bottom, left, right), ((top, bottom), (left, right)) or "same"; for
    "transposed" it is the cropping. A padding no layer accepts raises ValueError.
    "pool" ignores dilation, filters and groups (output channels = input channels);
    "transposed" ignores dilation and groups.

    >>> [(e.label, e.value_text) for e in arithmetic_entries("conv", input_size=32,
    ...     filter_size=5, stride=2, padding=2, channels=3, filters=8)][1:3]
    [('output size (height = width)', '16   (before flooring 16.5)'), ('parameters', '608')]
    """
    if kind not in KINDS:
        raise ValueError(f"arithmetic_entries: kind = {kind!r} must be one of {', '.join(KINDS)}")
    (ih, iw), (kh, kw), (sh, sw) = _pair(input_size), _pair(filter_size), _pair(stride)
    (dh, dw) = _pair(dilation) if kind == "conv" else (1, 1)
    pads = _axis_padding(padding, kind)
    pad_h, pad_w = (pads, pads) if isinstance(pads, str) else pads
    entries: list[Entry] = []
    out_channels = channels if kind == "pool" else filters

    if kind == "conv":
        _per_axis(entries, "effective filter size", ar.effective_filter_size,
                  (((kh, dh), {}), ((kw, dw), {})))
    if pads == "same" and kind != "transposed":
        _per_axis(entries, "'same' padding (before, after)", ar.same_padding,
                  (((ih, kh), {"stride": sh, "dilation": dh}),
                   ((iw, kw), {"stride": sw, "dilation": dw})))
    if kind == "conv":
        oh, ow = _per_axis(entries, "output size", ar.conv_output_size,
                           (((ih, kh), {"stride": sh, "padding": pad_h, "dilation": dh}),
                            ((iw, kw), {"stride": sw, "padding": pad_w, "dilation": dw})))
        _try(entries, "parameters", ar.conv_parameters, (kh, kw), channels, filters,
             groups=groups)
    elif kind == "pool":
        oh, ow = _per_axis(entries, "output size", ar.pool_output_size,
                           (((ih, kh), {"stride": sh, "padding": pad_h}),
                            ((iw, kw), {"stride": sw, "padding": pad_w})))
        entries.append(Entry("parameters", shown="0   (pooling has no learnable parameters)"))
    else:
        oh, ow = _per_axis(entries, "output size", ar.transposed_conv_output_size,
                           (((ih, kh), {"stride": sh, "cropping": pad_h}),
                            ((iw, kw), {"stride": sw, "cropping": pad_w})))
        _try(entries, "parameters", ar.transposed_conv_parameters, (kh, kw), channels, filters)

    if oh is None or ow is None:
        entries.append(Entry("neurons, connections, multiply-adds",
                             error="they need the output size, which cannot be computed"))
        return entries
    _try(entries, "neurons (output activations)", ar.neurons, oh.value, ow.value, out_channels)
    if kind == "conv":
        args = (oh.value, ow.value, (kh, kw), channels, filters)
        _try(entries, "connections", ar.conv_connections, *args, groups=groups)
        _try(entries, "multiply-adds per image", ar.conv_multiply_adds, *args, groups=groups)
    if kind == "transposed":
        _try(entries, "multiply-adds per image", ar.transposed_conv_multiply_adds, ih, iw,
             (kh, kw), channels, filters)
        entries.append(Entry("receptive field", shown="not tracked through a transposed "
                             "convolution (each output mixes a varying number of inputs)"))
        return entries
    before_h = 0 if isinstance(pad_h, str) else pad_h[0]
    before_w = 0 if isinstance(pad_w, str) else pad_w[0]
    if pads == "same":
        before_h = ar.same_padding(ih, kh, stride=sh, dilation=dh).value[0]
        before_w = ar.same_padding(iw, kw, stride=sw, dilation=dw).value[0]
    for axis, k, s, b, d, o, i in (("height", kh, sh, before_h, dh, oh, ih),
                                   ("width", kw, sw, before_w, dw, ow, iw)):
        if axis == "width" and (kh, sh, before_h, dh, oh.value, ih) == (kw, sw, before_w, dw,
                                                                         ow.value, iw):
            break
        suffix = " (height = width)" if (kh, sh, before_h, dh, ih) == (kw, sw, before_w, dw,
                                                                       iw) else f", {axis}"
        layer = [{"kernel": k, "stride": s, "pad_before": b, "dilation": d}]
        r = _try(entries, f"receptive field of the last output{suffix}", ar.receptive_field_of,
                 layer, o.value - 1, input_size=i)
        if r is not None:
            first, last = r.value
            entries[-1].shown = f"input positions {first}..{last} ({last - first + 1} wide)"
    return entries


def layer_entries(layer) -> list[Entry]:
    """The card's entries for a built Convolution2D, pooling or TransposedConvolution2D layer."""
    if not getattr(layer, "built", False):
        raise ValueError(f"layer_entries: {layer!r} is not built; put it in a cnnlab.Network")
    h, w, c = layer.input_shape
    kind = {"conv": "conv", "maxpool": "pool", "avgpool": "pool",
            "transposed-conv": "transposed"}.get(layer.kind)
    if kind is None:
        raise ValueError(f"layer_entries: {layer.label} ({layer.type_name}) has no window "
                         "arithmetic; the card shows convolution, pooling and transposed "
                         "convolution layers")
    # config() holds the option as given ("same" stays "same"); the built sides otherwise
    if kind == "conv":
        option = layer.config()["padding"]
        return arithmetic_entries("conv", input_size=(h, w), filter_size=layer.filter_size,
                                  stride=layer.stride, dilation=layer.dilation,
                                  padding="same" if option == "same" else layer.padding,
                                  channels=c, filters=layer.num_filters, groups=layer.groups)
    if kind == "pool":
        option = layer.config()["padding"]
        return arithmetic_entries("pool", input_size=(h, w), filter_size=layer.pool_size,
                                  stride=layer.stride, channels=c,
                                  padding="same" if option == "same" else layer.padding)
    option = layer.config()["cropping"]
    return arithmetic_entries("transposed", input_size=(h, w), filter_size=layer.filter_size,
                              stride=layer.stride, channels=c, filters=layer.num_filters,
                              padding="same" if option == "same" else layer.cropping)


# ---- drawing -------------------------------------------------------------------------------------

# (font size pt, line height in inches, family, weight, colour, style) per kind of line
_STYLES = {
    "title": (13, 0.32, "sans-serif", "bold", BLACK, "normal"),
    "heading": (11, 0.25, "sans-serif", "bold", BLACK, "normal"),
    "formula": (9.5, 0.19, "monospace", "normal", BLUE, "normal"),
    "substituted": (9.5, 0.19, "monospace", "normal", BLACK, "normal"),
    "note": (9.5, 0.19, "sans-serif", "normal", GREY, "italic"),
    "error": (10, 0.20, "sans-serif", "normal", VERMILLION, "normal"),
}
_GAP = 0.10       # inches between blocks
_MARGIN = 0.2     # inches around the text


def _wrap_formula(text: str, width: int) -> list[str]:
    """Break a long substituted formula at ' = ' or '; ', continuation lines indented."""
    lines = []
    for source in text.split("\n"):
        pieces, current = [], ""
        for token in re.split(r"(?<=;) | (?== )", source):
            if current and len(current) + len(token) + 1 > width:
                pieces.append(current.rstrip())
                current = "    " + token
            else:
                current = f"{current} {token}" if current else token
        pieces.append(current.rstrip())
        for piece in pieces:
            lines += textwrap.wrap(piece, width, subsequent_indent="      ",
                                   break_on_hyphens=False, drop_whitespace=False) or [""]
    return [line.rstrip() for line in lines]


def card_lines(entries, title: str = "", *, width: int = 100) -> list[tuple[str, str]]:
    """The card as (style, text) lines: what ``ArithmeticCard.draw`` places, one per row."""
    # bold text is wider than the monospace formulas: titles and headings wrap shorter
    lines = [("title", t) for t in textwrap.wrap(title, int(width * 0.7))] if title else []
    for e in entries:
        lines += [("heading", t) for t in textwrap.wrap(f"{e.label}: {e.value_text}",
                                                         int(width * 0.8),
                                                         subsequent_indent="    ")]
        if e.error is not None:
            lines += [("error", t) for t in textwrap.wrap(e.error, width)]
            continue
        if e.result is not None:
            lines += [("formula", t) for t in _wrap_formula(e.result.formula, width)]
            lines += [("substituted", t) for t in _wrap_formula(e.result.substituted, width)]
            for note in e.result.notes:
                lines += [("note", t) for t in textwrap.wrap(note, width + 8, initial_indent="• ",
                                                             subsequent_indent="   ")]
    return lines


class ArithmeticCard:
    """One persistent Agg figure whose text artists are reused from draw to draw.

    ``draw(entries, title)`` resizes the figure to the number of lines (width fixed,
    ``width_inches``), moves and restyles the text artists, hides the spare ones.
    ``texts()`` gives the (style, text) of the visible lines; ``png()`` the picture.
    """

    def __init__(self, *, width_inches: float = 9.0, dpi: int = 100, chars: int = 100):
        # its text sits at fixed inches: the style scales the whole card (dpi) instead
        self.figure = Picture(figsize=(width_inches, 2), dpi=dpi * get_style().font_scale)
        FigureCanvasAgg(self.figure)
        self.width_inches, self.chars = width_inches, chars
        self._artists = []
        self._lines: list[tuple[str, str]] = []

    def draw(self, entries, title: str = "") -> None:
        lines = card_lines(entries, title, width=self.chars)
        gaps = sum(1 for (s, _), (p, _) in zip(lines[1:], lines)
                   if s == "heading" and p not in ("title", "heading"))
        height = 2 * _MARGIN + sum(_STYLES[s][1] for s, _ in lines) + _GAP * gaps
        self.figure.set_size_inches(self.width_inches, max(height, 0.6))
        while len(self._artists) < len(lines):
            self._artists.append(self.figure.text(0, 0, "", transform=self.figure.dpi_scale_trans,
                                                  va="top", ha="left"))
        y = max(height, 0.6) - _MARGIN
        previous = "title"
        for artist, (style, text) in zip(self._artists, lines):
            size, step, family, weight, colour, slant = _STYLES[style]
            if style == "heading" and previous not in ("title", "heading"):
                y -= _GAP            # space above each block (not above a wrapped heading)
            previous = style
            artist.set_text(text)
            artist.set_position((_MARGIN, y))
            artist.set(fontsize=size, fontfamily=family, fontweight=weight, color=colour,
                       fontstyle=slant, visible=True)
            y -= step
        for artist in self._artists[len(lines):]:
            artist.set_visible(False)
        self._lines = lines

    def texts(self) -> list[tuple[str, str]]:
        return list(self._lines)

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.figure.dpi)
        return buffer.getvalue()


def arithmetic_card(layer=None, *, title: str | None = None, **sizes) -> Figure:
    """A card for a built layer, or for raw sizes (``arithmetic_entries`` keywords).

    Returns the matplotlib Figure (``fig.savefig("card.png")``).
    """
    if layer is not None:
        entries = layer_entries(layer)
        title = title if title is not None else f"{layer.name}: {layer.describe()}"
    else:
        entries = arithmetic_entries(**sizes)
        title = title if title is not None else describe_sizes(**sizes)
    card = ArithmeticCard()
    card.draw(entries, title)
    return card.figure


def describe_sizes(kind="conv", *, input_size=28, filter_size=3, stride=1, padding=0,
                   dilation=1, channels=1, filters=1, groups=1) -> str:
    """A one-line title for raw sizes, e.g. 'convolution: input 32×32×3, 8 filters 5×5, ...'."""
    def hw(v):
        h, w = _pair(v)
        return f"{h}×{w}"
    ih, iw = _pair(input_size)
    word = {"conv": "convolution", "pool": "pooling", "transposed": "transposed convolution"}
    parts = [f"{word.get(kind, kind)}: input {ih}×{iw}×{channels}"]
    if kind == "pool":
        parts.append(f"pool {hw(filter_size)}")
    else:
        parts.append(f"{filters} filter{'' if filters == 1 else 's'} {hw(filter_size)}")
    parts.append(f"stride {hw(stride)}")
    shown = ar.padding.describe_sides(ar.padding.parse_sides(
        padding, who="describe_sizes", name="cropping" if kind == "transposed" else "padding"))
    parts.append(f"{'cropping' if kind == 'transposed' else 'padding'} {shown}")
    if kind == "conv":
        parts.append(f"dilation {hw(dilation)}")
        if groups != 1:
            parts.append(f"groups {groups}")
    return ", ".join(parts)
