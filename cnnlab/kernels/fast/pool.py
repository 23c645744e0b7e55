"""Fast pooling kernels: the reference loops (``kernels/reference/pool.py``) compiled by Numba.

Pooling has no arithmetic to hand to BLAS: it is a pass over memory, which Numba already
does faster than PyTorch's CPU build (PERFORMANCE-NOTES.md). Serial nogil loops over images
lo..hi-1, run over chunks of images on the chunk pool (``chunked.py``); each image's outputs
and input gradient cells belong to one chunk.
Conventions kept from the reference: argmax = row·Wp + col of the first maximum in
row-major window order (a NaN counts as the maximum, so it propagates); average pooling
divides by the full window area ph·pw.
"""
from __future__ import annotations

import numba
import numpy as np

from .chunked import run_chunks


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


@numba.njit(nogil=True, cache=True)
def _max_forward(xp, ph, pw, sh, sw, y, arg, lo, hi):
    """y, arg of images lo..hi-1. The window is visited cell by cell in row-major order with
    every channel of a cell at once (the innermost loop runs along contiguous channels and
    vectorizes); each channel still sees its cells in the reference's order, so the strict
    comparison keeps the first maximum."""
    _, oh, ow, nc = y.shape
    wp = xp.shape[2]
    for n in range(lo, hi):
        for i in range(oh):
            for j in range(ow):
                r0, q0 = i * sh, j * sw
                best, where = y[n, i, j], arg[n, i, j]
                first = xp[n, r0, q0]
                for c in range(nc):
                    best[c] = first[c]
                    where[c] = r0 * wp + q0
                for u in range(ph):
                    for v in range(pw):
                        cell = xp[n, r0 + u, q0 + v]
                        at = (r0 + u) * wp + q0 + v
                        for c in range(nc):
                            val = cell[c]
                            if val > best[c]:          # strict: the first maximum wins ties
                                best[c] = val
                                where[c] = at


@numba.njit(nogil=True, cache=True)
def _max_forward_nan(xp, ph, pw, sh, sw, y, arg, lo, hi):
    """_max_forward for an input with NaN: a NaN beats every number and the first NaN of a
    window wins, as np.max / np.argmax and torch's max pooling do. The extra test costs 3x,
    so it runs only when the input has a NaN (compiled only then)."""
    _, oh, ow, nc = y.shape
    wp = xp.shape[2]
    for n in range(lo, hi):
        for i in range(oh):
            for j in range(ow):
                r0, q0 = i * sh, j * sw
                best, where = y[n, i, j], arg[n, i, j]
                first = xp[n, r0, q0]
                for c in range(nc):
                    best[c] = first[c]
                    where[c] = r0 * wp + q0
                for u in range(ph):
                    for v in range(pw):
                        cell = xp[n, r0 + u, q0 + v]
                        at = (r0 + u) * wp + q0 + v
                        for c in range(nc):
                            val, b = cell[c], best[c]
                            # strict: the first maximum wins ties; NaN beats every number
                            # and the first NaN wins (np.argmax / np.max, torch's max pool)
                            if val > b or (val != val and b == b):
                                best[c] = val
                                where[c] = at


@numba.njit(nogil=True, cache=True)
def _max_backward(dy, arg, dxp, lo, hi):
    """dxp[n, winner] += dy for images lo..hi-1 (a cell that wins several windows adds up)."""
    _, oh, ow, nc = dy.shape
    wp = dxp.shape[2]
    for n in range(lo, hi):
        for i in range(oh):
            for j in range(ow):
                g, k = dy[n, i, j], arg[n, i, j]
                for c in range(nc):
                    dxp[n, k[c] // wp, k[c] % wp, c] += g[c]


@numba.njit(nogil=True, cache=True)
def _avg_forward(xp, ph, pw, sh, sw, y, lo, hi):
    """y = (sum of the window, cell by cell in row-major order) / (ph·pw), images lo..hi-1."""
    _, oh, ow, nc = y.shape
    area = xp.dtype.type(ph * pw)
    for n in range(lo, hi):
        for i in range(oh):
            for j in range(ow):
                acc = y[n, i, j]
                for c in range(nc):
                    acc[c] = 0
                for u in range(ph):
                    for v in range(pw):
                        cell = xp[n, i * sh + u, j * sw + v]
                        for c in range(nc):
                            acc[c] += cell[c]
                for c in range(nc):
                    acc[c] /= area


@numba.njit(nogil=True, cache=True)
def _avg_backward(dy, dxp, ph, pw, sh, sw, lo, hi):
    """dxp[n, window] += dy / (ph·pw) for images lo..hi-1."""
    _, oh, ow, nc = dy.shape
    area = dy.dtype.type(ph * pw)
    for n in range(lo, hi):
        for i in range(oh):
            for j in range(ow):
                g = dy[n, i, j]
                for u in range(ph):
                    for v in range(pw):
                        cell = dxp[n, i * sh + u, j * sw + v]
                        for c in range(nc):
                            cell[c] += g[c] / area


def maxpool2d_forward(xp, pool, stride):
    """(y, argmax) of max pooling over the padded input xp (see the reference)."""
    xp, oh, ow = _checked(xp, pool, stride)
    # np.min propagates NaN: one cheap pass tells whether the NaN-aware loop is needed
    kernel = _max_forward_nan if xp.size and np.isnan(xp.min()) else _max_forward
    y = np.empty((len(xp), oh, ow, xp.shape[3]), dtype=xp.dtype)
    arg = np.empty(y.shape, dtype=np.int64)
    run_chunks(kernel, len(xp), xp.size, xp, pool[0], pool[1], stride[0], stride[1], y, arg)
    return y, arg


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
    run_chunks(_max_backward, n, dy.size, dy, argmax, dxp)
    return dxp


def avgpool2d_forward(xp, pool, stride):
    """Average of each window, divided by the full window area ph·pw."""
    xp, oh, ow = _checked(xp, pool, stride)
    y = np.empty((len(xp), oh, ow, xp.shape[3]), dtype=xp.dtype)
    run_chunks(_avg_forward, len(xp), xp.size, xp, pool[0], pool[1], stride[0], stride[1], y)
    return y


def avgpool2d_backward(dy, xp_shape, pool, stride):
    """Each output gradient is shared equally by the ph·pw cells of its window."""
    dy = np.ascontiguousarray(dy)
    (ph, pw), (sh, sw) = pool, stride
    n, hp, wp, c = xp_shape
    oh, ow = (hp - ph) // sh + 1, (wp - pw) // sw + 1
    if dy.shape != (n, oh, ow, c):
        raise ValueError(f"avgpool2d: gradient has shape {dy.shape}, expected {(n, oh, ow, c)}")
    if min(ph, pw, sh, sw) < 1 or ph > hp or pw > wp:
        raise ValueError(f"avgpool2d: pool {pool} and stride {stride} do not fit the padded "
                         f"input {hp}x{wp}")
    dxp = np.zeros(tuple(xp_shape), dtype=dy.dtype)
    run_chunks(_avg_backward, n, dxp.size, dy, dxp, ph, pw, sh, sw)
    return dxp
