"""What a convolution stage's backward pass sends back through max pooling and ReLU, per image.

dZ, the gradient of the convolution's output z (OH·OW × F rows, channels last), from dy, the
gradient of the stage's output, as the layers would compute it (``stage_kernels.py`` gives
the whole stage's arithmetic):

    max pool:  dA[winner] += dy          (overlapping windows add up)
    ReLU:      dZ = dA where z > 0, else 0. At a winner a = y, and a > 0 exactly when z > 0
               (NaN: both false), so the mask needs only y; without pooling it reads a = y.

and the bias gradient db = Σ dZ. Three ways, each its own function so that a worker compiles
only the one its stage uses: no pooling (_masked_gradient), windows that tile the map
(_tiled_gradient), any other pooling (_scattered_gradient). The batch-norm stages, which
take whichever pooling comes, call _output_gradient, which picks at run time.
"""
from __future__ import annotations

import numba
import numpy as np
from numba.extending import register_jitable

_FLAGS = {"reassoc", "contract"}      # not fastmath=True: NaN and inf keep their meaning


@numba.njit(nogil=True, cache=True, inline="always")
def _window_offsets(ph, pw, ow):
    """offs[u·pw + v] = u·ow + v: a winner's row offset inside its window, by table (an
    integer division k // pw per cell cost more than the rest of the scatter). Inlined
    into its callers before they are typed: as a function of its own it cost ~0.3 s of
    cold compile (measured 0.28-0.29 s) for four lines of integer arithmetic."""
    offs = np.empty(ph * pw, dtype=np.int64)
    for u in range(ph):
        for v in range(pw):
            offs[u * pw + v] = u * ow + v
    return offs


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _output_gradient(dy, y, arg, n, relu, ow, ph, pw, psh, psw, dz):
    """dZ of image n (see the module): through max pooling (ph > 0) and the ReLU mask."""
    if ph == 0:
        _masked_gradient(dy, y, n, relu, dz)
    else:
        _pooled_gradient(dy, y, arg, n, relu, ow, ph, pw, psh, psw, dz)


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _masked_gradient(dy, y, n, relu, dz):
    """dZ of image n without pooling: dy where the output is positive (with the ReLU)."""
    rows, nf = dz.shape
    zero = dz.dtype.type(0)
    dyn = dy[n].reshape(rows, nf)
    yn = y[n].reshape(rows, nf)
    for r in range(rows):
        for f in range(nf):
            g = dyn[r, f]
            dz[r, f] = g if (not relu or yn[r, f] > zero) else zero


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _pooled_gradient(dy, y, arg, n, relu, ow, ph, pw, psh, psw, dz):
    """dZ of image n through max pooling (ph > 0) and the ReLU mask: _tiled_gradient where
    ``tiles_exactly`` holds, else _scattered_gradient."""
    if tiles_exactly(dz.shape[0] // ow, ow, dz.shape[1], ph, pw, psh, psw):
        _tiled_gradient(dy, y, arg, n, relu, ow, ph, pw, dz)
    else:
        _scattered_gradient(dy, y, arg, n, relu, ow, ph, pw, psh, psw, dz)


@register_jitable
def tiles_exactly(oh, ow, nf, ph, pw, psh, psw):
    """Whether _tiled_gradient is the way to send dy back through this pooling of an
    OH×OW×F map: the windows tile the map exactly (stride = window, no cell left over), so
    every cell of dZ is written once and no zeroing pass is needed. Measured 3x faster than
    the scatter for 16 filters (the select vectorizes over f), 3x slower for 6 (a scalar
    select per cell), hence the filter count test. (Plain Python, also compiled inside
    _pooled_gradient.)"""
    return (nf >= 8 and ph == psh and pw == psw and (oh // ph) * ph == oh
            and (ow // pw) * pw == ow)


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _tiled_gradient(dy, y, arg, n, relu, ow, ph, pw, dz):
    """dZ of image n through max pooling whose windows tile the map (tiles_exactly): each
    cell gets dy of its window where it is the winner (and the ReLU lets it through), else
    0."""
    nf = dz.shape[1]
    zero = dz.dtype.type(0)
    poh, pow_ = dy.shape[1], dy.shape[2]
    for p in range(poh):
        for u in range(ph):
            for q in range(pow_):
                gr = dy[n, p, q]
                yr = y[n, p, q]
                ar = arg[n, p, q]
                for v in range(pw):
                    k = u * pw + v
                    dr = dz[(p * ph + u) * ow + q * pw + v]
                    for f in range(nf):
                        keep = (ar[f] == k) & ((not relu) | (yr[f] > zero))
                        dr[f] = gr[f] if keep else zero


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _scattered_gradient(dy, y, arg, n, relu, ow, ph, pw, psh, psw, dz):
    """dZ of image n through any max pooling: zeros, then each window's dy added onto its
    winner (overlapping windows add up)."""
    nf = dz.shape[1]
    zero = dz.dtype.type(0)
    poh, pow_ = dy.shape[1], dy.shape[2]
    dz[:] = zero
    offs = _window_offsets(ph, pw, ow)
    for p in range(poh):
        for q in range(pow_):
            gr = dy[n, p, q]
            yr = y[n, p, q]
            ar = arg[n, p, q]
            r0 = (p * psh) * ow + q * psw
            for f in range(nf):
                # selects, not branches (a masked winner receives + 0)
                g = gr[f] if ((not relu) | (yr[f] > zero)) else zero
                dz[r0 + offs[ar[f]], f] += g


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _add_column_sums(dz, db):
    rows, nf = dz.shape
    for r in range(rows):
        zr = dz[r]
        for f in range(nf):
            db[f] += zr[f]


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _pooled_sums(dy, y, n, relu, db):
    """db[f] += Σ dZ[:, f] read off the pooled gradient: dZ holds exactly the dy values that
    reached a winner through the ReLU mask (a quarter of the cells of dZ for 2×2 pooling)."""
    nf = dy.shape[3]
    cells = dy.shape[1] * dy.shape[2]
    dyn = dy[n].reshape(cells, nf)
    yn = y[n].reshape(cells, nf)
    zero = dy.dtype.type(0)
    for r in range(cells):
        gr, yr = dyn[r], yn[r]
        for f in range(nf):
            db[f] += gr[f] if ((not relu) or yr[f] > zero) else zero
