"""Random layer stacks with random hyperparameters, valid and invalid on purpose.

Most drawn stacks are valid by construction (tests/fuzz/stacks.py): each builds, has the output
size the formulas give, runs forward and backward on both backends, and the fast kernels agree
with the reference. The others carry one known fault — a hyperparameter no layer accepts, or
one that does not fit the size reaching that layer — and must be refused with a ValueError or
TypeError whose message starts with that layer's label and the parameter's name; never
another exception, a hang or a crash. Floors on the counts keep the property from passing on
few cases. Bad inputs to valid networks (NaN, inf, wrong rank, size, dtype, empty batch,
mismatched labels) are refused the same way. Counts print at the end of the run.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import cnnlab as cl
from tests.fuzz.conftest import COUNTS
from tests.fuzz.stacks import KINDS, cases, input_batch

VALID_EXAMPLES, PER_KIND_EXAMPLES, FAULTY_EXAMPLES = 80, 5, 25
OUTCOMES = Counter()        # this run's outcomes, for the floors


def refused_well(error, label, parameter) -> bool:
    """A ValueError/TypeError whose message starts "<layer label>: <parameter> = "."""
    return isinstance(error, (ValueError, TypeError)) and \
        str(error).startswith(f"{label}: {parameter} = ")


def test_refused_well_needs_the_layer_and_the_parameter():
    e = ValueError("Convolution2D layer 'conv0': stride = 0: every entry must be >= 1")
    assert refused_well(e, "Convolution2D layer 'conv0'", "stride")
    assert not refused_well(e, "Convolution2D layer 'conv1'", "stride")      # another layer
    assert not refused_well(e, "Convolution2D layer 'conv0'", "padding")     # another parameter
    assert not refused_well(ValueError("bad input"), "ImageInput layer", "input_size")
    assert not refused_well(RuntimeError(str(e)), "Convolution2D layer 'conv0'", "stride")


def networks(case, seed):
    """One network per backend, each from freshly made layers."""
    return {b: cl.Network([cl.ImageInput(case.shape, normalization="none", name="input"),
                           *case.make_layers()], seed=seed, dtype="float64", backend=b)
            for b in ("reference", "fast")}


def check_case(case, seed):
    """The property for one drawn case; returns its outcome."""
    if case.fault is not None:
        where, label, parameter = case.fault
        if where == "constructor":          # refused before any network exists
            with pytest.raises((ValueError, TypeError)) as e:
                case.make_layers() if label != "ImageInput layer 'input'" else networks(
                    case, seed)
        else:
            layers = case.make_layers()     # every constructor accepts these
            assert len(layers) == len(case.layers)
            with pytest.raises((ValueError, TypeError)) as e:
                networks(case, seed)
        assert refused_well(e.value, label, parameter), (case, repr(e.value))
        COUNTS[f"faulty stack refused at {where}, naming layer and parameter"] += 1
        return where
    nets = networks(case, seed)
    assert nets["fast"].output_shape == case.expected_output, case
    x = input_batch(case, seed)
    results = {}
    for b, net in nets.items():
        net.rng = np.random.default_rng(seed)          # same dropout masks
        y = net.forward(x, training=True)
        results[b] = (y, net.backward(np.ones_like(y) / y.size))
    for got, want in zip(results["fast"], results["reference"]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    for name in nets["fast"].names:
        for p, g in nets["fast"][name].grads.items():
            np.testing.assert_allclose(g, nets["reference"][name].grads[p], rtol=1e-9,
                                       atol=1e-9)
    for kind, _ in case.layers:
        OUTCOMES[f"ran {kind}"] += 1
    COUNTS["valid stack ran; fast == reference (forward, backward)"] += 1
    return "valid"


@settings(max_examples=VALID_EXAMPLES, suppress_health_check=list(HealthCheck))
@given(case=cases(), seed=st.integers(0, 2**16))
def _fuzz_valid(case, seed):
    OUTCOMES[check_case(case, seed)] += 1


def test_valid_stacks_build_run_and_fast_equals_reference():
    OUTCOMES.clear()
    _fuzz_valid()
    # every drawn stack is valid by construction, so each one ran on both backends; the
    # layers with the most arithmetic are drawn more often, and ran many times
    assert OUTCOMES["valid"] >= 0.9 * VALID_EXAMPLES, OUTCOMES
    assert sum(OUTCOMES[f"ran {kind}"] for kind in ("conv", "transposed", "maxpool",
                                                     "avgpool")) >= VALID_EXAMPLES / 2, OUTCOMES


@settings(max_examples=PER_KIND_EXAMPLES, suppress_health_check=list(HealthCheck))
@given(data=st.data(), seed=st.integers(0, 2**16))
def _fuzz_valid_with(kind, data, seed):
    OUTCOMES[check_case(data.draw(cases(include=kind)), seed)] += 1


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_layer_runs_in_valid_stacks(kind):
    OUTCOMES.clear()
    _fuzz_valid_with(kind)
    assert OUTCOMES["valid"] >= 0.9 * PER_KIND_EXAMPLES, OUTCOMES
    assert OUTCOMES[f"ran {kind}"] >= OUTCOMES["valid"], OUTCOMES


@settings(max_examples=FAULTY_EXAMPLES, suppress_health_check=list(HealthCheck))
@given(data=st.data(), seed=st.integers(0, 2**16))
def _fuzz_faulty(where, data, seed):
    OUTCOMES[check_case(data.draw(cases(fault=where)), seed)] += 1


@pytest.mark.parametrize("where", ["constructor", "build", "input"])
def test_faulty_stacks_are_refused_naming_the_layer_and_the_parameter(where):
    OUTCOMES.clear()
    _fuzz_faulty(where)
    # a bad network input size is refused by ImageInput's constructor
    assert OUTCOMES["build" if where == "build" else "constructor"] >= 0.9 * FAULTY_EXAMPLES, \
        OUTCOMES


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
@given(data=st.data(), where=st.sampled_from([None, None, "constructor", "build", "input"]),
       seed=st.integers(0, 2**16))
def test_long_fuzz(data, where, seed):
    """The same properties over 10,000 cases: HYPOTHESIS_PROFILE=long pytest -m slow."""
    check_case(data.draw(cases(fault=where)), seed)
