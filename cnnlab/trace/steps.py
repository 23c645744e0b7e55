"""One window of a convolution or pooling, derived on demand from a trace's recorded arrays.

A step is never stored: ``LayerRecord.steps()`` builds each one from the padded input and the
(dilated) filter the layer recorded, with the formula of the reference kernels written out —

    convolution    value = Σ_{u, v, c} xp[row·sh + u·dh, col·sw + v·dw, c] · w[u, v, c, f] + b[f]
    max pooling    value = max of xp[row·sh + u, col·sw + v, c]   (first maximum wins)
    average        value = (1 / (PH·PW)) · Σ xp[row·sh + u, col·sw + v, c]

— so a trace of LeNet-5 on one image holds about 60 KB of arrays, not the megabytes that 4,704
stored windows would take. Tests check that every step's value equals the recorded output
(computed by the network's own fast or reference kernels) to float tolerance.

The sums a step writes out add up as printed: the digits follow ``cnnlab.trace.sums`` (one
number of decimals for everything added in a caption; "≈" where the printed terms do not
add exactly to the printed total).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .. import arithmetic as ar
from . import sums as printed


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
    flat_index : (row·OW + col)·F + filter, the position in the flattened output
    channel (property) : the filter (the output channel);  reads (property) : which window
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
    flat_index: int = -1

    @property
    def channel(self) -> int:
        return self.filter

    @property
    def reads(self) -> str:
        return (f"the window rows {self.top}..{self.bottom - 1}, cols {self.left}.."
                f"{self.right - 1} of the padded input, channels "
                f"{', '.join(map(str, self.channels))}, and filter {self.filter}")

    @cached_property
    def decimals(self) -> int:
        """Decimals of every number this step adds — the products (as the step pictures
        write them), each channel's sum, the total, the bias, the value — by the rule of
        ``cnnlab.trace.sums``: chosen so that the channel sums add up to the total and total
        and bias to the value as printed, and where possible each channel's products (as the
        step pictures write them) to its sum."""
        per_channel = self.products.reshape(-1, self.products.shape[-1])
        cells = [(list(per_channel[:, k]), self.channel_sums[k])
                 for k in range(per_channel.shape[1])]
        sums = [([self.total, self.bias], self.value)]
        if len(self.channels) > 1:
            sums.insert(0, (list(self.channel_sums), self.total))
        return printed.choose_decimals([*per_channel.ravel(), *self.channel_sums, self.total,
                                        self.bias, self.value], sums, cells)

    def number(self, v) -> str:
        """``v`` printed as this step prints what it adds (``decimals`` places)."""
        return printed.fixed(v, self.decimals)

    def products_text(self, max_terms: int = 12, *, bias: bool = True) -> str:
        """``w·x + w·x + ... + bias b = value`` (or just the products, ``bias=False``).

        "=" means: the printed factors multiplied, added with the printed bias and rounded to
        the printed value's decimals give the printed value; otherwise "≈". With more than
        ``max_terms`` products the middle ones are counted, not written.
        """
        pairs = [(printed.factor(w), printed.factor(x))
                 for x, w in zip(self.patch.ravel(), self.weights.ravel())]
        terms = [printed.product_term(w, x) for w, x in pairs]
        whole = len(terms) <= max_terms
        if not whole:
            keep = max(2, max_terms - 2)         # the first terms, a count of the hidden ones,
            hidden = len(terms) - keep - 2       # and the last two
            terms = terms[:keep] + [f"... {hidden} more ..."] + terms[-2:]
        if not bias:
            return printed.join_terms(terms)
        b, v = self.number(self.bias), self.number(self.value)
        rel = printed.products_relation(pairs, b, v) if whole else "="
        return printed.join_terms(terms) + f" + bias {b} {rel} {v}"

    def channel_sums_text(self, max_channels: int = 8) -> str:
        """``channel sums (0, 1, 2): s0 + s1 + s2 = total`` at this step's decimals."""
        chans, sums = self.channels, list(self.channel_sums)
        names = ", ".join(map(str, chans[:max_channels])) + (
            ", ..." if len(chans) > max_channels else "")
        if len(sums) > max_channels:
            shown = printed.join_terms([self.number(v) for v in sums[:max_channels]])
            body = (f"{shown} + ... ({len(sums)} channels) = {self.number(self.total)}")
        else:
            body = printed.sum_text(sums, self.total, self.decimals)
        return f"channel sums ({names}): {body}"

    def channel_sum_text(self, k: int) -> str:
        """``sum = s`` of channel index ``k`` (into ``channels``): "≈" when its products,
        printed at this step's decimals, do not add to it exactly."""
        terms = [self.number(v) for v in self.products[:, :, k].ravel()]
        s = self.number(self.channel_sums[k])
        return f"sum {printed.relation(printed.adds_up(terms, s))} {s}"

    def total_text(self) -> str:
        """``total t + bias b = value`` at this step's decimals."""
        t, b, v = (self.number(x) for x in (self.total, self.bias, self.value))
        return f"total {t} + bias {b} {printed.relation(printed.adds_up([t, b], v))} {v}"

    def text(self, max_terms: int = 12) -> str:
        """The sum written out: ``w·x + w·x + ... + bias b = value``."""
        head = f"output ({self.row}, {self.col}) of filter {self.filter}: "
        return head + self.products_text(max_terms)

    def __str__(self):
        return self.text()


