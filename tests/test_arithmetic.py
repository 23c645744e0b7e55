"""cnnlab.arithmetic: the worked examples from the reference documents, brute-force cross-checks
by literally sliding windows / scattering / composing index ranges, and every error path."""
import doctest
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnnlab.arithmetic as ar
from cnnlab.arithmetic import _core, counts, receptive, sizes
from cnnlab.arithmetic import ReceptiveField, Result


# ---- worked examples ----------------------------------------------------------------------

def test_conv_32_filter_5_stride_2_padding_2_is_16():
    r = ar.conv_output_size(32, 5, stride=2, padding=2)
    assert r.value == 16 and int(r) == 16 and r.exact == 16.5
    assert r.formula == "floor((I - ((K - 1)·D + 1) + P_before + P_after) / S) + 1"
    assert r.substituted.startswith("floor((32 - ((5 - 1)·1 + 1) + 2 + 2) / 2) + 1 = ")
    assert r.substituted.endswith("= floor(15.5) + 1 = 16")
    note = " ".join(r.notes)
    assert "36 long" in note and "30..34" in note and "position 35" in note
    assert "last 1 row/column at the bottom/right" in note
    assert "padding, so no input is lost" in note


def test_unfloored_size_and_quotient_are_named_apart():
    # lesson 02: 32, filter 5, stride 2, padding 2 -> (32 + 4 - 5) / 2 = 15.5 is the quotient,
    # 15.5 + 1 = 16.5 the unfloored size, floor(15.5) + 1 = 16 the size (worked by hand)
    r = ar.conv_output_size(32, 5, stride=2, padding=2)
    assert (r.value, r.unfloored, r.quotient) == (16, 16.5, 15.5)
    assert r.exact == r.unfloored                 # the old name, kept as an alias
    p = ar.pool_output_size(13, 3, stride=2)      # (13 - 3) / 2 = 5, + 1 = 6
    assert (p.value, p.unfloored, p.quotient) == (6, 6.0, 5.0)
    same = ar.same_padding(7, 3, stride=2)        # ceil(7 / 2) = 4
    assert (same.unfloored, same.quotient) == (3.5, 3.5)
    assert ar.effective_filter_size(3, 2).quotient is None
    assert ar.transposed_conv_output_size(4, 3, stride=2).unfloored is None


def test_conv_filter_6x4_stride_4_padding_1_0_is_7x7():
    h = ar.conv_output_size(28, 6, stride=4, padding=1)
    w = ar.conv_output_size(28, 4, stride=4, padding=0)
    assert (h.value, h.exact, w.value, w.exact) == (7, 7.0, 7, 7.0)
    assert "floor(24 / 4) + 1 = 6 + 1 = 7" in h.substituted
    assert "nothing is discarded" in h.notes[-1] and "nothing is discarded" in w.notes[-1]


def test_discarded_cells_that_are_real_input_or_mixed():
    r = ar.conv_output_size(10, 3, stride=3)          # positions 9 never visited: real input
    assert r.value == 3 and "It is real input" in " ".join(r.notes)
    r = ar.conv_output_size(11, 2, stride=4, padding=(0, 1))   # last 2 of 12: 1 pad, 1 input
    assert r.value == 3
    assert "1 of them is padding and 1 is real input" in " ".join(r.notes)


def test_effective_filter_sizes():
    assert ar.effective_filter_size(3, 2).value == 5
    r = ar.effective_filter_size(3, 4)
    assert r.value == 9 and "dilation 3 spans 7" in " ".join(r.notes)
    assert ar.effective_filter_size(1, 7).value == 1
    assert ar.effective_filter_size(5).value == 5


def test_effective_filter_too_large_message():
    with pytest.raises(ValueError, match=r"effective filter size 13 \(\(7 - 1\)·2 \+ 1\) is "
                                         r"larger than the padded input size 10 \(8 \+ 1 \+ 1\)"):
        ar.conv_output_size(8, 7, dilation=2, padding=1)


