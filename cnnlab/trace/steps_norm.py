"""Steps of batch normalization and cross-channel normalization: one output element each.

    batch norm        x̂ = (x − μ_c) / √(σ²_c + ε),   y = γ_c·x̂ + β_c
                      μ_c, σ²_c: the mean and (biased) variance of channel c over the batch
                      (training) or the layer's running statistics (prediction), as recorded
    cross-channel     ss = Σ_{j = lo..hi} x_j²  over the channel window lo..hi of channel c at
                      the same (row, col);  base = k + α·ss / n;  y = x_c / base^β

Steps walk channel by channel, each channel row by row. ``value`` is the formula in float64
from the recorded input and statistics; ``output`` what the network recorded. The sum of
squares is written out under the printed-sums rule of ``cnnlab.trace.sums`` (its factors to 4
significant figures; "=" when the printed factors squared and added round to the printed ss).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..arithmetic.formatting import factor
from . import sums as printed
from .step_base import Step, flat_of, signed


@dataclass(frozen=True)
class BatchNormStep(Step):
    """One element of batch normalization (fields of ``Step`` plus):

    x : the input element;  statistics : "batch" (training) or "running" (prediction)
    mean, variance : μ_c and σ²_c of this channel;  epsilon : ε;  sigma : √(σ²_c + ε)
    normalized : x̂ = (x − μ_c)/σ;  scale : γ_c;  offset : β_c;  value : γ_c·x̂ + β_c
    channel_values : every input value of this channel in the traced image (H·W of them:
        what a histogram of the channel shows; in training μ and σ² are over the whole batch)
    """
    x: float
    statistics: str
    mean: float
    variance: float
    epsilon: float
    sigma: float
    normalized: float
    scale: float
    offset: float
    channel_values: np.ndarray

    @property
    def reads(self) -> str:
        return (f"x = {factor(self.x)} at {self.where}; channel {self.channel}'s "
                f"{self.statistics} statistics μ = {factor(self.mean)}, "
                f"σ² = {factor(self.variance)}; γ = {factor(self.scale)}, "
                f"β = {factor(self.offset)}")

    def formula(self) -> str:
        return (f"x̂ = (x − μ) / √(σ² + ε) = ({factor(self.x)} − {signed(self.mean)}) / "
                f"√({factor(self.variance)} + {self.epsilon:g}) = {factor(self.normalized)}; "
                f"y = γ·x̂ + β = {factor(self.scale)}·{signed(self.normalized)} + "
                f"{signed(self.offset)} = {factor(self.value)}")

    def text(self) -> str:
        return (f"output {self.where} ({self.statistics} statistics): {self.formula()}")


def batchnorm_step(rec, row, col, ch) -> BatchNormStep:
    x = float(rec.input[row, col, ch])
    mean, var = float(rec.mean[ch]), float(rec.variance[ch])
    sigma = math.sqrt(var + rec.epsilon)
    xhat = (x - mean) / sigma
    gamma, beta = float(rec.scale_param[ch]), float(rec.offset[ch])
    return BatchNormStep(
        row=row, col=col, channel=ch, flat_index=flat_of(rec.output_shape, row, col, ch),
        value=gamma * xhat + beta, output=float(rec.output[row, col, ch]), x=x,
        statistics="batch" if rec.mode.startswith("batch") else "running", mean=mean,
        variance=var, epsilon=float(rec.epsilon), sigma=sigma, normalized=xhat, scale=gamma,
        offset=beta, channel_values=rec.input[:, :, ch])


@dataclass(frozen=True)
class CrossNormStep(Step):
    """One element of cross-channel (local response) normalization (``Step`` fields plus):

    x : the input element x_c;  window : (lo, hi), the channels (inclusive) of its window
    window_values : x_lo..x_hi at this (row, col);  sum_squares : ss = Σ window_values²
    size : n (window_channel_size; ss is divided by n even where the window is clipped)
    k, alpha, beta : the layer's constants;  base : k + α·ss/n;  value : x_c / base^β
    """
    x: float
    window: tuple
    window_values: np.ndarray
    sum_squares: float
    size: int
    k: float
    alpha: float
    beta: float
    base: float

    @property
    def reads(self) -> str:
        lo, hi = self.window
        return (f"channels {lo}..{hi} at ({self.row}, {self.col}): "
                + ", ".join(factor(v) for v in self.window_values))

    def squares_text(self) -> str:
        """``x²+x²+... = ss`` under the printed-sums rule (rule 3: printed factors squared)."""
        pairs = [(factor(v), factor(v)) for v in self.window_values]
        d = printed.decimals([self.sum_squares])
        ss = printed.fixed(self.sum_squares, d)
        rel = printed.products_relation(pairs, "0", ss)
        if rel != "=":
            d = min(d + 1, printed.MAX_DECIMALS)
            ss = printed.fixed(self.sum_squares, d)
            rel = printed.products_relation(pairs, "0", ss)
        return " + ".join(f"{signed(v)}²" for v in self.window_values) + f" {rel} {ss}"

    def formula(self) -> str:
        return (f"ss = {self.squares_text()}; base = k + α·ss/n = {factor(self.k)} + "
                f"{factor(self.alpha)}·{factor(self.sum_squares)}/{self.size} = "
                f"{factor(self.base)}; y = x / base^β = {factor(self.x)} / "
                f"{factor(self.base)}^{factor(self.beta)} = {factor(self.value)}")

    def text(self) -> str:
        lo, hi = self.window
        return f"output {self.where}, channels {lo}..{hi}: {self.formula()}"


def crossnorm_step(rec, row, col, ch) -> CrossNormStep:
    hp = rec.hyperparameters
    lo, hi = rec.windows[ch]
    values = rec.input[row, col, lo:hi + 1].astype(np.float64)
    ss = float(np.sum(values * values))
    n, k, alpha, beta = int(hp["window_channel_size"]), hp["k"], hp["alpha"], hp["beta"]
    base = k + alpha * ss / n
    x = float(rec.input[row, col, ch])
    return CrossNormStep(
        row=row, col=col, channel=ch, flat_index=flat_of(rec.output_shape, row, col, ch),
        value=x / base ** beta, output=float(rec.output[row, col, ch]), x=x,
        window=(int(lo), int(hi)), window_values=values, sum_squares=ss, size=n, k=float(k),
        alpha=float(alpha), beta=float(beta), base=base)
