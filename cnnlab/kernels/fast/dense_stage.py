"""A fully connected layer (+ ReLU) on the chunk pool: its rows split over the threads.

``FullyConnected`` computes with NumPy's matmul, and BLAS runs on one thread while cnnlab
computes (``threads.py``: its threads would spin against the pool's). For a large layer —
the reference documents' network ends in 6,272 → 10, 8 M multiply-adds for 128 images, a
tenth of its training step — that leaves a core idle. This stage gives each chunk of images
its own rows of the products, with the layer's arithmetic:

    forward   z = x·Wᵀ + b,  y = relu(z) ("z < 0 -> 0, else z": NaN passes)
    backward  dZ = dy where y > 0 (with the ReLU; y > 0 exactly when z > 0)
              dW = Σ_chunks dZ_cᵀ·x_c,  db = Σ dZ (float64),  dx = dZ·W

x is the input flattened row-major over H, W, C (as the layer flattens it). Small layers
(fewer than ``MIN_MULTIPLY_ADDS`` for the batch) run as the layer runs them: handing them
to the pool would cost more than they take. Either way the layer's ``grads`` and the
returned input gradient are the layer's.
"""
from __future__ import annotations

import numba
import numpy as np

from .blas import matmul
from .pool_threads import chunk_bounds, chunk_pool
from .stage_base import Stage
from .stage_gradients import _FLAGS, _add_column_sums
from .stage_kernels import fill_bias, relu_rows

#: a batch's multiply-adds below which the layer runs on its own (one BLAS call per product)
MIN_MULTIPLY_ADDS = 5_000_000


@numba.njit(nogil=True, cache=True)
def dense_forward(flat, w, b, lo, hi, relu, y):
    """Rows lo..hi-1: y = x·Wᵀ + b (one rounding: BLAS adds the product onto b), then ReLU."""
    yc = y[lo:hi]
    fill_bias(yc, b)
    matmul(flat[lo:hi], False, w, True, yc, 1.0)
    if relu:
        relu_rows(yc)


@numba.njit(nogil=True, cache=True, fastmath=_FLAGS)
def _masked(dy, y, lo, hi, dz):
    """dz = dy where y > 0, else 0, for rows lo..hi-1 (selects: NaN in dy passes)."""
    zero = dz.dtype.type(0)
    for r in range(lo, hi):
        dr, yr, zr = dy[r], y[r], dz[r - lo]
        for k in range(dz.shape[1]):
            zr[k] = dr[k] if yr[k] > zero else zero


@numba.njit(nogil=True, cache=True)
def dense_backward(flat, w, y, dy, lo, hi, relu, dw, db, dx, input_gradient):
    """Rows lo..hi-1: dw (K×D) and db (float64) of these rows added in; with
    ``input_gradient`` their dx = dZ·W written."""
    if relu:
        dz = np.empty((hi - lo, dy.shape[1]), dtype=dy.dtype)
        _masked(dy, y, lo, hi, dz)
    else:
        dz = dy[lo:hi]
    _add_column_sums(dz, db)
    matmul(dz, True, flat[lo:hi], False, dw, 1.0)          # dW += dZᵀ·x
    if input_gradient:
        matmul(dz, False, w, False, dx[lo:hi], 0.0)        # dx = dZ·W


class DenseStage(Stage):
    """FullyConnected (+ ReLU) as one multi-threaded step."""

    def __init__(self, layers, relu):
        super().__init__(layers)
        self.fc = self.layers[0]
        self.relu = relu

    def forward(self, x, *, training=False, rng=None):
        fc = self.fc
        for layer in self.layers:
            layer.release()
        n = len(x)
        if n * fc.input_size * fc.output_size < MIN_MULTIPLY_ADDS \
                or x.dtype not in (np.float32, np.float64):
            for layer in self.layers:                 # small: the layers' own passes
                x = layer.forward(x, training=training, rng=rng)
            return x
        fc.check_input(x)
        dt = x.dtype
        flat = np.ascontiguousarray(x.reshape(n, -1))
        w = np.ascontiguousarray(fc.params["weights"], dtype=dt)
        b = np.ascontiguousarray(fc.params["bias"], dtype=dt)
        y = np.empty((n, fc.output_size), dtype=dt)
        threads = numba.get_num_threads()
        lo, hi = chunk_bounds(n, threads)
        relu = self.relu
        chunk_pool(threads).run(lambda i: dense_forward(flat, w, b, lo[i], hi[i], relu, y),
                                len(lo))
        self._cache = (flat, w, y, x.shape)
        return y.reshape((n,) + tuple(self.output_shape))

    def held_arrays(self):
        """The flattened input and the output (the weights are the parameters); after a
        small batch, what the layers' own passes hold."""
        if self._cache is None:
            return [a for layer in self.layers for a in layer.held_arrays()]
        return [self._cache[0], self._cache[2]]

    def _backward_cached(self, dy, input_gradient):
        flat, w, y, in_shape = self._cache
        n, k = y.shape
        self.check_gradient(dy, (n,) + tuple(self.output_shape))
        dt = flat.dtype
        dy = np.ascontiguousarray(dy.reshape(n, k), dtype=dt)
        threads = numba.get_num_threads()
        lo, hi = chunk_bounds(n, threads)
        dw_parts = np.zeros((len(lo), k, flat.shape[1]), dtype=dt)
        db_parts = np.zeros((len(lo), k))
        dx = np.empty_like(flat) if input_gradient else flat[:1]
        relu = self.relu
        chunk_pool(threads).run(
            lambda i: dense_backward(flat, w, y, dy, lo[i], hi[i], relu, dw_parts[i],
                                     db_parts[i], dx, input_gradient), len(lo))
        fc = self.fc
        wt, bias = fc.params["weights"], fc.params["bias"]
        dw = dw_parts[0] if len(lo) == 1 else dw_parts.sum(axis=0)
        fc.grads = {"weights": dw.astype(wt.dtype, copy=False),
                    "bias": db_parts.sum(axis=0).astype(dt).astype(bias.dtype, copy=False)}
        return dx.reshape(in_shape) if input_gradient else None
