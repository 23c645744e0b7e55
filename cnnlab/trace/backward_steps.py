"""Backward steps: the chain rule one layer at a time, one input element per step.

A record traced with ``backward=True`` has ``rec.num_backward_steps`` (one per input element)
and ``rec.backward_step_at(k)``; the steps walk the layer's INPUT in the order its forward
steps walk its output (channel by channel, each row by row; flat order for fully connected,
softmax and output layers). Step k is

    dL/dx_i = Σ_j dL/dy_j · ∂y_j/∂x_i          (over the outputs j that read x_i)

with the incoming gradients dL/dy_j (``incoming``, from ``rec.output_gradient``), the local
derivatives ∂y_j/∂x_i (``local``) and their products; its ``value`` is the sum, equal to the
recorded ``rec.input_gradient`` element (``output``) to float tolerance. Local derivatives:

    image input      1/scale                        relu        [x > 0]
    leaky relu       1 if x > 0 else scale          clipped     [0 < x < ceiling]
    tanh             1 − tanh(x)²                   sigmoid     σ(x)·(1 − σ(x))
    dropout          1/(1 − p) kept, 0 dropped (training); 1 (prediction)
    batch norm       prediction: γ/σ.  training (μ, σ² depend on x): three terms,
                     dL/dy_i·γ/σ − Σdy·γ/(M·σ) − Σ(dy·x̂)·x̂_i·γ/(M·σ), M = N·H·W, the two
                     batch sums being the recorded offset and scale gradients
    cross-channel    ∂y_c/∂x_j = [j = c]·base_c^−β − (2αβ/n)·x_c·x_j·base_c^(−β−1), over the c
                     whose window holds j
    softmax          ∂y_r/∂a_j = y_r·([r = j] − y_j), over the channels r of the position
    conv, pooling,   see ``backward_fanin.py`` (one term per output window that reads x_i)
    fully connected

Where the loss gradient starts, there is no incoming gradient (``LossGradientStep``):

    classification   dL/dy_i = −t_i / (N·y_i)     regression   dL/dy_i = (y_i − t_i) / N
    softmax followed by classification (the network's route): the softmax step is the
    combined dL/da_j = (y_j − t_j) / N, as ``rec.note`` says

with N the batch size of the traced pass. Parameter gradients have their own steps,
``rec.param_step_at(name, k)`` (``backward_fanin.py``). Steps are made on demand, never stored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..arithmetic.formatting import factor
from . import sums as printed
from .step_base import Step, flat_of, signed
from .steps_elementwise import ACTIVATIONS, input_step, sigmoid


@dataclass(frozen=True)
class GradientStep(Step):
    """dL/dx at one input element (``Step`` fields; row/col/channel/flat_index in the INPUT):

    local_formula : ∂y/∂x in words, e.g. "[x > 0]"
    sources : T×3 int array, the output (row, col, channel) of each term's dL/dy (-1 for a
        batch sum of batch norm in training)
    labels : T short names of the terms ("dL/dy(0, 1, 2)", "Σ dy", ...)
    incoming : (T,) the dL/dy read;  local : (T,) the ∂y/∂x;  products : incoming·local
    value : Σ products;  output : the recorded input gradient there
    """
    local_formula: str
    sources: np.ndarray
    labels: tuple
    incoming: np.ndarray
    local: np.ndarray
    products: np.ndarray

    @property
    def reads(self) -> str:
        n = len(self.incoming)
        return f"{n} incoming gradient{'s' if n != 1 else ''} " + ", ".join(self.labels[:4]) \
            + (", ..." if n > 4 else "")

    def sum_text(self, max_terms: int = 12) -> str:
        """``g·d + g·d + ... = value`` (rule 3 of ``cnnlab.trace.sums``: "=" when the printed
        factors multiplied and added round to the printed value)."""
        pairs = [(factor(g), factor(d)) for g, d in zip(self.incoming, self.local)]
        if not pairs:
            return f"0 (no output reads this element) = {factor(self.value)}"
        terms = [f"{g}·{d}" for g, d in pairs]
        whole = len(terms) <= max_terms
        if not whole:
            keep = max(2, max_terms - 2)
            terms = terms[:keep] + [f"... {len(terms) - keep - 2} more ..."] + terms[-2:]
        d = printed.decimals([self.value, *self.products])
        v = printed.fixed(self.value, d)
        rel = printed.products_relation(pairs, "0", v) if whole else "="
        if rel != "=":
            v1 = printed.fixed(self.value, min(d + 1, printed.MAX_DECIMALS))
            if printed.products_relation(pairs, "0", v1) == "=":
                v, rel = v1, "="
        return " + ".join(terms) + f" {rel} {v}"

    def text(self, max_terms: int = 12) -> str:
        return (f"dL/dx {self.where} = Σ dL/dy · ∂y/∂x, ∂y/∂x = {self.local_formula}: "
                + self.sum_text(max_terms))


@dataclass(frozen=True)
class LossGradientStep(Step):
    """Where the gradient starts (``Step`` fields plus): loss_kind "classification",
    "regression" or "softmax-classification"; y : the output (the probability, or the
    softmax output for the combined step); target : t; batch_size : N."""
    loss_kind: str
    y: float
    target: float
    batch_size: int

    @property
    def reads(self) -> str:
        return f"y = {factor(self.y)}, target t = {factor(self.target)}, N = {self.batch_size}"

    def text(self) -> str:
        y, t, n, v = factor(self.y), factor(self.target), self.batch_size, factor(self.value)
        if self.loss_kind == "classification":
            return f"dL/dy {self.where} = −t / (N·y) = −{signed(self.target)} / ({n}·{y}) = {v}"
        head = ("dL/da {} = (y − t) / N (softmax and cross-entropy together)"
                if self.loss_kind == "softmax-classification" else "dL/dy {} = (y − t) / N")
        return f"{head.format(self.where)} = ({y} − {signed(self.target)}) / {n} = {v}"


def require_backward(rec):
    if "input_gradient" not in rec.fields:
        raise ValueError(f"{rec.name}: trace with backward=True (and labels) to get backward "
                         "steps")


def _one(rec, row, col, ch, formula, local):
    """A one-term step: dL/dx = dL/dy at the same element · local."""
    g = float(rec.output_gradient[row, col, ch])
    return gradient_step(rec, row, col, ch, formula, np.array([[row, col, ch]]),
                     (f"dL/dy({row}, {col}, {ch})",), [g], [local])


def gradient_step(rec, row, col, ch, formula, sources, labels, incoming, local):
    incoming, local = np.asarray(incoming, float), np.asarray(local, float)
    products = incoming * local
    return GradientStep(row=row, col=col, channel=ch,
                        flat_index=flat_of(rec.input_shape, row, col, ch),
                        value=float(products.sum()),
                        output=float(rec.input_gradient[row, col, ch]),
                        local_formula=formula, sources=np.asarray(sources, int).reshape(-1, 3),
                        labels=tuple(labels), incoming=incoming, local=local, products=products)


def elementwise_gradient(rec, row, col, ch):
    """Image input, activations and dropout: one term each (module docstring)."""
    x = float(rec.input[row, col, ch])
    kind = rec.kind
    if kind == "imageinput":
        scale = input_step(rec, row, col, ch).scale
        return _one(rec, row, col, ch, f"1/scale = 1/{factor(scale)}", 1.0 / scale)
    if kind == "relu":
        return _one(rec, row, col, ch, f"[x > 0] at x = {factor(x)}", float(x > 0))
    if kind == "leakyrelu":
        s = float(rec.hyperparameters["scale"])
        return _one(rec, row, col, ch, f"1 if x > 0 else {factor(s)}, x = {factor(x)}",
                    1.0 if x > 0 else s)
    if kind == "clippedrelu":
        top = float(rec.hyperparameters["ceiling"])
        return _one(rec, row, col, ch, f"[0 < x < {factor(top)}] at x = {factor(x)}",
                    float(0 < x < top))
    if kind == "tanh":
        t = math.tanh(x)
        return _one(rec, row, col, ch, f"1 − tanh(x)² = 1 − {signed(t)}²", 1 - t * t)
    if kind == "sigmoid":
        s = sigmoid(x)
        return _one(rec, row, col, ch, f"σ(x)·(1 − σ(x)) = {factor(s)}·(1 − {factor(s)})",
                    s * (1 - s))
    # dropout
    if rec.mask is None:
        return _one(rec, row, col, ch, "1 (identity)", 1.0)
    kept = bool(rec.mask[row, col, ch])
    return _one(rec, row, col, ch, f"1/(1 − p) = {factor(rec.scale)} (kept)" if kept
                else "0 (dropped)", float(rec.scale) if kept else 0.0)


def batchnorm_gradient(rec, row, col, ch):
    gamma = float(rec.scale_param[ch])
    sigma = math.sqrt(float(rec.variance[ch]) + rec.epsilon)
    if not rec.mode.startswith("batch"):
        return _one(rec, row, col, ch, f"γ/σ = {factor(gamma)}/{factor(sigma)}", gamma / sigma)
    h, w, _ = rec.input_shape
    m = rec.batch_size * h * w
    xhat = float(rec.normalized[row, col, ch])
    sum_dy = float(rec.param_gradients["offset"][ch])         # Σ dy over the batch
    sum_dy_xhat = float(rec.param_gradients["scale"][ch])     # Σ dy·x̂ over the batch
    g = float(rec.output_gradient[row, col, ch])
    return gradient_step(rec, row, col, ch,
                     f"γ/σ, −γ/(M·σ), −x̂·γ/(M·σ) with γ = {factor(gamma)}, σ = {factor(sigma)},"
                     f" M = {m}, x̂ = {factor(xhat)} (the batch statistics depend on x)",
                     [[row, col, ch], [-1, -1, ch], [-1, -1, ch]],
                     (f"dL/dy({row}, {col}, {ch})", "Σ dy (batch)", "Σ dy·x̂ (batch)"),
                     [g, sum_dy, sum_dy_xhat],
                     [gamma / sigma, -gamma / (m * sigma), -xhat * gamma / (m * sigma)])


def crossnorm_gradient(rec, row, col, j):
    hp = rec.hyperparameters
    n, alpha, beta, k = int(hp["window_channel_size"]), hp["alpha"], hp["beta"], hp["k"]
    x = rec.input[row, col, :].astype(np.float64)
    sources, labels, incoming, local = [], [], [], []
    for c, (lo, hi) in enumerate(rec.windows):
        if not lo <= j <= hi:
            continue
        base = k + alpha * float(np.sum(x[lo:hi + 1] ** 2)) / n
        d = (base ** -beta if c == j else 0.0) \
            - 2 * alpha * beta / n * x[c] * x[j] * base ** (-beta - 1)
        sources.append([row, col, c])
        labels.append(f"dL/dy({row}, {col}, {c})")
        incoming.append(float(rec.output_gradient[row, col, c]))
        local.append(d)
    return gradient_step(rec, row, col, j, "[j = c]·base^−β − (2αβ/n)·x_c·x_j·base^(−β−1)",
                     sources, labels, incoming, local)


def softmax_gradient(rec, row, col, j):
    if rec.output_gradient is None:                 # the combined route: (y − t)/N
        y, t = float(rec.output[row, col, j]), float(rec.targets[row, col, j])
        n = rec.batch_size
        return LossGradientStep(row=row, col=col, channel=j,
                                flat_index=flat_of(rec.input_shape, row, col, j),
                                value=(y - t) / n,
                                output=float(rec.input_gradient[row, col, j]),
                                loss_kind="softmax-classification", y=y, target=t,
                                batch_size=n)
    y = rec.output[row, col, :].astype(np.float64)
    rs = range(len(y))
    return gradient_step(rec, row, col, j, "y_r·([r = j] − y_j)", [[row, col, r] for r in rs],
                     [f"dL/dy({row}, {col}, {r})" for r in rs],
                     rec.output_gradient[row, col, :], [y[r] * ((r == j) - y[j]) for r in rs])


def loss_gradient(rec, row, col, ch):
    y, t = float(rec.input[row, col, ch]), float(rec.targets[row, col, ch])
    n = rec.batch_size
    if rec.kind == "classoutput":
        kind = "classification"
        value = -t / (n * max(y, float(np.finfo(rec.input.dtype).tiny)))
    else:
        kind, value = "regression", (y - t) / n
    return LossGradientStep(row=row, col=col, channel=ch,
                            flat_index=flat_of(rec.input_shape, row, col, ch), value=value,
                            output=float(rec.input_gradient[row, col, ch]), loss_kind=kind,
                            y=y, target=t, batch_size=n)


LOCAL = {"imageinput": elementwise_gradient, "dropout": elementwise_gradient,
         "batchnorm": batchnorm_gradient, "crossnorm": crossnorm_gradient,
         "softmax": softmax_gradient, "classoutput": loss_gradient,
         "regressionoutput": loss_gradient,
         **{kind: elementwise_gradient for kind in ACTIVATIONS}}
