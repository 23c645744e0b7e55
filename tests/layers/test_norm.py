"""BatchNormalization and CrossChannelNormalization: PyTorch parity, gradient checks, hand
cases, validation errors, describe/config, dtypes."""
import json

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import cnnlab.kernels
from cnnlab.layers.norm import BatchNormalization, CrossChannelNormalization
from cnnlab.testing import TOLERANCES, check_layer_gradients
from tests.torch_oracle import F, from_torch, tensor, to_torch

REF = cnnlab.kernels.get_backend("reference")


def build(layer, shape, dtype="float64", seed=0):
    layer.build(shape, rng=np.random.default_rng(seed), dtype=dtype, kernels=REF)
    return layer


def close(a, b, dtype, what=""):
    np.testing.assert_allclose(a, b, **TOLERANCES[np.dtype(dtype)], err_msg=what)


# ---- batch normalization: PyTorch parity ------------------------------------------------------

@st.composite
def bn_cases(draw):
    n, h, w, c = (draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5)),
                  draw(st.integers(1, 4)))
    training = draw(st.booleans())
    assume(not training or n * h * w >= 2)
    return dict(n=n, h=h, w=w, c=c, training=training,
                decay=draw(st.sampled_from([0.0, 0.1, 0.37, 1.0])),
                eps=draw(st.sampled_from([1e-5, 1e-3, 0.5])),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                seed=draw(st.integers(0, 2**16)))


@pytest.mark.torch
@settings(max_examples=80)
@given(case=bn_cases())
def test_batchnorm_matches_torch(case):
    dt, c = case["dtype"], case["c"]
    rng = np.random.default_rng(case["seed"])
    x = (rng.standard_normal((case["n"], case["h"], case["w"], c)) * 2 + 0.5).astype(dt)
    dy = rng.standard_normal(x.shape).astype(dt)
    layer = build(BatchNormalization(epsilon=case["eps"], mean_decay=case["decay"],
                                     variance_decay=case["decay"],
                                     scale=rng.standard_normal(c), offset=rng.standard_normal(c)),
                  x.shape[1:], dtype=dt)
    layer.state["trained_mean"] = rng.standard_normal(c).astype(dt)
    layer.state["trained_variance"] = rng.uniform(0.2, 3, c).astype(dt)

    run_mean = tensor(layer.state["trained_mean"])
    run_var = tensor(layer.state["trained_variance"])
    gamma = tensor(layer.params["scale"], True)
    beta = tensor(layer.params["offset"], True)
    calls = 2 if case["training"] else 1
    for call in range(calls):        # the running statistics after one and after two calls
        xt = to_torch(x, requires_grad=True)
        yt = F.batch_norm(xt, run_mean, run_var, gamma, beta, training=case["training"],
                          momentum=case["decay"], eps=case["eps"])
        y = layer.forward(x, training=case["training"])
        assert y.dtype == dt
        close(y, from_torch(yt), dt, f"y, call {call}")
        close(layer.state["trained_mean"], run_mean.numpy(), dt, f"trained_mean, call {call}")
        close(layer.state["trained_variance"], run_var.numpy(), dt, f"trained_var, call {call}")
        x = (x * 0.5 + 1).astype(dt)     # the second batch differs from the first
    yt.backward(to_torch(dy))
    dx = layer.backward(dy)
    assert dx.dtype == dt and layer.grads["scale"].dtype == dt
    close(dx, from_torch(xt.grad), dt, "dx")
    close(layer.grads["scale"], gamma.grad.numpy(), dt, "dscale")
    close(layer.grads["offset"], beta.grad.numpy(), dt, "doffset")


