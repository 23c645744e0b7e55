"""Reference pooling kernels: a loop over output positions, the window read directly.

xp is already padded: with -inf for max pooling (padding never wins) and with 0 for average
pooling, which divides by the full window area ph·pw (padding included, as MATLAB's average
pooling with padding value 0 and PyTorch's count_include_pad=True do).
"""
import numpy as np


def _out(n, k, s):
    return (n - k) // s + 1


def maxpool2d_forward(xp, pool, stride):
    """y[n,i,j,c] = max of the window at (i·sh, j·sw); argmax = row·Wp + col of the winner
    (first maximum in row-major window order)."""
    N, Hp, Wp, C = xp.shape
    (ph, pw), (sh, sw) = pool, stride
    Ho, Wo = _out(Hp, ph, sh), _out(Wp, pw, sw)
    y = np.empty((N, Ho, Wo, C), dtype=xp.dtype)
    argmax = np.empty((N, Ho, Wo, C), dtype=np.int64)
    for i in range(Ho):
        for j in range(Wo):
            r0, c0 = i * sh, j * sw
            win = xp[:, r0:r0 + ph, c0:c0 + pw, :].reshape(N, ph * pw, C)
            k = np.argmax(win, axis=1)                       # first maximum wins ties
            y[:, i, j, :] = np.take_along_axis(win, k[:, None, :], axis=1)[:, 0, :]
            argmax[:, i, j, :] = (r0 + k // pw) * Wp + (c0 + k % pw)
    return y, argmax


def maxpool2d_backward(dy, argmax, xp_shape):
    """Each output gradient goes back to the one input that won its window."""
    N, Hp, Wp, C = xp_shape
    dxp = np.zeros((N, Hp * Wp, C), dtype=dy.dtype)
    n_idx = np.arange(N)[:, None, None, None]
    c_idx = np.arange(C)[None, None, None, :]
    np.add.at(dxp, (np.broadcast_to(n_idx, argmax.shape), argmax,
                    np.broadcast_to(c_idx, argmax.shape)), dy)
    return dxp.reshape(N, Hp, Wp, C)


def avgpool2d_forward(xp, pool, stride):
    """y[n,i,j,c] = (1 / (ph·pw)) · sum of the window at (i·sh, j·sw)."""
    N, Hp, Wp, C = xp.shape
    (ph, pw), (sh, sw) = pool, stride
    Ho, Wo = _out(Hp, ph, sh), _out(Wp, pw, sw)
    y = np.empty((N, Ho, Wo, C), dtype=xp.dtype)
    for i in range(Ho):
        for j in range(Wo):
            y[:, i, j, :] = xp[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :].mean(axis=(1, 2))
    return y


def avgpool2d_backward(dy, xp_shape, pool, stride):
    """Each output gradient is shared equally by the ph·pw cells of its window."""
    N, Hp, Wp, C = xp_shape
    (ph, pw), (sh, sw) = pool, stride
    dxp = np.zeros(xp_shape, dtype=dy.dtype)
    share = dy / dy.dtype.type(ph * pw)
    for i in range(dy.shape[1]):
        for j in range(dy.shape[2]):
            dxp[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :] += share[:, i:i + 1, j:j + 1, :]
    return dxp
