"""ForwardStepper: walking LeNet-5 and the reference network forward and backward by clicks."""
import html
import re

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.datasets import make_digits
from cnnlab.models import lenet5, reference_example
from cnnlab.widgets import ForwardStepper
from tests.viz.stepnets import agrees, expected_flat

LENET = ["imageinput", "conv_1", "relu_1", "maxpool_1", "conv_2", "relu_2", "maxpool_2",
         "fc_1", "relu_3", "fc_2", "relu_4", "fc_3", "softmax", "classoutput"]
REFERENCE = ["imageinput", "conv_1", "batchnorm_1", "relu_1", "maxpool_1", "conv_2",
             "batchnorm_2", "relu_2", "fc_1", "softmax", "classoutput"]
IMAGES, LABELS = make_digits(2, seed=0)


@pytest.fixture(scope="module")
def lenet():
    return cl.Network(lenet5(normalization="none"), seed=0)


@pytest.fixture(scope="module")
def reference():
    net = cl.Network(reference_example(), seed=0)
    net.fit_normalization(IMAGES / 255.0)
    return net


def picture(w) -> bytes:
    return bytes(w.image.value)


def caption_text(w) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", w.caption.value))


def check_value_written(w):
    """The number the stepper writes for this step is the one the network recorded there."""
    rec, k = w.record, w.position
    if w.direction == "forward":
        flat = expected_flat(rec, k)
        recorded = float(np.asarray(rec.output).reshape(-1)[flat])
    else:
        recorded = float(np.asarray(rec.input_gradient).reshape(-1)[w.current_step.flat_index])
    value_text = w.figure.value_text.get_text()
    assert agrees(value_text.split("\n")[-1], recorded), (w.layer_name, k, value_text,
                                                          recorded)


@pytest.mark.parametrize("which,names", [("lenet", LENET), ("reference", REFERENCE)])
def test_step_over_layer_clicks_walk_the_whole_pass_forward_then_backward(which, names,
                                                                           request):
    net = request.getfixturevalue(which)
    w = ForwardStepper(net, IMAGES[0] / 255.0, labels=int(LABELS[0]))
    seen, pictures = [w.layer_name], {picture(w)}
    check_value_written(w)
    for _ in range(len(names) - 1):
        w.over_button.click()
        seen.append(w.layer_name)
        pictures.add(picture(w))
        assert w.position == 0 and w.strip.value.count("border:3px") == 1
        assert f">{w.layer_name}<" in w.strip.value
        check_value_written(w)
    assert seen == names
    assert len(pictures) == len(names), "each layer draws its own picture"
    w.over_button.click()                       # at the last layer: to its last step
    assert (w.layer_name, w.position) == (names[-1], w.num_steps - 1)
    # backward: from the loss back to the input
    w.direction_buttons.value = "backward"
    assert w.direction == "backward" and w.layer_name == names[-1] and w.position == 0
    back = [w.layer_name]
    for _ in range(len(names) - 1):
        w.over_button.click()
        back.append(w.layer_name)
        check_value_written(w)
    assert back == names[::-1]


def test_step_and_back_buttons_cross_layer_boundaries(lenet):
    w = ForwardStepper(lenet, IMAGES[1] / 255.0)
    assert w.trace.labels is not None and int(w.trace.labels[0]) == w.trace.label, \
        "without labels the loss is that of the predicted class"
    before = picture(w)
    w.step_button.click()
    assert (w.layer_name, w.position) == ("imageinput", 1) and picture(w) != before
    check_value_written(w)
    w.go_to("imageinput", 783)
    w.step_button.click()
    assert (w.layer_name, w.position) == ("conv_1", 0)
    check_value_written(w)
    w.back_button.click()
    assert (w.layer_name, w.position) == ("imageinput", 783)
    w.run_to.value = "fc_1"
    assert (w.layer_name, w.position) == ("fc_1", 0)
    for k in range(1, 4):
        old = picture(w)
        w.step()
        assert w.position == k and picture(w) != old
        check_value_written(w)
        # the caption writes the step out, with the same value
        assert w.current_step.text() in caption_text(w)
    w.back()
    assert w.position == 2
    w.go_to("classoutput", 9)
    w.step()                                     # the end: stays, says so
    assert (w.layer_name, w.position) == ("classoutput", 9)
    assert "end of the forward pass" in w.message.text


def test_play_steps_and_the_pass_slider_jumps(lenet):
    w = ForwardStepper(lenet, IMAGES[0] / 255.0)
    w.go_to("fc_3", 0)
    for tick in range(1, 4):                      # what the Play widget does each interval
        w.play.value = w.play.value + 1
    assert (w.layer_name, w.position) == ("fc_3", 3)
    # the slider counts every step of the walk: 784 input steps, then conv_1's 4704
    w.slider.value = 784 + 4704 + 5
    assert (w.layer_name, w.position) == ("relu_1", 5)
    assert w.pass_index == 784 + 4704 + 5


def test_errors_name_what_is_wrong(lenet):
    w = ForwardStepper(lenet, IMAGES[0] / 255.0)
    with pytest.raises(ValueError, match="no layer 'conv_9'.*imageinput, conv_1"):
        w.run_to_layer("conv_9")
    with pytest.raises(ValueError, match="step 5000 of conv_1 is out of range 0..4703"):
        w.go_to("conv_1", 5000)
    with pytest.raises(Exception, match="must be \"forward\" or \"backward\""):
        w.direction = "sideways"
    regression = cl.Network([cl.ImageInput((3, 3, 1), normalization="none"),
                             cl.FullyConnected(2), cl.Regression()], seed=0)
    r = ForwardStepper(regression, np.ones((3, 3, 1)))
    assert r.direction_buttons.disabled
    with pytest.raises(Exception, match="no backward steps.*labels"):
        r.direction = "backward"
    r2 = ForwardStepper(regression, np.ones((3, 3, 1)), labels=[[0.5, -1.0]])
    r2.direction = "backward"
    assert r2.layer_name == "regressionoutput"
    check_value_written(r2)
