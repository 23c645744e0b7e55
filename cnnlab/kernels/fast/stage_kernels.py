"""Numba workers of a fused stage: convolution (+ bias) (+ ReLU) (+ max pooling), per image.

One call handles images lo..hi-1 of a batch, one image at a time, so the column matrix of an
image (``im2col.py`` explains it: row i·OW + j holds the window of output (i, j) in (u, v, c)
order) is a small buffer that stays in cache while BLAS multiplies it and the epilogue
(bias, ReLU, pooling) reads the product. Each call runs without the GIL: the chunk pool
(``pool_threads.py``) runs several calls at once.

The arithmetic is the reference's (``kernels/reference/conv.py``, ``elementwise.py``,
``pool.py``), layer after layer, only regrouped:

    z[n, i, j, f] = Σ_{u,v,c} xp[n, i·sh + u·dh, j·sw + v·dw, c]·w[u, v, c, f] + b[f]
    a = relu(z)  written "a < 0 -> 0, else a" so NaN passes through (np.maximum(z, 0))
    y[n, p, q, f] = max over the window (p·psh + u', q·psw + v') of a; the first maximum wins
                    ties, a NaN beats every number and the first NaN wins (np.max/np.argmax)
    arg[n, p, q, f] = u'·pw + v' (an int8: the winner's place inside its window)

Backward (``conv_*stage_backward``) sends dy back the way the layers would, one image at a
time:

    max pool:  dA[winner] += dy          (overlapping windows add up)
    ReLU:      dZ = dA where z > 0, else 0. At a winner a = y, and a > 0 exactly when z > 0
               (NaN: both false), so the mask needs only y; without pooling it reads a = y.
               (These two steps: ``stage_gradients.py``.)
    conv:      dW += colsᵀ·dZ   db += Σ dZ   dcols = dZ·Wᵀ, scattered back by col2im

Geometry ``geo`` = (fh, fw, sh, sw, dh, dw, oh, ow, relu, ph, pw, psh, psw, poh, pow); ph = 0
means no pooling. Callers check every size in Python first (Numba does not check bounds).
One input channel has its own workers, on filter planes (``stage_planar.py``).

One worker per kind of stage — forward: no pooling, 2×2 pooling at stride 2, any other
pooling; backward: no pooling, pooling windows that tile the map, any other — chosen in
Python (``stages.ConvStage._workers``). Numba compiles every branch of a function whether
it runs or not, and each kind is a few hundred milliseconds of cold compile: a network
compiles the kinds it uses. (Measured on LeNet-5's first step in a new process, with
``numba.core.event`` compile timings: 35 compilations before, 26 after, and about 40% less
CPU time.)
"""
from __future__ import annotations

import numba
import numpy as np

from .blas import matmul
from .copy_runs import copy_run
from .stage_gradients import (_FLAGS, _add_column_sums, _masked_gradient, _pooled_sums,
                              _scattered_gradient, _tiled_gradient)

