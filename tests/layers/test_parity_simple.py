"""PyTorch parity for pooling, activations, dropout, fully connected and image input:
forward, input gradient and parameter gradients, float32 against the float64 oracle and
float64. Max-pooling windows made only of padding are drawn too: they are refused at build.
(Non-finite inputs: tests/layers/test_nonfinite.py.)"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnnlab as cl
from cnnlab.kernels import get_backend
from tests.torch_oracle import F, from_torch, tensor, to_torch, torch

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


def built(layer, shape, dtype):
    layer.build(shape, rng=np.random.default_rng(0), dtype=dtype,
                kernels=get_backend("reference"))
    return layer


def run(layer, x, dy):
    y = layer.forward(x, training=False)
    return y, layer.backward(dy)


def empty_windows(size, pool, stride, before, after):
    """Output positions (along one axis) whose window [i·s, i·s + k) of the padded axis holds
    no input cell: it lies wholly in the first `before` or the last `after` cells."""
    n_out = (before + size + after - pool) // stride + 1
    return [i for i in range(n_out)
            if i * stride + pool <= before or i * stride >= before + size]


@pytest.mark.torch
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.lists(st.integers(0, 3), min_size=4, max_size=4), st.booleans(),
       st.sampled_from(["float32", "float64"]), st.integers(0, 10**6))
def test_pooling_matches_torch(ph, pw, sh, sw, pads, is_max, dtype, seed):
    t, b, l, r = pads
    rng = np.random.default_rng(seed)
    H, W = rng.integers(ph, 7), rng.integers(pw, 7)
    x = rng.standard_normal((2, H, W, 3)).astype(dtype)
    cls = cl.MaxPooling2D if is_max else cl.AveragePooling2D
    layer = cls((ph, pw), stride=(sh, sw), padding=(t, b, l, r), name="pool")
    empty = empty_windows(H, ph, sh, t, b) or empty_windows(W, pw, sw, l, r)
    if is_max and empty:     # its maximum would be -inf: refused when built, naming why
        with pytest.raises(ValueError, match=r"^MaxPooling2D layer 'pool': padding = .* "
                                             r"entirely in the padding"):
            built(layer, (H, W, 3), dtype)
        return
    layer = built(layer, (H, W, 3), dtype)     # average pooling counts padding as zeros
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(dy)
    xt = to_torch(x, requires_grad=True)
    xp = F.pad(xt, (l, r, t, b), value=-np.inf if is_max else 0.0)
    pool = F.max_pool2d if is_max else F.avg_pool2d
    yt = pool(xp, (ph, pw), stride=(sh, sw))
    yt.backward(to_torch(dy))
    np.testing.assert_allclose(y, from_torch(yt), **TOL[dtype])
    np.testing.assert_allclose(dx, from_torch(xt.grad), **TOL[dtype])
    assert np.all(np.isfinite(y))


def test_max_pooling_window_made_only_of_padding_is_refused_at_build():
    # the case: pool 2, stride 2, padding (0, 2, 0, 0) on 4x4 -> the third row of
    # windows covers padded rows 4 and 5 only
    assert empty_windows(4, 2, 2, 0, 2) == [2] and empty_windows(4, 2, 2, 0, 0) == []
    with pytest.raises(ValueError, match=r"MaxPooling2D layer 'p': padding = \(0, 2, 0, 0\)"
                                         r": along the height.* entirely in the padding"):
        built(cl.MaxPooling2D(2, stride=2, padding=(0, 2, 0, 0), name="p"), (4, 4, 1),
              "float64")
    # a window that still sees one input row is allowed, and never outputs -inf
    layer = built(cl.MaxPooling2D(2, stride=2, padding=(1, 1, 0, 0)), (4, 4, 1), "float64")
    x = -np.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(layer.forward(x)[0, :, :, 0],
                                  [[0, -2], [-4, -6], [-12, -14]])
    avg = built(cl.AveragePooling2D(2, stride=2, padding=(0, 2, 0, 0)), (4, 4, 1), "float64")
    np.testing.assert_array_equal(avg.forward(np.ones((1, 4, 4, 1)))[0, 2, :, 0], [0, 0])


# each layer and the torch expression it must equal (looked up only when torch is there)
PARAMETERLESS = {
    "relu": (cl.ReLU, lambda t: F.relu(t)),
    "leaky": (lambda: cl.LeakyReLU(0.2), lambda t: F.leaky_relu(t, 0.2)),
    "clipped": (lambda: cl.ClippedReLU(1.5), lambda t: F.hardtanh(t, 0.0, 1.5)),
    "tanh": (cl.Tanh, lambda t: torch.tanh(t)),
    "sigmoid": (cl.Sigmoid, lambda t: torch.sigmoid(t)),
    "gapool": (cl.GlobalAveragePooling2D, lambda t: t.mean(dim=(2, 3), keepdim=True)),
    "gmpool": (cl.GlobalMaxPooling2D, lambda t: t.amax(dim=(2, 3), keepdim=True)),
}


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", list(PARAMETERLESS))
def test_parameterless_layers_match_torch(which, dtype):
    make, torch_f = PARAMETERLESS[which]
    layer = make()
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


def test_image_input_normalizations_by_hand():
    x = np.array([[[[0.0], [2.0]], [[4.0], [6.0]]]])              # one 2x2x1 image
    z = built(cl.ImageInput((2, 2, 1), normalization="zscore", mean=1.0, std=2.0), (2, 2, 1),
              "float64")
    assert np.array_equal(z.forward(x)[0, :, :, 0], [[-0.5, 0.5], [1.5, 2.5]])
    r = built(cl.ImageInput((2, 2, 1), normalization="rescale-zero-one"), (2, 2, 1), "float64")
    r.fit(x)
    assert np.array_equal(r.forward(x)[0, :, :, 0], [[0, 1 / 3], [2 / 3, 1]])
    # MATLAB's default ("auto", statistics fitted) subtracts one mean per channel
    c = built(cl.ImageInput((2, 2, 1)), (2, 2, 1), "float64")
    c.fit(np.concatenate([x, x + 2]))                              # channel mean (3 + 5) / 2 = 4
    assert np.array_equal(c.forward(x)[0, :, :, 0], [[-4, -2], [0, 2]])
    e = built(cl.ImageInput((2, 2, 1), normalization_dimension="element"), (2, 2, 1), "float64")
    e.fit(np.concatenate([x, x + 2]))                              # mean image = x + 1
    assert np.array_equal(e.forward(x)[0, :, :, 0], -np.ones((2, 2)))
    with pytest.raises(ValueError, match="normalization"):
        cl.ImageInput((2, 2), normalization="whiten")
