"""The one reading of a 2-D padding (or cropping) option, for layers, cards, widgets and CLI.

A 2-D layer's ``padding`` (a transposed convolution's ``cropping``) is written as the
reference documents write it:

=========================  =====================================================
``p``                      p rows top and bottom, p columns left and right
``(a, b)`` / ``[a b]``     a rows top and bottom, b columns left and right (MATLAB's [a b];
                           NOT (before, after))
``(t, b, l, r)``           top, bottom, left, right separately
``((t, b), (l, r))``       the same, one (before, after) pair per axis
``"same"``                 computed when the input size is known (``same_sides``)
=========================  =====================================================

Lists, tuples and NumPy arrays (of integers) are all accepted; so are NumPy integers. Every
function returns plain Python ints, (top, bottom, left, right) in that order, or the string
"same". A wrong value raises ``ValueError`` naming who asked, the parameter, the value and what
is wrong:

>>> parse_sides((1, 0))
(1, 1, 0, 0)
>>> parse_sides(2), parse_sides([0, 1, 2, 3]), parse_sides(((0, 1), (2, 3)))
((2, 2, 2, 2), (0, 1, 2, 3), (0, 1, 2, 3))
>>> import numpy as np
>>> parse_sides(np.array([1, 1]))
(1, 1, 1, 1)
>>> parse_sides((1, 2, 3))
Traceback (most recent call last):
    ...
ValueError: parse_sides: padding = (1, 2, 3): expected an integer p, a pair (a, b) (a rows top and bottom, b columns left and right), (top, bottom, left, right), ((top, bottom), (left, right)) or 'same'; got 3 numbers
"""
from __future__ import annotations

import numbers

import numpy as np

from .checks import is_sequence
from .sizes import same_padding

FORMS = ("an integer p, a pair (a, b) (a rows top and bottom, b columns left and right), "
         "(top, bottom, left, right), ((top, bottom), (left, right)) or 'same'")


def _count(who: str, name: str, shown, item, where: str) -> int:
    """One side's number: a non-negative integer (NumPy integers and 0-d arrays accepted)."""
    if isinstance(item, np.ndarray) and item.ndim == 0:
        item = item[()]
    if isinstance(item, np.generic):         # quoted as 1.5, not np.float64(1.5)
        item = item.item()
    if isinstance(item, bool) or not isinstance(item, numbers.Integral):
        hint = ""
        if isinstance(item, numbers.Real) and not isinstance(item, bool) \
                and float(item).is_integer():
            hint = f"; write {int(item)}"
        raise ValueError(f"{who}: {name} = {shown}: {where} {item!r} must be a non-negative "
                         f"integer{hint}")
    if item < 0:
        raise ValueError(f"{who}: {name} = {shown}: {where} {int(item)} must be a non-negative "
                         "integer")
    return int(item)


def _shown(value) -> str:
    """How an error message quotes the value (arrays as lists, so the message reads plainly)."""
    if isinstance(value, np.ndarray):
        return f"array({value.tolist()!r})"
    return repr(value)


