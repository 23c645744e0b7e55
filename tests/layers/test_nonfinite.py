"""NaN, ±inf, -0.0 and subnormal inputs through ReLU, max pooling and convolution, on both
backends, against NumPy's own element-wise definitions.

NumPy propagates NaN: np.maximum(nan, 0) is nan, np.max of a window holding a NaN is nan and
np.argmax points at the first NaN; a sum with a NaN term, or with both +inf and -inf terms,
is nan; with one sign of inf it is that inf. The fast kernels once returned 0 for ReLU(nan)
and 1 for max([1, nan, .5, .2]) — a network with NaN weights then trained on silently.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cnnlab as cl
from cnnlab.kernels import get_backend
from cnnlab.testing import TOLERANCES

BACKENDS = ["reference", "fast"]
# subnormal in float32 (smallest normal 1.2e-38), normal in float64
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40]


def built(layer, shape, dtype, backend):
    layer.build(shape, rng=np.random.default_rng(0), dtype=dtype, kernels=get_backend(backend))
    return layer


@st.composite
def with_specials(draw, shape, dtype, at_least=1):
    """A standard-normal array of `shape` with at_least..6 cells replaced by special values
    (NaN, ±inf, ±0, ±subnormal) at drawn places."""
    x = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(shape)
    x = x.astype(dtype)
    for _ in range(draw(st.integers(at_least, 6))):
        x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from(SPECIAL))
    return x


DTYPES = st.sampled_from(["float32", "float64"])


@pytest.mark.parametrize("backend", BACKENDS)
@given(data=st.data(), dtype=DTYPES)
def test_relu_passes_nan_and_inf_as_numpy_maximum(backend, data, dtype):
    x = data.draw(with_specials((2, 3, 4, 2), dtype))
    dy = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    layer = built(cl.ReLU(), (3, 4, 2), dtype, backend)
    y = layer.forward(x, training=True)
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y, np.maximum(x, 0))        # NaN where x is NaN
    # relu'(x) = 1 where x > 0, else 0: NaN and -inf (and 0) stop the gradient, +inf passes it
    np.testing.assert_array_equal(layer.backward(dy), np.where(x > 0, dy, 0))


def test_relu_issue_example_on_both_backends():
    for backend in BACKENDS:
        y = built(cl.ReLU(), (1, 1, 3), "float64", backend).forward(
            np.array([0.0, np.nan, 2.0]).reshape(1, 1, 1, 3))
        np.testing.assert_array_equal(y.ravel(), [0, np.nan, 2], err_msg=backend)


def max_pool_numpy(x, pool, stride, pads):
    """np.max and np.argmax over each window of the -inf padded input, and the input gradient
    of sum(y·dy) for dy = 1: each window's first maximum (or first NaN) gets 1 per window."""
    (ph, pw), (sh, sw), (t, b, l, r) = pool, stride, pads
    xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=-np.inf)
    n, hp, wp, c = xp.shape
    oh, ow = (hp - ph) // sh + 1, (wp - pw) // sw + 1
    y = np.empty((n, oh, ow, c), x.dtype)
    counts = np.zeros(xp.shape)
    for q, i, j, k in np.ndindex(n, oh, ow, c):
        window = xp[q, i * sh:i * sh + ph, j * sw:j * sw + pw, k]
        y[q, i, j, k] = np.max(window)
        u, v = np.unravel_index(np.argmax(window), window.shape)
        counts[q, i * sh + u, j * sw + v, k] += 1
    return y, counts[:, t:hp - b, l:wp - r]


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=30)
@given(data=st.data(), dtype=DTYPES, pool=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_max_pooling_propagates_nan_and_picks_the_first_nan_as_numpy(backend, data, dtype,
                                                                       pool, stride):
    # padding below the pool size on every side: every window sees some input
    pads = tuple(data.draw(st.integers(0, k - 1)) for k in (pool[0],) * 2 + (pool[1],) * 2)
    x = data.draw(with_specials((2, 5, 4, 2), dtype))
    if data.draw(st.booleans()):       # a whole input window of -inf: the maximum is -inf
        x[0, :pool[0], :pool[1], 0] = -np.inf
    layer = built(cl.MaxPooling2D(pool, stride=stride, padding=pads), (5, 4, 2), dtype,
                  backend)
    y = layer.forward(x, training=True)
    want, counts = max_pool_numpy(x, pool, stride, pads)
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(layer.backward(np.ones_like(y)), counts)


def test_max_pooling_issue_example_on_both_backends():
    x = np.array([1.0, np.nan, 0.5, 0.2]).reshape(1, 2, 2, 1)
    for backend in BACKENDS:
        for dtype in ("float32", "float64"):
            y = built(cl.MaxPooling2D(2), (2, 2, 1), dtype, backend).forward(x.astype(dtype))
            assert np.isnan(y).all() and y.shape == (1, 1, 1, 1), (backend, dtype)


def conv_numpy(x, w, b, stride, dilation, pads):
    """Σ over each zero-padded window of x·w, in float64 NumPy element-wise products (IEEE:
    nan·w = nan, inf + finite = inf, inf + -inf = nan), plus the bias."""
    (sh, sw), (dh, dw), (t, bo, l, r) = stride, dilation, pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (t, bo), (l, r), (0, 0)))
    fh, fw, _, f = w.shape
    eh, ew = (fh - 1) * dh + 1, (fw - 1) * dw + 1
    oh, ow = (xp.shape[1] - eh) // sh + 1, (xp.shape[2] - ew) // sw + 1
    y = np.empty((x.shape[0], oh, ow, f))
    for i, j in np.ndindex(oh, ow):
        patch = xp[:, i * sh:i * sh + eh:dh, j * sw:j * sw + ew:dw, :]     # N×FH×FW×C
        y[:, i, j, :] = (patch[..., None] * w.astype(np.float64)).sum(axis=(1, 2, 3))
    return y + b


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=30)
@given(data=st.data(), dtype=DTYPES, filt=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       pads=st.tuples(*[st.integers(0, 2)] * 4), nan_weight=st.booleans())
def test_convolution_propagates_nan_and_inf_as_numpy(backend, data, dtype, filt, stride,
                                                      dilation, pads, nan_weight):
    x = data.draw(with_specials((2, 5, 6, 2), dtype))
    rng = np.random.default_rng(2)
    w = rng.standard_normal(filt + (2, 3)).astype(dtype)
    bias = rng.standard_normal(3).astype(dtype)
    layer = built(cl.Convolution2D(filt, 3, stride=stride, dilation=dilation, padding=pads,
                                   weights=w, bias=bias), (5, 6, 2), dtype, backend)
    if nan_weight:   # as after a diverged training step (NaN is refused as given weights):
        w[0, 0, 0, 1] = np.nan         # filter 1 is NaN everywhere, padding cells included
        layer.params["weights"][...] = w           # (0·nan = nan)
    with np.errstate(invalid="ignore"):     # inf - inf = nan is the point here
        y = layer.forward(x)
        want = conv_numpy(x, w, bias, stride, dilation, pads)
    assert y.dtype == x.dtype
    if nan_weight:
        assert np.isnan(y[..., 1]).all()
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
    np.testing.assert_allclose(y, want, **TOLERANCES[np.dtype(dtype)])   # ±inf where want is