@pytest.mark.torch
def test_batchnorm_single_image_uses_its_pixels():
    """N = 1 with H·W > 1 is a valid training batch: the statistics run over H and W."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 3, 2, 2))
    layer = build(BatchNormalization(), (3, 2, 2))
    y = layer.forward(x, training=True)
    yt = F.batch_norm(to_torch(x), None, None, training=True, eps=1e-5)
    close(y, from_torch(yt), np.float64)
    close(layer.last_mean, x.mean(axis=(0, 1, 2)), np.float64)


# ---- batch normalization: numbers by hand ------------------------------------------------------

def test_batchnorm_hand_case_and_running_statistics():
    # channel 0 holds 1 and 3: mean 2, biased variance 1, unbiased variance 2
    # channel 1 holds 5 and 5: mean 5, variance 0 (ε keeps the division finite)
    x = np.array([[[[1.0, 5.0]]], [[[3.0, 5.0]]]])                 # 2 x 1 x 1 x 2
    layer = build(BatchNormalization(epsilon=1e-4, mean_decay=0.1, variance_decay=0.5,
                                     scale=[2.0, 1.0], offset=[0.5, -1.0]), (1, 1, 2))
    y = layer.forward(x, training=True)
    s = np.sqrt(1 + 1e-4)
    np.testing.assert_allclose(y[:, 0, 0, 0], [2 * -1 / s + 0.5, 2 * 1 / s + 0.5], rtol=1e-14)
    np.testing.assert_allclose(y[:, 0, 0, 1], [-1.0, -1.0], rtol=1e-14)
    np.testing.assert_allclose(layer.last_mean, [2.0, 5.0])
    np.testing.assert_allclose(layer.last_variance, [1.0, 0.0])
    np.testing.assert_allclose(layer.last_normalized[:, 0, 0, 0], [-1 / s, 1 / s])
    # trained = (1 - decay)·trained + decay·batch, starting from mean 0 and variance 1;
    # the variance enters unbiased: 1·2/(2-1) = 2 and 0
    np.testing.assert_allclose(layer.state["trained_mean"], [0.9 * 0 + 0.1 * 2, 0.1 * 5])
    np.testing.assert_allclose(layer.state["trained_variance"], [0.5 * 1 + 0.5 * 2, 0.5 * 1])
    # prediction uses the trained statistics: (x - 0.2)/sqrt(1.5 + ε)·2 + 0.5
    y = layer.forward(np.array([[[[0.2, 0.5]]]]), training=False)
    np.testing.assert_allclose(y[0, 0, 0], [0.5, -1.0], rtol=1e-14)
    np.testing.assert_allclose(layer.last_variance, [1.5, 0.5])


def test_batchnorm_decay_zero_keeps_and_one_replaces_the_statistics():
    x = np.random.default_rng(1).standard_normal((2, 3, 3, 2))
    keep = build(BatchNormalization(mean_decay=0, variance_decay=0), (3, 3, 2))
    keep.forward(x, training=True)
    np.testing.assert_array_equal(keep.state["trained_mean"], [0, 0])
    np.testing.assert_array_equal(keep.state["trained_variance"], [1, 1])
    swap = build(BatchNormalization(mean_decay=1, variance_decay=1), (3, 3, 2))
    swap.forward(x, training=True)
    np.testing.assert_allclose(swap.state["trained_mean"], x.mean(axis=(0, 1, 2)))
    np.testing.assert_allclose(swap.state["trained_variance"],
                               x.reshape(-1, 2).var(axis=0, ddof=1))


def test_prediction_mode_leaves_statistics_alone_and_cache_is_last_call():
    rng = np.random.default_rng(2)
    layer = build(BatchNormalization(), (2, 2, 3))
    layer.forward(rng.standard_normal((3, 2, 2, 3)), training=True)
    before = {k: v.copy() for k, v in layer.state.items()}
    x = rng.standard_normal((1, 2, 2, 3))
    layer.forward(x)
    for k in before:
        np.testing.assert_array_equal(layer.state[k], before[k])
    assert layer.last_normalized.shape == x.shape
    dy = rng.standard_normal(x.shape)
    # prediction: an affine map, dx = dy·scale/sqrt(trained variance + ε)
    np.testing.assert_allclose(layer.backward(dy),
                               dy / np.sqrt(layer.state["trained_variance"] + 1e-5))


# ---- cross-channel normalization: PyTorch parity -----------------------------------------------

@st.composite
def lrn_cases(draw):
    return dict(n=draw(st.integers(1, 3)), h=draw(st.integers(1, 4)), w=draw(st.integers(1, 4)),
                c=draw(st.integers(1, 6)), size=draw(st.integers(1, 9)),
                alpha=draw(st.sampled_from([0.0, 1e-4, 0.3, 2.0])),
                beta=draw(st.sampled_from([-0.5, 0.0, 0.75, 1.0, 2.5])),
                k=draw(st.sampled_from([0.5, 1.0, 2.0])),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                seed=draw(st.integers(0, 2**16)))


@pytest.mark.torch
@settings(max_examples=80)
@given(case=lrn_cases())
def test_crossnorm_matches_torch(case):
    dt = case["dtype"]
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["h"], case["w"], case["c"])).astype(dt)
    dy = rng.standard_normal(x.shape).astype(dt)
    layer = build(CrossChannelNormalization(case["size"], alpha=case["alpha"],
                                            beta=case["beta"], k=case["k"]), x.shape[1:], dt)
    xt = to_torch(x, requires_grad=True)
    yt = F.local_response_norm(xt, case["size"], alpha=case["alpha"], beta=case["beta"],
                               k=case["k"])
    yt.backward(to_torch(dy))
    y = layer.forward(x)
    dx = layer.backward(dy)
    assert y.dtype == dt and dx.dtype == dt and layer.last_scale.dtype == dt
    close(y, from_torch(yt), dt, "y")
    close(dx, from_torch(xt.grad), dt, "dx")


# ---- cross-channel normalization: numbers by hand ----------------------------------------------

def test_crossnorm_hand_cases_odd_and_even_windows():
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 1, 3)
    # size 3: windows {0,1}, {0,1,2}, {1,2}; scale = 1 + 3·ss/3 = 1 + ss
    odd = build(CrossChannelNormalization(3, alpha=3, beta=1, k=1), (1, 1, 3))
    np.testing.assert_allclose(odd.forward(x).ravel(), [1 / 6, 2 / 15, 3 / 14], rtol=1e-14)
    np.testing.assert_allclose(odd.last_scale.ravel(), [6, 15, 14])
    # size 2 reaches one channel back: windows {0}, {0,1}, {1,2}; scale = 1 + 3·ss/2
    even = build(CrossChannelNormalization(2, alpha=3, beta=1, k=1), (1, 1, 3))
    np.testing.assert_allclose(even.forward(x).ravel(), [1 / 2.5, 2 / 8.5, 3 / 20.5],
                               rtol=1e-14)
    # a window wider than C is clipped: size 7 sees all 3 channels, still divides by 7
    wide = build(CrossChannelNormalization(7, alpha=7, beta=0.5, k=2), (1, 1, 3))
    np.testing.assert_allclose(wide.forward(x).ravel(), np.array([1, 2, 3]) / 4.0, rtol=1e-14)


def test_crossnorm_alexnet_form_is_alpha_times_window():
    """The paper's k + a·ss equals this layer with alpha = a·n."""
    x = np.random.default_rng(5).standard_normal((2, 2, 2, 6))
    a, n, k, b = 1e-2, 5, 2.0, 0.75
    y = build(CrossChannelNormalization(n, alpha=a * n, beta=b, k=k), (2, 2, 6)).forward(x)
    expected = np.empty_like(x)
    for c in range(6):
        ss = (x[..., max(0, c - 2):c + 3] ** 2).sum(axis=-1)
        expected[..., c] = x[..., c] / (k + a * ss) ** b
    np.testing.assert_allclose(y, expected, rtol=1e-13)


