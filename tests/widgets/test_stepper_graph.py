"""ForwardStepper on a layer graph: resnet_digits() walked forward and backward by clicks, the
Additions stepped with their inputs named; the numbers are the trace's (what the network's
layers recorded), read at the position the documented step order names."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.datasets import make_digits
from cnnlab.models import resnet_digits
from cnnlab.widgets import ForwardStepper
from tests.viz.stepnets import agrees, expected_flat
from tests.widgets.test_stepper import caption_text, check_value_written, picture

IMAGES, LABELS = make_digits(1, seed=3)


@pytest.fixture(scope="module")
def walked():
    net = cl.Network(resnet_digits(), seed=0)
    return net, ForwardStepper(net, IMAGES[0] / 255.0, labels=int(LABELS[0]))


def test_step_over_clicks_walk_resnet_digits_forward_through_every_branch_and_join(walked):
    net, w = walked
    names = [layer.name for layer in net.layers]          # topological order: every branch
    assert [r.name for r in w.walk] == names
    seen, pictures = [w.layer_name], {picture(w)}
    check_value_written(w)
    for _ in range(len(names) - 1):
        w.over_button.click()
        seen.append(w.layer_name)
        pictures.add(picture(w))
        assert w.position == 0
        check_value_written(w)
    assert seen == names
    assert len(pictures) == len(names)
    assert {"layer2_1_proj_conv", "layer2_1_proj_bn", "layer2_1_add"} <= set(seen)


def test_the_graph_picture_follows_the_layer_stepped(walked):
    net, w = walked
    assert w.graph_image in w.children
    w.run_to.value = "layer3_1_proj_bn"
    assert w.graph.highlighted == "layer3_1_proj_bn"
    shown = bytes(w.graph_image.value)
    w.step_button.click()                       # a step inside the layer: same picture
    assert w.graph.highlighted == "layer3_1_proj_bn" and bytes(w.graph_image.value) == shown
    w.over_button.click()
    assert w.graph.highlighted == w.layer_name == "layer3_1_add"
    assert bytes(w.graph_image.value) != shown


def test_step_clicks_at_an_addition_write_each_input_and_the_sum(walked):
    net, w = walked
    w.run_to.value = "layer2_1_add"
    rec = w.record
    sources = net.sources("layer2_1_add")
    assert sources == ["layer2_1_bn2", "layer2_1_proj_bn"]
    for k in range(1, 4):
        w.step_button.click()
        assert (w.layer_name, w.position) == ("layer2_1_add", k)
        check_value_written(w)
        r, c, ch = np.unravel_index(expected_flat(rec, k), rec.output_shape)
        text = caption_text(w)
        # the caption's reads: each input, the layer that fed it, its recorded value there
        for i, source in enumerate(sources):
            fed = float(w.trace[source].output[r, c, ch])
            part = text.split(f"in{i + 1} (from '{source}') = ")[1].split(",")[0].split()[0]
            assert agrees(part, fed), (k, source, part, fed)
        assert w.current_step.text() in text
    w.back_button.click()
    assert w.position == 2


def test_backward_walk_from_the_loss_to_the_input_by_clicks(walked):
    net, w = walked
    w.direction_buttons.value = "backward"
    assert w.direction == "backward" and w.layer_name == "classoutput"
    # every layer, the Additions too (each step: dL/dy passed whole to both inputs)
    expected = [layer.name for layer in reversed(net.layers)]
    back = [w.layer_name]
    check_value_written(w)
    for _ in range(len(expected) - 1):
        w.over_button.click()
        back.append(w.layer_name)
        check_value_written(w)
    assert back == expected
    # relu1 feeds two readers (layer1's block and its identity skip): its incoming gradient
    # is the sum of theirs, which is what the step reads
    w.run_to.value = "relu1"
    rec = w.record
    grads = rec.output_gradient
    summed = w.trace["layer1_1_conv1"].input_gradient + \
        w.trace["layer1_1_add"].input_gradients[1]
    assert np.allclose(grads, summed, rtol=1e-5, atol=1e-7)
    w.step_button.click()
    check_value_written(w)
    # at an Addition the caption names both inputs, each getting the same gradient
    w.run_to.value = "layer2_1_add"
    w.step_button.click()
    check_value_written(w)
    text = caption_text(w)
    assert "back to 'layer2_1_bn2'" in text and "back to 'layer2_1_proj_bn'" in text
    w.direction_buttons.value = "forward"
    assert (w.direction, w.layer_name, w.position) == ("forward", "imageinput", 0)


def test_a_chain_stepper_has_no_graph_picture():
    net = cl.Network([cl.ImageInput((4, 4, 1), normalization="none"), cl.ReLU(),
                      cl.FullyConnected(2), cl.Softmax(), cl.Classification()], seed=0)
    w = ForwardStepper(net, np.zeros((4, 4, 1)))
    assert w.graph is None and w.graph_image is None
    assert w.children[0] is w.strip and w.children[1] is not w.graph_image


def test_the_strip_says_what_each_box_of_the_graph_reads(walked):
    import html
    import re
    net, w = walked
    text = html.unescape(re.sub(r"<[^>]+>", " ", w.strip.value))
    assert "= layer2_1_bn2 + layer2_1_proj_bn" in text
    assert "= layer1_1_bn2 + relu1" in text
    # each projection reads the block's input, not the box before it (the block's bn2)
    assert text.count("← layer1_1_relu") == 1 and text.count("← layer2_1_relu") == 1
    # an arrow only where a box reads the one before it
    joints = re.findall(r"color:#(777|BBB)'>(.)<", w.strip.value)
    # by hand: a bar before the 2 projections and the 3 additions, arrows elsewhere
    assert [c for c, _ in joints].count("BBB") == 5
    assert len(joints) == len(net.layers) - 1
