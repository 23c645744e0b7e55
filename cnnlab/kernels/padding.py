"""The four padding modes of a convolution, shared by every kernel backend.

A padded array is made by *copying*: every padded row is a copy of some input row (or a
constant), and every padded column is a copy of some input column (or a constant). One
function, :func:`source_index`, says which; :func:`pad` and :func:`pad_backward` are both
built on it, so the forward copy and the backward fold can never disagree.

Modes, shown on one axis of the input ``[a b c]`` padded by 2 on each side:

======================== ===================== =====================================
padding value            np.pad equivalent     example
======================== ===================== =====================================
a number v               mode="constant"       ``v v | a b c | v v``
"symmetric-include-edge" mode="symmetric"      ``b a | a b c | c b``  (edge repeated)
"symmetric-exclude-edge" mode="reflect"        ``c b | a b c | b a``  (edge is the mirror)
"replicate"              mode="edge"           ``a a | a b c | c c``
======================== ===================== =====================================

Padding wider than the input mirrors again and again: the mirrored sequence is periodic,
period 2n with the edge included and 2n - 2 without it (a single row just repeats). This is
exactly what ``np.pad`` does, and the tests check it.

Gradient: a padded cell that copies input cell k passes its gradient back to k, so
``pad_backward`` adds each padded cell's gradient to its source. A constant cell copies
nothing and its gradient is dropped.
"""
from __future__ import annotations

import numbers

import numpy as np

#: the named modes; any finite number is also a valid padding value (constant padding)
PADDING_MODES = ("symmetric-include-edge", "symmetric-exclude-edge", "replicate")


def check_padding_value(label: str, value):
    """Validate a padding value: a finite number or one of PADDING_MODES.

    Returns the value in a JSON-friendly form (a Python int/float or the mode name).
    """
    if isinstance(value, str):
        if value in PADDING_MODES:
            return value
    elif (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and np.isfinite(value)):
        return int(value) if isinstance(value, numbers.Integral) else float(value)
    raise ValueError(f"{label}: padding_value = {value!r}: expected a finite number or one of "
                     f"{', '.join(repr(m) for m in PADDING_MODES)}")


def _four(pads):
    t, b, l, r = (int(p) for p in pads)
    if min(t, b, l, r) < 0:
        raise ValueError(f"pads = {tuple(pads)}: padding must be nonnegative")
    return t, b, l, r


def source_index(n: int, before: int, after: int, mode) -> np.ndarray:
    """Which input row each padded row copies: an int array of length before + n + after.

    Padded position p (0-based) sits at input coordinate q = p - before. Inside the input
    (0 <= q < n) it copies row q. Outside:

    - constant (``mode`` a number): -1, meaning "no input row, use the constant";
    - "replicate": the nearest edge row, clip(q, 0, n - 1);
    - "symmetric-include-edge": mirror with period 2n, k = q mod 2n, row k if k < n else
      2n - 1 - k (so row 0 is seen twice at the edge);
    - "symmetric-exclude-edge": mirror with period 2n - 2, k = q mod (2n - 2), row k if
      k < n else 2n - 2 - k (the edge row is the mirror line, seen once); n = 1 gives row 0.

    >>> source_index(3, 2, 2, "symmetric-include-edge")
    array([1, 0, 0, 1, 2, 2, 1])
    >>> source_index(3, 2, 2, "symmetric-exclude-edge")
    array([2, 1, 0, 1, 2, 1, 0])
    >>> source_index(3, 2, 2, 0)
    array([-1, -1,  0,  1,  2, -1, -1])
    """
    n, before, after = int(n), int(before), int(after)
    if n < 1 or before < 0 or after < 0:
        raise ValueError(f"source_index: n = {n}, before = {before}, after = {after}: need "
                         "n >= 1 and nonnegative padding")
    q = np.arange(-before, n + after)
    if not isinstance(mode, str):
        return np.where((q >= 0) & (q < n), q, -1)
    if mode == "replicate":
        return np.clip(q, 0, n - 1)
    if mode == "symmetric-include-edge":
        k = np.mod(q, 2 * n)
        return np.where(k < n, k, 2 * n - 1 - k)
    if mode == "symmetric-exclude-edge":
        if n == 1:
            return np.zeros_like(q)
        k = np.mod(q, 2 * n - 2)
        return np.where(k < n, k, 2 * n - 2 - k)
    raise ValueError(f"source_index: mode = {mode!r}: expected a number or one of "
                     f"{', '.join(PADDING_MODES)}")


