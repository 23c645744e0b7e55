"""cnnlab -> ONNX with the ``onnx`` package only: ``to_onnx(net, path)``.

One node (or two) per layer, named after the layer, so Netron shows the same names as
``print(net)``. Tensors are N×C×H×W (the batch size N is left free); weights are stored in
ONNX's layouts (``common``), the image input's normalization is a Sub and a Div node, and the
model's metadata records what cnnlab needs to read the same layers back (``from_onnx``).

ONNX pads each side separately, so asymmetric padding needs no extra node; only a padding
value other than 0 (a constant, "replicate" = edge, "symmetric-exclude-edge" = reflect) puts
a Pad node before the convolution. Max pooling's ONNX padding is never the maximum (as
cnnlab's -inf), average pooling's counts as zeros with ``count_include_pad = 1``.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from . import common
from .common import InteropError

OPSET = 17
_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}


class _Graph:
    """Nodes and initializers as they are written, and the name of the current tensor."""

    def __init__(self, dtype):
        self.nodes, self.inits, self.dtype = [], [], np.dtype(dtype)
        self.current = "input"

    def const(self, name, value, dtype=None):
        arr = np.asarray(value, dtype=dtype or self.dtype)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def node(self, op, name, inputs, **attrs):
        out = f"{name}_output" if op not in ("Pad", "Flatten", "Reshape") else f"{name}_out"
        self.nodes.append(helper.make_node(op, [self.current] + list(inputs), [out], name=name,
                                           **attrs))
        self.current = out
        return out


def to_onnx(net, path=None, *, opset: int = OPSET, external_data: bool = False,
            check: bool = True):
    """Write ``net`` (prediction mode) as an ONNX model; returns the ``onnx.ModelProto``.

    path : where to save (None: only return the model); external_data : weights in a
        separate file beside it (``<path>.data``), as large models are stored
    Raises InteropError naming a layer option ONNX cannot represent.
    """
    from ..layers.output import Classification
    g = _Graph(net.dtype)
    flat = False
    metadata = {"cnnlab.layers": ",".join(layer.name for layer in net.layers)}
    for layer in net.layers:
        if layer.is_loss:
            if isinstance(layer, Classification):
                metadata["cnnlab.classification"] = layer.name
            continue
        flat = _layer(g, layer, flat, metadata)
    h, w, c = net.input_size
    elem = _TYPES[net.dtype]
    k = net.output_shape
    out_shape = ["N", k[2]] if flat else ["N", k[2], k[0], k[1]]
    graph = helper.make_graph(
        g.nodes, "cnnlab", [helper.make_tensor_value_info("input", elem, ["N", c, h, w])],
        [helper.make_tensor_value_info(g.current, elem, out_shape)], initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="cnnlab", doc_string=repr(net))
    model.ir_version = min(model.ir_version, 9)
    helper.set_model_props(model, metadata)
    if check:
        onnx.checker.check_model(model, full_check=True)
    if path is not None:
        import os
        path = os.fspath(path)
        if external_data:
            onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=os.path.basename(path) + ".data", size_threshold=0)
        else:
            onnx.save_model(model, path)
    return model


def _layer(g, layer, flat, metadata):
    """Write one layer's nodes; returns whether the tensor is now flat (N×K)."""
    from ..layers.activation import ClippedReLU, LeakyReLU, ReLU, Sigmoid, Tanh
    from ..layers.conv import Convolution2D
    from ..layers.dense import FullyConnected
    from ..layers.dropout import Dropout
    from ..layers.input import ImageInput
    from ..layers.norm import BatchNormalization, CrossChannelNormalization
    from ..layers.output import Softmax
    from ..layers.pool import (AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
                               MaxPooling2D)
    from ..layers.transposed import TransposedConvolution2D
    n = layer.name
    elementwise = (ReLU, LeakyReLU, ClippedReLU, Tanh, Sigmoid, Dropout, Softmax)
    if flat and not isinstance(layer, elementwise + (FullyConnected,)):
        k = layer.input_shape[2]       # back to N×K×1×1 for a 4-D layer
        g.node("Reshape", f"{n}_unflatten", [g.const(f"{n}.unflatten_shape", [0, k, 1, 1],
                                                      np.int64)])
        flat = False
    if isinstance(layer, ImageInput):
        ss = common.input_shift_scale(layer)
        if ss is not None:
            metadata[f"cnnlab.{n}.normalization"] = layer.normalization
            for key in common.NORMALIZATION_STATISTICS[layer.normalization]:
                g.const(f"{n}.{key}", common.statistic_to_chw(layer.state[key]))
            g.node("Sub", n, [g.const(f"{n}.shift", common.statistic_to_chw(ss[0]))])
            g.node("Div", f"{n}_scale", [g.const(f"{n}.scale", common.statistic_to_chw(ss[1]))])
    elif isinstance(layer, Convolution2D):
        _conv(g, layer)
    elif isinstance(layer, TransposedConvolution2D):
        t, b, l, r = layer.cropping          # ONNX's pads crop a transposed convolution
        g.node("ConvTranspose", n, [
            g.const(f"{n}.weight", common.transposed_weights_to_chw(layer.params["weights"])),
            g.const(f"{n}.bias", layer.params["bias"])],
            kernel_shape=list(layer.filter_size), strides=list(layer.stride),
            pads=[t, l, b, r])
    elif isinstance(layer, BatchNormalization):
        g.node("BatchNormalization", n, [g.const(f"{n}.scale", layer.params["scale"]),
                                         g.const(f"{n}.offset", layer.params["offset"]),
                                         g.const(f"{n}.mean", layer.state["trained_mean"]),
                                         g.const(f"{n}.variance",
                                                 layer.state["trained_variance"])],
               epsilon=layer.epsilon, momentum=1 - layer.mean_decay)
    elif isinstance(layer, CrossChannelNormalization):
        if layer.window_channel_size % 2 == 0:
            raise InteropError(f"{layer.label}: window_channel_size = "
                               f"{layer.window_channel_size} is even: ONNX's LRN window then "
                               "reaches one channel further forward, cnnlab's (and PyTorch's) "
                               "one further back")
        g.node("LRN", n, [], size=layer.window_channel_size, alpha=layer.alpha,
               beta=layer.beta, bias=layer.k)
    elif isinstance(layer, ClippedReLU):
        g.node("Clip", n, [g.const(f"{n}.min", 0.0), g.const(f"{n}.max", layer.ceiling)])
    elif isinstance(layer, LeakyReLU):
        g.node("LeakyRelu", n, [], alpha=layer.scale)
    elif isinstance(layer, (ReLU, Tanh, Sigmoid)):
        g.node({ReLU: "Relu", Tanh: "Tanh", Sigmoid: "Sigmoid"}[type(layer)], n, [])
    elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
        t, b, l, r = layer.padding
        extra = {} if isinstance(layer, MaxPooling2D) else {"count_include_pad": 1}
        g.node("MaxPool" if isinstance(layer, MaxPooling2D) else "AveragePool", n, [],
               kernel_shape=list(layer.pool_size), strides=list(layer.stride),
               pads=[t, l, b, r], **extra)
    elif isinstance(layer, GlobalAveragePooling2D):
        g.node("GlobalAveragePool", n, [])
    elif isinstance(layer, GlobalMaxPooling2D):
        g.node("GlobalMaxPool", n, [])
    elif isinstance(layer, Dropout):
        g.node("Dropout", n, [g.const(f"{n}.ratio", layer.probability)])
    elif isinstance(layer, FullyConnected):
        w = layer.params["weights"]
        if not flat:              # PyTorch's and ONNX's flatten runs over C, H, W
            g.node("Flatten", f"{n}_flatten", [], axis=1)
            w = common.fc_weights_to_chw(w, layer.input_shape)
        g.node("Gemm", n, [g.const(f"{n}.weight", w), g.const(f"{n}.bias",
                                                               layer.params["bias"])],
               transB=1)
        flat = True
    elif isinstance(layer, Softmax):
        g.node("Softmax", n, [], axis=1)     # over the channels of each position
    else:
        raise InteropError(f"{layer.label}: {type(layer).__name__} has no ONNX node in "
                           "cnnlab.to_onnx")
    return flat


def _conv(g, layer):
    n = layer.name
    h, w, _ = layer.input_shape
    pads, value = layer.padding, layer.padding_value
    common.check_padding_maps(layer, pads, value, (h, w))
    t, b, l, r = pads
    conv_pads = [t, l, b, r]
    if any(pads) and value != 0:             # a Pad node: ONNX's Conv pads with zeros only
        mode = common.ONNX_PADDING_MODES.get(value, "constant") if isinstance(value, str) \
            else "constant"
        inputs = [g.const(f"{n}.pads", [0, 0, t, l, 0, 0, b, r], np.int64)]
        if mode == "constant":
            inputs.append(g.const(f"{n}.padding_value", float(value)))
        g.node("Pad", f"{n}_pad", inputs, mode=mode)
        conv_pads = [0, 0, 0, 0]
    inputs = [g.const(f"{n}.weight", common.conv_weights_to_chw(layer.params["weights"]))]
    if layer.has_bias:                       # ONNX's bias input is optional
        inputs.append(g.const(f"{n}.bias", layer.params["bias"]))
    g.node("Conv", n, inputs, kernel_shape=list(layer.filter_size), strides=list(layer.stride),
           dilations=list(layer.dilation), group=layer.groups, pads=conv_pads)
