"""Layer stacks used throughout the lessons, the CLI and the benchmark; networks with
branches (layer graphs) come from ``cnnlab/resnet.py`` and ``cnnlab/inception.py``."""
from __future__ import annotations

from .inception import inception_block  # noqa: F401
from .resnet import basic_block, resnet18, resnet_digits  # noqa: F401


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


def alexnet(input_size=(224, 224, 3), num_classes: int = 1000, *, normalization="zerocenter",
            weights_initializer="glorot"):
    """AlexNet as torchvision builds it (one tower; 61,100,840 parameters at 1000 classes).

    Krizhevsky, Sutskever and Hinton (2012) split the network over two GPUs, with 96, 256,
    384, 384 and 256 filters and cross-channel normalization; torchvision's single-tower form,
    the one whose parameter count is usually quoted, has 64, 192, 384, 256 and 256 filters
    and no normalization. 224x224x3 -> conv 11x11x64 stride 4 pad 2 (55x55) -> pool 3/2 (27)
    -> conv 5x5x192 pad 2 -> pool 3/2 (13) -> conv 3x3x384, 3x3x256, 3x3x256 pad 1 ->
    pool 3/2 (6x6x256) -> dropout, fc 4096 -> dropout, fc 4096 -> fc classes.

    ``weights_initializer`` goes to every convolution and fully connected layer: "zeros"
    builds the 61 million weights without drawing random numbers (for counting, as lesson 13
    does).
    """
    from .layers.activation import ReLU
    from .layers.conv import Convolution2D
    from .layers.dense import FullyConnected
    from .layers.dropout import Dropout
    from .layers.input import ImageInput
    from .layers.output import Classification, Softmax
    from .layers.pool import MaxPooling2D
    init = dict(weights_initializer=weights_initializer)
    return [
        ImageInput(input_size, normalization=normalization),
        Convolution2D(11, 64, stride=4, padding=2, **init), ReLU(), MaxPooling2D(3, stride=2),
        Convolution2D(5, 192, padding=2, **init), ReLU(), MaxPooling2D(3, stride=2),
        Convolution2D(3, 384, padding=1, **init), ReLU(),
        Convolution2D(3, 256, padding=1, **init), ReLU(),
        Convolution2D(3, 256, padding=1, **init), ReLU(), MaxPooling2D(3, stride=2),
        Dropout(0.5), FullyConnected(4096, **init), ReLU(),
        Dropout(0.5), FullyConnected(4096, **init), ReLU(),
        FullyConnected(num_classes, **init), Softmax(), Classification(),
    ]


def vgg16(input_size=(224, 224, 3), num_classes: int = 1000, *, normalization="zerocenter",
          weights_initializer="glorot"):
    """VGG-16 (Simonyan and Zisserman 2015, configuration D; 138,357,544 parameters at 1000
    classes): five blocks of 3x3 convolutions with padding 1 (64, 64 | 128, 128 | 256 x 3 |
    512 x 3 | 512 x 3 filters), each block ending in 2x2 max pooling with stride 2
    (224 -> 7), then fc 4096, dropout, fc 4096, dropout, fc classes.

    ``weights_initializer`` as in :func:`alexnet` ("zeros": count without drawing 138
    million random numbers).
    """
    from .layers.activation import ReLU
    from .layers.conv import Convolution2D
    from .layers.dense import FullyConnected
    from .layers.dropout import Dropout
    from .layers.input import ImageInput
    from .layers.output import Classification, Softmax
    from .layers.pool import MaxPooling2D
    init = dict(weights_initializer=weights_initializer)
    layers = [ImageInput(input_size, normalization=normalization)]
    for filters, repeat in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(repeat):
            layers += [Convolution2D(3, filters, padding=1, **init), ReLU()]
        layers.append(MaxPooling2D(2, stride=2))
    return layers + [
        FullyConnected(4096, **init), ReLU(), Dropout(0.5),
        FullyConnected(4096, **init), ReLU(), Dropout(0.5),
        FullyConnected(num_classes, **init), Softmax(), Classification(),
    ]
