"""Softmax, Classification and Regression: PyTorch parity, gradient checks, hand cases,
validation errors, describe/config, dtypes."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cnnlab.kernels
from cnnlab.layers.output import Classification, Regression, Softmax
from cnnlab.testing import TOLERANCES, check_layer_gradients, numerical_gradient
from tests.torch_oracle import F, tensor, torch

REF = cnnlab.kernels.get_backend("reference")


def build(layer, shape, dtype="float64", seed=0):
    layer.build(shape, rng=np.random.default_rng(seed), dtype=dtype, kernels=REF)
    return layer


def close(a, b, dtype, what=""):
    np.testing.assert_allclose(a, b, **TOLERANCES[np.dtype(dtype)], err_msg=what)


@st.composite
def score_cases(draw):
    """Scores N×H×W×K (channels last: softmax runs over the last axis in both libraries)."""
    one_by_one = draw(st.booleans())
    h, w = (1, 1) if one_by_one else (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    return dict(n=draw(st.integers(1, 3)), h=h, w=w, k=draw(st.integers(1, 6)),
                spread=draw(st.sampled_from([0.1, 1.0, 10.0, 300.0])),
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                seed=draw(st.integers(0, 2**16)))


# ---- softmax ------------------------------------------------------------------------------------

@pytest.mark.torch
@settings(max_examples=60)
@given(case=score_cases())
def test_softmax_matches_torch(case):
    dt = case["dtype"]
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["h"], case["w"], case["k"])
    a = (rng.standard_normal(shape) * case["spread"]).astype(dt)   # 300: exp would overflow
    dy = rng.standard_normal(shape).astype(dt)
    layer = build(Softmax(), shape[1:], dt)
    at = tensor(a, True)
    yt = torch.softmax(at, dim=-1)
    yt.backward(tensor(dy))
    y = layer.forward(a)
    dx = layer.backward(dy)
    assert y.dtype == dt and dx.dtype == dt and np.all(np.isfinite(y))
    close(y, yt.detach().numpy(), dt, "y")
    close(dx, at.grad.numpy(), dt, "dx")


def test_softmax_gradient_numerically_and_by_hand():
    layer = build(Softmax(), (2, 1, 4))
    x = np.random.default_rng(1).standard_normal((3, 2, 1, 4))
    for name, (analytic, numeric) in check_layer_gradients(layer, x).items():
        np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9, err_msg=name)
    # scores ln 1, ln 3: probabilities 1/4, 3/4; huge equal scores share evenly
    y = build(Softmax(), (1, 1, 2)).forward(np.log([[[[1.0, 3.0]]], [[[1e4, 1e4]]]]))
    np.testing.assert_allclose(y.reshape(2, 2), [[0.25, 0.75], [0.5, 0.5]], rtol=1e-15)


# ---- classification: parity --------------------------------------------------------------------

@pytest.mark.torch
@settings(max_examples=60)
@given(case=score_cases())
def test_classification_matches_torch(case):
    dt, n, k = case["dtype"], case["n"], case["k"]
    rng = np.random.default_rng(case["seed"])
    shape = (n, case["h"], case["w"], k)
    z = (rng.standard_normal(shape) * min(case["spread"], 10)).astype(dt)
    out = build(Classification(), shape[1:], dt)
    y = build(Softmax(), shape[1:], dt).forward(z)
    if shape[1:3] == (1, 1):             # class indices, as torch's nll_loss takes them
        labels = rng.integers(0, k, n)
        t_torch = tensor(labels)
        per_image = 1
    else:                                # probability targets per position
        labels = rng.dirichlet(np.ones(k), size=shape[:3]).astype(dt)
        t_torch = tensor(np.moveaxis(labels, -1, 1))
        per_image = case["h"] * case["w"]   # torch averages over positions too
    # loss and d loss / d y, with y the probabilities: -(1/N) Σ t ln y
    yt = tensor(np.moveaxis(y, -1, 1).copy(), True)
    if labels.ndim == 1:
        lt = F.nll_loss(torch.log(yt).reshape(n, k), t_torch)
    else:
        lt = -(t_torch * torch.log(yt)).sum() / (n * per_image)
    lt.backward()
    close(out.loss(y, labels), per_image * lt.item(), dt, "loss")
    g = out.loss_gradient(y, labels)
    assert g.dtype == dt
    close(g, per_image * np.moveaxis(yt.grad.numpy(), 1, -1), dt, "loss_gradient")
    # the fused gradient at the softmax input against cross_entropy(logits)
    zt = tensor(np.moveaxis(z, -1, 1).copy(), True)
    ct = F.cross_entropy(zt.reshape(n, k) if labels.ndim == 1 else zt, t_torch)
    ct.backward()
    close(out.loss(y, labels), per_image * ct.item(), dt, "loss vs cross_entropy")
    dz = out.softmax_loss_gradient(y, labels)
    assert dz.dtype == dt
    close(dz, per_image * np.moveaxis(zt.grad.numpy(), 1, -1), dt, "softmax_loss_gradient")


@pytest.mark.parametrize("shape,onehot", [((1, 1, 4), False), ((2, 3, 3), True)])
def test_classification_gradients_numerically(shape, onehot):
    rng = np.random.default_rng(2)
    n = 3
    z = rng.standard_normal((n,) + shape)
    soft, out = build(Softmax(), shape), build(Classification(), shape)
    labels = (rng.dirichlet(np.ones(shape[2]), size=(n,) + shape[:2]) if onehot
              else rng.integers(0, shape[2], n))
    # fused: d loss(softmax(z)) / d z
    numeric = numerical_gradient(lambda: out.loss(soft.forward(z), labels), z)
    np.testing.assert_allclose(out.softmax_loss_gradient(soft.forward(z), labels), numeric,
                               rtol=1e-7, atol=1e-10)
    # two-step: loss_gradient, then the softmax backward, agrees with the fused form
    y = soft.forward(z)
    np.testing.assert_allclose(soft.backward(out.loss_gradient(y, labels)), numeric,
                               rtol=1e-7, atol=1e-10)
    # d loss / d y directly
    numeric_y = numerical_gradient(lambda: out.loss(y, labels), y, h=1e-7)
    np.testing.assert_allclose(out.loss_gradient(y, labels), numeric_y, rtol=1e-6)


# ---- classification: hand cases ----------------------------------------------------------------

def test_classification_two_class_hand_case():
    out = build(Classification(), (1, 1, 2))
    y = np.array([0.25, 0.75]).reshape(1, 1, 1, 2)
    assert out.loss(y, [1]) == pytest.approx(-np.log(0.75), rel=1e-15)      # 0.28768...
    assert out.loss(y, [0]) == pytest.approx(np.log(4), rel=1e-15)
    np.testing.assert_allclose(out.loss_gradient(y, [1]).ravel(), [0, -1 / 0.75])
    np.testing.assert_allclose(out.softmax_loss_gradient(y, [1]).ravel(), [0.25, -0.25])
    # a batch of two averages: (ln 4 + -ln 0.75)/2 = ln(4/0.75)/2; gradients carry 1/N
    y2 = np.concatenate([y, y])
    np.testing.assert_allclose(out.loss_terms(y2, [0, 1]), [np.log(4), -np.log(0.75)])
    assert out.loss(y2, [0, 1]) == pytest.approx(np.log(4 / 0.75) / 2, rel=1e-15)
    np.testing.assert_allclose(out.softmax_loss_gradient(y2, [0, 1]).reshape(2, 2),
                               [[-0.375, 0.375], [0.125, -0.125]])
    # one-hot rows (N×K or N×1×1×K) and integer-valued floats mean the same labels
    for labels in ([[1.0, 0.0], [0.0, 1.0]], np.eye(2).reshape(2, 1, 1, 2), [0.0, 1.0]):
        assert out.loss(y2, labels) == pytest.approx(np.log(4 / 0.75) / 2, rel=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_probability_is_clipped_not_infinite(dtype):
    out = build(Classification(), (1, 1, 2), dtype)
    y = np.array([1.0, 0.0], dtype).reshape(1, 1, 1, 2)
    tiny = np.finfo(dtype).tiny
    assert out.loss(y, [1]) == pytest.approx(-np.log(np.float64(tiny)), rel=1e-6)  # 87 / 708
    g = out.loss_gradient(y, [0])
    assert g.dtype == dtype and np.all(np.isfinite(g))


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_gradient_stays_exact_when_the_softmax_underflows(dtype):
    out = build(Classification(), (1, 1, 2), dtype)
    z = np.array([800.0, 0.0], dtype).reshape(1, 1, 1, 2) if dtype == np.float64 else \
        np.array([100.0, 0.0], dtype).reshape(1, 1, 1, 2)
    p = build(Softmax(), (1, 1, 2), dtype).forward(z)
    zt = tensor(z.reshape(1, 2), True)
    F.cross_entropy(zt, tensor(np.array([1]))).backward()
    close(out.softmax_loss_gradient(p, [1]).reshape(1, 2), zt.grad.numpy(), dtype)


# ---- classification: validation, describe, config ---------------------------------------------

@pytest.mark.parametrize("labels,text", [
    ([0, 1], r"labels = 'array of shape \(2,\)': expected 3 class indices"),
    ([0, 1, 5], r"labels\[2\] = 5: out of range: the network has 4 classes \(0..3\)"),
    ([0, -1, 2], r"labels\[1\] = -1: out of range"),
    ([0, 1.5, 2], r"labels\[1\] = 1.5: class labels must be integers 0..3"),
    ([0, 1, np.nan], r"labels\[2\] = nan: class labels must be integers"),
    ([True, False, True], r"labels\[0\] = True: class labels must be integers"),
    (["cat", "dog", "cat"], r"labels = 'array of dtype <U3'"),
    (np.zeros((3, 3)), r"labels = 'array of shape \(3, 3\)'"),
    (np.zeros((3, 4)), r"sum of labels\[0, :\] = 0.0: targets must sum to 1"),
    (np.full((3, 1, 1, 4), 0.3), r"sum of labels\[0, 0, 0, :\] = 1.2"),
    (np.full((3, 4), [0, 1.5, -0.5, 0]), r"labels\[0, 2\] = -0.5: .* finite and >= 0"),
])
def test_classification_label_errors(labels, text):
    out = build(Classification(name="classoutput"), (1, 1, 4))
    y = np.full((3, 1, 1, 4), 0.25)
    for call in (out.loss, out.loss_gradient, out.softmax_loss_gradient, out.loss_terms):
        with pytest.raises(ValueError, match="Classification layer 'classoutput': " + text):
            call(y, labels)


def test_class_indices_need_a_1x1_output():
    out = build(Classification(name="classoutput"), (2, 2, 3))
    with pytest.raises(ValueError, match="'classoutput': labels.*needs a 1x1xK output"):
        out.loss(np.full((2, 2, 2, 3), 1 / 3), [0, 1])


def test_classes_option():
    with pytest.raises(ValueError, match="'classoutput': classes = .*10 classes given for a "
                                         "network with 5 outputs"):
        build(Classification(classes=[str(i) for i in range(10)], name="classoutput"), (1, 1, 5))
    for bad, text in (("abc", "list of class names"), ([], "at least one"),
                      (["a", "b", "a"], "distinct; repeated: a"), (3, "list of class names")):
        with pytest.raises(ValueError, match=f"Classification layer 'c': classes = .*{text}"):
            Classification(classes=bad, name="c")
    assert Classification(classes=(3, 5, 7)).classes == ["3", "5", "7"]


def test_classification_describe_and_config():
    plain = Classification()
    assert plain.describe() == "crossentropyex" and plain.type_name == "Classification Output"
    assert plain.kind == "classoutput" and plain.is_loss
    assert build(plain, (1, 1, 10)).describe() == "crossentropyex with 10 classes"
    assert Classification(classes=["cat"]).describe() == "crossentropyex with class 'cat'"
    assert (Classification(classes=["ant", "bee", "cat"]).describe()
            == "crossentropyex with classes 'ant', 'bee' and 'cat'")
    assert (Classification(classes=list("abcdefgh")).describe()
            == "crossentropyex with 'a' and 7 other classes")
    named = Classification(classes=["ant", "bee"], name="out")
    cfg = json.loads(json.dumps(named.config()))
    assert cfg == {"classes": ["ant", "bee"], "name": "out"}
    assert Classification(**cfg).config() == cfg
    assert json.loads(json.dumps(plain.config())) == {"classes": None, "name": ""}
    assert Softmax().describe() == "softmax" and Softmax().type_name == "Softmax"
    assert Softmax(name="s").config() == {"name": "s"} and Softmax().kind == "softmax"


def test_loss_layers_pass_their_input_through():
    x = np.random.default_rng(3).standard_normal((2, 1, 1, 3))
    for layer in (Classification(), Regression()):
        assert build(layer, (1, 1, 3)).forward(x) is x and layer.backward(x) is x


# ---- regression ---------------------------------------------------------------------------------

@pytest.mark.torch
@settings(max_examples=40)
@given(case=score_cases())
def test_regression_matches_torch(case):
    dt = case["dtype"]
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["h"], case["w"], case["k"])
    y = rng.standard_normal(shape).astype(dt)
    t = rng.standard_normal(shape).astype(dt)
    out = build(Regression(), shape[1:], dt)
    yt = tensor(y, True)
    lt = 0.5 * ((yt - tensor(t)) ** 2).sum() / shape[0]
    lt.backward()
    close(out.loss(y, t), lt.item(), dt, "loss")
    g = out.loss_gradient(y, t)
    assert g.dtype == dt
    close(g, yt.grad.numpy(), dt, "loss_gradient")


def test_regression_hand_case_and_target_shapes():
    out = build(Regression(), (1, 1, 2))
    y = np.array([[1.0, 2.0], [0.0, 0.0]]).reshape(2, 1, 1, 2)
    t = np.array([[0.0, 4.0], [3.0, 0.0]])
    # image 1: ½(1 + 4) = 2.5; image 2: ½·9 = 4.5; mean over the 2 images: 3.5 (not / R)
    assert out.loss(y, t) == 3.5
    assert out.loss(y, t.reshape(2, 1, 1, 2)) == 3.5
    np.testing.assert_allclose(out.loss_gradient(y, t).reshape(2, 2), [[0.5, -1], [-1.5, 0]])
    one = build(Regression(), (1, 1, 1))
    assert one.loss(np.array([1.0, 2.0]).reshape(2, 1, 1, 1), [2, 0]) == (0.5 + 2) / 2
    img = build(Regression(), (2, 2, 1))
    y = np.arange(8.0).reshape(2, 2, 2, 1)
    assert img.loss(y, np.zeros((2, 4))) == 0.5 * (0 + 1 + 4 + 9 + 16 + 25 + 36 + 49) / 2
    assert img.loss(y, y + 1) == 0.5 * 4 * 2 / 2


def test_regression_gradient_numerically():
    out = build(Regression(), (2, 2, 3))
    rng = np.random.default_rng(4)
    y, t = rng.standard_normal((3, 2, 2, 3)), rng.standard_normal((3, 2, 2, 3))
    np.testing.assert_allclose(out.loss_gradient(y, t),
                               numerical_gradient(lambda: out.loss(y, t), y), rtol=1e-7,
                               atol=1e-10)


@pytest.mark.parametrize("t,text", [
    (np.zeros((2, 3)), r"targets = 'array of shape \(2, 3\)'.*expected shape \(2, 1, 1, 2\)"),
    (np.zeros(2), r"targets = 'array of shape \(2,\)'"),
    (np.zeros((3, 2)), r"targets = 'array of shape \(3, 2\)'.*N = 2"),
    (np.zeros((2, 1, 2, 1)), r"targets = 'array of shape \(2, 1, 2, 1\)'"),
    ([[0, 1], [0, np.inf]], r"targets\[1, 1\] = inf: regression targets must be finite"),
    ([["a", "b"], ["c", "d"]], r"targets = 'array of dtype <U1': .*must be numbers"),
])
def test_regression_target_errors(t, text):
    out = build(Regression(name="regressionoutput"), (1, 1, 2))
    for call in (out.loss, out.loss_gradient):
        with pytest.raises(ValueError, match="Regression layer 'regressionoutput': " + text):
            call(np.zeros((2, 1, 1, 2)), t)


def test_regression_describe_and_config():
    r = Regression(name="reg")
    assert r.describe() == "mean-squared-error" and r.type_name == "Regression Output"
    assert r.kind == "regressionoutput" and r.is_loss
    cfg = json.loads(json.dumps(r.config()))
    assert Regression(**cfg).config() == cfg == {"name": "reg"}


def test_both_loss_layers_read_targets_the_same_way():
    """targets(labels, shape): class indices become one-hot rows; regression targets of
    N×R are put in the output's N×H×W×C shape (row-major over H, W, C)."""
    shape = (2, 1, 1, 3)
    onehot = Classification().targets([2, 0], shape)
    np.testing.assert_array_equal(onehot.reshape(2, 3), [[0, 0, 1], [1, 0, 0]])
    t = Regression().targets([[1.5, -2, 0], [4, 5, 6]], shape)
    assert t.shape == shape and t.dtype == np.float64
    np.testing.assert_array_equal(t[1, 0, 0], [4, 5, 6])
    with pytest.raises(ValueError, match=r"expected shape \(1, 1, 2, 3\) or \(1, 6\)"):
        Regression().targets([1, 2, 3, 4, 5, 6], (1, 1, 2, 3))   # (N,) only when R = 1
    np.testing.assert_array_equal(Regression().targets([[1, 2, 3, 4, 5, 6]], (1, 1, 2, 3)),
                                  [[[[1, 2, 3], [4, 5, 6]]]])
