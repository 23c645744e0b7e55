"""The functions and tensor methods a traced PyTorch forward may call, and their cnnlab layers
(``torch_fx`` walks the graph; one reader per operation here).

    x + y, torch.add(x, y), x.add(y)        Addition(2); a + b + c one Addition(3)
    torch.cat([a, b, ...], dim=1)           DepthConcatenation(n): dim 1 of N×C×H×W is the
                                            channels, cnnlab's last axis
    torch.relu, F.relu, x.relu()            ReLU (likewise sigmoid and tanh)
    F.dropout(x, p)                         Dropout(p) (the identity when predicting)
    F.adaptive_avg_pool2d(x, 1)             global average pooling; x.mean((2, 3)) too,
                                            an N×C result
    torch.flatten(x, 1), x.view(N, -1)      no layer: the value is marked flat, and the
    x.reshape(x.size(0), -1)                Linear reading it gets the H, W, C column order
    x.size(0), x.shape[0]                   the batch size N, for a view
    x.contiguous()                          no layer (the same numbers)

A flat N×K value of a 1×1×K image and the N×K×1×1 image are the same numbers in both
layouts, so ``view(N, -1, 1, 1)`` of a 1×1 image is no layer either.
"""
from __future__ import annotations

import operator

import torch
import torch.nn.functional as F

from ..layers.activation import ReLU, Sigmoid, Tanh
from ..layers.combine import Addition, DepthConcatenation
from ..layers.dropout import Dropout
from ..layers.pool import GlobalAveragePooling2D
from .common import InteropError
from .torch_fx import BATCH, TracedImage, describe, operation_name


def read_operation(walk, node):
    """The value of a call_function / call_method node: an image (made by a new layer, or an
    earlier one's seen differently), the batch size, or a shape."""
    key = node.target if node.op == "call_function" else ("method", node.target)
    read = _READS.get(key)
    if read is None:
        raise InteropError(f"{describe(node)}: no cnnlab layer for this operation; cnnlab "
                           "reads modules of torch.nn that have a layer, x + y, torch.cat "
                           "along dim 1, relu / sigmoid / tanh, dropout, global average "
                           "pooling and flatten / view(N, -1)")
    args = [walk.value(a) for a in node.args]
    kwargs = {k: walk.value(v) for k, v in node.kwargs.items()}
    return read(walk, node, describe(node), args, kwargs)


def _arg(args, kwargs, i, key, default):
    return args[i] if len(args) > i else kwargs.get(key, default)


def _image(walk, node, where, i=0):
    return walk.image(node.args[i], where)


def _no_extra(where, args, kwargs, n, allowed=()):
    extra = sorted(k for k in kwargs if k not in allowed)
    if len(args) > n or extra:
        raise InteropError(f"{where}: called with arguments {args[n:]} {extra}; cnnlab reads "
                           f"it with {n} argument{'s' if n > 1 else ''} only")


# ---- joins ---------------------------------------------------------------------------------

def _add(walk, node, where, args, kwargs):
    if len(args) != 2 or kwargs.get("alpha", 1) != 1 or set(kwargs) - {"alpha"}:
        raise InteropError(f"{where}: cnnlab's Addition sums images, without a factor "
                           f"(args {args}, keywords {kwargs})")
    if not all(isinstance(a, TracedImage) for a in args):
        raise InteropError(f"{where}: adds {args[0]!r} and {args[1]!r}; cnnlab's Addition sums "
                           "two images computed from the input (not a constant)")
    a, b = (_image(walk, node, where, i) for i in (0, 1))
    if a.flat != b.flat:
        raise InteropError(f"{where}: adds a flattened tensor to an image")
    # flattened, the two are permuted the same way (C·H·W in PyTorch, H·W·C in cnnlab), so
    # their element-wise sum is the same numbers in either order
    if walk.continues_addition(node, a):           # (a1 + a2 + ...) + b: one more input
        inputs = walk.inputs[a.layer] + [b]
        layer = Addition(len(inputs), name=a.layer)
    else:
        inputs, layer = [a, b], Addition(2, name=walk.join_name(node))
    return walk.add(layer, inputs, where, flat=a.flat, node=node)


def _cat(walk, node, where, args, kwargs):
    tensors = args[0] if args else kwargs.get("tensors")
    dim = _arg(args, kwargs, 1, "dim", 0)
    _no_extra(where, args, kwargs, 2, ("tensors", "dim"))
    parts = [walk.image(a, where) for a in
             (node.args[0] if node.args else node.kwargs["tensors"])]
    spatial = any(x.flat and x.shape[:2] != (1, 1) for x in parts)
    if spatial or any(x.flat != parts[0].flat for x in parts):
        raise InteropError(f"{where}: concatenates flattened tensors of images larger than "
                           "1x1; cnnlab concatenates images along their channels")
    if dim not in ((1, -1) if parts[0].flat else (1, -3)):
        raise InteropError(f"{where}: dim = {dim}: cnnlab's DepthConcatenation stacks "
                           f"channels, dim = 1 of N x C x H x W ({len(tensors)} inputs)")
    if len(parts) == 1:
        return parts[0]
    layer = DepthConcatenation(len(parts), name=walk.join_name(node))
    return walk.add(layer, parts, where, flat=parts[0].flat, node=node)


# ---- layers without options ------------------------------------------------------------------

def _layer(cls, n=1, allowed=("inplace",)):
    def read(walk, node, where, args, kwargs):
        _no_extra(where, args, kwargs, n, allowed)
        x = _image(walk, node, where)
        return walk.add(cls(name=walk.unique(operation_name(node))), [x], where, flat=x.flat)
    return read


