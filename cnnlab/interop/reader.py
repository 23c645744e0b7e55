"""What both importers (PyTorch modules, ONNX nodes) share: the layers read so far and their
shapes, the explicit pad waiting to be folded into the next layer, and the finished Network.
No torch or onnx import here."""
from __future__ import annotations

import copy

import numpy as np

from .common import InteropError


class Reader:
    """The walk over a model: ``layers`` so far, the H×W×C ``shape`` after them, the pad
    waiting for the next layer (``pending``), whether the foreign tensor is flat (N×K), and
    the batch-norm statistics to write once the Network exists."""

    def __init__(self, input_size, dtype):
        self.layers, self.shape, self.dtype = [], tuple(input_size), np.dtype(dtype)
        self.pending = None          # (where, (t, b, l, r), cnnlab padding value)
        self.flat = False
        self.batchnorm_stats = {}    # index in self.layers -> (mean, var)
        self.before = []             # the input shape of each layer so far
        self.transposed_kwargs = None   # the last transposed convolution, to crop it more

    def add(self, layer):
        """Append a layer; its build (on a copy) checks it and gives the next shape."""
        built = copy.deepcopy(layer)
        self.before.append(self.shape)
        self.shape = built.build(self.shape, rng=np.random.default_rng(0), dtype=self.dtype)
        self.layers.append(layer)

    def replace_last(self, layer):
        self.layers.pop()
        self.shape = self.before.pop()
        self.add(layer)

    def take_pad(self, where, accepts):
        """The waiting pad's ((t, b, l, r), value) if ``accepts(value)``, else an error; None
        when no pad waits."""
        if self.pending is None:
            return None
        pad_where, pads, value = self.pending
        self.pending = None
        if not accepts(value):
            raise InteropError(f"{pad_where} pads with {value!r} before {where}, which pads "
                               "differently (or cannot take that padding value): one cnnlab "
                               "layer has one padding value")
        return pads, value

    def crop_last(self, where, top, bottom, left, right):
        """A negative pad (a crop) folded into the transposed convolution just read."""
        from ..layers.transposed import TransposedConvolution2D
        if not isinstance(self.layers[-1], TransposedConvolution2D) or \
                self.transposed_kwargs is None:
            raise InteropError(f"{where}: negative padding crops; cnnlab crops only right "
                               "after a transposed convolution (every side <= 0)")
        kwargs = dict(self.transposed_kwargs)
        t, b, l, r = kwargs["cropping"]
        kwargs["cropping"] = (t + top, b + bottom, l + left, r + right)
        self.transposed_kwargs = kwargs
        self.replace_last(TransposedConvolution2D(**kwargs))


def ceil_mode_extra(size, k, s, before, after):
    """Rows (columns) a ceil_mode pooling adds at the end, beyond the padded input.

    ceil_mode counts ceil((n - k)/s) + 1 windows instead of floor(...) + 1 over the padded
    length n = size + before + after, but (PyTorch and ONNX) drops a last window that would
    start in the end padding. The extra windows run past the padded input by
    (out - 1)·s + k - n cells.
    """
    n = size + before + after
    floor = (n - k) // s + 1
    ceil = -(-(n - k) // s) + 1
    if (ceil - 1) * s >= size + before:
        ceil -= 1
    return max(0, (ceil - 1) * s + k - n) if ceil > floor else 0


def build_network(reader, *, classification, seed, backend):
    """The Network of the layers read; batch-norm statistics written into its own layers."""
    from ..layers.output import Classification, Softmax
    from ..network import Network
    if reader.pending is not None:
        raise InteropError(f"{reader.pending[0]} is the last module: nothing to fold it into")
    layers = list(reader.layers)
    if classification and isinstance(layers[-1], Softmax):
        layers.append(Classification())
    net = Network(layers, seed=seed, dtype=reader.dtype, backend=backend)
    # the Network copied the layers: the statistics go into its own batch-norm layers
    for i, (mean, var) in reader.batchnorm_stats.items():
        net.layers[i].state["trained_mean"][...] = mean
        net.layers[i].state["trained_variance"][...] = var
    return net
