"""The per-layer fast kernels split over chunks of images give the reference's results.

Real batches of a lesson are large enough for ``chunked.run_chunks`` to cut them into chunks
on the thread pool; the hypothesis tests of ``test_fast.py`` draw batches of 1–3 small images,
which run as one serial call. Here the split is forced (threshold 0, three threads: six chunks)
so every kernel runs on chunk boundaries: a batch of one image (one chunk), batches smaller
than the number of chunks, and odd sizes that leave chunks of unequal length — each compared
with the reference kernels (the definition) on random inputs with NaN and ±inf.
"""
import contextlib

import numpy as np
import pytest

from cnnlab.kernels import fast, reference
from cnnlab.kernels.fast import chunked
from cnnlab.kernels.fast.pool_threads import chunk_bounds

TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-12, atol=1e-12)}
BATCHES = [1, 2, 5, 7]


@contextlib.contextmanager
def forced_chunks(threads=3):
    """Every run_chunks call splits its batch over ``threads`` threads, however small."""
    saved = chunked.PARALLEL_MIN_WORK, chunked.chunk_threads
    chunked.PARALLEL_MIN_WORK, chunked.chunk_threads = 0, lambda: threads
    try:
        yield
    finally:
        chunked.PARALLEL_MIN_WORK, chunked.chunk_threads = saved


def specials(rng, a, fraction):
    """a with about ``fraction`` of its entries replaced by NaN, +inf or -inf."""
    a = a.copy()
    hit = rng.random(a.shape) < fraction
    a[hit] = rng.choice(np.array([np.nan, np.inf, -np.inf]), size=hit.sum())
    return a


def same(got, want):
    """The reference's dtype and shape, NaN and ±inf in the same places, values close."""
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    np.testing.assert_allclose(got, want, **TOL[got.dtype.name])


def test_run_chunks_calls_every_index_once_in_chunk_bounds_ranges():
    for n in [0, 1, 2, 5, 6, 7, 13]:
        seen = []
        with forced_chunks():
            chunked.run_chunks(lambda tag, lo, hi: seen.append((tag, lo, hi)), n, n, "t")
        ranges = sorted((lo, hi) for _, lo, hi in seen)
        if n < 2:                       # nothing to split: one direct call
            assert ranges == [(0, n)]
        else:
            assert ranges == list(zip(*chunk_bounds(n, 3)))
        assert all(tag == "t" for tag, _, _ in seen)
        covered = [i for lo, hi in ranges for i in range(lo, hi)]
        assert covered == list(range(n))


def test_small_work_runs_as_one_call():
    calls = []
    chunked.run_chunks(lambda lo, hi: calls.append((lo, hi)), 64, chunked.PARALLEL_MIN_WORK - 1)
    assert calls == [(0, 64)]


CONV_CASES = [  # (C, F, filter, stride, dilation, groups): NHWC runs, C = 1 planes, groups
    (3, 4, (3, 3), (1, 1), (1, 1), 1),
    (1, 3, (3, 2), (2, 1), (1, 1), 1),
    (4, 6, (2, 3), (1, 2), (2, 1), 2),
    (2, 2, (3, 3), (2, 2), (1, 2), 1),
]


