"""The Result type every arithmetic function returns.

The checks of their inputs are in ``checks.py`` (shared with the layers), the number
formatting in ``formatting.py``.
"""
from __future__ import annotations

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
