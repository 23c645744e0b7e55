"""Backward steps of convolution, transposed convolution, pooling and fully connected layers
(each input gradient a sum over the outputs that read it) and their parameter steps."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import cnnlab as cl
from tests.trace.stepcheck import check_backward, regression_net, targets_for
from tests.trace.test_steps import conv_configs

BACKENDS = ["reference", "fast"]


def traced(net, x, training=False, image=0, seed=0):
    batch = x if x.ndim == 4 else x[None]
    return net.trace(batch, labels=targets_for(net, len(batch), seed), backward=True,
                     training=training, image=image)


@pytest.mark.parametrize("backend", BACKENDS)
@given(cfg=conv_configs(), seed=st.integers(0, 100))
def test_convolution_backward_and_parameter_steps(backend, cfg, seed):
    net = regression_net([cl.Convolution2D(**cfg["layer"])], cfg["shape"], backend, seed)
    x = np.random.default_rng(seed).standard_normal(cfg["shape"])
    rec = traced(net, x, seed=seed)[1]
    check_backward(rec)


@pytest.mark.parametrize("backend", BACKENDS)
@given(h=st.integers(1, 4), w=st.integers(1, 4), c=st.integers(1, 2), f=st.integers(1, 2),
       k=st.integers(1, 3), s=st.integers(1, 3), crop=st.integers(0, 1),
       seed=st.integers(0, 100))
def test_transposed_backward_and_parameter_steps(backend, h, w, c, f, k, s, crop, seed):
    assume((h - 1) * s + k - 2 * crop >= 1 and (w - 1) * s + k - 2 * crop >= 1)
    net = regression_net([cl.TransposedConvolution2D(k, f, stride=s, cropping=crop)],
                         (h, w, c), backend, seed)
    rec = traced(net, np.random.default_rng(seed).standard_normal((h, w, c)), seed=seed)[1]
    check_backward(rec)


@pytest.mark.parametrize("backend", BACKENDS)
@given(h=st.integers(2, 6), w=st.integers(2, 6), c=st.integers(1, 2), ph=st.integers(1, 3),
       pw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
       pad=st.integers(0, 1), mode=st.sampled_from(["max", "average"]),
       seed=st.integers(0, 100))
def test_pooling_backward_steps(backend, h, w, c, ph, pw, sh, sw, pad, mode, seed):
    assume(ph <= h + 2 * pad and pw <= w + 2 * pad and pad < min(ph, pw))
    cls = cl.MaxPooling2D if mode == "max" else cl.AveragePooling2D
    net = regression_net([cls((ph, pw), stride=(sh, sw), padding=pad)], (h, w, c), backend)
    x = np.round(np.random.default_rng(seed).standard_normal((h, w, c)))   # ties happen
    check_backward(traced(net, x, seed=seed)[1])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cls", [cl.GlobalAveragePooling2D, cl.GlobalMaxPooling2D])
@given(h=st.integers(1, 4), w=st.integers(1, 4), c=st.integers(1, 3), seed=st.integers(0, 50))
def test_global_pooling_steps(backend, cls, h, w, c, seed):
    from tests.trace.stepcheck import check_forward
    net = regression_net([cls()], (h, w, c), backend)
    rec = traced(net, np.random.default_rng(seed).standard_normal((h, w, c)), seed=seed)[1]
    check_forward(rec)
    check_backward(rec)


@pytest.mark.parametrize("backend", BACKENDS)
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
       k=st.integers(1, 4), batch=st.integers(1, 3), seed=st.integers(0, 50))
def test_fc_backward_steps_and_shares_of_the_batch_gradient(backend, shape, k, batch, seed):
    net = regression_net([cl.FullyConnected(k)], shape, backend, seed)
    x = np.random.default_rng(seed).standard_normal((batch, *shape))
    rec = traced(net, x, training=True, image=0, seed=seed)[1]
    check_backward(rec, params=batch == 1)
    # the traced images' shares add up to the batch's parameter gradients
    totals = {name: np.zeros(g.size) for name, g in rec.param_gradients.items()}
    for image in range(batch):
        r = traced(net, x, training=True, image=image, seed=seed)[1]
        for name in totals:
            totals[name] += [r.param_step_at(name, i).value for i in range(totals[name].size)]
    for name, g in rec.param_gradients.items():
        np.testing.assert_allclose(totals[name], g.reshape(-1), rtol=1e-4, atol=1e-5)


def test_replicate_padding_collects_the_copies_of_an_edge_cell():
    conv = cl.Convolution2D(1, 1, padding=1, padding_value="replicate",
                            weights=np.array([2.0]).reshape(1, 1, 1, 1), bias=[0.0])
    net = regression_net([conv], (2, 2, 1), "reference", dtype="float64")
    x = np.zeros((1, 2, 2, 1))
    tr = net.trace(x, labels=np.ones((1, 4, 4, 1)), backward=True)   # dL/dy = -1 everywhere
    s = tr[1].backward_step_at(0)
    # input (0, 0) is copied into 4 cells of the 4x4 padded input: (0,0), (0,1), (1,0), (1,1)
    assert sorted(map(tuple, s.sources)) == [(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 0)]
    assert s.value == -8.0 == s.output
    assert s.text().endswith("-1·2 − 1·2 − 1·2 − 1·2 = -8")


def test_max_pool_backward_text_by_hand():
    net = regression_net([cl.MaxPooling2D(2, stride=1)], (2, 3, 1), "reference",
                         dtype="float64")
    x = np.array([[1.0, 5.0, 2.0], [0.0, 3.0, 4.0]])[None, :, :, None]
    tr = net.trace(x, labels=np.zeros((1, 1, 2, 1)), backward=True)
    # windows (0,0) and (0,1) both take 5 at (0, 1): dL/dy = y - 0 = 5 each
    s = tr[1].backward_step_at(1)
    assert (s.row, s.col) == (0, 1) and list(s.local) == [1.0, 1.0]
    assert s.text() == ("dL/dx (0, 1, channel 0) = Σ dL/dy · ∂y/∂x, ∂y/∂x = [x is the "
                        "window's maximum]: 5·1 + 5·1 = 10")
    assert tr[1].backward_step_at(0).value == 0


def test_fc_parameter_step_text():
    fc = cl.FullyConnected(2, weights=[[1.0, 2.0], [3.0, 4.0]], bias=[0.0, 0.0])
    net = regression_net([fc], (1, 1, 2), "reference", dtype="float64")
    tr = net.trace(np.array([[[1.0, 2.0]]]), labels=np.zeros((1, 1, 1, 2)), backward=True)
    rec = tr[1]
    # y = (5, 11), dL/dy = y; dL/dW[1, 0] = 11·x0 = 11; dL/db[0] = 5
    w = rec.param_step_at("weights", 2)
    assert w.index == (1, 0) and w.value == 11.0 == w.output
    assert w.text() == "dL/dweights[1, 0] = Σ dL/dy · ∂y/∂weights: 11·1 = 11"
    assert rec.param_step_at("bias", 0).value == 5.0
    # dL/dx0 = 5·1 + 11·3 = 38
    assert rec.backward_step_at(0).text().endswith("5·1 + 11·3 = 38")
