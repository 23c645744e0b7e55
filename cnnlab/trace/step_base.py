"""What every step of a trace has in common (the protocol the stepper and ``cnnlab step`` use).

Every step, forward or backward, of every layer type has

    row, col, channel : where it sits in the layer's H×W×C output (forward) or input (backward)
    flat_index        : that position in the flattened H×W×C array of this image, C order
                        (flat_index = (row·W + col)·C + channel)
    value             : the number the step computes, evaluated in float64 from the recorded
                        arrays with the formula of its module docstring
    output            : the number the network's own kernels recorded there (forward: the
                        layer's output; backward: its input gradient); ``value`` equals it to
                        float tolerance, which the tests check for every layer type
    reads             : a short description of the values the step reads (property)
    text()            : the operation with the numbers filled in, e.g. "max(0, -0.37) = 0"

``str(step)`` is ``step.text()``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arithmetic.formatting import factor
from . import sums as printed


@dataclass(frozen=True)
class Step:
    """The fields every step has (see the module docstring)."""
    row: int
    col: int
    channel: int
    flat_index: int
    value: float
    output: float

    @property
    def where(self) -> str:
        return f"({self.row}, {self.col}, channel {self.channel})"

    @property
    def reads(self) -> str:                       # pragma: no cover - every step overrides it
        raise NotImplementedError

    def text(self) -> str:                        # pragma: no cover - every step overrides it
        raise NotImplementedError

    def __str__(self):
        return self.text()


def position(shape, flat: int) -> tuple[int, int, int]:
    """(row, col, channel) of ``flat`` in an H×W×C array (C order)."""
    r, c, ch = np.unravel_index(int(flat), tuple(shape))
    return int(r), int(c), int(ch)


def flat_of(shape, row: int, col: int, channel: int) -> int:
    """The C-order flat index of (row, col, channel) in an H×W×C array."""
    return int(np.ravel_multi_index((row, col, channel), tuple(shape)))


def channel_major(shape, k: int) -> tuple[int, int, int]:
    """(row, col, channel) of step k when the steps walk channel by channel, each channel
    row by row: k = channel·H·W + row·W + col."""
    h, w, _ = shape
    ch, rest = divmod(int(k), h * w)
    return rest // w, rest % w, ch


def signed(v) -> str:
    """A factor printed for use inside a formula: negative numbers in parentheses."""
    text = factor(v)
    return f"({text})" if text.startswith("-") else text


def products_text(weights, xs, value: float, *, bias: float | None = None,
                  max_terms: int = 12) -> str:
    """``w·x + w·x + ... [+ bias b] = value`` under the rule of ``cnnlab.trace.sums``.

    The factors are printed to 4 significant figures (rule 3: products are not printed as
    numbers); the bias and the value with the decimals of rule 1 (taken over the products'
    total, the bias and the value), one more when that makes the printed factors multiplied,
    added and rounded give the printed value, else "≈". Past ``max_terms`` products the first
    ones, a count of the hidden ones and the last two are written (and "=" kept).
    """
    pairs = [(factor(w), factor(x)) for w, x in zip(weights, xs)]
    if not pairs:
        return f"0 (nothing to add) = {factor(value)}"
    terms = [printed.product_term(w, x) for w, x in pairs]
    whole = len(terms) <= max_terms
    if not whole:
        keep = max(2, max_terms - 2)
        terms = terms[:keep] + [f"... {len(terms) - keep - 2} more ..."] + terms[-2:]
    total = float(np.dot(np.asarray(weights, float), np.asarray(xs, float)))
    d = printed.decimals([total, value] + ([] if bias is None else [bias]))
    for k in (d, min(d + 1, printed.MAX_DECIMALS)):
        b = "0" if bias is None else printed.fixed(bias, k)
        v = printed.fixed(value, k)
        rel = printed.products_relation(pairs, b, v) if whole else "="
        if rel == "=":
            break
    if rel != "=":
        b = "0" if bias is None else printed.fixed(bias, d)
        v = printed.fixed(value, d)
    return printed.join_terms(terms) + ("" if bias is None else f" + bias {b}") + f" {rel} {v}"
