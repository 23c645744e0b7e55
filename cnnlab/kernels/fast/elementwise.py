"""Fast element-wise activations.

ReLU runs after every convolution of a training step, so it gets a Numba loop that reads x
once and writes y once (NumPy's ``maximum`` plus a dtype cast makes two passes): a serial
nogil loop over the flat range lo..hi-1, run in chunks on the chunk pool (``chunked.py``) when
the array is large enough to pay for a second thread, else as one call. The other
activations are single NumPy ufunc calls already and are re-used from the reference.
"""
from __future__ import annotations

import numba
import numpy as np

from ..reference.elementwise import (clipped_relu_backward, clipped_relu_forward,  # noqa: F401
                                     leaky_relu_backward, leaky_relu_forward, sigmoid_backward,
                                     sigmoid_forward, tanh_backward, tanh_forward)
from .chunked import run_chunks


@numba.njit(nogil=True, cache=True)
def _relu(flat, out, lo, hi):
    zero = flat.dtype.type(0)
    x, y = flat[lo:hi], out[lo:hi]
    for i in range(hi - lo):
        v = x[i]
        # written as "v < 0 -> 0, else v" so NaN (every comparison false) passes through, as
        # np.maximum(x, 0) and torch.relu do
        y[i] = zero if v < zero else v


@numba.njit(nogil=True, cache=True)
def _relu_grad(x, dy, out, lo, hi):
    zero = dy.dtype.type(0)
    xs, g, d = x[lo:hi], dy[lo:hi], out[lo:hi]
    for i in range(hi - lo):
        d[i] = g[i] if xs[i] > 0 else zero      # relu'(0) = 0, as PyTorch


def relu_forward(x):
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    run_chunks(_relu, x.size, x.size, x.reshape(-1), out.reshape(-1))
    return out


def relu_backward(x, dy):
    x, dy = np.ascontiguousarray(x), np.ascontiguousarray(dy)
    if x.shape != dy.shape:
        raise ValueError(f"relu: input {x.shape} and gradient {dy.shape} differ")
    out = np.empty_like(dy)
    run_chunks(_relu_grad, dy.size, dy.size, x.reshape(-1), dy.reshape(-1), out.reshape(-1))
    return out
