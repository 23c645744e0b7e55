"""Workers of a convolution stage with ONE input channel (a first layer on grayscale images).

Same arithmetic as ``stage_kernels.py`` (read it first); only the layout differs. With one
channel the window of output (i, j) is FH·FW values of a single plane, so the column matrix
is built transposed, colsᵀ (K × OH·OW) with colsᵀ[u·FW + v, i·OW + j] = xp[n, i·sh + u·dh,
j·sw + v·dw, 0], from runs along the image's rows (with stride 1 each run is contiguous).

Forward: z = (colsᵀ)ᵀ·W (OH·OW × F), then the channels-last epilogue of stage_kernels.

Backward works on filter planes: dZᵀ (F × OH·OW) puts each filter's map in one contiguous
row, so the scatter of the pooled gradient runs along rows (0.71 vs 0.81 ms per 64 LeNet
images, measured), then

    dW (K × F) += colsᵀ · (dZᵀ)ᵀ        dcolsᵀ (K × OH·OW) = W · dZᵀ, scattered by col2im
"""
from __future__ import annotations

import numba
import numpy as np

from .blas import matmul
from .stage_kernels import (_FLAGS, _add_column_sums, _epilogue, _output_gradient,
                            _pool_epilogue, _pooled_sums, _window_offsets)


@numba.njit(nogil=True, cache=True)
def _im2col_t(xp, n, cols_t, fh, fw, sh, sw, dh, dw, oh, ow):
    """One input channel: cols_t[u·FW + v, i·OW + j] = xp[n, i·sh + u·dh, j·sw + v·dw, 0]."""
    hp, wp = xp.shape[1], xp.shape[2]
    flat = xp[n].reshape(hp * wp)
    for u in range(fh):
        for v in range(fw):
            dst = cols_t[u * fw + v]
            for i in range(oh):
                start = (i * sh + u * dh) * wp + v * dw
                d = dst[i * ow: i * ow + ow]
                if sw == 1:
                    s = flat[start: start + ow]
                    for j in range(ow):
                        d[j] = s[j]
                else:
                    for j in range(ow):
                        d[j] = flat[start + j * sw]


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _col2im_t(dcols_t, dxp, n, fh, fw, sh, sw, dh, dw, oh, ow):
    """One input channel, the transpose of _im2col_t:
    dxp[n, i·sh + u·dh, j·sw + v·dw, 0] += dcols_t[u·FW + v, i·OW + j]."""
    hp, wp = dxp.shape[1], dxp.shape[2]
    flat = dxp[n].reshape(hp * wp)
    for u in range(fh):
        for v in range(fw):
            src = dcols_t[u * fw + v]
            for i in range(oh):
                start = (i * sh + u * dh) * wp + v * dw
                s = src[i * ow: i * ow + ow]
                if sw == 1:
                    d = flat[start: start + ow]
                    for j in range(ow):
                        d[j] += s[j]
                else:
                    for j in range(ow):
                        flat[start + j * sw] += s[j]



@numba.njit(nogil=True, cache=True)
def conv1_stage_forward(xp, wmat, b, lo, hi, geo, y, arg):
    """conv_stage_forward for one input channel (xp N×Hp×Wp×1). The forward pass keeps the
    channels-last product z = colsᵀᵀ·W: pooling on planes (zᵀ) was measured slower here
    (0.8 vs 0.3 ms per 64 LeNet images: its short rows of 14 pooled columns end in a scalar
    remainder loop with data-dependent branches)."""
    fh, fw, sh, sw, dh, dw, oh, ow, relu, ph, pw, psh, psw, poh, pow_ = geo
    k, nf = wmat.shape
    cols_t = np.empty((k, oh * ow), dtype=xp.dtype)
    z = np.empty((oh * ow, nf), dtype=xp.dtype)
    best = np.empty(nf, dtype=xp.dtype)
    where = np.empty(nf, dtype=np.int8)
    for n in range(lo, hi):
        _im2col_t(xp, n, cols_t, fh, fw, sh, sw, dh, dw, oh, ow)
        if ph == 0:
            out2 = y[n].reshape(oh * ow, nf)
            matmul(cols_t, True, wmat, False, out2, 0.0)     # z = colsᵀᵀ·W
            _epilogue(out2, b, relu, out2)
        else:
            matmul(cols_t, True, wmat, False, z, 0.0)
            _pool_epilogue(z, b, relu, y, arg, n, ow, ph, pw, psh, psw, poh, pow_, best,
                           where)


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
def conv1_stage_backward(xp, wmat, y, arg, dy, lo, hi, geo, dw, db, dxp, input_gradient):
    """conv_stage_backward for one input channel. Without pooling dZ stays channels last
    (it is dy itself, or dy masked by the ReLU): dW += colsᵀ·dZ and dcolsᵀ = W·dZᵀ take
    it as it is, with no transposing copy."""
    fh, fw, sh, sw, dh, dw_, oh, ow, relu, ph, pw, psh, psw, poh, pow_ = geo
    k, nf = wmat.shape
    cols_t = np.empty((k, oh * ow), dtype=xp.dtype)
    dzt = np.empty((nf, oh * ow), dtype=xp.dtype)
    dz = np.empty((oh * ow, nf), dtype=xp.dtype)
    dcols_t = np.empty((k, oh * ow), dtype=xp.dtype)
    for n in range(lo, hi):
        _im2col_t(xp, n, cols_t, fh, fw, sh, sw, dh, dw_, oh, ow)
        if ph == 0:
            if relu:
                _output_gradient(dy, y, arg, n, relu, ow, ph, pw, psh, psw, dz)
                dzn = dz
            else:
                dzn = dy[n].reshape(oh * ow, nf)
            _add_column_sums(dzn, db)
            matmul(cols_t, False, dzn, False, dw, 1.0)       # dW += colsᵀ·dZ
            if input_gradient:
                matmul(wmat, False, dzn, True, dcols_t, 0.0)  # dcolsᵀ = W·dZᵀ
                _col2im_t(dcols_t, dxp, n, fh, fw, sh, sw, dh, dw_, oh, ow)
            continue
        _planar_output_gradient(dy, y, arg, n, relu, ow, ph, pw, psh, psw, dzt)
        _pooled_sums(dy, y, n, relu, db)
        matmul(cols_t, False, dzt, True, dw, 1.0)            # dW += colsᵀ·dZᵀᵀ
        if input_gradient:
            matmul(wmat, False, dzt, False, dcols_t, 0.0)    # dcolsᵀ = W·dZᵀ
            _col2im_t(dcols_t, dxp, n, fh, fw, sh, sw, dh, dw_, oh, ow)
