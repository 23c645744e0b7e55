"""Convolution2D(has_bias=False): a fixed zero bias, not a parameter, not learned, not counted
(ResNet's and MobileNet's convolutions before batch normalization)."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab import arithmetic as ar


def net_without_bias(dtype="float64"):
    return cl.Network([cl.ImageInput((6, 6, 4), normalization="none"),
                       cl.Convolution2D(3, 8, padding=1, groups=2, has_bias=False),
                       cl.BatchNormalization(), cl.ReLU(), cl.FullyConnected(3), cl.Softmax(),
                       cl.Classification()], dtype=dtype, seed=1)


def test_no_bias_is_counted_or_learned():
    net = net_without_bias()
    conv = net["conv_1"]
    assert "bias" not in conv.params
    assert conv.num_parameters == 3 * 3 * 2 * 8 == 144            # weights only
    assert conv.arithmetic()["parameters"].value == 144
    assert conv.arithmetic()["parameters"].formula == "K_h·K_w·(C / G)·F"
    np.testing.assert_array_equal(conv.bias, np.zeros(8))
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 4))
    _, grads = net.loss_and_gradients(x, [0, 2])
    assert list(grads["conv_1"]) == ["weights"]
    assert "no bias" in conv.describe()


def test_arithmetic_counts_without_bias():
    assert ar.conv_parameters(3, 64, 64, bias=False).value == 36_864    # ResNet-18's 3x3
    assert ar.conv_parameters(3, 64, 64).value == 36_928
    assert ar.conv_connections(4, 4, 3, 2, 2, bias=False).value == 3 * 3 * 2 * 2 * 16


def test_it_computes_a_convolution_plus_zero_and_saves(tmp_path):
    net = net_without_bias()
    weights = net["conv_1"].params["weights"]
    with_bias = cl.Network([cl.ImageInput((6, 6, 4), normalization="none"),
                            cl.Convolution2D(3, 8, padding=1, groups=2, weights=weights,
                                             bias=np.zeros(8))], dtype="float64")
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 4))
    y = net["conv_1"].forward(x)
    np.testing.assert_array_equal(y, with_bias.predict(x))
    cl.save(net, tmp_path / "n.cnnlab")
    back = cl.load(tmp_path / "n.cnnlab")
    assert back["conv_1"].has_bias is False and back.num_parameters == net.num_parameters
    f32 = net.astype("float32")
    assert f32["conv_1"].bias.dtype == np.float32


def test_trace_steps_add_no_bias():
    net = net_without_bias()
    x = np.random.default_rng(2).normal(size=(6, 6, 4))
    rec = net.trace(x)["conv_1"]
    step = rec.step(2, 3, 5)
    assert step.bias == 0
    assert np.isclose(np.sum(step.products), rec.output[2, 3, 5], rtol=0, atol=1e-12)


def test_a_bias_array_with_has_bias_false_is_refused():
    with pytest.raises(ValueError, match="has_bias = False.*bias array was given"):
        cl.Convolution2D(3, 2, has_bias=False, bias=np.ones(2))
    with pytest.raises(ValueError, match="has_bias = 'no'"):
        cl.Convolution2D(3, 2, has_bias="no")
