"""One error form for a wrongly shaped batch, for every layer, before any kernel runs.

Each layer is built inside a Network, then called with batches of the wrong size. Its kernel
backend is replaced by an object that fails the test if touched: the message must come from
the Layer contract's check, not from NumPy or a Numba kernel.
"""
import re

import numpy as np
import pytest

import cnnlab as cl

SHAPE = (4, 4, 2)


class NoKernels:
    """A backend whose every kernel fails the test: nothing may reach it."""

    def __getattr__(self, name):
        raise AssertionError(f"kernel {name} was called with a wrongly shaped input")


def every_layer():
    """(layer, input shape) for every layer type; the softmax and loss layers need a 1x1xK
    input, so they are checked on one."""
    return [
        (cl.ImageInput(SHAPE, normalization="zscore", mean=0.5, std=2.0), SHAPE),
        (cl.Convolution2D(3, 2, padding=1), SHAPE),
        (cl.TransposedConvolution2D(2, 3, stride=2), SHAPE),
        (cl.BatchNormalization(), SHAPE), (cl.CrossChannelNormalization(3), SHAPE),
        (cl.ReLU(), SHAPE), (cl.LeakyReLU(0.1), SHAPE), (cl.ClippedReLU(2), SHAPE),
        (cl.Tanh(), SHAPE), (cl.Sigmoid(), SHAPE),
        (cl.MaxPooling2D(2, stride=2), SHAPE), (cl.AveragePooling2D(2, stride=1), SHAPE),
        (cl.GlobalAveragePooling2D(), SHAPE), (cl.GlobalMaxPooling2D(), SHAPE),
        (cl.Dropout(0.5), SHAPE), (cl.FullyConnected(3), SHAPE),
        (cl.Softmax(), (1, 1, 3)), (cl.Regression(), (1, 1, 3)),
    ]


def built(layer, shape):
    if isinstance(layer, cl.ImageInput):
        net = cl.Network([layer], seed=0)
    else:
        net = cl.Network([layer], input_size=shape, seed=0)
    return net.layers[0]


def ids(cases):
    return [type(layer).__name__ for layer, _ in cases]


def wrong_batches(shape):
    h, w, c = shape
    return [np.zeros((2, h, w, c + 1), np.float32),      # one channel too many
            np.zeros((2, h + 1, w, c), np.float32),      # one row too many
            np.zeros((2, h, w + 1, c), np.float32),
            np.zeros((h, w, c), np.float32),             # no batch axis
            np.zeros((0, h, w, c), np.float32)]          # an empty batch


@pytest.mark.parametrize("layer,shape", every_layer(), ids=ids(every_layer()))
def test_wrong_input_shape_one_message_before_any_kernel(layer, shape):
    layer = built(layer, shape)
    layer.kernels = NoKernels()
    h, w, c = shape
    expected = f"expected N x {h} x {w} x {c} (N >= 1 images of {h}x{w}x{c}, channels last)"
    for x in wrong_batches(shape):
        with pytest.raises(ValueError) as err:
            layer.forward(x, training=True, rng=np.random.default_rng(0))
        got = re.escape(str(x.shape))
        assert re.fullmatch(rf"{re.escape(layer.label)}: input has shape {got}"
                            rf"( \(an empty batch\))?; {re.escape(expected)}", str(err.value)), \
            str(err.value)
    with pytest.raises(ValueError, match=rf"^{re.escape(layer.label)}: input is a list, not a "
                                         rf"numpy array; {re.escape(expected)}$"):
        layer.forward(np.zeros((1,) + shape).tolist())


@pytest.mark.parametrize("layer,shape", every_layer(), ids=ids(every_layer()))
def test_wrong_gradient_shape_after_forward(layer, shape):
    layer = built(layer, shape)
    x = np.random.default_rng(0).standard_normal((3,) + shape).astype(np.float32)
    y = layer.forward(x, training=True, rng=np.random.default_rng(0))
    assert y.shape == (3,) + layer.output_shape
    want = " x ".join(map(str, y.shape))
    layer.kernels = NoKernels()
    for dy in (np.zeros((2,) + y.shape[1:], np.float32),            # another batch size
               np.zeros(y.shape[:3] + (y.shape[3] + 1,), np.float32)):
        with pytest.raises(ValueError, match=rf"^{re.escape(layer.label)}: gradient has shape "
                                             rf"{re.escape(str(dy.shape))}; expected {want} "
                                             r"\(the output of the last forward call, 3 images\)$"):
            layer.backward(dy)


def test_fully_connected_no_longer_leaks_a_numpy_matmul_error():
    net = cl.Network([cl.ImageInput((4, 4, 1), normalization="none"), cl.FullyConnected(2)],
                     seed=0)
    fc = net["fc_1"]
    with pytest.raises(ValueError) as err:
        fc.forward(np.zeros((1, 5, 5, 1), np.float32))
    assert str(err.value) == ("FullyConnected layer 'fc_1': input has shape (1, 5, 5, 1); "
                              "expected N x 4 x 4 x 1 (N >= 1 images of 4x4x1, channels last)")
    assert "matmul" not in str(err.value)


def test_backward_before_forward_is_still_reported_as_such():
    layer = built(cl.MaxPooling2D(2, stride=2), SHAPE)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.zeros((1, 2, 2, 2), np.float32))
