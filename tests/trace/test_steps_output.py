"""Softmax and loss steps: exponentials, their sum, each probability; the loss terms."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import cnnlab as cl
from tests.trace.stepcheck import check_forward

BACKENDS = ["reference", "fast"]


def classifier(shape, backend, dtype="float32"):
    return cl.Network([cl.ImageInput(shape, normalization="none"), cl.Softmax(),
                       cl.Classification()], backend=backend, dtype=dtype)


@pytest.mark.parametrize("backend", BACKENDS)
@given(hw=st.integers(1, 3), k=st.integers(1, 6), spread=st.sampled_from([1.0, 30.0, 200.0]),
       seed=st.integers(0, 50))
def test_softmax_and_cross_entropy_steps(backend, hw, k, spread, seed):
    rng = np.random.default_rng(seed)
    shape = (hw, hw, k)
    net = classifier(shape, backend)
    a = spread * rng.standard_normal(shape)
    t = rng.dirichlet(np.ones(k), size=(1, hw, hw))          # probability targets
    tr = net.trace(a, labels=t)
    soft, out = tr[1], tr[2]
    check_forward(soft)
    check_forward(out)
    for i in range(soft.num_steps):
        s = soft.step_at(i)
        z = a[s.row, s.col].astype(np.float32).astype(np.float64)
        # the softmax over the channels of this position, in numpy
        want = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        assert s.value == pytest.approx(want[s.channel], rel=1e-5, abs=1e-7)
        np.testing.assert_allclose(s.exponentials / s.exp_sum, want, rtol=1e-9, atol=1e-12)
        assert s.shift == (z.max() if np.abs(z).max() > 80 else 0.0)
    # the loss terms add up to the recorded loss; each is -t·ln y (y clipped)
    y = out.input.astype(np.float64)
    terms = -(t[0] * np.log(np.maximum(y, np.finfo(np.float32).tiny)))
    steps = [out.step_at(i) for i in range(out.num_steps)]
    np.testing.assert_allclose([s.term for s in steps], terms.reshape(-1), rtol=1e-9)
    assert steps[0].loss == pytest.approx(tr.loss, rel=1e-5)
    assert sum(s.term for s in steps) == pytest.approx(tr.loss, rel=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
       seed=st.integers(0, 50))
def test_regression_loss_steps(backend, shape, seed):
    rng = np.random.default_rng(seed)
    net = cl.Network([cl.ImageInput(shape, normalization="none"), cl.Regression()],
                     backend=backend)
    x, t = rng.standard_normal(shape), rng.standard_normal((1, *shape))
    tr = net.trace(x, labels=t)
    rec = tr[1]
    check_forward(rec)
    for i in range(rec.num_steps):
        s = rec.step_at(i)
        r, c, ch = s.row, s.col, s.channel
        assert s.target == t[0, r, c, ch]
        assert s.term == pytest.approx(0.5 * (t[0, r, c, ch] - np.float32(x[r, c, ch])) ** 2)
    assert rec.step_at(0).loss == pytest.approx(tr.loss, rel=1e-6)


def test_softmax_of_zero_and_ln2():
    net = classifier((1, 1, 2), "reference", dtype="float64")
    rec = net.trace(np.array([[[0.0, math.log(2)]]]))[1]
    s = rec.step_at(1)
    assert list(s.exponentials) == [1.0, 2.0] and s.exp_sum == 3.0
    assert s.text() == ("probability (0, 0, channel 1): exponentials 1 + 2 = 3; p = "
                        "e^0.6931 / Σ = 2 / 3 = 0.6667")
    assert rec.step_at(0).value == pytest.approx(1 / 3)


def test_large_scores_are_shifted_by_the_largest():
    net = classifier((1, 1, 2), "reference", dtype="float64")
    s = net.trace(np.array([[[1000.0, 1000.0 + math.log(3)]]]))[1].step_at(0)
    assert s.shift == pytest.approx(1000 + math.log(3))
    assert s.exponential == pytest.approx(1 / 3) and s.value == pytest.approx(0.25)
    assert "e^(1000 − 1001)" in s.text()


def test_loss_texts_by_hand():
    net = classifier((1, 1, 2), "reference", dtype="float64")
    tr = net.trace(np.array([[[0.0, 0.0]]]), labels=[1])       # y = (0.5, 0.5), class 1
    s = tr[2].step_at(1)
    assert s.text() == ("loss term (0, 0, channel 1): −t·ln y = −1·ln 0.5 = 0.6931; "
                        "loss = 0.0000 + 0.6931 = 0.6931")
    assert tr[2].step_at(0).term == 0 and s.value == 0.5
    reg = cl.Network([cl.ImageInput((1, 1, 1), normalization="none"), cl.Regression()],
                     backend="reference", dtype="float64")
    r = reg.trace(np.array([[[0.8]]]), labels=np.array([1.0]))[1].step_at(0)
    assert r.text().startswith("loss term (0, 0, channel 0): ½·(t − y)² = ½·(1 − 0.8)² = 0.02")


def test_loss_step_without_labels_says_so():
    net = classifier((1, 1, 3), "reference")
    s = net.trace(np.zeros((1, 1, 3)))[2].step_at(2)
    assert s.term is None and s.value == pytest.approx(1 / 3)
    assert "trace with labels=..." in s.text()
