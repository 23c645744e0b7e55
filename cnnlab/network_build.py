"""Building a Network's chain: names for unnamed layers and the order rules a chain obeys.

The rules are the reference documents': an image input only first, an output (loss) layer
only last, and a classification output directly after a softmax (it reads probabilities).
"""
from __future__ import annotations

import numpy as np

#: kinds that are usually unique in a network and then named without a number
_SINGLE_KINDS = ("imageinput", "softmax", "classoutput", "regressionoutput")


def name_layers(layers, who: str = "Network") -> None:
    """Give every unnamed layer a name, in place: conv_1, relu_2, ...; a kind that is usually
    unique (image input, softmax, output) is named without a number when it is. ``who``
    begins the error for repeated names (Network, LayerGraph)."""
    taken = [layer.name for layer in layers if layer.name]
    dupes = sorted({n for n in taken if taken.count(n) > 1})
    if dupes:
        raise ValueError(f"{who}: layer names must be unique; repeated: {', '.join(dupes)}")
    bad = sorted({n for n in taken if "/" in n})
    if bad:
        raise ValueError(f"{who}: layer names cannot contain '/' (it separates a layer from "
                         f"its input, as in 'add_1/in2'): {', '.join(bad)}")
    unnamed = {}
    for layer in layers:
        if not layer.name:
            unnamed[layer.kind] = unnamed.get(layer.kind, 0) + 1
    counters = {}
    for layer in layers:
        if layer.name:
            continue
        kind = layer.kind
        if kind in _SINGLE_KINDS and unnamed[kind] == 1 and kind not in taken:
            layer.name = kind
            continue
        k = counters.get(kind, 0)
        while True:
            k += 1
            candidate = f"{kind}_{k}"
            if candidate not in taken:
                break
        counters[kind] = k
        layer.name = candidate
        taken.append(candidate)


def check_order(layers, input_size) -> tuple[int, int, int]:
    """Refuse layers in an order no network can run; return the input size (H, W, C)."""
    from .layers.input import ImageInput
    from .layers.output import Classification, Softmax
    for i, layer in enumerate(layers):
        if isinstance(layer, ImageInput) and i != 0:
            raise ValueError(f"Network: {layer.label} is layer {i + 1}; an image input "
                             "layer can only be the first layer")
        if layer.is_loss and i != len(layers) - 1:
            raise ValueError(f"Network: {layer.label} is layer {i + 1} of "
                             f"{len(layers)}; an output (loss) layer must be last")
        if isinstance(layer, Classification) and (
                i == 0 or not isinstance(layers[i - 1], Softmax)):
            raise ValueError(f"Network: {layer.label} must directly follow a Softmax "
                             "layer (it reads class probabilities)")
    if isinstance(layers[0], ImageInput):
        if input_size is not None and tuple(input_size) != layers[0].input_size:
            raise ValueError(f"Network: input_size = {tuple(input_size)} disagrees with "
                             f"the image input layer's {layers[0].input_size}")
        return layers[0].input_size
    if input_size is None:
        raise ValueError("Network: the first layer is not an ImageInput, so give "
                         "input_size=(H, W, C)")
    size = tuple(input_size)
    if len(size) == 2:
        size = size + (1,)
    if len(size) != 3 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in size):
        raise ValueError(f"Network: input_size = {input_size!r}: expected (H, W, C) "
                         "of positive integers")
    return tuple(int(v) for v in size)