# ---- numerical gradients (float64) ------------------------------------------------------------

@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape,n", [((3, 2, 3), 2), ((2, 2, 1), 1), ((1, 1, 2), 3)])
def test_batchnorm_gradients_numerically(training, shape, n):
    rng = np.random.default_rng(6)
    layer = build(BatchNormalization(scale_initializer="narrow-normal",
                                     offset_initializer="narrow-normal"), shape)
    layer.params["scale"] = rng.uniform(0.5, 2, shape[2])
    layer.state["trained_mean"] = rng.standard_normal(shape[2])
    layer.state["trained_variance"] = rng.uniform(0.5, 2, shape[2])
    x = rng.standard_normal((n,) + shape)
    for name, (analytic, numeric) in check_layer_gradients(layer, x, training=training).items():
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("size,c", [(1, 3), (2, 4), (3, 5), (4, 3), (5, 5), (8, 3)])
def test_crossnorm_gradients_numerically(size, c):
    layer = build(CrossChannelNormalization(size, alpha=0.8, beta=0.75, k=1.5), (2, 3, c))
    x = np.random.default_rng(7).standard_normal((2, 2, 3, c))
    for name, (analytic, numeric) in check_layer_gradients(layer, x).items():
        np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9, err_msg=name)


# ---- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("kw,parameter", [
    (dict(epsilon=0), "epsilon"), (dict(epsilon=-1e-3), "epsilon"),
    (dict(epsilon=float("nan")), "epsilon"), (dict(epsilon="1e-5"), "epsilon"),
    (dict(mean_decay=-0.1), "mean_decay"), (dict(mean_decay=1.5), "mean_decay"),
    (dict(variance_decay=True), "variance_decay"), (dict(variance_decay=2), "variance_decay"),
    (dict(scale_initializer="uniform"), "scale_initializer"),
    (dict(offset_initializer=3), "offset_initializer"),
    (dict(scale_learn_rate_factor=-1), "scale_learn_rate_factor"),
    (dict(offset_learn_rate_factor="x"), "offset_learn_rate_factor"),
    (dict(scale_l2_factor=float("inf")), "scale_l2_factor"),
    (dict(offset_l2_factor=-2), "offset_l2_factor"),
    (dict(scale=["a", "b"]), "scale"), (dict(offset=[0.0, float("nan")]), "offset"),
])
def test_batchnorm_construction_errors(kw, parameter):
    with pytest.raises(ValueError) as info:
        BatchNormalization(name="bn", **kw)
    assert "BatchNormalization layer 'bn'" in str(info.value)
    assert parameter in str(info.value)