@numba.njit(nogil=True, cache=True)
def _im2col(xp, n, cols, fh, fw, sh, sw, dh, dw, oh, ow):
    """cols[i·OW + j, (u·FW + v)·C + c] = xp[n, i·sh + u·dh, j·sw + v·dw, c] (one image).

    With dw = 1 a filter row's FW·C values are one contiguous run of the padded image,
    copied by memcpy (``copy_runs.py``); with dilation each tap's C values are copied over
    slices indexed by the bare loop variable (a computed index inside the loop keeps Numba
    from vectorizing it)."""
    hp, wp, c = xp.shape[1], xp.shape[2], xp.shape[3]
    flat = xp[n].reshape(hp * wp * c)
    run = fw * c
    for i in range(oh):
        for u in range(fh):
            row0 = (i * sh + u * dh) * wp * c
            for j in range(ow):
                dst = cols[i * ow + j]
                if dw == 1:
                    copy_run(dst[u * run:], flat[row0 + j * sw * c:], run)
                else:
                    for v in range(fw):
                        s = flat[row0 + (j * sw + v * dw) * c: row0 + (j * sw + v * dw) * c + c]
                        d = dst[(u * fw + v) * c: (u * fw + v) * c + c]
                        for ch in range(c):
                            d[ch] = s[ch]


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _col2im(dcols, dxp, n, fh, fw, sh, sw, dh, dw, oh, ow):
    """dxp[n, i·sh + u·dh, j·sw + v·dw, c] += dcols[i·OW + j, (u·FW + v)·C + c]: the
    transpose of _im2col (windows that overlap add up)."""
    hp, wp, c = dxp.shape[1], dxp.shape[2], dxp.shape[3]
    flat = dxp[n].reshape(hp * wp * c)
    run = fw * c
    for i in range(oh):
        for u in range(fh):
            row0 = (i * sh + u * dh) * wp * c
            for j in range(ow):
                src = dcols[i * ow + j]
                if dw == 1:
                    d = flat[row0 + j * sw * c: row0 + j * sw * c + run]
                    s = src[u * run: u * run + run]
                    for t in range(run):
                        d[t] += s[t]
                else:
                    for v in range(fw):
                        at = row0 + (j * sw + v * dw) * c
                        d = flat[at: at + c]
                        s = src[(u * fw + v) * c: (u * fw + v) * c + c]
                        for ch in range(c):
                            d[ch] += s[ch]


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def fill_bias(out2, b):
    """out2[r, f] = b[f]: the product is then added onto it by BLAS (beta = 1), which gives
    z + b in one rounding without a second pass over z (0.53 against 0.87 ms for the
    product and bias of 128 images of 28×28×16)."""
    rows, nf = out2.shape
    for r in range(rows):
        orow = out2[r]
        for f in range(nf):
            orow[f] = b[f]


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def relu_rows(out2):
    """out2 = relu(out2) in place, written "v < 0 -> 0, else v" so NaN passes through."""
    rows, nf = out2.shape
    zero = out2.dtype.type(0)
    for r in range(rows):
        orow = out2[r]
        for f in range(nf):
            v = orow[f]
            orow[f] = zero if v < zero else v


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _pool_epilogue_2x2(z, b, relu, y, arg, n, ow, poh, pow_):
    """_pool_epilogue for the 2×2 window at stride 2, written out so the compiler keeps
    each filter's running maximum in a register and vectorizes over the filters (measured
    0.64 -> 0.14 ms for 128 images of 28×28×16 values). ReLU is applied to the
    window's maximum (relu is non-decreasing: relu(max v) = max relu(v), NaN included);
    only the winner of an all-nonpositive window can differ from the layers', where the
    output is 0 and the ReLU mask sends no gradient back."""
    nf = z.shape[1]
    zero = z.dtype.type(0)
    for p in range(poh):
        for q in range(pow_):
            r0 = 2 * p * ow + 2 * q
            z00, z01, z10, z11 = z[r0], z[r0 + 1], z[r0 + ow], z[r0 + ow + 1]
            yr = y[n, p, q]
            ar = arg[n, p, q]
            for f in range(nf):
                bf = b[f]
                best = z00[f] + bf
                won = 0
                val = z01[f] + bf
                take = (not (val <= best)) & (best == best)
                best = val if take else best
                won = 1 if take else won
                val = z10[f] + bf
                take = (not (val <= best)) & (best == best)
                best = val if take else best
                won = 2 if take else won
                val = z11[f] + bf
                take = (not (val <= best)) & (best == best)
                best = val if take else best
                won = 3 if take else won
                if relu:
                    best = zero if best < zero else best
                yr[f] = best
                ar[f] = won


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _pool_epilogue(z, b, relu, y, arg, n, ow, ph, pw, psh, psw, poh, pow_, best, where):
    """y[n, p, q, f], arg[n, p, q, f]: max pooling of relu?(z + b), z = (OH·OW)×F, by
    _pool_epilogue_2x2 for the 2×2 window at stride 2, else by _pool_epilogue_any."""
    if ph == 2 and pw == 2 and psh == 2 and psw == 2:
        _pool_epilogue_2x2(z, b, relu, y, arg, n, ow, poh, pow_)
    else:
        _pool_epilogue_any(z, b, relu, y, arg, n, ow, ph, pw, psh, psw, poh, pow_, best,
                           where)


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _pool_epilogue_any(z, b, relu, y, arg, n, ow, ph, pw, psh, psw, poh, pow_, best, where):
    """_pool_epilogue for any window and stride.

    Branch-free: on real data "is this the new maximum?" is a coin toss the CPU mispredicts
    half the time (it cost more than the convolution's product), so each test is computed
    as a boolean with non-short-circuit & and | and used to select, not to jump."""
    nf = z.shape[1]
    zero = z.dtype.type(0)
    for p in range(poh):
        for q in range(pow_):
            r0 = (p * psh) * ow + q * psw
            z0 = z[r0]
            for f in range(nf):
                val = z0[f] + b[f]
                if relu:
                    val = zero if val < zero else val
                best[f] = val
                where[f] = 0
            for u in range(ph):
                for v in range(pw):
                    k = u * pw + v
                    if k == 0:
                        continue
                    zr = z[r0 + u * ow + v]
                    for f in range(nf):
                        val = zr[f] + b[f]
                        if relu:
                            val = zero if val < zero else val
                        cur = best[f]
                        won = where[f]      # loaded on both paths, so the select needs no jump
                        # strict: the first maximum wins ties; NaN beats every number and the
                        # first NaN wins (np.max / np.argmax): "not (val <= cur)" holds when
                        # val > cur or val is NaN, and cur == cur when cur is not NaN (this
                        # form measured 2x faster than (val > cur) | (val != val & ...))
                        take = (not (val <= cur)) & (cur == cur)
                        best[f] = val if take else cur
                        where[f] = k if take else won
            yr = y[n, p, q]
            ar = arg[n, p, q]
            for f in range(nf):
                yr[f] = best[f]
                ar[f] = where[f]


