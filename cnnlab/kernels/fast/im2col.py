"""im2col and col2im: the gather and scatter that turn a convolution into a matrix product.

For an output position (n, i, j) the filter reads the window

    xp[n, i·sh + u·dh, j·sw + v·dw, c0 + c]     u < FH, v < FW, c < Cg

``im2col`` copies that window into row (n·OH + i)·OW + j of a matrix ``cols`` with columns in
(u, v, c) order — the order of ``w.reshape(FH·FW·Cg, F)`` for weights FH×FW×Cg×F — so the
whole convolution is ``cols @ w.reshape(-1, F)``. ``col2im`` is its transpose: it adds each
row back onto the window it came from (overlapping windows add up), which is what both the
input gradient of a convolution and the forward pass of a transposed convolution need.

Compare with ``kernels/reference/conv.py``: the same window, one output position at a time.
Loops run in parallel over images (each image's rows and cells belong to one thread, so the
scatter needs no locks). Callers validate shapes first: Numba does not check bounds.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(parallel=True, cache=True)
def im2col(xp, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg):
    n_img = xp.shape[0]
    cols = np.empty((n_img * oh * ow, fh * fw * cg), dtype=xp.dtype)
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                k = 0
                for u in range(fh):
                    r = i * sh + u * dh
                    for v in range(fw):
                        q = j * sw + v * dw
                        for c in range(cg):
                            cols[row, k] = xp[n, r, q, c0 + c]
                            k += 1
    return cols


@numba.njit(parallel=True, cache=True)
def col2im(cols, out, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg):
    """out[n, i·sh + u·dh, j·sw + v·dw, c0 + c] += cols[row(n, i, j), (u, v, c)]; in place."""
    n_img = out.shape[0]
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                k = 0
                for u in range(fh):
                    r = i * sh + u * dh
                    for v in range(fw):
                        q = j * sw + v * dw
                        for c in range(cg):
                            out[n, r, q, c0 + c] += cols[row, k]
                            k += 1


@numba.njit(parallel=True, cache=True)
def im2col_single_channel(xp, fh, fw, sh, sw, dh, dw, oh, ow, c0):
    """The transposed column matrix for ONE input channel c0: (FH·FW)×(N·OH·OW).

    Row u·FW + v holds xp[n, i·sh + u·dh, j·sw + v·dw, c0] for every output position. With
    one channel the NHWC window rows are too short to copy well; read this way, each row of
    the result is filled by runs along the image's width (contiguous when C = 1 and sw = 1),
    which is about twice as fast for a first layer on grayscale images. The convolution is
    then ``colsᵀ · W``, a product BLAS takes transposed without a copy.
    """
    n_img = xp.shape[0]
    cols = np.empty((fh * fw, n_img * oh * ow), dtype=xp.dtype)
    for k in numba.prange(fh * fw):
        u, v = k // fw, k % fw
        for n in range(n_img):
            for i in range(oh):
                base = (n * oh + i) * ow
                r = i * sh + u * dh
                for j in range(ow):
                    cols[k, base + j] = xp[n, r, j * sw + v * dw, c0]
    return cols
