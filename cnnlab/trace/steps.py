"""One window of a convolution or pooling, derived on demand from a trace's recorded arrays.

A step is never stored: ``LayerRecord.steps()`` builds each one from the padded input and the
(dilated) filter the layer recorded, with the formula of the reference kernels written out —

    convolution    value = Σ_{u, v, c} xp[row·sh + u·dh, col·sw + v·dw, c] · w[u, v, c, f] + b[f]
    max pooling    value = max of xp[row·sh + u, col·sw + v, c]   (first maximum wins)
    average        value = (1 / (PH·PW)) · Σ xp[row·sh + u, col·sw + v, c]

— so a trace of LeNet-5 on one image holds about 60 KB of arrays, not the megabytes that 4,704
stored windows would take. Tests check that every step's value equals the recorded output
(computed by the network's own fast or reference kernels) to float tolerance.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _fmt(v) -> str:
    """A number as a person writes it: 3 not 3.0, 0.25, -1.5, 0.0123, -inf (max-pool padding).

    >>> [_fmt(3.0), _fmt(0.25), _fmt(float("-inf"))]
    ['3', '0.25', '-inf']
    """
    v = float(v)
    if not np.isfinite(v):
        return "nan" if np.isnan(v) else ("-inf" if v < 0 else "inf")
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


def _sum_text(patch, weights, bias, value, max_terms):
    terms = [f"{_fmt(w)}·{_fmt(x)}" for x, w in zip(patch.ravel(), weights.ravel())]
    if len(terms) > max_terms:
        keep = max(2, max_terms - 2)         # the first terms, a count of the hidden ones,
        hidden = len(terms) - keep - 2       # and the last two
        terms = terms[:keep] + [f"... {hidden} more ..."] + terms[-2:]
    return " + ".join(terms) + f" + bias {_fmt(bias)} = {_fmt(value)}"


@dataclass(frozen=True)
class WindowStep:
    """One output position of a convolution (or transposed convolution, read as one).

    row, col : the output position; filter : which filter; channels : input channels it sees
    top, left, bottom, right : the window in padded-input coordinates (bottom/right exclusive;
        with dilation the window spans the effective filter)
    rows, cols : the padded-input rows and columns actually read (every dh-th / dw-th)
    patch : FH×FW×Cg input values read;  weights : FH×FW×Cg of this filter
    products : patch·weights;  channel_sums : (Cg,) sum of products per input channel
    total : Σ products;  bias;  value : total + bias (= the recorded output to float tolerance)
    output : the value the network's kernels recorded at (row, col, filter)
    padding : FH×FW×Cg bool, True where the window reads a padding cell
    """
    row: int
    col: int
    filter: int
    channels: tuple
    top: int
    left: int
    bottom: int
    right: int
    rows: np.ndarray
    cols: np.ndarray
    patch: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    channel_sums: np.ndarray
    total: float
    bias: float
    value: float
    output: float
    padding: np.ndarray = field(repr=False)

    def text(self, max_terms: int = 12) -> str:
        """The sum written out: ``w·x + w·x + ... + bias b = value``."""
        head = f"output ({self.row}, {self.col}) of filter {self.filter}: "
        return head + _sum_text(self.patch, self.weights, self.bias, self.value, max_terms)

    def __str__(self):
        return self.text()


@dataclass(frozen=True)
class PoolStep:
    """One output position of a pooling layer, for one channel.

    patch : PH×PW values of the window (padding cells included: -inf for max pooling,
        0 for average pooling, as the layer pads); padding : PH×PW bool
    value : the recorded output; winner : (row, col) of the maximum in padded coordinates
        (max pooling; first maximum in row-major order); mean : the average (average pooling)
    """
    row: int
    col: int
    channel: int
    top: int
    left: int
    bottom: int
    right: int
    patch: np.ndarray
    padding: np.ndarray
    mode: str
    value: float
    output: float
    winner: tuple | None = None
    mean: float | None = None

    def text(self, max_terms: int = 16) -> str:
        cells = [_fmt(v) for v in self.patch.ravel()]
        if len(cells) > max_terms:
            cells = cells[:max_terms - 2] + ["...", cells[-1]]
        head = f"output ({self.row}, {self.col}) of channel {self.channel}: "
        if self.mode.endswith("max"):
            return head + f"max({', '.join(cells)}) = {_fmt(self.value)} at {self.winner}"
        return (head + f"({' + '.join(cells)}) / {self.patch.size} = {_fmt(self.value)}")

    def __str__(self):
        return self.text()


@dataclass(frozen=True)
class BackwardStep:
    """How one output gradient of a convolution flows back (the chain rule for one window).

    output_gradient : dL/dy at (row, col, filter)
    input_gradient : FH×FW×Cg, dL/dy · weights, added to the padded-input gradient at
        (rows, cols, channels)
    weight_gradient : FH×FW×Cg, dL/dy · patch, added to the filter's weight gradient
    bias_gradient : dL/dy, added to the filter's bias gradient
    """
    row: int
    col: int
    filter: int
    channels: tuple
    rows: np.ndarray
    cols: np.ndarray
    output_gradient: float
    input_gradient: np.ndarray
    weight_gradient: np.ndarray
    bias_gradient: float

    def __str__(self):
        return (f"dL/dy({self.row}, {self.col}, filter {self.filter}) = "
                f"{_fmt(self.output_gradient)}: adds dL/dy·w to {self.input_gradient.size} "
                f"input cells and dL/dy·x to {self.weight_gradient.size} weights")


def conv_step(xp, pad_mask, w, b, stride, dilation, groups, row, col, f, output):
    """The WindowStep of a convolution at (row, col) for filter f (see the module formula)."""
    fh, fw, cg, nf = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    g = f // (nf // groups)
    channels = tuple(range(g * cg, (g + 1) * cg))
    rows = row * sh + dh * np.arange(fh)
    cols = col * sw + dw * np.arange(fw)
    patch = xp[np.ix_(rows, cols, channels)]
    weights = w[:, :, :, f]
    products = patch * weights
    total = products.sum(dtype=np.float64)
    bias = float(b[f])
    return WindowStep(
        row=row, col=col, filter=f, channels=channels, top=int(rows[0]), left=int(cols[0]),
        bottom=int(rows[-1]) + 1, right=int(cols[-1]) + 1, rows=rows, cols=cols, patch=patch,
        weights=weights, products=products,
        channel_sums=products.sum(axis=(0, 1), dtype=np.float64), total=float(total),
        bias=bias, value=float(total) + bias, output=float(output),
        padding=np.broadcast_to(pad_mask[np.ix_(rows, cols)][:, :, None], patch.shape))


def conv_backward_step(xp, w, dy, stride, dilation, groups, row, col, f):
    fh, fw, cg, nf = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    g = f // (nf // groups)
    channels = tuple(range(g * cg, (g + 1) * cg))
    rows = row * sh + dh * np.arange(fh)
    cols = col * sw + dw * np.arange(fw)
    grad = dy[row, col, f]
    return BackwardStep(row=row, col=col, filter=f, channels=channels, rows=rows, cols=cols,
                        output_gradient=float(grad), input_gradient=grad * w[:, :, :, f],
                        weight_gradient=grad * xp[np.ix_(rows, cols, channels)],
                        bias_gradient=float(grad))


def pool_step(xp, pad_mask, pool, stride, mode, row, col, c, output, argmax=None):
    (ph, pw), (sh, sw) = pool, stride
    top, left = row * sh, col * sw
    patch = xp[top:top + ph, left:left + pw, c]
    winner = mean = None
    if mode == "max":
        k = int(np.argmax(patch))                      # the first maximum, as the kernels
        winner = (top + k // pw, left + k % pw)
        if argmax is not None:
            winner = tuple(int(v) for v in argmax[row, col, c])
        value = float(xp[winner[0], winner[1], c])
    else:
        mean = float(patch.sum(dtype=np.float64) / patch.size)
        value = mean
    return PoolStep(row=row, col=col, channel=c, top=top, left=left, bottom=top + ph,
                    right=left + pw, patch=patch, padding=pad_mask[top:top + ph, left:left + pw],
                    mode=mode, value=value, output=float(output), winner=winner, mean=mean)
