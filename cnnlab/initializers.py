"""Weight and bias initializers, with the variances the reference documents give.

``num_in`` and ``num_out`` are the fan-in and fan-out of one neuron:
for a convolution FH·FW·(C/groups) and FH·FW·(F/groups); for a fully connected layer
InputSize and OutputSize.

=============== ===========================================================
glorot          uniform on [-a, a], a = sqrt(6 / (num_in + num_out)),
                so the variance is 2 / (num_in + num_out)
he              normal, mean 0, variance 2 / num_in
narrow-normal   normal, mean 0, standard deviation 0.01
zeros, ones     constants
callable        f(shape) -> array of that shape
=============== ===========================================================
"""
from __future__ import annotations

import numpy as np

from .memory import check_parameter

NAMES = ("glorot", "he", "narrow-normal", "zeros", "ones")


def check(label: str, parameter: str, init):
    """Validate an initializer specification when a layer is created."""
    if callable(init):
        return init
    if isinstance(init, str) and init in NAMES:
        return init
    raise ValueError(f"{label}: {parameter} = {init!r}: expected one of {', '.join(NAMES)} "
                     "or a function taking the shape and returning an array")


def initialize(init, shape, *, num_in: int, num_out: int, rng: np.random.Generator,
               dtype, label: str = "layer", parameter: str = "weights") -> np.ndarray:
    """Draw an array of ``shape`` from the initializer ``init`` using ``rng``."""
    shape = tuple(int(s) for s in shape)
    check_parameter(label, parameter, shape, np.dtype(dtype).itemsize)
    if callable(init):
        value = np.asarray(init(shape))
        if value.shape != shape:
            raise ValueError(f"{label}: {parameter} initializer returned shape {value.shape}, "
                             f"expected {shape}")
        if not np.issubdtype(value.dtype, np.number) or not np.all(np.isfinite(value)):
            raise ValueError(f"{label}: {parameter} initializer returned non-finite or "
                             "non-numeric values")
        return value.astype(dtype)
    if init == "glorot":
        bound = np.sqrt(6.0 / (num_in + num_out))
        return rng.uniform(-bound, bound, size=shape).astype(dtype)
    if init == "he":
        return (rng.standard_normal(shape) * np.sqrt(2.0 / num_in)).astype(dtype)
    if init == "narrow-normal":
        return (rng.standard_normal(shape) * 0.01).astype(dtype)
    if init == "zeros":
        return np.zeros(shape, dtype=dtype)
    if init == "ones":
        return np.ones(shape, dtype=dtype)
    raise ValueError(f"{label}: unknown initializer {init!r}")


def given(label: str, parameter: str, value, shape, dtype) -> np.ndarray:
    """An explicit weights/bias array, checked against the shape the layer needs."""
    check_parameter(label, parameter, shape, np.dtype(dtype).itemsize)
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"{label}: {parameter} must be a real numeric array, got dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        if arr.size == int(np.prod(shape)) and arr.squeeze().shape == tuple(
                s for s in shape if s != 1):
            arr = arr.reshape(shape)
        else:
            raise ValueError(f"{label}: {parameter} has shape {arr.shape}, expected "
                             f"{'x'.join(map(str, shape))}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{label}: {parameter} contains NaN or infinite values")
    return arr.astype(dtype, copy=True)
