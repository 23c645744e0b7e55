"""The input region one neuron sees, and the chain of windows that lead back to it.

Going backward from output (row, col) of layer L, every layer maps the set of its output
rows (and, separately, columns) that matter to the set of its input rows (columns) that
reach them — ``cnnlab.arithmetic.conv_input_span`` for convolution and pooling (window
o·S - P .. o·S - P + (K - 1)·D, taps D apart, padding reaching nothing unless it copies the
input), ``cnnlab.arithmetic.transposed_conv_input_span`` for a transposed convolution
(input i paints output o when o + C - i·S is a tap offset), the whole input for fully
connected and global pooling layers, the same positions for element-wise layers. Only
positions that exist are carried down, so the field is exact: it is the set of input pixels
on which the neuron depends (for generic weights; a max pool passes on only its winner, so
there the field is what *can* reach the neuron). With dilation, or a stride larger than the
kernel, the field has holes; ``mask`` shows them, the bounds are its bounding box.

For a neuron whose windows never leave the grids, the field's size is the textbook one of
``cnnlab.arithmetic.receptive_field`` (the same recurrence run forward). At an edge the
textbook field runs on through every layer's padding; here a window is carried down only
from the positions that exist, so the sizes can be smaller there, and they never exceed the
image plus the first layer's padding.

In a layer graph the field is the union over every path down to the image
(``receptive_graph.py``, the same per-layer rule).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import arithmetic as ar

_IDENTITY = ((1, 1, 0), (1, 1, 0))


@dataclass(frozen=True)
class NeuronField:
    """The field of ONE neuron on the image, in 2-D, traced down through the real layers.

    (The textbook per-axis recurrence of size, jump and start, for every output of a layer
    at once, is ``cnnlab.arithmetic.ReceptiveField`` / ``receptive_field``.)

    layer, row, col : the neuron; top, left, bottom, right : the bounding box of its field
    on the image (bottom/right exclusive; all 0 when no pixel reaches it); unclipped : the
    window the first layer that reads a window reads of the image, padding included
    (negative or past the edge where it reaches into padding); size : (height, width) of
    ``unclipped``; chain : [(layer name, (top, left, bottom, right))] from the neuron's layer
    down to the first: the window each layer reads of ITS input (padding included; for a
    layer that sees its whole input, the whole input); mask : H×W bool over the input image,
    True on the pixels that reach the neuron; note : why the field is empty or whole, or ""."""
    layer: str
    row: int
    col: int
    top: int
    left: int
    bottom: int
    right: int
    unclipped: tuple
    size: tuple
    chain: list
    mask: np.ndarray
    note: str = ""


def _axes(layer, rows, cols, in_h, in_w):
    """((rows span, cols span), how) for one layer: the input positions reaching rows × cols.

    Each span is a cnnlab.arithmetic.InputSpan; ``how`` is "window", "whole", "identity" or
    "transposed".
    """
    sp = layer.spatial()
    if layer.kind == "transposed-conv":
        (kh, kw), (sh, sw) = layer.filter_size, layer.stride
        t, b, l, r = layer.cropping
        return ((ar.transposed_conv_input_span(rows, in_h, kh, stride=sh, cropping=(t, b)).value,
                 ar.transposed_conv_input_span(cols, in_w, kw, stride=sw, cropping=(l, r)).value),
                "transposed")
    if sp is None:                              # fully connected, global pooling
        return ((ar.InputSpan(tuple(range(in_h)), 0, in_h - 1),
                 ar.InputSpan(tuple(range(in_w)), 0, in_w - 1)), "whole")
    if sp == _IDENTITY:                         # element-wise: the same positions
        return ((ar.InputSpan(tuple(rows), rows[0], rows[-1]),
                 ar.InputSpan(tuple(cols), cols[0], cols[-1])), "identity")
    (eh, sh, _), (ew, sw, _) = sp
    dh, dw = getattr(layer, "dilation", (1, 1))
    t, b, l, r = layer.padding                  # (top, bottom, left, right) once built
    value = getattr(layer, "padding_value", 0)  # pooling pads with a constant
    taps_h, taps_w = (eh - 1) // dh + 1, (ew - 1) // dw + 1
    return ((ar.conv_input_span(rows, in_h, taps_h, stride=sh, dilation=dh, padding=(t, b),
                                padding_value=value).value,
             ar.conv_input_span(cols, in_w, taps_w, stride=sw, dilation=dw, padding=(l, r),
                                padding_value=value).value), "window")


def _ends(span):
    """(first, last + 1) of an InputSpan (bottom/right exclusive); (0, 0) when it reads
    nothing."""
    return (0, 0) if span.first is None else (span.first, span.last + 1)


def _check_position(rec, row, col):
    oh, ow = rec.output_shape[:2]
    for what, v, lim in (("row", row, oh), ("col", col, ow)):
        if not isinstance(v, (int, np.integer)) or not 0 <= v < lim:
            raise ValueError(f"receptive_field: {what} = {v!r} is out of range 0..{lim - 1} "
                             f"for {rec.name} ({oh}x{ow})")


def receptive_field(trace, layer, row, col) -> NeuronField:
    if trace.network.is_graph:         # several paths down: their union (receptive_graph.py)
        from .receptive_graph import graph_receptive_field
        _check_position(trace[layer], row, col)
        return graph_receptive_field(trace, layer, row, col)
    rec = trace[layer]
    _check_position(rec, row, col)
    rows, cols = [int(row)], [int(col)]          # the positions that matter, sorted
    unclipped = (int(row), int(col), int(row) + 1, int(col) + 1)
    chain, note = [], ""
    for i in range(rec.index, -1, -1):
        r = trace[i]
        in_h, in_w = r.input_shape[:2]
        (sr, sc), how = _axes(r.layer, rows, cols, in_h, in_w)
        (top, bottom), (left, right) = _ends(sr), _ends(sc)
        window = (top, left, bottom, right)
        if how == "transposed" and not (sr.indices and sc.indices):
            window = (0, 0, 0, 0)               # nothing paints this neuron: no window
        chain.append((r.name, window))
        if how != "identity":
            # the layers below this one keep positions: its input grid is the image's
            unclipped = window
        if not sr.indices or not sc.indices:
            note = (f"no input pixel reaches this neuron: {r.name} "
                    + ("reads only padding here" if how == "window" else
                       "paints nothing here (its stride is larger than its filter: such "
                       "outputs receive only the bias)"))
            rows = cols = []
            break
        if how == "whole" and not note:
            note = f"{r.name} sees its whole input"
        rows, cols = list(sr.indices), list(sc.indices)
    h, w = trace.image.shape[:2]
    mask = np.zeros((h, w), bool)
    if rows and cols:
        mask[np.ix_(rows, cols)] = True
        top, left, bottom, right = rows[0], cols[0], rows[-1] + 1, cols[-1] + 1
    else:
        top = left = bottom = right = 0
    return NeuronField(layer=rec.name, row=int(row), col=int(col), top=top, left=left,
                          bottom=bottom, right=right, unclipped=tuple(int(v) for v in unclipped),
                          size=(unclipped[2] - unclipped[0], unclipped[3] - unclipped[1]),
                          chain=chain, mask=mask, note=note)
