"""Residual networks (He, Zhang, Ren and Sun 2016) as layer graphs: the basic block, a small
ResNet for 28x28 digits, and ResNet-18 as torchvision defines it.

A residual block computes y = relu(F(x) + x): its layers F learn only the *change* to x, and
the identity path carries both x forward and the gradient backward unchanged (dL/dx gets
dL/dy through the Addition whatever F does), which is why very deep stacks of such blocks
still train. The basic block's F is conv 3x3 - batch norm - ReLU - conv 3x3 - batch norm;
when the block changes the size (stride 2, more filters) the skip path becomes a
"projection", a 1x1 convolution with the same stride plus batch norm, so that the two
inputs of the Addition have the same H×W×C. Convolutions before batch norm carry no bias
(batch norm's offset takes its place), as in torchvision.

    g = cnnlab.models.resnet18()        # a LayerGraph; cl.Network(g) builds it
"""
from __future__ import annotations

from .layer_graph import LayerGraph


def basic_block(graph: LayerGraph, source: str, num_filters: int, *, stride: int = 1,
                projection: bool = False, name: str = "block",
                weights_initializer="he", shortcut: bool = True) -> str:
    """Add a basic residual block to ``graph``, reading the output of layer ``source``;
    return the name of the block's output layer (its final ReLU).

    Layers: ``<name>_conv1`` (3x3, ``stride``), ``_bn1``, ``_relu1``, ``_conv2`` (3x3),
    ``_bn2``, ``_add`` (in1: the residual F(x), in2: the skip path), ``_relu``; with
    ``projection`` the skip path is ``_proj_conv`` (1x1, ``stride``) and ``_proj_bn``.
    Without it the skip path is the identity, so ``source`` must already have
    ``num_filters`` channels and ``stride`` must be 1 (the Addition refuses otherwise,
    naming both sizes). ``shortcut=False`` leaves the skip path out: the same layers as a
    plain chain (conv1 ... bn2, then ``_relu``), for comparing a deep chain with a residual
    network of the same depth.
    """
    from .layers.activation import ReLU
    from .layers.combine import Addition
    from .layers.conv import Convolution2D
    from .layers.norm import BatchNormalization
    conv = dict(has_bias=False, weights_initializer=weights_initializer)
    graph.add_layers([
        Convolution2D(3, num_filters, stride=stride, padding=1, name=f"{name}_conv1", **conv),
        BatchNormalization(name=f"{name}_bn1"), ReLU(name=f"{name}_relu1"),
        Convolution2D(3, num_filters, padding=1, name=f"{name}_conv2", **conv),
        BatchNormalization(name=f"{name}_bn2")]
        + ([Addition(2, name=f"{name}_add")] if shortcut else [])
        + [ReLU(name=f"{name}_relu")])
    graph.connect(source, f"{name}_conv1")
    if not shortcut:
        return f"{name}_relu"
    skip = source
    if projection:
        graph.add_layers([Convolution2D(1, num_filters, stride=stride, name=f"{name}_proj_conv",
                                        **conv),
                          BatchNormalization(name=f"{name}_proj_bn")])
        graph.connect(source, f"{name}_proj_conv")
        skip = f"{name}_proj_bn"
    graph.connect(skip, f"{name}_add/in2")
    return f"{name}_relu"


def _resnet(stem, widths, blocks, num_classes, weights_initializer, fc_initializer,
            shortcuts=True):
    """Stem layers, then stages of basic blocks (stage i: widths[i] filters, blocks[i] blocks,
    the first with stride 2 except in stage 1), global average pooling, fc, softmax."""
    from .layers.dense import FullyConnected
    from .layers.output import Classification, Softmax
    from .layers.pool import GlobalAveragePooling2D
    graph = LayerGraph(stem)
    last, channels = graph.names[-1], widths[0]      # the stem ends with widths[0] channels
    for stage, (width, count) in enumerate(zip(widths, blocks), start=1):
        for b in range(1, count + 1):
            stride = 2 if stage > 1 and b == 1 else 1
            change = stride != 1 or channels != width
            last = basic_block(graph, last, width, stride=stride, projection=change,
                               name=f"layer{stage}_{b}", weights_initializer=weights_initializer,
                               shortcut=shortcuts)
            channels = width
    graph.add_layers([GlobalAveragePooling2D(name="avgpool"),
                      FullyConnected(num_classes, name="fc", weights_initializer=fc_initializer),
                      Softmax(), Classification()])
    return graph.connect(last, "avgpool")


def resnet18(input_size=(224, 224, 3), num_classes: int = 1000, *,
             normalization="zerocenter", weights_initializer="he") -> LayerGraph:
    """ResNet-18 as torchvision's ``resnet18`` defines it (11,689,512 parameters at 1000
    classes), as a LayerGraph.

    224x224x3 -> conv 7x7x64 stride 2 padding 3, no bias (112x112) -> batch norm, ReLU ->
    max pooling 3x3 stride 2 padding 1 (56x56) -> 4 stages of 2 basic blocks with 64, 128,
    256, 512 filters (the first block of stages 2-4 has stride 2 and a 1x1 projection:
    28, 14, 7) -> global average pooling (1x1x512) -> fc classes -> softmax.

    ``weights_initializer`` goes to every convolution ("zeros": build the 11.7 million
    weights without drawing random numbers, to count or analyze).
    """
    from .layers.activation import ReLU
    from .layers.conv import Convolution2D
    from .layers.input import ImageInput
    from .layers.norm import BatchNormalization
    from .layers.pool import MaxPooling2D
    stem = [ImageInput(input_size, normalization=normalization),
            Convolution2D(7, 64, stride=2, padding=3, has_bias=False, name="conv1",
                          weights_initializer=weights_initializer),
            BatchNormalization(name="bn1"), ReLU(name="relu1"),
            MaxPooling2D(3, stride=2, padding=1, name="maxpool")]
    fc_init = "zeros" if weights_initializer == "zeros" else "glorot"
    return _resnet(stem, (64, 128, 256, 512), (2, 2, 2, 2), num_classes,
                   weights_initializer, fc_init)


def resnet_digits(input_size=(28, 28, 1), num_classes: int = 10, *, widths=(16, 32, 64),
                  blocks=(1, 1, 1), normalization="zerocenter",
                  shortcuts: bool = True) -> LayerGraph:
    """A small ResNet for 28x28 digits: conv 3x3x16 (padding 1), batch norm, ReLU, then a
    stage of basic blocks per width (stride 2 from the second stage: 28 -> 14 -> 7), global
    average pooling, fc, softmax. With the defaults 77,754 parameters.

    ``shortcuts=False``: the same layers without the skip paths (no Additions, no
    projections), a plain chain of the same depth — the comparison that shows why skip
    connections help (``blocks=(4, 4, 4)`` gives 25 convolutions either way)."""
    from .layers.activation import ReLU
    from .layers.conv import Convolution2D
    from .layers.input import ImageInput
    from .layers.norm import BatchNormalization
    if len(widths) != len(blocks) or not widths:
        raise ValueError(f"resnet_digits: widths = {tuple(widths)!r} and blocks = "
                         f"{tuple(blocks)!r} must name the same (non-zero) number of stages")
    stem = [ImageInput(input_size, normalization=normalization),
            Convolution2D(3, widths[0], padding=1, has_bias=False, name="conv1",
                          weights_initializer="he"),
            BatchNormalization(name="bn1"), ReLU(name="relu1")]
    return _resnet(stem, widths, blocks, num_classes, "he", "glorot", shortcuts)
