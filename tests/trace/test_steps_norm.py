"""Batch-norm and cross-channel-norm steps give what the network computed."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import cnnlab as cl
from tests.trace.stepcheck import check_forward, regression_net

BACKENDS = ["reference", "fast"]


def batchnorm_net(shape, backend, seed, dtype="float32", **options):
    """A network whose batch norm has non-trivial γ, β and running statistics."""
    rng = np.random.default_rng(seed)
    c = shape[2]
    net = regression_net([cl.BatchNormalization(scale=rng.uniform(0.5, 2, c),
                                                offset=rng.standard_normal(c), **options)],
                         shape, backend, seed, dtype=dtype)
    bn = net.layers[1]
    bn.state["trained_mean"][:] = rng.standard_normal(c)
    bn.state["trained_variance"][:] = rng.uniform(0.2, 3, c)
    return net


@pytest.mark.parametrize("backend", BACKENDS)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)),
       training=st.booleans(), batch=st.integers(1, 3), eps=st.sampled_from([1e-5, 0.1]),
       seed=st.integers(0, 50))
def test_batchnorm_steps_give_the_output(backend, shape, training, batch, eps, seed):
    if training and batch * shape[0] * shape[1] < 2:
        batch = 2                                   # training needs 2 values per channel
    net = batchnorm_net(shape, backend, seed, epsilon=eps)
    x = 2 * np.random.default_rng(seed).standard_normal((batch, *shape)) + 1
    rec = net.trace(x, training=training, image=batch - 1)[1]
    check_forward(rec)
    bn = net.layers[1]
    for k in range(rec.num_steps):
        s = rec.step_at(k)
        c = s.channel
        assert s.statistics == ("batch" if training else "running")
        if training:                                # μ, σ² of the channel over the batch
            assert s.mean == pytest.approx(x[..., c].mean(), rel=1e-5, abs=1e-5)
            assert s.variance == pytest.approx(x[..., c].var(), rel=1e-4, abs=1e-5)
        else:
            assert s.mean == float(bn.state["trained_mean"][c])
            assert s.variance == float(bn.state["trained_variance"][c])
        assert s.scale == float(bn.params["scale"][c])
        assert s.offset == float(bn.params["offset"][c])
        assert s.normalized == pytest.approx(float(rec.normalized[s.row, s.col, c]),
                                             rel=1e-4, abs=1e-5)
        np.testing.assert_array_equal(s.channel_values, rec.input[:, :, c])


def test_batchnorm_text_by_hand():
    net = regression_net([cl.BatchNormalization(scale=[3.0], offset=[0.5], epsilon=0.25)],
                         (1, 2, 1), "reference", dtype="float64")
    bn = net.layers[1]
    bn.state["trained_mean"][:] = 1.0
    bn.state["trained_variance"][:] = 3.75                 # √(3.75 + 0.25) = 2
    s = net.trace(np.array([[[5.0], [1.0]]]))[1].step_at(0)
    assert s.text() == ("output (0, 0, channel 0) (running statistics): x̂ = (x − μ) / "
                        "√(σ² + ε) = (5 − 1) / √(3.75 + 0.25) = 2; y = γ·x̂ + β = 3·2 + 0.5 "
                        "= 6.5")
    assert (s.sigma, s.normalized, s.value) == (2.0, 2.0, 6.5)


@pytest.mark.parametrize("backend", BACKENDS)
@given(c=st.integers(1, 6), n=st.integers(1, 7), alpha=st.sampled_from([1e-4, 0.5, 2.0]),
       beta=st.sampled_from([0.75, 1.0, -0.5]), k=st.sampled_from([1.0, 2.0]),
       hw=st.integers(1, 3), seed=st.integers(0, 50))
def test_crossnorm_steps_give_the_output(backend, c, n, alpha, beta, k, hw, seed):
    layer = cl.CrossChannelNormalization(n, alpha=alpha, beta=beta, k=k)
    net = regression_net([layer], (hw, hw, c), backend, seed)
    x = np.random.default_rng(seed).standard_normal((hw, hw, c))
    rec = net.trace(x)[1]
    check_forward(rec)
    for kk in range(rec.num_steps):
        s = rec.step_at(kk)
        lo, hi = max(0, s.channel - n // 2), min(c - 1, s.channel + (n - 1) // 2)
        assert s.window == (lo, hi)
        assert s.sum_squares == pytest.approx(float((x[s.row, s.col, lo:hi + 1] ** 2).sum()),
                                              rel=1e-5)


def test_crossnorm_text_by_hand():
    layer = cl.CrossChannelNormalization(3, alpha=0.6, beta=1.0, k=2.0)
    net = regression_net([layer], (1, 1, 2), "reference", dtype="float64")
    s = net.trace(np.array([[[1.0, 2.0]]]))[1].step_at(0)
    # channel 0's window is channels 0..1: ss = 1 + 4 = 5, base = 2 + 0.6·5/3 = 3, y = 1/3
    assert s.text() == ("output (0, 0, channel 0), channels 0..1: ss = 1² + 2² = 5; base = "
                        "k + α·ss/n = 2 + 0.6·5/3 = 3; y = x / base^β = 1 / 3^1 = 0.3333")
    assert s.reads == "channels 0..1 at (0, 0): 1, 2"
