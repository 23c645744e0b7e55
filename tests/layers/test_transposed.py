"""TransposedConvolution2D: PyTorch parity, gradient checks, hand cases, errors."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cnnlab.kernels
from cnnlab.layers.transposed import TransposedConvolution2D
from cnnlab.testing import TOLERANCES, check_layer_gradients
from tests.torch_oracle import F, from_torch, tensor, to_torch, transposed_weights_from_torch, \
    transposed_weights_to_torch

REF = cnnlab.kernels.get_backend("reference")


def build(layer, shape, dtype="float64", seed=0):
    layer.build(shape, rng=np.random.default_rng(seed), dtype=dtype, kernels=REF)
    return layer


@st.composite
def cases(draw):
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    full_h, full_w = (h - 1) * sh + fh, (w - 1) * sw + fw
    if draw(st.booleans()) and fh >= sh and fw >= sw:
        cropping = "same"
    else:   # any crop that leaves at least one row and column
        t = draw(st.integers(0, min(3, full_h - 1)))
        b = draw(st.integers(0, min(3, full_h - 1 - t)))
        l_ = draw(st.integers(0, min(3, full_w - 1)))
        r = draw(st.integers(0, min(3, full_w - 1 - l_)))
        cropping = (t, b, l_, r)
    return dict(filter_size=(fh, fw), stride=(sh, sw), cropping=cropping, h=h, w=w,
                c=draw(st.integers(1, 4)), f=draw(st.integers(1, 4)), n=draw(st.integers(1, 3)),
                dtype=draw(st.sampled_from([np.float32, np.float64])))


@pytest.mark.torch
@settings(max_examples=100)
@given(case=cases())
def test_forward_backward_match_torch(case):
    dtype = case["dtype"]
    (fh, fw), c, f = case["filter_size"], case["c"], case["f"]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((case["n"], case["h"], case["w"], c)).astype(dtype)
    w = rng.standard_normal((fh, fw, f, c)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    layer = build(TransposedConvolution2D(case["filter_size"], f, stride=case["stride"],
                                          cropping=case["cropping"], weights=w, bias=b),
                  (case["h"], case["w"], c), dtype=np.dtype(dtype).name)
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(dy)
    # torch (float64): full transposed convolution, then crop
    xt, wt = to_torch(x, requires_grad=True), transposed_weights_to_torch(w, requires_grad=True)
    bt = tensor(b, True)
    full = F.conv_transpose2d(xt, wt, bt, stride=case["stride"])
    t, bo, l, r = layer.cropping
    yt = full[:, :, t:full.shape[2] - bo, l:full.shape[3] - r]
    yt.backward(to_torch(dy))
    tol = TOLERANCES[np.dtype(dtype)]
    assert y.shape == (case["n"],) + layer.output_shape
    np.testing.assert_allclose(y, from_torch(yt), **tol)
    np.testing.assert_allclose(dx, from_torch(xt.grad), **tol)
    np.testing.assert_allclose(layer.grads["weights"], transposed_weights_from_torch(wt.grad),
                               **tol)
    np.testing.assert_allclose(layer.grads["bias"], bt.grad.numpy(), **tol)
    assert y.dtype == dx.dtype == layer.grads["weights"].dtype == dtype
    if case["cropping"] == "same":
        assert layer.output_shape[:2] == (case["h"] * case["stride"][0],
                                          case["w"] * case["stride"][1])


@pytest.mark.parametrize("kw, shape", [
    (dict(filter_size=3, num_filters=2, stride=2, cropping=(1, 0, 2, 1)), (3, 2, 2)),
    (dict(filter_size=(4, 2), num_filters=3, stride=(2, 1), cropping="same"), (2, 3, 1)),
    (dict(filter_size=1, num_filters=1, stride=3), (2, 2, 3)),
])
def test_gradients_numerically(kw, shape):
    layer = build(TransposedConvolution2D(bias_initializer="narrow-normal", **kw), shape)
    x = np.random.default_rng(5).standard_normal((2,) + shape)
    for name, (analytic, numeric) in check_layer_gradients(layer, x).items():
        np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-8, err_msg=name)


def test_hand_computed_scatter():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None]
    # stride 1, a 2x2 filter of ones: each output cell sums the inputs whose window covers it
    layer = build(TransposedConvolution2D(2, 1, weights=np.ones((2, 2, 1, 1))), (2, 2, 1))
    np.testing.assert_array_equal(layer.forward(x)[0, :, :, 0], [[1, 3, 2],
                                                                  [4, 10, 6],
                                                                  [3, 7, 4]])
    # stride 2, filter [[1, 2], [3, 4]]: the four scaled copies tile the 4x4 output
    k = np.array([[1.0, 2.0], [3.0, 4.0]])[:, :, None, None]
    layer = build(TransposedConvolution2D(2, 1, stride=2, weights=k, bias=[0.5]), (2, 2, 1))
    np.testing.assert_array_equal(layer.forward(x)[0, :, :, 0], np.array([[1, 2, 2, 4],
                                                                          [3, 4, 6, 8],
                                                                          [3, 6, 4, 8],
                                                                          [9, 12, 12, 16]]) + 0.5)
    # cropping (1, 0, 0, 1): drop the first row and the last column
    layer = build(TransposedConvolution2D(2, 1, stride=2, cropping=(1, 0, 0, 1), weights=k),
                  (2, 2, 1))
    np.testing.assert_array_equal(layer.forward(x)[0, :, :, 0], [[3, 4, 6],
                                                                 [3, 6, 4],
                                                                 [9, 12, 12]])


@pytest.mark.parametrize("k, s, size, crops, out", [
    (4, 2, (3, 3), (1, 1, 1, 1), (6, 6)),
    (3, 2, (3, 5), (0, 1, 0, 1), (6, 10)),     # odd total 1: bottom/right
    ((2, 5), (2, 1), (4, 2), (0, 0, 2, 2), (8, 2)),
])
def test_same_cropping(k, s, size, crops, out):
    layer = build(TransposedConvolution2D(k, 2, stride=s, cropping="same"), size + (1,))
    assert layer.cropping == crops
    assert layer.output_shape == out + (2,)


def test_arithmetic_and_counts():
    layer = build(TransposedConvolution2D(4, 16, stride=2, cropping=1), (8, 8, 3))
    assert layer.output_shape == (16, 16, 16)        # (8 - 1)·2 + 4 - 1 - 1
    assert layer.full_output_size() == (18, 18)
    assert layer.params["weights"].shape == (4, 4, 16, 3)
    assert layer.num_parameters == 4 * 4 * 16 * 3 + 16
    a = layer.arithmetic()
    assert (a["output_height"].value, a["output_width"].value, a["parameters"].value) == \
        (16, 16, 784)
    assert layer.multiply_adds() == 8 * 8 * 3 * 4 * 4 * 16
    assert layer.spatial() is None


def test_describe_and_config_round_trip():
    layer = TransposedConvolution2D(4, 16, stride=2, cropping=1, name="up")
    assert layer.describe() == ("16 4x4 transposed convolutions with stride [2 2] and "
                                "cropping [1 1 1 1]")
    build(layer, (8, 8, 3))
    assert layer.describe() == ("16 4x4x3 transposed convolutions with stride [2 2] and "
                                "cropping [1 1 1 1]")
    assert TransposedConvolution2D(3, 2, stride=2, cropping="same").describe().endswith(
        "cropping 'same'")
    assert (TransposedConvolution2D.kind, TransposedConvolution2D.type_name) == \
        ("transposed-conv", "Transposed Convolution")
    layer = TransposedConvolution2D([3, 2], 4, stride=[2, 1], cropping=(1, 0), num_channels=2,
                                    weights_initializer="he", bias_learn_rate_factor=0,
                                    weight_l2_factor=3, name="t")
    cfg = layer.config()
    assert json.loads(json.dumps(cfg)) == cfg
    assert cfg["cropping"] == [1, 1, 0, 0]
    again = TransposedConvolution2D(**cfg)
    assert again.config() == cfg
    x = np.random.default_rng(0).standard_normal((1, 3, 3, 2))
    np.testing.assert_array_equal(build(layer, (3, 3, 2), seed=7).forward(x),
                                  build(again, (3, 3, 2), seed=7).forward(x))
    assert layer.learn_rate_factors == {"weights": 1.0, "bias": 0.0}
    assert layer.l2_factors == {"weights": 3.0, "bias": 0.0}


def test_float32_preserved_and_he_uses_fan_in_fh_fw_f():
    layer = build(TransposedConvolution2D(3, 50, weights_initializer="he"), (4, 4, 40),
                  dtype="float32")
    w = layer.params["weights"]
    assert w.dtype == layer.params["bias"].dtype == np.float32
    # he: variance 2 / num_in with num_in = FH·FW·F = 450 (not FH·FW·C = 360)
    assert abs(w.var() / (2 / 450) - 1) < 0.05
    y = layer.forward(np.ones((1, 4, 4, 40), dtype=np.float32))
    assert y.dtype == layer.backward(y).dtype == np.float32


@pytest.mark.parametrize("kw, parameter", [
    (dict(filter_size=0), "filter_size"), (dict(filter_size=(2, 2, 2)), "filter_size"),
    (dict(num_filters=0), "num_filters"), (dict(num_filters="8"), "num_filters"),
    (dict(stride=0), "stride"), (dict(stride=1.5), "stride"),
    (dict(cropping=-1), "cropping"), (dict(cropping=(1, 2, 3)), "cropping"),
    (dict(cropping="valid"), "cropping"), (dict(cropping=(1, 0.5)), "cropping"),
    (dict(filter_size=2, stride=3, cropping="same"), "cropping"),
    (dict(num_channels="auto-ish"), "num_channels"), (dict(num_channels=-3), "num_channels"),
    (dict(weights=np.zeros((3, 3, 5, 1))), "weights"), (dict(weights=np.zeros((3, 3))),
                                                        "weights"),
    (dict(bias=[["b"]]), "bias"),
    (dict(weights_initializer="xavier"), "weights_initializer"),
    (dict(bias_initializer=None), "bias_initializer"),
    (dict(weight_learn_rate_factor=-2), "weight_learn_rate_factor"),
    (dict(bias_learn_rate_factor=None), "bias_learn_rate_factor"),
    (dict(weight_l2_factor=-1), "weight_l2_factor"), (dict(bias_l2_factor="0"), "bias_l2_factor"),
])
def test_construction_errors(kw, parameter):
    args = dict(filter_size=3, num_filters=4, name="tc")
    args.update(kw)
    with pytest.raises(ValueError) as err:
        TransposedConvolution2D(**args)
    assert "TransposedConvolution2D layer 'tc'" in str(err.value)
    assert parameter in str(err.value)


def test_same_cropping_error_explains():
    with pytest.raises(ValueError, match=r"cropping = 'same': 'same' crops filter size - stride"
                                         r" = 2 - 3 = -1 along the height"):
        TransposedConvolution2D(2, 1, stride=3, cropping="same")


@pytest.mark.parametrize("kw, shape, parameter, text", [
    (dict(cropping=(2, 1, 0, 0)), (1, 4, 1), "cropping",
     "the uncropped output is 3x6 ((1 - 1)·1 + 3 by (4 - 1)·1 + 3); cropping 2 + 1 rows"),
    (dict(cropping=(0, 0, 3, 3)), (4, 2, 1), "cropping", "leaves nothing"),
    (dict(num_channels=2), (4, 4, 3), "num_channels", "has 3 channels"),
    (dict(weights=np.zeros((3, 3, 4, 2))), (4, 4, 3), "weights", "expected 3x3x4x3"),
    (dict(bias=np.zeros((2, 2))), (4, 4, 3), "bias", "expected 4 values"),
])
def test_build_errors(kw, shape, parameter, text):
    with pytest.raises(ValueError) as err:
        build(TransposedConvolution2D(3, 4, name="tb", **kw), shape)
    assert str(err.value).startswith(f"TransposedConvolution2D layer 'tb': {parameter} = ")
    assert text in str(err.value)


def test_use_errors():
    layer = build(TransposedConvolution2D(2, 1), (2, 2, 1))
    with pytest.raises(ValueError, match="input has shape"):
        layer.forward(np.zeros((1, 2, 2, 2)))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.zeros((1, 3, 3, 1)))
