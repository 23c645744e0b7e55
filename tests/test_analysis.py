"""cnnlab.analyze: every row and total of the table against hand computation.

LeNet-5 (as the lessons build it: 28x28x1, conv1 padded by 2, which is LeNet-5's 32x32
input) has the published 61,706 learnable parameters; the multiply-adds below are
OH·OW·FH·FW·C·F per convolution and D·K per fully connected layer.
"""
import pytest

import cnnlab as cl
from cnnlab.models import lenet5


@pytest.fixture(scope="module")
def lenet():
    return cl.analyze(cl.Network(lenet5(), seed=0))


def test_lenet5_parameters_per_row_and_in_total(lenet):
    by_hand = {"conv_1": 5 * 5 * 1 * 6 + 6,        # 156
               "conv_2": 5 * 5 * 6 * 16 + 16,      # 2,416
               "fc_1": 5 * 5 * 16 * 120 + 120,     # 48,120
               "fc_2": 120 * 84 + 84,              # 10,164
               "fc_3": 84 * 10 + 10}               # 850
    for name, count in by_hand.items():
        assert lenet[name].parameters == count, name
    assert sum(r.parameters for r in lenet.rows if r.name not in by_hand) == 0
    assert lenet.total_parameters == 61_706
    assert lenet["conv_2"].learnables == {"weights": (5, 5, 6, 16), "bias": (16,)}


def test_lenet5_multiply_adds_and_activations(lenet):
    assert lenet["conv_1"].multiply_adds == 28 * 28 * 5 * 5 * 1 * 6          # 117,600
    assert lenet["conv_2"].multiply_adds == 10 * 10 * 5 * 5 * 6 * 16         # 240,000
    assert [lenet[f].multiply_adds for f in ("fc_1", "fc_2", "fc_3")] == [400 * 120, 120 * 84,
                                                                           84 * 10]
    assert lenet.total_multiply_adds == 117_600 + 240_000 + 48_000 + 10_080 + 840
    assert lenet["maxpool_2"].activations == (5, 5, 16)
    assert lenet["maxpool_2"].neurons == 400
    # past the first fully connected layer every output sees the whole input
    assert lenet["fc_1"].receptive_field is None and lenet["fc_1"].note == "whole input"


def test_the_table_prints_the_totals(lenet):
    text = str(lenet)
    assert "total learnable parameters 61,706" in text
    assert "multiply-adds per image 416,520" in text
    assert "statistics are not set" in text          # zero-center input, not fitted yet
    with pytest.raises(KeyError):
        lenet["conv_9"]


def test_dilated_receptive_field_and_the_transposed_layer_by_hand():
    a = cl.analyze([cl.ImageInput((9, 9, 1), normalization="none"),
                    cl.Convolution2D(3, 2, dilation=2),           # spans (3 - 1)·2 + 1 = 5
                    cl.TransposedConvolution2D(2, 1, stride=2), cl.ReLU()])
    conv = a["conv_1"]
    assert conv.activations == (5, 5, 2)                        # 9 - 5 + 1
    assert conv.receptive_field == (5, 5) and conv.jump == (1, 1)
    assert conv.multiply_adds == 5 * 5 * 3 * 3 * 1 * 2           # 450
    up = a["transposed-conv_1"]
    assert up.activations == (10, 10, 1)                        # (5 - 1)·2 + 2
    assert up.parameters == 2 * 2 * 2 * 1 + 1
    assert up.multiply_adds == 5 * 5 * 2 * 2 * 2 * 1            # every input value × its weights
    assert up.receptive_field is None and "transposed" in up.note
    assert a["relu_1"].note == up.note                           # stays untracked below it
    assert any("no output layer" in w for w in a.warnings)


def test_a_floored_output_size_is_warned_about():
    # (8 - 3) / 2 + 1 = 3.5: the last row and column of the input are never read
    a = cl.analyze([cl.ImageInput((8, 8, 1), normalization="none"),
                    cl.Convolution2D(3, 1, stride=2), cl.FullyConnected(2), cl.Softmax(),
                    cl.Classification()])
    assert a["conv_1"].activations == (3, 3, 1)
    floored = [w for w in a.warnings if w.startswith("conv_1: output height 3.5")]
    assert floored and "floored to 3" in floored[0]
    assert not any("no output layer" in w for w in a.warnings)


# ---- layer graphs ------------------------------------------------------------------------------

def _residual():
    g = cl.LayerGraph([cl.ImageInput((6, 6, 2), normalization="none"),
                       cl.Convolution2D(3, 2, padding=1), cl.ReLU(),
                       cl.Convolution2D(3, 2, padding=1), cl.Addition(2), cl.ReLU(),
                       cl.FullyConnected(3), cl.Softmax(), cl.Classification()])
    return g.connect("relu_1", "add_1/in2")


def test_graph_rows_in_topological_order_with_parameters_and_multiply_adds():
    a = cl.analyze(_residual())
    assert [r.name for r in a.rows] == ["imageinput", "conv_1", "relu_1", "conv_2", "add_1",
                                       "relu_2", "fc_1", "softmax", "classoutput"]
    # by hand: a 3x3x2 convolution with 2 filters has 3·3·2·2 + 2 = 38 parameters and does
    # 6·6 positions · 2 filters · 18 products = 1296 multiply-adds; fc 72 -> 3: 219 and 216
    assert [a[n].parameters for n in ("conv_1", "conv_2", "add_1", "fc_1")] == [38, 38, 0, 219]
    assert [a[n].multiply_adds for n in ("conv_1", "conv_2", "add_1", "fc_1")] == \
        [1296, 1296, 0, 216]
    assert a.total_parameters == 38 + 38 + 219
    assert a["add_1"].activations == (6, 6, 2)


def test_graph_receptive_fields_are_the_union_over_paths():
    a = cl.analyze(_residual())
    assert a["conv_1"].receptive_field == (3, 3)
    assert a["conv_2"].receptive_field == (5, 5)
    # add_1 sees conv_2's 5x5 (start -2) and relu_1's 3x3 (start -1): the union is 5x5
    assert a["add_1"].receptive_field == (5, 5) and a["add_1"].jump == (1, 1)
    assert a["add_1"].note == "union of 2 path fields"
    assert a["fc_1"].receptive_field is None and a["fc_1"].note == "whole input"


def test_graph_paths_with_different_jumps_are_reported_not_aligned():
    # 4x4 input: 2x2 pooling with stride 2 (jump 2) and a 3x3 convolution (jump 1) both give 2x2
    g = cl.LayerGraph([cl.ImageInput((4, 4, 1), normalization="none"),
                       cl.MaxPooling2D(2, stride=2), cl.DepthConcatenation(2)])
    g.add_layers([cl.Convolution2D(3, 1, name="c")])
    g.connect("imageinput", "c").connect("c", "depthcat_1/in2")
    a = cl.analyze(g)
    assert a["depthcat_1"].receptive_field is None
    assert a["depthcat_1"].note == "paths not aligned (jumps 1/2 x 1/2)"
    assert "paths not aligned" in str(a)
