"""cnnlab/interop/torch_fx.py: residual and Inception PyTorch modules, traced by torch.fx,
import into layer graphs that compute what PyTorch computes (the oracle: PyTorch itself, in
float64, and in float32 without oneDNN)."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab import models

from .helpers import require, run_torch, set_batchnorm_statistics
from .test_torch_graph import _inception

torch = require("torch")
nn = torch.nn
F = torch.nn.functional


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """torchvision's BasicBlock, written out: one ReLU module used twice, ``out += identity``."""

    def __init__(self, cin, cout, stride=1, downsample=None):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(cin, cout, stride), nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = conv3x3(cout, cout), nn.BatchNorm2d(cout)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class SmallResNet(nn.Module):
    """28x28x1 -> stem -> a block -> a block with stride 2 and a projection shortcut (1x1 conv
    stride 2 + batch norm) -> a head: global average pooling and torch.flatten, or
    ``x.contiguous().view(x.size(0), -1)`` of the 14x14x16 image (the Linear's columns must
    be reordered)."""

    def __init__(self, head="gap"):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(1, 8), nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(BasicBlock(8, 8))
        projection = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False),
                                   nn.BatchNorm2d(16))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2, projection))
        self.head = head
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16 if head == "gap" else 16 * 14 * 14, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        if self.head == "gap":
            return self.fc(torch.flatten(self.avgpool(x), 1))
        return self.fc(x.contiguous().view(x.size(0), -1))


class InceptionLike(nn.Module):
    """Three branches on one input, stacked by torch.cat along the channels, then a classifier."""

    def __init__(self):
        super().__init__()
        self.b1 = nn.Conv2d(3, 4, 1)
        self.b2 = nn.Sequential(nn.Conv2d(3, 2, 1), nn.ReLU(), nn.Conv2d(2, 5, 3, padding=1))
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.b3 = nn.Conv2d(3, 3, 1)
        self.bn = nn.BatchNorm2d(12)
        self.fc = nn.Linear(12 * 6 * 5, 4)

    def forward(self, x):
        y = torch.cat([torch.relu(self.b1(x)), self.b2(x), self.b3(self.pool(x))], dim=1)
        y = self.bn(y).relu()
        return self.fc(torch.flatten(y, 1))


MODELS = {"basic_block": (lambda: BasicBlock(3, 3), (7, 6, 3)),
          "basic_block_projection": (lambda: BasicBlock(3, 5, 2, nn.Sequential(
              nn.Conv2d(3, 5, 1, stride=2, bias=False), nn.BatchNorm2d(5))), (7, 6, 3)),
          "resnet_gap": (lambda: SmallResNet("gap"), (28, 28, 1)),
          "resnet_view": (lambda: SmallResNet("view"), (28, 28, 1)),
          "inception": (InceptionLike, (6, 5, 3))}


