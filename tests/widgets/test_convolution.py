"""ConvolutionExplorer without a kernel: controls drive the picture, errors are explained."""
import pytest

import cnnlab as cl
from cnnlab.widgets.convolution import ConvolutionExplorer


def png(w):
    return bytes(w.image.value)


@pytest.fixture(scope="module")
def lenet():
    from cnnlab.datasets import make_digits
    from cnnlab.models import reference_example
    images, _ = make_digits(2, seed=0)
    net = cl.Network(reference_example(), seed=0, backend="reference")
    net.fit_normalization(images / 255)
    return net, images[1] / 255


def test_default_example_steps_and_shows_the_trace_sum():
    w = ConvolutionExplorer()
    # 5×5, 3×3, padding 1, stride 2: 3×3 positions
    assert w.record.output_shape == (3, 3, 2) and w.navigator.slider.max == 8
    before = png(w)
    w.navigator.slider.value = 4
    assert png(w) != before
    step = w.record.step(1, 1, 0)
    assert step.text(max_terms=12).split(": ", 1)[1] in " ".join(w.caption.value.split("\n"))
    assert f"= {step.output:g}" in w.caption.value
    w.navigator.forward.click()
    assert w.navigator.slider.value == 5 and w.figure.index == 5
    w.navigator.back.click()
    w.navigator.back.click()
    assert w.navigator.slider.value == 3
    w.navigator.play.value = 7                      # Play is linked to the slider
    assert w.navigator.slider.value == 7 and w.figure.step.row == 2 and w.figure.step.col == 1
    w.filter_picker.value = 1
    assert w.figure.filter == 1 and w.figure.step.filter == 1


def test_every_control_to_its_extremes_rebuilds():
    w = ConvolutionExplorer()
    c = w.controls
    c["padding"].value = "0"
    c["stride"].value = 1
    c["input"].value = c["input"].max                  # 28×28, filter 3: 26×26
    assert w.record.output_shape[:2] == (26, 26) and not w.message.text
    c["filter"].value = c["filter"].max                # 7: 22×22
    assert w.record.output_shape[:2] == (22, 22)
    c["dilation"].value = c["dilation"].max            # 4: spans (7-1)·4+1 = 25 → 4×4
    assert w.record.output_shape[:2] == (4, 4)
    c["stride"].value = c["stride"].max                # 5: floor((28-25)/5)+1 = 1
    assert w.record.output_shape[:2] == (1, 1)
    c["padding"].value = "same"                        # ceil(28/5) = 6
    assert w.record.output_shape[:2] == (6, 6)
    c["channels"].value = c["channels"].max
    c["filters"].value = c["filters"].max
    assert w.record.input_shape[2] == 4 and w.record.output_shape[2] == 4
    assert w.filter_picker.options == (0, 1, 2, 3)
    for mode in ("replicate", "symmetric-include-edge", "symmetric-exclude-edge"):
        c["padding_value"].value = mode
        assert w.record.padding_value == mode and not w.message.text
    c["padding_value"].value = "a number"
    c["number"].value = -2.5
    assert w.record.padding_value == -2.5
    assert (w.record.padded_input[w.record.padding_mask] == -2.5).all()
    for k in ("input", "filter", "stride", "dilation", "channels", "filters"):
        c[k].value = c[k].min
    c["padding"].value = "0"
    assert w.record.output_shape == (1, 1, 1) and not w.message.text
    c["seed"].value = 7
    assert not w.message.text


def test_invalid_settings_explain_and_keep_the_widget_usable():
    w = ConvolutionExplorer()
    good = png(w)
    w.controls["padding"].value = "0"                  # valid: 5x5, 3x3, stride 2 -> 2x2
    last_valid, record = png(w), w.record
    assert record.output_shape == (2, 2, 2) and last_valid != good
    w.controls["filter"].value = 7                     # 7 > 5: larger than the padded input
    assert "larger than the padded input" in w.message.text
    assert "Not possible" in w.message.value
    # the last valid record and picture stay, byte for byte
    assert w.record is record and w.record.output_shape == (2, 2, 2)
    assert png(w) == last_valid
    w.navigator.slider.value = 2                       # still steps the last valid record
    assert w.figure.index == 2
    w.controls["filter"].value = 2
    assert not w.message.text and w.record.output_shape[:2] == (2, 2)
    w.controls["input"].value = 6
    w.controls["filter"].value = 3
    w.controls["dilation"].value = 4                   # spans (3 - 1)·4 + 1 = 9 > 6
    assert "larger than the padded input" in w.message.text and "dilation" in w.message.text
    w.controls["padding"].value = "2"                  # 6 + 2 + 2 = 10 ≥ 9: possible again,
    assert not w.message.text and w.record.output_shape[:2] == (1, 1)   # floor(1/2) + 1
    assert png(w) != good


