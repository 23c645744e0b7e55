"""PyTorch parity of the fully connected layer: forward, input and parameter gradients,
float32 against the float64 oracle and float64."""
import numpy as np
import pytest

import cnnlab as cl
from tests.layers.parity import TOL, built
from tests.torch_oracle import F, tensor


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fully_connected_matches_torch_linear(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 2, 5)).astype(dtype)
    layer = built(cl.FullyConnected(7, bias_initializer="narrow-normal"), (3, 2, 5), dtype)
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(dy)
    flat = tensor(x.reshape(4, -1), True)           # row-major over H, W, C
    w = tensor(layer.params["weights"], True)
    b = tensor(layer.params["bias"], True)
    yt = F.linear(flat, w, b)
    yt.backward(tensor(dy.reshape(4, 7)))
    np.testing.assert_allclose(y.reshape(4, 7), yt.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(dx.reshape(4, -1), flat.grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(layer.grads["weights"], w.grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(layer.grads["bias"], b.grad.numpy(), **TOL[dtype])
