"""PyTorch -> cnnlab: ``from_torch(model, input_size)`` reads an ``nn.Sequential`` module by
module into a cnnlab Network that computes the same, so it can be traced window by window
(any other module goes through ``torch.fx`` into a layer graph: ``torch_fx.py``).

Each module maps to one cnnlab layer (the table is ``MAPS`` below and in the README); an
explicit pad module is folded into the convolution or pooling after it, and a negative
``ZeroPad2d`` after a transposed convolution becomes its cropping. A module or option with no
exact cnnlab equivalent raises :class:`InteropError` naming the module and the option.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

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
from . import common
from .common import InteropError
from .reader import Reader, build_network, ceil_mode_extra

#: PyTorch padding_mode / pad module -> cnnlab padding_value
_MODES = {"zeros": 0, "reflect": "symmetric-exclude-edge", "replicate": "replicate"}
PAD_MODULES = {nn.ZeroPad2d: "zeros", nn.ConstantPad2d: "constant",
                nn.ReplicationPad2d: "replicate", nn.ReflectionPad2d: "reflect"}


def _np(t):
    return t.detach().cpu().numpy().astype(np.float64)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _children(module, prefix=""):
    """(name, module) of a Sequential, nested Sequentials opened in order."""
    for key, child in module.named_children():
        if isinstance(child, nn.Sequential):
            yield from _children(child, f"{prefix}{key}_")
        else:
            yield (key if not key.isdigit() else ""), f"{prefix}{key}", child


def _a_chain(module) -> bool:
    """Whether an nn.Sequential is read as a chain: it holds (in nested Sequentials) only
    modules of torch.nn and cnnlab's image normalization. One holding modules with a forward
    of their own (residual blocks) is traced instead."""
    return all(type(m).__module__.startswith("torch.nn.") or
               type(m).__name__ == "ImageNormalization" for _, _, m in _children(module))


def from_torch(module, input_size, *, dtype=None, seed=0, backend="auto",
               classification=True):
    """A cnnlab Network computing what ``module`` computes in eval mode.

    An ``nn.Sequential`` (or a single module cnnlab has a layer for) is read module by
    module into a chain of layers. Any other module -- a residual block, a ResNet, an
    Inception block, or the ``LayerGraphModule`` that ``cnnlab.to_torch`` makes of a layer
    graph -- is traced with ``torch.fx`` and read into a layer graph
    (``cnnlab.interop.torch_fx``): its submodules become layers as in a chain, ``x + y``
    an Addition, ``torch.cat(..., dim=1)`` a DepthConcatenation, ``torch.relu`` a ReLU and
    ``torch.flatten(x, 1)`` / ``x.view(x.size(0), -1)`` the flatten before a fully connected
    layer; the connections follow the arguments of the traced operations, and layers are
    named from the modules' qualified names (``layer1.0.conv1`` -> ``layer1_0_conv1``).
    Weights, biases and batch-norm running statistics are copied. An operation with no
    cnnlab layer raises :class:`InteropError` naming the fx node, its op and target.

    input_size : (H, W, C) or (H, W) of one image (cnnlab's order, channels last)
    dtype : "float32" or "float64"; default: the module's parameters' precision
    classification : add a Classification output after a final Softmax (so the network
        can be trained with cnnlab.train_network)
    """
    size = tuple(int(v) for v in input_size)
    size = size + (1,) if len(size) == 2 else size
    if dtype is None:
        first = next(iter(list(module.parameters()) + list(module.buffers())), None)
        dtype = "float64" if first is not None and first.dtype == torch.float64 else "float32"
    if type(module) in MAPS:             # one layer module: a chain of one
        module = nn.Sequential(module)
    if not isinstance(module, nn.Sequential) or not _a_chain(module):
        from .torch_fx import from_traced
        return from_traced(module, size, dtype=dtype, seed=seed, backend=backend,
                           classification=classification)
    r = Reader(size, np.dtype(dtype))
    children = list(_children(module))
    start = 0
    if children and type(children[0][2]).__name__ == "ImageNormalization":
        m = children[0][2]
        stats = {k: common.statistic_from_chw(_np(getattr(m, k))) for k in m.statistic_names}
        r.add(ImageInput(size, normalization=m.normalization, name=children[0][0], **stats))
        start = 1
    else:
        r.add(ImageInput(size, normalization="none"))
    taken = {r.layers[0].name}
    for name, path, m in children[start:]:
        where = f"module '{path}' ({type(m).__name__})"
        if name in taken:          # nested Sequentials may repeat a key: cnnlab numbers it
            name = ""
        taken.add(name)
        read = MAPS.get(type(m))
        if read is None:
            raise InteropError(f"{where}: no cnnlab layer for {type(m).__name__}; cnnlab reads "
                               f"{', '.join(sorted(c.__name__ for c in MAPS))}")
        if r.pending is not None and read not in TAKES_PAD:
            raise InteropError(f"{r.pending[0]} is followed by {where}: cnnlab folds a pad "
                               "module only into the convolution or pooling right after it")
        layer = read(m, name, where, r)
        if layer is not None:
            r.add(layer)
    return build_network(r, classification=classification, seed=seed, backend=backend)


# ---- one function per module kind: (module, name, where, reader) -> cnnlab layer or None ----

def _conv(m, name, where, r):
    h, w, _ = r.shape
    fh, fw = m.kernel_size
    if m.padding_mode not in _MODES:
        raise InteropError(f"{where}: padding_mode = {m.padding_mode!r} has no cnnlab padding "
                           f"value (cnnlab has {', '.join(map(repr, _MODES))})")
    if isinstance(m.padding, str):      # 'valid', or 'same' (stride 1): extra at the end
        pads = [0, 0, 0, 0]
        if m.padding == "same":
            for axis, (d, k) in enumerate(zip(m.dilation, m.kernel_size)):
                total = d * (k - 1)
                pads[2 * axis:2 * axis + 2] = [total // 2, total - total // 2]
    else:
        (ph, pw) = m.padding
        pads = [ph, ph, pw, pw]
    value = _MODES[m.padding_mode]
    got = r.take_pad(where, lambda v: not any(pads) or v == value)
    if got is not None:
        extra, pad_value = got
        pads = [a + b for a, b in zip(pads, extra)]
        value = pad_value
    bias = None if m.bias is None else _np(m.bias)
    return Convolution2D((fh, fw), m.out_channels, stride=m.stride, dilation=m.dilation,
                         padding=tuple(pads), padding_value=value, groups=m.groups,
                         weights=common.conv_weights_from_chw(_np(m.weight)), bias=bias,
                         has_bias=m.bias is not None, name=name)


def _transposed(m, name, where, r):
    if m.groups != 1:
        raise InteropError(f"{where}: groups = {m.groups}: cnnlab's transposed convolution "
                           "has no groups")
    if tuple(m.dilation) != (1, 1):
        raise InteropError(f"{where}: dilation = {tuple(m.dilation)}: cnnlab's transposed "
                           "convolution has no dilation")
    (ph, pw), (oh, ow) = m.padding, m.output_padding
    if oh > ph or ow > pw:
        raise InteropError(f"{where}: output_padding = {(oh, ow)} is more than padding = "
                           f"{(ph, pw)}: the extra rows lie beyond the full output (bias "
                           "only), and cnnlab's transposed convolution can only crop it")
    f = m.out_channels
    bias = np.zeros(f) if m.bias is None else _np(m.bias)
    # PyTorch crops `padding` on both sides and gives `output_padding` back at the end
    r.transposed_kwargs = dict(
        filter_size=m.kernel_size, num_filters=f, stride=m.stride,
        cropping=(ph, ph - oh, pw, pw - ow),
        weights=common.transposed_weights_from_chw(_np(m.weight)), bias=bias, name=name)
    return TransposedConvolution2D(**r.transposed_kwargs)


def _pad(m, name, where, r):
    kind = PAD_MODULES[type(m)]
    left, right, top, bottom = m.padding
    if min(m.padding) < 0:               # a crop: only after a transposed convolution
        if max(m.padding) > 0:
            raise InteropError(f"{where}: padding {tuple(m.padding)} both pads and crops")
        r.crop_last(where, -top, -bottom, -left, -right)
        return None
    value = {"zeros": 0, "replicate": "replicate",
             "reflect": "symmetric-exclude-edge"}.get(kind)
    if kind == "constant":
        value = float(m.value)
    r.pending = (where, (top, bottom, left, right), value)
    return None


def _batchnorm(m, name, where, r):
    if not m.track_running_stats or m.running_mean is None:
        raise InteropError(f"{where}: track_running_stats = False normalizes with each "
                           "batch's statistics even when predicting; cnnlab's batch "
                           "normalization predicts with trained statistics")
    if m.momentum is None:
        raise InteropError(f"{where}: momentum = None (a cumulative average): cnnlab's "
                           "running statistics move by a fixed decay")
    c = m.num_features
    fixed = {} if m.affine else {"scale_learn_rate_factor": 0, "offset_learn_rate_factor": 0}
    scale = _np(m.weight) if m.affine else np.ones(c)
    offset = _np(m.bias) if m.affine else np.zeros(c)
    r.batchnorm_stats[len(r.layers)] = (_np(m.running_mean), _np(m.running_var))
    return BatchNormalization(epsilon=m.eps, mean_decay=m.momentum, variance_decay=m.momentum,
                              scale=scale, offset=offset, name=name, **fixed)


def _hardtanh(m, name, where, r):
    if m.min_val != 0 or m.max_val <= 0:
        raise InteropError(f"{where}: min_val = {m.min_val:g}, max_val = {m.max_val:g}: "
                           "cnnlab's clipped ReLU is Hardtanh(0, ceiling) with ceiling > 0")
    return ClippedReLU(m.max_val, name=name)


def _pool_common(m, where, r, kind):
    """((kh, kw), (sh, sw), [t, b, l, r]) of a MaxPool2d/AvgPool2d, ceil_mode as extra
    padding at the end where that is exact (``kind`` tells which)."""
    k, s = _pair(m.kernel_size), _pair(m.stride if m.stride is not None else m.kernel_size)
    p = _pair(m.padding)
    pads = [p[0], p[0], p[1], p[1]]
    if m.ceil_mode:
        for axis in (0, 1):
            extra = ceil_mode_extra(r.shape[axis], k[axis], s[axis], p[axis], p[axis])
            if extra and kind == "avg":
                raise InteropError(f"{where}: ceil_mode = True adds a window that runs past "
                                   "the padded input, and PyTorch divides its sum by the cells "
                                   "it covers; cnnlab's average pooling always divides by the "
                                   "window size")
            # max pooling: the extra window sees -inf beyond the input, as in PyTorch
            pads[2 * axis + 1] += extra
    return k, s, pads


def _maxpool(m, name, where, r):
    if _pair(m.dilation) != (1, 1):
        raise InteropError(f"{where}: dilation = {m.dilation}: cnnlab's max pooling has no "
                           "dilation")
    if m.return_indices:
        raise InteropError(f"{where}: return_indices = True returns a tuple, not an image")
    k, s, pads = _pool_common(m, where, r, "max")
    got = r.take_pad(where, lambda v: v == -np.inf)
    if got is not None:
        pads = [a + b for a, b in zip(pads, got[0])]
    return MaxPooling2D(k, stride=s, padding=tuple(pads), name=name)


def _avgpool(m, name, where, r):
    if m.divisor_override is not None:
        raise InteropError(f"{where}: divisor_override = {m.divisor_override}: cnnlab's "
                           "average pooling divides by the window size")
    if not m.count_include_pad and any(_pair(m.padding)):
        raise InteropError(f"{where}: count_include_pad = False divides by the cells inside "
                           "the input; cnnlab's average pooling counts padding cells as zeros "
                           "(count_include_pad = True)")
    k, s, pads = _pool_common(m, where, r, "avg")
    got = r.take_pad(where, lambda v: v == 0)     # zero padding cells count in the mean
    if got is not None:
        pads = [a + b for a, b in zip(pads, got[0])]
    return AveragePooling2D(k, stride=s, padding=tuple(pads), name=name)


def _adaptive(m, name, where, r):
    if _pair(m.output_size) != (1, 1):
        raise InteropError(f"{where}: output_size = {m.output_size}: cnnlab's global pooling "
                           "is output_size = 1 only")
    cls = GlobalAveragePooling2D if isinstance(m, nn.AdaptiveAvgPool2d) else GlobalMaxPooling2D
    return cls(name=name)


def _flatten(m, name, where, r):
    if m.start_dim != 1 or m.end_dim != -1:
        raise InteropError(f"{where}: start_dim = {m.start_dim}, end_dim = {m.end_dim}: cnnlab "
                           "flattens each image whole (start_dim = 1, end_dim = -1)")
    r.flat = True           # cnnlab flattens inside its fully connected layer
    return None


def _unflatten(m, name, where, r):
    size = tuple(m.unflattened_size)
    if m.dim != 1 or size != (r.shape[2], 1, 1) or r.shape[:2] != (1, 1):
        raise InteropError(f"{where}: dim = {m.dim}, unflattened_size = {size}: cnnlab reads "
                           f"only Unflatten(1, (K, 1, 1)) of a 1x1xK output")
    r.flat = False
    return None


def _linear(m, name, where, r):
    h, w, c = r.shape
    if not r.flat and (h, w) != (1, 1):
        raise InteropError(f"{where}: a Linear on an N x C x H x W tensor acts on its last "
                           "axis only; cnnlab's fully connected layer sees the whole image "
                           "(put nn.Flatten() before it)")
    if m.in_features != h * w * c:
        raise InteropError(f"{where}: in_features = {m.in_features}, but the input "
                           f"{h}x{w}x{c} flattens to {h * w * c}")
    # PyTorch's columns run over C, then H, then W; cnnlab's over H, W, C
    weights = common.fc_weights_from_chw(_np(m.weight), r.shape)
    bias = np.zeros(m.out_features) if m.bias is None else _np(m.bias)
    r.flat = True
    return FullyConnected(m.out_features, weights=weights, bias=bias, name=name)


def _softmax(m, name, where, r):
    h, w, _ = r.shape
    if m.dim not in ((1, -1) if r.flat else (1, -3)) or (r.flat and (h, w) != (1, 1)):
        raise InteropError(f"{where}: dim = {m.dim}: cnnlab's softmax is over the channels "
                           "of each position (dim = 1 of N x C x H x W, or of N x K)")
    return Softmax(name=name)


def _simple(cls, **read):
    def make(m, name, where, r):
        return cls(**{k: f(m) for k, f in read.items()}, name=name)
    return make


MAPS = {
    nn.Conv2d: _conv, nn.ConvTranspose2d: _transposed, nn.BatchNorm2d: _batchnorm,
    nn.ReLU: _simple(ReLU), nn.LeakyReLU: _simple(LeakyReLU, scale=lambda m: m.negative_slope),
    nn.ReLU6: _simple(ClippedReLU, ceiling=lambda m: 6.0), nn.Hardtanh: _hardtanh,
    nn.Tanh: _simple(Tanh), nn.Sigmoid: _simple(Sigmoid),
    nn.LocalResponseNorm: _simple(CrossChannelNormalization,
                                  window_channel_size=lambda m: m.size,
                                  alpha=lambda m: m.alpha, beta=lambda m: m.beta,
                                  k=lambda m: m.k),
    nn.MaxPool2d: _maxpool, nn.AvgPool2d: _avgpool, nn.AdaptiveAvgPool2d: _adaptive,
    nn.AdaptiveMaxPool2d: _adaptive,
    nn.Dropout: _simple(Dropout, probability=lambda m: m.p),
    nn.Flatten: _flatten, nn.Unflatten: _unflatten, nn.Linear: _linear,
    nn.Softmax: _softmax, nn.Identity: lambda m, name, where, r: None,
    **{cls: _pad for cls in PAD_MODULES},
}

#: the readers that take a waiting pad module into their own padding
TAKES_PAD = (_conv, _maxpool, _avgpool)