@dataclass(frozen=True)
class PoolStep:
    """One output position of a pooling layer, for one channel.

    patch : PH×PW values of the window (padding cells included: -inf for max pooling,
        0 for average pooling, as the layer pads); padding : PH×PW bool
    value : the recorded output; winner : (row, col) of the maximum in padded coordinates
        (max pooling; first maximum in row-major order); mean : the average (average pooling)
    flat_index : (row·OW + col)·C + channel;  reads (property) : which window
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
    flat_index: int = -1

    @property
    def reads(self) -> str:
        return (f"the window rows {self.top}..{self.bottom - 1}, cols {self.left}.."
                f"{self.right - 1} of channel {self.channel} of the padded input")

    def body_text(self, max_terms: int = 16) -> str:
        """``max(a, b, c, d) = v`` or ``(a + b + c + d) / 4 = S / 4 = v``.

        Average (``cnnlab.trace.sums``): the cells and their sum S share one number of
        decimals, "=" when the printed cells add to the printed S exactly; the mean has 4
        significant figures, "=" when S / n rounded to its decimals is the printed mean.
        """
        if self.mode.endswith("max"):
            cells = [printed.factor(v) for v in self.patch.ravel()]
            if len(cells) > max_terms:
                cells = cells[:max_terms - 2] + ["...", cells[-1]]
            return f"max({', '.join(cells)}) = {printed.factor(self.value)}"
        values = [float(v) for v in self.patch.ravel()]
        total = float(np.sum(self.patch, dtype=np.float64))
        d = printed.choose_decimals(values + [total], [(values, total)])
        cells = [printed.fixed(v, d) for v in values]
        shown_total = printed.fixed(total, d)
        first = printed.relation(printed.adds_up(cells, shown_total))
        if len(cells) > max_terms:
            cells, first = cells[:max_terms - 2] + ["...", cells[-1]], "="
        mean = printed.factor(self.value)
        second = printed.mean_relation(shown_total, len(values), mean)
        return (f"({printed.join_terms(cells)}) / {len(values)} {first} {shown_total} / "
                f"{len(values)} {second} {mean}")

    def text(self, max_terms: int = 16) -> str:
        head = f"output ({self.row}, {self.col}) of channel {self.channel}: "
        if self.mode.endswith("max"):
            return head + self.body_text(max_terms) + f" at {self.winner}"
        return head + self.body_text(max_terms)

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
                f"{printed.factor(self.output_gradient)}: adds dL/dy·w to {self.input_gradient.size} "
                f"input cells and dL/dy·x to {self.weight_gradient.size} weights")


def conv_step(xp, pad_mask, w, b, stride, dilation, groups, row, col, f, output,
              flat_index=-1):
    """The WindowStep of a convolution at (row, col) for filter f (see the module formula)."""
    fh, fw, cg, nf = w.shape
    channels = ar.group_channels(f, num_filters=nf, groups=groups, channels_per_group=cg)
    rows, cols = ar.window_taps(stride, dilation, (fh, fw), row, col)
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
        padding=np.broadcast_to(pad_mask[np.ix_(rows, cols)][:, :, None], patch.shape),
        flat_index=flat_index)


def conv_backward_step(xp, w, dy, stride, dilation, groups, row, col, f):
    fh, fw, cg, nf = w.shape
    channels = ar.group_channels(f, num_filters=nf, groups=groups, channels_per_group=cg)
    rows, cols = ar.window_taps(stride, dilation, (fh, fw), row, col)
    grad = dy[row, col, f]
    return BackwardStep(row=row, col=col, filter=f, channels=channels, rows=rows, cols=cols,
                        output_gradient=float(grad), input_gradient=grad * w[:, :, :, f],
                        weight_gradient=grad * xp[np.ix_(rows, cols, channels)],
                        bias_gradient=float(grad))


def pool_step(xp, pad_mask, pool, stride, mode, row, col, c, output, argmax=None,
              flat_index=-1):
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
                    mode=mode, value=value, output=float(output), winner=winner, mean=mean,
                    flat_index=flat_index)