def test_batchnorm_build_and_use_errors():
    with pytest.raises(ValueError, match=r"'bn'.*scale.*shape \(3,\).*expected 2"):
        build(BatchNormalization(scale=[1, 2, 3], name="bn"), (4, 4, 2))
    layer = build(BatchNormalization(scale=np.ones((1, 1, 2)), name="bn"), (4, 4, 2))
    np.testing.assert_array_equal(layer.params["scale"], [1, 1])   # 1x1xC accepted
    with pytest.raises(ValueError, match=r"'bn': input.*N·H·W = 1·1·1 = 1"):
        build(BatchNormalization(name="bn"), (1, 1, 2)).forward(np.ones((1, 1, 1, 2)),
                                                               training=True)
    with pytest.raises(ValueError, match=r"'bn': input.*\(2, 4, 4, 3\).*N x 4 x 4 x 2"):
        layer.forward(np.ones((2, 4, 4, 3)))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        build(BatchNormalization(name="bn"), (2, 2, 1)).backward(np.ones((1, 2, 2, 1)))
    with pytest.raises(RuntimeError, match="not built"):
        BatchNormalization().forward(np.ones((2, 2, 2, 1)))


@pytest.mark.parametrize("args,kw,parameter", [
    ((0,), {}, "window_channel_size"), ((2.5,), {}, "window_channel_size"),
    ((True,), {}, "window_channel_size"), (("5",), {}, "window_channel_size"),
    ((5,), dict(alpha=-1e-4), "alpha"), ((5,), dict(alpha=float("nan")), "alpha"),
    ((5,), dict(beta=float("inf")), "beta"), ((5,), dict(beta=None), "beta"),
    ((5,), dict(k=0), "k"), ((5,), dict(k=-2), "k"),
])
def test_crossnorm_construction_errors(args, kw, parameter):
    with pytest.raises(ValueError) as info:
        CrossChannelNormalization(*args, name="norm", **kw)
    assert f"CrossChannelNormalization layer 'norm': {parameter} =" in str(info.value)


def test_crossnorm_use_errors():
    layer = build(CrossChannelNormalization(3, name="norm"), (2, 2, 4))
    with pytest.raises(ValueError, match=r"'norm': input.*N x 2 x 2 x 4"):
        layer.forward(np.ones((1, 2, 2, 5)))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.ones((1, 2, 2, 4)))


# ---- describe, config, dtypes ------------------------------------------------------------------

def test_describe():
    bn = BatchNormalization()
    assert bn.describe() == "Batch normalization" and bn.type_name == "Batch Normalization"
    assert build(bn, (5, 5, 16)).describe() == "Batch normalization with 16 channels"
    assert bn.kind == "batchnorm" and bn.has_training_mode
    assert bn.arithmetic()["parameters"].value == 32 and bn.num_parameters == 32
    lrn = CrossChannelNormalization(5)
    assert lrn.describe() == "cross channel normalization with 5 channels per element"
    assert lrn.type_name == "Cross Channel Normalization" and lrn.kind == "crossnorm"
    assert build(lrn, (3, 3, 2)).output_shape == (3, 3, 2) and lrn.num_parameters == 0


def test_config_round_trip():
    bn = BatchNormalization(epsilon=1e-3, mean_decay=0.2, variance_decay=0.05,
                            scale_initializer="narrow-normal", offset_initializer=np.zeros,
                            scale_learn_rate_factor=2, offset_l2_factor=0, name="bn_x")
    cfg = json.loads(json.dumps(bn.config()))
    assert cfg["offset_initializer"] == "custom"
    cfg["offset_initializer"] = "zeros"
    again = BatchNormalization(**cfg)
    assert again.config() == cfg and again.describe() == bn.describe()
    lrn = CrossChannelNormalization(4, alpha=0.5, beta=1.25, k=3, name="n1")
    cfg = json.loads(json.dumps(lrn.config()))
    assert CrossChannelNormalization(**cfg).config() == cfg
    assert cfg == {"window_channel_size": 4, "alpha": 0.5, "beta": 1.25, "k": 3.0, "name": "n1"}


def test_float32_in_float32_out():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    bn = build(BatchNormalization(), (3, 3, 4), dtype="float32")
    for training in (True, False):
        y = bn.forward(x, training=training)
        dx = bn.backward(np.ones_like(y))
        assert {y.dtype, dx.dtype, bn.last_normalized.dtype} == {np.dtype(np.float32)}
        assert all(v.dtype == np.float32 for v in (*bn.grads.values(), *bn.state.values()))
    lrn = build(CrossChannelNormalization(3, alpha=0.5), (3, 3, 4), dtype="float32")
    y = lrn.forward(x)
    assert y.dtype == np.float32 and lrn.backward(np.ones_like(y)).dtype == np.float32
