"""The ONNX nodes cnnlab reads, one function each: (walk, node, attributes, where) -> a cnnlab
layer, or None for a node that only changes the walk (Flatten, Pad, the normalization).
``NODES`` is the map; ``onnx_import`` walks the graph."""
from __future__ import annotations

import numpy as np

from ..layers.activation import ClippedReLU, LeakyReLU, ReLU, Sigmoid, Tanh
from ..layers.conv import Convolution2D
from ..layers.dense import FullyConnected
from ..layers.dropout import Dropout
from ..layers.norm import BatchNormalization, CrossChannelNormalization
from ..layers.output import Softmax
from ..layers.pool import (AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
                           MaxPooling2D)
from ..layers.transposed import TransposedConvolution2D
from . import common
from .common import InteropError
from .reader import ceil_mode_extra


def where(node):
    return f"node '{node.name or node.output[0]}' ({node.op_type})"


def _first_layer_check(w, node, where):
    if w.r.layers:
        raise InteropError(f"{where}: {node.op_type} by a constant is read only as the image "
                           "input's normalization, before every layer")


def _sub(w, node, a, where):
    _first_layer_check(w, node, where)
    w.normalizing = (w.name(node), w.const(node, 1))


def _div(w, node, a, where):
    if w.normalizing is None:
        _first_layer_check(w, node, where)
        w.normalizing = (w.name(node), np.zeros(1))
    w.image_input(w.const(node, 1))


