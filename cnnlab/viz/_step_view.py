"""What every step picture shares: naming an output position in scan order.

A window layer (convolution, pooling, transposed convolution read as a convolution) visits
its H_out×W_out output positions row by row; position ``i`` of that scan is

    row = i // W_out,  col = i % W_out        (and back: i = row · W_out + col)

``StepView.position(which)`` turns either form (an index or a ``(row, col)`` pair) into
``(i, row, col)`` and refuses positions outside the output, naming the figure class;
``StepView.checked(record, index, ...)`` refuses a record of another kind or a filter /
channel the record does not have. Pictures of any layer's k-th step (``step_pictures.py``)
take it through ``record_step``, which refuses a k outside the record's steps.
"""
from __future__ import annotations

import numpy as np


class StepView:
    """Mixin for step figures that hold ``self.record`` (a LayerRecord with
    ``output_shape``)."""

    kinds: tuple = ()          # the record kinds the figure draws
    kind_text = ""             # ... named in the error: "a convolution"
    map_name = ""              # what the third output axis indexes: "filter", "channel"

    def checked(self, record, index) -> int:
        """``index`` as an int once ``record`` is of a kind this figure draws and has that
        output map (ValueError naming the figure, the record and the range otherwise)."""
        name = type(self).__name__
        if getattr(record, "kind", None) not in self.kinds:
            raise ValueError(f"{name}: record {getattr(record, 'name', record)!r} is a "
                             f"{getattr(record, 'type_name', type(record).__name__)}, not "
                             f"{self.kind_text}")
        n = record.output_shape[2]
        if not isinstance(index, (int, np.integer)) or not 0 <= index < n:
            raise ValueError(f"{name}: {self.map_name} = {index!r} is out of range 0..{n - 1} "
                             f"({record.name} has {n} {self.map_name}s)")
        return int(index)

    def position(self, which) -> tuple[int, int, int]:
        """(index, row, col) of a scan-order index or a (row, col) pair."""
        name = type(self).__name__
        oh, ow = self.record.output_shape[:2]
        if isinstance(which, tuple):
            row, col = which
            if not (0 <= row < oh and 0 <= col < ow):
                raise ValueError(f"{name}: position ({row}, {col}) is outside the "
                                 f"{oh}×{ow} output")
            return int(row) * ow + int(col), int(row), int(col)
        i = int(which)
        if not 0 <= i < oh * ow:
            raise ValueError(f"{name}: step {i} is out of range 0..{oh * ow - 1} "
                             f"({oh}×{ow} output positions)")
        return i, i // ow, i % ow


def record_step(figure, k, *, backward: bool = False, unit: str = "steps"):
    """Step ``k`` of ``figure.record`` (its backward step with ``backward``) once k is one of
    the record's steps; ValueError naming the figure, the record and its count otherwise."""
    rec = figure.record
    n = rec.num_backward_steps if backward else rec.num_steps
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < n:
        raise ValueError(f"{type(figure).__name__}: step {k!r} is out of range 0..{n - 1} "
                         f"({rec.name} has {n} {unit})")
    return (rec.backward_step_at if backward else rec.step_at)(int(k))
