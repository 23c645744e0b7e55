"""What every step picture shares: naming an output position in scan order.

A window layer (convolution, pooling, transposed convolution read as a convolution) visits
its H_out×W_out output positions row by row; position ``i`` of that scan is

    row = i // W_out,  col = i % W_out        (and back: i = row · W_out + col)

``StepView.position(which)`` turns either form (an index or a ``(row, col)`` pair) into
``(i, row, col)`` and refuses positions outside the output, naming the figure class.
"""
from __future__ import annotations


class StepView:
    """Mixin for step figures that hold ``self.record`` (a LayerRecord with
    ``output_shape``)."""

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
