"""Top-activating patches: the ranking against per-image traces, the crop against the
receptive field worked out by hand for LeNet-5, and the crop is exactly what the neuron
depends on (changing every pixel outside it leaves the activation unchanged)."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab.explain import layer_outputs, top_activating_patches


def test_ranking_matches_traces_of_each_image(trained, digits):
    _xt, _yt, x_val, _yv = digits
    images = x_val[:60]
    found = top_activating_patches(trained, images, "relu_2", 3, k=5)
    # independently: each image's relu_2 output from its own trace
    best = []
    for n, img in enumerate(images):
        a = trained.trace(img)["relu_2"].output[:, :, 3]
        r, c = np.unravel_index(int(np.argmax(a)), a.shape)
        best.append((-float(a[r, c]), n, int(r), int(c)))
    best.sort()
    assert [(p.image_index, p.row, p.col) for p in found] == [b[1:] for b in best[:5]]
    for p, b in zip(found, best):
        assert p.activation == pytest.approx(-b[0], rel=1e-5)
    assert [p.activation for p in found] == sorted((p.activation for p in found),
                                                   reverse=True)


def test_layer_outputs_equal_the_trace(trained, digits):
    _xt, _yt, x_val, _yv = digits
    trained.release()                                    # what other tests' traces kept
    out = layer_outputs(trained, x_val[:7], "maxpool_1", batch_size=3)
    assert out.shape == (7, 14, 14, 6)
    assert trained.held_bytes() == 0                     # no caches left behind
    for n in range(7):
        np.testing.assert_allclose(out[n], trained.trace(x_val[n])["maxpool_1"].output,
                                   rtol=1e-5, atol=1e-6)


def test_the_crop_is_the_hand_computed_receptive_field(trained, digits):
    # relu_2 neuron (r, c) reads pool rows r..r+4 (conv 5×5), which read conv_1 rows
    # 2r..2r+9 (pool 2×2, stride 2), which read image rows 2r-2..2r+11 (conv 5×5, padding 2):
    # 14 rows, clipped to the image 0..27
    _xt, _yt, x_val, _yv = digits
    trained.release()
    found = top_activating_patches(trained, x_val[:100], "relu_2", 5, k=8)
    assert trained.held_bytes() == 0
    for p in found:
        top, bottom = max(0, 2 * p.row - 2), min(28, 2 * p.row + 12)
        left, right = max(0, 2 * p.col - 2), min(28, 2 * p.col + 12)
        assert (p.top, p.bottom, p.left, p.right) == (top, bottom, left, right)
        assert p.field.unclipped == (2 * p.row - 2, 2 * p.col - 2, 2 * p.row + 12,
                                     2 * p.col + 12)
        np.testing.assert_array_equal(p.patch, x_val[p.image_index, top:bottom, left:right])


def test_pixels_outside_the_crop_do_not_change_the_activation(trained, digits):
    _xt, _yt, x_val, _yv = digits
    rng = np.random.default_rng(0)
    for p in top_activating_patches(trained, x_val[:50], "relu_2", 0, k=3):
        image = x_val[p.image_index].copy()
        scrambled = rng.random(image.shape)
        scrambled[p.top:p.bottom, p.left:p.right] = image[p.top:p.bottom, p.left:p.right]
        a = trained.trace(scrambled)["relu_2"].output[p.row, p.col, 0]
        assert a == pytest.approx(p.activation, rel=1e-5, abs=1e-6)
        # and the field is not too big: a pixel on its border does matter
        inside = image.copy()
        inside[p.top:p.bottom, p.left:p.right] = rng.random(
            (p.bottom - p.top, p.right - p.left, 1))
        assert trained.trace(inside)["conv_2"].output[p.row, p.col, 0] != pytest.approx(
            trained.trace(image)["conv_2"].output[p.row, p.col, 0], rel=1e-3)


@pytest.mark.parametrize("args, message", [
    (("conv_9", 0, 3), "layer = 'conv_9' is not a layer of this network"),
    (("classoutput", 0, 3), "is the output layer"),
    (("relu_1", 6, 3), r"filter = 6 is not a channel of relu_1 \(it has 6: 0\.\.5\)"),
    (("relu_1", True, 3), "filter = True"),
    (("relu_1", 0, 0), "k = 0 must be between 1 and the number of images"),
    (("relu_1", 0, 11), r"k = 11 must be between 1 and the number of images \(10\)"),
])
def test_bad_arguments_are_refused(args, message, trained, digits):
    _xt, _yt, x_val, _yv = digits
    with pytest.raises(ValueError, match=message):
        top_activating_patches(trained, x_val[:10], *args)