def parse_sides(value, *, who: str = "parse_sides", name: str = "padding",
                allow_same: bool = True):
    """(top, bottom, left, right) as Python ints, or "same", from any form in the module table.

    who, name : how errors name the caller and the parameter ("Convolution2D layer 'c1'",
        "padding"); allow_same : whether "same" is accepted.

    >>> parse_sides([1, 0], who="MaxPooling2D layer", name="padding")
    (1, 1, 0, 0)
    >>> parse_sides("valid", who="Convolution2D layer")
    Traceback (most recent call last):
        ...
    ValueError: Convolution2D layer: padding = 'valid': the only named form is 'same'; use an integer p, a pair (a, b) (a rows top and bottom, b columns left and right), (top, bottom, left, right), ((top, bottom), (left, right)) or 'same'
    """
    shown = _shown(value)
    if isinstance(value, str):
        if value == "same" and allow_same:
            return "same"
        named = "the only named form is 'same'" if allow_same else "no named form is accepted"
        raise ValueError(f"{who}: {name} = {shown}: {named}; use {FORMS}")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not is_sequence(value):
        if isinstance(value, numbers.Real) or isinstance(value, bool):
            p = _count(who, name, shown, value, "the value")
            return p, p, p, p
        raise ValueError(f"{who}: {name} = {shown}: expected {FORMS}, not a "
                         f"{type(value).__name__}")
    items = list(value)
    if len(items) == 2 and all(is_sequence(v) for v in items):
        pairs = [list(v) for v in items]
        if any(len(p) != 2 for p in pairs):
            raise ValueError(f"{who}: {name} = {shown}: per-axis form needs two (before, after) "
                             f"pairs, got lengths {len(pairs[0])} and {len(pairs[1])}")
        items = pairs[0] + pairs[1]
        where = ("top", "bottom", "left", "right")
    elif len(items) == 2:
        where = ("rows (top and bottom)", "columns (left and right)")
    elif len(items) == 4:
        where = ("top", "bottom", "left", "right")
    else:
        raise ValueError(f"{who}: {name} = {shown}: expected {FORMS}; got {len(items)} "
                         f"number{'' if len(items) == 1 else 's'}")
    counts = [_count(who, name, shown, v, w) for v, w in zip(items, where)]
    if len(counts) == 2:
        return counts[0], counts[0], counts[1], counts[1]
    return tuple(counts)


def axes(sides) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)): the per-axis (before, after) pairs that
    ``conv_output_size`` and friends take, from parsed sides.

    >>> axes((1, 1, 0, 0))
    ((1, 1), (0, 0))
    """
    t, b, l, r = sides
    return (t, b), (l, r)


def same_sides(input_hw, filter_hw, stride_hw=(1, 1), dilation_hw=(1, 1)) -> tuple:
    """(top, bottom, left, right) of 'same' padding: per axis ``same_padding`` (output
    ceil(I / S), the odd row/column at the bottom/right).

    >>> same_sides((28, 28), (6, 4), (4, 4))
    (1, 1, 0, 0)
    """
    (ih, iw), (kh, kw), (sh, sw), (dh, dw) = input_hw, filter_hw, stride_hw, dilation_hw
    return (same_padding(ih, kh, stride=sh, dilation=dh).value
            + same_padding(iw, kw, stride=sw, dilation=dw).value)


def same_cropping_sides(filter_hw, stride_hw, *, who: str = "same_cropping_sides") -> tuple:
    """(top, bottom, left, right) of a transposed convolution's 'same' cropping: K - S per
    axis, floor before and the odd one after (bottom/right), so the output is I·S.

    >>> same_cropping_sides((4, 3), (2, 2))
    (1, 1, 0, 1)
    """
    out = []
    for axis, k, s in zip(("height", "width"), filter_hw, stride_hw):
        if k < s:
            raise ValueError(f"{who}: cropping = 'same': 'same' crops filter size - stride = "
                             f"{k} - {s} = {k - s} along the {axis}, which is negative: it "
                             "needs a filter at least as large as the stride")
        out += [(k - s) // 2, k - s - (k - s) // 2]
    return tuple(out)


def describe_sides(sides) -> str:
    """The sides in words, as a card or the CLI titles them.

    >>> describe_sides((1, 1, 0, 0)), describe_sides((2, 2, 2, 2)), describe_sides("same")
    ('1 top and bottom, 0 left and right', '2', "'same'")
    >>> describe_sides((0, 1, 2, 3))
    'top 0, bottom 1, left 2, right 3'
    """
    if isinstance(sides, str):
        return f"'{sides}'"
    t, b, l, r = sides
    if t == b == l == r:
        return str(t)
    if t == b and l == r:
        return f"{t} top and bottom, {l} left and right"
    return f"top {t}, bottom {b}, left {l}, right {r}"
