"""The four padding modes: the reference document's matrices, np.pad, PyTorch, gradients."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from cnnlab.kernels import padding
from cnnlab.testing import numerical_gradient
from tests.examples import EXPECTED, MAGIC
from tests.torch_oracle import F, from_torch, tensor, to_torch

MODES = padding.PADDING_MODES
NP_MODE = {"symmetric-include-edge": "symmetric", "symmetric-exclude-edge": "reflect",
           "replicate": "edge"}


@pytest.mark.parametrize("value", list(EXPECTED))
def test_reference_document_example(value):
    x = MAGIC[None, :, :, None]
    xp = padding.pad(x, (2, 2, 2, 2), value)
    np.testing.assert_array_equal(xp[0, :, :, 0], np.array(EXPECTED[value]))


def test_constant_value_other_than_zero():
    xp = padding.pad(MAGIC[None, :, :, None], (1, 0, 0, 2), -1.5)
    np.testing.assert_array_equal(xp[0, :, :, 0], [[-1.5, -1.5, -1.5, -1.5, -1.5],
                                                   [3, 1, 4, -1.5, -1.5],
                                                   [1, 5, 9, -1.5, -1.5],
                                                   [2, 6, 5, -1.5, -1.5]])


def test_source_index_small_cases():
    np.testing.assert_array_equal(padding.source_index(3, 2, 2, "symmetric-include-edge"),
                                  [1, 0, 0, 1, 2, 2, 1])
    np.testing.assert_array_equal(padding.source_index(3, 2, 2, "symmetric-exclude-edge"),
                                  [2, 1, 0, 1, 2, 1, 0])
    np.testing.assert_array_equal(padding.source_index(3, 2, 2, "replicate"),
                                  [0, 0, 0, 1, 2, 2, 2])
    np.testing.assert_array_equal(padding.source_index(3, 1, 2, 7.0), [-1, 0, 1, 2, -1, -1])
    # one row: every mirror repeats it
    np.testing.assert_array_equal(padding.source_index(1, 2, 1, "symmetric-exclude-edge"),
                                  [0, 0, 0, 0])
    # wider than the input (n = 2, include edge, period 4): ... 1 0 | 0 1 | 1 0 0 1 1
    np.testing.assert_array_equal(padding.source_index(2, 2, 5, "symmetric-include-edge"),
                                  [1, 0, 0, 1, 1, 0, 0, 1, 1])


@given(n=st.integers(1, 6), before=st.integers(0, 14), after=st.integers(0, 14),
       mode=st.sampled_from(MODES))
def test_source_index_matches_np_pad_even_when_wider_than_input(n, before, after, mode):
    expected = np.pad(np.arange(n), (before, after), mode=NP_MODE[mode])
    np.testing.assert_array_equal(padding.source_index(n, before, after, mode), expected)


@given(h=st.integers(1, 5), w=st.integers(1, 5),
       pads=st.tuples(*[st.integers(0, 7)] * 4),
       value=st.sampled_from([0, 2.5, -1] + list(MODES)))
def test_pad_matches_np_pad(h, w, pads, value):
    x = np.random.default_rng(0).standard_normal((2, h, w, 3))
    t, b, l, r = pads
    width = ((0, 0), (t, b), (l, r), (0, 0))
    if isinstance(value, str):
        expected = np.pad(x, width, mode=NP_MODE[value])
    else:
        expected = np.pad(x, width, mode="constant", constant_values=value)
    np.testing.assert_array_equal(padding.pad(x, pads, value), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [0, 3] + list(MODES))
def test_dtype_preserved(dtype, value):
    x = np.ones((1, 3, 2, 2), dtype=dtype)
    xp = padding.pad(x, (1, 2, 3, 1), value)
    assert xp.dtype == dtype
    assert padding.pad_backward(xp, (1, 2, 3, 1), value, (3, 2)).dtype == dtype


# ---- gradients -------------------------------------------------------------------------------

@given(h=st.integers(1, 4), w=st.integers(1, 4), pads=st.tuples(*[st.integers(0, 6)] * 4),
       value=st.sampled_from([0, 1.5] + list(MODES)))
def test_pad_backward_matches_numerical_gradient(h, w, pads, value):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, h, w, 2))
    r = rng.standard_normal(padding.pad(x, pads, value).shape)
    numeric = numerical_gradient(lambda: np.sum(padding.pad(x, pads, value) * r), x)
    np.testing.assert_allclose(padding.pad_backward(r, pads, value, (h, w)), numeric,
                               rtol=1e-8, atol=1e-8)


@given(h=st.integers(1, 5), w=st.integers(1, 5), pads=st.tuples(*[st.integers(0, 6)] * 4),
       value=st.sampled_from([0] + list(MODES)))
def test_pad_backward_is_the_adjoint_of_pad(h, w, pads, value):
    # pad is linear (for constant 0): <pad(x), g> = <x, pad_backward(g)> for every x, g
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, h, w, 2))
    g = rng.standard_normal(padding.pad(x, pads, value).shape)
    lhs = np.sum(padding.pad(x, pads, value) * g)
    rhs = np.sum(x * padding.pad_backward(g, pads, value, (h, w)))
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


def _torch_pad(x, pads, value):
    t, b, l, r = pads
    xt = to_torch(x, requires_grad=True)          # the oracle computes in float64
    if isinstance(value, str):
        mode = {"symmetric-exclude-edge": "reflect", "replicate": "replicate"}[value]
        yt = F.pad(xt, (l, r, t, b), mode=mode)
    else:
        yt = F.pad(xt, (l, r, t, b), mode="constant", value=value)
    return xt, yt


@pytest.mark.torch
@given(h=st.integers(2, 6), w=st.integers(2, 6), pads=st.tuples(*[st.integers(0, 5)] * 4),
       value=st.sampled_from([0, -2.0, "symmetric-exclude-edge", "replicate"]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_pad_and_backward_match_torch(h, w, pads, value, dtype):
    t, b, l, r = pads
    if value == "symmetric-exclude-edge":   # torch reflects only once: pad < input size
        pads = (min(t, h - 1), min(b, h - 1), min(l, w - 1), min(r, w - 1))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, h, w, 3)).astype(dtype)
    xt, yt = _torch_pad(x, pads, value)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)       # N×C×H'×W'
    yt.backward(tensor(g))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(padding.pad(x, pads, value), from_torch(yt), **tol)
    dx = padding.pad_backward(np.moveaxis(g, 1, -1), pads, value, (h, w))
    np.testing.assert_allclose(dx, from_torch(xt.grad), **tol)


def test_pad_backward_hand_case_replicate():
    # 1-D: [a b] replicate-padded by (2, 1) is a a a b b; gradient ones -> a gets 3, b gets 2
    g = np.ones((1, 1, 5, 1))
    dx = padding.pad_backward(g, (0, 0, 2, 1), "replicate", (1, 2))
    np.testing.assert_array_equal(dx[0, 0, :, 0], [3, 2])
    # constant padding drops the border gradient
    dx = padding.pad_backward(g, (0, 0, 2, 1), 0, (1, 2))
    np.testing.assert_array_equal(dx[0, 0, :, 0], [1, 1])


# ---- mask and validation ---------------------------------------------------------------------

def test_padding_mask():
    mask = padding.padding_mask(2, 3, (1, 0, 2, 1))
    expected = np.array([[1, 1, 1, 1, 1, 1],
                         [1, 1, 0, 0, 0, 1],
                         [1, 1, 0, 0, 0, 1]], dtype=bool)
    np.testing.assert_array_equal(mask, expected)
    assert mask.dtype == bool
    assert not padding.padding_mask(2, 2, (0, 0, 0, 0)).any()


@pytest.mark.parametrize("value", [0, 1, -2.5, np.float32(0.5), np.int64(3)] + list(MODES))
def test_check_padding_value_accepts(value):
    out = padding.check_padding_value("Convolution2D layer 'c'", value)
    assert out == value
    assert type(out) in (int, float, str)


@pytest.mark.parametrize("value", ["symmetric", "reflect", "Replicate", float("nan"),
                                   float("inf"), True, None, [0], "same"])
def test_check_padding_value_rejects(value):
    with pytest.raises(ValueError, match=r"Convolution2D layer 'c': padding_value = .*"
                                         r"finite number or one of 'symmetric-include-edge'"):
        padding.check_padding_value("Convolution2D layer 'c'", value)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="nonnegative"):
        padding.pad(np.zeros((1, 2, 2, 1)), (1, -1, 0, 0), 0)
    with pytest.raises(ValueError, match="mode = 'mirror'"):
        padding.source_index(3, 1, 1, "mirror")
    with pytest.raises(ValueError, match="n >= 1"):
        padding.source_index(0, 1, 1, 0)
    with pytest.raises(ValueError, match="gradient is 4x4"):
        padding.pad_backward(np.zeros((1, 4, 4, 1)), (1, 1, 1, 1), 0, (3, 3))


@pytest.mark.parametrize("value", [0, -np.inf, 2.5, "replicate", "symmetric-include-edge",
                                   "symmetric-exclude-edge"])
def test_pad_returns_a_new_c_contiguous_array_the_fast_convolution_keeps(value):
    from cnnlab.kernels import fast
    x = np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2)
    xp = padding.pad(x, (1, 2, 0, 3), value)
    assert xp.flags.c_contiguous and not np.shares_memory(xp, x) and xp.dtype == x.dtype
    mode = {"replicate": "edge", "symmetric-include-edge": "symmetric",
            "symmetric-exclude-edge": "reflect"}
    want = (np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0)), mode=mode[value])
            if isinstance(value, str) else
            np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0)), constant_values=value))
    np.testing.assert_array_equal(xp, want)
    # contiguous, so the fast convolution keeps this very array for its backward pass
    workspace = {}
    with np.errstate(invalid="ignore"):      # -inf padding: only the kept array matters here
        fast.conv2d_forward(xp, np.ones((2, 2, 2, 3), np.float32), np.zeros(3, np.float32),
                            workspace=workspace)
    assert workspace["xp"] is xp
