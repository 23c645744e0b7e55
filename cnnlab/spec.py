"""A compact text form of a layer stack, for the command line and quick checks.

Layers are separated by ``;`` (or new lines). Each layer is a keyword, positional
arguments and ``key=value`` options. Sizes are written ``28x28x1`` or ``6x4``; lists as
``1,0`` (padding a, b) or ``1,1,0,2`` (top, bottom, left, right)::

    input 28x28x1; conv 3 16 padding=1; bn; relu; maxpool 2 stride=2;
    conv 3 32 padding=1; bn; relu; fc 10; softmax; classification

=========================  ===============================================================
keyword                    layer (positional arguments)
=========================  ===============================================================
input                      ImageInput(size)             options: normalization
conv                       Convolution2D(filter, filters)  stride dilation padding
                           padding_value groups
tconv                      TransposedConvolution2D(filter, filters)  stride cropping
bn, batchnorm              BatchNormalization()
lrn, crossnorm             CrossChannelNormalization(window)  alpha beta k
relu, tanh, sigmoid        ReLU(), Tanh(), Sigmoid()
leakyrelu, clippedrelu     LeakyReLU(scale), ClippedReLU(ceiling)
maxpool, avgpool           MaxPooling2D(size), AveragePooling2D(size)  stride padding
gap, gmp                   GlobalAveragePooling2D(), GlobalMaxPooling2D()
dropout                    Dropout(probability)
fc                         FullyConnected(output_size)
softmax, classification,   Softmax(), Classification(), Regression()
regression
=========================  ===============================================================

>>> [type(l).__name__ for l in parse("input 28x28x1; conv 3 16 padding=1; relu; fc 10")]
['ImageInput', 'Convolution2D', 'ReLU', 'FullyConnected']
"""
from __future__ import annotations

import re


def _layer_table():
    from . import layers as _  # noqa: F401  (package import for the submodules below)
    from .layers.activation import ClippedReLU, LeakyReLU, ReLU, Sigmoid, Tanh
    from .layers.conv import Convolution2D
    from .layers.dense import FullyConnected
    from .layers.dropout import Dropout
    from .layers.input import ImageInput
    from .layers.norm import BatchNormalization, CrossChannelNormalization
    from .layers.output import Classification, Regression, Softmax
    from .layers.pool import (AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
                              MaxPooling2D)
    from .layers.transposed import TransposedConvolution2D
    return {
        "input": ImageInput, "conv": Convolution2D, "tconv": TransposedConvolution2D,
        "bn": BatchNormalization, "batchnorm": BatchNormalization,
        "lrn": CrossChannelNormalization, "crossnorm": CrossChannelNormalization,
        "relu": ReLU, "leakyrelu": LeakyReLU, "clippedrelu": ClippedReLU, "tanh": Tanh,
        "sigmoid": Sigmoid, "maxpool": MaxPooling2D, "avgpool": AveragePooling2D,
        "gap": GlobalAveragePooling2D, "gmp": GlobalMaxPooling2D, "dropout": Dropout,
        "fc": FullyConnected, "softmax": Softmax, "classification": Classification,
        "regression": Regression,
    }


def value(text: str):
    """'3' -> 3, '0.5' -> 0.5, '6x4' -> (6, 4), '1,0' -> (1, 0), other text stays text."""
    if re.fullmatch(r"\d+(x\d+)+", text):
        return tuple(int(v) for v in text.split("x"))
    if re.fullmatch(r"-?\d+(,-?\d+)+", text):
        return tuple(int(v) for v in text.split(","))
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def parse(spec: str) -> list:
    """Layers from the compact text form (see the module docstring)."""
    table = _layer_table()
    layers = []
    parts = [p.strip() for p in re.split(r"[;\n]", spec) if p.strip()]
    if not parts:
        raise ValueError("layer spec is empty")
    for k, part in enumerate(parts, 1):
        words = part.split()
        key = words[0].lower()
        if key not in table:
            raise ValueError(f"layer spec item {k} ({part!r}): unknown layer {words[0]!r}; "
                             f"known: {', '.join(sorted(table))}")
        args, kwargs = [], {}
        for w in words[1:]:
            if "=" in w:
                name, _, v = w.partition("=")
                kwargs[name.replace("-", "_")] = value(v)
            else:
                args.append(value(w))
        try:
            layers.append(table[key](*args, **kwargs))
        except TypeError as e:
            raise ValueError(f"layer spec item {k} ({part!r}): {e}") from None
    return layers
