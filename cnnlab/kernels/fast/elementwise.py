"""Fast element-wise activations.

ReLU runs after every convolution of a training step, so it gets a Numba loop that reads x
once and writes y once (NumPy's ``maximum`` plus a dtype cast makes two passes). The other
activations are single NumPy ufunc calls already and are re-used from the reference.
"""
from __future__ import annotations

import types

import numba
import numpy as np

from ..reference.elementwise import (clipped_relu_backward, clipped_relu_forward,  # noqa: F401
                                     leaky_relu_backward, leaky_relu_forward, sigmoid_backward,
                                     sigmoid_forward, tanh_backward, tanh_forward)


def _relu_loop(flat):
    out = np.empty_like(flat)
    zero = flat.dtype.type(0)
    for i in numba.prange(flat.size):
        v = flat[i]
        # written as "v < 0 -> 0, else v" so NaN (every comparison false) passes through, as
        # np.maximum(x, 0) and torch.relu do
        out[i] = zero if v < zero else v
    return out


def _relu_grad_loop(x, dy):
    out = np.empty_like(dy)
    zero = dy.dtype.type(0)
    for i in numba.prange(dy.size):
        out[i] = dy[i] if x[i] > 0 else zero      # relu'(0) = 0, as PyTorch
    return out


def _copy(fn, name):
    """``fn`` under another name: Numba's on-disk cache files a function by its name and
    line, and not by its compile flags, so a parallel and a serial compilation of one
    Python function would share one cache entry — the first written wins for both (measured:
    a serial dispatcher loaded the parallel ReLU its process had just compiled)."""
    out = types.FunctionType(fn.__code__.replace(co_name=name, co_qualname=name)
                             if hasattr(fn.__code__, "co_qualname")
                             else fn.__code__.replace(co_name=name), fn.__globals__, name)
    out.__qualname__ = name
    return out


_relu = numba.njit(parallel=True, cache=True)(_relu_loop)
_relu_grad = numba.njit(parallel=True, cache=True)(_relu_grad_loop)
# The same loops on one thread, for small arrays (the ReLUs between fully connected layers):
# waking Numba's thread pool costs more than the loop, and on a busy machine a parallel region
# can stall for milliseconds waiting for a descheduled thread (PERFORMANCE-NOTES.md).
_relu_serial = numba.njit(cache=True)(_copy(_relu_loop, "_relu_serial"))
_relu_grad_serial = numba.njit(cache=True)(_copy(_relu_grad_loop, "_relu_grad_serial"))
_SERIAL_BELOW = 1 << 15


def relu_forward(x):
    x = np.ascontiguousarray(x)
    kernel = _relu_serial if x.size < _SERIAL_BELOW else _relu
    return kernel(x.reshape(-1)).reshape(x.shape)


def relu_backward(x, dy):
    x, dy = np.ascontiguousarray(x), np.ascontiguousarray(dy)
    if x.shape != dy.shape:
        raise ValueError(f"relu: input {x.shape} and gradient {dy.shape} differ")
    kernel = _relu_grad_serial if dy.size < _SERIAL_BELOW else _relu_grad
    return kernel(x.reshape(-1), dy.reshape(-1)).reshape(dy.shape)
