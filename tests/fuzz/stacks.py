"""Hypothesis strategies for the fuzz tests: layer stacks valid by construction, and stacks
made invalid on purpose by one known fault (which layer, which parameter).

A stack is drawn layer by layer while tracking the H×W×C that reaches each layer, so every
hyperparameter is drawn from what fits there, and the expected output size comes from the
formulas (independently of cnnlab.arithmetic):

    convolution      floor((H + t + b - ((F - 1)·D + 1)) / S) + 1,   'same': ceil(H / S)
    pooling          floor((H + t + b - K) / S) + 1,                 'same': ceil(H / S)
    transposed conv  (H - 1)·S + F - t - b,                          'same': H·S

A faulty stack takes a valid one and breaks one layer: a hyperparameter no layer accepts
(refused by the constructor) or one that does not fit the size reaching it (refused when the
network is built). Either way the message must name that layer and that parameter.
"""
from __future__ import annotations

from dataclasses import dataclass

import cnnlab as cl
from hypothesis import strategies as st

import numpy as np

MODES = ["symmetric-include-edge", "symmetric-exclude-edge", "replicate"]
CLASSES = {"conv": cl.Convolution2D, "transposed": cl.TransposedConvolution2D,
           "maxpool": cl.MaxPooling2D, "avgpool": cl.AveragePooling2D,
           "gapool": cl.GlobalAveragePooling2D, "gmpool": cl.GlobalMaxPooling2D,
           "batchnorm": cl.BatchNormalization, "crossnorm": cl.CrossChannelNormalization,
           "relu": cl.ReLU, "leakyrelu": cl.LeakyReLU, "clippedrelu": cl.ClippedReLU,
           "tanh": cl.Tanh, "sigmoid": cl.Sigmoid, "dropout": cl.Dropout,
           "fc": cl.FullyConnected}
KINDS = sorted(CLASSES)
# the layers with the most arithmetic are drawn three times as often
WEIGHTED = KINDS + ["conv", "transposed", "maxpool", "avgpool"] * 2


@dataclass
class Case:
    """An input size, the layers as (kind, keyword arguments), and what must happen."""
    shape: tuple
    layers: list
    expected_output: tuple | None = None        # valid stacks: the H×W×C at the end
    fault: tuple | None = None                  # ("constructor" | "build", label, parameter)

    def make_layers(self):
        return [CLASSES[kind](**kwargs) for kind, kwargs in self.layers]


def label(kind, name):
    return f"{CLASSES[kind].__name__} layer '{name}'"


def _pads(form):
    """(top, bottom, left, right) of a padding form: p, MATLAB's [a b] (a rows top and
    bottom, b columns left and right), or the four sides."""
    if isinstance(form, int):
        return (form,) * 4
    return (form[0], form[0], form[1], form[1]) if len(form) == 2 else form


