"""Numba workers of a batch-norm stage: batch normalization (+ ReLU) (+ max pooling).

The arithmetic is ``kernels/reference/norm.py`` (batch normalization, its derivation) then
ReLU and max pooling as in ``stage_kernels.py``, per image, without the GIL. A batch norm
in training mode divides by statistics of the whole batch, so a stage cannot finish one
image before it has seen every image: the forward pass is three dispatches over the chunks
of the batch, each waiting for the one before (PERFORMANCE-NOTES.md, "a second dispatch per
BN stage"):

    1. partial Σx per chunk and channel (float64)          -> mean = Σx / M
    2. partial Σ(x − mean)² per chunk and channel (float64) -> var (biased, divides by M)
    3. xhat = (x − mean)·(1/sqrt(var + eps)), y = gamma·xhat + beta, then ReLU and pooling

(in prediction mode only 3, with the trained statistics). The backward pass is two: the
output gradient dY of the normalization (through pooling and ReLU) with the partial sums
dbeta = Σ dY and dgamma = Σ dY·xhat, then dx = gamma/(M·σ)·(M·dY − dbeta − xhat·dgamma) in
training, dx = dY·gamma/σ in prediction mode.
"""
from __future__ import annotations

import numba
import numpy as np

from .stage_kernels import _FLAGS, _epilogue, _output_gradient, _pool_epilogue


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def bn_partial_sums(x, lo, hi, s1):
    """s1[c] += Σ x[n, :, :, c] over images lo..hi-1 (float64)."""
    nc = x.shape[3]
    rows = x.shape[1] * x.shape[2]
    for n in range(lo, hi):
        xn = x[n].reshape(rows, nc)
        for r in range(rows):
            xr = xn[r]
            for c in range(nc):
                s1[c] += xr[c]


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def bn_partial_squares(x, lo, hi, mean, s2):
    """s2[c] += Σ (x[n, :, :, c] − mean[c])² over images lo..hi-1 (float64)."""
    nc = x.shape[3]
    rows = x.shape[1] * x.shape[2]
    for n in range(lo, hi):
        xn = x[n].reshape(rows, nc)
        for r in range(rows):
            xr = xn[r]
            for c in range(nc):
                d = xr[c] - mean[c]
                s2[c] += d * d


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def bn_stage_forward(x, lo, hi, mean, inv_std, gamma, beta, geo, xhat, out, arg):
    """xhat, and out = pool?(relu?(gamma·xhat + beta)) (arg: the pooling winners)."""
    relu, ph, pw, psh, psw, poh, pow_ = geo
    h, w, nc = x.shape[1], x.shape[2], x.shape[3]
    rows = h * w
    z = np.empty((rows, nc), dtype=x.dtype)
    zero_bias = np.zeros(nc, dtype=x.dtype)
    best = np.empty(nc, dtype=x.dtype)
    where = np.empty(nc, dtype=np.int8)
    for n in range(lo, hi):
        xn = x[n].reshape(rows, nc)
        hn = xhat[n].reshape(rows, nc)
        for r in range(rows):
            xr, hr, zr = xn[r], hn[r], z[r]
            for c in range(nc):
                v = (xr[c] - mean[c]) * inv_std[c]
                hr[c] = v
                zr[c] = gamma[c] * v + beta[c]
        if ph == 0:
            _epilogue(z, zero_bias, relu, out[n].reshape(rows, nc))
        else:
            _pool_epilogue(z, zero_bias, relu, out, arg, n, w, ph, pw, psh, psw, poh, pow_,
                           best, where)


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def bn_stage_gradient(dy, out, arg, xhat, lo, hi, geo, dx, sb, sg):
    """dx[n] = dY (the normalization's output gradient); sb[c] += Σ dY, sg[c] += Σ dY·xhat."""
    relu, ph, pw, psh, psw, poh, pow_ = geo
    h, w, nc = xhat.shape[1], xhat.shape[2], xhat.shape[3]
    rows = h * w
    for n in range(lo, hi):
        dz = dx[n].reshape(rows, nc)
        _output_gradient(dy, out, arg, n, relu, w, ph, pw, psh, psw, dz)
        hn = xhat[n].reshape(rows, nc)
        for r in range(rows):
            gr, hr = dz[r], hn[r]
            for c in range(nc):
                sb[c] += gr[c]
                sg[c] += gr[c] * hr[c]


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def bn_stage_input_gradient(dx, xhat, lo, hi, coef, m, dbeta, dgamma, training, scale):
    """In place: dx = coef·(m·dY − dbeta − xhat·dgamma) (training) or dY·scale."""
    h, w, nc = xhat.shape[1], xhat.shape[2], xhat.shape[3]
    rows = h * w
    for n in range(lo, hi):
        dn = dx[n].reshape(rows, nc)
        hn = xhat[n].reshape(rows, nc)
        for r in range(rows):
            dr, hr = dn[r], hn[r]
            for c in range(nc):
                if training:
                    dr[c] = coef[c] * (m * dr[c] - dbeta[c] - hr[c] * dgamma[c])
                else:
                    dr[c] = dr[c] * scale[c]
