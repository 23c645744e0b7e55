"""Workers of a convolution stage with ONE input channel (a first layer on grayscale images).

Same arithmetic as ``stage_kernels.py`` (read it first); only the layout differs. With one
channel the window of output (i, j) is FH·FW values of a single plane, so the column matrix
is built transposed, colsᵀ (K × OH·OW) with colsᵀ[u·FW + v, i·OW + j] = xp[n, i·sh + u·dh,
j·sw + v·dw, 0], from runs along the image's rows (with stride 1 each run is contiguous).

With pooling both passes work on filter planes, zᵀ = Wᵀ·colsᵀ (F × OH·OW): each filter's
map is one contiguous row, the pooling of a plane keeps its running maximum in registers,
and the scatter of the pooled gradient into dZᵀ runs along rows (measured on LeNet-5's
conv1, 64 images: forward 0.51 vs 0.94 ms, backward 0.71 vs 0.81 ms channels last).
Backward computes dW (K × F) += colsᵀ · (dZᵀ)ᵀ and db only: the input gradient of a
one-channel stage is the channels-last workers' (see conv1_stage_backward).
"""
from __future__ import annotations

import numba
import numpy as np

from .blas import matmul
from .copy_runs import copy_run
from .stage_gradients import (_FLAGS, _add_column_sums, _masked_gradient, _pooled_sums,
                              _window_offsets)
from .stage_kernels import fill_bias, relu_rows


@numba.njit(nogil=True, cache=True)
def _im2col_t(xp, n, cols_t, fh, fw, sh, sw, dh, dw, oh, ow):
    """One input channel: cols_t[u·FW + v, i·OW + j] = xp[n, i·sh + u·dh, j·sw + v·dw, 0].
    With sw = 1 each output row's OW values are one contiguous run of the padded image,
    copied by memcpy (``copy_runs.py``)."""
    hp, wp = xp.shape[1], xp.shape[2]
    flat = xp[n].reshape(hp * wp)
    for u in range(fh):
        for v in range(fw):
            dst = cols_t[u * fw + v]
            for i in range(oh):
                start = (i * sh + u * dh) * wp + v * dw
                if sw == 1:
                    copy_run(dst[i * ow:], flat[start:], ow)
                else:
                    d = dst[i * ow: i * ow + ow]
                    for j in range(ow):
                        d[j] = flat[start + j * sw]


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _planar_pool(zt, b, relu, y, arg, n, ow, ph, pw, psh, psw, poh, pow_, row_y, row_arg):
    """y[n, p, q, f], arg[n, p, q, f]: max pooling of relu?(zt[f] + b[f]) on filter planes.

    One window at a time, its running maximum and winner in scalar locals; the comparison
    rule is stage_kernels._pool_epilogue's (first maximum wins, NaN beats numbers, first
    NaN wins), and ReLU is applied to the window's maximum: relu is non-decreasing, so
    relu(max v) = max relu(v), NaN included. Where all of a window is ≤ 0 its winner may
    differ from the layers' (whose ReLU made the whole window 0), but the output is 0 and
    the ReLU mask sends no gradient back through it, so every result is the same."""
    nf = zt.shape[0]
    zero = zt.dtype.type(0)
    for f in range(nf):
        bf = b[f]
        plane = zt[f]
        for p in range(poh):
            for q in range(pow_):
                r0 = p * psh * ow + q * psw
                best = plane[r0] + bf
                won = 0
                for u in range(ph):
                    for v in range(pw):
                        val = plane[r0 + u * ow + v] + bf
                        take = (not (val <= best)) & (best == best)
                        best = val if take else best
                        won = (u * pw + v) if take else won
                if relu:
                    best = zero if best < zero else best
                row_y[q] = best
                row_arg[q] = won
            yp = y[n, p]
            ap = arg[n, p]
            for q in range(pow_):
                yp[q, f] = row_y[q]
                ap[q, f] = row_arg[q]


