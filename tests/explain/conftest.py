"""Networks for the explanation tests: small float64 ones (checked against centred
differences) and LeNet-5 trained on the embedded digits (about a second on the fused
kernels), as lesson 12 trains it."""
from __future__ import annotations

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.datasets import digits_split
from cnnlab.models import lenet5


def small_layers(with_softmax=True, channels=1):
    """A 6×6 input (z-scored with given statistics: the gradient must pass the
    normalization), a 3×3 convolution, tanh, average pooling and a fully connected layer of
    three class scores; fixed weights, so two calls build the same network."""
    rng = np.random.default_rng(7)
    layers = [cl.ImageInput((6, 6, channels), normalization="zscore", mean=0.4, std=0.3),
              cl.Convolution2D(3, 2, padding=1, weights=rng.normal(size=(3, 3, channels, 2)),
                               bias=rng.normal(size=2)),
              cl.Tanh(), cl.AveragePooling2D(2, stride=2),
              cl.FullyConnected(3, weights=rng.normal(size=(3, 18)), bias=rng.normal(size=3))]
    return layers + ([cl.Softmax(), cl.Classification()] if with_softmax else [])


@pytest.fixture(params=["reference", "fast"])
def small_pair(request):
    """(network with softmax, the same weights without softmax: its output is the scores)."""
    return (cl.Network(small_layers(), dtype="float64", backend=request.param),
            cl.Network(small_layers(with_softmax=False), dtype="float64",
                       backend=request.param))


@pytest.fixture(scope="session")
def digits():
    x_train, y_train, x_val, y_val = digits_split(2000, 500, seed=0)
    return x_train / 255, y_train, x_val / 255, y_val


@pytest.fixture(scope="session")
def trained(digits):
    """LeNet-5 after two epochs of Adam on 2,000 digits (lesson 12's network)."""
    x_train, y_train, _x_val, _y_val = digits
    options = cl.TrainingOptions("adam", initial_learn_rate=0.002, max_epochs=2,
                                 mini_batch_size=50, verbose=False, progress_bar=False, seed=0)
    net, _info = cl.train_network(x_train, y_train, lenet5(), options)
    return net
