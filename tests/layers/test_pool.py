"""Pooling: windows made only of padding (refused for max pooling, fine for average pooling),
and PyTorch parity of max, average and global pooling.

Which windows see input is worked out here by listing every window's positions, independently
of cnnlab.arithmetic.
"""
import itertools
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnnlab as cl
import cnnlab.kernels
from tests.layers.parity import TOL, built, check_parameterless, empty_windows
from tests.torch_oracle import F, from_torch, to_torch

REF = cnnlab.kernels.get_backend("reference")


def build(layer, shape, dtype="float64"):
    layer.build(shape, rng=np.random.default_rng(0), dtype=dtype, kernels=REF)
    return layer


def windows(size, k, s, before, after):
    """Per output position along one axis: the padded positions the window covers."""
    length = size + before + after
    return [range(start, start + k) for start in range(0, length - k + 1, s)]


def some_window_is_only_padding(size, k, s, before, after):
    real = range(before, before + size)
    return any(not any(p in real for p in window)
               for window in windows(size, k, s, before, after))


def test_the_issue_example_is_refused_at_build_with_the_arithmetic_note():
    # pool 2, stride 2, two padding rows at the bottom of a 4x4 input: the third window
    # covers padded rows 4..5, both padding, and its maximum would be -inf
    with pytest.raises(ValueError) as err:
        cl.Network([cl.ImageInput((4, 4, 1), normalization="none"),
                    cl.MaxPooling2D(2, stride=2, padding=(0, 2, 0, 0), name="mp")])
    text = str(err.value)
    assert text.startswith("MaxPooling2D layer 'mp': padding = (0, 2, 0, 0): along the height")
    assert "lies entirely in the padding and sees no input" in text     # the arithmetic's note
    assert "floor((4 - 2 + 0 + 2) / 2) + 1" in text and "-inf" in text


@pytest.mark.parametrize("padding,axis", [((2, 0, 0, 0), "height"), ((0, 0, 3, 0), "width"),
                                          ((0, 0, 0, 2), "width"), ((1, 1, 2, 2), "width")])
def test_other_sides_are_refused_too(padding, axis):
    with pytest.raises(ValueError, match=re.escape(f"padding = {padding!r}: along the {axis}")):
        build(cl.MaxPooling2D(2, stride=2, padding=padding), (4, 4, 1))


@pytest.mark.parametrize("size,k,s", list(itertools.product(range(1, 5), range(1, 4), range(1, 4))))
def test_max_pooling_builds_exactly_when_every_window_sees_input(size, k, s):
    rng = np.random.default_rng(size * 100 + k * 10 + s)
    for before, after in itertools.product(range(4), range(4)):
        if k > size + before + after:
            continue                             # no window fits: refused for another reason
        layer = cl.MaxPooling2D((k, 1), stride=(s, 1), padding=(before, after, 0, 0))
        if some_window_is_only_padding(size, k, s, before, after):
            with pytest.raises(ValueError, match="entirely in the padding"):
                build(layer, (size, 2, 1))
            continue
        build(layer, (size, 2, 1))
        x = rng.standard_normal((2, size, 2, 1))
        y = layer.forward(x)
        # by hand: the maximum of the real positions inside each window
        expected = np.array([[x[:, [p - before for p in window if before <= p < before + size],
                                j, 0].max(axis=1) for j in range(2)]
                             for window in windows(size, k, s, before, after)])
        np.testing.assert_array_equal(y[..., 0], expected.transpose(2, 0, 1))
        assert np.all(np.isfinite(y))


def test_same_padding_never_makes_an_empty_max_window():
    for size, k, s in itertools.product(range(1, 9), range(1, 5), range(1, 5)):
        layer = build(cl.MaxPooling2D(k, stride=s, padding="same"), (size, size, 1))
        t, b, _, _ = layer.padding
        assert not some_window_is_only_padding(size, k, s, t, b)


