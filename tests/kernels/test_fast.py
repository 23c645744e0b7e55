"""The fast kernels agree with the reference kernels (the definition) on every configuration.

Each test draws a configuration with hypothesis, runs both backends on the same arrays and
compares every output: forward values, input gradients and parameter gradients, in float32
(rtol/atol 1e-5) and float64 (1e-12), with the input's dtype kept. NaN and inf are drawn on
purpose: they must come out where the reference (NumPy's rules) puts them, and every output
dtype must be the reference's, also for mixed float32/float64 arguments.
"""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import cnnlab as cl
from cnnlab.kernels import fast, get_backend, reference
from cnnlab.kernels.fast.threads import blas_threads, kernel_threads
from cnnlab.models import lenet5, reference_example
from cnnlab.training import TrainingDiverged

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-12, atol=1e-12)}
dtypes = st.sampled_from(["float32", "float64"])


def close(a, b, dtype):
    assert a.dtype == np.dtype(dtype) and b.dtype == np.dtype(dtype)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, **TOL[dtype])


@st.composite
def conv_case(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cg = draw(st.integers(1, 3))
    fg = draw(st.integers(1, 3))
    fh, fw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    hp = draw(st.integers((fh - 1) * dh + 1, (fh - 1) * dh + 6))
    wp = draw(st.integers((fw - 1) * dw + 1, (fw - 1) * dw + 6))
    n = draw(st.integers(1, 3))
    return dict(n=n, hp=hp, wp=wp, c=cg * groups, f=fg * groups, fh=fh, fw=fw, cg=cg,
                stride=(sh, sw), dilation=(dh, dw), groups=groups, dtype=draw(dtypes),
                seed=draw(st.integers(0, 2**16)))


@given(conv_case())
def test_convolution_forward_and_backward(k):
    rng = np.random.default_rng(k["seed"])
    xp = rng.standard_normal((k["n"], k["hp"], k["wp"], k["c"])).astype(k["dtype"])
    w = rng.standard_normal((k["fh"], k["fw"], k["cg"], k["f"])).astype(k["dtype"])
    b = rng.standard_normal(k["f"]).astype(k["dtype"])
    args = (k["stride"], k["dilation"], k["groups"])
    y_ref = reference.conv2d_forward(xp, w, b, *args)
    workspace = {}
    close(fast.conv2d_forward(xp, w, b, *args, workspace=workspace), y_ref, k["dtype"])
    dy = rng.standard_normal(y_ref.shape).astype(k["dtype"])
    expected = reference.conv2d_backward(xp, w, dy, *args)
    # with and without the column matrices the forward pass left behind
    for ws in (workspace, None):
        for got, want in zip(fast.conv2d_backward(xp, w, dy, *args, workspace=ws), expected):
            close(got, want, k["dtype"])
    dxp, dw, db = fast.conv2d_backward(xp, w, dy, *args, input_gradient=False)
    assert dxp is None
    close(dw, expected[1], k["dtype"])


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), dtypes, st.integers(0, 2**16))
def test_transposed_convolution(n, h, w_, c, f, fh, fw, sh, sw, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w_, c)).astype(dtype)
    w = rng.standard_normal((fh, fw, f, c)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    y_ref = reference.conv2d_transpose_forward(x, w, b, (sh, sw))
    close(fast.conv2d_transpose_forward(x, w, b, (sh, sw)), y_ref, dtype)
    dy = rng.standard_normal(y_ref.shape).astype(dtype)
    for got, want in zip(fast.conv2d_transpose_backward(x, w, dy, (sh, sw)),
                         reference.conv2d_transpose_backward(x, w, dy, (sh, sw))):
        close(got, want, dtype)


@given(st.integers(1, 3), st.integers(1, 7), st.integers(1, 7), st.integers(1, 4),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), dtypes,
       st.booleans(), st.integers(0, 2**16))
def test_pooling(n, h, w, c, ph, pw, sh, sw, dtype, ties, seed):
    assume(ph <= h and pw <= w)
    rng = np.random.default_rng(seed)
    xp = rng.standard_normal((n, h, w, c)).astype(dtype)
    if ties:      # integer values make equal maxima: the first one in the window must win
        xp = np.round(xp).astype(dtype)
    y_ref, arg_ref = reference.maxpool2d_forward(xp, (ph, pw), (sh, sw))
    y, arg = fast.maxpool2d_forward(xp, (ph, pw), (sh, sw))
    close(y, y_ref, dtype)
    np.testing.assert_array_equal(arg, arg_ref)
    dy = rng.standard_normal(y.shape).astype(dtype)
    close(fast.maxpool2d_backward(dy, arg, xp.shape),
          reference.maxpool2d_backward(dy, arg_ref, xp.shape), dtype)
    close(fast.avgpool2d_forward(xp, (ph, pw), (sh, sw)),
          reference.avgpool2d_forward(xp, (ph, pw), (sh, sw)), dtype)
    close(fast.avgpool2d_backward(dy, xp.shape, (ph, pw), (sh, sw)),
          reference.avgpool2d_backward(dy, xp.shape, (ph, pw), (sh, sw)), dtype)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), dtypes, st.booleans(),
       st.integers(0, 2**16))
