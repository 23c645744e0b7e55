"""cnnlab -> PyTorch for a layer graph: one small ``nn.Sequential`` per layer (the modules
``torch_plan`` gives that layer alone) and a module that runs them along the connections.

Between layers every tensor is kept N×C×H×W: a layer whose modules end in a ``Linear`` (an
N×K tensor) hands on N×K×1×1, which is cnnlab's 1×1×K, and the model's output is N×K again
when the last layer's was. Which layers hand on N×K, and whether the model's output is
flat, is fixed when the module is made (``flat``, ``flat_output``), not read from the tensors,
so ``torch.fx.symbolic_trace`` can follow the module (``cnnlab.from_torch`` reads it back
that way). An Addition is the sum of its inputs, a DepthConcatenation
``torch.cat`` along the channels (dim 1, in1 first), as in cnnlab (``layers/combine.py``).
"""
from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn

from .torch_plan import torch_plan


class LayerGraphModule(nn.Module):
    """Runs ``layers[name]`` in ``order``, feeding each the outputs of ``sources[name]``
    (the image for the first); ``joins[name]`` is "add" or "cat" for the layers that join
    branches, which have no module; the layers in ``flat`` end in a Linear (their N×K output
    goes on as N×K×1×1), and ``flat_output`` says whether the model returns N×K."""

    def __init__(self, layers: dict, order: list, sources: dict, joins: dict, flat=(),
                 flat_output=False):
        super().__init__()
        self.layers = nn.ModuleDict(layers)
        self.order, self.sources, self.joins = list(order), dict(sources), dict(joins)
        self.flat, self.flat_output = frozenset(flat), bool(flat_output)

    def forward(self, x):
        outputs = {}
        for name in self.order:
            ins = [outputs[s] for s in self.sources[name]] or [x]
            join = self.joins.get(name)
            if join == "add":
                y = ins[0]
                for other in ins[1:]:
                    y = y + other
            elif join == "cat":
                y = torch.cat(ins, dim=1)
            else:
                y = self.layers[name](ins[0]) if name in self.layers else ins[0]
            outputs[name] = y.reshape(y.shape[0], -1, 1, 1) if name in self.flat else y
        y = outputs[self.order[-1]]
        return y.flatten(1) if self.flat_output else y      # class scores: N×K


def graph_to_torch(net, make_module) -> LayerGraphModule:
    """The LayerGraphModule of ``net`` (a Network with branches); ``make_module(entry)``
    builds one planned module with its tensors (``torch_export``)."""
    layers, order, sources, joins, flat = {}, [], {}, {}, []
    last = None
    for layer in net.layers:
        if layer.is_loss:
            continue
        last = layer
        key = layer.name.replace(".", "_")
        order.append(key)
        sources[key] = [s.replace(".", "_") for s in net.sources(layer.name)]
        if layer.kind in ("add", "depthcat"):
            joins[key] = "add" if layer.kind == "add" else "cat"
            continue
        entries = torch_plan(SimpleNamespace(layers=[layer]))
        if entries:                   # an image input without normalization has none
            layers[key] = nn.Sequential(*[make_module(e) for e in entries])
            if entries[-1].cls == "Linear":
                flat.append(key)
    # the output is N×K when it is 1×1 per image (class scores), as for a chain
    model = LayerGraphModule(layers, order, sources, joins, flat,
                             tuple(last.output_shape[:2]) == (1, 1))
    model.eval()
    return model
