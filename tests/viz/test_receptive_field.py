"""The receptive-field picture draws the trace's field and its chain of windows."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.models import lenet5
from cnnlab.viz.receptive_field import ReceptiveFieldView, chain_windows


@pytest.fixture(scope="module")
def trace():
    net = cl.Network(lenet5(normalization="none"), seed=0)
    return net.trace(np.random.default_rng(1).random((28, 28, 1)))


def rect_bounds(rect):
    x, y = rect.get_xy()
    return (y + 0.5, x + 0.5, y + 0.5 + rect.get_height(), x + 0.5 + rect.get_width())


def test_lenet_conv2_neuron_field_by_hand(trace):
    # conv_2[9, 4]: 5x5 unpadded -> rows 9..13 of maxpool_1's output; 2x2 stride-2 pooling ->
    # rows 18..27 of conv_1's output; conv_1 5x5 with padding 2 -> rows 16..29 of the input
    # (28 and 29 are padding). Columns: 4..8 -> 8..17 -> 6..19.
    field = trace.receptive_field("conv_2", 9, 4)
    view = ReceptiveFieldView()
    view.show(trace, field, value=float(trace["conv_2"].output[9, 4, 0]))
    assert rect_bounds(view.box) == (16, 6, 28, 20)
    assert rect_bounds(view.box_unclipped) == (16, 6, 30, 20) and view.box_unclipped.get_visible()
    shade = view.shade.get_array()
    np.testing.assert_array_equal(shade[..., 3] > 0, field.mask)
    assert field.mask[16:28, 6:20].all() and field.mask.sum() == 12 * 14
    chain = chain_windows(field, trace)
    assert [name for name, _ in chain] == ["conv_2", "maxpool_1", "conv_1"]
    assert chain[1][1] == (18, 8, 28, 18)
    visible = [ax for ax in view.axes[1:] if ax.get_visible()]
    assert len(visible) == 3
    assert view.titles[2].get_text() == "maxpool_1 reads rows 18..27,\ncols 8..17 of its input"
    # conv_1's window reaches 2 rows into its padding: the panel grows by 2 grey rows
    assert view.chain_images[2].get_array().shape == (30, 28)
    assert rect_bounds(view.chain_boxes[2]) == (16, 6, 30, 20)
    assert "14×14 of the input" in view.title.get_text()
    # every panel prints its colour range: the input's, and each map's (mean of channels)
    image = trace.image[:, :, 0]
    assert view.ranges[0].get_text() == f"grey: {image.min():.3g} .. {image.max():.3g}"
    m = trace["maxpool_1"].input.mean(axis=-1)               # 6 channels, no padding
    assert view.ranges[2].get_text() == (f"colour: {m.min():.3g} .. {m.max():.3g}\n"
                                         "(mean of 6 channels)")


def test_a_field_inside_the_image_has_no_dashed_box(trace):
    field = trace.receptive_field("conv_1", 10, 10)
    view = ReceptiveFieldView()
    view.show(trace, field)
    assert rect_bounds(view.box) == (8, 8, 13, 13)
    assert not view.box_unclipped.get_visible()
    assert sum(ax.get_visible() for ax in view.axes[1:]) == 1
    first = view.png()
    view.show(trace, trace.receptive_field("conv_1", 0, 0))
    assert view.png() != first


def test_a_field_through_a_transposed_convolution_is_drawn_as_its_small_block():
    net = cl.Network([cl.ImageInput((16, 16, 1), normalization="none"),
                      cl.Convolution2D(3, 2, padding=1),
                      cl.TransposedConvolution2D(2, 1, stride=2)],
                     seed=0)
    tr = net.trace(np.random.default_rng(0).random((16, 16, 1)))
    view = ReceptiveFieldView()
    view.show(tr, tr.receptive_field("transposed-conv_1", 5, 7))
    # rows 1..3, cols 2..4 (see tests/trace/test_receptive.py for the hand computation)
    assert rect_bounds(view.box) == (1, 2, 4, 5) and not view.box_unclipped.get_visible()
    assert "3×3 of the input" in view.title.get_text()
    # a long layer name gets a line of its own (the titles of neighbouring panels overlapped)
    assert view.titles[1].get_text() == ("transposed-conv_1\nreads rows 2..2, cols 3..3\n"
                                         "of its input")


def test_an_empty_field_says_so():
    net = cl.Network([cl.ImageInput((3, 3, 1), normalization="none"),
                      cl.TransposedConvolution2D(1, 1, stride=2)], seed=0)
    tr = net.trace(np.ones((3, 3, 1)))
    view = ReceptiveFieldView()
    view.show(tr, tr.receptive_field("transposed-conv_1", 1, 1))
    assert not view.box.get_visible() and not view.shade.get_array()[..., 3].any()
    assert "no input pixel reaches" in view.title.get_text()
    assert view.titles[1].get_text() == "transposed-conv_1 paints nothing\nat this neuron"
    assert not view.chain_boxes[0].get_visible()
    assert view.png()
