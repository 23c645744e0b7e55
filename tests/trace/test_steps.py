"""Window steps add up to what the network's kernels computed, for every configuration."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import cnnlab as cl
from cnnlab.kernels.padding import PADDING_MODES
from tests.examples import EXPECTED, MAGIC

BACKENDS = ["reference", "fast"]
TOL = dict(rtol=1e-4, atol=1e-4)        # float32 outputs against float64 step sums


def one_layer(layer, shape, backend, seed=0):
    return cl.Network([cl.ImageInput(shape, normalization="none"), layer], seed=seed,
                      backend=backend)


@st.composite
def conv_configs(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    c = groups * draw(st.integers(1, 2))
    f = groups * draw(st.integers(1, 2))
    fh, fw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.one_of(st.just("same"), st.integers(0, 2),
                             st.tuples(*[st.integers(0, 2)] * 4)))
    value = draw(st.sampled_from([0, 1.5, *PADDING_MODES]))
    h, w = draw(st.integers(3, 8)), draw(st.integers(3, 8))
    assume((fh - 1) * dilation[0] + 1 <= h and (fw - 1) * dilation[1] + 1 <= w)
    return dict(shape=(h, w, c), layer=dict(filter_size=(fh, fw), num_filters=f, stride=stride,
                                            dilation=dilation, padding=padding,
                                            padding_value=value, groups=groups))


@pytest.mark.parametrize("backend", BACKENDS)
@given(cfg=conv_configs(), seed=st.integers(0, 100))
def test_convolution_steps_sum_to_the_output(backend, cfg, seed):
    net = one_layer(cl.Convolution2D(**cfg["layer"]), cfg["shape"], backend, seed)
    x = np.random.default_rng(seed).standard_normal(cfg["shape"])
    rec = net.trace(x)[1]
    for f in range(rec.output_shape[2]):
        steps = list(rec.steps(filter=f))
        assert len(steps) == rec.num_positions
        got = np.array([s.value for s in steps]).reshape(rec.output_shape[:2])
        np.testing.assert_allclose(got, rec.output[:, :, f], **TOL)
        for s in steps[:3]:
            np.testing.assert_allclose(s.channel_sums.sum(), s.total, rtol=1e-9, atol=1e-9)
            assert s.products.shape == s.patch.shape == s.weights.shape
            assert list(s.channels) == rec.channels_of(f)


@pytest.mark.parametrize("backend", BACKENDS)
@given(h=st.integers(2, 7), w=st.integers(2, 7), c=st.integers(1, 3), ph=st.integers(1, 3),
       pw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
       pad=st.integers(0, 1), mode=st.sampled_from(["max", "average"]),
       seed=st.integers(0, 100))
def test_pooling_steps_give_the_output(backend, h, w, c, ph, pw, sh, sw, pad, mode, seed):
    assume(ph <= h + 2 * pad and pw <= w + 2 * pad and pad < min(ph, pw))
    cls = cl.MaxPooling2D if mode == "max" else cl.AveragePooling2D
    net = one_layer(cls((ph, pw), stride=(sh, sw), padding=pad), (h, w, c), backend)
    x = np.round(np.random.default_rng(seed).standard_normal((h, w, c)))  # ties happen
    rec = net.trace(x)[1]
    for ch in range(c):
        for s in rec.steps(channel=ch):
            assert s.value == pytest.approx(s.output, rel=1e-5, abs=1e-5)
            if mode == "max":
                r, q = s.winner
                assert s.top <= r < s.bottom and s.left <= q < s.right
                assert rec.padded_input[r, q, ch] == s.patch.max()
                # the first maximum in row-major order wins, as in the kernels
                k = int(np.argmax(s.patch))
                assert (r - s.top, q - s.left) == (k // s.patch.shape[1], k % s.patch.shape[1])


@pytest.mark.parametrize("backend", BACKENDS)
@given(h=st.integers(1, 4), w=st.integers(1, 4), c=st.integers(1, 2), f=st.integers(1, 2),
       k=st.integers(1, 3), s=st.integers(1, 3), crop=st.integers(0, 1),
       seed=st.integers(0, 100))
def test_transposed_steps_sum_to_the_output(backend, h, w, c, f, k, s, crop, seed):
    assume((h - 1) * s + k - 2 * crop >= 1 and (w - 1) * s + k - 2 * crop >= 1)
    net = one_layer(cl.TransposedConvolution2D(k, f, stride=s, cropping=crop), (h, w, c),
                    backend, seed)
    rec = net.trace(np.random.default_rng(seed).standard_normal((h, w, c)))[1]
    up = rec.upsampled_input
    # the zero-inserted input holds the input values at stride s, zeros elsewhere (cropping
    # can cut some of them off when it is wider than the filter's border)
    kept = np.count_nonzero(rec.upsampled_mask == 0)
    assert kept == h * w if crop == 0 else kept <= h * w
    np.testing.assert_array_equal(up[rec.upsampled_mask != 0], 0)
    for fi in range(f):
        got = np.array([st_.value for st_ in rec.steps(fi)]).reshape(rec.output_shape[:2])
        np.testing.assert_allclose(got, rec.output[:, :, fi], **TOL)


def test_reference_documents_example_comes_out_of_the_steps():
    x = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                  [2, 0, 0, 0, 1]], float)
    kernel = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], float)
    conv = cl.Convolution2D(3, 1, weights=kernel[:, :, None, None], bias=np.zeros(1))
    rec = one_layer(conv, (5, 5, 1), "fast").trace(x)[1]
    values = [s.value for s in rec.steps()]
    assert values == [12, 12, 17, 10, 17, 19, 9, 6, 14]
    first = rec.step(0, 0)
    assert str(first) == ("output (0, 0) of filter 0: 0·3 + 1·3 + 2·2 + 2·0 + 2·0 + 0·1 + "
                          "0·3 + 1·1 + 2·2 + bias 0 = 12")


@pytest.mark.parametrize("value", list(EXPECTED))
def test_padding_value_examples_appear_as_the_padded_input(value):
    conv = cl.Convolution2D(3, 1, padding=2, padding_value=value)
    rec = one_layer(conv, (3, 3, 1), "reference").trace(MAGIC)[1]
    np.testing.assert_array_equal(rec.padded_input[:, :, 0], EXPECTED[value])
    assert rec.padding_mask.sum() == 7 * 7 - 9 and not rec.padding_mask[2:5, 2:5].any()


def test_dilated_filter_has_zero_holes_and_steps_read_every_other_cell():
    conv = cl.Convolution2D(3, 1, dilation=2, weights=np.arange(1, 10, dtype=float)
                            .reshape(3, 3, 1, 1), bias=np.array([0.5]))
    rec = one_layer(conv, (6, 6, 1), "fast").trace(np.arange(36.0).reshape(6, 6))[1]
    eff = rec.effective_weights[:, :, 0, 0]
    assert eff.shape == (5, 5)
    np.testing.assert_array_equal(eff[::2, ::2], np.arange(1, 10).reshape(3, 3))
    assert np.count_nonzero(eff) == 9
    s = rec.step(1, 0)
    assert list(s.rows) == [1, 3, 5] and list(s.cols) == [0, 2, 4]
    assert (s.top, s.bottom, s.left, s.right) == (1, 6, 0, 5)
    # by hand: rows 1,3,5 x cols 0,2,4 of arange(36) against 1..9, plus 0.5
    patch = np.arange(36.0).reshape(6, 6)[1::2, 0::2]
    assert s.value == pytest.approx(float((patch * np.arange(1, 10).reshape(3, 3)).sum()) + 0.5)


def test_grouped_filters_see_their_own_channels():
    rec = one_layer(cl.Convolution2D(1, 4, groups=2), (3, 3, 4), "fast").trace(
        np.ones((3, 3, 4)))[1]
    assert [rec.channels_of(f) for f in range(4)] == [[0, 1], [0, 1], [2, 3], [2, 3]]
    assert rec.step(0, 0, 3).channels == (2, 3)
    with pytest.raises(ValueError, match="filter = 4"):
        rec.channels_of(4)


def test_step_positions_are_checked():
    rec = one_layer(cl.Convolution2D(3, 2), (4, 4, 1), "fast").trace(np.ones((4, 4)))[1]
    for bad in [dict(row=2, col=0), dict(row=0, col=-1), dict(row=0, col=0, filter=2)]:
        with pytest.raises(ValueError, match="out of range"):
            rec.step(**bad)


def test_long_sums_are_abbreviated_in_text():
    rec = one_layer(cl.Convolution2D(5, 1), (5, 5, 1), "fast").trace(np.ones((5, 5)))[1]
    text = rec.step(0, 0).text(max_terms=6)
    assert "... 19 more ..." in text and text.count("·") == 6


def test_max_pool_windows_over_padding_print_minus_infinity():
    net = one_layer(cl.MaxPooling2D(2, stride=2, padding=1), (2, 2, 1), "fast")
    rec = net.trace(np.array([[1.0, 2.0], [3.0, 4.0]]))[1]
    s = rec.step(0, 0)
    assert str(s) == "output (0, 0) of channel 0: max(-inf, -inf, -inf, 1) = 1 at (1, 1)"
