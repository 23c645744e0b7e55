"""The Result type, and the input checks and number formatting every arithmetic function shares.

Checks raise ``ValueError`` messages in one style: the function, the parameter, its value,
and what is wrong, e.g. ``conv_output_size: stride = 0 must be a positive integer``.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """A computed size or count, with the formula behind it and what it means.

    Attributes
    ----------
    value : int, or a tuple (``same_padding`` gives (before, after); ``receptive_field``
        gives one entry per layer; ``receptive_field_of`` gives (first, last)).
    unfloored : the value before it was floored or ceiled: the output size the formula gives
        without the floor (16.5 for conv_output_size(32, 5, stride=2, padding=2), whose value
        is 16), I / S for ``same_padding``; None when no rounding is involved.
    formula : the symbolic formula, e.g. ``"(K - 1)·D + 1"``.
    substituted : the formula with the numbers put in, step by step, ending in the value.
    notes : remarks in plain words (what is discarded, what overlaps, what is not counted).
    quotient : the division inside the formula, before flooring, where there is one:
        (I + P_total - K_eff) / S for a window size (15.5 in the example above, so that
        value = floor(quotient) + 1 and unfloored = quotient + 1); I / S for ``same_padding``;
        None otherwise.
    exact : an alias of ``unfloored``, kept so that older code keeps working (it is NOT the
        quotient).

    ``int(result)`` works when the value is an int.

    >>> r = Result(5, None, "(K - 1)·D + 1", "(3 - 1)·2 + 1 = 2·2 + 1 = 5", ("a note",))
    >>> int(r) * 2
    10
    >>> print(r)
    (K - 1)·D + 1
    (3 - 1)·2 + 1 = 2·2 + 1 = 5
    note: a note
    >>> Result(16, 16.5, "O", "16", quotient=15.5).exact
    16.5
    """

    value: object
    unfloored: float | None
    formula: str
    substituted: str
    notes: tuple[str, ...] = ()
    quotient: float | None = None

    @property
    def exact(self) -> float | None:
        """The same as ``unfloored`` (the output size before flooring), under its old name."""
        return self.unfloored

    def __post_init__(self):
        if not isinstance(self.notes, tuple):
            object.__setattr__(self, "notes", tuple(self.notes))

    def __str__(self) -> str:
        return "\n".join([self.formula, self.substituted] + [f"note: {n}" for n in self.notes])

    def __int__(self) -> int:
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            return self.value
        raise TypeError(f"this Result's value {self.value!r} is a {type(self.value).__name__}, "
                        "not an int; use result.value")

    __index__ = __int__


# ---- formatting ------------------------------------------------------------------------------

def n(x) -> str:
    """An int with thousands separators; a float to at most 4 decimals, with … when rounded.

    >>> n(1960), n(16.5), n(10 / 3)
    ('1,960', '16.5', '3.3333…')
    """
    if isinstance(x, int):
        return f"{x:,}"
    text = f"{x:,.4f}".rstrip("0").rstrip(".")
    return text if round(x, 4) == x else text + "…"


def plural(count: int, word: str, words: str | None = None) -> str:
    """'1 position', '3 positions'."""
    return f"{n(count)} {word if count == 1 else (words or word + 's')}"


def lines_cols(count: int) -> str:
    """'1 row/column', '2 rows/columns': one axis stands for either direction."""
    return f"{n(count)} {'row/column' if count == 1 else 'rows/columns'}"


# ---- checks ----------------------------------------------------------------------------------

def _integer(func: str, name: str, value, minimum: int) -> int:
    kind = "a positive integer" if minimum == 1 else "a non-negative integer"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if int(value) >= minimum:
            return int(value)
        raise ValueError(f"{func}: {name} = {int(value)} must be {kind}")
    shown = str(value) if isinstance(value, numbers.Real) else repr(value)
    why = f"{func}: {name} = {shown} must be {kind}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{why}, not a {type(value).__name__}")
    if float(value).is_integer() and value >= minimum:
        raise ValueError(f"{why}, not a {type(value).__name__}; write {int(value)}")
    raise ValueError(why)


def positive_int(func: str, name: str, value) -> int:
    """value as a Python int ≥ 1 (numpy integers accepted; bools, floats rejected)."""
    return _integer(func, name, value, 1)


def nonnegative_int(func: str, name: str, value) -> int:
    """value as a Python int ≥ 0 (numpy integers accepted; bools, floats rejected)."""
    return _integer(func, name, value, 0)


def is_sequence(value) -> bool:
    """A list/tuple-like of items (not a string, not a mapping).

    >>> is_sequence([1, 0]), is_sequence("same"), is_sequence(3)
    (True, False, False)
    """
    return (hasattr(value, "__len__") and hasattr(value, "__iter__")
            and not isinstance(value, (str, bytes, Mapping)))


def sides(func: str, name: str, value) -> tuple[int, int]:
    """Padding or cropping of one axis: an int (both sides) or a (before, after) pair."""
    if is_sequence(value):
        items = list(value)
        if len(items) != 2:
            raise ValueError(f"{func}: {name} = {value!r} must be one integer (both sides) or a "
                             f"(before, after) pair for one axis, not {len(items)} numbers")
        return (nonnegative_int(func, f"{name} before", items[0]),
                nonnegative_int(func, f"{name} after", items[1]))
    p = nonnegative_int(func, name, value)
    return p, p


def filter_hw(func: str, value) -> tuple[int, int]:
    """A filter size: an int (square) or an (h, w) pair."""
    if is_sequence(value):
        items = list(value)
        if len(items) != 2:
            raise ValueError(f"{func}: filter_size = {value!r} must be one integer or an "
                             f"(h, w) pair, not {len(items)} numbers")
        return (positive_int(func, "filter_size height", items[0]),
                positive_int(func, "filter_size width", items[1]))
    k = positive_int(func, "filter_size", value)
    return k, k


def size_product(func: str, name: str, value) -> tuple[int, str]:
    """A layer input size: an int, or a shape whose product is taken ((14, 14, 10) → 1960).

    Returns the number and how to show it ("1,960" or "14·14·10 = 1,960").
    """
    if is_sequence(value):
        items = [positive_int(func, f"{name}[{j}]", v) for j, v in enumerate(value)]
        if not items:
            raise ValueError(f"{func}: {name} = {value!r} is an empty shape")
        total = 1
        for v in items:
            total *= v
        shown = n(total) if len(items) == 1 else "·".join(n(v) for v in items) + f" = {n(total)}"
        return total, shown
    v = positive_int(func, name, value)
    return v, n(v)
