"""Convolution2D: PyTorch parity, gradient checks, the reference documents' numbers, errors."""
import json

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import cnnlab.kernels
from cnnlab.kernels import padding
from cnnlab.layers.conv import Convolution2D
from cnnlab.testing import TOLERANCES, check_layer_gradients
from tests.examples import EXPECTED, MAGIC
from tests.torch_oracle import F, conv_weights_from_torch, conv_weights_to_torch, from_torch, \
    tensor, to_torch

REF = cnnlab.kernels.get_backend("reference")
MODES = padding.PADDING_MODES


def build(layer, shape, dtype="float64", seed=0):
    layer.build(shape, rng=np.random.default_rng(seed), dtype=dtype, kernels=REF)
    return layer


# ---- PyTorch parity --------------------------------------------------------------------------

@st.composite
def conv_cases(draw):
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pads = draw(st.tuples(*[st.integers(0, 3)] * 4))
    value = draw(st.sampled_from([0, 0.75, -2] + list(MODES)))
    c, f = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    groups = draw(st.sampled_from([g for g in range(1, 5) if c % g == 0 and f % g == 0]))
    same = draw(st.sampled_from([False, False, False, True]))
    if same:     # "same" always fits; the pads come from the layer and are checked by size
        pads = (0, 0, 0, 0)
    eh, ew = (fh - 1) * dh + 1, (fw - 1) * dw + 1
    # the smallest input the dilated filter fits in once padded; skip what cannot fit in 9
    min_h, min_w = (1, 1) if same else (max(1, eh - pads[0] - pads[1]),
                                        max(1, ew - pads[2] - pads[3]))
    assume(min_h <= 9 and min_w <= 9)
    h, w = draw(st.integers(min_h, 9)), draw(st.integers(min_w, 9))
    n = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return dict(fh=fh, fw=fw, stride=(sh, sw), dilation=(dh, dw), pads=pads, same=same,
                value=value,
                c=c, f=f, groups=groups, h=h, w=w, n=n, dtype=dtype)


def torch_conv(x, w, b, dy, case):
    """PyTorch forward and gradients in float64 (whatever the dtype of the arrays given);
    padding done with F.pad (or np.pad for include-edge, which torch lacks: then no input
    gradient is returned)."""
    t, bo, l, r = case["pads"]
    value = case["value"]
    if value == "symmetric-include-edge":
        xt = None
        xpt = to_torch(np.pad(x, ((0, 0), (t, bo), (l, r), (0, 0)), mode="symmetric"))
    else:
        xt = to_torch(x, requires_grad=True)
        if isinstance(value, str):
            mode = {"symmetric-exclude-edge": "reflect", "replicate": "replicate"}[value]
            xpt = F.pad(xt, (l, r, t, bo), mode=mode)
        else:
            xpt = F.pad(xt, (l, r, t, bo), mode="constant", value=value)
    wt = conv_weights_to_torch(w, requires_grad=True)
    bt = tensor(b, requires_grad=True)
    yt = F.conv2d(xpt, wt, bt, stride=case["stride"], dilation=case["dilation"],
                  groups=case["groups"])
    yt.backward(to_torch(dy))
    dx = None if xt is None else from_torch(xt.grad)
    return from_torch(yt), dx, conv_weights_from_torch(wt.grad), bt.grad.numpy()


