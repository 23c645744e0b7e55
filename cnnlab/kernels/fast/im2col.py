"""im2col and col2im: the gather and scatter that turn a convolution into a matrix product.

For an output position (n, i, j) the filter reads the window

    xp[n, i·sh + u·dh, j·sw + v·dw, c0 + c]     u < FH, v < FW, c < Cg

``im2col`` copies that window into row (n·OH + i)·OW + j of a matrix ``cols`` with columns in
(u, v, c) order — the order of ``w.reshape(FH·FW·Cg, F)`` for weights FH×FW×Cg×F — so the
whole convolution is ``cols @ w.reshape(-1, F)``. ``col2im`` is its transpose: it adds each
row back onto the window it came from (overlapping windows add up), which is what both the
input gradient of a convolution and the forward pass of a transposed convolution need.

Compare with ``kernels/reference/conv.py``: the same window, one output position at a time.

How it runs: serial nogil Numba loops over images lo..hi-1 (``im2col_range``, ``col2im_range``,
``planes_range``), dispatched over chunks of images by ``chunked.run_chunks``. Each image's
rows of ``cols`` and cells of ``out`` belong to one chunk, so the scatter needs no locks.

The copies move whole runs: in NHWC the FW·C values of one filter row (u fixed, dw = 1, every
channel) lie next to each other in memory, so one window row is one contiguous run — the
inner loop is FW·C long instead of C (a loop over 1–8 channels is mostly loop overhead). With
dilation, or a channel group narrower than C, the run is the group's Cg channels of one cell.
Every slice is indexed with the bare loop variable: a computed index inside the loop makes
Numba test for negative indices there, which keeps LLVM from vectorizing the copy.

The Python functions check that every index the loops will form is inside the arrays before
any loop runs: Numba does not check bounds.
"""
from __future__ import annotations

import numba
import numpy as np

from .chunked import run_chunks

_FLAGS = {"reassoc", "contract"}      # not fastmath=True: NaN and inf keep their meaning


@numba.njit(nogil=True, cache=True)
def im2col_range(xp, cols, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg, lo, hi):
    """cols[(n·OH + i)·OW + j, (u·FW + v)·Cg + c] = xp[n, i·sh + u·dh, j·sw + v·dw, c0 + c]
    for images lo..hi-1."""
    _, hp, wp, c = xp.shape
    flat = xp.reshape(xp.size)
    if dw == 1 and cg == c:
        run = fw * c                                  # one filter row: one contiguous run
        for n in range(lo, hi):
            for i in range(oh):
                for u in range(fh):
                    row0 = ((n * hp + i * sh + u * dh) * wp) * c
                    for j in range(ow):
                        at = row0 + j * sw * c
                        s = flat[at: at + run]
                        d = cols[(n * oh + i) * ow + j, u * run: u * run + run]
                        for t in range(run):
                            d[t] = s[t]
    else:
        for n in range(lo, hi):
            for i in range(oh):
                for u in range(fh):
                    row0 = ((n * hp + i * sh + u * dh) * wp) * c + c0
                    for j in range(ow):
                        dst = cols[(n * oh + i) * ow + j]
                        for v in range(fw):
                            at = row0 + (j * sw + v * dw) * c
                            s = flat[at: at + cg]
                            k = (u * fw + v) * cg
                            d = dst[k: k + cg]
                            for t in range(cg):
                                d[t] = s[t]


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def col2im_range(cols, out, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg, lo, hi):
    """The transpose of im2col_range, in place, for images lo..hi-1:

    out[n, i·sh + u·dh, j·sw + v·dw, c0 + c] += cols[(n·OH + i)·OW + j, (u·FW + v)·Cg + c]

    Each term is one addition onto its cell (the flags can only vectorize those, not drop
    a NaN or inf)."""
    _, hp, wp, c = out.shape
    flat = out.reshape(out.size)
    if dw == 1 and cg == c:
        run = fw * c
        for n in range(lo, hi):
            for i in range(oh):
                for u in range(fh):
                    row0 = ((n * hp + i * sh + u * dh) * wp) * c
                    for j in range(ow):
                        at = row0 + j * sw * c
                        d = flat[at: at + run]
                        s = cols[(n * oh + i) * ow + j, u * run: u * run + run]
                        for t in range(run):
                            d[t] += s[t]
    else:
        for n in range(lo, hi):
            for i in range(oh):
                for u in range(fh):
                    row0 = ((n * hp + i * sh + u * dh) * wp) * c + c0
                    for j in range(ow):
                        src = cols[(n * oh + i) * ow + j]
                        for v in range(fw):
                            at = row0 + (j * sw + v * dw) * c
                            d = flat[at: at + cg]
                            k = (u * fw + v) * cg
                            s = src[k: k + cg]
                            for t in range(cg):
                                d[t] += s[t]


