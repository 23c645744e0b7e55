"""Plain-text pictures of small arrays, for terminals, doctests and ``cnnlab step``."""
from __future__ import annotations

import numpy as np

from ..arithmetic.formatting import factor


def grid(a, *, mask=None, mark=None, width: int | None = None) -> str:
    """A 2-D array as aligned rows of numbers.

    mask : cells shown in brackets (e.g. padding); mark : (top, left, bottom, right) window
    whose cells are starred.

    >>> print(grid(np.array([[1, 2], [30, 4]])))
     1   2
    30   4
    """
    a = np.asarray(a)
    cells = [[factor(v) for v in row] for row in a]
    for i, row in enumerate(cells):
        for j, text in enumerate(row):
            if mask is not None and mask[i, j]:
                text = f"({text})"
            if mark is not None and mark[0] <= i < mark[2] and mark[1] <= j < mark[3]:
                text += "*"
            cells[i][j] = text
    width = width or max(len(t) for row in cells for t in row)
    return "\n".join("  ".join(t.rjust(width) for t in row) for row in cells)
