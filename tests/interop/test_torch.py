"""cnnlab <-> PyTorch: round trips equal to 1e-6 (float32) / 1e-12 (float64), PyTorch-defined
models imported and stepped through, and everything that cannot map refused by name."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.interop.common import images_from_chw
from cnnlab.models import lenet5, reference_example

from .helpers import (exact_torch, global_pool_layers, images, require, run_torch,
                      tolerance, zoo, zoo_layers)

torch = require("torch")
nn = torch.nn

NETWORKS = {"lenet5": lenet5, "reference": reference_example, "zoo": zoo_layers,
            "global_pools": global_pool_layers}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", sorted(NETWORKS))
def test_round_trip_through_torch(which, dtype):
    net, x = zoo(dtype, NETWORKS[which])
    model = cl.to_torch(net)
    y = net.predict(x)
    # cnnlab -> PyTorch: the same outputs (probabilities) from PyTorch's own kernels
    np.testing.assert_allclose(run_torch(model, x), y, rtol=0, atol=tolerance(dtype))
    # PyTorch -> cnnlab: the same layers, names, parameter count and outputs
    back = cl.from_torch(model, net.input_size, classification=net.loss_layer is not None)
    assert back.dtype == net.dtype
    assert back.names == net.names
    assert back.num_parameters == net.num_parameters
    np.testing.assert_allclose(back.predict(x), y, rtol=0, atol=tolerance(dtype))
    for a, b in zip(net.layers, back.layers):          # the statistics came across too
        for key, value in a.state.items():
            np.testing.assert_array_equal(b.state[key], value)


def test_fc_columns_are_reordered_from_hwc_to_chw():
    net, x = zoo("float64", reference_example)
    model = cl.to_torch(net)
    w_cnnlab = net["fc_1"].params["weights"]                  # columns over H, W, C
    w_torch = model.fc_1.weight.detach().numpy()              # columns over C, H, W
    h, w, c = net["fc_1"].input_shape
    # column (c=5, h=2, w=3) of PyTorch is column (h=2, w=3, c=5) of cnnlab
    np.testing.assert_array_equal(w_torch[:, 5 * h * w + 2 * w + 3],
                                  w_cnnlab[:, (2 * w + 3) * c + 5])
    assert not np.array_equal(w_torch, w_cnnlab)


def test_batchnorm_statistics_reach_the_built_network():
    net, x = zoo("float64", reference_example)
    model = cl.to_torch(net)
    np.testing.assert_array_equal(model.batchnorm_1.running_var.numpy(),
                                  net["batchnorm_1"].state["trained_variance"])
    back = cl.from_torch(model, (28, 28, 1))
    np.testing.assert_array_equal(back["batchnorm_1"].state["trained_mean"],
                                  net["batchnorm_1"].state["trained_mean"])


def torch_defined_model():
    """A model written in PyTorch, the way a learner would: 'same' padding without bias,
    pad modules, ceil-mode pooling, output_padding, trained batch-norm statistics.
    (LeakyReLU's slope and batch norm's eps are float32 numbers, as ONNX stores them, so the
    model exported to ONNX is the same model to 1e-12 in float64 too.)"""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding="same", bias=False), nn.BatchNorm2d(8, eps=2.0 ** -17),
        nn.ReLU6(),
        nn.ZeroPad2d((1, 0, 2, 1)), nn.Conv2d(8, 8, 3, groups=4, dilation=2, padding=1),
        nn.ReflectionPad2d(1), nn.Conv2d(8, 6, 3),
        nn.LocalResponseNorm(4, alpha=0.2, beta=0.6, k=1.2),
        nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        nn.ConvTranspose2d(6, 5, 3, stride=2, padding=1, output_padding=1),
        nn.Hardtanh(0.0, 3.0), nn.ConstantPad2d((0, 1, 1, 0), 0.25),
        nn.Conv2d(5, 6, 2, stride=2), nn.Conv2d(6, 6, 3, padding=1, padding_mode="replicate"),
        nn.AvgPool2d(3, stride=1, padding=1), nn.LeakyReLU(0.25), nn.Sigmoid(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 10), nn.Tanh(), nn.Dropout(0.2),
        nn.Linear(10, 4), nn.Softmax(dim=1))
    model.train()
    with exact_torch():
        for _ in range(3):            # running statistics that are not 0 and 1
            model(torch.randn(4, 3, 11, 12) * 2 + 1)
    return model.eval()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_defined_model_imports_exactly(dtype):
    model = torch_defined_model().to(getattr(torch, dtype))
    net = cl.from_torch(model, (11, 12, 3))
    assert net.dtype == dtype
    x = images(net, 3)
    np.testing.assert_allclose(net.predict(x), run_torch(model, x), rtol=0,
                               atol=tolerance(dtype))
    # the published count: PyTorch's parameters (the bias-free convolution has none)
    assert net.num_parameters == sum(p.numel() for p in model.parameters())
    assert net["conv_1"].has_bias is False and "bias" not in net["conv_1"].params
    assert net["conv_2"].padding == (3, 2, 2, 1)               # ZeroPad2d folded in
    assert net["conv_3"].padding_value == "symmetric-exclude-edge"
    assert net["conv_4"].padding_value == 0.25 and net["conv_4"].padding == (1, 0, 0, 1)
    assert net["conv_5"].padding_value == "replicate"
    assert net["maxpool_1"].padding == (1, 2, 1, 1)      # ceil_mode: one more -inf row


def test_imported_model_traces_and_its_steps_add_up_to_torch():
    model = torch_defined_model().double()
    net = cl.from_torch(model, (11, 12, 3))
    x = images(net, 1)
    with exact_torch():
        first = model[0](torch.from_numpy(np.moveaxis(x, -1, 1).copy()))
    expected = images_from_chw(first.numpy())[0]              # PyTorch's conv output
    rec = net.trace(x[0])["conv_1"]
    oh, ow, f = rec.output_shape
    for k in range(f):
        steps = list(rec.steps(filter=k))
        assert len(steps) == oh * ow
        sums = np.array([np.sum(s.products) + s.bias for s in steps]).reshape(oh, ow)
        np.testing.assert_allclose(sums, expected[..., k], rtol=0, atol=1e-12)
        assert all(s.bias == 0 for s in steps)               # a convolution without bias


@pytest.mark.parametrize("module, words", [
    (nn.GELU(), ["GELU", "no cnnlab layer"]),
    (nn.Dropout2d(0.1), ["Dropout2d"]),
    (nn.Conv2d(3, 2, 3, padding=1, padding_mode="circular"), ["padding_mode", "circular"]),
    (nn.AvgPool2d(3, padding=1, count_include_pad=False), ["count_include_pad"]),
    (nn.AvgPool2d(2, ceil_mode=True), ["ceil_mode"]),
    (nn.AvgPool2d(2, divisor_override=3), ["divisor_override"]),
    (nn.Hardtanh(-1.0, 1.0), ["min_val"]),
    (nn.MaxPool2d(2, dilation=2), ["dilation"]),
    (nn.BatchNorm2d(3, track_running_stats=False), ["track_running_stats"]),
    (nn.ConvTranspose2d(3, 2, 3, stride=2, output_padding=1), ["output_padding"]),
    (nn.ConvTranspose2d(3, 2, 3, groups=1, dilation=2), ["dilation"]),
    (nn.Linear(5, 2), ["Linear", "Flatten"]),
    (nn.Softmax(dim=2), ["dim"]),
    (nn.AdaptiveAvgPool2d(2), ["output_size"]),
    (nn.ZeroPad2d(1), ["ZeroPad2d", "last module"]),
    (nn.ZeroPad2d(-1), ["negative padding crops", "transposed convolution"]),
])
def test_unsupported_modules_are_refused_by_name(module, words):
    model = nn.Sequential(module)
    with pytest.raises(cl.InteropError) as err:
        cl.from_torch(model, (7, 5, 3))
    assert "module '0'" in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_pad_module_before_a_layer_that_cannot_take_it_is_refused():
    for model, words in [
            (nn.Sequential(nn.ZeroPad2d(1), nn.ReLU()), ["ZeroPad2d", "ReLU"]),
            (nn.Sequential(nn.ZeroPad2d(1), nn.MaxPool2d(2)), ["MaxPool2d", "0"]),
            (nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(3, 2, 3, padding=1)),
             ["ReflectionPad2d", "Conv2d"])]:
        with pytest.raises(cl.InteropError) as err:
            cl.from_torch(model, (7, 5, 3))
        assert all(w in str(err.value) for w in words), str(err.value)


def test_a_custom_module_is_traced_and_its_unsupported_operation_refused():
    class Mine(nn.Module):
        def forward(self, x):
            return x * 2
    with pytest.raises(cl.InteropError, match=r"node 'mul' \(call_function operator.mul\) "
                                              r"in module '1' \(Mine\)"):
        cl.from_torch(nn.Sequential(nn.ReLU(), Mine()), (4, 4, 1))


def test_a_single_layer_module_imports_as_a_chain_of_one():
    model = nn.Conv2d(2, 3, 3, padding=1).double().eval()
    net = cl.from_torch(model, (5, 4, 2))
    assert [type(layer).__name__ for layer in net.layers] == ["ImageInput", "Convolution2D"]
    x = images(net, 2)
    np.testing.assert_allclose(net.predict(x), run_torch(model, x), rtol=0, atol=1e-12)


def test_unrepresentable_cnnlab_layers_are_refused_by_name():
    net = cl.Network([cl.ImageInput((5, 5, 1)),
                      cl.Convolution2D(3, 2, padding=1, padding_value="symmetric-include-edge",
                                       name="mirror")])
    with pytest.raises(cl.InteropError, match="'mirror'.*symmetric-include-edge"):
        cl.to_torch(net)
    net = cl.Network([cl.ImageInput((3, 3, 1)),
                      cl.Convolution2D(3, 2, padding=3, padding_value="symmetric-exclude-edge")])
    with pytest.raises(cl.InteropError, match="conv_1.*reflect.*smaller than the input"):
        cl.to_torch(net)
    net = cl.Network([cl.ImageInput((4, 4, 2)),
                      cl.BatchNormalization(mean_decay=0.1, variance_decay=0.2)])
    with pytest.raises(cl.InteropError, match="batchnorm_1.*variance_decay"):
        cl.to_torch(net)


def test_to_torch_keeps_float64_weights_exact():
    net, _ = zoo("float64", lenet5)
    model = cl.to_torch(net)
    assert model.conv_1.weight.dtype == torch.float64
    np.testing.assert_array_equal(model.conv_1.weight.detach().numpy().transpose(2, 3, 1, 0),
                                  net["conv_1"].params["weights"])


def test_nested_sequentials_are_opened_and_repeated_names_renumbered():
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()))
    block = nn.Sequential()
    block.add_module("conv", nn.Conv2d(2, 2, 1))
    model.add_module("block_a", block)
    other = nn.Sequential()
    other.add_module("conv", nn.Conv2d(2, 2, 1))
    model.add_module("block_b", other)
    model = model.double()
    net = cl.from_torch(model, (5, 5, 1))
    assert net.names == ["imageinput", "conv_1", "relu_1", "conv", "conv_2"]
    x = images(net, 2)
    np.testing.assert_allclose(net.predict(x), run_torch(model, x), rtol=0, atol=1e-12)
