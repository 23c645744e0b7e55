"""Fast pooling kernels: the reference loops (``kernels/reference/pool.py``) compiled by Numba.

Pooling has no arithmetic to hand to BLAS: it is a pass over memory, which Numba already
does faster than PyTorch's CPU build (PERFORMANCE-NOTES.md). Parallel over images.
Conventions kept from the reference: argmax = row·Wp + col of the first maximum in
row-major window order (a NaN counts as the maximum, so it propagates); average pooling divides by the full window area ph·pw.
"""
from __future__ import annotations

import numba
import numpy as np


def _checked(xp, pool, stride):
    xp = np.ascontiguousarray(xp)
    if xp.ndim != 4:
        raise ValueError(f"pool2d: input has {xp.ndim} dimensions, expected 4 (N×H×W×C)")
    (ph, pw), (sh, sw) = pool, stride
    if min(ph, pw, sh, sw) < 1:
        raise ValueError(f"pool2d: pool {pool} and stride {stride} must be ≥ 1")
    if ph > xp.shape[1] or pw > xp.shape[2]:
        raise ValueError(f"pool2d: window {ph}x{pw} is larger than the padded input "
                         f"{xp.shape[1]}x{xp.shape[2]}")
    return xp, (xp.shape[1] - ph) // sh + 1, (xp.shape[2] - pw) // sw + 1


@numba.njit(parallel=True, cache=True)
def _max_forward(xp, ph, pw, sh, sw, oh, ow):
    n_img, _, wp, nc = xp.shape
    y = np.empty((n_img, oh, ow, nc), dtype=xp.dtype)
    arg = np.empty((n_img, oh, ow, nc), dtype=np.int64)
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                r0, c0 = i * sh, j * sw
                for c in range(nc):
                    best = xp[n, r0, c0, c]
                    where = r0 * wp + c0
                    for u in range(ph):
                        for v in range(pw):
                            val = xp[n, r0 + u, c0 + v, c]
                            if val > best:          # strict: the first maximum wins ties
                                best = val
                                where = (r0 + u) * wp + c0 + v
                    y[n, i, j, c] = best
                    arg[n, i, j, c] = where
    return y, arg


@numba.njit(parallel=True, cache=True)
def _max_forward_nan(xp, ph, pw, sh, sw, oh, ow):
    """_max_forward for an input with NaN: a NaN beats every number and the first NaN of a
    window wins, as np.max / np.argmax and torch's max pooling do. The extra test costs 3x,
    so it runs only when the input has a NaN (compiled only then)."""
    n_img, _, wp, nc = xp.shape
    y = np.empty((n_img, oh, ow, nc), dtype=xp.dtype)
    arg = np.empty((n_img, oh, ow, nc), dtype=np.int64)
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                r0, c0 = i * sh, j * sw
                for c in range(nc):
                    best = xp[n, r0, c0, c]
                    where = r0 * wp + c0
                    for u in range(ph):
                        for v in range(pw):
                            val = xp[n, r0 + u, c0 + v, c]
                            # strict: the first maximum wins ties; NaN beats every number
                            # and the first NaN wins (np.argmax / np.max, torch's max pool)
                            if val > best or (val != val and best == best):
                                best = val
                                where = (r0 + u) * wp + c0 + v
                    y[n, i, j, c] = best
                    arg[n, i, j, c] = where
    return y, arg


@numba.njit(parallel=True, cache=True)
def _max_backward(dy, arg, dxp):
    n_img, oh, ow, nc = dy.shape
    wp = dxp.shape[2]
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                for c in range(nc):
                    k = arg[n, i, j, c]
                    dxp[n, k // wp, k % wp, c] += dy[n, i, j, c]


@numba.njit(parallel=True, cache=True)
def _avg_forward(xp, ph, pw, sh, sw, oh, ow):
    n_img, _, _, nc = xp.shape
    y = np.zeros((n_img, oh, ow, nc), dtype=xp.dtype)
    area = xp.dtype.type(ph * pw)
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                for u in range(ph):
                    for v in range(pw):
                        for c in range(nc):
                            y[n, i, j, c] += xp[n, i * sh + u, j * sw + v, c]
                for c in range(nc):
                    y[n, i, j, c] /= area
    return y


@numba.njit(parallel=True, cache=True)
def _avg_backward(dy, dxp, ph, pw, sh, sw):
    n_img, oh, ow, nc = dy.shape
    area = dy.dtype.type(ph * pw)
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                for u in range(ph):
                    for v in range(pw):
                        for c in range(nc):
                            dxp[n, i * sh + u, j * sw + v, c] += dy[n, i, j, c] / area


def maxpool2d_forward(xp, pool, stride):
    """(y, argmax) of max pooling over the padded input xp (see the reference)."""
    xp, oh, ow = _checked(xp, pool, stride)
    # np.min propagates NaN: one cheap pass tells whether the NaN-aware loop is needed
    kernel = _max_forward_nan if xp.size and np.isnan(xp.min()) else _max_forward
    return kernel(xp, pool[0], pool[1], stride[0], stride[1], oh, ow)


def maxpool2d_backward(dy, argmax, xp_shape):
    """Each output gradient goes back to the one input that won its window."""
    n, hp, wp, c = xp_shape
    dy = np.ascontiguousarray(dy)
    argmax = np.ascontiguousarray(argmax, dtype=np.int64)
    if dy.shape != argmax.shape or dy.shape[0] != n or dy.shape[3] != c:
        raise ValueError(f"maxpool2d: gradient {dy.shape} and argmax {argmax.shape} do not "
                         f"match the input {tuple(xp_shape)}")
    if argmax.size and (argmax.min() < 0 or argmax.max() >= hp * wp):
        raise ValueError("maxpool2d: argmax points outside the padded input")
    dxp = np.zeros(tuple(xp_shape), dtype=dy.dtype)
    _max_backward(dy, argmax, dxp)
    return dxp


def avgpool2d_forward(xp, pool, stride):
    """Average of each window, divided by the full window area ph·pw."""
    xp, oh, ow = _checked(xp, pool, stride)
    return _avg_forward(xp, pool[0], pool[1], stride[0], stride[1], oh, ow)


def avgpool2d_backward(dy, xp_shape, pool, stride):
    """Each output gradient is shared equally by the ph·pw cells of its window."""
    dy = np.ascontiguousarray(dy)
    (ph, pw), (sh, sw) = pool, stride
    n, hp, wp, c = xp_shape
    oh, ow = (hp - ph) // sh + 1, (wp - pw) // sw + 1
    if dy.shape != (n, oh, ow, c):
        raise ValueError(f"avgpool2d: gradient has shape {dy.shape}, expected {(n, oh, ow, c)}")
    dxp = np.zeros(tuple(xp_shape), dtype=dy.dtype)
    _avg_backward(dy, dxp, ph, pw, sh, sw)
    return dxp
