"""Reference convolution kernels: one loop over output positions, the formula inside.

Layouts (channels last):

- input  N×H×W×C, already padded for the ordinary convolution (see ``kernels.padding``);
- weights FH×FW×(C/G)×F for convolution with G groups, bias (F,);
- weights FH×FW×F×C for transposed convolution (filter size × filters × channels).

Each loop body handles one output position (or one input pixel, for the transposed
convolution) and does the sum over the window with ``np.tensordot`` on the whole batch:
the loop is the formula, numpy only does the innermost multiply-add. These functions are the
definition that the fast backend and the step-by-step traces are checked against.

Every output keeps the dtype of the input (float32 stays float32).
"""
from __future__ import annotations

import numpy as np


def _output_size(padded: int, k: int, s: int, d: int) -> int:
    """floor((padded - ((k - 1)·d + 1)) / s) + 1, checked to be positive."""
    span = (k - 1) * d + 1
    if span > padded:
        raise ValueError(f"conv2d: the dilated filter spans {span} ((k - 1)·d + 1 with k = {k},"
                         f" d = {d}), more than the padded input {padded}")
    return (padded - span) // s + 1


def _check_groups(c: int, cg: int, f: int, groups: int):
    if groups < 1 or c != cg * groups or f % groups:
        raise ValueError(f"conv2d: input has {c} channels, weights expect {cg} per group, "
                         f"{f} filters, groups = {groups}: need C = (C/G)·G and F divisible by G")


def conv2d_forward(xp, w, b, stride=(1, 1), dilation=(1, 1), groups=1, workspace=None):
    """Convolution (cross-correlation, as in every CNN library) of a padded input.

    xp : N×Hp×Wp×C   padded input
    w  : FH×FW×(C/G)×F
    b  : (F,)
    returns y : N×OH×OW×F with OH = floor((Hp - ((FH - 1)·dh + 1)) / sh) + 1 (same for OW):

        y[n, i, j, f] = b[f] + Σ_{u, v, c ∈ group(f)} xp[n, i·sh + u·dh, j·sw + v·dw, c]
                                                        · w[u, v, c', f]

    where group g holds input channels g·C/G .. (g+1)·C/G - 1 (c' = c - g·C/G, the channel's
    index inside its group) and filters g·F/G .. (g+1)·F/G - 1.

    ``workspace`` is for the fast backend (which keeps its column matrices there); the loops
    here need none.
    """
    n, hp, wp, c = xp.shape
    fh, fw, cg, f = w.shape
    sh, sw = stride
    dh, dw = dilation
    _check_groups(c, cg, f, groups)
    oh, ow = _output_size(hp, fh, sh, dh), _output_size(wp, fw, sw, dw)
    fg = f // groups
    y = np.empty((n, oh, ow, f), dtype=xp.dtype)
    for i in range(oh):
        for j in range(ow):
            # the window the filter sees at output (i, j): rows i·sh + u·dh, cols j·sw + v·dw
            window = xp[:, i * sh: i * sh + (fh - 1) * dh + 1: dh,
                        j * sw: j * sw + (fw - 1) * dw + 1: dw, :]        # N×FH×FW×C
            for g in range(groups):
                cs, fs = slice(g * cg, (g + 1) * cg), slice(g * fg, (g + 1) * fg)
                # Σ over u, v, c of window · w, for the filters of group g
                y[:, i, j, fs] = np.tensordot(window[..., cs], w[..., fs],
                                              axes=([1, 2, 3], [0, 1, 2])) + b[fs]
    return y


