"""ONNX -> cnnlab with the ``onnx`` package only: ``from_onnx(path)``.

Reads a chain of nodes (each node's data input is the previous node's output; every other
input a constant: an initializer, inline or in external data files, or a Constant node),
as ``cnnlab.to_onnx`` and ``torch.onnx.export`` write for a Sequential model. The map is
``NODES`` below. A Pad node is folded into the Conv or pooling node after it; a negative Pad
after a ConvTranspose crops it. A Sub (and Div) by constants first is the image input's
normalization. A node with no exact cnnlab layer raises InteropError naming it.
"""
from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..layers.input import ImageInput
from . import common
from .common import InteropError
from .onnx_nodes import NODES, where as _where
from .reader import Reader, build_network


def from_onnx(source, *, input_size=None, dtype=None, seed=0, backend="auto",
              classification=True):
    """A cnnlab Network computing what the ONNX model computes.

    source : a path (external data files are read from beside it) or an onnx.ModelProto
    input_size : (H, W, C); needed only when the model leaves H or W free
    dtype : default from the model's input (double -> "float64", else "float32")
    """
    if isinstance(source, (str, os.PathLike)):
        model = onnx.load(os.fspath(source))      # external data from the same folder
    else:
        model = source
    onnx.checker.check_model(model)
    g = model.graph
    consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    inputs = [i for i in g.input if i.name not in consts]
    if len(inputs) != 1:
        raise InteropError(f"from_onnx: the graph has {len(inputs)} inputs "
                           f"({', '.join(i.name for i in inputs)}); cnnlab reads one image input")
    tensor = inputs[0].type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    if input_size is None:
        if len(dims) != 4 or None in dims[1:]:
            raise InteropError(f"from_onnx: input '{inputs[0].name}' has shape {dims}; give "
                               "input_size=(H, W, C)")
        input_size = (dims[2], dims[3], dims[1])
    if dtype is None:
        dtype = "float64" if tensor.elem_type == onnx.TensorProto.DOUBLE else "float32"
    meta = {p.key: p.value for p in model.metadata_props}
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    walk = _Walk(tuple(int(v) for v in input_size), dtype, consts, meta, opset)
    walk.read(g, inputs[0].name)
    if walk.current not in [o.name for o in g.output]:
        raise InteropError(f"from_onnx: the last node read does not give the graph's output "
                           f"({', '.join(o.name for o in g.output)})")
    return build_network(walk.r, classification=classification, seed=seed, backend=backend)


class _Walk:
    def __init__(self, input_size, dtype, consts, meta, opset):
        self.r = Reader(input_size, dtype)
        self.consts, self.meta, self.opset = consts, meta, opset
        self.size = input_size
        self.current = None
        self.normalizing = None       # (name, shift) while a Sub waits for its Div
        self.matmul = None            # (layer, weights) of a MatMul an Add may follow
        self.taken = set()

    def name(self, node):
        """A layer name from a node name: torch.onnx.export's '/conv_1/Conv' -> 'conv_1';
        '' (cnnlab numbers it) for a Sequential index such as '/0/Conv' or a repeat."""
        name = node.name
        if name.startswith("/"):
            name = "_".join(name.strip("/").split("/")[:-1])
        if name.isdigit() or name in self.taken:
            return ""
        self.taken.add(name)
        return name

    def const(self, node, i, default=None):
        """Input i of a node as a constant array (default when the input is absent)."""
        if i >= len(node.input) or not node.input[i]:
            return default
        name = node.input[i]
        if name not in self.consts:
            raise InteropError(f"{_where(node)}: input {i} '{name}' is computed, not a "
                               "constant; cnnlab reads a chain of layers with constant "
                               "weights")
        return np.asarray(self.consts[name])

    def read(self, graph, first):
        self.current = first
        for node in graph.node:
            if node.op_type == "Constant":
                self.consts[node.output[0]] = _constant(node)
                continue
            if all(not i or i in self.consts for i in node.input):
                self._fold(node)      # exporters compute pads and shapes from constants
                continue
            if node.op_type == "Shape" and node.input[0] == self.current:
                # a side branch reading the image's shape (an exported Unflatten): known,
                # with N = 1 (cnnlab's reshapes read only the sizes after N)
                h, wd, c = self.r.shape
                full = [1, c] if self.r.flat else [1, c, h, wd]
                self.consts[node.output[0]] = np.array(full, np.int64)
                continue
            if not node.input or node.input[0] != self.current:
                raise InteropError(f"{_where(node)} does not take the previous node's output "
                                   f"'{self.current}' as its input: cnnlab reads a chain of "
                                   "layers (a decomposed or branching graph does not map)")
            read = NODES.get(node.op_type)
            if read is None:
                raise InteropError(f"{_where(node)}: no cnnlab layer for ONNX {node.op_type}; "
                                   f"cnnlab reads {', '.join(sorted(NODES))}")
            if self.r.pending is not None and node.op_type not in (
                    "Conv", "MaxPool", "AveragePool", "Pad"):
                raise InteropError(f"{self.r.pending[0]} is followed by {_where(node)}: cnnlab "
                                   "folds a Pad only into the Conv or pooling right after it")
            if self.normalizing is not None and node.op_type != "Div":
                self.image_input(None)
            if not self.r.layers and node.op_type not in ("Sub", "Div"):
                self.r.add(ImageInput(self.size, normalization="none"))
            a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
            layer = read(self, node, a, _where(node))
            if layer is not None:
                self.r.add(layer)
            self.current = node.output[0]
        if self.normalizing is not None:
            self.image_input(None)
        if not self.r.layers:
            self.r.add(ImageInput(self.size, normalization="none"))

    def _fold(self, node):
        """A node of constants only, computed once by the ONNX reference evaluator."""
        from onnx.reference import ReferenceEvaluator
        ev = ReferenceEvaluator(node, opsets={"": self.opset})
        feeds = {i: self.consts[i] for i in node.input if i}
        for name, value in zip(node.output, ev.run(None, feeds)):
            self.consts[name] = np.asarray(value)

    # ---- the image input: Sub(x, shift) then Div(., scale) --------------------------------
    def image_input(self, scale):
        name, shift = self.normalizing
        self.normalizing = None
        norm = self.meta.get(f"cnnlab.{name}.normalization")
        if norm is not None:          # written by cnnlab.to_onnx: the statistics themselves
            stats = {k: common.statistic_from_chw(self.consts[f"{name}.{k}"])
                     for k in common.NORMALIZATION_STATISTICS[norm]}
            self.r.add(ImageInput(self.size, normalization=norm, name=name, **stats))
        elif scale is None:
            self.r.add(ImageInput(self.size, normalization="zerocenter",
                                  mean=common.statistic_from_chw(shift)))
        else:
            self.r.add(ImageInput(self.size, normalization="zscore",
                                  mean=common.statistic_from_chw(shift),
                                  std=common.statistic_from_chw(scale)))


def _constant(node):
    a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    if "value" in a:
        return numpy_helper.to_array(a["value"])
    for key in ("value_float", "value_floats", "value_int", "value_ints"):
        if key in a:
            return np.asarray(a[key])
    raise InteropError(f"{_where(node)}: a Constant cnnlab cannot read ({', '.join(a)})")
