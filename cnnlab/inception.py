"""An Inception module (Szegedy et al. 2015, GoogLeNet) as part of a layer graph.

Instead of choosing one filter size, the module runs four branches side by side on the same
input and stacks their outputs along the channels (a DepthConcatenation):

    1x1 convolution
    1x1 "reduce" convolution -> 3x3 convolution (padding 1)
    1x1 "reduce" convolution -> 5x5 convolution (padding 2)
    3x3 max pooling (stride 1, padding 1) -> 1x1 "projection" convolution

each convolution followed by ReLU. Every branch keeps H×W (stride 1, "same" padding), so the
outputs can be stacked: C_out = f1x1 + f3x3 + f5x5 + pool_proj. The 1x1 reductions are what
make it affordable: a 5x5 convolution from 192 channels to 32 costs 25·192·32 multiply-adds
per position, through a reduction to 16 only 192·16 + 25·16·32.
"""
from __future__ import annotations

from .layer_graph import LayerGraph


def inception_block(graph: LayerGraph, source: str, *, f1x1: int, f3x3_reduce: int,
                    f3x3: int, f5x5_reduce: int, f5x5: int, pool_proj: int,
                    name: str = "inception") -> str:
    """Add an Inception module reading layer ``source`` to ``graph``; return the name of its
    output, the concatenation ``<name>_cat`` (inputs: the 1x1, 3x3, 5x5 and pooling
    branches, in that order). Filter counts as GoogLeNet's table names them; inception (3a)
    is ``f1x1=64, f3x3_reduce=96, f3x3=128, f5x5_reduce=16, f5x5=32, pool_proj=32``."""
    from .layers.activation import ReLU
    from .layers.combine import DepthConcatenation
    from .layers.conv import Convolution2D
    from .layers.pool import MaxPooling2D

    def conv(k, f, tag):
        return [Convolution2D(k, f, padding=(k - 1) // 2, weights_initializer="he",
                              name=f"{name}_{tag}"), ReLU(name=f"{name}_{tag}_relu")]

    branches = [conv(1, f1x1, "1x1"),
                conv(1, f3x3_reduce, "3x3_reduce") + conv(3, f3x3, "3x3"),
                conv(1, f5x5_reduce, "5x5_reduce") + conv(5, f5x5, "5x5"),
                [MaxPooling2D(3, stride=1, padding=1, name=f"{name}_pool")]
                + conv(1, pool_proj, "pool_proj")]
    graph.add_layers([DepthConcatenation(4, name=f"{name}_cat")])
    for port, branch in enumerate(branches, start=1):
        graph.add_layers(branch)
        graph.connect(source, branch[0].name)
        graph.connect(branch[-1].name, f"{name}_cat/in{port}")
    return f"{name}_cat"
