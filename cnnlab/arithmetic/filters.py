"""Where a filter's taps sit (dilation) and which input channels it reads (groups).

Dilation D spreads the K taps of a filter D apart along an axis, so the filter spans the
effective size (K - 1)·D + 1 (``effective_filter_size``) with D - 1 holes between
neighbouring taps::

    tap u sits at position u·D,  u = 0, ..., K - 1

Groups G split the C input channels and the F filters into G equal groups; filter f belongs
to group g = floor(f / (F / G)) and reads the Cg = C / G channels of that group::

    channels of filter f = g·Cg, g·Cg + 1, ..., (g + 1)·Cg - 1

The layers (``Convolution2D.effective_weights``), the trace (``ConvolutionRecord``, window
steps) and the pictures (``viz.filters``) all read these two rules here.

>>> group_channels(5, num_filters=6, groups=3, channels_per_group=2)
(4, 5)
>>> dilated_taps((2, 3), (2, 1)).astype(int).tolist()
[[1, 1, 1], [0, 0, 0], [1, 1, 1]]
"""
from __future__ import annotations

import numpy as np

from .checks import positive_int
from .sizes import effective_filter_size


def effective_filter_hw(filter_hw, dilation_hw=(1, 1)) -> tuple[int, int]:
    """((FH - 1)·dh + 1, (FW - 1)·dw + 1): the span of a dilated 2-D filter.

    >>> effective_filter_hw((3, 2), (2, 3))
    (5, 4)
    """
    return tuple(effective_filter_size(k, d).value for k, d in zip(filter_hw, dilation_hw))


def dilated_taps(filter_hw, dilation_hw=(1, 1)) -> np.ndarray:
    """The effective-size bool mask that is True where a tap sits (u·dh, v·dw) and False
    in the holes between taps.

    >>> dilated_taps((2, 2), (3, 1)).astype(int).tolist()
    [[1, 1], [0, 0], [0, 0], [1, 1]]
    """
    (dh, dw) = dilation_hw
    taps = np.zeros(effective_filter_hw(filter_hw, dilation_hw), dtype=bool)
    taps[::dh, ::dw] = True
    return taps


def dilate(weights: np.ndarray, dilation_hw=(1, 1)) -> np.ndarray:
    """A FH×FW×... filter bank with dh - 1 (dw - 1) zero rows (columns) put between
    neighbouring taps: the (FH - 1)·dh + 1 × (FW - 1)·dw + 1 × ... bank the dilated
    convolution slides.

    >>> dilate(np.array([[1, 2], [3, 4]]), (2, 2))
    array([[1, 0, 2],
           [0, 0, 0],
           [3, 0, 4]])
    """
    w = np.asarray(weights)
    taps = dilated_taps(w.shape[:2], dilation_hw)
    out = np.zeros(taps.shape + w.shape[2:], dtype=w.dtype)
    out[taps] = w.reshape((-1,) + w.shape[2:])        # row-major: tap (u, v) to (u·dh, v·dw)
    return out


def window_taps(stride_hw, dilation_hw, filter_hw, row: int, col: int):
    """The input rows and columns (of the padded input) that output (row, col) reads:
    row·sh + u·dh for the taps u = 0, ..., FH - 1, and col·sw + v·dw for v = 0, ..., FW - 1.

    >>> [a.tolist() for a in window_taps((2, 2), (2, 1), (3, 2), 1, 0)]
    [[2, 4, 6], [0, 1]]
    """
    (sh, sw), (dh, dw), (fh, fw) = stride_hw, dilation_hw, filter_hw
    return row * sh + dh * np.arange(fh), col * sw + dw * np.arange(fw)


def group_channels(f: int, *, num_filters: int, groups: int,
                   channels_per_group: int) -> tuple[int, ...]:
    """The input channels filter ``f`` reads: those of its group g = floor(f / (F / G)),
    g·Cg .. (g + 1)·Cg - 1 (all channels when G = 1).

    >>> group_channels(3, num_filters=4, groups=2, channels_per_group=3)   # group 1 of 2
    (3, 4, 5)
    >>> group_channels(3, num_filters=4, groups=1, channels_per_group=6)
    (0, 1, 2, 3, 4, 5)
    """
    func = "group_channels"
    nf = positive_int(func, "num_filters", num_filters)
    g_count = positive_int(func, "groups", groups)
    cg = positive_int(func, "channels_per_group", channels_per_group)
    if nf % g_count:
        raise ValueError(f"{func}: groups = {g_count}: {g_count} does not divide num_filters = "
                         f"{nf}")
    if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or not 0 <= f < nf:
        raise ValueError(f"{func}: filter = {f!r}: must be an integer in 0..{nf - 1}")
    g = int(f) // (nf // g_count)
    return tuple(range(g * cg, (g + 1) * cg))
