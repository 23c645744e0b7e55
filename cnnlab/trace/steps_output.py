"""Steps of softmax and of the output (loss) layers, one output element each, in order.

    softmax          p_r = e^(a_r − s) / Σ_j e^(a_j − s)   over the channels j of one (row, col)
                     s = 0 while every |a_j| ≤ 80 (the exponentials are printed as e^a is
                     taught), else s = max_j a_j (what the layer computes: no overflow, the
                     largest term is 1); the ratios are the same either way
    classification   term_i = −t_i·ln y_i   (y clipped at the dtype's smallest normal number,
                     as the layer does);  loss = Σ_i term_i  for the traced image
    regression       term_i = ½·(t_i − y_i)²;  loss = Σ_i term_i

An output layer passes its input on unchanged (the network stops before it), so a loss step's
``value`` is y_i, the layer's output there, like every other step's; what it computes is in
``term`` and ``loss``. The terms add up to the recorded ``rec.loss``. Without labels there is
no loss: the step says so. Sums are printed under the rule of ``cnnlab.trace.sums``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arithmetic.formatting import factor
from . import sums as printed
from .step_base import Step, flat_of, signed

SHIFT_LIMIT = 80.0


@dataclass(frozen=True)
class SoftmaxStep(Step):
    """One probability of a softmax (fields of ``Step`` plus):

    inputs : (K,) the scores a_j at this (row, col);  shift : s (0, or max a when some
        |a_j| > 80);  exponentials : (K,) e^(a_j − s);  exp_sum : Σ_j e^(a_j − s)
    exponential : e^(a_r − s) of this channel r;  value : exponential / exp_sum = p_r
    """
    inputs: np.ndarray
    shift: float
    exponentials: np.ndarray
    exp_sum: float
    exponential: float

    @property
    def reads(self) -> str:
        return f"the {len(self.inputs)} scores " + ", ".join(factor(v) for v in self.inputs)

    def sum_text(self, max_terms: int = 12) -> str:
        """``e^a + e^a + ... = Σ`` with the exponentials under the printed-sums rule."""
        e = list(self.exponentials)
        d = printed.choose_decimals(e + [self.exp_sum], [(e, self.exp_sum)])
        if len(e) > max_terms:
            shown = printed.join_terms([printed.fixed(v, d) for v in e[:max_terms - 2]])
            return (f"{shown} + ... + {printed.fixed(e[-1], d)} = "
                    f"{printed.fixed(self.exp_sum, d)}")
        return printed.sum_text(e, self.exp_sum, d)

    def text(self, max_terms: int = 12) -> str:
        r = self.channel
        power = (f"e^{signed(self.inputs[r])}" if self.shift == 0
                 else f"e^({factor(self.inputs[r])} − {factor(self.shift)})")
        return (f"probability {self.where}: exponentials {self.sum_text(max_terms)}; "
                f"p = {power} / Σ = {factor(self.exponential)} / {factor(self.exp_sum)} "
                f"= {factor(self.value)}")


def softmax_step(rec, row, col, ch) -> SoftmaxStep:
    a = rec.input[row, col, :].astype(np.float64)
    shift = float(a.max()) if np.max(np.abs(a)) > SHIFT_LIMIT else 0.0
    e = np.exp(a - shift)
    total = float(e.sum())
    return SoftmaxStep(row=row, col=col, channel=ch,
                       flat_index=flat_of(rec.output_shape, row, col, ch),
                       value=float(e[ch]) / total, output=float(rec.output[row, col, ch]),
                       inputs=a, shift=shift, exponentials=e, exp_sum=total,
                       exponential=float(e[ch]))


@dataclass(frozen=True)
class LossStep(Step):
    """One element of an output layer (fields of ``Step`` plus):

    loss_kind : "classification" or "regression";  y : the layer's input there (= value)
    target : t_i (None without labels);  term : −t·ln y or ½(t − y)² (None without labels)
    terms : every element's term (None without labels);  loss : Σ terms, the recorded loss
    """
    loss_kind: str
    y: float
    target: float | None
    term: float | None
    terms: np.ndarray | None
    loss: float | None

    @property
    def reads(self) -> str:
        what = "probability" if self.loss_kind == "classification" else "response"
        t = "" if self.target is None else f", target t = {factor(self.target)}"
        return f"{what} y = {factor(self.y)} at {self.where}{t}"

    def loss_text(self, max_terms: int = 12) -> str:
        terms = list(self.terms)
        d = printed.choose_decimals(terms + [self.loss], [(terms, self.loss)])
        if len(terms) > max_terms:
            return f"loss = Σ of {len(terms)} terms = {printed.fixed(self.loss, d)}"
        return "loss = " + printed.sum_text(terms, self.loss, d)

    def text(self, max_terms: int = 12) -> str:
        if self.term is None:
            return (f"output {self.where}: y = {factor(self.y)} passes on unchanged; trace "
                    "with labels=... to see the loss")
        t, y = factor(self.target), factor(self.y)
        if self.loss_kind == "classification":
            body = f"−t·ln y = −{signed(self.target)}·ln {y} = {factor(self.term)}"
        else:
            body = f"½·(t − y)² = ½·({t} − {signed(self.y)})² = {factor(self.term)}"
        return f"loss term {self.where}: {body}; {self.loss_text(max_terms)}"


def loss_terms(kind: str, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Every element's loss term in float64 (module docstring); ``y`` already clipped."""
    y = np.asarray(y, dtype=np.float64)
    if kind == "classification":
        return -(t * np.log(y))
    return 0.5 * (t - y) ** 2


def loss_step(rec, row, col, ch) -> LossStep:
    kind = "classification" if rec.kind == "classoutput" else "regression"
    y = float(rec.input[row, col, ch])
    target = term = terms = loss = None
    if "targets" in rec.fields:
        t = np.asarray(rec.targets, dtype=np.float64).reshape(rec.input_shape)
        y_all = rec.input.astype(np.float64)
        if kind == "classification":       # clipped at the network dtype's smallest normal
            y_all = np.maximum(y_all, np.finfo(rec.input.dtype).tiny)
        terms = loss_terms(kind, y_all, t)
        target, term, loss = float(t[row, col, ch]), float(terms[row, col, ch]), \
            float(terms.sum())
        terms = terms.reshape(-1)
    return LossStep(row=row, col=col, channel=ch,
                    flat_index=flat_of(rec.output_shape, row, col, ch), value=y,
                    output=float(rec.output[row, col, ch]), loss_kind=kind, y=y,
                    target=target, term=term, terms=terms, loss=loss)

