"""One-layer example networks on small integers: what the explorers, the animations and
``cnnlab step`` show when no network of your own is given.

Every example is a real cnnlab ``Network`` — an ``ImageInput`` without normalization and one
layer, float64 on the reference kernels — traced with ``net.trace``, so the numbers on screen
are the engine's. The numbers are small integers drawn from ``seed``: inputs 0..3 (0..8 for
pooling), weights -1..2, bias 0 unless asked, so every sum can be checked by hand.

    net, x = conv_example(5, 3, padding=1, stride=2)      # (network, H×W×C image)
    record = traced(net, x)                               # the record of the one layer
    net, x = reference_convolution()                      # the reference documents' 5×5 example

Invalid combinations raise the layer's own ValueError (naming layer, parameter and value).
"""
from __future__ import annotations

import numpy as np

# the reference documents' convolution arithmetic example: 5x5 input, 3x3 kernel, no padding
REFERENCE_INPUT = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                   [2, 0, 0, 0, 1]]
REFERENCE_KERNEL = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]


def _size(name, v):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v), int(v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(
            isinstance(i, (int, np.integer)) for i in v):
        return int(v[0]), int(v[1])
    raise ValueError(f"{name} = {v!r}: expected a positive integer or (height, width)")


def small_input(input_size, channels=1, seed=0):
    """(generator, H×W×C float64 input of integers 0..3); the generator goes on to draw
    the weights, so one seed fixes the whole example."""
    h, w = _size("input_size", input_size)
    if h < 1 or w < 1:
        raise ValueError(f"input_size = {input_size!r}: height and width must be at least 1")
    if not isinstance(channels, (int, np.integer)) or channels < 1:
        raise ValueError(f"channels = {channels!r}: need at least 1 input channel")
    rng = np.random.default_rng(seed)
    return rng, rng.integers(0, 4, (h, w, int(channels))).astype(np.float64)


def small_weights(rng, shape):
    """Integers -1..2 (float64) of ``shape``, drawn from ``rng``."""
    return rng.integers(-1, 3, shape).astype(np.float64)


def one_layer(x, layer):
    """A Network of an input layer of x's shape (no normalization) and ``layer``."""
    from .layers.input import ImageInput
    from .network import Network
    return Network([ImageInput(x.shape, normalization="none"), layer], dtype="float64",
                   backend="reference")


def traced(net, x):
    """The record of the one layer after the input layer."""
    return net.trace(x)[1]


def _count(name, v, what):
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{name} = {v!r}: need at least 1 {what}")
    return int(v)


def conv_example(input_size=5, filter_size=3, *, stride=1, padding=0, dilation=1,
                 padding_value=0, channels=1, num_filters=1, bias=0.0, seed=0, keep=None):
    """(network, image) of one convolution on small integers; ``bias`` is every filter's.

    ``keep``: (image, weights) of an earlier example to carry over when only the input size
    changed: the weights are reused (if their shape still fits) and the earlier image's
    numbers stay in place over the rows and columns both sizes share.
    """
    from .layers.conv import Convolution2D
    rng, x = small_input(input_size, channels, seed)
    fh, fw = _size("filter_size", filter_size)
    nf = _count("num_filters", num_filters, "filter")
    weights = small_weights(rng, (fh, fw, x.shape[2], nf))
    if keep is not None:
        old_x, old_w = (np.asarray(a, dtype=np.float64) for a in keep)
        if old_w.shape == weights.shape:
            weights = old_w
        if old_x.ndim == 3 and old_x.shape[2] == x.shape[2]:
            h, w = min(old_x.shape[0], x.shape[0]), min(old_x.shape[1], x.shape[1])
            x[:h, :w] = old_x[:h, :w]
    layer = Convolution2D((fh, fw), nf, stride=stride, dilation=dilation, padding=padding,
                          padding_value=padding_value, weights=weights,
                          bias=np.full(nf, float(bias)))
    return one_layer(x, layer), x


def pool_example(input_size=6, pool_size=3, *, stride=2, padding=0, mode="max", channels=1,
                 seed=0):
    """(network, image) of one max or average pooling layer on small integers (0..8)."""
    from .layers.pool import AveragePooling2D, MaxPooling2D
    if mode not in ("max", "average"):
        raise ValueError(f"mode = {mode!r}: expected 'max' or 'average'")
    # small_input's 0..3 draw is made and set aside so that the numbers stay those of the
    # committed pictures (assets/pool_step.png, the pooling GIF): pooling wants 0..8, where
    # ties for the maximum are rarer
    rng, _ = small_input(input_size, channels, seed)
    x = rng.integers(0, 9, (*_size("input_size", input_size), int(channels))).astype(float)
    cls = MaxPooling2D if mode == "max" else AveragePooling2D
    return one_layer(x, cls(pool_size, stride=stride, padding=padding)), x


def transposed_example(input_size=3, filter_size=3, *, stride=2, cropping=0, channels=1,
                       num_filters=1, seed=0):
    """(network, image) of one transposed convolution on small integers."""
    from .layers.transposed import TransposedConvolution2D
    rng, x = small_input(input_size, channels, seed)
    fh, fw = _size("filter_size", filter_size)
    nf = _count("num_filters", num_filters, "filter")
    layer = TransposedConvolution2D((fh, fw), nf, stride=stride, cropping=cropping,
                                    weights=small_weights(rng, (fh, fw, nf, x.shape[2])),
                                    bias=np.zeros(nf))
    return one_layer(x, layer), x


def reference_convolution():
    """(network, image) of the reference documents' example: the 5×5 input above, the 3×3
    kernel, no padding, stride 1, bias 0 (its output is [[12, 12, 17], [10, 17, 19],
    [9, 6, 14]])."""
    from .layers.conv import Convolution2D
    x = np.array(REFERENCE_INPUT, float)[:, :, None]
    layer = Convolution2D(3, 1, weights=np.array(REFERENCE_KERNEL, float)[:, :, None, None],
                          bias=np.zeros(1))
    return one_layer(x, layer), x
