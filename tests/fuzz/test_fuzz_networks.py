"""Random layer stacks with random hyperparameters, valid and invalid.

Every valid stack builds, runs forward and backward on both backends, and the fast kernels
agree with the reference; every invalid one raises ValueError or TypeError whose message
names the layer (its class) — never another exception, a hang or a crash. Bad inputs to
valid networks (NaN, inf, wrong rank, size, dtype, empty batch, mismatched labels) are
refused the same way. Counts of each outcome are printed at the end of the run.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import cnnlab as cl
from tests.fuzz.conftest import COUNTS

# a value for an integer hyperparameter: sensible about 70% of the time, otherwise not
_GOOD = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))
_BAD = st.one_of(st.sampled_from([0, -1, 2**31, 10**6]),
                 st.sampled_from([1.5, float("nan"), float("inf"), True, "3", None]),
                 st.tuples(st.integers(-1, 4), st.integers(-1, 4)),
                 st.lists(st.integers(0, 3), min_size=0, max_size=5))
SIZES = st.one_of(_GOOD, _GOOD, _GOOD, _GOOD, _GOOD, _GOOD, _GOOD, _BAD, _BAD, _BAD)
PADDING = st.one_of(st.integers(0, 2), st.just("same"), st.tuples(*[st.integers(0, 2)] * 4),
                    st.integers(0, 1), st.just(0),
                    st.sampled_from([-1, "valid", (1, 2, 3), [1, 1], 0.5, float("nan")]))
PAD_VALUE = st.sampled_from([0, 0, 2.5, "symmetric-include-edge", "symmetric-exclude-edge",
                             "replicate", "replicate", "reflect", float("nan"), None])
PROB = st.sampled_from([0.0, 0.25, 0.5, 0.99, 1.0, -0.1, float("nan"), "half"])

LAYERS = {
    "conv": lambda d: cl.Convolution2D(d(SIZES), d(SIZES), stride=d(SIZES), dilation=d(SIZES),
                                       padding=d(PADDING), padding_value=d(PAD_VALUE),
                                       groups=d(st.sampled_from([1, 1, 2, 0, 3]))),
    "transposed": lambda d: cl.TransposedConvolution2D(d(SIZES), d(SIZES), stride=d(SIZES),
                                                       cropping=d(PADDING)),
    "maxpool": lambda d: cl.MaxPooling2D(d(SIZES), stride=d(SIZES), padding=d(PADDING)),
    "avgpool": lambda d: cl.AveragePooling2D(d(SIZES), stride=d(SIZES), padding=d(PADDING)),
    "gapool": lambda d: cl.GlobalAveragePooling2D(),
    "gmpool": lambda d: cl.GlobalMaxPooling2D(),
    "batchnorm": lambda d: cl.BatchNormalization(
        epsilon=d(st.sampled_from([1e-5, 0, -1, float("nan")]))),
    "crossnorm": lambda d: cl.CrossChannelNormalization(
        d(SIZES), beta=d(st.sampled_from([0.75, 0.5, float("inf")]))),
    "relu": lambda d: cl.ReLU(),
    "leakyrelu": lambda d: cl.LeakyReLU(d(st.sampled_from([0.01, 0.5, -1, float("nan")]))),
    "clippedrelu": lambda d: cl.ClippedReLU(d(st.sampled_from([6, 1, 0, -2, float("inf")]))),
    "tanh": lambda d: cl.Tanh(),
    "sigmoid": lambda d: cl.Sigmoid(),
    "dropout": lambda d: cl.Dropout(d(PROB)),
    "fc": lambda d: cl.FullyConnected(d(SIZES)),
}


def refused_well(error, names) -> bool:
    """A ValueError/TypeError whose message names the layer (class) or the network input."""
    text = str(error)
    return isinstance(error, (ValueError, TypeError)) and (
        any(n in text for n in names) or "input" in text.lower())


@st.composite
def stacks(draw):
    h, w, c = (draw(st.one_of(st.integers(1, 8), st.integers(3, 8), st.sampled_from([0, -2])))
               for _ in range(3))
    kinds = draw(st.lists(st.sampled_from(sorted(LAYERS)), min_size=1, max_size=3))
    layers, names = [], []
    for kind in kinds:
        try:
            layers.append(LAYERS[kind](draw))
            names.append(type(layers[-1]).__name__)
        except Exception as e:             # refused at construction: must be a clear error
            return ("constructor", kind, e, None)
    return ("stack", (h, w, c), layers, names)


def _run(net, x, labels=None):
    y = net.forward(x, training=True)
    dx = net.backward(np.ones_like(y) / y.size)
    return y, dx


@settings(max_examples=200, suppress_health_check=list(HealthCheck))
@given(case=stacks(), seed=st.integers(0, 2**16))
def test_random_stacks_run_or_are_refused_clearly(case, seed):
    if case[0] == "constructor":
        _, kind, error, _ = case
        assert isinstance(error, (ValueError, TypeError)), repr(error)
        assert "layer" in str(error), str(error)
        COUNTS[f"invalid hyperparameter refused at construction ({kind})"] += 1
        return
    _, shape, layers, names = case
    try:
        nets = {b: cl.Network([cl.ImageInput(shape, normalization="none"), *layers],
                              seed=seed, dtype="float64", backend=b)
                for b in ("reference", "fast")}
    except Exception as e:
        assert refused_well(e, names + ["ImageInput"]), repr(e)
        COUNTS["invalid stack refused at build (shape arithmetic)"] += 1
        return
    x = np.random.default_rng(seed).standard_normal((2, *nets["fast"].input_size))
    results = {}
    for b, net in nets.items():
        net.rng = np.random.default_rng(seed)          # same dropout masks
        results[b] = _run(net, x)
    for got, want in zip(results["fast"], results["reference"]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    for name in nets["fast"].names:
        for p, g in nets["fast"][name].grads.items():
            np.testing.assert_allclose(g, nets["reference"][name].grads[p], rtol=1e-9,
                                       atol=1e-9)
    COUNTS["valid stack ran; fast == reference (forward, backward)"] += 1


BAD_INPUTS = {
    "nan": lambda x: np.where(x > 1, np.nan, x),
    "inf": lambda x: np.where(x > 1, np.inf, x),
    "empty batch": lambda x: x[:0],
    "rank 1": lambda x: x.ravel(),
    "rank 5": lambda x: x[None],
    "wrong size": lambda x: np.pad(x, ((0, 0), (0, 1), (0, 0), (0, 0))),
    "wrong channels": lambda x: np.concatenate([x, x], axis=-1),
    "strings": lambda x: x.astype(str),
    "complex": lambda x: x.astype(complex),
    "object": lambda x: x.astype(object),
}


@pytest.mark.parametrize("bad", sorted(BAD_INPUTS))
def test_bad_inputs_are_refused_before_any_kernel(bad):
    from cnnlab.models import lenet5
    net = cl.Network(lenet5(), seed=0)
    x = np.random.default_rng(0).standard_normal((3, 28, 28, 1)) * 2
    with pytest.raises((ValueError, TypeError)) as e:
        net.forward(BAD_INPUTS[bad](x))
    assert "input" in str(e.value).lower() or "Network" in str(e.value), str(e.value)
    COUNTS[f"bad network input refused ({bad})"] += 1


@pytest.mark.parametrize("labels", [[1, 2], [1, 2, 3, 4], [[1], [2], [3]], [1.5, 2, 3],
                                    [10, 1, 2], [-1, 1, 2], ["a", "b", "c"], [np.nan, 1, 2]])
def test_mismatched_labels_are_refused(labels):
    from cnnlab.models import lenet5
    net = cl.Network(lenet5(), seed=0)
    x = np.random.default_rng(0).random((3, 28, 28, 1))
    with pytest.raises((ValueError, TypeError)) as e:
        net.loss_and_gradients(x, labels)
    assert "label" in str(e.value).lower() or "Classification" in str(e.value), str(e.value)
    COUNTS["mismatched labels refused"] += 1


@pytest.mark.slow
@settings(max_examples=10_000, suppress_health_check=list(HealthCheck), deadline=None)
@given(case=stacks(), seed=st.integers(0, 2**16))
def test_long_fuzz(case, seed):
    """The same property over 10,000 cases: HYPOTHESIS_PROFILE=long pytest -m slow."""
    test_random_stacks_run_or_are_refused_clearly.hypothesis.inner_test(case=case, seed=seed)
