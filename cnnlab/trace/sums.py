"""Sums that add up as printed: how every on-screen sum of cnnlab chooses its digits.

The rule (captions of convolution and pooling steps, ``cnnlab step``, the explorers):

1. Every number that is *added* in one caption — the products' total, each channel's sum, the
   bias, the output, the cells of an average — is printed with the same number of decimals
   d, fixed-point. d gives the largest of them 4 significant figures (0 decimals when they are
   all whole numbers, at most 10).
2. A printed "=" means the printed terms, added exactly as written, give the printed total
   exactly. If they do not at d decimals (each printed term is rounded by up to half a unit of
   the last place, and the roundings can pile up), the caption is printed with one more
   decimal; if it still does not add up, it goes back to d decimals and writes "≈": the
   printed terms then add to within (n + 1)/2 units of the last place of the printed total,
   for n terms. The sums of the text (channel sums, total + bias) come first: one more
   decimal is taken for them even when the picture's product cells still need "≈".
3. Products w·x are not printed as numbers: their factors are printed with 4 significant
   figures and the "=" after them means: multiplying the printed factors exactly, adding them
   and the printed bias, and rounding to d decimals gives the printed output. Otherwise "≈".
4. A division (the mean of n cells) is written S / n with the printed sum S; "=" means
   S / n rounded to d decimals is the printed value.

Terms are written as a textbook adds them (``join_terms``): a negative term after the first
is subtracted, ``0.5 − 0.07``, never ``0.5 + -0.07``; a negative second factor of a product
is put in parentheses, ``0.3·(-2)``.

Non-finite numbers (padding -inf of max pooling, NaN) are printed as they are and never make
a sum "≈". A sum with terms left out ("... 19 more ...") keeps "=": it cannot be checked by
adding, and says so by its "...".

>>> d = choose_decimals([-0.42249, 0.11449, -0.308], sums=[([-0.42249, 0.11449], -0.308)])
>>> d, [fixed(v, d) for v in (-0.42249, 0.11449, -0.308)]
(4, ['-0.4225', '0.1145', '-0.3080'])
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

# how one number is printed (fixed d decimals; a factor to 4 significant figures):
from ..arithmetic.formatting import SIGNIFICANT, factor, fixed  # noqa: F401
MAX_DECIMALS = 10


def _finite(values):
    return [float(v) for v in values if math.isfinite(float(v))]


def decimals(values, significant: int = SIGNIFICANT) -> int:
    """Decimals that give the largest finite |value| ``significant`` figures; 0 for whole
    numbers.

    >>> decimals([0.114, -0.4224]), decimals([3, 12, -1]), decimals([1234.5]), decimals([])
    (4, 0, 0, 0)
    """
    vals = _finite(values)
    if not vals or all(v == int(v) and abs(v) < 1e15 for v in vals):
        return 0
    biggest = max(abs(v) for v in vals)
    if biggest == 0:
        return 0
    d = significant - 1 - math.floor(math.log10(biggest))
    return int(min(max(d, 0), MAX_DECIMALS))


def _all_finite(texts) -> bool:
    return all(Decimal(t).is_finite() for t in texts)


def adds_up(terms, total) -> bool:
    """Whether the printed ``terms`` (strings) add exactly to the printed ``total`` (True
    when one of them is inf or nan: there is nothing to add)."""
    terms = list(terms)
    if not _all_finite(terms + [total]):
        return True
    with localcontext(prec=200):                 # exact for any printed numbers
        return sum((Decimal(t) for t in terms), Decimal(0)) == Decimal(total)


def rounds_to(exact, total: str) -> bool:
    """Whether ``exact`` (a Decimal) rounded to the decimals of ``total`` is ``total``."""
    exact, printed = Decimal(exact), Decimal(total)
    if not (exact.is_finite() and printed.is_finite()):
        return True
    with localcontext(prec=200):
        quantum = Decimal(1).scaleb(printed.as_tuple().exponent)
        return exact.quantize(quantum, rounding=ROUND_HALF_EVEN) == printed


def relation(ok: bool) -> str:
    return "=" if ok else "≈"


def choose_decimals(values, sums=(), extra=()) -> int:
    """d for one caption (rules 1 and 2): ``values`` are all its additive numbers, ``sums``
    the (terms, total) pairs its text prints, ``extra`` pairs that matter less (the product
    cells of a picture). The first of d, d + 1 that makes every pair add up; else the first
    that makes every one of ``sums`` add up; else d (those sums are written with "≈").

    >>> choose_decimals([0.1234, 0.2345, 0.3579], [([0.1234, 0.2345], 0.3579)])
    4
    >>> choose_decimals([0.12344, 0.23444, 0.35788], [([0.12344, 0.23444], 0.35788)])
    5
    """
    d = decimals(values)
    candidates = (d, min(d + 1, MAX_DECIMALS))

    def add_up(pairs, k):
        return all(adds_up([fixed(t, k) for t in terms], fixed(total, k))
                   for terms, total in pairs)

    for pairs in (list(sums) + list(extra), list(sums)):
        for k in candidates:
            if add_up(pairs, k):
                return k
    return d


def join_terms(terms) -> str:
    """Printed terms added as a textbook writes them: ``0.5 − 0.07 + 0.2``, not
    ``0.5 + -0.07 + 0.2``. A term after the first that prints with a minus sign is
    subtracted without it (a + (-b) = a − b; for a product, (-w)·x = −(w·x)); the first
    term keeps its sign. The operator is the minus sign "−" of every cnnlab formula, the
    sign of a number the hyphen it prints with."""
    text = ""
    for k, term in enumerate(terms):
        if k == 0:
            text = term
        elif term.startswith("-"):
            text += " − " + term[1:]
        else:
            text += " + " + term
    return text


def sum_text(terms, total, d: int) -> str:
    """``t1 + t2 − t3 ... = total`` at d decimals, "≈" when the printed terms do not add up."""
    shown = [fixed(t, d) for t in terms]
    total_text = fixed(total, d)
    return f"{join_terms(shown)} {relation(adds_up(shown, total_text))} {total_text}"


def products_relation(factors, bias: str, value: str) -> str:
    """Rule 3: "=" when Σ (printed w · printed x) + printed bias rounds to the printed value."""
    factors = list(factors)
    if not _all_finite([t for pair in factors for t in pair] + [bias, value]):
        return "="
    with localcontext(prec=200):
        exact = sum((Decimal(w) * Decimal(x) for w, x in factors), Decimal(0)) + Decimal(bias)
    return relation(rounds_to(exact, value))


def mean_relation(total: str, count: int, mean: str) -> str:
    """Rule 4: "=" when the printed sum / count, rounded to the printed mean's decimals, is
    the printed mean."""
    if not _all_finite([total, mean]):
        return "="
    with localcontext(prec=200):
        return relation(rounds_to(Decimal(total) / count, mean))


def product_term(w: str, x: str) -> str:
    """One printed product ``w·x`` of two printed factors, the second in parentheses when it
    is negative (``-0.5·(-2)``, not ``-0.5·-2``)."""
    return f"{w}·({x})" if x.startswith("-") else f"{w}·{x}"
