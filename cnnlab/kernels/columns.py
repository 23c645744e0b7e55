"""im2col for people: the column matrix that turns a convolution into one matrix product.

A convolution's output (n, i, j, f) is the sum over one window of the (padded) input times
filter f. Copy every window into one row of a matrix, in (u, v, c) order,

    cols[(n·OH + i)·OW + j, (u·FW + v)·C + c] = xp[n, i·sh + u·dh, j·sw + v·dw, c]

and the whole layer, every image, position and filter at once, is

    y = cols · W + b,        W = weights.reshape(FH·FW·C, F)   (weights FH×FW×C×F)

an (N·OH·OW)×(FH·FW·C) matrix times an (FH·FW·C)×F one: what BLAS does fastest. The price is
memory: each input value is copied into up to FH·FW rows.

:func:`im2col` pads the input with the layer's padding rule (``kernels/padding.py``) and
gathers the windows with the kernel the fast backend's convolution really uses
(``kernels/fast/im2col.py``, Numba), or, where Numba is missing or ``backend="reference"``
is asked for, with NumPy slicing (one strided slice per filter tap). Both give the same
matrix, bit for bit: a gather only copies.
"""
from __future__ import annotations

import numpy as np

from . import resolve_backend
from .padding import check_padding_value, pad


def _pair(value, name):
    v = (value, value) if isinstance(value, (int, np.integer)) else tuple(np.ravel(value))
    if len(v) != 2 or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                              and a >= 1 for a in v):
        raise ValueError(f"im2col: {name} = {value!r}: expected a positive integer or "
                         "(height, width) of positive integers")
    return int(v[0]), int(v[1])


def _pads(padding):
    """(top, bottom, left, right) from an int, (rows, columns) or four values."""
    v = (padding,) if isinstance(padding, (int, np.integer)) else tuple(np.ravel(padding))
    ok = all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) and a >= 0 for a in v)
    if not ok or len(v) not in (1, 2, 4):
        raise ValueError(f"im2col: padding = {padding!r}: expected a nonnegative integer, "
                         "(rows, columns) or (top, bottom, left, right)")
    if len(v) == 1:
        v = v * 4
    elif len(v) == 2:
        v = (v[0], v[0], v[1], v[1])
    return tuple(int(a) for a in v)


def _gather_numpy(xp, fh, fw, sh, sw, dh, dw, oh, ow):
    """The same matrix with NumPy: for each tap (u, v), the strided slice of the inputs it
    meets at every output position."""
    n, _, _, c = xp.shape
    out = np.empty((n, oh, ow, fh, fw, c), dtype=xp.dtype)
    for u in range(fh):
        for v in range(fw):
            out[:, :, :, u, v, :] = xp[:, u * dh:u * dh + (oh - 1) * sh + 1:sh,
                                       v * dw:v * dw + (ow - 1) * sw + 1:sw, :]
    return out.reshape(n * oh * ow, fh * fw * c)


def im2col(x, filter_size, *, stride=1, dilation=1, padding=0, padding_value=0,
           backend: str = "auto") -> np.ndarray:
    """The column matrix (N·OH·OW)×(FH·FW·C) of ``x`` (N×H×W×C, or one image H×W×C) for a
    convolution with this filter size, stride, dilation and padding (module docstring).

    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> im2col(x, 2, backend="reference")        # four 2×2 windows, one per row
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    arr = np.asarray(x)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or 0 in arr.shape:
        raise ValueError(f"im2col: x has shape {np.shape(x)}; expected N x H x W x C (or one "
                         "image H x W x C), no dimension 0")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) \
            or arr.dtype == bool:
        raise ValueError(f"im2col: x has dtype {arr.dtype}; expected real numbers")
    fh, fw = _pair(filter_size, "filter_size")
    sh, sw = _pair(stride, "stride")
    dh, dw = _pair(dilation, "dilation")
    t, b, l, r = _pads(padding)
    value = check_padding_value("im2col", padding_value)
    dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64
    xp = np.ascontiguousarray(pad(arr.astype(dtype, copy=False), (t, b, l, r), value))
    n, hp, wp, c = xp.shape
    eh, ew = (fh - 1) * dh + 1, (fw - 1) * dw + 1          # the dilated filter's extent
    if eh > hp or ew > wp:
        raise ValueError(f"im2col: the {eh}x{ew} (dilated) filter does not fit in the padded "
                         f"{hp}x{wp} input ({arr.shape[1]}x{arr.shape[2]} + padding "
                         f"{t}+{b}, {l}+{r})")
    oh, ow = (hp - eh) // sh + 1, (wp - ew) // sw + 1      # floor((H + P - E)/S) + 1
    if resolve_backend(backend) == "fast":
        from .fast.im2col import im2col as gather
        return gather(xp, fh, fw, sh, sw, dh, dw, oh, ow, 0, c)
    return _gather_numpy(xp, fh, fw, sh, sw, dh, dw, oh, ow)
