"""Layer stacks used throughout the lessons, the CLI and the benchmark."""
from __future__ import annotations


def lenet5(input_size=(28, 28, 1), num_classes: int = 10, *, normalization="zerocenter"):
    """LeNet-5 as the lessons and benchmark use it (ReLU and max pooling, padding 2 in conv1).

    28x28x1 -> conv 5x5x6 (pad 2) 28x28x6 -> pool 14x14x6 -> conv 5x5x16 10x10x16 ->
    pool 5x5x16 -> fc 120 -> fc 84 -> fc 10 -> softmax -> cross-entropy.
    """
    from .layers.activation import ReLU
    from .layers.conv import Convolution2D
    from .layers.dense import FullyConnected
    from .layers.input import ImageInput
    from .layers.output import Classification, Softmax
    from .layers.pool import MaxPooling2D
    return [
        ImageInput(input_size, normalization=normalization),
        Convolution2D(5, 6, padding=2), ReLU(), MaxPooling2D(2, stride=2),
        Convolution2D(5, 16), ReLU(), MaxPooling2D(2, stride=2),
        FullyConnected(120), ReLU(), FullyConnected(84), ReLU(),
        FullyConnected(num_classes), Softmax(), Classification(),
    ]


def reference_example(input_size=(28, 28, 1), num_classes: int = 10):
    """The reference documents' first example network for 28x28 grayscale digits."""
    from .layers.activation import ReLU
    from .layers.conv import Convolution2D
    from .layers.dense import FullyConnected
    from .layers.input import ImageInput
    from .layers.norm import BatchNormalization
    from .layers.output import Classification, Softmax
    from .layers.pool import MaxPooling2D
    return [
        ImageInput(input_size),
        Convolution2D(3, 16, padding=1), BatchNormalization(), ReLU(),
        MaxPooling2D(2, stride=2),
        Convolution2D(3, 32, padding=1), BatchNormalization(), ReLU(),
        FullyConnected(num_classes), Softmax(), Classification(),
    ]
