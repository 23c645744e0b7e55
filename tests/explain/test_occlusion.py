"""Occlusion maps: every entry is a direct prediction of an image occluded here with NumPy."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab.explain import occlusion_map


def _occlude(image, top, left, ph, pw, value):
    out = image.copy()
    out[top:top + ph, left:left + pw, :] = value
    return out


def test_each_entry_is_the_prediction_of_the_occluded_image(trained, digits):
    _xt, _yt, x_val, y_val = digits
    x, k = x_val[3], int(y_val[3])
    o = occlusion_map(trained, x, k, patch=6, stride=4, fill=0.0)
    # tops 0, 4, ..., 20: the last start with the patch inside 28 rows is 22, not reached
    np.testing.assert_array_equal(o.tops, [0, 4, 8, 12, 16, 20])
    np.testing.assert_array_equal(o.lefts, [0, 4, 8, 12, 16, 20])
    assert o.baseline == pytest.approx(float(trained.predict(x)[0, k]), rel=1e-6)
    for i, t in enumerate(o.tops):
        for j, l in enumerate(o.lefts):
            p = trained.predict(_occlude(x, t, l, 6, 6, 0.0))[0]
            assert o.probability[i, j] == pytest.approx(p[k], rel=1e-5, abs=1e-7)
            assert o.drop[i, j] == pytest.approx(o.baseline - p[k], rel=1e-5, abs=1e-6)
            assert o.predicted[i, j] == int(np.argmax(p))
    np.testing.assert_array_equal(o.occluded(2, 3), _occlude(x, 8, 12, 6, 6, 0.0))
    # covering the strokes of the digit hurts: some position drops p by more than a half
    assert o.drop.max() > 0.5
    # a patch over the background (faint noise, below 0.05) changes almost nothing
    assert x[:6, :6].max() < 0.05 and abs(o.drop[0, 0]) < 1e-3


def test_pixel_map_averages_the_patches_covering_each_pixel(trained, digits):
    _xt, _yt, x_val, y_val = digits
    o = occlusion_map(trained, x_val[0], int(y_val[0]), patch=(6, 4), stride=(4, 8),
                      fill=0.5)
    assert o.patch == (6, 4) and o.stride == (4, 8)
    np.testing.assert_array_equal(o.lefts, [0, 8, 16, 24])
    m = o.pixel_map()
    # pixel (5, 1): rows 0..5 (top 0) and rows 4..9 (top 4) cover row 5; column 1 is in
    # the patch at left 0 only
    assert m[5, 1] == pytest.approx((o.drop[0, 0] + o.drop[1, 0]) / 2)
    assert m[0, 0] == pytest.approx(o.drop[0, 0])
    assert np.isnan(m[:, 4:8]).all()            # columns 4..7 are never covered
    assert np.isnan(m[26:, :]).all()            # the last patch rows are 20..25


def test_fill_mean_and_per_channel_fill(small_pair):
    net, _scores = small_pair
    x = np.random.default_rng(0).random((6, 6, 1))
    o = occlusion_map(net, x, 1, patch=3, stride=3)
    assert o.fill == pytest.approx([x.mean()])
    p = net.predict(_occlude(x, 3, 0, 3, 3, x.mean()))[0, 1]
    assert o.probability[1, 0] == pytest.approx(p, rel=1e-12)
    assert occlusion_map(net, x, 1, patch=3, stride=3, fill=[0.25]).fill == \
        pytest.approx([0.25])


@pytest.mark.parametrize("options, message", [
    (dict(patch=7), "patch = 7x7 does not fit in the 6x6 image"),
    (dict(patch=0), "patch = 0: expected a positive integer"),
    (dict(stride=(1, 2, 3)), r"stride = \(1, 2, 3\)"),
    (dict(fill="grey"), "fill = 'grey'"),
    (dict(fill=[0.1, 0.2]), r"fill = \[0.1, 0.2\]: expected one finite number or 1"),
    (dict(fill=np.nan), "expected one finite number"),
    (dict(batch_size=0), "batch_size = 0"),
])
def test_bad_options_are_refused(options, message, small_pair):
    net, _scores = small_pair
    with pytest.raises(ValueError, match=message):
        occlusion_map(net, np.zeros((6, 6, 1)), 0, **options)


def test_a_network_without_softmax_is_refused(small_pair):
    _net, scores = small_pair
    with pytest.raises(ValueError, match="no Softmax layer"):
        occlusion_map(scores, np.zeros((6, 6, 1)), 0)
    with pytest.raises(ValueError, match="label 5 is not a class"):
        occlusion_map(_net, np.zeros((6, 6, 1)), 5)
