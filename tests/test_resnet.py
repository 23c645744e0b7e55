"""cnnlab/resnet.py: the basic block, the digits ResNet and ResNet-18, counted by hand."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab import models


def _resnet18_parameters_by_hand(classes=1000):
    """torchvision's ResNet-18, counted from its definition: convolutions without bias
    (K·K·C_in·C_out), batch norm 2·C (scale and offset), fc 512·classes + classes."""
    def bn(c):
        return 2 * c

    def block(c_in, c_out, projection):
        n = 9 * c_in * c_out + bn(c_out) + 9 * c_out * c_out + bn(c_out)
        return n + (c_in * c_out + bn(c_out) if projection else 0)

    total = 7 * 7 * 3 * 64 + bn(64)
    total += 2 * block(64, 64, False)
    for c_in, c_out in ((64, 128), (128, 256), (256, 512)):
        total += block(c_in, c_out, True) + block(c_out, c_out, False)
    return total + 512 * classes + classes


def _resnet18_multiply_adds_by_hand():
    """OH·OW·K·K·C_in·C_out per convolution, 512·1000 for fc; batch norm, ReLU, pooling
    and additions do no multiply-adds."""
    total = 112 * 112 * 49 * 3 * 64
    total += 4 * 56 * 56 * 9 * 64 * 64
    for size, c_in, c_out in ((28, 64, 128), (14, 128, 256), (7, 256, 512)):
        total += size * size * (9 * c_in * c_out + 3 * 9 * c_out * c_out + c_in * c_out)
    return total + 512 * 1000


def test_resnet18_parameter_count_is_torchvisions():
    assert _resnet18_parameters_by_hand() == 11_689_512          # the published figure
    net = cl.Network(models.resnet18(weights_initializer="zeros"), backend="reference")
    assert net.is_graph and net.num_parameters == 11_689_512
    a = cl.analyze(net)
    assert a.total_parameters == 11_689_512
    assert a.total_multiply_adds == _resnet18_multiply_adds_by_hand() == 1_814_073_344
    sizes = {n: a[n].activations for n in ("conv1", "maxpool", "layer1_2_relu",
                                           "layer2_2_relu", "layer3_2_relu", "layer4_2_relu",
                                           "avgpool", "fc")}
    assert sizes == {"conv1": (112, 112, 64), "maxpool": (56, 56, 64),
                     "layer1_2_relu": (56, 56, 64), "layer2_2_relu": (28, 28, 128),
                     "layer3_2_relu": (14, 14, 256), "layer4_2_relu": (7, 7, 512),
                     "avgpool": (1, 1, 512), "fc": (1, 1, 1000)}
    # projections exactly where torchvision has a downsample: the first block of stages 2-4
    assert [n for n in net.names if n.endswith("_proj_conv")] == \
        ["layer2_1_proj_conv", "layer3_1_proj_conv", "layer4_1_proj_conv"]
    assert "bias" not in net["layer2_1_proj_conv"].params


def test_resnet18_against_torchvision_if_installed():
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.resnet18(weights=None)
    count = sum(p.numel() for p in model.parameters())
    assert count == _resnet18_parameters_by_hand() == 11_689_512


def test_resnet_digits_builds_and_learns_a_step():
    g = models.resnet_digits()
    net = cl.Network(g, seed=0, dtype="float64", backend="reference")
    # stem 3·3·1·16 + 32; stage 1: 2·(9·16·16 + 32); stage 2: 9·16·32 + 64 + 9·32·32 + 64 +
    # projection 16·32 + 64; stage 3 likewise 32 -> 64; fc 64·10 + 10
    stage = lambda i, o: 9 * i * o + 2 * o + 9 * o * o + 2 * o + i * o + 2 * o  # noqa: E731
    expected = 9 * 16 + 32 + 2 * (9 * 16 * 16 + 32) + stage(16, 32) + stage(32, 64) + 650
    assert net.num_parameters == expected == 77_754
    assert net["layer3_1_relu"].output_shape == (7, 7, 64)
    x = np.random.default_rng(1).standard_normal((4, 28, 28, 1))
    net.fit_normalization(x)
    loss, grads = net.loss_and_gradients(x, [0, 3, 5, 9])
    assert np.isfinite(loss) and set(grads["layer2_1_proj_conv"]) == {"weights"}


def test_a_block_without_projection_that_changes_size_is_refused():
    g = cl.LayerGraph([cl.ImageInput((8, 8, 4), normalization="none")])
    out = models.basic_block(g, "imageinput", 8, stride=2, name="b")
    assert out == "b_relu"
    with pytest.raises(ValueError, match=r"Addition layer 'b_add': .* in1 \(from 'b_bn2'\) is "
                                         r"4x4x8, in2 \(from 'imageinput'\) is 8x8x4"):
        cl.Network(g)
    g = cl.LayerGraph([cl.ImageInput((8, 8, 4), normalization="none")])
    models.basic_block(g, "imageinput", 8, stride=2, projection=True, name="b")
    assert cl.Network(g)["b_add"].output_shape == (4, 4, 8)


def test_the_same_depth_without_shortcuts_is_a_plain_chain():
    with_skips = cl.Network(models.resnet_digits(blocks=(2, 2, 2)), backend="reference")
    plain = cl.Network(models.resnet_digits(blocks=(2, 2, 2), shortcuts=False),
                       backend="reference")
    assert with_skips.is_graph and not plain.is_graph
    convs = [n for n in plain.names if n.endswith(("_conv1", "_conv2"))]
    assert len(convs) == 12 and all(n in with_skips.names for n in convs)
    # what the shortcuts add: the Additions and the two 1x1 projections (with batch norm)
    extra = sorted(set(with_skips.names) - set(plain.names))
    assert extra == sorted([f"layer{s}_{b}_add" for s in (1, 2, 3) for b in (1, 2)]
                           + ["layer2_1_proj_conv", "layer2_1_proj_bn", "layer3_1_proj_conv",
                              "layer3_1_proj_bn"])
    assert with_skips.num_parameters - plain.num_parameters == (16 * 32 + 64) + (32 * 64 + 128)