def test_average_pooling_keeps_empty_windows_as_zeros():
    # the issue's configuration is well defined for average pooling: padding counts as zeros
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    layer = build(cl.AveragePooling2D(2, stride=2, padding=(0, 2, 0, 0)), (4, 4, 1))
    y = layer.forward(x)[0, :, :, 0]
    np.testing.assert_array_equal(y, [[(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4],
                                      [(8 + 9 + 12 + 13) / 4, (10 + 11 + 14 + 15) / 4],
                                      [0.0, 0.0]])
    dx = layer.backward(np.ones((1, 3, 2, 1)))
    np.testing.assert_array_equal(dx, np.full((1, 4, 4, 1), 0.25))   # padding takes the rest
    net = cl.Network([cl.ImageInput((4, 4, 1), normalization="none"),
                      cl.AveragePooling2D(2, stride=2, padding=(2, 0, 0, 3)),
                      cl.FullyConnected(2), cl.Regression()], seed=0)
    loss, _ = net.loss_and_gradients(np.ones((2, 4, 4, 1)), np.zeros((2, 2)))
    assert np.isfinite(loss)


# ---- PyTorch parity (moved from test_parity_simple.py) -------------------------------------
# float32 against the float64 oracle and float64; max-pooling windows made only of padding
# are drawn too: they are refused at build.

@pytest.mark.torch
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.lists(st.integers(0, 3), min_size=4, max_size=4), st.booleans(),
       st.sampled_from(["float32", "float64"]), st.integers(0, 10**6))
def test_pooling_matches_torch(ph, pw, sh, sw, pads, is_max, dtype, seed):
    t, b, l, r = pads
    rng = np.random.default_rng(seed)
    H, W = rng.integers(ph, 7), rng.integers(pw, 7)
    x = rng.standard_normal((2, H, W, 3)).astype(dtype)
    cls = cl.MaxPooling2D if is_max else cl.AveragePooling2D
    layer = cls((ph, pw), stride=(sh, sw), padding=(t, b, l, r), name="pool")
    empty = empty_windows(H, ph, sh, t, b) or empty_windows(W, pw, sw, l, r)
    if is_max and empty:     # its maximum would be -inf: refused when built, naming why
        with pytest.raises(ValueError, match=r"^MaxPooling2D layer 'pool': padding = .* "
                                             r"entirely in the padding"):
            built(layer, (H, W, 3), dtype)
        return
    layer = built(layer, (H, W, 3), dtype)     # average pooling counts padding as zeros
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(dy)
    xt = to_torch(x, requires_grad=True)
    xp = F.pad(xt, (l, r, t, b), value=-np.inf if is_max else 0.0)
    pool = F.max_pool2d if is_max else F.avg_pool2d
    yt = pool(xp, (ph, pw), stride=(sh, sw))
    yt.backward(to_torch(dy))
    np.testing.assert_allclose(y, from_torch(yt), **TOL[dtype])
    np.testing.assert_allclose(dx, from_torch(xt.grad), **TOL[dtype])
    assert np.all(np.isfinite(y))


def test_max_pooling_window_made_only_of_padding_is_refused_at_build():
    # the issue's case: pool 2, stride 2, padding (0, 2, 0, 0) on 4x4 -> the third row of
    # windows covers padded rows 4 and 5 only
    assert empty_windows(4, 2, 2, 0, 2) == [2] and empty_windows(4, 2, 2, 0, 0) == []
    with pytest.raises(ValueError, match=r"MaxPooling2D layer 'p': padding = \(0, 2, 0, 0\)"
                                         r": along the height.* entirely in the padding"):
        built(cl.MaxPooling2D(2, stride=2, padding=(0, 2, 0, 0), name="p"), (4, 4, 1),
              "float64")
    # a window that still sees one input row is allowed, and never outputs -inf
    layer = built(cl.MaxPooling2D(2, stride=2, padding=(1, 1, 0, 0)), (4, 4, 1), "float64")
    x = -np.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(layer.forward(x)[0, :, :, 0],
                                  [[0, -2], [-4, -6], [-12, -14]])
    avg = built(cl.AveragePooling2D(2, stride=2, padding=(0, 2, 0, 0)), (4, 4, 1), "float64")
    np.testing.assert_array_equal(avg.forward(np.ones((1, 4, 4, 1)))[0, 2, :, 0], [0, 0])


GLOBAL_POOLS = {
    "gapool": (cl.GlobalAveragePooling2D, lambda t: t.mean(dim=(2, 3), keepdim=True)),
    "gmpool": (cl.GlobalMaxPooling2D, lambda t: t.amax(dim=(2, 3), keepdim=True)),
}


@pytest.mark.torch
@pytest.mark.parametrize("make, torch_f", list(GLOBAL_POOLS.values()), ids=list(GLOBAL_POOLS))
def test_global_pooling_matches_torch(make, torch_f):
    for dtype in ("float32", "float64"):
        check_parameterless(make(), torch_f, dtype)
