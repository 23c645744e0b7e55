"""cnnlab.spec: the compact text form of a layer stack, read into the layers it names."""
import pytest

import cnnlab as cl
from cnnlab.spec import parse, value


@pytest.mark.parametrize("text, want", [
    ("3", 3), ("-2", -2), ("0.5", 0.5), ("28x28x1", (28, 28, 1)), ("6x4", (6, 4)),
    ("1,0", (1, 0)), ("1,1,0,2", (1, 1, 0, 2)), ("same", "same"), ("1e-3", 0.001),
])
def test_values(text, want):
    assert value(text) == want and type(value(text)) is type(want)


def test_the_docstring_network_reads_as_written():
    layers = parse("input 28x28x1; conv 3 16 padding=1; bn; relu; maxpool 2 stride=2;\n"
                   "conv 3 32 padding=1; bn; relu; fc 10; softmax; classification")
    assert [type(l).__name__ for l in layers] == [
        "ImageInput", "Convolution2D", "BatchNormalization", "ReLU", "MaxPooling2D",
        "Convolution2D", "BatchNormalization", "ReLU", "FullyConnected", "Softmax",
        "Classification"]
    conv = layers[1]
    assert (conv.filter_size, conv.num_filters, conv.padding) == ((3, 3), 16, (1, 1, 1, 1))
    assert layers[4].stride == (2, 2)
    net = cl.Network(layers, seed=0)
    assert net.output_shape == (1, 1, 10)        # 28 -> 28 -> 14 -> 14 -> fc
    assert net["fc_1"].params["weights"].shape == (10, 14 * 14 * 32)


def test_options_padding_forms_and_hyphens():
    conv, tconv, pool = parse("conv 6x4 2 padding=1,0 padding-value=replicate dilation=2; "
                              "tconv 4 3 stride=2 cropping=same; avgpool 3 padding=0,1,2,3")
    assert conv.filter_size == (6, 4) and conv.padding == (1, 1, 0, 0)   # MATLAB's [a b]
    assert conv.padding_value == "replicate" and conv.dilation == (2, 2)
    assert tconv.cropping == "same" and tconv.stride == (2, 2)
    assert pool.padding == (0, 1, 2, 3)


def test_errors_name_the_item():
    with pytest.raises(ValueError, match="layer spec is empty"):
        parse(" ; \n ")
    with pytest.raises(ValueError, match=r"layer spec item 2 \('conv2d 3 4'\): unknown layer "
                                         r"'conv2d'; known: avgpool, batchnorm"):
        parse("input 8x8x1; conv2d 3 4")
    with pytest.raises(ValueError, match=r"layer spec item 1 \('relu 3'\): "):
        parse("relu 3")                           # ReLU takes no argument
    with pytest.raises(ValueError, match=r"Convolution2D layer: num_filters = 0: "):
        parse("conv 3 0")                         # the layer's own check, unchanged