def _dropout(walk, node, where, args, kwargs):
    _no_extra(where, args, kwargs, 3, ("p", "training", "inplace"))
    x = _image(walk, node, where)
    p = _arg(args, kwargs, 1, "p", 0.5)
    return walk.add(Dropout(p, name=walk.unique(operation_name(node))), [x], where, flat=x.flat)


def _global_pool(walk, x, node, where, flat):
    if x.flat:
        raise InteropError(f"{where}: pools a flattened tensor")
    layer = GlobalAveragePooling2D(name=walk.unique(operation_name(node)))
    return walk.add(layer, [x], where, flat=flat)


def _adaptive_avg(walk, node, where, args, kwargs):
    _no_extra(where, args, kwargs, 2, ("output_size",))
    size = _arg(args, kwargs, 1, "output_size", None)
    if size not in (1, (1, 1), [1, 1]):
        raise InteropError(f"{where}: output_size = {size}: cnnlab's global pooling is "
                           "output_size = 1 only")
    return _global_pool(walk, _image(walk, node, where), node, where, False)


def _mean(walk, node, where, args, kwargs):
    _no_extra(where, args, kwargs, 3, ("dim", "keepdim"))
    dims = _arg(args, kwargs, 1, "dim", None)
    keep = _arg(args, kwargs, 2, "keepdim", False)
    if dims is None or sorted(d % 4 for d in dims) != [2, 3]:
        raise InteropError(f"{where}: dim = {dims}: cnnlab averages over the height and width "
                           "of each image (dim = (2, 3), global average pooling)")
    return _global_pool(walk, _image(walk, node, where), node, where, not keep)


# ---- views: no layer ---------------------------------------------------------------------------

def _flatten(walk, node, where, args, kwargs):
    _no_extra(where, args, kwargs, 3, ("start_dim", "end_dim"))
    x = _image(walk, node, where)
    start, end = _arg(args, kwargs, 1, "start_dim", 0), _arg(args, kwargs, 2, "end_dim", -1)
    if start != 1 or end not in (-1, len(x.torch_shape()) - 1):
        raise InteropError(f"{where}: start_dim = {start}, end_dim = {end}: cnnlab flattens "
                           "each image whole (start_dim = 1, end_dim = -1)")
    return TracedImage(x.layer, x.shape, True)


def _view(walk, node, where, args, kwargs):
    x = _image(walk, node, where)
    shape = list(args[1:]) if not kwargs else list(kwargs.get("shape", kwargs.get("size", ())))
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
        shape = list(shape[0])
    h, w, c = x.shape
    total = h * w * c
    batch = shape[:1] == [BATCH] or (shape[:1] == [-1] and -1 not in shape[1:])
    rest = [total if v == -1 else v for v in shape[1:]]
    if batch and rest == [total]:
        return TracedImage(x.layer, x.shape, True)                        # N x (C·H·W)
    if batch and rest == [total, 1, 1] and (h, w) == (1, 1):
        return TracedImage(x.layer, x.shape, False)                       # N x K x 1 x 1
    dims = " x ".join(map(str, x.torch_shape()[1:]))
    raise InteropError(f"{where}: shape {tuple(shape)} of an N x {dims} "
                       "tensor: cnnlab reads a view that flattens each image, "
                       "(x.size(0), -1), or gives a flat 1x1 image back, (x.size(0), -1, 1, 1)")


def _same(walk, node, where, args, kwargs):
    _no_extra(where, args, kwargs, 1, ("memory_format",))
    return _image(walk, node, where)


def _size(walk, node, where, args, kwargs):
    x = _image(walk, node, where)
    dim = _arg(args, kwargs, 1, "dim", None)
    full = x.torch_shape()
    return full if dim is None else full[dim]


def _getattr(walk, node, where, args, kwargs):
    if isinstance(args[0], TracedImage) and args[1] == "shape":
        return args[0].torch_shape()
    raise InteropError(f"{where}: reads attribute {args[1]!r} of {args[0]!r}; cnnlab reads "
                       "only the .shape of an image")


def _getitem(walk, node, where, args, kwargs):
    if isinstance(args[0], tuple) and isinstance(args[1], int):
        return args[0][args[1]]
    raise InteropError(f"{where}: indexes {args[0]!r} with {args[1]!r}; cnnlab reads only "
                       "an entry of a shape (x.shape[0])")


def _methods(read, *names):
    return {("method", n): read for n in names}


_READS = {
    operator.add: _add, operator.iadd: _add, torch.add: _add, **_methods(_add, "add", "add_"),
    torch.cat: _cat, torch.concat: _cat, torch.concatenate: _cat,
    torch.relu: _layer(ReLU), torch.relu_: _layer(ReLU), F.relu: _layer(ReLU),
    **_methods(_layer(ReLU), "relu", "relu_"),
    torch.sigmoid: _layer(Sigmoid), F.sigmoid: _layer(Sigmoid),
    **_methods(_layer(Sigmoid), "sigmoid", "sigmoid_"),
    torch.tanh: _layer(Tanh), F.tanh: _layer(Tanh), **_methods(_layer(Tanh), "tanh", "tanh_"),
    F.dropout: _dropout, F.adaptive_avg_pool2d: _adaptive_avg,
    torch.mean: _mean, ("method", "mean"): _mean,
    torch.flatten: _flatten, ("method", "flatten"): _flatten,
    torch.reshape: _view, **_methods(_view, "view", "reshape"),
    ("method", "contiguous"): _same, ("method", "size"): _size, getattr: _getattr,
    operator.getitem: _getitem,
}
