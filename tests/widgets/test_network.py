"""NetworkExplorer: controls pick image, layer and neuron; the numbers shown are the trace's."""
import importlib.util

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.widgets.network import NetworkExplorer


@pytest.fixture(scope="module")
def net():
    return cl.Network([cl.ImageInput((12, 12, 1), normalization="none"),
                       cl.Convolution2D(3, 4, padding=1), cl.ReLU(),
                       cl.MaxPooling2D(2, stride=2), cl.Convolution2D(3, 3),
                       cl.FullyConnected(3), cl.Softmax(), cl.Classification()], seed=1)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 12, 12, 1))


def png(img):
    return bytes(img.value)


def shown_value(ex):
    return float(ex.readout.value.split("= <b>")[1].split("</b>")[0])


def test_default_constructs_on_lenet_and_digits():
    ex = NetworkExplorer()
    assert ex.controls["layer"].value == "conv_1"
    assert len(ex.images) == 8 and ex.controls["image"].max == 7
    assert png(ex.maps_image)[:4] == b"\x89PNG" and png(ex.field_image)[:4] == b"\x89PNG"
    assert "prediction for this image: class" in ex.readout.value


def test_neuron_controls_show_the_traced_value_and_its_field(net, images):
    ex = NetworkExplorer(net, images)
    trace = net.trace(images, image=0)
    maps, field = png(ex.maps_image), png(ex.field_image)
    ex.controls["row"].value = 11
    ex.controls["col"].value = 5
    ex.controls["channel"].value = 3
    assert shown_value(ex) == pytest.approx(float(trace["conv_1"].output[11, 5, 3]), rel=1e-5)
    assert png(ex.maps_image) != maps and png(ex.field_image) != field
    # conv 3x3 padding 1 at row 11, col 5: input rows 10..12 (12 is padding), cols 4..6
    assert ex.field_view.titles[0].get_text().endswith("rows 10..11, cols 4..6")
    assert ex.field_view.box_unclipped.get_visible()


def test_layer_change_fits_the_sliders_and_redraws(net, images):
    ex = NetworkExplorer(net, images, layer="conv_1")
    ex.controls["row"].value = 11
    ex.controls["channel"].value = 3
    before = png(ex.maps_image)
    ex.controls["layer"].value = "conv_2"                  # 6x6x4 -> 4x4x3
    assert (ex.controls["row"].max, ex.controls["col"].max, ex.controls["channel"].max) == (3, 3, 2)
    assert ex.neuron == (3, 0, 2)
    assert png(ex.maps_image) != before
    rec = ex.trace["conv_2"]
    assert shown_value(ex) == pytest.approx(float(rec.output[3, 0, 2]), rel=1e-5)
    np.testing.assert_array_equal(ex.maps.images[0].get_array(), rec.output[:, :, 0])
    ex.controls["layer"].value = "fc_1"                    # 1x1x3: row/col fixed
    assert ex.controls["row"].disabled and ex.controls["col"].disabled
    assert ex.open_button.disabled
    assert ex.field_view.titles[0].get_text().endswith("rows 0..11, cols 0..11")  # everything


def test_every_control_to_its_extremes(net, images):
    ex = NetworkExplorer(net, images)
    for name in ex.controls["layer"].options:
        ex.controls["layer"].value = name
        for key in ("row", "col", "channel", "start", "image"):
            slider = ex.controls[key]
            for value in (slider.max, slider.min):
                slider.value = value
                row, col, ch = ex.neuron
                rec = ex.trace[name]
                assert shown_value(ex) == pytest.approx(float(rec.output[row, col, ch]),
                                                        rel=1e-5, abs=1e-6)
        assert ex.note.value == ""


def test_image_slider_retraces_that_image(net, images):
    ex = NetworkExplorer(net, images)
    ex.controls["image"].value = 2
    np.testing.assert_allclose(ex.trace.image, images[2], rtol=1e-6)
    expected = net.trace(images, image=2)["conv_1"].output[0, 0, 0]
    assert shown_value(ex) == pytest.approx(float(expected), rel=1e-5)
    one = NetworkExplorer(net, images[0])                 # a single image: no image choice
    assert one.controls["image"].disabled


def test_open_in_convolution_explorer(net, images):
    ex = NetworkExplorer(net, images)
    ex.controls["row"].value, ex.controls["col"].value, ex.controls["channel"].value = 4, 6, 2
    ex.open_button.click()
    if importlib.util.find_spec("cnnlab.widgets.convolution") is None:
        assert "not available" in ex.note.value
        return
    conv = ex.convolution
    assert conv is not None and ex.convolution_area.children[1] is conv
    assert "row 4, column 6, filter 2" in ex.convolution_area.children[0].value
    assert conv.record is ex.trace["conv_1"]
    assert conv.filter_picker.value == 2
    assert conv.navigator.slider.value == 4 * 12 + 6          # scan order, 12 columns
    # the step shown is the neuron's: its value is the one the readout shows
    step = conv.record.step(4, 6, filter=2)
    assert step.value == pytest.approx(shown_value(ex), rel=1e-5)
    assert png(conv.image)[:4] == b"\x89PNG"


def test_needs_an_image_with_a_network(net):
    with pytest.raises(ValueError, match="give an image"):
        NetworkExplorer(net)
