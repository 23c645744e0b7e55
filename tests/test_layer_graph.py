"""LayerGraph: editing (connect, disconnect, add_layers, remove_layers) in MATLAB's naming, and
every graph that is not a network refused at build with a message that says why."""
import re

import numpy as np
import pytest

import cnnlab as cl


def residual_layers(size=(6, 6, 2)):
    """input -> conv_1 -> relu_1 -> conv_2 -> add_1/in1 -> relu_2 -> fc_1 -> softmax -> out;
    conv_2 keeps 2 channels, so relu_1 can reach add_1/in2 ... once the graph connects it."""
    return [cl.ImageInput(size, normalization="none"), cl.Convolution2D(3, 2, padding=1),
            cl.ReLU(), cl.Convolution2D(3, 2, padding=1), cl.Addition(2), cl.ReLU(),
            cl.FullyConnected(3), cl.Softmax(), cl.Classification()]


def residual_graph(size=(6, 6, 2)):
    g = cl.LayerGraph(residual_layers(size))
    return g.connect("relu_1", "add_1/in2")


def test_a_list_is_connected_in_order_with_matlab_names():
    layers = residual_layers()
    g = cl.LayerGraph(layers)
    assert all(layer.name == "" for layer in layers)        # the list is left untouched
    assert g.names == ["imageinput", "conv_1", "relu_1", "conv_2", "add_1", "relu_2", "fc_1",
                       "softmax", "classoutput"]
    assert g.connections[:4] == [("imageinput", "conv_1/in"), ("conv_1", "relu_1/in"),
                                 ("relu_1", "conv_2/in"), ("conv_2", "add_1/in1")]
    assert len(g.connections) == 8
    g.connect("relu_1/out", "add_1/in2")
    assert g.connections[-1] == ("relu_1", "add_1/in2")
    assert "relu_1       add_1/in2" in repr(g)


def test_disconnect_add_and_remove_layers():
    g = residual_graph()
    g.disconnect("conv_2", "add_1/in1")
    assert ("conv_2", "add_1/in1") not in g.connections
    g.add_layers([cl.BatchNormalization(name="bn_x"), cl.ReLU(name="relu_x")])
    assert ("bn_x", "relu_x/in") in g.connections           # added layers are chained
    assert not any(d.startswith("bn_x") for _, d in g.connections)   # ... but not attached
    g.connect("conv_2", "bn_x").connect("relu_x", "add_1/in1")
    net = cl.Network(g, dtype="float64")
    assert net.sources("add_1") == ["relu_x", "relu_1"]
    assert net.names.index("relu_x") < net.names.index("add_1")
    g.remove_layers(["bn_x", "relu_x"])
    assert "bn_x" not in g.names and not any("relu_x" in s + d for s, d in g.connections)


@pytest.mark.parametrize("call, message", [
    (lambda g: g.connect("relu_1", "add_1"), "has inputs in1, in2: name one, e.g. 'add_1/in2'"),
    (lambda g: g.connect("relu_1", "add_1/in3"), "has inputs in1, in2, not 'in3'"),
    (lambda g: g.connect("relu_1", "add_1/in1"), "input 'add_1/in1' is already connected "
                                                 "to 'conv_2'"),
    (lambda g: g.connect("nope", "add_1/in2"), "no layer named 'nope'"),
    (lambda g: g.connect("relu_1/out2", "add_1/in2"), "a layer has one output, 'out'"),
    (lambda g: g.connect("relu_1", "imageinput"), "has no inputs"),
    (lambda g: g.connect("relu_1", "relu_1"), "is already connected"),
    (lambda g: g.disconnect("relu_1", "add_1/in2"), "there is no connection from 'relu_1' to "
                                                    "'add_1/in2'"),
])
def test_editing_errors_name_the_layer_and_input(call, message):
    g = cl.LayerGraph(residual_layers())
    with pytest.raises((ValueError, KeyError), match=re.escape(message)):
        call(g)


def test_a_layer_cannot_feed_itself():
    g = cl.LayerGraph([cl.ImageInput((4, 4, 1)), cl.Addition(2, name="add")])
    with pytest.raises(ValueError, match="connects a layer to itself"):
        g.connect("add", "add/in2")


def test_repeated_and_slashed_names_refused():
    with pytest.raises(ValueError, match="LayerGraph: layer names must be unique; repeated: a"):
        cl.LayerGraph([cl.ReLU(name="a"), cl.ReLU(name="a")])
    with pytest.raises(ValueError, match="cannot contain '/'"):
        cl.LayerGraph([cl.ReLU(name="a/b")])


