"""The filter-plane workers of a one-channel convolution stage (``stage_planar.py``).

Their 2×2 pooling takes each output row ``BLOCK`` windows at a time and reads past the row's
end, dropping those windows' results: rows narrower than a block, exactly one block, and
longer (a second, partial round), with ties (integer values) and NaN, against the reference
kernels' max pooling of z + b followed by the ReLU (the pooling's winners are those of z + b:
the ReLU is applied to each window's maximum, see ``_planar_pool``). The whole stage on a
wide image is compared with the reference backend in ``test_stages.py``.
"""
import numpy as np
import pytest

from cnnlab.kernels import reference
from cnnlab.kernels.fast.stage_planar import BLOCK, _planar_pool_2x2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("oh, ow", [(2, 2), (5, 7), (4, 2 * BLOCK), (3, 2 * BLOCK + 1),
                                    (6, 70)])
def test_2x2_pooling_on_filter_planes_matches_the_reference(oh, ow, relu, dtype):
    rng = np.random.default_rng(100 * oh + ow)
    n, nf = 2, 3
    z = np.round(rng.standard_normal((n, oh, ow, nf)) * 2).astype(dtype)   # many ties
    z[rng.random(z.shape) < 0.05] = np.nan
    z[0, 0, 0:2, 0] = np.nan                  # first two of a window NaN: the first wins
    b = rng.integers(-2, 3, nf).astype(dtype)
    poh, pow_ = oh // 2, ow // 2
    rows = oh * ow
    y = np.full((n, poh, pow_, nf), 7, dtype)
    arg = np.full((n, poh, pow_, nf), -1, np.int8)
    row_y, row_arg = np.empty(BLOCK, dtype), np.empty(BLOCK, np.int8)
    for i in range(n):
        # the planes zᵀ, then a tail of NaN: values read past the end must not reach y
        zbuf = np.full(nf * rows + 2 * BLOCK, np.nan, dtype)
        zbuf[:nf * rows] = z[i].reshape(rows, nf).T.ravel()
        _planar_pool_2x2(zbuf, rows, b, relu, y, arg, i, ow, poh, pow_, row_y, row_arg)

    want, where = reference.maxpool2d_forward(z + b, (2, 2), (2, 2))
    if relu:
        want = np.maximum(want, 0)            # NaN stays NaN
    # the reference gives the winner's flat index in the map; the stage its place u·2 + v
    r, c = np.divmod(where, ow)
    p = np.arange(poh)[None, :, None, None]
    q = np.arange(pow_)[None, None, :, None]
    np.testing.assert_array_equal(y, want)    # (NaN in the same places)
    np.testing.assert_array_equal(arg, (r - 2 * p) * 2 + (c - 2 * q))
