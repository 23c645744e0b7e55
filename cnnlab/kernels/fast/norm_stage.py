"""A batch-norm stage: BatchNormalization (+ ReLU) (+ max pooling) on the chunk pool.

What the layers would do, one after the other (``layers/norm.py``, ``layers/activation.py``,
``layers/pool.py``), computed image by image by nogil workers (``norm_stage_kernels.py``,
which also explains the dispatches a batch statistic needs). The stage keeps the layer's
contract: in training it updates ``trained_mean`` / ``trained_variance`` with the layer's
decays and the unbiased variance M/(M−1)·var, sets ``last_mean``, ``last_variance`` and
``last_normalized`` (from its input, when read: ``BatchNormalization.record_normalization``),
and its backward fills ``grads`` {"scale", "offset"}. ``conv_norm_stage.py`` runs a
convolution and the batch norm after it as one stage, with these same pieces.
"""
from __future__ import annotations

import numba
import numpy as np

from . import norm_stage_kernels as nk
from .pool_threads import chunk_bounds, chunk_pool
from .stage_base import Stage


class NormStage(Stage):
    """Batch normalization (+ ReLU) (+ max pooling) as one multi-threaded step."""

    def __init__(self, layers, relu, pool):
        super().__init__(layers)
        self.bn = self.layers[0]
        self.relu, self.pool = relu, pool

    def _geometry(self):
        if self.pool is None:
            return (int(self.relu), 0, 0, 1, 1, 0, 0)
        (ph, pw), (psh, psw) = self.pool.pool_size, self.pool.stride
        poh, pow_, _ = self.pool.output_shape
        return (int(self.relu), ph, pw, psh, psw, poh, pow_)

    def _run(self, kernel, n, *args):
        threads = numba.get_num_threads()
        lo, hi = chunk_bounds(n, threads)
        chunk_pool(threads).run(lambda i: kernel(lo[i], hi[i], *args), len(lo))

    def _moments(self, x):
        """Per-channel mean and biased variance of x over N, H, W (float64), from per-chunk
        means and M2 (norm_stage_kernels.py)."""
        threads = numba.get_num_threads()
        lo, hi = chunk_bounds(len(x), threads)
        c = x.shape[3]
        means, m2s = np.zeros((len(lo), c)), np.zeros((len(lo), c))
        chunk_pool(threads).run(lambda i: nk.bn_chunk_moments(x, lo[i], hi[i], means[i],
                                                              m2s[i]), len(lo))
        counts = (np.asarray(hi) - np.asarray(lo)) * (x.shape[1] * x.shape[2])
        return combine_moments(counts, means, m2s)

    def forward(self, x, *, training=False, rng=None):
        bn = self.bn
        bn.check_input(x)
        for layer in self.layers:
            layer.release()
        n, h, w, c = x.shape
        m = n * h * w
        if training and m < 2:
            # the layer's own refusal (a variance needs two values), worded by the layer
            return self._layer_by_layer(x, rng)
        x = np.ascontiguousarray(x)
        dt = x.dtype
        if training:
            mean, var = update_statistics(bn, *self._moments(x), m, dt)
        else:
            mean = bn.state["trained_mean"].astype(dt)
            var = bn.state["trained_variance"].astype(dt)
        inv_std = inverse_std(bn, var, dt)
        gamma = np.ascontiguousarray(bn.params["scale"], dtype=dt)
        beta = np.ascontiguousarray(bn.params["offset"], dtype=dt)
        mean = np.ascontiguousarray(mean)
        out = np.empty((n,) + tuple(self.output_shape), dtype=dt)
        arg = np.empty(out.shape if self.pool is not None else (1, 1, 1, 1), dtype=np.int8)
        geo = self._geometry()
        self._run(lambda lo, hi: nk.bn_stage_forward(x, lo, hi, mean, inv_std, gamma, beta,
                                                     geo, out, arg), n)
        bn.record_normalization(x, mean, var, inv_std)
        self._cache = (x, mean, var, inv_std, training, out, arg)
        return out

    def _layer_by_layer(self, x, rng):
        for layer in self.layers:
            x = layer.forward(x, training=True, rng=rng)
        return x

    def held_arrays(self):
        return [] if self._cache is None else [self._cache[0], self._cache[5], self._cache[6]]

    def _backward_cached(self, dy, input_gradient):
        # the input gradient is computed either way (its batch sums are the parameters')
        x, mean, var, inv_std, training, out, arg = self._cache
        self.check_gradient(dy, out.shape)
        bn, dt = self.bn, x.dtype
        dy = np.ascontiguousarray(dy, dtype=dt)
        n, h, w, c = x.shape
        threads = numba.get_num_threads()
        lo, hi = chunk_bounds(n, threads)
        sb, sg = np.zeros((len(lo), c)), np.zeros((len(lo), c))
        dx = np.empty_like(x)
        geo = self._geometry()
        chunk_pool(threads).run(
            lambda i: nk.bn_stage_sums(dy, out, arg, x, mean, inv_std, lo[i], hi[i], geo,
                                       sb[i], sg[i]), len(lo))
        dbeta, dgamma = sb.sum(axis=0).astype(dt), sg.sum(axis=0).astype(dt)
        coefs = dx_coefficients(bn, inv_std, dbeta, dgamma, n * h * w, training, dt)
        chunk_pool(threads).run(
            lambda i: nk.bn_stage_input_gradient(dy, out, arg, x, mean, lo[i], hi[i], geo,
                                                 coefs, dx), len(lo))
        bn.grads = {"scale": dgamma, "offset": dbeta}
        return dx



