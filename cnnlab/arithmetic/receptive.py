"""Receptive fields along one axis, through a stack of layers.

Each layer is described by ``(kernel, stride, pad_before)`` with the effective (dilated)
kernel, or by a dict with keys kernel, stride, pad_before, dilation (kernel is then the
number of taps; the effective size is computed). Element-wise layers (ReLU, batch norm) are
``(1, 1, 0)``. Starting from one input pixel (size 1, jump 1, start 0), layer l gives::

    jump_l  = jump_(l-1)·S_l
    size_l  = size_(l-1) + (K_l - 1)·jump_(l-1)
    start_l = start_(l-1) - P_l·jump_(l-1)

``start`` is the input coordinate of the top-left pixel of output 0's field; it is negative
when the field reaches into the padding.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ._core import Result
from .checks import is_sequence, nonnegative_int, positive_int
from .formatting import format_number as n
from .formatting import plural

FORMULA = ("jump_l = jump_(l-1)·S_l; size_l = size_(l-1) + (K_l - 1)·jump_(l-1); "
           "start_l = start_(l-1) - P_l·jump_(l-1)")
_KEYS = ("kernel", "stride", "pad_before", "dilation")


class ReceptiveField(NamedTuple):
    """The field of one layer's outputs on the input, along one axis.

    size: input pixels one output sees (the span); jump: input distance between neighbouring
    outputs; start: input coordinate of output 0's first pixel (negative inside the padding).
    """
    size: int
    jump: int
    start: int


def _layer(func: str, j: int, layer) -> tuple[int, int, int, int]:
    """(effective kernel, stride, pad_before, taps-or-0) of layers[j], checked."""
    where = f"layers[{j}]"
    if isinstance(layer, Mapping):
        unknown = sorted(str(key) for key in layer if key not in _KEYS)
        if unknown:
            raise ValueError(f"{func}: {where} has unknown key(s) {', '.join(unknown)}; the keys "
                             "are kernel, stride, pad_before, dilation")
        if "kernel" not in layer:
            raise ValueError(f"{func}: {where} = {dict(layer)!r} has no 'kernel'")
        k = positive_int(func, f"{where} kernel", layer["kernel"])
        s = positive_int(func, f"{where} stride", layer.get("stride", 1))
        p = nonnegative_int(func, f"{where} pad_before", layer.get("pad_before", 0))
        d = positive_int(func, f"{where} dilation", layer.get("dilation", 1))
        return (k - 1) * d + 1, s, p, (k if d > 1 else 0)
    if is_sequence(layer) and len(layer) == 3:
        k, s, p = layer
        return (positive_int(func, f"{where} kernel", k), positive_int(func, f"{where} stride", s),
                nonnegative_int(func, f"{where} pad_before", p), 0)
    raise ValueError(f"{func}: {where} = {layer!r} must be a (kernel, stride, pad_before) tuple "
                     "or a dict with keys kernel, stride, pad_before, dilation")


def receptive_field(layers) -> Result:
    """Receptive field size, jump and start after each layer of a stack (one axis).

    Returns a Result whose value has one ``ReceptiveField(size, jump, start)`` per layer.

    >>> rf = receptive_field([(3, 1, 1), (2, 2, 0), (3, 1, 1)]).value
    >>> rf[-1]
    ReceptiveField(size=8, jump=2, start=-3)
    """
    func = "receptive_field"
    if isinstance(layers, (str, bytes, Mapping)) or not hasattr(layers, "__iter__"):
        raise ValueError(f"{func}: layers = {layers!r} must be a sequence of layer descriptions")
    layers = list(layers)
    if not layers:
        raise ValueError(f"{func}: layers = [] is empty; give at least one layer")
    size, jump, start = 1, 1, 0
    fields, lines, notes = [], [], []
    for j, layer in enumerate(layers):
        e, s, p, taps = _layer(func, j, layer)
        if taps:
            notes.append(f"layer {j + 1}: the dilated {taps}-tap kernel spans {e}; the size "
                         "counts the whole span, including positions the taps skip")
        if s > e and j < len(layers) - 1:
            notes.append(f"layer {j + 1}: stride {s} > kernel {e}, so it skips inputs: a later "
                         "field that combines several of its outputs is a span with positions "
                         "inside it that no path reaches")
        lines.append(f"layer {j + 1} (K = {e}, S = {s}, P = {p}): jump = {n(jump)}·{s} = "
                     f"{n(jump * s)}, size = {n(size)} + ({e} - 1)·{n(jump)} = "
                     f"{n(size + (e - 1) * jump)}, start = {n(start)} - {p}·{n(jump)} = "
                     f"{n(start - p * jump)}")
        size, jump, start = size + (e - 1) * jump, jump * s, start - p * jump
        fields.append(ReceptiveField(size, jump, start))
    notes.insert(0, f"after {plural(len(layers), 'layer')} each output sees "
                    f"{plural(size, 'input position')} along this axis, and neighbouring "
                    f"outputs are {n(jump)} apart on the input; "
                    f"output 0 sees {n(start)}..{n(start + size - 1)}"
                    + (f", reaching {n(-start)} into the padding before the input" if start < 0
                       else ""))
    return Result(tuple(fields), None, FORMULA, "\n".join(lines), notes)


def receptive_field_of(layers, index, *, input_size=None) -> Result:
    """The input coordinates (first, last), inclusive, seen by output ``index`` of the last layer.

    first = start + index·jump, last = first + size - 1. Give ``input_size`` to be told when
    the field runs past the end of the image (into padding).

    >>> receptive_field_of([(3, 1, 1), (2, 2, 0), (3, 1, 1)], 2).value
    (1, 8)
    """
    func = "receptive_field_of"
    index = nonnegative_int(func, "index", index)
    if input_size is not None:
        input_size = positive_int(func, "input_size", input_size)
    size, jump, start = receptive_field(layers).value[-1]
    first = start + index * jump
    last = first + size - 1
    notes = []
    if first < 0:
        notes.append(f"the field starts {plural(-first, 'position')} before the image, in the "
                     "padding")
    if input_size is not None and last > input_size - 1:
        notes.append(f"the field ends {plural(last - input_size + 1, 'position')} past the "
                     f"image's last position {input_size - 1}, in the padding")
        if first > input_size - 1:
            notes.append("the whole field lies outside the image: check that this output "
                         "index exists")
    return Result((first, last), None, "first = start + index·jump; last = first + size - 1",
                  f"first = {n(start)} + {index}·{n(jump)} = {n(first)}; last = {n(first)} + "
                  f"{n(size)} - 1 = {n(last)}", notes)