@numba.njit(nogil=True, cache=True)
def conv_stage_forward(xp, wmat, b, lo, hi, geo, y, arg):
    """Forward pass of images lo..hi-1 without pooling (geo's ph = 0): y written in place
    (``arg`` is not used). With pooling: conv_pool2_stage_forward / conv_pool_stage_forward.

    One worker per pooling kind, chosen in Python (``stages.ConvStage``), rather than one
    worker branching on geo at run time: Numba compiles every branch of a function whether
    it runs or not, and a lesson's network uses one kind per stage."""
    fh, fw, sh, sw, dh, dw, oh, ow, relu = geo[0:9]
    k, nf = wmat.shape
    cols = np.empty((oh * ow, k), dtype=xp.dtype)
    for n in range(lo, hi):
        _im2col(xp, n, cols, fh, fw, sh, sw, dh, dw, oh, ow)
        out2 = y[n].reshape(oh * ow, nf)           # the product lands in the output
        fill_bias(out2, b)
        matmul(cols, False, wmat, False, out2, 1.0)          # z = cols·W + b
        if relu:
            relu_rows(out2)


@numba.njit(nogil=True, cache=True)
def conv_pool2_stage_forward(xp, wmat, b, lo, hi, geo, y, arg):
    """Forward pass of images lo..hi-1 with 2×2 max pooling at stride 2: y and arg written
    in place (_pool_epilogue_2x2)."""
    fh, fw, sh, sw, dh, dw, oh, ow, relu = geo[0:9]
    poh, pow_ = geo[13], geo[14]
    k, nf = wmat.shape
    cols = np.empty((oh * ow, k), dtype=xp.dtype)
    z = np.empty((oh * ow, nf), dtype=xp.dtype)
    for n in range(lo, hi):
        _im2col(xp, n, cols, fh, fw, sh, sw, dh, dw, oh, ow)
        matmul(cols, False, wmat, False, z, 0.0)
        _pool_epilogue_2x2(z, b, relu, y, arg, n, ow, poh, pow_)


@numba.njit(nogil=True, cache=True)
def conv_pool_stage_forward(xp, wmat, b, lo, hi, geo, y, arg):
    """Forward pass of images lo..hi-1 with max pooling of any window and stride: y and
    arg written in place (_pool_epilogue_any)."""
    fh, fw, sh, sw, dh, dw, oh, ow, relu, ph, pw, psh, psw, poh, pow_ = geo
    k, nf = wmat.shape
    cols = np.empty((oh * ow, k), dtype=xp.dtype)
    z = np.empty((oh * ow, nf), dtype=xp.dtype)
    best = np.empty(nf, dtype=xp.dtype)
    where = np.empty(nf, dtype=np.int8)
    for n in range(lo, hi):
        _im2col(xp, n, cols, fh, fw, sh, sw, dh, dw, oh, ow)
        matmul(cols, False, wmat, False, z, 0.0)
        _pool_epilogue_any(z, b, relu, y, arg, n, ow, ph, pw, psh, psw, poh, pow_, best,
                           where)