def conv2d_backward(xp, w, dy, stride=(1, 1), dilation=(1, 1), groups=1, workspace=None,
                    input_gradient=True):
    """Gradients of :func:`conv2d_forward` given dy = dL/dy (N×OH×OW×F).

    Every product xp[n, i·sh + u·dh, j·sw + v·dw, c] · w[u, v, c', f] in the forward sum sends
    dy[n, i, j, f] back to both factors:

        dxp[n, i·sh + u·dh, j·sw + v·dw, c] += dy[n, i, j, f] · w[u, v, c', f]
        dw[u, v, c', f]   += dy[n, i, j, f] · xp[n, i·sh + u·dh, j·sw + v·dw, c]
        db[f]             += dy[n, i, j, f]

    Returns (dxp, dw, db): dxp is the gradient of the PADDED input (fold it back onto the
    input with ``padding.pad_backward``), or None with ``input_gradient=False``; dw has w's
    shape, db is (F,). ``workspace`` is used by the fast backend only.
    """
    n, hp, wp, c = xp.shape
    fh, fw, cg, f = w.shape
    sh, sw = stride
    dh, dw_ = dilation
    _check_groups(c, cg, f, groups)
    oh, ow = dy.shape[1], dy.shape[2]
    fg = f // groups
    dtype = np.result_type(xp.dtype, dy.dtype)
    dxp = np.zeros((n, hp, wp, c), dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * sh, i * sh + (fh - 1) * dh + 1, dh)
            cols = slice(j * sw, j * sw + (fw - 1) * dw_ + 1, dw_)
            window = xp[:, rows, cols, :]                                   # N×FH×FW×C
            for g in range(groups):
                cs, fs = slice(g * cg, (g + 1) * cg), slice(g * fg, (g + 1) * fg)
                g_out = dy[:, i, j, fs]                                     # N×Fg
                # dxp window += Σ_f dy · w   (N×FH×FW×Cg)
                if input_gradient:
                    dxp[:, rows, cols, cs] += np.tensordot(g_out, w[..., fs],
                                                           axes=([1], [3]))
                # dw += Σ_n window · dy      (FH×FW×Cg×Fg)
                dw[..., fs] += np.tensordot(window[..., cs], g_out, axes=([0], [0]))
    db = dy.sum(axis=(0, 1, 2))
    return (dxp if input_gradient else None), dw, db


def conv2d_transpose_forward(x, w, b, stride=(1, 1)):
    """Transposed convolution, uncropped: each input pixel scatters a weighted filter.

    x : N×H×W×C,  w : FH×FW×F×C,  b : (F,)
    returns y_full : N×((H - 1)·sh + FH)×((W - 1)·sw + FW)×F with

        y_full[n, i·sh + u, j·sw + v, f] += x[n, i, j, c] · w[u, v, f, c]  (all i, j, u, v, c)
        y_full[n, :, :, f] += b[f]

    It is the transpose of a stride-s convolution (no padding): the gradient of that
    convolution with respect to its input. A layer crops the result afterwards.
    """
    n, h, wd, c = x.shape
    fh, fw, f, c_w = w.shape
    if c_w != c:
        raise ValueError(f"conv2d_transpose: input has {c} channels, weights expect {c_w}")
    sh, sw = stride
    y = np.zeros((n, (h - 1) * sh + fh, (wd - 1) * sw + fw, f), dtype=x.dtype)
    for i in range(h):
        for j in range(wd):
            # Σ_c x[n, i, j, c] · w[:, :, :, c] -> N×FH×FW×F, added to the window at (i·sh, j·sw)
            y[:, i * sh: i * sh + fh, j * sw: j * sw + fw, :] += np.tensordot(
                x[:, i, j, :], w, axes=([1], [3]))
    y += b
    return y


def conv2d_transpose_backward(x, w, dy_full, stride=(1, 1)):
    """Gradients of :func:`conv2d_transpose_forward` given dy_full (uncropped, zeros where a
    layer cropped). The scatter x[n, i, j, c] · w[u, v, f, c] -> y_full[n, i·sh + u, j·sw + v, f]
    gathers back:

        dx[n, i, j, c]  = Σ_{u, v, f} dy_full[n, i·sh + u, j·sw + v, f] · w[u, v, f, c]
        dw[u, v, f, c] += Σ_n dy_full[n, i·sh + u, j·sw + v, f] · x[n, i, j, c]
        db[f]           = Σ_{n, p, q} dy_full[n, p, q, f]

    Returns (dx, dw, db).
    """
    n, h, wd, c = x.shape
    fh, fw, f, _ = w.shape
    sh, sw = stride
    dtype = np.result_type(x.dtype, dy_full.dtype)
    dx = np.empty((n, h, wd, c), dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    for i in range(h):
        for j in range(wd):
            window = dy_full[:, i * sh: i * sh + fh, j * sw: j * sw + fw, :]   # N×FH×FW×F
            dx[:, i, j, :] = np.tensordot(window, w, axes=([1, 2, 3], [0, 1, 2]))
            dw += np.tensordot(window, x[:, i, j, :], axes=([0], [0]))      # FH×FW×F×C
    db = dy_full.sum(axis=(0, 1, 2))
    return dx, dw, db