def pad(x: np.ndarray, pads, value=0) -> np.ndarray:
    """Pad an N×H×W×C array on its two spatial axes.

    pads = (top, bottom, left, right); value is a number or a mode in PADDING_MODES.
    Returns N×(H + top + bottom)×(W + left + right)×C, same dtype as x:

        xp[n, p, q, c] = x[n, rows[p], cols[q], c]   (or value where rows[p] or cols[q] is -1)

    with rows = source_index(H, top, bottom, value), cols = source_index(W, left, right, value).

    The result is always a new C-contiguous array (the fast kernels read it row by row, and
    keep it to recognise the same input in the backward pass).
    """
    t, b, l, r = _four(pads)
    n, h, w, c = x.shape
    if not isinstance(value, str):
        # constant: a block of the value with the input copied into its middle
        xp = np.full((n, h + t + b, w + l + r, c), value, dtype=x.dtype)
        xp[:, t:t + h, l:l + w] = x
        return xp
    rows = source_index(h, t, b, value)
    cols = source_index(w, l, r, value)
    # gather rows, then columns (np.take returns C-contiguous arrays)
    return np.take(np.take(x, rows, axis=1), cols, axis=2)


def pad_backward(dxp: np.ndarray, pads, value, in_hw) -> np.ndarray:
    """Gradient of :func:`pad`: fold the padded gradient back onto the input.

    dx[n, i, j, c] = Σ over padded cells (p, q) with rows[p] = i and cols[q] = j of
    dxp[n, p, q, c]. Interior cells copy themselves once; a mirrored or replicated edge cell
    may be copied several times and collects all those gradients; constant cells copy
    nothing, so their gradient is dropped. Folding rows, then columns, does it in two passes.
    """
    t, b, l, r = _four(pads)
    h, w = (int(v) for v in in_hw)
    n, hp, wp, c = dxp.shape
    if (hp, wp) != (h + t + b, w + l + r):
        raise ValueError(f"pad_backward: gradient is {hp}x{wp}, but input {h}x{w} padded by "
                         f"{(t, b, l, r)} is {h + t + b}x{w + l + r}")
    rows = source_index(h, t, b, value)
    cols = source_index(w, l, r, value)
    # fold rows: dxr[:, i] = Σ_{p: rows[p] = i} dxp[:, p]. The interior rows p = t .. t+h-1
    # copy rows 0 .. h-1 once each; then each border row adds onto the row it copied.
    dxr = dxp[:, t:t + h].copy()
    for p in (*range(t), *range(t + h, t + h + b)):
        if rows[p] >= 0:
            dxr[:, rows[p]] += dxp[:, p]
    # fold columns the same way
    dx = dxr[:, :, l:l + w].copy()
    for q in (*range(l), *range(l + w, l + w + r)):
        if cols[q] >= 0:
            dx[:, :, cols[q]] += dxr[:, :, q]
    return dx


def padding_mask(h: int, w: int, pads) -> np.ndarray:
    """Bool (h + top + bottom)×(w + left + right) array, True on the padding border.

    >>> padding_mask(1, 2, (1, 0, 0, 1)).astype(int)
    array([[1, 1, 1],
           [0, 0, 1]])
    """
    t, b, l, r = _four(pads)
    mask = np.ones((h + t + b, w + l + r), dtype=bool)
    mask[t:t + h, l:l + w] = False
    return mask