def test_a_chain_graph_is_the_chain():
    """A LayerGraph with no branch builds the very network the list builds."""
    a = cl.Network(residual_layers()[:4] + [cl.FullyConnected(3)], seed=4)
    b = cl.Network(cl.LayerGraph(residual_layers()[:4] + [cl.FullyConnected(3)]), seed=4)
    assert not b.is_graph and b.names == a.names and repr(a) == repr(b)
    for (la, ka, va), (lb, kb, vb) in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(va, vb)


def test_a_chain_refuses_a_layer_with_two_inputs():
    with pytest.raises(ValueError, match=r"Addition layer 'add_1' has 2 inputs; a chain gives "
                                         r"it one\. Build a cnnlab\.LayerGraph"):
        cl.Network(residual_layers())


# ---- invalid graphs: each refused at build, with the reason -----------------------------------

def _mismatched_addition():
    # conv_2 has stride 2: 3x3x2 reaches add_1/in1, relu_1's 6x6x2 reaches in2
    layers = residual_layers()
    layers[3] = cl.Convolution2D(3, 2, padding=1, stride=2)
    return cl.LayerGraph(layers).connect("relu_1", "add_1/in2")


def _concatenation_of_different_sizes():
    layers = [cl.ImageInput((6, 6, 2)), cl.Convolution2D(3, 4), cl.DepthConcatenation(2),
              cl.FullyConnected(2)]
    return cl.LayerGraph(layers).connect("imageinput", "depthcat_1/in2")


def _dangling_input():
    return cl.LayerGraph(residual_layers())              # add_1/in2 never connected


def _cycle():
    g = cl.LayerGraph(residual_layers())
    return g.connect("relu_2", "add_1/in2")              # add_1 -> relu_2 -> add_1


def _dead_branch():
    g = residual_graph()
    g.add_layers([cl.Convolution2D(1, 2, name="side_conv"), cl.ReLU(name="side_relu")])
    return g.connect("relu_1", "side_conv")              # side_relu feeds nothing


def _two_inputs():
    g = residual_graph()
    return g.add_layers([cl.ReLU(name="lonely")])


def _loss_layer_inside():
    g = residual_graph()
    g.add_layers([cl.ReLU(name="after")])
    return g.connect("classoutput", "after")


def _classification_without_softmax():
    g = cl.LayerGraph([cl.ImageInput((4, 4, 1)), cl.FullyConnected(2), cl.Softmax(),
                       cl.ReLU(name="r"), cl.Classification()])
    return g


@pytest.mark.parametrize("make, message", [
    (_mismatched_addition, "Addition layer 'add_1': inputs must all have the same size H×W×C "
                           "to be added element by element; in1 (from 'conv_2') is 3x3x2, in2 "
                           "(from 'relu_1') is 6x6x2"),
    (_concatenation_of_different_sizes, "DepthConcatenation layer 'depthcat_1': inputs must "
                                        "have the same height and width to be stacked along "
                                        "the channels; in1 (from 'conv_1') is 4x4x4, in2 (from "
                                        "'imageinput') is 6x6x2"),
    (_dangling_input, "input 'add_1/in2' is not connected (Addition layer 'add_1' has inputs "
                      "in1, in2)"),
    (_cycle, "the connections make a cycle: add_1 -> relu_2 -> add_1"),
    (_dead_branch, "the output of side_conv, side_relu has no path to the network output"),
    (_two_inputs, "a network has one input, but these layers have nothing connected to their "
                  "input: imageinput, lonely"),
    (_loss_layer_inside, "ClassificationOutput"),
    (_classification_without_softmax, "must directly follow a Softmax layer (it reads class "
                                      "probabilities); it follows 'r'"),
])
def test_invalid_graphs_are_refused_with_their_reason(make, message):
    graph = make()
    with pytest.raises(ValueError) as e:
        cl.Network(graph)
    if message == "ClassificationOutput":       # class name depends on the output layer
        assert "feeds after; an output (loss) layer must end the network" in str(e.value)
    else:
        assert message in str(e.value)


def test_network_layer_graph_round_trip():
    net = cl.Network(residual_graph(), seed=3)
    again = cl.Network(net.layer_graph(), seed=3)
    assert again.connections == net.connections and again.names == net.names
    assert net.connections[4] == ("relu_1", "add_1/in2")


def test_the_layer_graph_display_lists_layers_in_order_and_the_connections():
    text = repr(cl.Network(residual_graph()))
    lines = text.splitlines()
    assert lines[0] == "  9x1 Layer graph with layers:"
    assert "'add_1'         Addition                Element-wise addition of 2 inputs" in text
    assert "  9 connections:" in lines
    table = lines[lines.index("  9 connections:") + 1:]
    assert table[0].split() == ["Source", "Destination"]
    assert [row.split() for row in table[4:6]] == [["conv_2", "add_1/in1"],
                                                    ["relu_1", "add_1/in2"]]
