"""Reference normalization kernels: batch normalization and cross-channel (LRN)."""
import numpy as np


def batchnorm_forward(x, gamma, beta, mean, var, eps):
    """xhat = (x - mean) / sqrt(var + eps);  y = gamma·xhat + beta   (per channel)."""
    xhat = (x - mean) / np.sqrt(var + x.dtype.type(eps))
    return (gamma * xhat + beta).astype(x.dtype, copy=False), xhat.astype(x.dtype, copy=False)


def batchnorm_backward(dy, xhat, gamma, var, eps, training):
    """Gradients of batch normalization.

    With batch statistics (training) mean and variance depend on x, so, with M = N·H·W,
    dx = gamma / (M·sqrt(var+eps)) · (M·dy - sum(dy) - xhat·sum(dy·xhat)).
    With stored statistics (prediction) they are constants: dx = dy·gamma / sqrt(var+eps).
    """
    axes = (0, 1, 2)
    dgamma = np.sum(dy * xhat, axis=axes)
    dbeta = np.sum(dy, axis=axes)
    inv_std = 1 / np.sqrt(var + dy.dtype.type(eps))
    if not training:
        return (dy * gamma * inv_std).astype(dy.dtype, copy=False), dgamma, dbeta
    m = dy.shape[0] * dy.shape[1] * dy.shape[2]
    dx = gamma * inv_std / m * (m * dy - dbeta - xhat * dgamma)
    return dx.astype(dy.dtype, copy=False), dgamma, dbeta


def _window(c, size, C):
    return max(0, c - size // 2), min(C - 1, c + (size - 1) // 2)


def lrn_forward(x, size, alpha, beta, k):
    """scale = k + alpha·(sum of x² over the channel window)/size;  y = x / scale^beta."""
    C = x.shape[-1]
    sq = x * x
    scale = np.empty_like(x)
    for c in range(C):
        lo, hi = _window(c, size, C)
        scale[..., c] = k + alpha * sq[..., lo:hi + 1].sum(axis=-1) / size
    return (x * scale ** -beta).astype(x.dtype, copy=False), scale


def lrn_backward(x, y, scale, dy, size, alpha, beta):
    """dx_j = dy_j·scale_j^-beta - (2·alpha·beta/size)·x_j·sum_{c: j in window(c)} dy_c·y_c/scale_c."""
    C = x.shape[-1]
    t = dy * y / scale
    dx = dy * scale ** -beta
    coef = 2 * alpha * beta / size
    for c in range(C):
        lo, hi = _window(c, size, C)
        dx[..., lo:hi + 1] -= coef * x[..., lo:hi + 1] * t[..., c:c + 1]
    return dx.astype(dy.dtype, copy=False)