def test_batch_norm(n, hw, c, dtype, training, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, hw, hw + 1, c)).astype(dtype)
    gamma, beta = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    mean, var = rng.standard_normal(c), rng.random(c) + 0.1
    (y, xhat), (y_r, xhat_r) = (k.batchnorm_forward(x, gamma, beta, mean, var, 1e-5)
                                for k in (fast, reference))
    close(y, y_r, dtype)
    close(xhat, xhat_r, dtype)
    for got, want in zip(fast.batch_moments(x), reference.batch_moments(x)):
        close(got, want, dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    for got, want in zip(fast.batchnorm_backward(dy, xhat_r, gamma, var, 1e-5, training),
                         reference.batchnorm_backward(dy, xhat_r, gamma, var, 1e-5, training)):
        close(got, want, dtype)


@given(st.integers(1, 200), dtypes, st.integers(0, 2**16))
def test_relu_including_zero(size, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(size) * 2).astype(dtype).reshape(1, 1, size, 1)
    dy = rng.standard_normal(x.shape).astype(dtype)
    close(fast.relu_forward(x), reference.relu_forward(x), dtype)
    close(fast.relu_backward(x, dy), reference.relu_backward(x, dy), dtype)


def test_every_reference_kernel_has_a_fast_twin():
    names = {n for n in dir(reference) if n.endswith(("_forward", "_backward", "_moments"))}
    assert names and names <= set(dir(fast))


@pytest.mark.parametrize("bad, message", [
    (dict(xp=(1, 2, 2, 1), w=(3, 3, 1, 1)), "spans 3"),           # filter larger than input
    (dict(xp=(1, 5, 5, 3), w=(3, 3, 2, 4), groups=2), "groups"),   # 3 channels, groups 2
    (dict(xp=(5, 5, 1), w=(3, 3, 1, 1)), "dimensions"),            # a rank-3 input
])
def test_impossible_convolutions_raise_before_any_kernel_runs(bad, message):
    xp = np.zeros(bad["xp"], np.float32)
    w = np.zeros(bad["w"], np.float32)
    with pytest.raises(ValueError, match=message):
        fast.conv2d_forward(xp, w, np.zeros(w.shape[-1], np.float32),
                            groups=bad.get("groups", 1))


def test_pool_window_larger_than_input_and_corrupt_argmax_are_refused():
    with pytest.raises(ValueError, match="larger than the padded input"):
        fast.maxpool2d_forward(np.zeros((1, 2, 2, 1)), (3, 3), (1, 1))
    with pytest.raises(ValueError, match="outside"):
        fast.maxpool2d_backward(np.ones((1, 1, 1, 1)), np.full((1, 1, 1, 1), 99), (1, 2, 2, 1))


@pytest.mark.parametrize("layers", [lenet5, reference_example], ids=["lenet5", "reference"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_whole_networks_agree(layers, dtype):
    rng = np.random.default_rng(3)
    x = rng.random((5, 28, 28, 1))
    labels = rng.integers(0, 10, 5)
    nets = {b: cl.Network(layers(), seed=1, dtype=dtype, backend=b)
            for b in ("reference", "fast")}
    for net in nets.values():
        net.fit_normalization(x)
    y = {b: net.forward(x) for b, net in nets.items()}
    close(y["fast"], y["reference"], dtype)
    (lf, gf), (lr, gr) = (nets[b].loss_and_gradients(x, labels) for b in ("fast", "reference"))
    assert lf == pytest.approx(lr, rel=1e-5)
    for name in gr:
        for p in gr[name]:
            close(gf[name][p], gr[name][p], dtype)
    dy = rng.standard_normal(y["fast"].shape)
    close(nets["fast"].backward(dy), nets["reference"].backward(dy), dtype)


def test_kernel_threads_caps_blas_and_restores_it():
    before = blas_threads()
    with kernel_threads():
        assert all(t == 1 for t in blas_threads())
        with kernel_threads():              # re-entrant: the inner exit keeps the cap
            pass
        assert all(t == 1 for t in blas_threads())
    assert blas_threads() == before


# ---- NaN and inf keep their meaning (issue 11, item 1) ------------------------------------------

def test_relu_and_max_pooling_propagate_nan_as_numpy_does():
    x = np.array([0.0, np.nan, 2.0], np.float32).reshape(1, 1, 3, 1)
    np.testing.assert_array_equal(fast.relu_forward(x).ravel(), [0, np.nan, 2])
    win = np.array([1.0, np.nan, 0.5, 0.2], np.float32).reshape(1, 2, 2, 1)
    y, arg = fast.maxpool2d_forward(win, (2, 2), (2, 2))
    assert np.isnan(y).all() and arg.ravel().tolist() == [1]       # the NaN's own cell
    # two NaNs: the first one wins, as np.argmax picks it
    win2 = np.array([np.nan, 3.0, np.nan, 0.2], np.float32).reshape(1, 2, 2, 1)
    assert fast.maxpool2d_forward(win2, (2, 2), (2, 2))[1].ravel().tolist() == [0]
    # +inf is an ordinary maximum, -inf loses to everything
    win3 = np.array([-np.inf, 1.0, np.inf, 0.0], np.float64).reshape(1, 2, 2, 1)
    assert fast.maxpool2d_forward(win3, (2, 2), (2, 2))[0].ravel().tolist() == [np.inf]


def _with_specials(rng, a, fraction=0.2):
    """a with about ``fraction`` of its entries replaced by NaN, +inf or -inf."""
    a = a.copy()
    hit = rng.random(a.shape) < fraction
    a[hit] = rng.choice(np.array([np.nan, np.inf, -np.inf]), size=hit.sum())
    return a


def same(a, b):
    """Equal dtype and shape; equal values with NaN exactly where the reference has NaN."""
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isinf(a) & (a > 0), np.isinf(b) & (b > 0))
    np.testing.assert_array_equal(np.isinf(a) & (a < 0), np.isinf(b) & (b < 0))
    tol = TOL[a.dtype.name]
    np.testing.assert_allclose(a, b, rtol=tol["rtol"], atol=tol["atol"])


@given(st.integers(1, 2), st.integers(2, 6), st.integers(1, 3), st.integers(1, 3),
       st.sampled_from([0.05, 0.3, 1.0]), dtypes, st.integers(0, 2**16))
def test_nan_and_inf_inputs_give_the_reference_outputs(n, h, c, k, fraction, dtype, seed):
    rng = np.random.default_rng(seed)
    x = _with_specials(rng, rng.standard_normal((n, h, h + 1, c)).astype(dtype), fraction)
    dy = _with_specials(rng, rng.standard_normal(x.shape).astype(dtype), fraction / 2)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for name in ("relu_forward", "tanh_forward", "sigmoid_forward"):
            same(getattr(fast, name)(x), getattr(reference, name)(x))
        same(fast.relu_backward(x, dy), reference.relu_backward(x, dy))
        pool = (min(k, h), min(k, h + 1))
        (y, arg), (y_r, arg_r) = (m.maxpool2d_forward(x, pool, (1, 1)) for m in (fast, reference))
        same(y, y_r)
        np.testing.assert_array_equal(arg, arg_r)
        same(fast.avgpool2d_forward(x, pool, (1, 1)), reference.avgpool2d_forward(x, pool, (1, 1)))
        g = rng.standard_normal(y.shape).astype(dtype)
        same(fast.maxpool2d_backward(g, arg, x.shape), reference.maxpool2d_backward(g, arg_r, x.shape))
        gamma, beta = np.ones(c, dtype), np.zeros(c, dtype)
        for got, want in zip(fast.batch_moments(x), reference.batch_moments(x)):
            same(got, want)
        mean, var = rng.standard_normal(c), rng.random(c) + 0.1
        (yb, xh), (yb_r, xh_r) = (m.batchnorm_forward(x, gamma, beta, mean, var, 1e-5)
                                  for m in (fast, reference))
        same(yb, yb_r)
        for got, want in zip(fast.batchnorm_backward(dy, xh_r, gamma, var, 1e-5, True),
                             reference.batchnorm_backward(dy, xh_r, gamma, var, 1e-5, True)):
            same(got, want)
        w = rng.standard_normal((k, k, c, 2)).astype(dtype)
        b = rng.standard_normal(2).astype(dtype)
        if k <= h:
            yc = fast.conv2d_forward(x, w, b)
            same(yc, reference.conv2d_forward(x, w, b))
            gc = rng.standard_normal(yc.shape).astype(dtype)
            for got, want in zip(fast.conv2d_backward(x, w, gc), reference.conv2d_backward(x, w, gc)):
                same(got, want)


def test_nan_weights_stop_training_with_nan_loss_on_the_fast_backend():
    rng = np.random.default_rng(0)
    x = rng.random((16, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 16)
    for backend in ("fast", "reference"):
        net = cl.Network(lenet5(), seed=0, backend=backend)
        net["conv_1"].params["weights"][0, 0, 0, 0] = np.nan    # one poisoned weight
        opts = cl.TrainingOptions(max_epochs=3, mini_batch_size=8, verbose=False)
        with pytest.warns(TrainingDiverged):
            _, info = cl.train_network(x, labels, net, opts)
        assert info.stopped_reason == "nan-loss", backend
        assert info.iteration == 1


# ---- output dtypes are the definition's, also for mixed arguments (issue 11, item 8) -----------

@pytest.mark.parametrize("x_dtype, p_dtype", [("float32", "float64"), ("float64", "float32")])
def test_every_kernel_returns_the_reference_dtypes_for_mixed_arguments(x_dtype, p_dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 6, 2)).astype(x_dtype)
    w = rng.standard_normal((3, 2, 2, 4)).astype(p_dtype)
    b = rng.standard_normal(4).astype(p_dtype)
    wt = rng.standard_normal((2, 2, 3, 2)).astype(p_dtype)
    bt = rng.standard_normal(3).astype(p_dtype)
    gamma, beta = np.ones(2, p_dtype), np.zeros(2, p_dtype)
    mean, var = np.zeros(2, p_dtype), np.ones(2, p_dtype)

    def run(k):
        y = k.conv2d_forward(x, w, b)
        out = [y, *k.conv2d_backward(x, w, y), *k.conv2d_backward(x, w, y.astype(p_dtype))]
        yt = k.conv2d_transpose_forward(x, wt, bt, (2, 1))
        out += [yt, *k.conv2d_transpose_backward(x, wt, yt, (2, 1)),
                *k.conv2d_transpose_backward(x, wt, yt.astype(p_dtype), (2, 1))]
        yb, xh = k.batchnorm_forward(x, gamma, beta, mean, var, 1e-5)
        out += [yb, xh, *k.batchnorm_backward(x, xh, gamma, var, 1e-5, True),
                *k.batchnorm_backward(x, xh, gamma, var, 1e-5, False)]
        yp, arg = k.maxpool2d_forward(x, (2, 2), (2, 2))
        out += [yp, k.maxpool2d_backward(yp, arg, x.shape), k.avgpool2d_forward(x, (2, 2), (1, 1)),
                k.avgpool2d_backward(yp, x.shape, (2, 2), (2, 2)), *k.batch_moments(x)]
        out += [k.relu_forward(x), k.relu_backward(x, x.astype(p_dtype))]
        return out

    got, want = run(fast), run(reference)
    assert [a.dtype for a in got] == [a.dtype for a in want]
    assert got[0].dtype == np.dtype(x_dtype)              # forward: the input's dtype
    for a, b_ in zip(got, want):
        np.testing.assert_allclose(a, b_, rtol=1e-5, atol=1e-5)


LAYER_CASES = [
    lambda: cl.Convolution2D(3, 4, padding=1), lambda: cl.Convolution2D(2, 4, groups=2),
    lambda: cl.TransposedConvolution2D(2, 3, stride=2), lambda: cl.BatchNormalization(),
    lambda: cl.MaxPooling2D(2), lambda: cl.AveragePooling2D(2), lambda: cl.ReLU(),
    lambda: cl.CrossChannelNormalization(3), lambda: cl.FullyConnected(5),
]


@pytest.mark.parametrize("make", LAYER_CASES)
@pytest.mark.parametrize("net_dtype, x_dtype", [("float32", "float64"), ("float64", "float32")])
def test_every_layer_gives_the_same_dtypes_on_both_backends(make, net_dtype, x_dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 6, 4)).astype(x_dtype)
    results = {}
    for backend in ("reference", "fast"):
        layer = make()
        layer.build((6, 6, 4), rng=np.random.default_rng(0), dtype=net_dtype,
                    kernels=get_backend(backend))
        y = layer.forward(x, training=True)
        dx = layer.backward(y)
        results[backend] = [y, dx, *(layer.grads[k] for k in sorted(layer.grads))]
    assert ([a.dtype for a in results["fast"]] == [a.dtype for a in results["reference"]])
    for a, b in zip(results["fast"], results["reference"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
