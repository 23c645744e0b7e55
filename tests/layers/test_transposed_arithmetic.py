"""The transposed convolution teaches its own parameter formula, not the convolution's."""

import cnnlab as cl
from cnnlab import arithmetic as ar


def test_parameters_use_the_transposed_formula():
    net = cl.Network([cl.ImageInput((3, 3, 4), normalization="none"),
                      cl.TransposedConvolution2D((2, 3), 5, stride=2)], seed=0)
    layer = net[1]
    r = layer.arithmetic()["parameters"]
    # by hand: a 2x3x5x4 weight array (K_h x K_w x F x C) and one bias per filter
    assert layer.params["weights"].shape == (2, 3, 5, 4) and layer.params["bias"].shape == (5,)
    assert r.value == 2 * 3 * 5 * 4 + 5 == 125 == layer.num_parameters
    assert r.formula == "K_h·K_w·F·C + F"
    assert r.substituted == "2·3·5·4 + 5 = 120 + 5 = 125"
    assert "(K_h·K_w·C + 1)·F" not in r.formula and "+ 1)" not in r.substituted
    assert any("K_h×K_w×F×C" in note for note in r.notes)
    # the layer shows exactly the arithmetic module's transposed Result
    expected = ar.transposed_conv_parameters((2, 3), 4, 5)
    assert (r.value, r.formula, r.substituted, r.notes) == \
        (expected.value, expected.formula, expected.substituted, expected.notes)


def test_the_note_tells_the_transposed_count_from_the_convolution_it_transposes():
    r = ar.transposed_conv_parameters(3, 2, 6)
    # the convolution from F = 6 to C = 2 channels has the same weights but C = 2 biases
    conv = ar.conv_parameters(3, 6, 2)
    assert conv.value == 3 * 3 * 6 * 2 + 2 == 110
    assert r.value == 3 * 3 * 6 * 2 + 6 == 114
    assert any("(K_h·K_w·F + 1)·C = 110" in note for note in r.notes)
    assert r.value - conv.value == 6 - 2         # the biases differ, not the weights
