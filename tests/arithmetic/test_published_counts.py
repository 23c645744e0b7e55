"""Parameter counts and sizes of famous networks, from cnnlab.arithmetic, against the
published figures (too large to build here: the arithmetic alone is checked).

VGG-16 (Simonyan & Zisserman, configuration D; torchvision ``vgg16``): 138,357,544.
AlexNet as torchvision builds it (one tower, 64-192-384-256-256 filters): 61,100,840.
LeNet-5 (LeCun et al. 1998, 32x32 input, full connections in C3): 61,706.
"""
import cnnlab.arithmetic as ar


def conv_stack(size, channels, layers):
    """Run the spatial size through (kind, k, filters, stride, padding) layers, summing the
    parameters; returns (size, channels, parameters)."""
    total = 0
    for kind, k, filters, stride, padding in layers:
        if kind == "conv":
            total += ar.conv_parameters(k, channels, filters).value
            size = ar.conv_output_size(size, k, stride=stride, padding=padding).value
            channels = filters
        else:
            size = ar.pool_output_size(size, k, stride=stride, padding=padding).value
    return size, channels, total


def fc_stack(inputs, outputs):
    return sum(ar.fc_parameters(i, o).value for i, o in zip([inputs] + outputs[:-1], outputs))


def test_vgg16_has_138357544_parameters():
    layers = []
    for filters, repeat in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        layers += [("conv", 3, filters, 1, 1)] * repeat + [("pool", 2, None, 2, 0)]
    size, channels, conv = conv_stack(224, 3, layers)
    assert (size, channels) == (7, 512)
    total = conv + fc_stack(7 * 7 * 512, [4096, 4096, 1000])
    assert conv == 14_714_688                         # the 13 convolutions
    assert total == 138_357_544


def test_alexnet_has_61100840_parameters():
    size, channels, conv = conv_stack(224, 3, [
        ("conv", 11, 64, 4, 2), ("pool", 3, None, 2, 0),
        ("conv", 5, 192, 1, 2), ("pool", 3, None, 2, 0),
        ("conv", 3, 384, 1, 1), ("conv", 3, 256, 1, 1), ("conv", 3, 256, 1, 1),
        ("pool", 3, None, 2, 0)])
    assert (size, channels) == (6, 256)               # 55 -> 27 -> 27 -> 13 -> 13 -> 6
    assert conv + fc_stack(6 * 6 * 256, [4096, 4096, 1000]) == 61_100_840


def test_lenet5_has_61706_parameters():
    size, channels, conv = conv_stack(32, 1, [
        ("conv", 5, 6, 1, 0), ("pool", 2, None, 2, 0),
        ("conv", 5, 16, 1, 0), ("pool", 2, None, 2, 0)])
    assert (size, channels, conv) == (5, 16, 156 + 2416)
    assert conv + fc_stack(5 * 5 * 16, [120, 84, 10]) == 61_706
