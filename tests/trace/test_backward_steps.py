"""Backward steps of the layers with local derivatives reproduce the recorded gradients."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import cnnlab as cl
from tests.trace.stepcheck import check_backward, regression_net, targets_for
from tests.trace.test_steps_elementwise import LAYERS, activations
from tests.trace.test_steps_norm import batchnorm_net

BACKENDS = ["reference", "fast"]
shapes = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))


def traced(net, x, training=False, image=0, seed=0):
    x = np.asarray(x, float)
    batch = x if x.ndim == 4 else x[None]
    return net.trace(batch, labels=targets_for(net, len(batch), seed), backward=True,
                     training=training, image=image)


@pytest.mark.parametrize("backend", BACKENDS)
@given(act=activations, shape=shapes, seed=st.integers(0, 50))
def test_activation_backward_steps(backend, act, shape, seed):
    kind, options = act
    net = regression_net([LAYERS[kind](**options)], shape, backend, seed)
    tr = traced(net, 3 * np.random.default_rng(seed).standard_normal(shape), seed=seed)
    for rec in tr:
        check_backward(rec)


@pytest.mark.parametrize("backend", BACKENDS)
@given(norm=st.sampled_from(["zerocenter", "zscore", "rescale-zero-one", "rescale-symmetric"]),
       shape=shapes, seed=st.integers(0, 50))
def test_image_input_backward_divides_by_the_scale(backend, norm, shape, seed):
    net = regression_net([], shape, backend, seed, normalization=norm)
    data = np.random.default_rng(seed).random((4, *shape)) * 3
    net.layers[0].fit(data)
    check_backward(traced(net, data[0], seed=seed)[0])


@pytest.mark.parametrize("backend", BACKENDS)
@given(p=st.sampled_from([0.0, 0.3, 0.7]), training=st.booleans(), shape=shapes,
       seed=st.integers(0, 50))
def test_dropout_backward_steps(backend, p, training, shape, seed):
    net = regression_net([cl.Dropout(p)], shape, backend, seed)
    x = np.random.default_rng(seed).standard_normal((2, *shape))
    rec = traced(net, x, training=training, image=1, seed=seed)[1]
    check_backward(rec)


@pytest.mark.parametrize("backend", BACKENDS)
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
       training=st.booleans(), batch=st.integers(1, 3), seed=st.integers(0, 50))
def test_batchnorm_backward_steps_in_both_modes(backend, shape, training, batch, seed):
    if training and batch * shape[0] * shape[1] < 2:
        batch = 2
    net = batchnorm_net(shape, backend, seed)
    x = np.random.default_rng(seed).standard_normal((batch, *shape))
    tr = traced(net, x, training=training, image=batch - 1, seed=seed)
    rec = tr[1]
    check_backward(rec, params=rec.batch_size == 1)     # prediction traces run one image
    assert rec.batch_size == (batch if training else 1)
    s = rec.backward_step_at(0)
    assert len(s.incoming) == (3 if training else 1)
    if rec.batch_size > 1:      # each image's share of dγ, dβ adds up to the batch's gradient
        shares = {"scale": 0.0, "offset": 0.0}
        for k in range(batch):
            r = traced(net, x, training=training, image=k, seed=seed)[1]
            for name in shares:
                shares[name] = shares[name] + np.array(
                    [r.param_step_at(name, c).value for c in range(shape[2])])
        for name, total in shares.items():
            np.testing.assert_allclose(total, rec.param_gradients[name], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
@given(c=st.integers(1, 5), n=st.integers(1, 5), beta=st.sampled_from([0.75, -0.5]),
       seed=st.integers(0, 50))
def test_crossnorm_backward_steps(backend, c, n, beta, seed):
    net = regression_net([cl.CrossChannelNormalization(n, alpha=0.5, beta=beta, k=1.5)],
                         (2, 2, c), backend, seed)
    rec = traced(net, np.random.default_rng(seed).standard_normal((2, 2, c)), seed=seed)[1]
    check_backward(rec)


@pytest.mark.parametrize("backend", BACKENDS)
@given(k=st.integers(2, 5), seed=st.integers(0, 50))
def test_softmax_backward_through_its_jacobian_and_the_combined_route(backend, k, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 1, k)) * 2
    net = regression_net([cl.Softmax()], (1, 1, k), backend, seed)      # softmax + regression
    rec = traced(net, x, seed=seed)[1]
    check_backward(rec)
    assert len(rec.backward_step_at(0).incoming) == k
    clf = cl.Network([cl.ImageInput((1, 1, k), normalization="none"), cl.Softmax(),
                      cl.Classification()], backend=backend)
    tr = clf.trace(x, labels=[seed % k], backward=True)
    for r in tr:
        check_backward(r)
    s = tr[1].backward_step_at(seed % k)
    assert s.loss_kind == "softmax-classification" and s.target == 1.0
    assert s.value == pytest.approx(s.y - 1.0)


def test_relu_backward_text_by_hand():
    net = regression_net([cl.ReLU()], (1, 1, 2), "reference", dtype="float64")
    tr = net.trace(np.array([[[-0.37, 2.0]]]), labels=np.array([[[[0.0, 1.5]]]]),
                   backward=True)
    # regression: dL/dy = (y - t)/N = (0 - 0, 2 - 1.5) = (0, 0.5); the sum printed with the
    # 4 significant figures of cnnlab.trace.sums
    assert tr[1].backward_step_at(1).text() == (
        "dL/dx (0, 0, channel 1) = Σ dL/dy · ∂y/∂x, ∂y/∂x = [x > 0] at x = 2: 0.5·1 = 0.5000")
    assert tr[1].backward_step_at(0).value == 0
    assert tr[2].backward_step_at(1).text() == ("dL/dy (0, 0, channel 1) = (y − t) / N = "
                                                "(2 − 1.5) / 1 = 0.5")


def test_cross_entropy_backward_text_by_hand():
    net = cl.Network([cl.ImageInput((1, 1, 2), normalization="none"), cl.Softmax(),
                      cl.Classification()], backend="reference", dtype="float64")
    tr = net.trace(np.array([[[0.0, math.log(3)]]]), labels=[1], backward=True)
    # y = (1/4, 3/4): dL/dy_1 = -1/(1·0.75); dL/da_1 = (0.75 - 1)/1
    assert tr[2].backward_step_at(1).text() == ("dL/dy (0, 0, channel 1) = −t / (N·y) = "
                                                "−1 / (1·0.75) = -1.333")
    assert tr[1].backward_step_at(1).text() == (
        "dL/da (0, 0, channel 1) = (y − t) / N (softmax and cross-entropy together) = "
        "(0.75 − 1) / 1 = -0.25")
    assert tr[1].backward_step_at(0).value == pytest.approx(0.25)
