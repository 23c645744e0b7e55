"""A cnnlab Network as a list of PyTorch modules to make: the one plan behind ``to_torch``
(which builds them) and ``Network.to_torch_code`` (which prints them). No torch import here.

Each cnnlab layer becomes one module, plus a helper module where PyTorch needs two:

- padding PyTorch's Conv2d cannot do (top != bottom, left != right, or a nonzero constant):
  an explicit pad module in front, ``ZeroPad2d`` / ``ConstantPad2d`` / ``ReplicationPad2d``
  / ``ReflectionPad2d``, and the convolution pads nothing;
- pooling padding more than half the window or uneven: ``ConstantPad2d(-inf)`` before max
  pooling (padding is never the maximum), ``ZeroPad2d`` before average pooling (cnnlab counts
  padding cells as zeros in the mean, ``count_include_pad=True``);
- transposed convolution cropping: ``padding`` crops p from both sides and
  ``output_padding`` gives back op at the bottom/right, so crops (t, b) map when
  0 <= t - b < stride; other crops are a ``ZeroPad2d`` with negative padding after it;
- a fully connected layer on an H×W×C input: ``Flatten`` in front, and its columns permuted
  from cnnlab's H, W, C order to PyTorch's C, H, W (``common.fc_weights_to_chw``);
- a 4-D layer after a fully connected one (1×1×K): ``Unflatten(1, (K, 1, 1))``.

Output (loss) layers have no module: PyTorch keeps the loss outside the model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import common
from .common import InteropError


@dataclass
class Entry:
    """One module: ``torch.nn.<cls>(*args, **kwargs)`` named ``name``, its tensors ``arrays``
    (attribute -> array in PyTorch's layout), and the cnnlab layer it comes from."""
    name: str
    cls: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    layer: object = None
    helper: bool = False          # a pad / flatten module PyTorch needs in addition


def module_name(name: str) -> str:
    """A cnnlab layer name as an nn.Sequential key (PyTorch forbids '.' in it)."""
    return name.replace(".", "_") or "layer"


def torch_plan(net) -> list[Entry]:
    """The modules that compute what ``net`` computes (see the module docstring)."""
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
    entries: list[Entry] = []
    flat = False                  # is the PyTorch tensor N×K (after a Linear) here?
    for layer in net.layers:
        name = module_name(layer.name)
        if layer.is_loss:
            continue
        needs_4d = isinstance(layer, (Convolution2D, TransposedConvolution2D,
                                      BatchNormalization, CrossChannelNormalization,
                                      MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
                                      GlobalMaxPooling2D))
        if flat and needs_4d:
            k = layer.input_shape[2]
            entries.append(Entry(f"{name}_unflatten", "Unflatten", (1, (k, 1, 1)), helper=True))
            flat = False
        if isinstance(layer, ImageInput):
            entries += _image_input(layer, name)
        elif isinstance(layer, Convolution2D):
            entries += _conv(layer, name)
        elif isinstance(layer, TransposedConvolution2D):
            entries += _transposed(layer, name)
        elif isinstance(layer, BatchNormalization):
            entries.append(_batchnorm(layer, name))
        elif isinstance(layer, CrossChannelNormalization):
            entries.append(Entry(name, "LocalResponseNorm", (layer.window_channel_size,),
                                 {"alpha": layer.alpha, "beta": layer.beta, "k": layer.k},
                                 layer=layer))
        elif isinstance(layer, ClippedReLU):     # before ReLU: not a subclass, but be plain
            entries.append(Entry(name, "Hardtanh", (0.0, layer.ceiling), layer=layer))
        elif isinstance(layer, ReLU):
            entries.append(Entry(name, "ReLU", layer=layer))
        elif isinstance(layer, LeakyReLU):
            entries.append(Entry(name, "LeakyReLU", (layer.scale,), layer=layer))
        elif isinstance(layer, Tanh):
            entries.append(Entry(name, "Tanh", layer=layer))
        elif isinstance(layer, Sigmoid):
            entries.append(Entry(name, "Sigmoid", layer=layer))
        elif isinstance(layer, (MaxPooling2D, AveragePooling2D)):
            entries += _pool(layer, name)
        elif isinstance(layer, GlobalAveragePooling2D):
            entries.append(Entry(name, "AdaptiveAvgPool2d", (1,), layer=layer))
        elif isinstance(layer, GlobalMaxPooling2D):
            entries.append(Entry(name, "AdaptiveMaxPool2d", (1,), layer=layer))
        elif isinstance(layer, Dropout):
            entries.append(Entry(name, "Dropout", (layer.probability,), layer=layer))
        elif isinstance(layer, FullyConnected):
            shape = layer.input_shape
            w = layer.params["weights"]
            if not flat:
                entries.append(Entry(f"{name}_flatten", "Flatten", helper=True))
                w = common.fc_weights_to_chw(w, shape)     # H,W,C columns -> C,H,W
            entries.append(Entry(name, "Linear", (layer.input_size, layer.output_size),
                                 arrays={"weight": w, "bias": layer.params["bias"]},
                                 layer=layer))
            flat = True
        elif isinstance(layer, Softmax):
            entries.append(Entry(name, "Softmax", kwargs={"dim": 1}, layer=layer))
        else:
            raise InteropError(f"{layer.label}: {type(layer).__name__} has no PyTorch module "
                               "in cnnlab.to_torch")
    return entries


def _image_input(layer, name):
    ss = common.input_shift_scale(layer)
    if ss is None:                # 'none', or statistics not fitted: the identity
        return []
    shift, scale = ss
    stats = {k: common.statistic_to_chw(layer.state[k])
             for k in common.NORMALIZATION_STATISTICS[layer.normalization]}
    return [Entry(name, "ImageNormalization",
                  kwargs={"normalization": layer.normalization},
                  arrays={"shift": common.statistic_to_chw(shift),
                          "scale": common.statistic_to_chw(scale), **stats}, layer=layer)]


def _pad_entry(name, pads, value):
    """An explicit PyTorch pad module; its padding is (left, right, top, bottom)."""
    t, b, l, r = pads
    lrtb = (l, r, t, b)
    if isinstance(value, str):
        cls = {"replicate": "ReplicationPad2d", "symmetric-exclude-edge": "ReflectionPad2d"}
        return Entry(f"{name}_pad", cls[value], (lrtb,), helper=True)
    if value == 0:
        return Entry(f"{name}_pad", "ZeroPad2d", (lrtb,), helper=True)
    return Entry(f"{name}_pad", "ConstantPad2d", (lrtb, float(value)), helper=True)


def _conv(layer, name):
    h, w, c = layer.input_shape
    pads, value = layer.padding, layer.padding_value
    common.check_padding_maps(layer, pads, value, (h, w))
    t, b, l, r = pads
    out = []
    kwargs = {"kernel_size": layer.filter_size, "stride": layer.stride}
    even = t == b and l == r
    if any(pads) and even and (value == 0 or isinstance(value, str)):
        kwargs["padding"] = (t, l)      # Conv2d pads each axis by the same amount both sides
        if isinstance(value, str):
            kwargs["padding_mode"] = common.TORCH_PADDING_MODES[value]
    elif any(pads):
        out.append(_pad_entry(name, pads, value))
    kwargs["dilation"] = layer.dilation
    kwargs["groups"] = layer.groups
    kwargs["bias"] = layer.has_bias
    arrays = {"weight": common.conv_weights_to_chw(layer.params["weights"])}
    if layer.has_bias:
        arrays["bias"] = layer.params["bias"]
    out.append(Entry(name, "Conv2d", (c, layer.num_filters), kwargs, arrays, layer))
    return out


def _transposed(layer, name):
    c = layer.input_shape[2]
    t, b, l, r = layer.cropping
    sh, sw = layer.stride
    kwargs = {"kernel_size": layer.filter_size, "stride": layer.stride}
    # PyTorch crops `padding` from both sides, then adds `output_padding` rows back at the
    # bottom (they are computed, not zeros): crop top = p, crop bottom = p - op
    fits = 0 <= t - b < sh and 0 <= l - r < sw
    if fits and any((t, b, l, r)):
        kwargs["padding"] = (t, l)
        if (t - b, l - r) != (0, 0):
            kwargs["output_padding"] = (t - b, l - r)
    arrays = {"weight": common.transposed_weights_to_chw(layer.params["weights"]),
              "bias": layer.params["bias"]}
    out = [Entry(name, "ConvTranspose2d", (c, layer.num_filters), kwargs, arrays, layer)]
    if not fits:                  # negative padding crops: (left, right, top, bottom)
        out.append(Entry(f"{name}_crop", "ZeroPad2d", ((-l, -r, -t, -b),), helper=True))
    return out


def _batchnorm(layer, name):
    if layer.variance_decay != layer.mean_decay:
        raise InteropError(f"{layer.label}: mean_decay = {layer.mean_decay:g} and "
                           f"variance_decay = {layer.variance_decay:g}: PyTorch's BatchNorm2d "
                           "has one momentum for both running statistics")
    c = layer.input_shape[2]
    return Entry(name, "BatchNorm2d", (c,), {"eps": layer.epsilon,
                                             "momentum": layer.mean_decay},
                 {"weight": layer.params["scale"], "bias": layer.params["offset"],
                  "running_mean": layer.state["trained_mean"],
                  "running_var": layer.state["trained_variance"]}, layer)


def _pool(layer, name):
    from ..layers.pool import MaxPooling2D
    (ph, pw), (t, b, l, r) = layer.pool_size, layer.padding
    is_max = isinstance(layer, MaxPooling2D)
    kwargs = {"stride": layer.stride}
    out = []
    # PyTorch pools pad each axis evenly and at most half the window
    if any((t, b, l, r)):
        if t == b and l == r and t <= ph // 2 and l <= pw // 2:
            kwargs["padding"] = (t, l)
        else:
            out.append(_pad_entry(name, (t, b, l, r), -np.inf if is_max else 0))
    cls = "MaxPool2d" if is_max else "AvgPool2d"
    out.append(Entry(name, cls, (layer.pool_size,), kwargs, layer=layer))
    return out
