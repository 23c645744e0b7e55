"""Dropout: scaling with its mask equals PyTorch's, the mask follows the seed, about p of
the values are dropped, and prediction is the identity."""
import numpy as np
import pytest

import cnnlab as cl
from tests.layers.parity import TOL, built
from tests.torch_oracle import tensor


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_scaling_with_its_mask_matches_torch(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 6, 3)).astype(dtype)
    layer = built(cl.Dropout(0.3), (6, 6, 3), dtype)
    y = layer.forward(x, training=True, rng=np.random.default_rng(9))
    mask = layer.last_mask
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(dy)
    keep = tensor((~mask).astype(dtype))
    xt = tensor(x, True)
    yt = xt * keep / (1 - 0.3)
    yt.backward(tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(dx, xt.grad.numpy(), **TOL[dtype])
    # same seed, same mask; about p of a large array dropped; identity when predicting
    again = built(cl.Dropout(0.3), (6, 6, 3), dtype)
    again.forward(x, training=True, rng=np.random.default_rng(9))
    assert np.array_equal(again.last_mask, mask)
    big = built(cl.Dropout(0.3), (100, 100, 10), dtype)
    big.forward(np.ones((1, 100, 100, 10), dtype), training=True, rng=np.random.default_rng(0))
    assert abs(big.last_mask.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 1e5)
    assert layer.forward(x, training=False) is x
    with pytest.raises(ValueError, match="probability"):
        cl.Dropout(1.0)
