"""The model stacks against published figures and hand arithmetic (tests/arithmetic/
test_published_counts.py checks the same parameter counts from cnnlab.arithmetic alone)."""
import numpy as np

import cnnlab as cl
from cnnlab.models import alexnet, lenet5, vgg16


def test_alexnet_torchvision_form():
    a = cl.analyze(alexnet(normalization="none", weights_initializer="zeros"))
    assert a.total_parameters == 61_100_840                 # torchvision: 61.1 M
    # multiply-adds per image, OH·OW·F·(FH·FW·C) per convolution and in·out per fc layer
    expected = (55 * 55 * 64 * 11 * 11 * 3 + 27 * 27 * 192 * 5 * 5 * 64
                + 13 * 13 * 384 * 3 * 3 * 192 + 13 * 13 * 256 * 3 * 3 * 384
                + 13 * 13 * 256 * 3 * 3 * 256 + 9216 * 4096 + 4096 * 4096 + 4096 * 1000)
    assert a.total_multiply_adds == expected == 714_188_480  # torchvision: 0.71 G
    assert a["maxpool_3"].activations == (6, 6, 256)
    # the field by the recurrence r += (k - 1)·j, j *= s: 11, 19, 51, 67, 99, 131, 163, 195
    assert a["maxpool_3"].receptive_field == (195, 195)
    assert any("55.25 is not a whole number" in w for w in a.warnings)


def test_vgg16_configuration_d():
    a = cl.analyze(vgg16(normalization="none", weights_initializer="zeros"))
    assert a.total_parameters == 138_357_544                # torchvision: 138.4 M
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128), (56, 128, 256),
             (56, 256, 256), (56, 256, 256), (28, 256, 512), (28, 512, 512), (28, 512, 512),
             (14, 512, 512), (14, 512, 512), (14, 512, 512)]
    expected = sum(s * s * f * 9 * c for s, c, f in convs) + 25088 * 4096 + 4096 * 4096 \
        + 4096 * 1000
    assert a.total_multiply_adds == expected == 15_470_264_320   # torchvision: 15.47 G
    assert a["maxpool_5"].activations == (7, 7, 512)
    assert a["maxpool_5"].receptive_field == (212, 212)


def test_zero_weights_are_zero_and_the_default_draws_random_ones():
    zero = cl.Network(alexnet((67, 67, 3), 10, normalization="none",
                              weights_initializer="zeros"), backend="reference")
    assert not np.any(zero["conv_1"].params["weights"])
    drawn = cl.Network(vgg16((32, 32, 3), 10, normalization="none"), backend="reference")
    assert np.std(drawn["conv_1"].params["weights"]) > 0
    assert drawn.output_shape == (1, 1, 10)


def test_lenet5_is_unchanged():
    assert cl.analyze(lenet5()).total_parameters == 61_706
