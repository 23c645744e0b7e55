"""cnnlab <-> ONNX with the onnx package only (checker, ReferenceEvaluator; no onnxruntime),
and what torch.onnx.export writes read back: equal to 1e-6 (float32) / 1e-12 (float64)."""
import io
import warnings

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.models import lenet5, reference_example

from .helpers import (exact_torch, global_pool_layers, images, require, run_onnx, run_torch,
                      tolerance, zoo, zoo_layers)

onnx = require("onnx")

NETWORKS = {"lenet5": lenet5, "reference": reference_example, "zoo": zoo_layers,
            "global_pools": global_pool_layers}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", sorted(NETWORKS))
def test_round_trip_through_onnx(which, dtype, tmp_path):
    net, x = zoo(dtype, NETWORKS[which])
    path = tmp_path / "net.onnx"
    cl.to_onnx(net, path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    y = net.predict(x)
    np.testing.assert_allclose(run_onnx(model, x), y, rtol=0, atol=tolerance(dtype))
    back = cl.from_onnx(path, classification=net.loss_layer is not None)
    assert back.names == net.names and back.dtype == net.dtype
    assert back.num_parameters == net.num_parameters
    np.testing.assert_allclose(back.predict(x), y, rtol=0, atol=tolerance(dtype))
    for a, b in zip(net.layers, back.layers):
        for key, value in a.state.items():
            np.testing.assert_array_equal(b.state[key], value)


def test_nodes_are_named_after_the_layers_and_padding_needs_no_extra_node():
    net, _ = zoo("float32")
    model = cl.to_onnx(net)
    names = {n.name: n.op_type for n in model.graph.node}
    assert names["conv_asym"] == "Conv" and "conv_asym_pad" not in names    # uneven zeros
    assert names["conv_1_pad"] == "Pad" and names["conv_2_pad"] == "Pad"    # edge, constant
    assert names["maxpool_1"] == "MaxPool" and names["crossnorm_1"] == "LRN"
    conv = next(n for n in model.graph.node if n.name == "conv_asym")
    pads = next(a for a in conv.attribute if a.name == "pads")
    assert list(pads.ints) == [1, 0, 2, 1]              # ONNX order: top, left, bottom, right
    no_bias = next(n for n in model.graph.node if n.name == "conv_3")
    assert len(no_bias.input) == 2                     # has_bias=False: no bias input


def test_external_data_is_written_and_read(tmp_path):
    net, x = zoo("float64", lenet5)
    path = tmp_path / "lenet.onnx"
    cl.to_onnx(net, path, external_data=True)
    assert (tmp_path / "lenet.onnx.data").stat().st_size > 8 * 61_000   # the weights
    assert path.stat().st_size < 20_000                                # not inline
    back = cl.from_onnx(path)
    np.testing.assert_allclose(back.predict(x), net.predict(x), rtol=0, atol=1e-12)


def torch_export(model, shape, **options):
    torch = require("torch")
    buffer = io.BytesIO()
    dtype = next(model.parameters(), torch.zeros(1)).dtype
    with exact_torch(), warnings.catch_warnings():
        warnings.simplefilter("ignore")              # the exporter's deprecation notes
        torch.onnx.export(model, (torch.zeros(shape, dtype=dtype),), buffer, dynamo=False,
                          input_names=["image"], **options)
    return onnx.load_from_string(buffer.getvalue())


@pytest.mark.parametrize("training", ["EVAL", "PRESERVE"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", ["reference", "zoo", "global_pools"])
def test_what_torch_onnx_export_writes_is_read(which, dtype, training):
    torch = require("torch")
    net, x = zoo(dtype, NETWORKS[which])
    if which == "zoo":     # the legacy exporter writes LRN as a branching subgraph (refused)
        net = cl.Network([layer for layer in zoo_layers()
                          if not isinstance(layer, cl.CrossChannelNormalization)], dtype=dtype)
        net.fit_normalization(x)
    model = cl.to_torch(net)
    h, w, c = net.input_size
    exported = torch_export(model, (1, c, h, w), training=getattr(torch.onnx.TrainingMode,
                                                                  training))
    back = cl.from_onnx(exported, classification=net.loss_layer is not None)
    np.testing.assert_allclose(back.predict(x), run_torch(model, x), rtol=0,
                               atol=tolerance(dtype))
    if training == "PRESERVE":      # EVAL folds batch norm into the convolution before it
        assert [n for n in back.names if not n.startswith("dropout")] == \
            [n for n in net.names if not n.startswith("dropout")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_torch_defined_model_exported_by_torch_is_read(dtype):
    torch = require("torch")
    from .test_torch import torch_defined_model
    model = torch_defined_model().to(getattr(torch, dtype))
    del model[7]                                      # the LocalResponseNorm (see above)
    exported = torch_export(model, (1, 3, 11, 12),
                            training=torch.onnx.TrainingMode.PRESERVE)
    net = cl.from_onnx(exported)
    x = images(net, 2)
    np.testing.assert_allclose(net.predict(x), run_torch(model, x), rtol=0,
                               atol=tolerance(dtype))
    assert net.num_parameters == sum(p.numel() for p in model.parameters())
    assert net["conv_1"].has_bias is False            # the optional bias input was absent


def test_a_linear_without_bias_and_the_dynamo_exporter():
    torch = require("torch")
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(18, 3, bias=False)).double()
    net = cl.from_onnx(torch_export(model, (1, 1, 5, 5)))
    x = images(net, 2)
    np.testing.assert_allclose(net.predict(x), run_torch(model, x), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(net["fc_1"].params["bias"], 0)
    require("onnxscript")                      # torch.onnx.export(dynamo=True) needs it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (torch.zeros(1, 1, 5, 5, dtype=torch.float64),),
                                    dynamo=True)
    net = cl.from_onnx(program.model_proto)
    np.testing.assert_allclose(net.predict(x), run_torch(model, x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", ["lenet5", "reference"])
def test_what_the_dynamo_exporter_writes_is_read(which, dtype):
    """torch.onnx.export(dynamo=True) (the default exporter from PyTorch 2.9 on) writes other
    node forms than the legacy one; a network exported that way comes back the same."""
    torch = require("torch")
    require("onnxscript")                      # the dynamo exporter is written with it
    net, x = zoo(dtype, NETWORKS[which])
    rng = np.random.default_rng(5)
    for layer in net.layers:           # nonzero biases: the exporter drops all-zero ones
        if "bias" in layer.params:
            layer.params["bias"][...] = rng.normal(size=layer.params["bias"].shape)
    model = cl.to_torch(net).eval()
    h, w, c = net.layers[0].output_shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # the exporter's progress and deprecation notes
        program = torch.onnx.export(model, (torch.zeros(1, c, h, w, dtype=getattr(torch, dtype)),),
                                    dynamo=True)
    back = cl.from_onnx(program.model_proto, classification=net.loss_layer is not None)
    # (its optimizer folds constants, e.g. batch norm into the convolution before it, so
    # the layers and parameter counts may differ from the network's; the function may not)
    np.testing.assert_allclose(back.predict(x), net.predict(x), rtol=0, atol=tolerance(dtype))


def test_lrn_from_the_legacy_exporter_is_refused_by_node():
    torch = require("torch")
    model = torch.nn.Sequential(torch.nn.LocalResponseNorm(3))
    # its first node squares the input for a side branch: refused, named
    with pytest.raises(cl.InteropError, match=r"node '/0/Mul' \(Mul\): no cnnlab layer"):
        cl.from_onnx(torch_export(model, (1, 4, 5, 5)))


def test_unrepresentable_layers_are_refused_by_name():
    net = cl.Network([cl.ImageInput((5, 5, 4)), cl.CrossChannelNormalization(4)])
    with pytest.raises(cl.InteropError, match="crossnorm_1.*window_channel_size = 4 is even"):
        cl.to_onnx(net)
    net = cl.Network([cl.ImageInput((5, 5, 1)),
                      cl.Convolution2D(3, 2, padding=1, padding_value="symmetric-include-edge")])
    with pytest.raises(cl.InteropError, match="conv_1.*symmetric-include-edge"):
        cl.to_onnx(net)


def _one_node_model(op, attrs, inits=(), shape=(1, 2, 6, 6)):
    from onnx import TensorProto, helper, numpy_helper
    names = [t[0] for t in inits]
    node = helper.make_node(op, ["x"] + names, ["y"], name="the_node", **attrs)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))],
        initializer=[numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("op, attrs, inits, words", [
    ("Elu", {}, (), ["the_node", "Elu", "no cnnlab layer"]),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, (),
     ["the_node", "count_include_pad"]),
    ("LRN", {"size": 2}, (), ["size = 2 is even"]),
    ("Clip", {}, (("lo", -1.0), ("hi", 1.0)), ["min = -1"]),
    ("Pad", {"mode": "wrap"}, (), ["axes", "pads"]),
])
def test_unsupported_nodes_are_refused_by_name(op, attrs, inits, words):
    if op == "Pad":        # pads as an int64 input
        from onnx import numpy_helper
        model = _one_node_model("Conv", {"kernel_shape": [1, 1]},
                                (("w", np.ones((2, 2, 1, 1))),))
        node = onnx.helper.make_node("Pad", ["x", "p"], ["xp"], name="the_node", mode="wrap")
        model.graph.initializer.append(numpy_helper.from_array(
            np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "p"))
        model.graph.node[0].input[0] = "xp"
        model.graph.node.insert(0, node)
        words = ["the_node", "wrap"]
    else:
        model = _one_node_model(op, attrs, inits)
    with pytest.raises(cl.InteropError) as err:
        cl.from_onnx(model)
    for word in words:
        assert word in str(err.value), str(err.value)


def test_float32_attributes_round_the_hyperparameters_of_a_float64_network():
    """ONNX keeps LRN's alpha and LeakyRelu's alpha as float32 attributes: a float64 network
    comes back with those numbers rounded to float32 (and computes what the file says)."""
    net = cl.Network([cl.ImageInput((4, 4, 3), normalization="none"),
                      cl.CrossChannelNormalization(3, alpha=0.3), cl.LeakyReLU(0.1)],
                     dtype="float64")
    back = cl.from_onnx(cl.to_onnx(net))
    assert back["crossnorm_1"].alpha == float(np.float32(0.3)) != 0.3
    assert back["leakyrelu_1"].scale == float(np.float32(0.1))


def test_a_hand_written_graph_with_the_other_exporters_forms():
    """SAME_UPPER auto_pad, a Reshape flatten, MatMul + Add, ReduceMean over H and W, Clip
    with no max, Identity: the forms other exporters (and the dynamo exporter) write."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    inits = {"w": rng.normal(size=(4, 2, 3, 3)), "b": rng.normal(size=4),
             "zero": np.array(0.0), "shape": np.array([0, -1], np.int64),
             "axes": np.array([2, 3], np.int64), "m": rng.normal(size=(4, 3)),
             "c": rng.normal(size=3)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["a"], name="conv", auto_pad="SAME_UPPER",
                              kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Clip", ["a", "zero"], ["r"], name="relu"),
             helper.make_node("Identity", ["r"], ["r2"], name="id"),
             helper.make_node("ReduceMean", ["r2", "axes"], ["g"], name="gap", keepdims=1),
             helper.make_node("Reshape", ["g", "shape"], ["f"], name="flat"),
             helper.make_node("MatMul", ["f", "m"], ["mm"], name="fc"),
             helper.make_node("Add", ["mm", "c"], ["y0"], name="fc_bias"),
             helper.make_node("Softmax", ["y0"], ["y"], name="prob", axis=-1)]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", 2, 7, 6])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["N", 3])],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    net = cl.from_onnx(model)
    assert net.names == ["imageinput", "conv", "relu", "gap", "fc", "prob", "classoutput"]
    # SAME_UPPER: 7 rows -> 4 (2 padding rows, 1 + 1), 6 columns -> 3 (1 column, at the end)
    assert net["conv"].padding == (1, 1, 0, 1) and net.output_shape == (1, 1, 3)
    assert net.num_parameters == 4 * 2 * 9 + 4 + 4 * 3 + 3
    x = images(net, 2).astype(np.float64)
    np.testing.assert_allclose(net.predict(x), run_onnx(model, x), rtol=0, atol=1e-12)
