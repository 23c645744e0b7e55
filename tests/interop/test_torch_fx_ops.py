"""cnnlab/interop/torch_fx_ops.py: the operations of a traced forward that map to layers (or to
no layer: views), each checked against PyTorch in float64, and those refused by name."""
import numpy as np
import pytest

import cnnlab as cl

from .helpers import require, run_torch

torch = require("torch")
nn = torch.nn
F = torch.nn.functional


class Forward(nn.Module):
    """A module whose forward is ``fn(self, x)``, with a 3->4 convolution ``conv`` and a
    Linear ``fc`` of ``features`` inputs to use."""

    def __init__(self, fn, features=4):
        super().__init__()
        self.fn = fn
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(features, 2)

    def forward(self, x):
        return self.fn(self, x)


def _imported(fn, features=4, size=(5, 4, 3)):
    torch.manual_seed(0)
    model = Forward(fn, features).double().eval()
    return model, cl.from_torch(model, size)


# name: (forward, in_features of fc)
EXACT = {
    "torch.add of a module called twice": (
        lambda s, x: torch.add(s.conv(x), s.conv(x).relu()), 4),
    "add method, tanh, sigmoid": (
        lambda s, x: torch.tanh(s.conv(x)).add(torch.sigmoid(s.conv(x))), 4),
    "cat dim -3 of three": (lambda s, x: torch.cat((x, F.relu(s.conv(x)), x), -3), 4),
    "mean over (3, 2), fc": (lambda s, x: s.fc(s.conv(x).mean((3, 2))), 4),
    "adaptive pool, view(N, -1), view back to N x K x 1 x 1": (
        lambda s, x: s.fc(F.adaptive_avg_pool2d(s.conv(x), 1).view(x.size(0), -1))
        .view(x.size(0), -1, 1, 1).relu(), 4),
    "mean keepdim, dropout, reshape(x.shape[0], -1)": (
        lambda s, x: s.fc(F.dropout(s.conv(x).mean([2, 3], keepdim=True), 0.3,
                                    training=False).reshape(x.shape[0], -1)), 4),
    "reshape(-1, K) of a 5x4x4 image, fc": (
        lambda s, x: s.fc(F.relu(s.conv(x)).reshape(-1, 80)), 80),
    "x.flatten(1) of a 5x4x4 image, fc": (lambda s, x: s.fc(s.conv(x).flatten(1)), 80),
}


@pytest.mark.parametrize("which", sorted(EXACT))
def test_operation_imports_exactly(which):
    fn, features = EXACT[which]
    model, net = _imported(fn, features)
    x = np.random.default_rng(2).standard_normal((3, 5, 4, 3))
    want = run_torch(model, x)
    got = net.predict(x)
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=0, atol=1e-12)


def test_a_module_called_twice_becomes_two_layers_with_the_same_weights():
    _, net = _imported(EXACT["torch.add of a module called twice"][0])
    assert net.sources("add") == ["conv", "relu"] and net.sources("relu") == ["conv_2"]
    np.testing.assert_array_equal(net["conv"].params["weights"],
                                  net["conv_2"].params["weights"])


def test_a_sum_of_three_is_one_addition():
    model, net = _imported(lambda s, x: torch.relu(s.conv(x)) + torch.tanh(s.conv(x)) + s.conv(x))
    assert [n for n in net.names if n.startswith("add")] == ["add"]
    assert net.sources("add") == ["relu", "tanh", "conv_3"]
    x = np.random.default_rng(2).standard_normal((3, 5, 4, 3))
    np.testing.assert_allclose(net.predict(x), run_torch(model, x), rtol=0, atol=1e-12)


class PadConvAdd(nn.Module):
    """An explicit pad module before a convolution and a max pooling, in a residual sum."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv = nn.Conv2d(3, 3, 3)
        self.zero = nn.ConstantPad2d((0, 1, 1, 0), -np.inf)
        self.pool = nn.MaxPool2d(2, stride=1)

    def forward(self, x):
        return self.conv(self.pad(x)) + self.pool(self.zero(x))


def test_pad_modules_are_folded_into_the_layer_that_reads_them():
    model = PadConvAdd().double().eval()
    net = cl.from_torch(model, (5, 4, 3))
    assert net.names == ["imageinput", "conv", "pool", "add"]
    assert net["conv"].padding_value == "symmetric-exclude-edge"
    assert net["pool"].padding == (1, 0, 0, 1)
    x = np.random.default_rng(2).standard_normal((3, 5, 4, 3))
    np.testing.assert_allclose(net.predict(x), run_torch(model, x), rtol=0, atol=1e-12)


class TwoInputs(nn.Module):
    def forward(self, x, y):
        return x + y


class Branching(nn.Module):
    def forward(self, x):
        return x if x.sum() > 0 else -x


class WithParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.shift = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x):
        return torch.relu(x) + self.shift


class WithGelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = nn.GELU()

    def forward(self, x):
        return self.act(x) + x


class PadThenAdd(nn.Module):
    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d(1)
        self.conv = nn.Conv2d(3, 3, 3)

    def forward(self, x):
        return self.pad(x) + self.conv(self.pad(x))


REFUSED = {
    "sigmoid(x) * x": (Forward(lambda s, x: torch.sigmoid(s.conv(x)) * s.conv(x)),
                       r"node 'mul' \(call_function operator.mul\): no cnnlab layer for this "
                       r"operation"),
    "x + 1": (Forward(lambda s, x: s.conv(x) + 1),
              r"node 'add' \(call_function operator.add\): adds the 5x4x4 output of "
              r"'conv' and 1; cnnlab's Addition"),
    "cat along the height": (Forward(lambda s, x: torch.cat([x, x], dim=2)),
                             r"node 'cat' \(call_function torch.cat\): dim = 2"),
    "a fixed batch size": (Forward(lambda s, x: s.fc(s.conv(x).view(3, -1)), 80),
                           r"node 'view' \(call_method view\): shape \(3, -1\) of an N x 4 "
                           r"x 5 x 4 tensor"),
    "flatten of the batch": (Forward(lambda s, x: torch.flatten(s.conv(x))),
                             r"node 'flatten' .*start_dim = 0"),
    "two inputs": (TwoInputs(), r"forward takes 2 inputs \(x, y\)"),
    "control flow on values": (Branching(), r"torch.fx cannot trace Branching.forward"),
    "a parameter used directly": (WithParameter(), r"node 'shift' \(get_attr shift\)"),
    "a torch.nn module with no layer": (WithGelu(), r"module 'act' \(GELU, fx node 'act'\): "
                                                    r"no cnnlab layer for GELU"),
    "a pad module before an addition": (PadThenAdd(), r"module 'pad' \(ZeroPad2d.* is followed "
                                                      r"by node 'add'"),
}


@pytest.mark.parametrize("which", sorted(REFUSED))
def test_unsupported_operation_is_refused_naming_the_node(which):
    model, message = REFUSED[which]
    with pytest.raises(cl.InteropError, match=message):
        cl.from_torch(model.eval(), (5, 4, 3))
