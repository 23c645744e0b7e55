"""cnnlab: watch a convolutional neural network compute.

Build a network from the layers a textbook names, push an image through it and see every
number; train it fast enough to look inside a real one. See README.md for a tour.
"""
from . import arithmetic
from . import interop
from .analysis import Analysis, analyze
from .augmentation import ImageDataAugmenter
from .interop import InteropError, from_onnx, from_torch, to_onnx, to_torch
from .io import load, save
from .layer_graph import LayerGraph
from .layers.activation import ClippedReLU, LeakyReLU, ReLU, Sigmoid, Tanh
from .layers.combine import Addition, DepthConcatenation
from .layers.conv import Convolution2D
from .layers.dense import FullyConnected
from .layers.dropout import Dropout
from .layers.input import ImageInput
from .layers.norm import BatchNormalization, CrossChannelNormalization
from .layers.output import Classification, Regression, Softmax
from .layers.pool import (AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
                          MaxPooling2D)
from .layers.transposed import TransposedConvolution2D
from .network import Network
from .trace import Trace, TraceBudgetError
from .training import TrainingInfo, TrainingOptions, train_network

__version__ = "0.1.0"

__all__ = [
    "arithmetic", "analyze", "Analysis", "save", "load",
    "ImageInput", "Convolution2D", "TransposedConvolution2D", "BatchNormalization",
    "CrossChannelNormalization", "ReLU", "LeakyReLU", "ClippedReLU", "Tanh", "Sigmoid",
    "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "Dropout", "FullyConnected", "Softmax", "Classification", "Regression",
    "Network", "LayerGraph", "Addition", "DepthConcatenation", "TrainingOptions", "ImageDataAugmenter", "TrainingInfo", "train_network", "Trace", "TraceBudgetError",
    "interop", "to_torch", "from_torch", "to_onnx", "from_onnx", "InteropError",
]