@numba.njit(nogil=True, cache=True)
def conv_stage_backward(xp, wmat, y, arg, dy, lo, hi, geo, dw, db, dxp, input_gradient):
    """Backward pass of images lo..hi-1 without pooling (geo's ph = 0; with pooling:
    conv_pool_stage_backward): adds their dW (K×F) into ``dw`` and their db into ``db``
    (float64), and, when ``input_gradient``, writes their padded input gradient into ``dxp``
    (zeros on entry)."""
    fh, fw, sh, sw, dh, dw_, oh, ow, relu = geo[0:9]
    k, nf = wmat.shape
    cols = np.empty((oh * ow, k), dtype=xp.dtype)
    dz = np.empty((oh * ow, nf), dtype=xp.dtype)
    dcols = np.empty((oh * ow, k), dtype=xp.dtype)
    for n in range(lo, hi):
        if relu:
            _masked_gradient(dy, y, n, relu, dz)
            dzn = dz
        else:
            dzn = dy[n].reshape(oh * ow, nf)                 # dZ is dy itself: no copy
        _add_column_sums(dzn, db)
        _im2col(xp, n, cols, fh, fw, sh, sw, dh, dw_, oh, ow)
        matmul(cols, True, dzn, False, dw, 1.0)              # dW += colsᵀ·dZ
        if input_gradient:
            matmul(dzn, False, wmat, True, dcols, 0.0)       # dcols = dZ·Wᵀ
            _col2im(dcols, dxp, n, fh, fw, sh, sw, dh, dw_, oh, ow)


@numba.njit(nogil=True, cache=True)
def conv_pool_stage_backward(xp, wmat, y, arg, dy, lo, hi, geo, dw, db, dxp, input_gradient):
    """conv_stage_backward with max pooling (geo's ph > 0): dy is the pooled gradient, sent
    back by _scattered_gradient (by conv_tiled_pool_stage_backward where the windows tile
    the map, ``stage_gradients.tiles_exactly``)."""
    fh, fw, sh, sw, dh, dw_, oh, ow, relu, ph, pw, psh, psw = geo[0:13]
    k, nf = wmat.shape
    cols = np.empty((oh * ow, k), dtype=xp.dtype)
    dz = np.empty((oh * ow, nf), dtype=xp.dtype)
    dcols = np.empty((oh * ow, k), dtype=xp.dtype)
    for n in range(lo, hi):
        _scattered_gradient(dy, y, arg, n, relu, ow, ph, pw, psh, psw, dz)
        _pooled_sums(dy, y, n, relu, db)
        _im2col(xp, n, cols, fh, fw, sh, sw, dh, dw_, oh, ow)
        matmul(cols, True, dz, False, dw, 1.0)               # dW += colsᵀ·dZ
        if input_gradient:
            matmul(dz, False, wmat, True, dcols, 0.0)        # dcols = dZ·Wᵀ
            _col2im(dcols, dxp, n, fh, fw, sh, sw, dh, dw_, oh, ow)


@numba.njit(nogil=True, cache=True)
def conv_tiled_pool_stage_backward(xp, wmat, y, arg, dy, lo, hi, geo, dw, db, dxp,
                                   input_gradient):
    """conv_pool_stage_backward where the pooling windows tile the map
    (``stage_gradients.tiles_exactly``): dZ by _tiled_gradient."""
    fh, fw, sh, sw, dh, dw_, oh, ow, relu, ph, pw = geo[0:11]
    k, nf = wmat.shape
    cols = np.empty((oh * ow, k), dtype=xp.dtype)
    dz = np.empty((oh * ow, nf), dtype=xp.dtype)
    dcols = np.empty((oh * ow, k), dtype=xp.dtype)
    for n in range(lo, hi):
        _tiled_gradient(dy, y, arg, n, relu, ow, ph, pw, dz)
        _pooled_sums(dy, y, n, relu, db)
        _im2col(xp, n, cols, fh, fw, sh, sw, dh, dw_, oh, ow)
        matmul(cols, True, dz, False, dw, 1.0)               # dW += colsᵀ·dZ
        if input_gradient:
            matmul(dz, False, wmat, True, dcols, 0.0)        # dcols = dZ·Wᵀ
            _col2im(dcols, dxp, n, fh, fw, sh, sw, dh, dw_, oh, ow)
