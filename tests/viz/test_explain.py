"""The explanation pictures draw what the results hold: the maps with their own ranges, the
verdicts in the titles, clipped receptive fields at full size."""
from __future__ import annotations

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.explain import fgsm, occlusion_map, saliency, top_activating_patches
from cnnlab.viz.explain import (adversarial_figure, occlusion_figure, patches_figure,
                                saliency_figure)
from cnnlab.viz.network_view import png_bytes


@pytest.fixture(scope="module")
def net():
    rng = np.random.default_rng(0)
    return cl.Network([cl.ImageInput((8, 8, 1), normalization="none"),
                       cl.Convolution2D(3, 2, padding=1), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
                       cl.FullyConnected(3), cl.Softmax(), cl.Classification()], seed=1,
                      backend="reference"), rng.random((5, 8, 8, 1))


def _images(fig):
    return [im for ax in fig.axes for im in ax.get_images()]


def test_saliency_figure_draws_one_row_per_image_with_the_map(net):
    network, x = net
    results = [saliency(network, x[i], i % 3) for i in range(2)]
    fig = saliency_figure(results)
    maps = [im for im in _images(fig) if im.get_cmap().name == "magma"]
    assert len(maps) == 4                    # the map and its overlay, per row
    np.testing.assert_array_equal(maps[0].get_array(), results[0].map)
    assert maps[0].get_clim() == (0.0, pytest.approx(results[0].map.max()))
    titles = [ax.get_title() for ax in fig.axes]
    assert f"class 0 (predicted {results[0].predicted}, p = " \
           f"{results[0].probabilities[0]:.2f})" in titles
    assert png_bytes(fig)[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="no saliency results"):
        saliency_figure([])


def test_occlusion_figure_shows_the_largest_drop_and_outlines_its_patch(net):
    network, x = net
    o = occlusion_map(network, x[0], 1, patch=3, stride=1, fill=0)
    fig = occlusion_figure(o)
    i, j = np.unravel_index(int(np.argmax(o.drop)), o.drop.shape)
    drawn = _images(fig)
    np.testing.assert_allclose(np.asarray(drawn[1].get_array()), o.pixel_map())
    lo, hi = drawn[1].get_clim()
    assert lo == pytest.approx(-hi)          # centred on 0: white is "no effect"
    np.testing.assert_allclose(drawn[2].get_array(), o.occluded(i, j)[:, :, 0])
    [outline] = [patch for ax in fig.axes for patch in ax.patches]
    assert outline.get_xy() == (o.lefts[j] - 0.5, o.tops[i] - 0.5)
    assert f"p = {o.probability[i, j]:.3f}" in " ".join(ax.get_title() for ax in fig.axes)


def test_patches_figure_draws_clipped_fields_at_their_full_size(net):
    network, x = net
    found = top_activating_patches(network, x, "relu_1", 0, k=5)
    fig = patches_figure(found, title="relu_1 filter 0", columns=3)
    assert len(fig.axes) == 5 and fig._suptitle.get_text() == "relu_1 filter 0"
    for ax, p in zip(fig.axes, found):
        h, w = p.field.size
        assert ax.get_xlim() == (-0.5, w - 0.5) and ax.get_ylim() == (h - 0.5, -0.5)
        [im] = ax.get_images()
        np.testing.assert_array_equal(im.get_array(), p.patch[:, :, 0])
        assert ax.get_title().startswith(f"#{p.image_index} ({p.row},{p.col})")
    with pytest.raises(ValueError, match="no patches"):
        patches_figure([])


def test_adversarial_figure_titles_say_both_verdicts(net):
    network, x = net
    a = fgsm(network, x[0], 2, 0.2)
    fig = adversarial_figure(a)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith(f"true {a.label}, predicted {a.original_label} (p = ")
    assert "ε = 0.2" in " ".join(titles)
    assert titles[-1].startswith(
        f"predicted {a.adversarial_label} (p = ")
    with pytest.raises(ValueError, match="draw one image"):
        adversarial_figure(fgsm(network, x[:2], [0, 1], 0.1))
