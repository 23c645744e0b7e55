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
and wording, because Numba does not check bounds. Each call runs over chunks of images on the
chunk pool (``chunked.py``): a chunk gathers (or scatters) its own images and runs its own
rows' matrix products, BLAS on one thread per chunk (``threads.py``), so no OpenMP region and
no BLAS thread pool compete for the two cores.
"""
from __future__ import annotations

import numba
import numpy as np

from ..reference.conv import _check_groups, _output_size
from .chunked import run_chunks
from .im2col import check_window, col2im_range, im2col_range, planes_range
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


@numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _add_bias(y2, b):
    """y2[r, f] += b[f] in place, row by row (NumPy's broadcast over a short inner axis of a
    few filters is several times slower). No fast-math flag touches NaN or inf."""
    rows, nf = y2.shape
    for r in range(rows):
        for f in range(nf):
            y2[r, f] += b[f]


@numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
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


def _gather(xp, cols, geo, c0, cg, lo, hi):
    """Fill the rows of images lo..hi-1 of a group's column matrix (one nogil call)."""
    if cg == 1:
        planes_range(xp, cols, *geo, c0, lo, hi)
    else:
        im2col_range(xp, cols, *geo, c0, cg, lo, hi)


def _new_columns(n, geo, cg, dtype):
    """A column matrix for n images: (N·OH·OW)×(FH·FW·Cg), stored transposed when Cg = 1."""
    fh, fw, _, _, _, _, oh, ow = geo
    if cg == 1:
        return np.empty((fh * fw, n * oh * ow), dtype=dtype)
    return np.empty((n * oh * ow, fh * fw * cg), dtype=dtype)


def _rows(cols, cg, r):
    """Rows r of the (N·OH·OW)×(FH·FW·Cg) matrix (a transposed view when Cg = 1)."""
    return cols[:, r].T if cg == 1 else cols[r]


def _group_weights(w, groups):
    """Each group's FH·FW·Cg × F/G weight matrix, C-contiguous for BLAS."""
    fh, fw, cg, f = w.shape
    fg = f // groups
    return [np.ascontiguousarray(w[..., g * fg:(g + 1) * fg]).reshape(fh * fw * cg, fg)
            for g in range(groups)]


def conv2d_forward(xp, w, b, stride=(1, 1), dilation=(1, 1), groups=1, workspace=None):
    """xp N×Hp×Wp×C (padded), w FH×FW×(C/G)×F, b (F,) -> y N×OH×OW×F (see the reference).

    ``workspace``: a dict the caller keeps between this forward call and the backward call
    on the same input; the column matrices are left in it so the backward pass does not
    gather the windows a second time.

    Runs over chunks of images (``chunked.py``): each chunk gathers its images' rows of the
    column matrices, multiplies them by the weights (BLAS on one thread, without the GIL)
    and adds the bias, so both cores work on the gather and on the product.
    """
    xp, w, b = _arrays(np.asarray(xp).dtype, xp, w, b)
    oh, ow = _geometry(xp, w, stride, dilation, groups)
    n, _, _, c = xp.shape
    fh, fw, cg, f = w.shape
    if b.shape != (f,):
        raise ValueError(f"conv2d: bias has shape {b.shape}, expected ({f},)")
    geo = (fh, fw, stride[0], stride[1], dilation[0], dilation[1], oh, ow)
    check_window("conv2d", xp, *geo, 0, c)
    fg, per = f // groups, oh * ow
    columns = [_new_columns(n, geo, cg, xp.dtype) for _ in range(groups)]
    wmats = _group_weights(w, groups)
    y = np.empty((n * per, f), dtype=xp.dtype)

    def chunk(lo, hi):
        r = slice(lo * per, hi * per)
        for g, cols in enumerate(columns):
            _gather(xp, cols, geo, g * cg, cg, lo, hi)
            if groups == 1:                  # the product is the output: no copy into y
                np.matmul(_rows(cols, cg, r), wmats[0], out=y[r])
            else:
                y[r, g * fg:(g + 1) * fg] = _rows(cols, cg, r) @ wmats[g]
        _add_bias(y[r], b)

    with kernel_threads():
        run_chunks(chunk, n, n * per * (fh * fw * c + f))
    if workspace is not None:
        workspace.clear()
        workspace.update(xp=xp, columns=columns)
    return y.reshape(n, oh, ow, f)


def _sum_parts(parts):
    """Σ of per-chunk partial gradients, in chunk order (the same sum on every run)."""
    total = None
    for lo in sorted(parts):
        total = parts[lo] if total is None else total + parts[lo]
    return total


