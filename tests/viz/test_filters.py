"""Filter pictures show the layer's own weights, per filter and input channel."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.viz.filters import filters_figure


@pytest.fixture(scope="module")
def net():
    return cl.Network([cl.ImageInput((9, 9, 4), normalization="none"),
                       cl.Convolution2D(3, 4, dilation=2, groups=2), cl.ReLU()], seed=0)


def panels(fig):
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "colourbar"]


def test_panels_hold_the_weights_and_grouped_channel_titles(net):
    rec = net.trace(np.zeros((9, 9, 4)))["conv_1"]
    fig = filters_figure(rec)
    axes = panels(fig)
    assert len(axes) == 4 * 2                               # 4 filters × C/G = 2 channels
    for k, ax in enumerate(axes):
        f, j = divmod(k, 2)
        np.testing.assert_array_equal(ax.images[0].get_array(), rec.weights[:, :, j, f])
    titles = [ax.get_title() for ax in axes]
    # filters 0, 1 see channels 0, 1; filters 2, 3 see channels 2, 3 (groups = 2)
    assert titles[:2] == ["in ch 0", "in ch 1"] and titles[4:6] == ["in ch 2", "in ch 3"]
    numbers = [t.get_text() for t in axes[0].texts]
    assert numbers == [f"{v:.2f}" for v in rec.weights[:, :, 0, 0].ravel()]


def test_effective_filter_shows_holes_and_the_layer_works_too(net):
    fig = filters_figure(net["conv_1"], effective=True, filters=[3])
    data = panels(fig)[0].images[0].get_array()
    assert data.shape == (5, 5)                             # (3 - 1)·2 + 1
    holes = np.ma.getmaskarray(data)
    expected = np.ones((5, 5), bool)
    expected[::2, ::2] = False
    np.testing.assert_array_equal(holes, expected)
    np.testing.assert_array_equal(data[::2, ::2], net["conv_1"].params["weights"][:, :, 0, 3])
    assert "spans 5×5" in fig.texts[0].get_text()


def test_refusals(net):
    with pytest.raises(ValueError, match="filter index 4 is outside 0..3"):
        filters_figure(net["conv_1"], filters=[4])
    with pytest.raises(ValueError, match="not a convolution"):
        filters_figure(net["relu_1"])


def test_single_channel_filters_are_a_grid_with_readable_numbers_and_a_colour_bar():
    """LeNet's first layer (six 5×5 filters of one channel): 3 × 2 blocks, not one column."""
    from cnnlab.models import lenet5
    net = cl.Network(lenet5(), seed=0)
    fig = filters_figure(net["conv_1"])
    axes = panels(fig)
    assert len(axes) == 6
    lefts = sorted({round(ax.get_position().x0, 3) for ax in axes})
    bottoms = sorted({round(ax.get_position().y0, 3) for ax in axes})
    assert len(lefts) == 3 and len(bottoms) == 2
    # numbers of at least 9 points (12 px at the default 100 dpi) in every cell
    sizes = {t.get_fontsize() for ax in axes for t in ax.texts}
    assert len(axes[0].texts) == 25 and min(sizes) >= 9
    w = net["conv_1"].params["weights"]
    limit = float(np.abs(w).max())
    (bar,) = [ax for ax in fig.axes if ax.get_label() == "colourbar"]
    shown = [t.get_text() for t in bar.get_xticklabels()]
    assert shown == [f"−{limit:.3g}", "0", f"{limit:.3g}"]
    titles = [t.get_text() for t in fig.texts if t.get_text().startswith("filter")]
    assert titles[0] == f"filter 0, bias {net['conv_1'].params['bias'][0]:.3g}"