def trained_looking(model, seed=0):
    """Batch-norm running statistics and affine parameters away from 0 and 1 (a copy that
    lost them shows), in eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g) * 0.3)
    return model.eval()


def _images(size, dtype, n=3):
    return np.random.default_rng(5).standard_normal((n,) + size).astype(dtype)


@pytest.mark.parametrize("which", sorted(MODELS))
def test_traced_module_imports_exactly_in_float64(which):
    make, size = MODELS[which]
    torch.manual_seed(1)
    model = trained_looking(make()).double()
    net = cl.from_torch(model, size)
    assert net.dtype == np.float64 and net.is_graph
    x = _images(size, "float64")
    want = run_torch(model, x)
    got = net.predict(x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("which", sorted(MODELS))
def test_traced_module_imports_in_float32(which):
    make, size = MODELS[which]
    torch.manual_seed(1)
    model = trained_looking(make())
    net = cl.from_torch(model, size)
    assert net.dtype == np.float32
    x = _images(size, "float32")
    want = run_torch(model, x)           # oneDNN off (helpers.exact_torch)
    np.testing.assert_allclose(net.predict(x), want, rtol=0,
                               atol=2e-6 * max(1.0, np.abs(want).max()))


def test_basic_block_becomes_a_residual_graph_named_from_its_modules():
    model = trained_looking(BasicBlock(3, 5, 2, nn.Sequential(
        nn.Conv2d(3, 5, 1, stride=2, bias=False), nn.BatchNorm2d(5))))
    net = cl.from_torch(model, (7, 6, 3))
    assert net.names == ["imageinput", "conv1", "bn1", "relu", "conv2", "bn2",
                         "downsample_0", "downsample_1", "add", "relu_2"]
    # out += identity: in1 the residual, in2 the projection; the ReLU module called twice
    assert net.sources("add") == ["bn2", "downsample_1"]
    assert net.sources("conv1") == net.sources("downsample_0") == ["imageinput"]
    assert net.sources("relu_2") == ["add"]
    assert not net["conv1"].has_bias and net["downsample_0"].stride == (2, 2)
    np.testing.assert_array_equal(net["bn1"].state["trained_mean"],
                                  model.bn1.running_mean.numpy())


def test_operations_inside_submodules_are_named_after_them():
    net = cl.from_torch(trained_looking(SmallResNet()), (28, 28, 1))
    assert {"layer1_0_conv1", "layer1_0_add", "layer2_0_add", "layer2_0_downsample_0",
            "relu", "avgpool", "fc"} <= set(net.names)
    assert net.sources("layer2_0_add") == ["layer2_0_bn2", "layer2_0_downsample_1"]
    cat = cl.from_torch(InceptionLike().eval(), (6, 5, 3))
    assert cat.sources("cat") == ["relu", "b2_2", "b3"]
    assert cat["cat"].output_shape == (6, 5, 12)


class ResNet18(nn.Module):
    """torchvision's resnet18, written out from its definition (no torchvision here)."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(64), nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        cin = 64
        for i, width in enumerate((64, 128, 256, 512), start=1):
            stride = 1 if i == 1 else 2
            down = None if stride == 1 and cin == width else nn.Sequential(
                nn.Conv2d(cin, width, 1, stride=stride, bias=False), nn.BatchNorm2d(width))
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, width, stride, down),
                                                     BasicBlock(width, width)))
            cin = width
        self.avgpool, self.fc = nn.AdaptiveAvgPool2d((1, 1)), nn.Linear(512, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def test_resnet18_imports_as_cnnlab_describes_it():
    torch.manual_seed(0)
    model = trained_looking(ResNet18())
    net = cl.from_torch(model, (224, 224, 3))
    ours = cl.Network(models.resnet18(normalization="none", weights_initializer="zeros"))
    # 11,689,512 is torchvision's published count for resnet18
    assert net.num_parameters == ours.num_parameters == 11_689_512 == \
        sum(p.numel() for p in model.parameters())
    kinds = [type(layer).__name__ for layer in ours.layers]
    assert [type(layer).__name__ for layer in net.layers] == kinds[:-2]   # no softmax, output
    x = _images((224, 224, 3), "float32", n=1)
    want = run_torch(model, x)
    np.testing.assert_allclose(net.predict(x), want, rtol=0, atol=2e-6 * np.abs(want).max())


GRAPHS = {"resnet_digits": (models.resnet_digits, (28, 28, 1)),
          "inception": (_inception, (8, 8, 5))}


@pytest.mark.parametrize("which", sorted(GRAPHS))
def test_round_trip_of_a_layer_graph_through_torch(which):
    make, size = GRAPHS[which]
    net = cl.Network(make(), seed=2, dtype="float64", backend="reference")
    x = np.random.default_rng(3).standard_normal((4,) + size)
    net.fit_normalization(x)
    set_batchnorm_statistics(net)
    back = cl.from_torch(cl.to_torch(net), size)
    assert back.is_graph
    assert [type(layer).__name__ for layer in back.layers] == \
        [type(layer).__name__ for layer in net.layers]
    assert back.num_parameters == net.num_parameters
    np.testing.assert_allclose(back.predict(x), net.predict(x), rtol=0, atol=1e-12)
    assert back.names == net.names
    assert all(back.sources(name) == net.sources(name) for name in net.names)


def _joins():
    """A 3-input Addition, then a 2-input one that reads only it: two joins, not one."""
    g = cl.LayerGraph([cl.ImageInput((5, 4, 2)), cl.Convolution2D(3, 3, padding=1, name="a"),
                       cl.Addition(3, name="sum3"), cl.Addition(2, name="sum2"),
                       cl.Tanh(name="t")])
    g.add_layers([cl.Convolution2D(1, 3, name="b")]).add_layers([cl.ReLU(name="c")])
    g.connect("imageinput", "b").connect("a", "c")
    return g.connect("b", "sum3/in2").connect("c", "sum3/in3").connect("a", "sum2/in2")


def test_round_trip_keeps_each_join_with_its_inputs():
    net = cl.Network(_joins(), seed=1, dtype="float64", backend="reference")
    back = cl.from_torch(cl.to_torch(net), (5, 4, 2))
    assert back.names == net.names
    assert back.sources("sum3") == ["a", "b", "c"] and back.sources("sum2") == ["sum3", "a"]
    x = np.random.default_rng(0).standard_normal((2, 5, 4, 2))
    np.testing.assert_allclose(back.predict(x), net.predict(x), rtol=0, atol=1e-12)