@pytest.mark.parametrize("i, k, s, d, pads, out", [
    (5, 4, 1, 1, (1, 2), 5),      # total 3: odd, extra after
    (28, 3, 2, 1, (0, 1), 14),    # O = 14, total 1
    (28, 3, 1, 1, (1, 1), 28),
    (7, 3, 2, 2, (2, 2), 4),      # effective 5: total (4 - 1)·2 + 5 - 7 = 4
    (6, 1, 4, 1, (0, 0), 2),      # negative raw total: no padding
])
def test_same_padding(i, k, s, d, pads, out):
    r = ar.same_padding(i, k, stride=s, dilation=d)
    assert r.value == pads and r.exact == i / s
    assert ar.conv_output_size(i, k, stride=s, dilation=d, padding=pads).value == out
    assert ar.conv_output_size(i, k, stride=s, dilation=d, padding="same").value == out
    if sum(pads) % 2:
        assert "extra row/column goes after (bottom/right)" in " ".join(r.notes)


def test_pooling_notes():
    assert ar.pool_output_size(28, 2, stride=2).value == 14
    assert "without overlap or gaps" in " ".join(ar.pool_output_size(28, 2, stride=2).notes)
    assert "windows overlap" in " ".join(ar.pool_output_size(13, 3, stride=2).notes)
    assert "windows skip inputs" in " ".join(ar.pool_output_size(10, 2, stride=3).notes)
    assert ar.pool_output_size(5, 3).value == 3          # default stride 1
    assert ar.pool_output_size(7, 2, stride=2, padding="same").value == 4


@pytest.mark.parametrize("i, k, s, crop, out", [
    (8, 4, 2, 1, 16),             # (8 - 1)·2 + 4 - 1 - 1
    (8, 4, 2, 0, 18),
    (3, 3, 2, "same", 6),         # crops 1: (0, 1)
    (3, 4, 2, "same", 6),         # crops 2: (1, 1)
    (5, 1, 1, (0, 0), 5),
    (3, 2, 3, 0, 8),              # (3 - 1)·3 + 2: gaps between copies
    (4, 5, 1, (2, 1), 5),         # 3 + 5 - 3
])
def test_transposed_output_size(i, k, s, crop, out):
    assert ar.transposed_conv_output_size(i, k, stride=s, cropping=crop).value == out


def test_parameter_counts():
    r = ar.conv_parameters(5, 3, 8)
    assert (r.value, r.substituted) == (608, "(5·5·3 + 1)·8 = 76·8 = 608")
    r = ar.conv_parameters(5, 1, 10)
    assert r.value == 260 and "76" not in r.substituted and "26" in r.notes[0]
    assert ar.conv_parameters((3, 5), 4, 6, groups=2).value == (3 * 5 * 2 + 1) * 6
    assert ar.transposed_conv_parameters(4, 3, 16).value == 4 * 4 * 16 * 3 + 16 == 784
    r = ar.fc_parameters((10, 14, 14), 200)
    assert r.value == 392_200 and "1,961" in r.notes[0]
    assert ar.fc_parameters(1960, 200).value == 392_200
    r = ar.batchnorm_parameters(16)
    assert r.value == 32 and "running mean and variance" in r.notes[1]


def test_neurons_connections_multiply_adds():
    assert ar.neurons(16, 16, 8).value == 2048
    r = ar.conv_connections(28, 28, 5, 1, 10)
    assert r.value == 203_840 and r.substituted.endswith("26·10·784 = 203,840")
    assert any("bias" in note and "196,000" in note for note in r.notes)
    assert ar.fc_connections(1960, 200).value == 392_200
    assert ar.conv_multiply_adds(16, 16, 5, 3, 8).value == 16 * 16 * 8 * 75
    assert ar.conv_multiply_adds(4, 4, (3, 3), 4, 6, groups=2).value == 16 * 6 * 9 * 2
    assert ar.fc_multiply_adds((2, 3), 5).value == 30


