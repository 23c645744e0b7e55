"""The teaching im2col: the matrix against a loop written from the definition, the fast
(Numba) gather equal to the NumPy one, and cols · W + b equal to the Convolution2D layer."""
from __future__ import annotations

import doctest

import numpy as np
import pytest

import cnnlab as cl
import cnnlab.kernels.columns as columns
from cnnlab.kernels.columns import im2col

CASES = [  # (H, W, C, filter, stride, dilation, padding)
    (5, 5, 1, 3, 1, 1, 0),
    (7, 6, 3, (3, 2), (2, 1), 1, 1),
    (9, 9, 2, 3, 2, 2, (1, 2, 0, 3)),
    (6, 8, 4, 1, 1, 1, 0),
]


def by_definition(x, fh, fw, sh, sw, dh, dw, pads):
    """One row per output position, (u, v, c) order, built one number at a time."""
    t, b, l, r = pads
    n, h, w, c = x.shape
    xp = np.zeros((n, h + t + b, w + l + r, c))
    xp[:, t:t + h, l:l + w] = x
    oh = (h + t + b - (fh - 1) * dh - 1) // sh + 1
    ow = (w + l + r - (fw - 1) * dw - 1) // sw + 1
    rows = []
    for m in range(n):
        for i in range(oh):
            for j in range(ow):
                rows.append([xp[m, i * sh + u * dh, j * sw + v * dw, ch]
                             for u in range(fh) for v in range(fw) for ch in range(c)])
    return np.array(rows), (oh, ow)


def _four(p):
    if isinstance(p, int):
        return (p,) * 4
    return tuple(p)


@pytest.mark.parametrize("backend", ["reference", "fast"])
@pytest.mark.parametrize("case", CASES)
def test_matrix_is_the_definition_and_the_product_is_the_layer(case, backend):
    h, w, c, k, s, d, p = case
    fh, fw = (k, k) if isinstance(k, int) else k
    sh, sw = (s, s) if isinstance(s, int) else s
    x = np.random.default_rng(0).normal(size=(2, h, w, c))
    cols = im2col(x, k, stride=s, dilation=d, padding=p, backend=backend)
    expected, (oh, ow) = by_definition(x, fh, fw, sh, sw, d, d, _four(p))
    np.testing.assert_array_equal(cols, expected)
    # one matrix product is the whole layer
    conv = cl.Convolution2D(k, 5, stride=s, dilation=d, padding=p)
    net = cl.Network([cl.ImageInput((h, w, c), normalization="none"), conv], dtype="float64",
                     backend=backend)
    wts, bias = net.layers[1].params["weights"], net.layers[1].params["bias"]
    y = (cols @ wts.reshape(-1, 5) + bias.reshape(-1)).reshape(2, oh, ow, 5)
    np.testing.assert_allclose(y, net.predict(x), rtol=1e-12, atol=1e-12)


def test_fast_and_reference_gather_the_same_float32_matrix():
    x = np.random.default_rng(1).random((3, 8, 8, 2)).astype(np.float32)
    a = im2col(x, 3, stride=2, padding=1, backend="fast")
    b = im2col(x, 3, stride=2, padding=1, backend="reference")
    assert a.dtype == b.dtype == np.float32 and a.shape == (3 * 4 * 4, 18)
    np.testing.assert_array_equal(a, b)


def test_one_image_and_padding_modes():
    x = np.arange(9.0).reshape(3, 3, 1)
    cols = im2col(x, 3, padding=1, padding_value="replicate", backend="reference")
    assert cols.shape == (9, 9)
    # output (0, 0): the window of rows -1..1, columns -1..1 with the edge replicated
    np.testing.assert_array_equal(cols[0], [0, 0, 1, 0, 0, 1, 3, 3, 4])
    np.testing.assert_array_equal(im2col(x.astype(int), 2, backend="reference"),
                                  im2col(x, 2, backend="reference"))


def test_doctest():
    failed, attempted = doctest.testmod(columns)
    assert attempted >= 2 and failed == 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(x=np.zeros((4, 4)), filter_size=2), r"x has shape \(4, 4\)"),
    (dict(x=np.zeros((1, 4, 4, 1)), filter_size=0), "filter_size = 0"),
    (dict(x=np.zeros((1, 4, 4, 1)), filter_size=2, stride=(1, 0)), r"stride = \(1, 0\)"),
    (dict(x=np.zeros((1, 4, 4, 1)), filter_size=2, padding=-1), "padding = -1"),
    (dict(x=np.zeros((1, 4, 4, 1)), filter_size=2, padding=(1, 2, 3)), r"padding = \(1, 2, 3\)"),
    (dict(x=np.zeros((1, 4, 4, 1)), filter_size=3, dilation=2),
     r"the 5x5 \(dilated\) filter does not fit in the padded 4x4 input"),
    (dict(x=np.zeros((1, 4, 4, 1)), filter_size=2, padding_value="mirror"), "padding_value"),
    (dict(x=np.array([[["a"]]]), filter_size=1), "expected real numbers"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        im2col(**kwargs)