def test_real_layer_of_a_real_network(lenet):
    net, image = lenet
    w = ConvolutionExplorer(net["conv_2"], image)
    assert w.control_box.layout.display == "none"
    assert all(c.disabled for c in w.controls.values())
    w.go_to(5, 6, filter=3)
    step = net.trace(image)["conv_2"].step(5, 6, 3)
    assert w.figure.step.row == 5 and w.figure.step.col == 6 and w.figure.filter == 3
    assert w.figure.step.value == pytest.approx(step.value)
    assert w.navigator.slider.value == 5 * w.record.output_shape[1] + 6
    with pytest.raises(ValueError, match="outside"):
        w.go_to(99, 0)
    rec = net.trace(image)["conv_1"]
    w2 = ConvolutionExplorer(rec)
    assert w2.record is rec
    with pytest.raises(ValueError, match="not a convolution"):
        ConvolutionExplorer(net.trace(image)["relu_1"])
    with pytest.raises(ValueError, match="give the image"):
        ConvolutionExplorer(net["conv_1"])


def test_a_transposed_record_is_shown_as_the_convolution_of_its_upsampled_input():
    from cnnlab.examples import transposed_example, traced
    rec = traced(*transposed_example(2, 3, stride=2))
    w = ConvolutionExplorer(rec)
    assert type(w.figure).__name__ == "TransposedStepFigure"
    assert w.navigator.slider.max == 24                      # (2 - 1)·2 + 3 = 5: 5×5 outputs
    w.go_to(4, 4)
    assert w.figure.step.value == pytest.approx(rec.output[4, 4, 0])


def test_the_state_is_traits_linked_to_the_controls():
    import ipywidgets
    import traitlets
    w = ConvolutionExplorer()
    before = png(w)
    w.position = 4                                   # as the slider would
    assert w.navigator.slider.value == 4 and w.figure.index == 4 and png(w) != before
    w.navigator.slider.value = 2                     # and the other way
    assert w.position == 2
    w.filter = 1
    assert w.filter_picker.value == 1 and w.figure.filter == 1 and w.figure.step.filter == 1
    w.stride = 1                                     # a setting: 5×5, 3×3, padding 1 → 5×5
    assert w.controls["stride"].value == 1 and w.record.output_shape == (5, 5, 2)
    w.padding = "same"
    w.padding_value = "replicate"
    assert w.controls["padding"].value == "same" and w.record.padding_value == "replicate"
    w.controls["filters"].value = 3
    assert w.num_filters == 3 and w.record.output_shape[2] == 3
    with pytest.raises(traitlets.TraitError, match="position = 25 is out of range 0..24"):
        w.position = 25
    with pytest.raises(traitlets.TraitError, match="filter = 3 is out of range 0..2"):
        w.filter = 3
    assert w.position == 2 and w.filter == 1          # unchanged by the refused values
    # two explorers stepped together by one link
    other = ConvolutionExplorer()
    other.stride = 1
    other.padding = "same"
    ipywidgets.link((w, "position"), (other, "position"))
    w.position = 7
    assert other.position == 7 and other.figure.index == 7
    assert other.figure.step.row == 1 and other.figure.step.col == 2     # 7 = 1·5 + 2


def test_changing_only_the_input_size_keeps_the_example():
    w = ConvolutionExplorer()
    x5, w5 = w.record.input[:, :, 0].copy(), w.record.weights.copy()
    w.controls["input"].value = 7                        # a user drags the input slider
    x7 = w.record.input[:, :, 0]
    assert x7.shape == (7, 7)
    assert (x7[:5, :5] == x5).all()                      # the 5×5 numbers stay in place
    assert (w.record.weights == w5).all()                # and the filter is the same
    w.controls["input"].value = 5
    assert (w.record.input[:, :, 0] == x5).all()
    w.controls["seed"].value = 3                         # another setting: a new example
    assert not (w.record.weights == w5).all() or not (w.record.input[:, :, 0] == x5).all()
