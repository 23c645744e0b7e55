"""Numba workers of a batch-norm stage: batch normalization (+ ReLU) (+ max pooling).

The arithmetic is ``kernels/reference/norm.py`` (batch normalization, its derivation) then
ReLU and max pooling as in ``stage_kernels.py``, per image, without the GIL. A batch norm
in training mode divides by statistics of the whole batch, so a stage cannot finish one
image before it has seen every image: the forward pass is two dispatches over the chunks
of the batch, the second waiting for the first (PERFORMANCE-NOTES.md, "a second dispatch per
BN stage"):

    1. per chunk of n_i values: its mean m_i and M2_i = Σ (x − m_i)² (two passes over the
       chunk, float64), combined exactly as Chan, Golub and LeVeque's parallel variance:
           mean = Σ n_i·m_i / M,   var = (Σ M2_i + Σ n_i·(m_i − mean)²) / M   (biased)
    2. xhat = (x − mean)·(1/sqrt(var + eps)), y = gamma·xhat + beta, then ReLU and pooling

(in prediction mode only 2, with the trained statistics). The backward pass is two: the
partial sums dbeta = Σ dY and dgamma = Σ dY·xhat of the normalization's output gradient dY
(through pooling and ReLU; with pooling, read off the winners only), then
dx = gamma/(M·σ)·(M·dY − dbeta − xhat·dgamma) in training, dx = dY·gamma/σ in prediction
mode, with dY rebuilt image by image (never stored for the whole batch). Both are
dx = a·dY + b·(x − mean) + c with per-channel a = γ/σ, b = −γ·dgamma/(M·σ²), c = −γ·dbeta/(M·σ)
in training and a = γ/σ, b = c = 0 in prediction mode (``norm_stage.dx_coefficients``): one
loop for both, without a branch per value.

xhat = (x − mean)·(1/σ) is never stored: every kernel recomputes it from the input x, which
the stage keeps anyway (two operations per value against a batch-sized array written in the
forward pass and read twice in the backward one; the input is read instead).
"""
from __future__ import annotations

import numba
import numpy as np