def test_receptive_field_example():
    layers = [(3, 1, 1), (2, 2, 0), {"kernel": 3, "dilation": 2, "pad_before": 2}]
    r = ar.receptive_field(layers)
    assert r.value == (ReceptiveField(3, 1, -1), ReceptiveField(4, 2, -1),
                       ReceptiveField(12, 2, -5))
    assert r.value[-1].size == 12 and "reaching 5 into the padding" in r.notes[0]
    f = ar.receptive_field_of(layers, 10, input_size=20)
    assert f.value == (15, 26) and "7 positions past" in " ".join(f.notes)
    assert ar.receptive_field_of([(1, 1, 0)], 0).value == (0, 0)


def test_result_behaviour():
    r = ar.conv_output_size(32, 5, stride=2, padding=2)
    text = str(r)
    assert text.splitlines()[:2] == [r.formula, r.substituted] and "note: " in text
    assert [0, 1, 2][ar.conv_output_size(3, 3).value] == 1
    assert list(range(20))[ar.conv_output_size(3, 2)] == 2       # __index__
    with pytest.raises(TypeError):
        int(ar.same_padding(5, 4))
    with pytest.raises(AttributeError):
        r.value = 3
    assert isinstance(Result(1, None, "", "", ["x"]).notes, tuple)


def test_numpy_integers_accepted_and_returned_as_int():
    r = ar.conv_output_size(np.int64(32), np.int32(5), stride=np.uint8(2), padding=np.int16(2))
    assert r.value == 16 and type(r.value) is int
    assert type(ar.conv_parameters((np.int64(5), 5), 3, 8).value) is int


# ---- brute force ----------------------------------------------------------------------------

def count_windows(length, span, stride):
    """Literally slide: starts 0, S, 2S, ... while the window fits in the padded input."""
    count, start = 0, 0
    while start + span <= length:
        count += 1
        start += stride
    return count


@given(i=st.integers(1, 40), k=st.integers(1, 9), s=st.integers(1, 8),
       pb=st.integers(0, 6), pa=st.integers(0, 6), d=st.integers(1, 4))
def test_conv_output_size_brute_force(i, k, s, pb, pa, d):
    span = (k - 1) * d + 1
    expected = count_windows(i + pb + pa, span, s)
    if expected == 0:
        with pytest.raises(ValueError, match="effective filter size .* padded input size"):
            ar.conv_output_size(i, k, stride=s, padding=(pb, pa), dilation=d)
        return
    r = ar.conv_output_size(i, k, stride=s, padding=(pb, pa), dilation=d)
    assert r.value == expected
    assert math.isclose(r.quotient, (i + pb + pa - span) / s)
    assert r.unfloored == r.exact == r.quotient + 1
    unvisited = i + pb + pa - ((expected - 1) * s + span)
    if unvisited:
        assert f"the last {unvisited} row" in " ".join(r.notes)
    else:
        assert "nothing is discarded" in " ".join(r.notes)
    if pb == pa:
        assert ar.conv_output_size(i, k, stride=s, padding=pb, dilation=d) == r


@given(i=st.integers(1, 40), k=st.integers(1, 9), s=st.integers(1, 8),
       pb=st.integers(0, 4), pa=st.integers(0, 4))
def test_pool_output_size_brute_force(i, k, s, pb, pa):
    expected = count_windows(i + pb + pa, k, s)
    if expected == 0:
        with pytest.raises(ValueError, match="pool size"):
            ar.pool_output_size(i, k, stride=s, padding=(pb, pa))
        return
    r = ar.pool_output_size(i, k, stride=s, padding=(pb, pa))
    assert r.value == expected
    notes = " ".join(r.notes)
    assert ("windows overlap" in notes) == (k > s)
    assert ("windows skip inputs" in notes) == (s > k)