@pytest.mark.torch
@settings(max_examples=150)
@given(case=conv_cases())
def test_forward_backward_match_torch(case):
    dtype = case["dtype"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((case["n"], case["h"], case["w"], case["c"])).astype(dtype)
    w = rng.standard_normal((case["fh"], case["fw"], case["c"] // case["groups"],
                             case["f"])).astype(dtype)
    bias = rng.standard_normal(case["f"]).astype(dtype)
    layer = build(Convolution2D((case["fh"], case["fw"]), case["f"], stride=case["stride"],
                                dilation=case["dilation"],
                                padding="same" if case["same"] else case["pads"],
                                padding_value=case["value"], groups=case["groups"],
                                weights=w, bias=bias),
                  (case["h"], case["w"], case["c"]), dtype=np.dtype(dtype).name)
    if case["same"]:
        (sh, sw), h, w_ = case["stride"], case["h"], case["w"]
        assert layer.output_shape[:2] == (-(-h // sh), -(-w_ // sw))     # ceil(input/stride)
        case = dict(case, pads=layer.padding)
    t, b, l, r = case["pads"]
    if case["value"] == "symmetric-exclude-edge":   # torch reflects once only: pad < size
        assume(max(t, b) < case["h"] and max(l, r) < case["w"])
    y = layer.forward(x)
    assert y.dtype == dtype
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(dy)
    y_t, dx_t, dw_t, db_t = torch_conv(x, w, bias, dy, case)
    tol = TOLERANCES[np.dtype(dtype)]      # cnnlab in its dtype against the float64 oracle
    assert y.shape == y_t.shape == (case["n"],) + layer.output_shape
    np.testing.assert_allclose(y, y_t, **tol)
    np.testing.assert_allclose(layer.grads["weights"], dw_t, **tol)
    np.testing.assert_allclose(layer.grads["bias"], db_t, **tol)
    if dx_t is not None:
        np.testing.assert_allclose(dx, dx_t, **tol)
    assert dx.dtype == layer.grads["weights"].dtype == layer.grads["bias"].dtype == dtype


def conv_by_hand(x, w, b, dy, stride, dilation, pads):
    """Zero-padded convolution and its gradients as plain loops over the formula, float64:
    y[n,i,j,f] = b[f] + Σ_{u,v,c} xp[n, i·sh + u·dh, j·sw + v·dw, c]·w[u,v,c,f]; each product
    sends dy·w back to that xp cell and dy·xp to that weight."""
    (sh, sw), (dh, dw), (t, bo, l, r) = stride, dilation, pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (t, bo), (l, r), (0, 0)))
    n, oh, ow, nf = dy.shape
    fh, fw, c, _ = w.shape
    y, dxp, dw_ = np.zeros(dy.shape), np.zeros_like(xp), np.zeros(w.shape)
    for q, i, j, f, u, v, k in np.ndindex(n, oh, ow, nf, fh, fw, c):
        row, col = i * sh + u * dh, j * sw + v * dw
        y[q, i, j, f] += xp[q, row, col, k] * float(w[u, v, k, f])
        dxp[q, row, col, k] += float(dy[q, i, j, f]) * float(w[u, v, k, f])
        dw_[u, v, k, f] += float(dy[q, i, j, f]) * xp[q, row, col, k]
    y += b.astype(np.float64)
    dx = dxp[:, t:xp.shape[1] - bo, l:xp.shape[2] - r]
    return y, dx, dw_, dy.astype(np.float64).sum(axis=(0, 1, 2))


REGRESSION = dict(stride=(1, 3), dilation=(2, 1), pads=(2, 2, 0, 1), value=0, groups=1)


def regression_case(backend):
    """The derandomized case that turned the README's test command red on an AMD EPYC: 7x1
    input, 3x2 filter, stride (1, 3), dilation (2, 1), padding 'same', batch 3, float32.
    PyTorch 2.13's oneDNN float32 conv2d returned shifted values (sometimes ~1e30) there."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 1, 1)).astype(np.float32)
    w = rng.standard_normal((3, 2, 1, 1)).astype(np.float32)
    bias = rng.standard_normal(1).astype(np.float32)
    layer = Convolution2D((3, 2), 1, stride=(1, 3), dilation=(2, 1), padding="same",
                          weights=w, bias=bias)
    layer.build((7, 1, 1), rng=np.random.default_rng(0), dtype="float32",
                kernels=cnnlab.kernels.get_backend(backend))
    # 'same' by hand: heights 7 out, (7 - 1)·1 + (3 - 1)·2 + 1 - 7 = 4 -> 2 and 2; widths
    # ceil(1/3) = 1 out, (1 - 1)·3 + 2 - 1 = 1 -> 0 left and 1 right (the extra goes right)
    assert layer.padding == REGRESSION["pads"] and layer.output_shape == (7, 1, 1)
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(dy)
    got = (y, dx, layer.grads["weights"], layer.grads["bias"])
    assert all(a.dtype == np.float32 for a in got)
    return (x, w, bias, dy), got


@pytest.mark.parametrize("backend", ["reference", "fast"])
def test_regression_7x1_stride_1x3_dilation_2x1_same_float32_against_a_hand_loop(backend):
    (x, w, bias, dy), got = regression_case(backend)
    hand = conv_by_hand(x, w, bias, dy, REGRESSION["stride"], REGRESSION["dilation"],
                        REGRESSION["pads"])
    for name, ours, by_hand in zip(("y", "dx", "dw", "db"), got, hand):
        np.testing.assert_allclose(ours, by_hand, **TOLERANCES[np.dtype(np.float32)],
                                   err_msg=name)


@pytest.mark.torch
@pytest.mark.parametrize("backend", ["reference", "fast"])
def test_regression_7x1_stride_1x3_dilation_2x1_same_float32_against_float64_torch(backend):
    (x, w, bias, dy), got = regression_case(backend)
    oracle = torch_conv(x, w, bias, dy, REGRESSION)
    assert all(a.dtype == np.float64 for a in oracle)      # the oracle ran in float64
    hand = conv_by_hand(x, w, bias, dy, REGRESSION["stride"], REGRESSION["dilation"],
                        REGRESSION["pads"])
    for name, ours, torch64, by_hand in zip(("y", "dx", "dw", "db"), got, oracle, hand):
        np.testing.assert_allclose(torch64, by_hand, rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(ours, torch64, **TOLERANCES[np.dtype(np.float32)],
                                   err_msg=name)


# ---- centred differences (float64), including the mode torch does not have ------------------

@pytest.mark.parametrize("kw, shape", [
    (dict(filter_size=3, num_filters=2, padding=(2, 1, 0, 3),
          padding_value="symmetric-include-edge"), (4, 3, 2)),
    (dict(filter_size=(2, 3), num_filters=2, stride=2, padding=4,
          padding_value="symmetric-include-edge"), (3, 2, 1)),   # wider than the input
    (dict(filter_size=2, num_filters=4, dilation=2, padding=1,
          padding_value="symmetric-exclude-edge", groups=2), (4, 4, 2)),
    (dict(filter_size=3, num_filters=3, stride=(2, 1), padding="same",
          padding_value="replicate", groups=3), (5, 4, 3)),
    (dict(filter_size=(1, 2), num_filters=2, padding=(1, 0), padding_value=1.5), (3, 3, 2)),
])
def test_gradients_numerically(kw, shape):
    layer = build(Convolution2D(bias_initializer="narrow-normal", **kw), shape)
    x = np.random.default_rng(4).standard_normal((2,) + shape)
    for name, (analytic, numeric) in check_layer_gradients(layer, x).items():
        np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-8, err_msg=name)


# ---- numbers from the reference documents ----------------------------------------------------

def test_convolution_arithmetic_example():
    x = np.array([[3, 3, 2, 1, 0],
                  [0, 0, 1, 3, 1],
                  [3, 1, 2, 2, 3],
                  [2, 0, 0, 2, 2],
                  [2, 0, 0, 0, 1]], dtype=float)
    k = np.array([[0, 1, 2],
                  [2, 2, 0],
                  [0, 1, 2]], dtype=float)
    layer = build(Convolution2D(3, 1, weights=k[:, :, None, None], bias=[0.0]), (5, 5, 1))
    y = layer.forward(x[None, :, :, None])
    np.testing.assert_array_equal(y[0, :, :, 0], [[12, 12, 17],
                                                  [10, 17, 19],
                                                  [9, 6, 14]])


def test_608_parameters_example():
    layer = build(Convolution2D(5, 8, stride=2, padding=2), (32, 32, 3))
    assert layer.output_shape == (16, 16, 8)
    assert layer.num_parameters == 608
    assert np.prod(layer.output_shape) == 2048
    a = layer.arithmetic()
    assert a["output_height"].value == a["output_width"].value == 16
    assert a["parameters"].value == 608
    assert layer.multiply_adds() == 16 * 16 * 5 * 5 * 3 * 8
    assert layer.params["weights"].shape == (5, 5, 3, 8)


def test_6x4_filter_stride_4_example():
    layer = build(Convolution2D((6, 4), 16, stride=4, padding=(1, 0)), (28, 28, 1))
    assert layer.output_shape == (7, 7, 16)
    assert layer.padding == (1, 1, 0, 0)
    assert layer.spatial() == ((6, 4, 1), (4, 4, 0))


def test_dilated_filter_is_5x5_with_zero_holes():
    w = np.arange(1, 10, dtype=float).reshape(3, 3, 1, 1)
    layer = build(Convolution2D(3, 1, dilation=2, weights=w), (7, 7, 1))
    assert layer.effective_filter_size == (5, 5)
    assert layer.arithmetic()["effective_filter_height"].value == 5
    np.testing.assert_array_equal(layer.effective_weights()[:, :, 0, 0],
                                  [[1, 0, 2, 0, 3],
                                   [0, 0, 0, 0, 0],
                                   [4, 0, 5, 0, 6],
                                   [0, 0, 0, 0, 0],
                                   [7, 0, 8, 0, 9]])
    assert layer.output_shape == (3, 3, 1)
    assert layer.spatial() == ((5, 1, 0), (5, 1, 0))


@pytest.mark.parametrize("value", list(EXPECTED))
def test_padding_values_through_the_layer(value):
    # a 1x1 filter of weight 1 shows the padded input itself
    layer = build(Convolution2D(1, 1, padding=2, padding_value=value,
                                weights=np.ones((1, 1, 1, 1))), (3, 3, 1))
    y = layer.forward(MAGIC[None, :, :, None])
    np.testing.assert_array_equal(y[0, :, :, 0], EXPECTED[value])


@pytest.mark.parametrize("size, k, s, pads, out", [
    ((28, 28), 3, 1, (1, 1, 1, 1), (28, 28)),
    ((7, 6), 3, 2, (1, 1, 0, 1), (4, 3)),      # heights: ceil(7/2) = 4 needs 2; widths 1
    ((5, 5), 4, 1, (1, 2, 1, 2), (5, 5)),      # odd total 3: the extra goes bottom/right
])
def test_same_padding(size, k, s, pads, out):
    layer = build(Convolution2D(k, 2, stride=s, padding="same"), size + (1,))
    assert layer.padding == pads
    assert layer.output_shape == out + (2,)


def test_groups_keep_channels_apart():
    # 2 channels, 2 groups of one 1x1 filter: filter 0 sees channel 0 only, filter 1 channel 1
    x = np.array([[[1.0, 10.0], [2.0, 20.0]]])[:, None]            # 1x1x2x2
    layer = build(Convolution2D(1, 2, groups=2, weights=np.array([[[[3.0, 5.0]]]]),
                                bias=[1.0, -1.0]), (1, 2, 2))
    assert layer.params["weights"].shape == (1, 1, 1, 2)
    np.testing.assert_array_equal(layer.forward(x)[0, 0], [[4, 49], [7, 99]])
    assert layer.num_parameters == 4


# ---- description and configuration -----------------------------------------------------------

def test_describe():
    layer = Convolution2D(3, 16, padding=1)
    assert layer.describe() == "16 3x3 convolutions with stride [1 1] and padding [1 1 1 1]"
    build(layer, (28, 28, 1))
    assert layer.describe() == "16 3x3x1 convolutions with stride [1 1] and padding [1 1 1 1]"
    assert Convolution2D(5, 20).describe() == \
        "20 5x5 convolutions with stride [1 1] and padding [0 0 0 0]"
    layer = Convolution2D((3, 2), 16, stride=(2, 1), dilation=2, padding="same", groups=2,
                          padding_value="replicate")
    assert layer.describe() == ("2 groups of 8 3x2 convolutions with stride [2 1] and padding "
                                "'same', dilation [2 2], padding value 'replicate'")
    build(layer, (9, 9, 4))
    assert layer.describe() == ("2 groups of 8 3x2x2 convolutions with stride [2 1] and "
                                "padding [2 2 1 1], dilation [2 2], padding value 'replicate'")
    assert Convolution2D(1, 1, padding_value=-0.5).describe().endswith("padding value -0.5")
    assert Convolution2D.type_name == "Convolution" and Convolution2D.kind == "conv"


def test_config_round_trip():
    layer = Convolution2D([3, 2], 4, stride=[1, 2], dilation=2, padding=(1, 2), groups=2,
                          padding_value="symmetric-exclude-edge", num_channels=2,
                          weights_initializer="he", bias_initializer="ones",
                          weight_learn_rate_factor=2, bias_l2_factor=0.5, name="c1")
    cfg = layer.config()
    assert json.loads(json.dumps(cfg)) == cfg
    assert cfg["padding"] == [1, 1, 2, 2] and cfg["filter_size"] == [3, 2]
    again = Convolution2D(**cfg)
    assert again.config() == cfg
    a, b = build(layer, (6, 6, 2), seed=3), build(again, (6, 6, 2), seed=3)
    x = np.random.default_rng(0).standard_normal((1, 6, 6, 2))
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    assert a.learn_rate_factors == {"weights": 2.0, "bias": 1.0}
    assert a.l2_factors == {"weights": 1.0, "bias": 0.5}
    assert Convolution2D(3, 2, padding="same").config()["padding"] == "same"
    assert Convolution2D(3, 2, weights_initializer=lambda s: np.zeros(s)).config()[
        "weights_initializer"] == "custom"


# ---- dtype, caching -------------------------------------------------------------------------

def test_float32_in_float32_out_and_cache_is_last_call():
    layer = build(Convolution2D(3, 2, padding=1, padding_value="replicate"), (5, 5, 1),
                  dtype="float32")
    assert layer.params["weights"].dtype == np.float32
    rng = np.random.default_rng(0)
    x1, x2 = (rng.standard_normal((2, 5, 5, 1)).astype(np.float32) for _ in range(2))
    layer.forward(x1)
    y = layer.forward(x2)
    assert y.dtype == np.float32
    dx = layer.backward(np.ones_like(y))
    assert dx.dtype == np.float32 and dx.shape == x2.shape
    # dL/db = number of output cells per filter; dL/dw[u, v] = Σ xp over the window shifted by
    # (u, v), built from x2 (the last call), not x1
    np.testing.assert_array_equal(layer.grads["bias"], [50, 50])
    xp = np.pad(x2, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    expected = np.array([[xp[:, u:u + 5, v:v + 5].sum() for v in range(3)] for u in range(3)])
    for f in range(2):
        np.testing.assert_allclose(layer.grads["weights"][:, :, 0, f], expected, rtol=1e-5)


# ---- every validation error ------------------------------------------------------------------

@pytest.mark.parametrize("kw, parameter", [
    (dict(filter_size=0), "filter_size"), (dict(filter_size=(3, 0)), "filter_size"),
    (dict(filter_size=(1, 2, 3)), "filter_size"), (dict(filter_size=2.5), "filter_size"),
    (dict(filter_size="3"), "filter_size"), (dict(filter_size=True), "filter_size"),
    (dict(num_filters=0), "num_filters"), (dict(num_filters=1.5), "num_filters"),
    (dict(stride=0), "stride"), (dict(stride=(1, -1)), "stride"),
    (dict(dilation=0), "dilation"), (dict(dilation=(2, 2, 2)), "dilation"),
    (dict(padding=-1), "padding"), (dict(padding=(1, 2, 3)), "padding"),
    (dict(padding="valid"), "padding"), (dict(padding=(1, -1)), "padding"),
    (dict(padding=1.5), "padding"),
    (dict(padding_value="reflect"), "padding_value"),
    (dict(padding_value=float("nan")), "padding_value"),
    (dict(groups=0), "groups"), (dict(groups=1.5), "groups"),
    (dict(groups=3), "groups"),                         # does not divide num_filters = 4
    (dict(groups=2, num_channels=3), "groups"),         # does not divide num_channels = 3
    (dict(num_channels="many"), "num_channels"), (dict(num_channels=0), "num_channels"),
    (dict(weights=np.zeros((3, 3, 1, 5))), "weights"),  # 5 filters, expected 4
    (dict(weights=np.zeros((2, 3, 1, 4))), "weights"),
    (dict(weights=np.zeros((3, 3, 4))), "weights"), (dict(weights=[["a"]]), "weights"),
    (dict(bias=["x"]), "bias"),
    (dict(weights_initializer="uniform"), "weights_initializer"),
    (dict(bias_initializer=3), "bias_initializer"),
    (dict(weight_learn_rate_factor=-1), "weight_learn_rate_factor"),
    (dict(bias_learn_rate_factor="2"), "bias_learn_rate_factor"),
    (dict(weight_l2_factor=float("inf")), "weight_l2_factor"),
    (dict(bias_l2_factor=-0.1), "bias_l2_factor"),
])
def test_construction_errors(kw, parameter):
    args = dict(filter_size=3, num_filters=4, name="conv_x")
    args.update(kw)
    with pytest.raises(ValueError) as err:
        Convolution2D(**args)
    message = str(err.value)
    assert "Convolution2D layer 'conv_x'" in message
    assert parameter in message


def test_group_errors_explain_the_division():
    with pytest.raises(ValueError, match="groups = 3: 3 does not divide num_filters = 4"):
        Convolution2D(3, 4, groups=3)
    with pytest.raises(ValueError, match="3 does not divide num_channels = 4"):
        build(Convolution2D(1, 3, groups=3, name="g"), (5, 5, 4))


@pytest.mark.parametrize("kw, shape, parameter, text", [
    (dict(filter_size=7, dilation=2), (8, 8, 1), "filter_size",
     "filter spans 13x13 ((7 - 1)·2 + 1 by (7 - 1)·2 + 1), larger than the padded input 10x10 "
     "(8 + 1 + 1 by 8 + 1 + 1)"),
    (dict(filter_size=(2, 6)), (8, 3, 1), "filter_size", "larger than the padded input 10x5"),
    (dict(filter_size=3, num_channels=3), (8, 8, 1), "num_channels", "has 1 channels"),
    (dict(filter_size=1, groups=2), (8, 8, 3), "groups", "does not divide num_channels = 3"),
    (dict(filter_size=3, weights=np.zeros((3, 3, 2, 4))), (8, 8, 1), "weights",
     "expected 3x3x1x4"),
    (dict(filter_size=3, groups=2, weights=np.zeros((3, 3, 4, 4))), (8, 8, 4), "weights",
     "expected 3x3x2x4"),
    (dict(filter_size=3, bias=np.zeros(3)), (8, 8, 1), "bias", "expected 4 values"),
])
def test_build_errors(kw, shape, parameter, text):
    with pytest.raises(ValueError) as err:
        build(Convolution2D(num_filters=4, padding=1, name="conv_b", **kw), shape)
    message = str(err.value)
    assert message.startswith(f"Convolution2D layer 'conv_b': {parameter} = ")
    assert text in message


def test_bias_as_1x1xF_and_use_errors():
    layer = build(Convolution2D(1, 3, bias=np.arange(3.0).reshape(1, 1, 3)), (2, 2, 1))
    np.testing.assert_array_equal(layer.params["bias"], [0, 1, 2])
    with pytest.raises(ValueError, match="input has shape"):
        layer.forward(np.zeros((1, 3, 2, 1)))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.zeros((1, 2, 2, 3)))
    with pytest.raises(RuntimeError, match="not built"):
        Convolution2D(1, 1).forward(np.zeros((1, 1, 1, 1)))
    with pytest.raises(TypeError, match="name"):
        Convolution2D(1, 1, name=3)