@numba.njit(nogil=True, cache=True)
def planes_range(xp, cols, fh, fw, sh, sw, dh, dw, oh, ow, c0, lo, hi):
    """cols[u·FW + v, (n·OH + i)·OW + j] = xp[n, i·sh + u·dh, j·sw + v·dw, c0] for images
    lo..hi-1: one output row of an image is read as a strided slice (step sw·C) of one input
    row, and written as a contiguous run of OW values."""
    _, hp, wp, c = xp.shape
    flat = xp.reshape(xp.size)
    step = sw * c
    for k in range(fh * fw):
        u, v = k // fw, k % fw
        crow = cols[k]
        for n in range(lo, hi):
            for i in range(oh):
                at = ((n * hp + i * sh + u * dh) * wp + v * dw) * c + c0
                s = flat[at: at + (ow - 1) * step + 1: step]
                base = (n * oh + i) * ow
                d = crow[base: base + ow]
                for j in range(ow):
                    d[j] = s[j]


def check_window(name, a, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg):
    """Every index the loops form lies inside ``a`` (N×Hp×Wp×C, C-contiguous)."""
    if a.ndim != 4 or not a.flags.c_contiguous or a.dtype not in (np.float32, np.float64):
        raise ValueError(f"{name}: expected a C-contiguous float32/float64 N×H×W×C array, got "
                         f"shape {a.shape}, dtype {a.dtype}, contiguous {a.flags.c_contiguous}")
    _, hp, wp, c = a.shape
    if min(fh, fw, sh, sw, dh, dw) < 1 or min(oh, ow, cg) < 1 or c0 < 0:
        raise ValueError(f"{name}: filter {fh}x{fw}, stride {sh}x{sw}, dilation {dh}x{dw}, "
                         f"output {oh}x{ow}, channels {c0}+{cg}: each must be ≥ 1 (c0 ≥ 0)")
    last_row, last_col = (oh - 1) * sh + (fh - 1) * dh, (ow - 1) * sw + (fw - 1) * dw
    if last_row >= hp or last_col >= wp:
        raise ValueError(f"{name}: the last window ends at row (oh-1)·sh + (fh-1)·dh = "
                         f"{last_row} and column (ow-1)·sw + (fw-1)·dw = {last_col}, outside "
                         f"the {hp}x{wp} input")
    if c0 + cg > c:
        raise ValueError(f"{name}: channels {c0}..{c0 + cg - 1} of a {c}-channel input")


def im2col(xp, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg):
    """The column matrix (N·OH·OW)×(FH·FW·Cg) of channels c0..c0+cg-1 of xp."""
    check_window("im2col", xp, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg)
    n = xp.shape[0]
    cols = np.empty((n * oh * ow, fh * fw * cg), dtype=xp.dtype)
    run_chunks(im2col_range, n, cols.size, xp, cols, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg)
    return cols


def col2im(cols, out, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg):
    """out[n, i·sh + u·dh, j·sw + v·dw, c0 + c] += cols[row(n, i, j), (u, v, c)]; in place."""
    check_window("col2im", out, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg)
    n = out.shape[0]
    shape = (n * oh * ow, fh * fw * cg)
    if (cols.shape != shape or not cols.flags.c_contiguous or cols.dtype != out.dtype):
        raise ValueError(f"col2im: columns have shape {cols.shape} ({cols.dtype}), expected a "
                         f"C-contiguous {shape} array of {out.dtype}")
    run_chunks(col2im_range, n, cols.size, cols, out, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg)


def im2col_single_channel(xp, fh, fw, sh, sw, dh, dw, oh, ow, c0):
    """The transposed column matrix for ONE input channel c0: (FH·FW)×(N·OH·OW).

    Row u·FW + v holds xp[n, i·sh + u·dh, j·sw + v·dw, c0] for every output position. With
    one channel the NHWC window rows are too short to copy well; read this way, each row of
    the result is filled by runs along the image's width (contiguous when C = 1 and sw = 1),
    which is about twice as fast for a first layer on grayscale images. The convolution is
    then ``colsᵀ · W``, a product BLAS takes transposed without a copy.
    """
    check_window("im2col", xp, fh, fw, sh, sw, dh, dw, oh, ow, c0, 1)
    n = xp.shape[0]
    cols = np.empty((fh * fw, n * oh * ow), dtype=xp.dtype)
    run_chunks(planes_range, n, cols.size, xp, cols, fh, fw, sh, sw, dh, dw, oh, ow, c0)
    return cols
