"""Reference normalization kernels: batch normalization and cross-channel normalization (LRN).

Arrays are N×H×W×C; per-channel vectors are (C,). Every function loops over the channels, so
one pass of the loop reads like the formula for one channel c; inside it the N·H·W values of
that channel are handled as one numpy array. Results keep the dtype of the input ``x``/``dy``
(the per-channel vectors are cast to it first).
"""
import numpy as np


# ---- batch normalization ---------------------------------------------------------------------

def batch_moments(x):
    """Per-channel mean and biased variance (divided by M = N·H·W) of x, in x's dtype."""
    return x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))


def batchnorm_forward(x, gamma, beta, mean, var, eps):
    """Normalize each channel with the given statistics, then scale and shift it.

    x: N×H×W×C; gamma, beta, mean, var: (C,) with var the biased (divide-by-M) variance;
    eps > 0 keeps the division finite for a constant channel::

        xhat[..., c] = (x[..., c] - mean[c]) / sqrt(var[c] + eps)
        y[..., c]    = gamma[c]·xhat[..., c] + beta[c]

    Returns (y, xhat), both N×H×W×C in x's dtype; backward needs xhat.
    """
    f = x.dtype.type
    y, xhat = np.empty_like(x), np.empty_like(x)
    for c in range(x.shape[-1]):
        std = np.sqrt(f(var[c]) + f(eps))
        xhat[..., c] = (x[..., c] - f(mean[c])) / std
        y[..., c] = f(gamma[c]) * xhat[..., c] + f(beta[c])
    return y, xhat


def batchnorm_backward(dy, xhat, gamma, var, eps, training):
    """Gradients of batch normalization: returns (dx, dgamma, dbeta).

    dy, xhat: N×H×W×C; gamma, var: (C,), var the variance the forward pass divided by.
    For each channel, summing over its M = N·H·W values::

        dbeta[c]  = Σ dy                    (y moves one-for-one with beta)
        dgamma[c] = Σ dy·xhat               (y moves with gamma by xhat)

    Prediction (``training=False``): mean and var are stored constants, so the layer is an
    affine map of x and dx = dy·gamma / sqrt(var + eps).

    Training: mean and var were computed from this very batch, so moving one x also moves
    them. With σ = sqrt(var + eps), dxhat = dy·gamma, and the chain rule through
    mean = Σx/M and var = Σ(x - mean)²/M::

        dx = (1/(M·σ))·(M·dxhat - Σ dxhat - xhat·Σ(dxhat·xhat))
           = gamma/(M·σ)·(M·dy - dbeta[c] - xhat·dgamma[c])

    The two subtracted sums remove the part of dy that a shift of the mean or a change of the
    spread would undo anyway.
    """
    f = dy.dtype.type
    C = dy.shape[-1]
    M = dy.shape[0] * dy.shape[1] * dy.shape[2]
    dx = np.empty_like(dy)
    dgamma, dbeta = np.empty(C, dy.dtype), np.empty(C, dy.dtype)
    for c in range(C):
        g, xh = dy[..., c], xhat[..., c]
        dbeta[c] = g.sum()
        dgamma[c] = (g * xh).sum()
        std = np.sqrt(f(var[c]) + f(eps))
        if training:
            dx[..., c] = f(gamma[c]) / (M * std) * (M * g - dbeta[c] - xh * dgamma[c])
        else:
            dx[..., c] = g * f(gamma[c]) / std
    return dx, dgamma, dbeta


# ---- cross-channel (local response) normalization ----------------------------------------------

def lrn_window(c, size, C):
    """The channels (first, last), inclusive, that normalize channel c.

    From c - size//2 to c + (size-1)//2, clipped to 0..C-1. For an odd size this is the
    symmetric window c - (size-1)/2 .. c + (size-1)/2; for an even size it reaches one
    channel further back than forward (size 4: c-2 .. c+1). This is PyTorch's
    LocalResponseNorm convention. Near the ends fewer than ``size`` channels exist, but the
    formula still divides by ``size``.
    """
    return max(0, c - size // 2), min(C - 1, c + (size - 1) // 2)


def lrn_forward(x, size, alpha, beta, k):
    """Cross-channel normalization of x (N×H×W×C); returns (y, scale), both N×H×W×C.

    For channel c with window lo..hi (``lrn_window``)::

        ss[..., c]    = Σ_{j=lo..hi} x[..., j]²
        scale[..., c] = k + alpha·ss[..., c] / size
        y[..., c]     = x[..., c] / scale[..., c]^beta

    With k > 0 and alpha >= 0 the base ``scale`` is positive, so any real beta is defined.
    """
    f = x.dtype.type
    C = x.shape[-1]
    scale = np.empty_like(x)
    for c in range(C):
        lo, hi = lrn_window(c, size, C)
        ss = (x[..., lo:hi + 1] ** 2).sum(axis=-1)
        scale[..., c] = f(k) + f(alpha) * ss / f(size)
    y = x * scale ** f(-beta)
    return y, scale


def lrn_backward(x, y, scale, dy, size, alpha, beta):
    """Input gradient of cross-channel normalization (there are no parameters).

    x, y, scale: from the forward pass; dy: N×H×W×C. Output c depends on input j through its
    own x (if j == c) and through scale_c (if j lies in the window of c)::

        d y_c / d x_j = [j == c]·scale_c^-beta
                        - beta·x_c·scale_c^(-beta-1)·(alpha/size)·2·x_j·[j in window(c)]

    so, using x_c·scale_c^(-beta-1) = y_c / scale_c::

        dx_j = dy_j·scale_j^-beta
               - (2·alpha·beta/size)·x_j·Σ_{c: j in window(c)} dy_c·y_c/scale_c

    The loop runs over c and hands its term to every j in window(c).
    """
    f = x.dtype.type
    C = x.shape[-1]
    dx = dy * scale ** f(-beta)
    through_scale = dy * y / scale                  # dy_c·y_c/scale_c, one per output c
    coef = f(2 * alpha * beta / size)
    for c in range(C):
        lo, hi = lrn_window(c, size, C)
        dx[..., lo:hi + 1] -= coef * x[..., lo:hi + 1] * through_scale[..., c:c + 1]
    return dx
