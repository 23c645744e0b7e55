"""The checks of every hyperparameter in cnnlab: the arithmetic functions and the layers.

One message form for every refusal::

    <who>: <parameter> = <value>: <what is wrong>

where ``who`` is the function ("conv_output_size") or the layer's label
("Convolution2D layer 'conv1'"), e.g.

>>> positive_int("Convolution2D layer 'c1'", "num_filters", 0)
Traceback (most recent call last):
    ...
ValueError: Convolution2D layer 'c1': num_filters = 0: must be a positive integer
>>> positive_int("conv_output_size", "stride", 2.0)
Traceback (most recent call last):
    ...
ValueError: conv_output_size: stride = 2.0: must be a positive integer, not a float; write 2

Integers may be NumPy integers; bools are refused (True is not a size).
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from .formatting import format_number as n


def is_int(v) -> bool:
    """An integer that is not a bool (NumPy integers count)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_number(v) -> bool:
    """A finite real number that is not a bool."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)


def _shown(value) -> str:
    """How a message quotes a value: numbers as they print (2.0, not np.float64(2.0))."""
    return str(value) if isinstance(value, numbers.Real) else repr(value)


def _integer(who: str, name: str, value, minimum: int) -> int:
    kind = "a positive integer" if minimum == 1 else "a non-negative integer"
    if is_int(value):
        if int(value) >= minimum:
            return int(value)
        raise ValueError(f"{who}: {name} = {int(value)}: must be {kind}")
    why = f"{who}: {name} = {_shown(value)}: must be {kind}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{why}, not a {type(value).__name__}")
    if float(value).is_integer() and value >= minimum:
        raise ValueError(f"{why}, not a {type(value).__name__}; write {int(value)}")
    raise ValueError(why)


def positive_int(who: str, name: str, value) -> int:
    """value as a Python int ≥ 1 (numpy integers accepted; bools, floats rejected)."""
    return _integer(who, name, value, 1)


def nonnegative_int(who: str, name: str, value) -> int:
    """value as a Python int ≥ 0 (numpy integers accepted; bools, floats rejected)."""
    return _integer(who, name, value, 0)


def nonnegative_factor(who: str, name: str, value) -> float:
    """A finite real ≥ 0 (a learn-rate or L2 factor), as a float.

    >>> nonnegative_factor("f", "weight_l2_factor", 2)
    2.0
    """
    if not is_number(value) or value < 0:
        raise ValueError(f"{who}: {name} = {value!r}: must be a nonnegative number")
    return float(value)


def pair(who: str, name: str, value, *, minimum: int = 1) -> tuple[int, int]:
    """A scalar or (h, w) hyperparameter as a pair of ints >= minimum.

    >>> pair("layer", "stride", 2), pair("layer", "stride", (1, 3))
    ((2, 2), (1, 3))
    """
    vals = (value, value) if is_int(value) else value
    try:
        vals = tuple(vals)
    except TypeError:
        vals = None
    if vals is None or len(vals) != 2 or not all(is_int(v) for v in vals):
        raise ValueError(f"{who}: {name} = {value!r}: expected an integer or a pair "
                         f"(height, width) of integers")
    if any(v < minimum for v in vals):
        raise ValueError(f"{who}: {name} = {value!r}: every entry must be >= {minimum}")
    return int(vals[0]), int(vals[1])


def is_sequence(value) -> bool:
    """A list/tuple-like of items (not a string, not a mapping).

    >>> is_sequence([1, 0]), is_sequence("same"), is_sequence(3)
    (True, False, False)
    """
    return (hasattr(value, "__len__") and hasattr(value, "__iter__")
            and not isinstance(value, (str, bytes, Mapping)))


def sides(who: str, name: str, value) -> tuple[int, int]:
    """Padding or cropping of one axis: an int (both sides) or a (before, after) pair."""
    if is_sequence(value):
        items = list(value)
        if len(items) != 2:
            raise ValueError(f"{who}: {name} = {value!r}: must be one integer (both sides) or "
                             f"a (before, after) pair for one axis, not {len(items)} numbers")
        return (nonnegative_int(who, f"{name} before", items[0]),
                nonnegative_int(who, f"{name} after", items[1]))
    p = nonnegative_int(who, name, value)
    return p, p


def filter_hw(who: str, value) -> tuple[int, int]:
    """A filter size: an int (square) or an (h, w) pair."""
    if is_sequence(value):
        items = list(value)
        if len(items) != 2:
            raise ValueError(f"{who}: filter_size = {value!r}: must be one integer or an "
                             f"(h, w) pair, not {len(items)} numbers")
        return (positive_int(who, "filter_size height", items[0]),
                positive_int(who, "filter_size width", items[1]))
    k = positive_int(who, "filter_size", value)
    return k, k


def size_product(who: str, name: str, value) -> tuple[int, str]:
    """A layer input size: an int, or a shape whose product is taken ((14, 14, 10) → 1960).

    Returns the number and how to show it ("1,960" or "14·14·10 = 1,960").
    """
    if is_sequence(value):
        items = [positive_int(who, f"{name}[{j}]", v) for j, v in enumerate(value)]
        if not items:
            raise ValueError(f"{who}: {name} = {value!r}: is an empty shape")
        total = 1
        for v in items:
            total *= v
        shown = n(total) if len(items) == 1 else "·".join(n(v) for v in items) + f" = {n(total)}"
        return total, shown
    v = positive_int(who, name, value)
    return v, n(v)