#: pooled columns per round of _planar_pool_2x2. A loop of a fixed 16 rounds vectorizes
#: (one AVX-512 register of float32, two of AVX2); a loop over the row's own width did not:
#: LeNet-5's 14 windows to a row are fewer than the vectorized loop's rounds, so all of
#: them ran scalar (measured: 204 against 71 µs for the pooling of 64 images)
BLOCK = 16


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _planar_pool_2x2(zbuf, rows, b, relu, y, arg, n, ow, poh, pow_, row_y, row_arg):
    """_planar_pool for the 2×2 window at stride 2, written out: with the window's size
    known the four comparisons stay in registers.

    Plane f of zᵀ is zbuf[f·rows : (f + 1)·rows] (rows = OH·OW), and zbuf has at least
    2·BLOCK values after the last plane. Each output row is taken BLOCK windows at a time
    whatever its width: the windows past the row's end read values of the next rows (or
    of the spare tail, for the last row of the last plane: window (p, q) reads up to
    index f·rows + (2p + 1)·OW + 2q + 1, and 2·POH ≤ OH, 2·POW ≤ OW) and their results
    are never stored. row_y, row_arg hold BLOCK values."""
    zero = zbuf.dtype.type(0)
    for f in range(b.shape[0]):
        bf = b[f]
        for p in range(poh):
            yp = y[n, p]
            ap = arg[n, p]
            for q0 in range(0, pow_, BLOCK):
                top = f * rows + 2 * p * ow + 2 * q0      # the window's top-left value
                bottom = top + ow
                for q in range(BLOCK):
                    best = zbuf[top + 2 * q] + bf
                    won = np.int8(0)
                    val = zbuf[top + 2 * q + 1] + bf
                    take = (not (val <= best)) & (best == best)
                    best = val if take else best
                    won = np.int8(1) if take else won
                    val = zbuf[bottom + 2 * q] + bf
                    take = (not (val <= best)) & (best == best)
                    best = val if take else best
                    won = np.int8(2) if take else won
                    val = zbuf[bottom + 2 * q + 1] + bf
                    take = (not (val <= best)) & (best == best)
                    best = val if take else best
                    won = np.int8(3) if take else won
                    if relu:
                        best = zero if best < zero else best
                    row_y[q] = best
                    row_arg[q] = won
                for q in range(min(BLOCK, pow_ - q0)):
                    yp[q0 + q, f] = row_y[q]
                    ap[q0 + q, f] = row_arg[q]


@numba.njit(nogil=True, cache=True)
def conv1_stage_forward(xp, wmat, b, lo, hi, geo, y, arg):
    """conv_stage_forward for one input channel (xp N×Hp×Wp×1), without pooling (geo's ph
    = 0): z = (colsᵀ)ᵀ·W lands channels last in y. With pooling: conv1_pool2_stage_forward,
    conv1_pool_stage_forward (one worker per pooling kind, as in stage_kernels)."""
    fh, fw, sh, sw, dh, dw, oh, ow, relu = geo[0:9]
    k, nf = wmat.shape
    cols_t = np.empty((k, oh * ow), dtype=xp.dtype)
    for n in range(lo, hi):
        _im2col_t(xp, n, cols_t, fh, fw, sh, sw, dh, dw, oh, ow)
        out2 = y[n].reshape(oh * ow, nf)
        fill_bias(out2, b)
        matmul(cols_t, True, wmat, False, out2, 1.0)         # z = (colsᵀ)ᵀ·W + b
        if relu:
            relu_rows(out2)


@numba.njit(nogil=True, cache=True)
def conv1_pool2_stage_forward(xp, wmat, b, lo, hi, geo, y, arg):
    """conv1_stage_forward with 2×2 max pooling at stride 2: the product is taken on filter
    planes, zᵀ = Wᵀ·colsᵀ, and pooled by _planar_pool_2x2 (which reads past the planes:
    their buffer has a spare tail, zeros)."""
    fh, fw, sh, sw, dh, dw, oh, ow, relu = geo[0:9]
    poh, pow_ = geo[13], geo[14]
    k, nf = wmat.shape
    rows = oh * ow
    cols_t = np.empty((k, rows), dtype=xp.dtype)
    zbuf = np.zeros(nf * rows + 2 * BLOCK, dtype=xp.dtype)
    zt = zbuf[:nf * rows].reshape((nf, rows))
    row_y = np.empty(BLOCK, dtype=xp.dtype)
    row_arg = np.empty(BLOCK, dtype=np.int8)
    for n in range(lo, hi):
        _im2col_t(xp, n, cols_t, fh, fw, sh, sw, dh, dw, oh, ow)
        matmul(wmat, True, cols_t, False, zt, 0.0)           # zᵀ = Wᵀ·colsᵀ
        _planar_pool_2x2(zbuf, rows, b, relu, y, arg, n, ow, poh, pow_, row_y, row_arg)