# ---- shared with conv_norm_stage.py ----------------------------------------------------------

def combine_moments(counts, means, m2s):
    """Mean and biased variance (float64, per channel) of parts with ``counts[i]`` values,
    mean ``means[i]`` and M2 ``m2s[i]`` = Σ (x − means[i])², combined exactly as Chan, Golub
    and LeVeque's parallel variance:

        mean = Σ nᵢ·mᵢ / M,   var = (Σ M2ᵢ + Σ nᵢ·(mᵢ − mean)²) / M
    """
    counts = np.asarray(counts, dtype=np.float64)[:, None]
    total = counts.sum()
    mean = (counts * means).sum(axis=0) / total
    var = (m2s.sum(axis=0) + (counts * (means - mean) ** 2).sum(axis=0)) / total
    return mean, var


def update_statistics(bn, mean64, var64, m, dt):
    """The batch statistics in the layer's dtype (as its batch_moments gives them), after
    updating its trained statistics exactly as ``BatchNormalization._forward`` does (the
    unbiased variance M/(M−1)·var)."""
    mean, var = mean64.astype(dt), var64.astype(dt)
    s = bn.state
    s["trained_mean"] = ((1 - bn.mean_decay) * s["trained_mean"]
                         + bn.mean_decay * mean).astype(dt)
    s["trained_variance"] = ((1 - bn.variance_decay) * s["trained_variance"]
                             + bn.variance_decay * var * (m / (m - 1))).astype(dt)
    return mean, var


def inverse_std(bn, var, dt):
    """1/sqrt(σ² + ε) in the stage's dtype."""
    return (1 / np.sqrt(var + dt.type(bn.epsilon))).astype(dt)


def dx_coefficients(bn, inv_std, dbeta, dgamma, m, training, dt):
    """(a, b, c) as a 3×C array such that the input gradient is dx = a·dY + b·(x − mean) + c.

    Training: dx = γ/(M·σ)·(M·dY − dbeta − x̂·dgamma) with x̂ = (x − mean)/σ, so
    a = γ/σ, b = −γ·dgamma/(M·σ²), c = −γ·dbeta/(M·σ) (σ = sqrt(var + ε); dbeta = Σ dY,
    dgamma = Σ dY·x̂ over the batch). Prediction mode, where the statistics are constants:
    dx = dY·γ/σ, so a = γ/σ and b = c = 0. Computed in float64, handed over in ``dt``."""
    g = np.asarray(bn.params["scale"], dtype=np.float64)
    s = np.asarray(inv_std, dtype=np.float64)
    a = g * s
    if not training:
        return np.ascontiguousarray(np.stack([a, 0 * a, 0 * a]), dtype=dt)
    b = -a * s * np.asarray(dgamma, np.float64) / m
    c = -a * np.asarray(dbeta, np.float64) / m
    return np.ascontiguousarray(np.stack([a, b, c]), dtype=dt)