@pytest.mark.parametrize("n", BATCHES)
@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chunked_convolution_matches_the_reference(n, case, dtype):
    c, f, (fh, fw), stride, dilation, groups = case
    rng = np.random.default_rng(n * 7 + c)
    xp = specials(rng, rng.standard_normal((n, 7, 8, c)).astype(dtype), 0.03)
    w = rng.standard_normal((fh, fw, c // groups, f)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    args = (stride, dilation, groups)
    with np.errstate(invalid="ignore", over="ignore"):
        y_ref = reference.conv2d_forward(xp, w, b, *args)
        dy = specials(rng, rng.standard_normal(y_ref.shape).astype(dtype), 0.02)
        want = reference.conv2d_backward(xp, w, dy, *args)
        with forced_chunks():
            ws = {}
            same(fast.conv2d_forward(xp, w, b, *args, workspace=ws), y_ref)
            for workspace in (ws, None):     # the forward pass's columns, or gathered again
                for got, exp in zip(fast.conv2d_backward(xp, w, dy, *args, workspace=workspace),
                                    want):
                    same(got, exp)


@pytest.mark.parametrize("n", BATCHES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chunked_transposed_convolution_matches_the_reference(n, dtype):
    rng = np.random.default_rng(n)
    x = specials(rng, rng.standard_normal((n, 3, 4, 3)).astype(dtype), 0.03)
    w = rng.standard_normal((3, 2, 2, 3)).astype(dtype)
    b = rng.standard_normal(2).astype(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        y_ref = reference.conv2d_transpose_forward(x, w, b, (2, 1))
        dy = specials(rng, rng.standard_normal(y_ref.shape).astype(dtype), 0.02)
        want = reference.conv2d_transpose_backward(x, w, dy, (2, 1))
        with forced_chunks():
            same(fast.conv2d_transpose_forward(x, w, b, (2, 1)), y_ref)
            for got, exp in zip(fast.conv2d_transpose_backward(x, w, dy, (2, 1)), want):
                same(got, exp)


@pytest.mark.parametrize("n", BATCHES)
@pytest.mark.parametrize("fraction", [0.0, 0.1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chunked_pooling_norm_and_relu_match_the_reference(n, fraction, dtype):
    rng = np.random.default_rng(n + 100)
    x = specials(rng, np.round(rng.standard_normal((n, 7, 6, 3)) * 2).astype(dtype), fraction)
    dy = specials(rng, rng.standard_normal(x.shape).astype(dtype), fraction / 2)
    with np.errstate(invalid="ignore", over="ignore"), forced_chunks():
        for pool, stride in [((2, 2), (2, 2)), ((3, 2), (1, 2))]:
            (y, arg), (y_r, arg_r) = (k.maxpool2d_forward(x, pool, stride)
                                      for k in (fast, reference))
            same(y, y_r)
            np.testing.assert_array_equal(arg, arg_r)      # integer ties: the first one wins
            g = rng.standard_normal(y.shape).astype(dtype)
            same(fast.maxpool2d_backward(g, arg, x.shape),
                 reference.maxpool2d_backward(g, arg_r, x.shape))
            same(fast.avgpool2d_forward(x, pool, stride),
                 reference.avgpool2d_forward(x, pool, stride))
            same(fast.avgpool2d_backward(g, x.shape, pool, stride),
                 reference.avgpool2d_backward(g, x.shape, pool, stride))
        same(fast.relu_forward(x), reference.relu_forward(x))
        same(fast.relu_backward(x, dy), reference.relu_backward(x, dy))
        gamma, beta = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
        mean, var = rng.standard_normal(3), rng.random(3) + 0.1
        (yb, xh), (yb_r, xh_r) = (k.batchnorm_forward(x, gamma, beta, mean, var, 1e-5)
                                  for k in (fast, reference))
        same(yb, yb_r)
        same(xh, xh_r)
        for training in (True, False):
            for got, exp in zip(fast.batchnorm_backward(dy, xh_r, gamma, var, 1e-5, training),
                                reference.batchnorm_backward(dy, xh_r, gamma, var, 1e-5,
                                                             training)):
                same(got, exp)


@pytest.mark.parametrize("n", BATCHES)
def test_chunked_im2col_and_col2im_are_the_window_copy_and_its_transpose(n):
    """Against the definition written out: cols[(n·OH + i)·OW + j, (u·FW + v)·Cg + c] is
    xp[n, i·sh + u·dh, j·sw + v·dw, c0 + c], and col2im adds each entry back there."""
    from cnnlab.kernels.fast.im2col import col2im, im2col, im2col_single_channel
    rng = np.random.default_rng(n)
    xp = specials(rng, rng.standard_normal((n, 9, 8, 5)), 0.05)
    for (fh, fw, sh, sw, dh, dw, c0, cg) in [(3, 3, 1, 1, 1, 1, 0, 5), (2, 3, 2, 1, 1, 2, 1, 3),
                                             (3, 2, 1, 2, 2, 1, 2, 2)]:
        oh, ow = (9 - (fh - 1) * dh - 1) // sh + 1, (8 - (fw - 1) * dw - 1) // sw + 1
        want = np.empty((n * oh * ow, fh * fw * cg))
        back = np.zeros_like(xp)
        coeff = rng.standard_normal(want.shape)
        for m in range(n):
            for i in range(oh):
                for j in range(ow):
                    for u in range(fh):
                        for v in range(fw):
                            for c in range(cg):
                                r, k = (m * oh + i) * ow + j, (u * fw + v) * cg + c
                                want[r, k] = xp[m, i * sh + u * dh, j * sw + v * dw, c0 + c]
                                back[m, i * sh + u * dh, j * sw + v * dw, c0 + c] += coeff[r, k]
        with forced_chunks():
            np.testing.assert_array_equal(im2col(xp, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg),
                                          want)
            for c in range(cg):
                np.testing.assert_array_equal(
                    im2col_single_channel(xp, fh, fw, sh, sw, dh, dw, oh, ow, c0 + c),
                    want[:, c::cg].T)
            out = np.zeros_like(xp)
            col2im(coeff, out, fh, fw, sh, sw, dh, dw, oh, ow, c0, cg)
            np.testing.assert_allclose(out, back, rtol=1e-12, atol=1e-12)


def test_im2col_refuses_windows_outside_the_input_before_any_loop_runs():
    from cnnlab.kernels.fast.im2col import col2im, im2col
    xp = np.zeros((2, 5, 5, 3))
    with pytest.raises(ValueError, match="outside the 5x5 input"):
        im2col(xp, 3, 3, 1, 1, 1, 1, 4, 3, 0, 3)          # 4 rows of 3x3 windows need 6
    with pytest.raises(ValueError, match="channels 2..3 of a 3-channel input"):
        im2col(xp, 3, 3, 1, 1, 1, 1, 3, 3, 2, 2)
    with pytest.raises(ValueError, match="C-contiguous"):
        im2col(xp[:, ::2], 1, 1, 1, 1, 1, 1, 3, 5, 0, 3)
    with pytest.raises(ValueError, match="columns have shape"):
        col2im(np.zeros((17, 27)), xp, 3, 3, 1, 1, 1, 1, 3, 3, 0, 3)


def test_chunks_on_helper_threads_keep_the_callers_floating_point_error_state():
    """np.errstate is per thread: a chunk must not warn where the caller silenced NaN."""
    x = np.full((4, 3, 3, 2), np.inf)
    w = np.ones((1, 1, 2, 2))
    w[0, 0, 1] = -1                            # inf·1 + inf·(-1): an invalid product
    b = np.zeros(2)
    with forced_chunks(), np.errstate(invalid="ignore"):
        assert np.isnan(fast.conv2d_forward(x, w, b)).all()
    with forced_chunks(), np.errstate(invalid="raise"), pytest.raises(FloatingPointError):
        fast.conv2d_forward(x, w, b)


def test_every_chunk_sees_the_callers_error_state_on_whichever_thread_runs_it():
    import threading
    import time
    seen = []

    def kernel(lo, hi):
        time.sleep(0.01)                       # long enough for the helpers to take chunks
        seen.append((threading.get_ident(), np.geterr()["invalid"], np.geterr()["over"]))

    with forced_chunks(), np.errstate(invalid="ignore", over="raise"):
        chunked.run_chunks(kernel, 6, 6)
    assert len(seen) == 6
    assert len({ident for ident, _, _ in seen}) > 1            # helpers ran some chunks
    assert all((inv, over) == ("ignore", "raise") for _, inv, over in seen)


@pytest.mark.parametrize("module", ["im2col", "conv", "pool", "norm", "elementwise"])
def test_per_layer_kernels_are_serial_nogil_loops(module):
    """No OpenMP region (parallel=True stalls on a busy machine) and no GIL held, so chunks
    really run side by side on the pool."""
    import importlib

    from numba.core.registry import CPUDispatcher
    mod = importlib.import_module(f"cnnlab.kernels.fast.{module}")
    kernels = [obj for obj in vars(mod).values()
               if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == mod.__name__]
    assert kernels
    for k in kernels:
        assert not k.targetoptions.get("parallel"), k.py_func.__name__
        assert k.targetoptions.get("nogil"), k.py_func.__name__