def _spatial_pads(node, a, where, r, kernel, strides, dilations=(1, 1)):
    """[t, b, l, r] from ONNX pads [t, l, b, r] or auto_pad."""
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", "VALID"):
        t, l, b, rr = a.get("pads", [0, 0, 0, 0]) if auto == "NOTSET" else [0, 0, 0, 0]
        return [t, b, l, rr]
    pads = []
    for axis in (0, 1):            # SAME_UPPER: the extra cell at the end (cnnlab's 'same')
        n, k, s, d = r.shape[axis], kernel[axis], strides[axis], dilations[axis]
        total = max(0, (-(-n // s) - 1) * s + (k - 1) * d + 1 - n)
        small, big = total // 2, total - total // 2
        pads += [small, big] if auto == "SAME_UPPER" else [big, small]
    return pads


def _conv(w, node, a, where):
    weight = w.const(node, 1)
    bias = w.const(node, 2)
    kernel = tuple(a.get("kernel_shape", weight.shape[2:]))
    strides, dil = tuple(a.get("strides", (1, 1))), tuple(a.get("dilations", (1, 1)))
    pads = _spatial_pads(node, a, where, w.r, kernel, strides, dil)
    value = 0
    got = w.r.take_pad(where, lambda v: not any(pads) or v == 0)
    if got is not None:
        pads = [p + q for p, q in zip(pads, got[0])]
        value = got[1]
    return Convolution2D(kernel, weight.shape[0], stride=strides, dilation=dil,
                         padding=tuple(pads), padding_value=value, groups=a.get("group", 1),
                         weights=common.conv_weights_from_chw(weight), bias=bias,
                         has_bias=bias is not None, name=w.name(node))


def _conv_transpose(w, node, a, where):
    weight, bias = w.const(node, 1), w.const(node, 2)
    for key, ok in (("group", 1), ("dilations", [1, 1])):
        if key in a and list(np.atleast_1d(a[key])) != list(np.atleast_1d(ok)):
            raise InteropError(f"{where}: {key} = {a[key]}: cnnlab's transposed convolution "
                               f"has none")
    if "output_shape" in a or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise InteropError(f"{where}: output_shape / auto_pad: give explicit pads instead")
    t, l, b, r = a.get("pads", [0, 0, 0, 0])
    oh, ow = a.get("output_padding", [0, 0])
    if oh > b or ow > r:
        raise InteropError(f"{where}: output_padding = {[oh, ow]} is more than the end pads "
                           f"{[b, r]}: the extra rows lie beyond the full output, and cnnlab's "
                           "transposed convolution can only crop it")
    f = weight.shape[1]
    w.r.transposed_kwargs = dict(
        filter_size=tuple(weight.shape[2:]), num_filters=f,
        stride=tuple(a.get("strides", (1, 1))), cropping=(t, b - oh, l, r - ow),
        weights=common.transposed_weights_from_chw(weight),
        bias=np.zeros(f) if bias is None else bias, name=w.name(node))
    return TransposedConvolution2D(**w.r.transposed_kwargs)


def _pad(w, node, a, where):
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    pads = a["pads"] if "pads" in a else w.const(node, 1)
    if w.const(node, 3) is not None:
        raise InteropError(f"{where}: the axes input is not read; give pads for all 4 axes")
    pads = [int(p) for p in pads]
    if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)):
        raise InteropError(f"{where}: pads = {pads}: cnnlab pads rows and columns only")
    t, l, b, r = pads[2], pads[3], pads[6], pads[7]
    if min(t, l, b, r) < 0:
        if max(t, l, b, r) > 0:
            raise InteropError(f"{where}: pads = {pads} both pads and crops")
        w.r.crop_last(where, -t, -b, -l, -r)
        return None
    if mode == "constant":
        value = a.get("value", None)
        if value is None:
            c = w.const(node, 2)
            value = 0.0 if c is None else float(np.asarray(c).reshape(-1)[0])
        value = float(value)
        value = 0 if value == 0 else value
    elif mode in ("edge", "reflect"):
        value = {"edge": "replicate", "reflect": "symmetric-exclude-edge"}[mode]
    else:
        raise InteropError(f"{where}: mode = {mode!r} has no cnnlab padding value")
    if w.r.pending is not None:
        raise InteropError(f"{where}: two Pad nodes in a row")
    w.r.pending = (where, (t, b, l, r), value)
    return None


def _pool(w, node, a, where):
    is_max = node.op_type == "MaxPool"
    if len(node.output) > 1 and node.output[1]:
        raise InteropError(f"{where}: the Indices output is not an image")
    if list(a.get("dilations", [1, 1])) != [1, 1]:
        raise InteropError(f"{where}: dilations = {a['dilations']}: cnnlab's pooling has none")
    kernel, strides = tuple(a["kernel_shape"]), tuple(a.get("strides", (1, 1)))
    pads = _spatial_pads(node, a, where, w.r, kernel, strides)
    if not is_max and any(pads) and not a.get("count_include_pad", 0):
        raise InteropError(f"{where}: count_include_pad = 0 divides by the cells inside the "
                           "input; cnnlab's average pooling counts padding cells as zeros")
    if a.get("ceil_mode", 0):
        for axis in (0, 1):
            extra = ceil_mode_extra(w.r.shape[axis], kernel[axis], strides[axis],
                                    pads[2 * axis], pads[2 * axis + 1])
            if extra and not is_max:
                raise InteropError(f"{where}: ceil_mode = 1 adds a window past the padded "
                                   "input, divided by fewer cells; cnnlab divides by the "
                                   "window size")
            pads[2 * axis + 1] += extra
    got = w.r.take_pad(where, (lambda v: v == -np.inf) if is_max else (lambda v: v == 0))
    if got is not None:
        pads = [p + q for p, q in zip(pads, got[0])]
    cls = MaxPooling2D if is_max else AveragePooling2D
    return cls(kernel, stride=strides, padding=tuple(pads), name=w.name(node))


def _batchnorm(w, node, a, where):
    if a.get("training_mode", 0):
        raise InteropError(f"{where}: training_mode = 1 normalizes with batch statistics")
    scale, offset, mean, var = (w.const(node, i) for i in (1, 2, 3, 4))
    momentum = float(a.get("momentum", 0.9))    # ONNX keeps momentum of the old value
    w.r.batchnorm_stats[len(w.r.layers)] = (mean, var)
    return BatchNormalization(epsilon=float(a.get("epsilon", 1e-5)), mean_decay=1 - momentum,
                              variance_decay=1 - momentum, scale=scale, offset=offset,
                              name=w.name(node))


def _lrn(w, node, a, where):
    size = int(a["size"])
    if size % 2 == 0:
        raise InteropError(f"{where}: size = {size} is even: ONNX's window reaches one channel "
                           "further forward, cnnlab's one further back")
    return CrossChannelNormalization(size, alpha=float(a.get("alpha", 1e-4)),
                                     beta=float(a.get("beta", 0.75)),
                                     k=float(a.get("bias", 1.0)), name=w.name(node))


def _clip(w, node, a, where):
    lo = a.get("min", w.const(node, 1))
    hi = a.get("max", w.const(node, 2))
    lo = None if lo is None else float(np.asarray(lo).reshape(-1)[0])
    hi = None if hi is None else float(np.asarray(hi).reshape(-1)[0])
    if lo != 0 or (hi is not None and hi <= 0):
        raise InteropError(f"{where}: min = {lo}, max = {hi}: cnnlab's clipped ReLU is "
                           "Clip(0, ceiling) with ceiling > 0")
    return ReLU(name=w.name(node)) if hi is None else ClippedReLU(hi, name=w.name(node))


def _flatten(w, node, a, where):
    if a.get("axis", 1) != 1:
        raise InteropError(f"{where}: axis = {a['axis']}: cnnlab flattens each image whole")
    w.r.flat = True


def _reshape(w, node, a, where):
    shape = [int(v) for v in w.const(node, 1)]
    h, wd, c = w.r.shape
    if len(shape) == 2 and shape[1] in (-1, h * wd * c):
        w.r.flat = True
    elif len(shape) == 4 and shape[1:] == [c, 1, 1] and (h, wd) == (1, 1):
        w.r.flat = False
    else:
        raise InteropError(f"{where}: shape = {shape}: cnnlab reads only a flatten (N, -1) or "
                           "(N, K, 1, 1) of a 1x1xK output")


def _fc(w, node, a, where, weight, bias):
    h, wd, c = w.r.shape
    if not w.r.flat and (h, wd) != (1, 1):
        raise InteropError(f"{where}: a matrix product on an N x C x H x W tensor: put a "
                           "Flatten before it")
    if weight.shape[1] != h * wd * c:
        raise InteropError(f"{where}: {weight.shape[1]} inputs, but the input {h}x{wd}x{c} "
                           f"flattens to {h * wd * c}")
    w.r.flat = True
    k = weight.shape[0]
    bias = np.zeros(k) if bias is None else np.broadcast_to(bias, (k,))
    # ONNX's (PyTorch's) columns run over C, then H, then W; cnnlab's over H, W, C
    weights = common.fc_weights_from_chw(weight, w.r.shape)
    layer = FullyConnected(k, weights=weights, bias=bias, name=w.name(node))
    w.matmul = (layer, weights) if node.op_type == "MatMul" else None
    return layer


def _gemm(w, node, a, where):
    if a.get("transA", 0):
        raise InteropError(f"{where}: transA = 1 multiplies the image transposed")
    weight, bias = w.const(node, 1), w.const(node, 2)
    weight = weight if a.get("transB", 0) else weight.T       # cnnlab: K x D
    alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
    if alpha != 1 or (bias is not None and beta != 1):
        raise InteropError(f"{where}: alpha = {alpha:g}, beta = {beta:g}: cnnlab's fully "
                           "connected layer is x·Wᵀ + b")
    return _fc(w, node, a, where, weight, bias)


def _matmul(w, node, a, where):
    return _fc(w, node, a, where, w.const(node, 1).T, None)


def _add(w, node, a, where):
    """A bias added right after a MatMul: folded into that fully connected layer."""
    last = w.r.layers[-1] if w.r.layers else None
    if w.matmul is None or w.matmul[0] is not last:
        raise InteropError(f"{where}: Add is read only as the bias right after a MatMul")
    bias = w.const(node, 1).reshape(-1)
    w.r.replace_last(FullyConnected(last.output_size, weights=w.matmul[1], bias=bias,
                                    name=last.name))
    w.matmul = None


def _softmax(w, node, a, where):
    h, wd, _ = w.r.shape
    axis = a.get("axis", 1 if w.opset < 13 else -1)
    spatial = (h, wd) != (1, 1)
    if (w.r.flat and spatial) or axis not in ((1, -1) if w.r.flat else (1, -3)) or \
            (w.opset < 13 and spatial):
        raise InteropError(f"{where}: axis = {axis}: cnnlab's softmax is over the channels "
                           "of each position")
    return Softmax(name=w.name(node))


def _global(w, node, a, where):
    cls = GlobalAveragePooling2D if node.op_type != "GlobalMaxPool" else GlobalMaxPooling2D
    return cls(name=w.name(node))


def _reduce_mean(w, node, a, where):
    axes = a.get("axes", None)
    axes = w.const(node, 1) if axes is None else axes
    if axes is None or sorted(int(v) % 4 for v in np.atleast_1d(axes)) != [2, 3] or \
            not a.get("keepdims", 1):
        raise InteropError(f"{where}: axes = {axes}: cnnlab reads only a mean over H and W "
                           "(keepdims)")
    return GlobalAveragePooling2D(name=w.name(node))


def _dropout(w, node, a, where):
    ratio = a.get("ratio", w.const(node, 1, 0.5))
    return Dropout(float(np.asarray(ratio).reshape(-1)[0]), name=w.name(node))


def _simple(cls, **read):
    def make(w, node, a, where):
        return cls(**{k: f(a) for k, f in read.items()}, name=w.name(node))
    return make


NODES = {
    "Sub": _sub, "Div": _div, "Conv": _conv, "ConvTranspose": _conv_transpose, "Pad": _pad,
    "MaxPool": _pool, "AveragePool": _pool, "BatchNormalization": _batchnorm, "LRN": _lrn,
    "Relu": _simple(ReLU), "LeakyRelu": _simple(LeakyReLU,
                                                 scale=lambda a: float(a.get("alpha", 0.01))),
    "Clip": _clip, "Tanh": _simple(Tanh), "Sigmoid": _simple(Sigmoid),
    "GlobalAveragePool": _global, "GlobalMaxPool": _global, "ReduceMean": _reduce_mean,
    "Dropout": _dropout, "Identity": lambda w, node, a, where: None, "Flatten": _flatten,
    "Reshape": _reshape, "Gemm": _gemm, "MatMul": _matmul, "Add": _add, "Softmax": _softmax,
}
