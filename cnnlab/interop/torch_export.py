"""cnnlab -> PyTorch: ``to_torch(net)`` builds an ``nn.Sequential`` that computes the same.

The modules come from ``torch_plan`` (which explains every mapping); this file only makes
them and copies the tensors: weights, biases, batch-norm running statistics and the image
input's normalization. The model is returned in ``eval()`` mode, in the network's dtype.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from .torch_modules import ImageNormalization
from .torch_plan import torch_plan


def to_torch(net) -> nn.Module:
    """An ``nn.Sequential`` equal to ``net`` in prediction mode, named as its layers (for a
    layer graph a ``torch_graph.LayerGraphModule``, which follows the connections).

    ``net(x)`` in cnnlab (N×H×W×C) equals ``model(x.permute(0, 3, 1, 2))`` (N×C×H×W), within
    rounding. Raises ``cnnlab.interop.InteropError`` naming a layer option PyTorch lacks.
    """
    dtype = torch.float64 if net.dtype == np.float64 else torch.float32

    def make(entry):
        if entry.cls == "ImageNormalization":
            arrays = dict(entry.arrays)
            shift, scale = arrays.pop("shift"), arrays.pop("scale")
            return ImageNormalization(shift, scale, statistics=arrays, **entry.kwargs)
        # in the network's dtype before the copy: a float32 module would round float64
        module = getattr(nn, entry.cls)(*entry.args, **entry.kwargs).to(dtype)
        with torch.no_grad():
            for key, value in entry.arrays.items():
                getattr(module, key).copy_(torch.from_numpy(np.asarray(value, np.float64)))
        return module

    if net.is_graph:
        from .torch_graph import graph_to_torch
        return graph_to_torch(net, make).to(dtype)
    modules = OrderedDict((entry.name, make(entry)) for entry in torch_plan(net))
    model = nn.Sequential(modules).to(dtype)
    model.eval()
    return model