@numba.njit(nogil=True, cache=True)
def conv1_pool_stage_forward(xp, wmat, b, lo, hi, geo, y, arg):
    """conv1_pool2_stage_forward for any pooling window and stride (_planar_pool)."""
    fh, fw, sh, sw, dh, dw, oh, ow, relu, ph, pw, psh, psw, poh, pow_ = geo
    k, nf = wmat.shape
    cols_t = np.empty((k, oh * ow), dtype=xp.dtype)
    zt = np.empty((nf, oh * ow), dtype=xp.dtype)
    row_y = np.empty(max(pow_, 1), dtype=xp.dtype)
    row_arg = np.empty(max(pow_, 1), dtype=np.int8)
    for n in range(lo, hi):
        _im2col_t(xp, n, cols_t, fh, fw, sh, sw, dh, dw, oh, ow)
        matmul(wmat, True, cols_t, False, zt, 0.0)           # zᵀ = Wᵀ·colsᵀ
        _planar_pool(zt, b, relu, y, arg, n, ow, ph, pw, psh, psw, poh, pow_, row_y,
                     row_arg)


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _planar_output_gradient(dy, y, arg, n, relu, ow, ph, pw, psh, psw, dzt):
    """dZᵀ of image n (F × OH·OW): through max pooling (ph > 0) and the ReLU mask, as
    stage_kernels._output_gradient does on channels-last rows."""
    nf, rows = dzt.shape
    zero = dzt.dtype.type(0)
    dzt[:] = zero
    poh, pow_ = dy.shape[1], dy.shape[2]
    offs = _window_offsets(ph, pw, ow)
    for f in range(nf):
        plane = dzt[f]
        for p in range(poh):
            for q in range(pow_):
                g = dy[n, p, q, f] if ((not relu) | (y[n, p, q, f] > zero)) else zero
                plane[(p * psh) * ow + q * psw + offs[arg[n, p, q, f]]] += g


@numba.njit(nogil=True, cache=True)
def conv1_stage_backward(xp, wmat, y, arg, dy, lo, hi, geo, dw, db):
    """dW and db of conv_stage_backward for one input channel, without pooling (geo's ph =
    0; with pooling: conv1_pool_stage_backward). dZ stays channels last (it is dy itself,
    or dy masked by the ReLU): dW += colsᵀ·dZ takes it as it is, with no transposing copy.

    The one-channel workers compute no input gradient: a one-channel convolution is almost
    always a network's first layer, whose input gradient training does not need. When it
    is asked for (a gradient with respect to the image), the stage runs the channels-last
    worker (``stage_kernels``), which computes the same for any number of channels, so
    these workers compile no col2im path that a training step never runs."""
    fh, fw, sh, sw, dh, dw_, oh, ow, relu = geo[0:9]
    k, nf = wmat.shape
    cols_t = np.empty((k, oh * ow), dtype=xp.dtype)
    dz = np.empty((oh * ow, nf), dtype=xp.dtype)
    for n in range(lo, hi):
        _im2col_t(xp, n, cols_t, fh, fw, sh, sw, dh, dw_, oh, ow)
        if relu:
            _masked_gradient(dy, y, n, relu, dz)
            dzn = dz
        else:
            dzn = dy[n].reshape(oh * ow, nf)
        _add_column_sums(dzn, db)
        matmul(cols_t, False, dzn, False, dw, 1.0)           # dW += colsᵀ·dZ


@numba.njit(nogil=True, cache=True)
def conv1_pool_stage_backward(xp, wmat, y, arg, dy, lo, hi, geo, dw, db):
    """conv1_stage_backward with max pooling (geo's ph > 0), on filter planes:
    dW += colsᵀ·(dZᵀ)ᵀ."""
    fh, fw, sh, sw, dh, dw_, oh, ow, relu, ph, pw, psh, psw = geo[0:13]
    k, nf = wmat.shape
    cols_t = np.empty((k, oh * ow), dtype=xp.dtype)
    dzt = np.empty((nf, oh * ow), dtype=xp.dtype)
    for n in range(lo, hi):
        _im2col_t(xp, n, cols_t, fh, fw, sh, sw, dh, dw_, oh, ow)
        _planar_output_gradient(dy, y, arg, n, relu, ow, ph, pw, psh, psw, dzt)
        _pooled_sums(dy, y, n, relu, db)
        matmul(cols_t, False, dzt, True, dw, 1.0)            # dW += colsᵀ·dZᵀᵀ
