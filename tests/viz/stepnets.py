"""Small traced networks with every layer type, for the step-picture tests (not a test file)."""
from __future__ import annotations

import re

import numpy as np

import cnnlab as cl

NUMBER = re.compile(r"[-−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def written(text: str) -> float:
    """The last number a picture's text writes ("output = -0.1379" -> -0.1379)."""
    found = NUMBER.findall(text.replace("−", "-"))
    assert found, f"no number in {text!r}"
    return float(found[-1])


def agrees(text: str, value: float) -> bool:
    """The number written (4 significant figures, or fixed decimals) is ``value`` rounded."""
    last = NUMBER.findall(text.replace("−", "-"))[-1]
    mantissa = last.split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    scale = 10 ** int(last.split("e")[1]) if "e" in last else 1
    half_unit = 0.5 * 10 ** -decimals * scale
    return bool(abs(written(text) - value) <= max(half_unit * 1.001, 6e-4 * abs(value)))


def every_kind_network(seed: int = 0) -> cl.Network:
    layers = [cl.ImageInput((5, 5, 2), normalization="zscore"),
              cl.Convolution2D(3, 3, padding=1), cl.BatchNormalization(), cl.LeakyReLU(0.1),
              cl.CrossChannelNormalization(3), cl.MaxPooling2D(2, stride=2), cl.Dropout(0.5),
              cl.Tanh(), cl.FullyConnected(4), cl.Sigmoid(), cl.ClippedReLU(0.5),
              cl.FullyConnected(3), cl.Softmax(), cl.Classification()]
    net = cl.Network(layers, seed=seed, dtype="float64", backend="reference")
    rng = np.random.default_rng(seed)
    net.fit_normalization(rng.random((6, 5, 5, 2)))
    return net


def every_kind_traces():
    """(training trace of image 1 of a batch of 3, prediction trace), both with gradients."""
    net = every_kind_network()
    x = np.random.default_rng(1).random((3, 5, 5, 2))
    training = net.trace(x, image=1, training=True, backward=True, labels=[0, 2, 1])
    predicting = net.trace(x[0], backward=True, labels=[2])
    return training, predicting


def expected_flat(rec, k: int) -> int:
    """Step k's position in the flattened output, by the documented order: fully connected,
    softmax and loss in flat order; every other layer channel by channel, row by row."""
    h, w, c = rec.output_shape
    if rec.kind in ("fc", "softmax", "classoutput", "regressionoutput"):
        return k
    ch, pos = divmod(k, h * w)
    return pos * c + ch
