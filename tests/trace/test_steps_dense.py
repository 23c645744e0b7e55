"""Fully connected steps: one neuron's Σ wᵢxᵢ + b, each term mapped back to its input cell."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import cnnlab as cl
from tests.trace.stepcheck import check_forward, regression_net

BACKENDS = ["reference", "fast"]


@pytest.mark.parametrize("backend", BACKENDS)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)),
       k=st.integers(1, 6), seed=st.integers(0, 50))
def test_fc_steps_give_the_output(backend, shape, k, seed):
    rng = np.random.default_rng(seed)
    d = int(np.prod(shape))
    w, b = rng.standard_normal((k, d)), rng.standard_normal(k)
    net = regression_net([cl.FullyConnected(k, weights=w, bias=b)], shape, backend, seed)
    x = rng.standard_normal(shape)
    rec = net.trace(x)[1]
    check_forward(rec)
    for n in range(k):
        s = rec.step_at(n)
        assert s.neuron == n == s.flat_index
        # term i multiplies input cell (row, col, channel) = unravel(i) by W[n, i]
        for i in range(d):
            r, c, ch = s.input_positions[i]
            assert s.inputs[i] == float(rec.input[r, c, ch])
            assert s.weights[i] == pytest.approx(w[n, i], rel=1e-6)
        assert s.running_sum[-1] == pytest.approx(s.total, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(s.products, s.inputs * s.weights, rtol=1e-12)


def test_fc_text_by_hand():
    fc = cl.FullyConnected(1, weights=[[1.0, 2.0, 3.0]], bias=[0.5])
    net = regression_net([fc], (1, 1, 3), "reference", dtype="float64")
    s = net.trace(np.array([[[1.0, 1.0, 2.0]]]))[1].step_at(0)
    # 1 + 2 + 6 + 0.5 = 9.5; 4 significant figures of 9.5: 3 decimals for the bias and value
    assert s.text() == "neuron 0: 1·1 + 2·1 + 3·2 + bias 0.500 = 9.500"
    assert s.term_text(2) == "W[0, 2]·x[2] = 3·2 = 6 (x from input (0, 0, channel 2))"
    assert list(s.running_sum) == [1.0, 3.0, 9.0]


def test_fc_text_of_a_large_layer_counts_the_hidden_terms():
    net = regression_net([cl.FullyConnected(2)], (4, 4, 2), "reference")
    s = net.trace(np.ones((4, 4, 2)))[1].step_at(1)
    # 32 terms: the first 10, a count of the 20 hidden ones, the last 2
    assert "... 20 more ..." in s.text(max_terms=12)
    assert s.text().startswith("neuron 1: ")
    assert tuple(s.input_positions[-1]) == (3, 3, 1)