def conv2d_backward(xp, w, dy, stride=(1, 1), dilation=(1, 1), groups=1, workspace=None,
                    input_gradient=True):
    """Gradients (dxp, dw, db) of :func:`conv2d_forward` given dy N×OH×OW×F.

    ``workspace``: the dict given to the forward pass on this same input (re-uses its column
    matrices). ``input_gradient=False`` skips dxp (returned as None): the first convolution
    of a network needs no gradient for the image, and col2im is half its backward cost.

    Runs over chunks of images: a chunk takes its rows of the columns (or gathers them into
    its own buffer), adds colsᵀ·dY of its rows to its own partial dW (summed afterwards in
    chunk order), and scatters dY·Wᵀ of its rows onto its own images of dxp.
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
    geo = (fh, fw, stride[0], stride[1], dilation[0], dilation[1], oh, ow)
    check_window("conv2d", xp, *geo, 0, c)
    if columns is not None and any(cols.dtype != xp.dtype for cols in columns):
        columns = None                               # a dtype the forward pass did not use
    fg, per = f // groups, oh * ow
    dy_mat = dy.reshape(n * per, f)
    dxp = np.zeros(xp.shape, dtype=xp.dtype) if input_gradient else None
    wmats = _group_weights(w, groups)
    parts = {}                                       # lo -> that chunk's dW, groups×K×F/G

    def chunk(lo, hi):
        r = slice(lo * per, hi * per)
        part = np.empty((groups, fh * fw * cg, fg), dtype=xp.dtype)
        for g in range(groups):
            if columns is not None:
                rows = _rows(columns[g], cg, r)
            else:                                    # this chunk's images only
                own = _new_columns(hi - lo, geo, cg, xp.dtype)
                _gather(xp[lo:hi], own, geo, g * cg, cg, 0, hi - lo)
                rows = own.T if cg == 1 else own
            dyg = dy_mat[r, g * fg:(g + 1) * fg]
            if cg == 1:                              # (K×R)·(R×F): the planes as stored
                np.matmul(rows.T, dyg, out=part[g])
            else:
                # (dYᵀ·cols)ᵀ, not colsᵀ·dY: OpenBLAS runs this shape (a long sum into a
                # small K×F) 1.5–1.8× faster with the F rows of dYᵀ as the left operand
                part[g] = (dyg.T @ rows).T
            if input_gradient:
                dcols = dyg @ wmats[g].T             # C-contiguous (rows, FH·FW·Cg)
                col2im_range(dcols, dxp[lo:hi], *geo, g * cg, cg, 0, hi - lo)
        parts[lo] = part

    with kernel_threads():
        run_chunks(chunk, n, n * per * (fh * fw * c + f))
    total = _sum_parts(parts)
    dw = np.empty(w.shape, dtype=xp.dtype)
    for g in range(groups):
        dw[..., g * fg:(g + 1) * fg] = total[g].reshape(fh, fw, cg, fg)
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
    stride s (exactly the input gradient of a stride-s convolution). Over chunks of images:
    each chunk makes its own images' patches and scatters them onto its own images of y.
    """
    x, w, b = _arrays(np.asarray(x).dtype, x, w, b)
    hf, wf = _transpose_geometry(x, w, stride)
    n, h, wd, c = x.shape
    fh, fw, f, _ = w.shape
    if b.shape != (f,):
        raise ValueError(f"conv2d_transpose: bias has shape {b.shape}, expected ({f},)")
    y = np.zeros((n, hf, wf, f), dtype=x.dtype)
    geo = (fh, fw, stride[0], stride[1], 1, 1, h, wd)
    check_window("conv2d_transpose", y, *geo, 0, f)
    x2, wt = x.reshape(n * h * wd, c), w.reshape(fh * fw * f, c).T

    def chunk(lo, hi):
        patches = x2[lo * h * wd:hi * h * wd] @ wt
        col2im_range(patches, y[lo:hi], *geo, 0, f, 0, hi - lo)
        _add_bias(y[lo:hi].reshape(-1, f), b)

    with kernel_threads():
        run_chunks(chunk, n, n * h * wd * fh * fw * f + y.size)
    return y


def conv2d_transpose_backward(x, w, dy_full, stride=(1, 1)):
    """Gradients (dx, dw, db) of :func:`conv2d_transpose_forward` given dy_full (uncropped).

    Row (n, i, j) of the gathered columns is the output window input pixel (i, j) was
    scattered into: dx = cols·W and dW = colsᵀ·x, per chunk of images (dW partial per chunk,
    summed in chunk order)."""
    db_dtype = np.asarray(dy_full).dtype
    x, w, dy_full = _arrays(np.result_type(x, dy_full), x, w, dy_full)
    hf, wf = _transpose_geometry(x, w, stride)
    n, h, wd, c = x.shape
    fh, fw, f, _ = w.shape
    if dy_full.shape != (n, hf, wf, f):
        raise ValueError(f"conv2d_transpose: output gradient has shape {dy_full.shape}, "
                         f"expected {(n, hf, wf, f)}")
    geo = (fh, fw, stride[0], stride[1], 1, 1, h, wd)
    check_window("conv2d_transpose", dy_full, *geo, 0, f)
    wmat, x2 = w.reshape(fh * fw * f, c), x.reshape(n * h * wd, c)
    dx = np.empty((n * h * wd, c), dtype=x.dtype)
    parts = {}

    def chunk(lo, hi):
        r = slice(lo * h * wd, hi * h * wd)
        cols = np.empty(((hi - lo) * h * wd, fh * fw * f), dtype=x.dtype)
        im2col_range(dy_full[lo:hi], cols, *geo, 0, f, 0, hi - lo)
        np.matmul(cols, wmat, out=dx[r])
        parts[lo] = (x2[r].T @ cols).T               # = colsᵀ·x, in the faster order

    with kernel_threads():
        run_chunks(chunk, n, n * h * wd * fh * fw * f + dy_full.size)
    dw = _sum_parts(parts).reshape(w.shape)
    db = _column_sums(dy_full.reshape(-1, f)).astype(db_dtype)
    return dx.reshape(n, h, wd, c), dw, db
