"""How cnnlab prints a number: one function for each place a number appears on screen.

=====================  ==================================================  ==================
where                  rule                                                 function
=====================  ==================================================  ==================
formulas, counts       an int exactly, with thousands separators; a float  ``format_number``
(``Result``, cards)    to at most 4 decimals, "…" when that rounded it
a product's factor     4 significant figures; whole numbers as integers    ``factor``
(step captions)
a term of a sum        d decimals, fixed-point, the same d for every term  ``fixed``
(step captions)        of one sum (d is chosen by ``cnnlab.trace.sums``
                       so that the printed terms add up)
a cell of a picture    3 significant figures (it must fit a small square);  ``cell``
(grids, heat maps)     whole numbers below 10⁵ as integers; NaN blank
=====================  ==================================================  ==================

Every function prints infinities and NaN as such (a max-pool's -inf padding is a number a
student should see), except ``cell``, which leaves NaN (a hole) blank and writes ±∞.

>>> format_number(1960), format_number(10 / 3), factor(0.123456), fixed(-0.4225, 3)
('1,960', '3.3333…', '0.1235', '-0.422')
>>> cell(0.123456), cell(float("nan")), cell(float("-inf"))
('0.123', '', '-∞')
"""
from __future__ import annotations

import math
from decimal import Decimal

#: significant figures of a factor in a step caption (and of a sum's largest term)
SIGNIFICANT = 4
#: significant figures of a number written into a picture's cell
CELL_SIGNIFICANT = 3


def _non_finite(v: float) -> str:
    return "nan" if math.isnan(v) else ("-inf" if v < 0 else "inf")


def format_number(x) -> str:
    """An int with thousands separators; a float to at most 4 decimals, with … when rounded.

    >>> format_number(1960), format_number(16.5), format_number(10 / 3)
    ('1,960', '16.5', '3.3333…')
    """
    if isinstance(x, int):
        return f"{x:,}"
    text = f"{x:,.4f}".rstrip("0").rstrip(".")
    return text if round(x, 4) == x else text + "…"


def factor(v) -> str:
    """A factor of a product: 4 significant figures, whole numbers as integers (3 not 3.0).

    >>> factor(3.0), factor(0.123456), factor(-2.5e-06), factor(float("-inf"))
    ('3', '0.1235', '-2.5e-06', '-inf')
    """
    v = float(v)
    if not math.isfinite(v):
        return _non_finite(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{SIGNIFICANT}g}"


def fixed(v, d: int) -> str:
    """``v`` with ``d`` decimals, no "-0.000" (a value that rounds to 0 is printed 0.000).

    >>> fixed(-0.00004, 3), fixed(2.5, 0), fixed(float("-inf"), 2), fixed(0.125, 2)
    ('0.000', '2', '-inf', '0.12')
    """
    v = float(v)
    if not math.isfinite(v):
        return _non_finite(v)
    text = f"{v:.{d}f}"
    if text.startswith("-") and Decimal(text) == 0:
        text = text[1:]
    return text


def cell(v) -> str:
    """A picture cell's number, short: 3, -1.5, 0.25, 1.2e+05; NaN -> '' and ±inf -> '±∞'.

    >>> cell(3.0), cell(-0.25), cell(float('nan')), cell(float('-inf')), cell(0.123456)
    ('3', '-0.25', '', '-∞', '0.123')
    """
    v = float(v)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v == int(v) and abs(v) < 1e5:
        return str(int(v))
    return f"{v:.{CELL_SIGNIFICANT}g}"


def plural(count: int, word: str, words: str | None = None) -> str:
    """'1 position', '3 positions'.

    >>> plural(1, "position"), plural(1200, "window")
    ('1 position', '1,200 windows')
    """
    return f"{format_number(count)} {word if count == 1 else (words or word + 's')}"


def lines_cols(count: int) -> str:
    """'1 row/column', '2 rows/columns': one axis stands for either direction.

    >>> lines_cols(1), lines_cols(2)
    ('1 row/column', '2 rows/columns')
    """
    return f"{format_number(count)} {'row/column' if count == 1 else 'rows/columns'}"
