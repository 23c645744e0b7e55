"""Feature-map views read the trace's recorded outputs into their artists."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.viz.canvas import limits
from cnnlab.viz.network_view import LayerMapsView, network_view, shape_text


@pytest.fixture(scope="module")
def trace():
    net = cl.Network([cl.ImageInput((10, 10, 1), normalization="none"),
                      cl.Convolution2D(3, 20, padding=1), cl.ReLU(),
                      cl.MaxPooling2D(2, stride=2), cl.FullyConnected(5), cl.Softmax(),
                      cl.Classification()], seed=3)
    x = np.random.default_rng(0).random((2, 10, 10, 1))
    return net.trace(x, image=1)


def test_shape_text():
    assert shape_text((28, 28, 6)) == "28×28×6"


def test_layer_maps_show_the_recorded_channels_and_outline_the_neuron(trace):
    view = LayerMapsView(max_maps=16)
    rec = trace["conv_1"]
    view.show(rec, neuron=(3, 7, 5))
    assert view.channels == list(range(16))
    for ch, im in zip(view.channels, view.images):
        np.testing.assert_array_equal(im.get_array(), rec.output[:, :, ch])
        assert im.get_clim() == limits(rec.output)
    assert view.highlight.get_visible() and view.highlight.axes is view.axes[5]
    assert view.highlight.get_xy() == (6.5, 2.5)              # (col - 0.5, row - 0.5)
    assert view.title.get_text().startswith("conv_1 (Convolution): output 10×10×20")
    # a neuron on channel 18 brings the second page into view
    view.show(rec, neuron=(0, 0, 18))
    assert view.channels == [16, 17, 18, 19]
    assert [ax.get_visible() for ax in view.axes] == [True] * 4 + [False] * 12
    assert view.highlight.axes is view.axes[2]
    before = view.png()
    view.show(trace["maxpool_1"], start=4)
    assert view.channels[0] == 4 and not view.highlight.get_visible()
    np.testing.assert_array_equal(view.images[0].get_array(), trace["maxpool_1"].output[:, :, 4])
    assert view.png() != before


def test_a_1x1xK_output_is_one_strip_with_its_numbers(trace):
    view = LayerMapsView()
    rec = trace["fc_1"]
    view.show(rec, neuron=(0, 0, 3))
    assert view.strip_ax.get_visible() and not any(ax.get_visible() for ax in view.axes)
    np.testing.assert_array_equal(view.strip_image.get_array(), rec.output.reshape(1, 5))
    shown = [t.get_text() for t in view.strip_texts if t.get_visible()]
    assert shown == [f"{j}\n{rec.output[0, 0, j]:.3g}" for j in range(5)]
    assert view.highlight.get_xy() == (2.5, -0.5)


def test_network_view_has_a_row_per_layer_with_shapes(trace):
    fig = network_view(trace, max_channels=4)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    for rec in trace:
        assert f"{rec.name}\n{rec.type_name}\n{shape_text(rec.output.shape)}" in texts
    assert "input\n10×10×1" in texts
    assert "+16" in texts                                  # 20 channels, 4 drawn
    images = [ax.images[0] for ax in fig.axes if ax.images]
    np.testing.assert_array_equal(images[0].get_array(), trace.image[:, :, 0])
    conv = [im for im in images if im.get_array().shape == (10, 10)]
    np.testing.assert_array_equal(conv[2].get_array(), trace["conv_1"].output[:, :, 0])


def test_network_view_of_a_graph_names_the_branches_and_joins():
    import cnnlab as cl
    g = cl.LayerGraph([cl.ImageInput((6, 6, 1), normalization="none"),
                       cl.Convolution2D(3, 2, padding=1), cl.ReLU(), cl.Addition(2, name="add"),
                       cl.DepthConcatenation(2, name="cat")])
    g.add_layers([cl.Convolution2D(1, 2, name="skip")])
    g.connect("imageinput", "skip").connect("skip", "add/in2").connect("skip", "cat/in2")
    net = cl.Network(g, backend="reference")
    trace = net.trace(np.zeros((6, 6, 1)))
    texts = [t.get_text() for ax in network_view(trace).axes for t in ax.texts]
    assert "skip\nConvolution\n6×6×2\n← imageinput" in texts
    assert "add\nAddition\n6×6×2\n= relu_1 + skip" in texts
    assert "cat\nDepth concatenation\n6×6×4\n= [add | skip]" in texts
    assert "conv_1\nConvolution\n6×6×2" in texts            # reads the row above: no note