@given(i=st.integers(1, 60), k=st.integers(1, 9), s=st.integers(1, 8), d=st.integers(1, 4))
def test_same_padding_gives_ceil_output(i, k, s, d):
    b, a = ar.same_padding(i, k, stride=s, dilation=d).value
    assert 0 <= a - b <= 1
    span = (k - 1) * d + 1
    assert count_windows(i + b + a, span, s) == math.ceil(i / s)
    assert ar.conv_output_size(i, k, stride=s, padding=(b, a), dilation=d).value == -(-i // s)
    if a + b:   # the least padding that does it
        assert count_windows(i + a + b - 1, span, s) < math.ceil(i / s)


def scatter_length(i, k, s, cb, ca):
    """Literally scatter: input n adds filter tap j at n·S + j; crop cb first, ca last."""
    out = {}
    for pos in range(i):
        for tap in range(k):
            out[pos * s + tap] = out.get(pos * s + tap, 0) + 1
    full = [out.get(p, 0) for p in range(max(out) + 1)]
    return len([v for p, v in enumerate(full) if cb <= p < len(full) - ca])


@given(i=st.integers(1, 20), k=st.integers(1, 8), s=st.integers(1, 6),
       cb=st.integers(0, 8), ca=st.integers(0, 8))
def test_transposed_output_size_brute_force(i, k, s, cb, ca):
    expected = scatter_length(i, k, s, cb, ca)
    if expected <= 0:
        with pytest.raises(ValueError, match="cropping"):
            ar.transposed_conv_output_size(i, k, stride=s, cropping=(cb, ca))
    else:
        assert ar.transposed_conv_output_size(i, k, stride=s, cropping=(cb, ca)).value == expected
    if k >= s:
        same = ar.transposed_conv_output_size(i, k, stride=s, cropping="same")
        total = k - s
        assert same.value == i * s == scatter_length(i, k, s, total // 2, total - total // 2)
    else:
        with pytest.raises(ValueError, match="cropping"):
            ar.transposed_conv_output_size(i, k, stride=s, cropping="same")


def literal_field(layers, index):
    """Compose index sets down the stack: output q of a layer reads q·S - P + j·D, j < K."""
    positions = {index}
    for k, s, p, d in reversed(layers):
        positions = {q * s - p + j * d for q in positions for j in range(k)}
    return min(positions), max(positions)


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 3),
                          st.integers(1, 3)), min_size=1, max_size=5),
       st.integers(0, 6), st.booleans())
def test_receptive_field_brute_force(layers, index, as_dicts):
    described = ([{"kernel": k, "stride": s, "pad_before": p, "dilation": d}
                  for k, s, p, d in layers] if as_dicts
                 else [((k - 1) * d + 1, s, p) for k, s, p, d in layers])
    fields = ar.receptive_field(described).value
    assert len(fields) == len(layers)
    for depth in range(1, len(layers) + 1):
        size, jump, start = fields[depth - 1]
        first0, last0 = literal_field(layers[:depth], 0)
        first1, _ = literal_field(layers[:depth], 1)
        assert (start, size, jump) == (first0, last0 - first0 + 1, first1 - first0)
    assert ar.receptive_field_of(described, index).value == literal_field(layers, index)


