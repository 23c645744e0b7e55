"""A fully connected layer (+ ReLU) on the chunk pool: its rows split over the threads.

``FullyConnected`` computes with NumPy's matmul, and BLAS runs on one thread while cnnlab
computes (``threads.py``: its threads would spin against the pool's). For a large layer —
the reference documents' network ends in 6,272 → 10, 8 M multiply-adds for 128 images, a
tenth of its training step — that leaves a core idle. This stage gives each chunk of images
its own rows of the products, with the layer's arithmetic:

    forward   z = x·Wᵀ + b,  y = relu(z) ("z < 0 -> 0, else z": NaN passes)
    backward  dZ = dy where y > 0 (with the ReLU; y > 0 exactly when z > 0)
              dW = Σ_chunks dZ_cᵀ·x_c,  db = Σ dZ (float64),  dx = dZ·W

x is the input flattened row-major over H, W, C (as the layer flattens it). A small layer
(fewer than ``MIN_MULTIPLY_ADDS`` for the batch) on its own runs as the layer runs it:
handing it to the pool would cost more than it takes. In a chain (``stage_chain.py``) it
rides along with the chunks the pool hands out anyway: its forward and input gradient per
chunk, its weight gradient as one product for the whole batch once the chunks are done.
Either way the layer's ``grads`` and the returned input gradient are the layer's.
"""
from __future__ import annotations

import numba
import numpy as np

from .blas import matmul
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


@numba.njit(nogil=True, cache=True)
def dense_input_gradient(w, y, dy, lo, hi, relu, dz, dx, input_gradient):
    """Rows lo..hi-1 of dZ (written into dz, which is dy itself without the ReLU) and, with
    ``input_gradient``, of dx = dZ·W; the parameter gradients are left to the caller, which
    computes them for the whole batch at once (``DenseStage.begin_backward``)."""
    if relu:
        _masked(dy, y, lo, hi, dz[lo:hi])
    if input_gradient:
        matmul(dz[lo:hi], False, w, False, dx[lo:hi], 0.0)


class DenseStage(Stage):
    """FullyConnected (+ ReLU) as one multi-threaded step."""

    def __init__(self, layers, relu):
        super().__init__(layers)
        self.fc = self.layers[0]
        self.relu = relu

    def forward(self, x, *, training=False, rng=None):
        n = len(x)
        if n * self.fc.input_size * self.fc.output_size < MIN_MULTIPLY_ADDS \
                or x.dtype not in (np.float32, np.float64):
            self._cache = None
            for layer in self.layers:                 # small: the layers' own passes
                layer.release()
                x = layer.forward(x, training=training, rng=rng)
            return x
        return self.run_alone(x)

    def begin_forward(self, x):
        """Everything of a forward pass but the work on the images (whatever the layer's
        size): returns (y, work, read), ``work(i, lo, hi)`` computing rows lo..hi-1 of y
        from ``read``, the input flattened (a view of x when x is C-contiguous)."""
        fc = self.fc
        fc.check_input(x)
        for layer in self.layers:
            layer.release()
        n, dt = len(x), x.dtype
        flat = np.ascontiguousarray(x.reshape(n, -1))
        w = np.ascontiguousarray(fc.params["weights"], dtype=dt)
        b = np.ascontiguousarray(fc.params["bias"], dtype=dt)
        y = np.empty((n, fc.output_size), dtype=dt)
        relu = self.relu
        self._cache = (flat, w, y, x.shape)
        return (y.reshape((n,) + tuple(self.output_shape)),
                lambda i, lo, hi: dense_forward(flat, w, b, lo, hi, relu, y), flat)

    #: the work reads its input array as given (flattening a C-contiguous array is a view)
    reads_input_as_given = True

    def held_arrays(self):
        """The flattened input and the output (the weights are the parameters); after a
        small batch, what the layers' own passes hold."""
        if self._cache is None:
            return [a for layer in self.layers for a in layer.held_arrays()]
        return [self._cache[0], self._cache[2]]

    def _backward_cached(self, dy, input_gradient):
        return self.run_backward_alone(len(self._cache[0]), dy, input_gradient)

    def begin_backward(self, dy, input_gradient, chunks):
        """A backward pass but its work, for a batch cut into ``chunks`` chunks: returns
        (work, end, dx) as ``ConvStage.begin_backward`` does (dx in the input's shape).

        The weight gradient of a small layer (under ``MIN_MULTIPLY_ADDS`` for the batch)
        is one product for the whole batch in ``end``: split over chunks of 16 images it
        cost about twice the time (a short product runs BLAS far below its speed), and its
        per-chunk buffers had to be zeroed and summed (measured on LeNet-5's 400 → 120
        layer: ~0.15 ms of a 2.6 ms training step, against ~0.06 ms as one product)."""
        flat, w, y, in_shape = self._cache
        n, k = y.shape
        self.check_gradient(dy, (n,) + tuple(self.output_shape))
        dt = flat.dtype
        dy = np.ascontiguousarray(dy.reshape(n, k), dtype=dt)
        dx = np.empty_like(flat) if input_gradient else flat[:1]
        relu = self.relu
        if n * k * flat.shape[1] < MIN_MULTIPLY_ADDS:
            dz = np.empty_like(dy) if relu else dy

            def work(i, lo, hi):
                dense_input_gradient(w, y, dy, lo, hi, relu, dz, dx, input_gradient)

            def end():
                # dW = dZᵀ·x, db = Σ dZ (float64), as the per-chunk way sums them
                return self._set_grads(dz.T @ flat, dz.sum(axis=0, dtype=np.float64), dx,
                                       input_gradient, in_shape)
        else:
            dw_parts = np.zeros((chunks, k, flat.shape[1]), dtype=dt)
            db_parts = np.zeros((chunks, k))

            def work(i, lo, hi):
                dense_backward(flat, w, y, dy, lo, hi, relu, dw_parts[i], db_parts[i], dx,
                               input_gradient)

            def end():
                dw = dw_parts[0] if chunks == 1 else dw_parts.sum(axis=0)
                return self._set_grads(dw, db_parts.sum(axis=0), dx, input_gradient,
                                       in_shape)
        return work, end, dx.reshape(in_shape) if input_gradient else None

    def _set_grads(self, dw, db, dx, input_gradient, in_shape):
        """The layer's ``grads`` in its parameters' dtypes; returns the input gradient."""
        fc = self.fc
        wt, bias = fc.params["weights"], fc.params["bias"]
        fc.grads = {"weights": dw.astype(wt.dtype, copy=False),
                    "bias": db.astype(dw.dtype).astype(bias.dtype, copy=False)}
        return dx.reshape(in_shape) if input_gradient else None