def _same(size, stride):
    return -(-size // stride)                 # ceil(size / stride)


def _valid_conv(draw, h, w, c):
    padding = draw(st.one_of(st.just("same"), st.integers(0, 2),
                             st.tuples(st.integers(0, 2), st.integers(0, 2)),
                             st.tuples(*[st.integers(0, 2)] * 4)))
    pads = None if padding == "same" else _pads(padding)
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    filt = []
    for axis, size in ((0, h), (1, w)):
        padded = size + (0 if pads is None else pads[2 * axis] + pads[2 * axis + 1])
        # the largest filter whose dilated span (F - 1)·D + 1 fits the padded size
        most = 3 if pads is None else min(3, (padded - 1) // dilation[axis] + 1)
        filt.append(draw(st.integers(1, most)))
    groups = draw(st.sampled_from([g for g in (1, 2, 3) if c % g == 0]))
    f = groups * draw(st.integers(1, 2))
    kwargs = dict(filter_size=tuple(filt), num_filters=f, stride=stride, dilation=dilation,
                  padding=padding, groups=groups,
                  padding_value=draw(st.sampled_from([0, 2.5, *MODES])))
    if pads is None:
        out = (_same(h, stride[0]), _same(w, stride[1]))
    else:
        out = tuple((size + pads[2 * a] + pads[2 * a + 1] - ((filt[a] - 1) * dilation[a] + 1))
                    // stride[a] + 1 for a, size in ((0, h), (1, w)))
    return kwargs, out + (f,)


def _valid_pool(draw, h, w, c, kind):
    pool = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if draw(st.integers(0, 4)) == 0:
        return dict(pool_size=pool, stride=stride, padding="same"), \
            (_same(h, stride[0]), _same(w, stride[1]), c)
    sides = []
    for k, size in zip(pool, (h, w)):
        # max pooling: each side < K keeps some input in every window (the first starts at
        # 0, the last ends by t + H + b); average pooling may pad up to 2 anyway. The after
        # side is at least K - H - before, so that the window fits the padded size.
        most = k - 1 if kind == "maxpool" else 2
        before = draw(st.integers(0, most))
        sides += [before, draw(st.integers(max(0, k - size - before), most))]
    out = tuple((size + sides[2 * a] + sides[2 * a + 1] - pool[a]) // stride[a] + 1
                for a, size in ((0, h), (1, w)))
    return dict(pool_size=pool, stride=stride, padding=tuple(sides)), out + (c,)


def _valid_transposed(draw, h, w, c):
    filt = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    f = draw(st.integers(1, 3))
    full = ((h - 1) * stride[0] + filt[0], (w - 1) * stride[1] + filt[1])
    if filt[0] >= stride[0] and filt[1] >= stride[1] and draw(st.booleans()):
        return dict(filter_size=filt, num_filters=f, stride=stride, cropping="same"), \
            (h * stride[0], w * stride[1], f)
    crop = []
    for n in full:                              # leave at least one row and column
        top = draw(st.integers(0, min(2, n - 1)))
        crop += [top, draw(st.integers(0, min(2, n - 1 - top)))]
    return dict(filter_size=filt, num_filters=f, stride=stride, cropping=tuple(crop)), \
        (full[0] - crop[0] - crop[1], full[1] - crop[2] - crop[3], f)


def valid_layer(draw, kind, shape):
    """Keyword arguments for a `kind` layer that fits `shape`, and its output H×W×C."""
    h, w, c = shape
    if kind == "conv":
        return _valid_conv(draw, h, w, c)
    if kind in ("maxpool", "avgpool"):
        return _valid_pool(draw, h, w, c, kind)
    if kind == "transposed":
        return _valid_transposed(draw, h, w, c)
    if kind in ("gapool", "gmpool"):
        return {}, (1, 1, c)
    if kind == "fc":
        n = draw(st.integers(1, 4))
        return dict(output_size=n), (1, 1, n)
    kwargs = {"batchnorm": lambda: dict(epsilon=draw(st.sampled_from([1e-5, 1e-3, 0.5]))),
              "crossnorm": lambda: dict(window_channel_size=draw(st.sampled_from([1, 2, 5])),
                                        beta=draw(st.sampled_from([0.75, 0.5]))),
              "leakyrelu": lambda: dict(scale=draw(st.sampled_from([0.01, 0.2]))),
              "clippedrelu": lambda: dict(ceiling=draw(st.sampled_from([0.5, 6]))),
              "dropout": lambda: dict(probability=draw(st.sampled_from([0.0, 0.25, 0.5])))}
    return kwargs.get(kind, dict)(), shape


# hyperparameters no layer accepts: (parameter, bad values), per kind
BAD_ARGUMENTS = {
    "conv": [("filter_size", [0, (3, 0), 2.5, "3", True]), ("num_filters", [0, 1.5]),
             ("stride", [0, (1, -1)]), ("dilation", [0, (2, 2, 2)]),
             ("padding", [-1, "valid", (1, 2, 3), 0.5]),
             ("padding_value", ["reflect", float("nan"), None]), ("groups", [0, 1.5])],
    "transposed": [("filter_size", [0, -1]), ("num_filters", [0]), ("stride", [0, 2.5]),
                   ("cropping", [-1, (1, 2, 3), "valid"])],
    "maxpool": [("pool_size", [0, (2, -1)]), ("stride", [0, "2"]), ("padding", [-1, 0.5])],
    "avgpool": [("pool_size", [0, 1.5]), ("stride", [-2]), ("padding", [(1, 2, 3), "valid"])],
    "batchnorm": [("epsilon", [0, -1, float("nan")])],
    "crossnorm": [("window_channel_size", [0, 2.5]), ("beta", [float("inf")])],
    "leakyrelu": [("scale", [float("nan"), "0.1"])],
    "clippedrelu": [("ceiling", [0, -2, float("inf")])],
    "dropout": [("probability", [1.0, -0.1, float("nan"), "half"])],
    "fc": [("output_size", [0, 1.5, 10**6 + 0.5])],
}


def _build_fault(draw, kind, kwargs, shape):
    """New keyword arguments that no longer fit `shape`, and the parameter named."""
    h, w, c = shape
    if kind == "conv":
        return draw(st.sampled_from([
            (dict(kwargs, filter_size=(h + 1, 1), padding=0, dilation=1), "filter_size"),
            (dict(kwargs, filter_size=(1, 2), dilation=(1, w), padding=0), "filter_size"),
            (dict(kwargs, groups=c + 1, num_filters=c + 1), "groups"),
            (dict(kwargs, num_channels=c + 1, groups=1), "num_channels")]))
    if kind in ("maxpool", "avgpool"):
        choices = [(dict(kwargs, pool_size=(1, w + 1), padding=0), "pool_size")]
        if kind == "maxpool":               # the first window lies wholly in the padding
            k = draw(st.integers(1, 3))
            choices.append((dict(kwargs, pool_size=(k, 1), padding=(k, 0, 0, 0)), "padding"))
        return draw(st.sampled_from(choices))
    if kind == "transposed":
        full_h = (h - 1) * kwargs["stride"][0] + kwargs["filter_size"][0]
        return draw(st.sampled_from([
            (dict(kwargs, cropping=(full_h, 0, 0, 0)), "cropping"),
            (dict(kwargs, num_channels=c + 1), "num_channels")]))
    if kind == "fc":
        return dict(kwargs, input_size=h * w * c + 1), "input_size"
    raise AssertionError(f"no build fault for {kind}")


BUILD_FAULT_KINDS = ["avgpool", "conv", "fc", "maxpool", "transposed"]


@st.composite
def cases(draw, fault=None, include=None):
    """A valid stack (fault None), or one with a fault refused by a layer's "constructor",
    at "build" (the size reaching it), or by the network's "input" layer. With `include`,
    the stack holds a layer of that kind somewhere."""
    shape = (draw(st.integers(1, 8)), draw(st.integers(1, 8)), draw(st.integers(1, 3)))
    kinds = draw(st.lists(st.sampled_from(WEIGHTED), min_size=0 if include else 1,
                          max_size=2 if include else 3))
    if include:
        kinds.insert(draw(st.integers(0, len(kinds))), include)
    layers, inputs, current = [], [], shape
    for i, kind in enumerate(kinds):
        kwargs, out = valid_layer(draw, kind, current)
        layers.append((kind, dict(kwargs, name=f"{kind}{i}")))
        inputs.append(current)
        current = out
    where = fault
    if where is None:
        return Case(shape, layers, expected_output=current)
    if where == "input":                    # the network's own input size
        bad = draw(st.sampled_from([(0, 3, 1), (-2, 4, 1), (3, 3, 0), (2.5, 3, 1)]))
        return Case(bad, layers, fault=("constructor", "ImageInput layer 'input'",
                                        "input_size"))
    if where == "build":                    # a layer that checks its input size
        fits = [j for j, (k, _) in enumerate(layers) if k in BUILD_FAULT_KINDS]
        i = draw(st.sampled_from(fits)) if fits else draw(st.integers(0, len(layers) - 1))
        kind, kwargs = layers[i]
        if not fits:
            kind = draw(st.sampled_from(BUILD_FAULT_KINDS))
            kwargs = dict(valid_layer(draw, kind, inputs[i])[0], name=f"{kind}{i}")
        broken = _build_fault(draw, kind, kwargs, inputs[i])
    else:
        i = draw(st.integers(0, len(layers) - 1))
        kind, kwargs = layers[i]
        if kind not in BAD_ARGUMENTS:       # a layer without hyperparameters: use another
            kind = draw(st.sampled_from(sorted(BAD_ARGUMENTS)))
            kwargs = dict(valid_layer(draw, kind, inputs[i])[0], name=f"{kind}{i}")
        parameter, values = draw(st.sampled_from(BAD_ARGUMENTS[kind]))
        broken = (dict(kwargs, **{parameter: draw(st.sampled_from(values))}), parameter)
    new_kwargs, parameter = broken
    layers = layers[:i] + [(kind, new_kwargs)] + layers[i + 1:]
    return Case(shape, layers, fault=(where, label(kind, new_kwargs["name"]), parameter))


def input_batch(case, seed):
    return np.random.default_rng(seed).standard_normal((2, *case.shape))
