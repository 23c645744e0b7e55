"""The augmented-samples picture: originals beside the augmenter's variants, titled with the
transform that made each, and errors for what it cannot draw."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.viz import augmented_samples


def _images(n=3, size=9):
    x = np.zeros((n, size, size, 1))
    x[:, 2:7, 4, 0] = 1.0                                 # a vertical bar
    return x


def _panels(fig):
    return [ax for ax in fig.axes if ax.images]


def test_rows_are_originals_then_the_variants_of_a_fixed_rotation():
    x = _images()
    aug = cl.ImageDataAugmenter(rotation=(90, 90))
    fig = augmented_samples(aug, x, num_variants=2, seed=0)
    axes = _panels(fig)
    assert len(axes) == 3 * 3                                     # 3 images × (1 + 2)
    for r in range(3):
        np.testing.assert_array_equal(axes[3 * r].images[0].get_array(), x[r, :, :, 0])
        assert axes[3 * r].get_title() == "original"
        for k in (1, 2):
            # a 90° turn lays the vertical bar down: row 4, columns 2..6
            expected = np.rot90(x[r, :, :, 0])
            np.testing.assert_array_equal(axes[3 * r + k].images[0].get_array(), expected)
            assert axes[3 * r + k].get_title() == "rot +90°"


def test_titles_give_each_variants_own_draw():
    x = _images(2)
    aug = cl.ImageDataAugmenter(x_translation=(-3, 3), x_reflection=True)
    fig = augmented_samples(aug, x, num_variants=4, seed=7)
    p = aug.sample(8, np.random.default_rng(7))                   # the same draws
    titles = [ax.get_title() for ax in _panels(fig) if ax.get_title() != "original"]
    for k, title in enumerate(titles):
        assert f"shift {p['x_translation'][k]:+.1f},+0.0" in title
        assert ("flip ↔" in title) == bool(p["x_reflection"][k])


def test_a_notebook_shows_it_as_png():
    from IPython.core.formatters import DisplayFormatter
    fig = augmented_samples(cl.ImageDataAugmenter(rotation=(-5, 5)), _images(1))
    data, _ = DisplayFormatter().format(fig)
    assert data["image/png"].startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("args, match", [
    (("rotation", _images()), r"aug = 'rotation' is not a cnnlab.ImageDataAugmenter"),
    ((cl.ImageDataAugmenter(), np.zeros((2, 5, 5, 2))), r"C = 1 or 3"),
    ((cl.ImageDataAugmenter(), np.zeros((13, 5, 5))), r"13 images; draw 1 to 12"),
])
def test_errors(args, match):
    with pytest.raises(ValueError, match=match):
        augmented_samples(*args)
    with pytest.raises(ValueError, match="num_variants = 0"):
        augmented_samples(cl.ImageDataAugmenter(), _images(), num_variants=0)
