"""Fast convolution kernels: im2col + one BLAS matrix product per group.

Same signatures, results and dtypes as ``kernels/reference/conv.py`` (the definition):

    forward   y    = cols · W + b                  cols = im2col(xp)  (N·OH·OW)×(FH·FW·Cg)
    backward  dW   = colsᵀ · dY                    W = w.reshape(FH·FW·Cg, F)
              dxp  = col2im(dY · Wᵀ)               dY = dy.reshape(N·OH·OW, F)
              db   = Σ dY over rows

The transposed convolution is the same pair read the other way round: its forward pass is
the input gradient of a convolution (scatter x · Wᵀ with col2im) and its backward pass is
a convolution of the output gradient (gather with im2col, then one product).

Every shape is checked in Python before any Numba loop runs, with the reference's own checks
and wording, because Numba does not check bounds. BLAS runs on one thread while Numba loops
run on all cores (see ``threads.py``).
"""
from __future__ import annotations

import numba
import numpy as np

from ..reference.conv import _check_groups, _output_size
from .im2col import col2im, im2col, im2col_single_channel
from .threads import kernel_threads


def _arrays(dtype, *arrays):
    """C-contiguous arrays of one floating dtype, for the Numba loops and BLAS.

    The dtype is the reference's (the definition's): a forward pass computes in the input's
    dtype (float32 input with float64 weights gives float32), a backward pass in
    ``result_type(input, output gradient)``.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"conv2d: expected float32 or float64 arrays, got {dtype}")
    return [np.ascontiguousarray(a, dtype=dtype) for a in arrays]


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _add_bias(y2, b):
    """y2[r, f] += b[f] in place, row by row (NumPy's broadcast over a short inner axis of a
    few filters is several times slower). No fast-math flag touches NaN or inf."""
    rows, nf = y2.shape
    for r in range(rows):
        for f in range(nf):
            y2[r, f] += b[f]


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _column_sums(dy2):
    """db[f] = Σ_r dy2[r, f], accumulated in float64 (the rows of a batch are many)."""
    rows, nf = dy2.shape
    acc = np.zeros(nf, dtype=np.float64)
    for r in range(rows):
        for f in range(nf):
            acc[f] += dy2[r, f]
    return acc


def _check_rank(name, a, rank):
    if a.ndim != rank:
        raise ValueError(f"conv2d: {name} has {a.ndim} dimensions, expected {rank}")


def _geometry(xp, w, stride, dilation, groups):
    _check_rank("input", xp, 4)
    _check_rank("weights", w, 4)
    n, hp, wp, c = xp.shape
    fh, fw, cg, f = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    if min(sh, sw, dh, dw) < 1:
        raise ValueError(f"conv2d: stride {stride} and dilation {dilation} must be ≥ 1")
    _check_groups(c, cg, f, groups)
    return _output_size(hp, fh, sh, dh), _output_size(wp, fw, sw, dw)


def _columns(xp, fh, fw, stride, dilation, oh, ow, c0, cg):
    """The column matrix of one group, as (N·OH·OW)×(FH·FW·Cg) — possibly a transposed view."""
    if cg == 1:
        return im2col_single_channel(xp, fh, fw, stride[0], stride[1], dilation[0],
                                     dilation[1], oh, ow, c0).T
    return im2col(xp, fh, fw, stride[0], stride[1], dilation[0], dilation[1], oh, ow, c0, cg)


def conv2d_forward(xp, w, b, stride=(1, 1), dilation=(1, 1), groups=1, workspace=None):
    """xp N×Hp×Wp×C (padded), w FH×FW×(C/G)×F, b (F,) -> y N×OH×OW×F (see the reference).

    ``workspace``: a dict the caller keeps between this forward call and the backward call
    on the same input; the column matrices are left in it so the backward pass does not
    gather the windows a second time.
    """
    xp, w, b = _arrays(np.asarray(xp).dtype, xp, w, b)
    oh, ow = _geometry(xp, w, stride, dilation, groups)
    n, _, _, c = xp.shape
    fh, fw, cg, f = w.shape
    if b.shape != (f,):
        raise ValueError(f"conv2d: bias has shape {b.shape}, expected ({f},)")
    fg = f // groups
    with kernel_threads():
        columns = [_columns(xp, fh, fw, stride, dilation, oh, ow, g * cg, cg)
                   for g in range(groups)]
        if groups == 1:            # the product is the output: no copy into y
            y = columns[0] @ w.reshape(fh * fw * cg, f)
        else:
            y = np.empty((n * oh * ow, f), dtype=xp.dtype)
            for g, cols in enumerate(columns):
                wg = w[..., g * fg:(g + 1) * fg].reshape(fh * fw * cg, fg)
                y[:, g * fg:(g + 1) * fg] = cols @ wg
    if workspace is not None:
        workspace.clear()
        workspace.update(xp=xp, columns=columns)
    _add_bias(y, b)
    return y.reshape(n, oh, ow, f)


def conv2d_backward(xp, w, dy, stride=(1, 1), dilation=(1, 1), groups=1, workspace=None,
                    input_gradient=True):
    """Gradients (dxp, dw, db) of :func:`conv2d_forward` given dy N×OH×OW×F.

    ``workspace``: the dict given to the forward pass on this same input (re-uses its column
    matrices). ``input_gradient=False`` skips dxp (returned as None): the first convolution
    of a network needs no gradient for the image, and col2im is half its backward cost.
    """
    columns = None
    if workspace and workspace.get("xp") is xp:
        columns = workspace["columns"]
    db_dtype = np.asarray(dy).dtype                  # the reference's db is dy.sum(...)
    xp, w, dy = _arrays(np.result_type(xp, dy), xp, w, dy)
    oh, ow = _geometry(xp, w, stride, dilation, groups)
    n, hp, wp, c = xp.shape
    fh, fw, cg, f = w.shape
    if dy.shape != (n, oh, ow, f):
        raise ValueError(f"conv2d: output gradient has shape {dy.shape}, expected "
                         f"{(n, oh, ow, f)}")
    fg = f // groups
    dy_mat = dy.reshape(n * oh * ow, f)
    dxp = np.zeros(xp.shape, dtype=xp.dtype) if input_gradient else None
    dw = np.empty(w.shape, dtype=xp.dtype)
    with kernel_threads():
        for g in range(groups):
            fs = slice(g * fg, (g + 1) * fg)
            cols = (columns[g] if columns is not None
                    else _columns(xp, fh, fw, stride, dilation, oh, ow, g * cg, cg))
            wg = w[..., fs].reshape(fh * fw * cg, fg)
            dyg = dy_mat[:, fs]
            dw[..., fs] = (cols.T @ dyg).reshape(fh, fw, cg, fg)
            if input_gradient:
                col2im(np.ascontiguousarray(dyg @ wg.T), dxp, fh, fw, stride[0], stride[1],
                       dilation[0], dilation[1], oh, ow, g * cg, cg)
    db = _column_sums(dy_mat).astype(db_dtype)
    return dxp, dw, db


def _transpose_geometry(x, w, stride):
    _check_rank("input", x, 4)
    _check_rank("weights", w, 4)
    if x.shape[3] != w.shape[3]:
        raise ValueError(f"conv2d_transpose: input has {x.shape[3]} channels, weights expect "
                         f"{w.shape[3]}")
    if min(stride) < 1:
        raise ValueError(f"conv2d_transpose: stride {stride} must be ≥ 1")
    n, h, wd, _ = x.shape
    fh, fw, f, _ = w.shape
    return (h - 1) * stride[0] + fh, (wd - 1) * stride[1] + fw


def conv2d_transpose_forward(x, w, b, stride=(1, 1)):
    """x N×H×W×C, w FH×FW×F×C, b (F,) -> y_full N×((H-1)·sh+FH)×((W-1)·sw+FW)×F, uncropped.

    Each input pixel's row of x·Wᵀ is one filter-sized patch; col2im adds the patches at
    stride s (exactly the input gradient of a stride-s convolution).
    """
    x, w, b = _arrays(np.asarray(x).dtype, x, w, b)
    hf, wf = _transpose_geometry(x, w, stride)
    n, h, wd, c = x.shape
    fh, fw, f, _ = w.shape
    if b.shape != (f,):
        raise ValueError(f"conv2d_transpose: bias has shape {b.shape}, expected ({f},)")
    y = np.zeros((n, hf, wf, f), dtype=x.dtype)
    with kernel_threads():
        patches = x.reshape(n * h * wd, c) @ w.reshape(fh * fw * f, c).T
        col2im(patches, y, fh, fw, stride[0], stride[1], 1, 1, h, wd, 0, f)
    _add_bias(y.reshape(-1, f), b)
    return y


def conv2d_transpose_backward(x, w, dy_full, stride=(1, 1)):
    """Gradients (dx, dw, db) of :func:`conv2d_transpose_forward` given dy_full (uncropped)."""
    db_dtype = np.asarray(dy_full).dtype
    x, w, dy_full = _arrays(np.result_type(x, dy_full), x, w, dy_full)
    hf, wf = _transpose_geometry(x, w, stride)
    n, h, wd, c = x.shape
    fh, fw, f, _ = w.shape
    if dy_full.shape != (n, hf, wf, f):
        raise ValueError(f"conv2d_transpose: output gradient has shape {dy_full.shape}, "
                         f"expected {(n, hf, wf, f)}")
    with kernel_threads():
        # row (n, i, j) of cols = the output window input pixel (i, j) scattered into
        cols = im2col(dy_full, fh, fw, stride[0], stride[1], 1, 1, h, wd, 0, f)
        wmat = w.reshape(fh * fw * f, c)
        dx = (cols @ wmat).reshape(n, h, wd, c)
        dw = (cols.T @ x.reshape(n * h * wd, c)).reshape(w.shape)
    db = _column_sums(dy_full.reshape(-1, f)).astype(db_dtype)
    return dx, dw, db
