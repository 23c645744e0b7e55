"""Fast normalization kernels.

Batch normalization: one pass over the N·H·W×C matrix per step, every channel at once, in
place of the reference's loop over channels (``kernels/reference/norm.py``, the formulas and
their derivation). The element-wise passes are serial nogil loops over rows lo..hi-1, run in
chunks of rows on the chunk pool (``chunked.py``); the two sums stay one serial pass.
Cross-channel normalization is already whole-array NumPy in the reference (a loop over the
few channels of the window): it is re-used as is.
"""
from __future__ import annotations

import numba
import numpy as np

from .chunked import run_chunks
from ..reference.norm import lrn_backward, lrn_forward  # noqa: F401  (fast enough as NumPy)


@numba.njit(nogil=True, cache=True)
def _bn_forward(x2, gamma, beta, mean, inv_std, y, xhat, lo, hi):
    """xhat = (x − mean)·inv_std and y = gamma·xhat + beta for rows lo..hi-1."""
    nc = x2.shape[1]
    for r in range(lo, hi):
        for c in range(nc):
            h = (x2[r, c] - mean[c]) * inv_std[c]
            xhat[r, c] = h
            y[r, c] = gamma[c] * h + beta[c]


@numba.njit(nogil=True, cache=True)
def _bn_sums(dy2, xhat2):
    m, nc = dy2.shape
    dbeta = np.zeros(nc, dtype=dy2.dtype)
    dgamma = np.zeros(nc, dtype=dy2.dtype)
    for r in range(m):
        for c in range(nc):
            dbeta[c] += dy2[r, c]
            dgamma[c] += dy2[r, c] * xhat2[r, c]
    return dgamma, dbeta


@numba.njit(nogil=True, cache=True)
def _bn_dx(dy2, xhat2, coef, m, dbeta, dgamma, dx, lo, hi):
    """dx = coef·(m·dy − Σdy − xhat·Σ(dy·xhat)) for rows lo..hi-1."""
    nc = dy2.shape[1]
    for r in range(lo, hi):
        for c in range(nc):
            dx[r, c] = coef[c] * (m * dy2[r, c] - dbeta[c] - xhat2[r, c] * dgamma[c])


@numba.njit(nogil=True, cache=True)
def _moments(x2):
    # two passes in float64: the mean first, then the mean squared deviation (biased)
    rows, nc = x2.shape
    mean = np.zeros(nc)
    var = np.zeros(nc)
    for r in range(rows):
        for c in range(nc):
            mean[c] += x2[r, c]
    mean /= rows
    for r in range(rows):
        for c in range(nc):
            d = x2[r, c] - mean[c]
            var[c] += d * d
    var /= rows
    return mean, var


def batch_moments(x):
    """Per-channel mean and biased variance of x (N×H×W×C) over N, H, W, in x's dtype."""
    x = np.ascontiguousarray(x)
    mean, var = _moments(x.reshape(-1, x.shape[-1]))
    return mean.astype(x.dtype), var.astype(x.dtype)


def _per_channel(a, dtype, c):
    return np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype=dtype), (c,)))


def batchnorm_forward(x, gamma, beta, mean, var, eps):
    """y = gamma·(x − mean)/sqrt(var + eps) + beta per channel; returns (y, xhat)."""
    x = np.ascontiguousarray(x)
    dt, c = x.dtype, x.shape[-1]
    inv_std = 1 / np.sqrt(_per_channel(var, dt, c) + dt.type(eps))
    x2 = x.reshape(-1, c)
    y, xhat = np.empty_like(x2), np.empty_like(x2)
    run_chunks(_bn_forward, len(x2), x2.size, x2, _per_channel(gamma, dt, c),
               _per_channel(beta, dt, c), _per_channel(mean, dt, c), inv_std.astype(dt),
               y, xhat)
    return y.reshape(x.shape), xhat.reshape(x.shape)


def batchnorm_backward(dy, xhat, gamma, var, eps, training):
    """(dx, dgamma, dbeta); the derivation is in the reference kernel's docstring."""
    dy = np.ascontiguousarray(dy)
    xhat = np.ascontiguousarray(xhat, dtype=dy.dtype)
    if dy.shape != xhat.shape:
        raise ValueError(f"batchnorm: gradient {dy.shape} and xhat {xhat.shape} differ")
    dt, c = dy.dtype, dy.shape[-1]
    m = dy.size // c
    dgamma, dbeta = _bn_sums(dy.reshape(-1, c), xhat.reshape(-1, c))
    g = _per_channel(gamma, dt, c)
    inv_std = (1 / np.sqrt(_per_channel(var, dt, c) + dt.type(eps))).astype(dt)
    if training:
        dy2 = dy.reshape(-1, c)
        dx = np.empty_like(dy2)
        run_chunks(_bn_dx, len(dy2), dy2.size, dy2, xhat.reshape(-1, c),
                   (g * inv_std / dt.type(m)), dt.type(m), dbeta, dgamma, dx)
        dx = dx.reshape(dy.shape)
    else:
        dx = dy * (g * inv_std)
    return dx.astype(dt, copy=False), dgamma, dbeta