from .stage_gradients import _FLAGS, _output_gradient, _window_offsets
from .stage_kernels import _pool_epilogue


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def bn_chunk_moments(x, lo, hi, mean, m2):
    """Per channel, over images lo..hi-1: the chunk's mean and M2 = Σ (x − chunk mean)²,
    two passes over the chunk in float64 (it is still in cache for the second)."""
    nc = x.shape[3]
    rows = x.shape[1] * x.shape[2]
    s1 = np.zeros(nc)
    for n in range(lo, hi):
        xn = x[n].reshape(rows, nc)
        for r in range(rows):
            xr = xn[r]
            for c in range(nc):
                s1[c] += xr[c]
    count = (hi - lo) * rows
    for c in range(nc):
        mean[c] = s1[c] / count
    for c in range(nc):
        m2[c] = 0.0
    for n in range(lo, hi):
        xn = x[n].reshape(rows, nc)
        for r in range(rows):
            xr = xn[r]
            for c in range(nc):
                d = xr[c] - mean[c]
                m2[c] += d * d


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def bn_stage_forward(x, lo, hi, mean, inv_std, gamma, beta, geo, out, arg):
    """out = pool?(relu?(gamma·xhat + beta)) (arg: the pooling winners)."""
    relu, ph, pw, psh, psw, poh, pow_ = geo
    h, w, nc = x.shape[1], x.shape[2], x.shape[3]
    rows = h * w
    z = np.empty((rows, nc), dtype=x.dtype)
    zero_bias = np.zeros(nc, dtype=x.dtype)
    best = np.empty(nc, dtype=x.dtype)
    where = np.empty(nc, dtype=np.int8)
    zero = x.dtype.type(0)
    for n in range(lo, hi):
        xn = x[n].reshape(rows, nc)
        # without pooling the normalized values go straight to the output (ReLU inline)
        zn = out[n].reshape(rows, nc) if ph == 0 else z
        for r in range(rows):
            xr, zr = xn[r], zn[r]
            for c in range(nc):
                v = gamma[c] * ((xr[c] - mean[c]) * inv_std[c]) + beta[c]
                if relu and ph == 0:
                    v = zero if v < zero else v
                zr[c] = v
        if ph != 0:
            _pool_epilogue(z, zero_bias, relu, out, arg, n, w, ph, pw, psh, psw, poh, pow_,
                           best, where)


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def bn_stage_sums(dy, out, arg, x, mean, inv_std, lo, hi, geo, sb, sg):
    """sb[c] += Σ dY, sg[c] += Σ dY·xhat over images lo..hi-1, where dY is the
    normalization's output gradient (through pooling and the ReLU mask). With pooling dY is
    nonzero only at the windows' winners, so the sums are read off the pooled gradient.

    Σ dY·xhat = (1/σ)·(Σ dY·x − mean·Σ dY): the loops add Σ dY and Σ dY·x (float64) into
    local arrays, and the statistics are applied once at the end. (Summing into ``sb``/``sg``
    with the statistics inside the loop was 2.5x slower: the compiler cannot prove the
    output arrays do not overlap the inputs, so it reloads and stores every term.)"""
    relu, ph, pw, psh, psw, poh, pow_ = geo
    h, w, nc = x.shape[1], x.shape[2], x.shape[3]
    zero = x.dtype.type(0)
    s1 = np.zeros(nc)
    s2 = np.zeros(nc)
    won = np.empty(nc, dtype=x.dtype)
    offs = _window_offsets(max(ph, 1), max(pw, 1), w)
    for n in range(lo, hi):
        hn = x[n].reshape(h * w, nc)
        if ph == 0:
            dn = dy[n].reshape(h * w, nc)
            yn = out[n].reshape(h * w, nc)
            for r in range(h * w):
                dr, yr, hr = dn[r], yn[r], hn[r]
                for c in range(nc):
                    g = dr[c] if ((not relu) or yr[c] > zero) else zero
                    s1[c] += g
                    s2[c] += g * np.float64(hr[c])
            continue
        for p in range(poh):
            for q in range(pow_):
                gr, yr, ar = dy[n, p, q], out[n, p, q], arg[n, p, q]
                r0 = (p * psh) * w + q * psw
                for c in range(nc):                  # the winners' inputs, gathered
                    won[c] = hn[r0 + offs[ar[c]], c]
                for c in range(nc):
                    g = gr[c] if ((not relu) | (yr[c] > zero)) else zero
                    s1[c] += g
                    s2[c] += g * np.float64(won[c])
    for c in range(nc):
        sb[c] += s1[c]
        sg[c] += inv_std[c] * (s2[c] - mean[c] * s1[c])


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def bn_dx(dz, xn, mean, coefs, dxn):
    """dx = a·dY + b·(x − mean) + c, row by row, for one image: dz its dY, xn its input x
    (both H·W × C); ``coefs`` = (a, b, c) per channel (``norm_stage.dx_coefficients``)."""
    rows, nc = dz.shape
    a, b, c_ = coefs[0], coefs[1], coefs[2]
    for r in range(rows):
        gr, hr, xr = dz[r], xn[r], dxn[r]
        for c in range(nc):
            xr[c] = a[c] * gr[c] + b[c] * (hr[c] - mean[c]) + c_[c]


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def bn_stage_input_gradient(dy, out, arg, x, mean, lo, hi, geo, coefs, dx):
    """dx of images lo..hi-1 (see the module). dY is rebuilt per image: where pooling tiles
    the map each cell is its window's winner or not, and dY is read off in the same pass;
    otherwise it is scattered into a per-thread buffer first."""
    relu, ph, pw, psh, psw, poh, pow_ = geo
    h, w, nc = x.shape[1], x.shape[2], x.shape[3]
    rows = h * w
    zero = x.dtype.type(0)
    dz = np.empty((rows, nc), dtype=x.dtype)
    a, b, c_ = coefs[0], coefs[1], coefs[2]
    tiles = ph > 0 and ph == psh and pw == psw and poh * ph == h and pow_ * pw == w
    for n in range(lo, hi):
        hn = x[n].reshape(rows, nc)
        dxn = dx[n].reshape(rows, nc)
        if not tiles:
            _output_gradient(dy, out, arg, n, relu, w, ph, pw, psh, psw, dz)
            bn_dx(dz, hn, mean, coefs, dxn)
            continue
        for p in range(poh):
            for u in range(ph):
                for q in range(pow_):
                    gr, yr, ar = dy[n, p, q], out[n, p, q], arg[n, p, q]
                    for v in range(pw):
                        k = u * pw + v
                        r = (p * ph + u) * w + q * pw + v
                        hr, xr = hn[r], dxn[r]
                        for c in range(nc):
                            keep = (ar[c] == k) & ((not relu) | (yr[c] > zero))
                            g = gr[c] if keep else zero
                            xr[c] = a[c] * g + b[c] * (hr[c] - mean[c]) + c_[c]
