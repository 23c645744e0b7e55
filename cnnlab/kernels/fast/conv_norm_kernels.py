"""Numba workers of a convolution + batch-norm stage (``conv_norm_stage.py``), per image.

A batch norm in training divides by statistics of the whole batch, so the stage runs in two
dispatches each way (``norm_stage_kernels.py`` explains why). What fusing the convolution in
saves is memory traffic over batch-sized arrays:

forward, dispatch 1 (here): the convolution of each image, z = cols·W + b
    (``stage_kernels.py`` / ``stage_planar.py``, without ReLU or pooling), and, while z is
    still in cache, its per-channel mean mᵢ and M2ᵢ = Σ (z − mᵢ)² (float64, one pass) —
    the batch statistics then come from these per-image parts
    (``norm_stage.combine_moments``) instead of two more passes over z;
forward, dispatch 2: ``norm_stage_kernels.bn_stage_forward`` on z (normalize, scale, shift,
    ReLU, pooling);
backward, dispatch 1: ``norm_stage_kernels.bn_stage_sums`` (dbeta = Σ dY, dgamma = Σ dY·x̂);
backward, dispatch 2 (here): per image, dY through pooling and ReLU, the batch norm's input
    gradient dZ = γ/(M·σ)·(M·dY − dbeta − x̂·dgamma) — which is the convolution's output
    gradient — and the convolution's backward on it while it is in cache. dZ is never
    written for the whole batch.

x̂ = (z − mean)·(1/σ) is recomputed wherever it is needed (never stored).
"""
from __future__ import annotations

import numba
import numpy as np

from .norm_stage_kernels import bn_dx
from .stage_gradients import _FLAGS, _output_gradient
from .stage_kernels import conv_stage_backward, conv_stage_forward
from .stage_planar import conv1_stage_backward, conv1_stage_forward


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def image_moments(zn, mean, m2):
    """Per channel of one image's map zn (H·W × C): mean and M2 = Σ (z − mean)², in one
    pass over the map as Σz and Σz² in float64 (M2 = Σz² − H·W·mean²; float64 keeps the
    difference exact to ~1e-16 of Σz² for float32 values, and the images' parts are then
    combined as Chan et al.'s parallel variance). Sums into local arrays, not into the
    outputs: the compiler cannot prove those do not overlap zn, and would not vectorize
    (measured 1.5x slower)."""
    rows, nc = zn.shape
    s1 = np.zeros(nc)
    s2 = np.zeros(nc)
    for r in range(rows):
        zr = zn[r]
        for c in range(nc):
            v = np.float64(zr[c])
            s1[c] += v
            s2[c] += v * v
    for c in range(nc):
        mean[c] = s1[c] / rows
        m2[c] = s2[c] - rows * mean[c] * mean[c]      # NaN stays NaN (no clamping)


@numba.njit(nogil=True, cache=True)
def conv_moments_forward(xp, wmat, b, lo, hi, geo, z, arg, means, m2s):
    """Images lo..hi-1: z[n] = the convolution (geo without ReLU or pooling), and
    means[n], m2s[n] its per-channel mean and M2."""
    oh, ow = geo[6], geo[7]
    nf = wmat.shape[1]
    for n in range(lo, hi):
        if xp.shape[3] == 1:
            conv1_stage_forward(xp, wmat, b, n, n + 1, geo, z, arg)
        else:
            conv_stage_forward(xp, wmat, b, n, n + 1, geo, z, arg)
        image_moments(z[n].reshape(oh * ow, nf), means[n], m2s[n])


@numba.njit(nogil=True, cache=True)
def conv_norm_backward(xp, wmat, z, out, arg, dy, lo, hi, geo, bn_geo, mean, coefs, dw, db,
                       dxp, input_gradient):
    """Backward pass of images lo..hi-1 (see the module): dW and db (float64) added into
    ``dw`` and ``db``; with ``input_gradient`` the padded input gradient written into ``dxp``
    (zeros on entry). ``coefs``: the batch norm's dZ = a·dY + b·(z − mean) + c per channel
    (``norm_stage.dx_coefficients``, from the whole batch's sums of dispatch 1; in
    prediction mode b = c = 0)."""
    oh, ow = geo[6], geo[7]
    relu, ph, pw, psh, psw = bn_geo[0], bn_geo[1], bn_geo[2], bn_geo[3], bn_geo[4]
    nf = wmat.shape[1]
    rows = oh * ow
    d_out = np.empty((rows, nf), dtype=xp.dtype)       # dY: the batch norm's output gradient
    dz = np.empty((1, oh, ow, nf), dtype=xp.dtype)     # dZ: its input gradient, the conv's
    dz2 = dz[0].reshape(rows, nf)
    for n in range(lo, hi):
        _output_gradient(dy, out, arg, n, relu, ow, ph, pw, psh, psw, d_out)
        bn_dx(d_out, z[n].reshape(rows, nf), mean, coefs, dz2)
        # the convolution stage's own backward on this one image (geo: no ReLU, no pooling,
        # so it takes dz as its dZ); slices of the first axis keep the arrays' layout, so
        # this is the kernel the conv stages compile anyway
        dxn = dxp[n:n + 1] if input_gradient else dxp
        if xp.shape[3] == 1 and not input_gradient:      # one channel: dW and db only
            conv1_stage_backward(xp[n:n + 1], wmat, dz, arg, dz, 0, 1, geo, dw, db)
        else:
            conv_stage_backward(xp[n:n + 1], wmat, dz, arg, dz, 0, 1, geo, dw, db, dxn,
                                input_gradient)