# ---- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, kwargs, words", [
    (ar.conv_output_size, dict(i=0, k=3), "i (input size) = 0: must be a positive integer"),
    (ar.conv_output_size, dict(i=True, k=3), "i (input size) = True: must be a positive integer, "
                                            "not a bool"),
    (ar.conv_output_size, dict(i=32.0, k=3), "i (input size) = 32.0: must be a positive integer, "
                                            "not a float; write 32"),
    (ar.conv_output_size, dict(i=32.5, k=3), "i (input size) = 32.5"),
    (ar.conv_output_size, dict(i="32", k=3), "i (input size) = '32': must be a positive integer, "
                                            "not a str"),
    (ar.conv_output_size, dict(i=8, k=-1), "k (filter size) = -1"),
    (ar.conv_output_size, dict(i=8, k=3, stride=0), "conv_output_size: stride = 0: must be a "
                                                    "positive integer"),
    (ar.conv_output_size, dict(i=8, k=3, dilation=0), "dilation = 0"),
    (ar.conv_output_size, dict(i=8, k=3, padding=-1), "padding = -1: must be a non-negative"),
    (ar.conv_output_size, dict(i=8, k=3, padding=(1, -2)), "padding after = -2"),
    (ar.conv_output_size, dict(i=8, k=3, padding=(1, 2, 3)), "padding = (1, 2, 3)"),
    (ar.conv_output_size, dict(i=8, k=3, padding=1.0), "padding = 1.0"),
    (ar.conv_output_size, dict(i=8, k=3, padding="valid"), "padding = 'valid' is not understood"),
    (ar.conv_output_size, dict(i=2, k=3), "padded input size 2 (2 + 0 + 0)"),
    (ar.pool_output_size, dict(i=2, k=3), "pool size 3 is larger than the padded input size 2"),
    (ar.pool_output_size, dict(i=4, k=2, stride=np.float64(2)), "stride = 2.0"),
    (ar.pool_output_size, dict(i=4, k=2, padding=(-1, 0)), "padding before = -1"),
    (ar.same_padding, dict(i=4, k=0), "k (filter size) = 0"),
    (ar.same_padding, dict(i=4, k=2, stride=-2), "stride = -2"),
    (ar.same_padding, dict(i=4, k=2, dilation=False), "dilation = False"),
    (ar.effective_filter_size, dict(k=0, dilation=1), "k (filter size) = 0"),
    (ar.effective_filter_size, dict(k=3, dilation=0), "dilation = 0"),
    (ar.transposed_conv_output_size, dict(i=0, k=2), "i (input size) = 0"),
    (ar.transposed_conv_output_size, dict(i=2, k=2, stride=0), "stride = 0"),
    (ar.transposed_conv_output_size, dict(i=2, k=2, cropping=-1), "cropping = -1"),
    (ar.transposed_conv_output_size, dict(i=2, k=2, cropping=2),
     "cropping 2 + 2 leaves no output: (2 - 1)·1 + 2 - 2 - 2 = -1"),
    (ar.transposed_conv_output_size, dict(i=2, k=2, stride=3, cropping="same"),
     "cropping = 'same' needs the filter size to be at least the stride: K - S = 2 - 3 = -1"),
    (ar.transposed_conv_output_size, dict(i=2, k=2, cropping="full"), "cropping = 'full'"),
    (ar.conv_parameters, dict(filter_size=0, num_channels=3, num_filters=8), "filter_size = 0"),
    (ar.conv_parameters, dict(filter_size=(3, 0), num_channels=3, num_filters=8),
     "filter_size width = 0"),
    (ar.conv_parameters, dict(filter_size=(3, 3, 3), num_channels=3, num_filters=8),
     "filter_size = (3, 3, 3)"),
    (ar.conv_parameters, dict(filter_size=3, num_channels=0, num_filters=8), "num_channels = 0"),
    (ar.conv_parameters, dict(filter_size=3, num_channels=3, num_filters=8.0),
     "num_filters = 8.0"),
    (ar.conv_parameters, dict(filter_size=3, num_channels=4, num_filters=6, groups=0),
     "groups = 0"),
    (ar.conv_parameters, dict(filter_size=3, num_channels=3, num_filters=6, groups=2),
     "groups = 2 does not divide num_channels = 3 (3 / 2 = 1.5 is not a whole number)"),
    (ar.conv_parameters, dict(filter_size=3, num_channels=4, num_filters=5, groups=2),
     "groups = 2 does not divide num_filters = 5"),
    (ar.transposed_conv_parameters, dict(filter_size=3, num_channels=3, num_filters=-8),
     "num_filters = -8"),
    (ar.transposed_conv_parameters, dict(filter_size=3, num_channels=None, num_filters=8),
     "num_channels = None"),
    (ar.fc_parameters, dict(input_size=0, output_size=10), "input_size = 0"),
    (ar.fc_parameters, dict(input_size=(14, 0), output_size=10), "input_size[1] = 0"),
    (ar.fc_parameters, dict(input_size=(), output_size=10), "input_size = (): is an empty shape"),
    (ar.fc_parameters, dict(input_size=10, output_size=0), "output_size = 0"),
    (ar.batchnorm_parameters, dict(num_channels=0), "num_channels = 0"),
    (ar.neurons, dict(height=0, width=2, channels=3), "height = 0"),
    (ar.neurons, dict(height=2, width=2.5, channels=3), "width = 2.5"),
    (ar.neurons, dict(height=2, width=2, channels=-3), "channels = -3"),
    (ar.conv_connections, dict(out_h=0, out_w=2, filter_size=3, num_channels=3, num_filters=8),
     "out_h = 0"),
    (ar.conv_connections, dict(out_h=2, out_w=2, filter_size=3, num_channels=3, num_filters=8,
                               groups=3), "does not divide num_filters = 8"),
    (ar.fc_connections, dict(input_size=10, output_size=-1), "output_size = -1"),
    (ar.conv_multiply_adds, dict(out_h=2, out_w=0, filter_size=3, num_channels=3,
                                 num_filters=8), "out_w = 0"),
    (ar.conv_multiply_adds, dict(out_h=2, out_w=2, filter_size=3, num_channels=3,
                                 num_filters=8, groups=2), "does not divide num_channels = 3"),
    (ar.fc_multiply_adds, dict(input_size=0, output_size=3), "input_size = 0"),
    (ar.receptive_field, dict(layers=[]), "layers = [] is empty"),
    (ar.receptive_field, dict(layers=3), "layers = 3 must be a sequence"),
    (ar.receptive_field, dict(layers=(3, 1, 1)), "layers[0] = 3 must be a (kernel, stride, "
                                                 "pad_before) tuple"),
    (ar.receptive_field, dict(layers=[(3, 1)]), "layers[0] = (3, 1)"),
    (ar.receptive_field, dict(layers=[(3, 1, 1), (0, 1, 0)]), "layers[1] kernel = 0"),
    (ar.receptive_field, dict(layers=[(3, 0, 1)]), "layers[0] stride = 0"),
    (ar.receptive_field, dict(layers=[(3, 1, -1)]), "layers[0] pad_before = -1"),
    (ar.receptive_field, dict(layers=[{"stride": 2}]), "layers[0] = {'stride': 2} has no "
                                                       "'kernel'"),
    (ar.receptive_field, dict(layers=[{"kernel": 3, "padding": 1}]),
     "layers[0] has unknown key(s) padding"),
    (ar.receptive_field, dict(layers=[{"kernel": 3, "dilation": 0}]), "layers[0] dilation = 0"),
    (ar.receptive_field_of, dict(layers=[(3, 1, 1)], index=-1), "index = -1"),
    (ar.receptive_field_of, dict(layers=[(3, 1, 1)], index=0, input_size=0), "input_size = 0"),
])
def test_errors_name_the_parameter(call, kwargs, words):
    with pytest.raises(ValueError) as info:
        call(**kwargs)
    assert words in str(info.value)
    assert str(info.value).startswith(call.__name__ + ": ")


# ---- docstrings ------------------------------------------------------------------------------

@pytest.mark.parametrize("module", [ar, _core, sizes, counts, receptive])
def test_doctests(module):
    failed, attempted = doctest.testmod(module)
    assert attempted > 0 and failed == 0


def test_every_public_name_documented_with_an_example():
    for name in ar.__all__:
        obj = getattr(ar, name)
        assert obj.__doc__, name
        if callable(obj) and name not in ("ReceptiveField",):
            assert ">>>" in obj.__doc__, name


def test_transposed_multiply_adds_by_hand():
    # 2x3 input, 2 channels, 3x2 filters, 4 filters: each of the 12 input values meets the
    # 3·2·4 = 24 weights of its channel -> 288
    r = ar.transposed_conv_multiply_adds(2, 3, (3, 2), 2, 4)
    assert r.value == 288 and r.substituted.endswith("= 288")
    with pytest.raises(ValueError, match="num_filters"):
        ar.transposed_conv_multiply_adds(2, 3, 3, 2, 0)
