"""Helpers of the per-layer PyTorch parity tests: tolerances, building a layer on the
reference kernels, and the check of a layer without parameters against a torch expression.
(float32 is checked against the float64 oracle; float64 to 1e-10.)"""
import numpy as np

from cnnlab.kernels import get_backend
from tests.torch_oracle import from_torch, to_torch

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


def built(layer, shape, dtype):
    layer.build(shape, rng=np.random.default_rng(0), dtype=dtype,
                kernels=get_backend("reference"))
    return layer


def empty_windows(size, pool, stride, before, after):
    """Output positions (along one axis) whose window [i·s, i·s + k) of the padded axis holds
    no input cell: it lies wholly in the first `before` or the last `after` cells."""
    n_out = (before + size + after - pool) // stride + 1
    return [i for i in range(n_out)
            if i * stride + pool <= before or i * stride >= before + size]


def check_parameterless(layer, torch_f, dtype):
    """Forward and input gradient of ``layer`` (no parameters) equal ``torch_f``'s, on a
    3x4x5x2 batch holding the kinks of ReLU (0) and clipped ReLU (1.5)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 5, 2)).astype(dtype)
    x[0, 0, 0, 0], x[0, 0, 1, 0] = 0.0, 1.5            # the kinks of ReLU and clipped ReLU
    layer = built(layer, (4, 5, 2), dtype)
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(dy)
    xt = to_torch(x, requires_grad=True)
    yt = torch_f(xt)
    yt.backward(to_torch(dy))
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y, from_torch(yt), **TOL[dtype])
    np.testing.assert_allclose(dx, from_torch(xt.grad), **TOL[dtype])
