"""conv_input_span / transposed_conv_input_span against the 1-D definitions, run on one-hots.

The oracle pads with NumPy's own modes and slides (or scatters) a filter of ones: input j
reaches output o exactly when a one-hot at j gives o a non-zero value.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from cnnlab import arithmetic as ar

NP_MODE = {0: "constant", "replicate": "edge", "symmetric-include-edge": "symmetric",
           "symmetric-exclude-edge": "reflect"}


def conv_1d(x, k, s, d, before, after, value):
    if value == "symmetric-exclude-edge" and len(x) == 1:
        xp = np.full(before + 1 + after, x[0])          # reflect of one value repeats it
    else:
        xp = np.pad(x, (before, after), mode=NP_MODE[value])
    span = (k - 1) * d + 1
    return np.array([xp[o * s:o * s + span:d].sum() for o in range((len(xp) - span) // s + 1)])


def transposed_1d(x, k, s, d, before, after):
    full = np.zeros((len(x) - 1) * s + (k - 1) * d + 1)
    for i, v in enumerate(x):
        full[i * s:i * s + (k - 1) * d + 1:d] += v
    return full[before:len(full) - after]


def reached(layer, n, outputs):
    """Input positions whose one-hot makes any of ``outputs`` non-zero."""
    return tuple(j for j in range(n) if layer(np.eye(n)[j])[outputs].any())


@given(st.integers(1, 9), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 3), st.integers(0, 3), st.sampled_from(list(NP_MODE)), st.data())
def test_conv_span_is_the_definition(n, k, s, d, before, after, value, data):
    span = (k - 1) * d + 1
    if n + before + after < span:
        with pytest.raises(ValueError):
            ar.conv_input_span([0], n, k, stride=s, dilation=d, padding=(before, after))
        return
    o_size = (n + before + after - span) // s + 1
    outs = sorted(data.draw(st.sets(st.integers(0, o_size - 1), min_size=1, max_size=3)))
    got = ar.conv_input_span(outs, n, k, stride=s, dilation=d, padding=(before, after),
                             padding_value=value).value
    assert got.indices == reached(lambda x: conv_1d(x, k, s, d, before, after, value), n, outs)
    assert (got.first, got.last) == (outs[0] * s - before, outs[-1] * s - before + span - 1)


@given(st.integers(1, 8), st.integers(1, 4), st.integers(1, 4), st.integers(1, 2),
       st.integers(0, 2), st.integers(0, 2), st.data())
def test_transposed_span_is_the_definition(n, k, s, d, before, after, data):
    full = (n - 1) * s + (k - 1) * d + 1
    if before + after >= full:
        return
    outs = sorted(data.draw(st.sets(st.integers(0, full - before - after - 1), min_size=1,
                                    max_size=3)))
    got = ar.transposed_conv_input_span(outs, n, k, stride=s, cropping=(before, after),
                                        dilation=d).value
    want = reached(lambda x: transposed_1d(x, k, s, d, before, after), n, outs)
    assert got.indices == want
    assert (got.first, got.last) == ((want[0], want[-1]) if want else (None, None))


def test_the_closed_form_by_hand():
    # K = 4, S = 2, C = 1: output 6 is full position 7: i from ceil((7 - 3)/2) = 2 to
    # floor(7/2) = 3
    r = ar.transposed_conv_input_span([6], 5, 4, stride=2, cropping=1)
    assert r.value.indices == (2, 3)
    assert "ceil((6 + 1 - 4 + 1) / 2) = 2" in r.substituted and "= 3" in r.substituted
    # only padding: a 1-tap window at -1
    r = ar.conv_input_span([0], 4, 1, padding=1)
    assert r.value == ar.InputSpan((), -1, -1) and "only padding" in r.notes[-1]


def test_outputs_outside_the_layer_are_refused():
    with pytest.raises(ValueError, match="outputs contains 4, outside the 4 output positions"):
        ar.conv_input_span([4], 6, 3)
    with pytest.raises(ValueError, match="outputs"):
        ar.transposed_conv_input_span([-1], 3, 2)


def test_doctests():
    import doctest
    from cnnlab.arithmetic import receptive_span
    failed, attempted = doctest.testmod(receptive_span)
    assert attempted >= 6 and failed == 0
