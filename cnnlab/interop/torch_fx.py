"""PyTorch -> cnnlab for a module that is not a chain: ``torch.fx`` traces its ``forward``
into a graph of operations, and each operation becomes a cnnlab layer of a LayerGraph.

``torch.fx.symbolic_trace`` runs ``forward`` once on a stand-in tensor and records what is
done to it: ``call_module`` (a submodule such as ``self.conv1``), ``call_function``
(``torch.cat``, ``operator.add`` for ``x + y``, ``F.relu``), ``call_method`` (``x.view``,
``x.relu()``), ``getattr`` (``x.shape``). The arguments of each recorded operation are the
operations whose results it reads, which are the connections of the layer graph:

- a submodule maps to its cnnlab layer with the converters of the chain importer
  (``torch_import.MAPS``: Conv2d, BatchNorm2d, ReLU, MaxPool2d, Linear, ...); the modules of
  ``torch.nn`` and cnnlab's ImageNormalization are not traced into;
- ``x + y`` / ``torch.add`` is an Addition, ``torch.cat(..., dim=1)`` a DepthConcatenation
  (dim 1 of N×C×H×W is cnnlab's channels, the last axis of H×W×C), ``torch.relu`` a ReLU,
  ``torch.flatten(x, 1)`` and ``x.view(x.size(0), -1)`` the flatten that cnnlab's fully
  connected layer does itself (the value is marked flat, so the Linear after it gets its
  columns reordered from C, H, W to H, W, C as in a chain).

Values that are not images (``x.size(0)``, ``x.shape``) are followed only as far as a view
needs them. Anything else is refused with an InteropError naming the fx node, its op and its
target. Only the operations the output depends on are read.
"""
from __future__ import annotations

import copy
import operator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..layers.input import ImageInput
from . import common
from .common import InteropError
from .reader import Reader
from .torch_modules import ImageNormalization


@dataclass(frozen=True)
class TracedImage:
    """An image tensor of the traced module: the cnnlab layer that computes it, its cnnlab
    shape H×W×C, whether PyTorch holds it flattened (N×(C·H·W)), and a pad module waiting
    to be folded into the convolution or pooling that reads it."""
    layer: str
    shape: tuple
    flat: bool = False
    pending: tuple | None = None

    def __repr__(self):
        h, w, c = self.shape
        return f"the {'flattened ' if self.flat else ''}{h}x{w}x{c} output of '{self.layer}'"

    def torch_shape(self):
        h, w, c = self.shape
        return (BATCH, h * w * c) if self.flat else (BATCH, c, h, w)


class _Batch:
    """The batch size N, which a view must pass on (``x.size(0)``), never fix."""

    def __repr__(self):
        return "N (the batch size)"


BATCH = _Batch()


class _Tracer(torch.fx.Tracer):
    """Records the modules cnnlab has a layer for as one operation each (not their insides)."""

    def is_leaf_module(self, m, qualified_name):
        from .torch_import import MAPS
        return type(m) in MAPS or isinstance(m, ImageNormalization) or \
            super().is_leaf_module(m, qualified_name)


def _target_name(node) -> str:
    target = node.target
    if not callable(target):
        return str(target)
    module = getattr(target, "__module__", None) or ""
    module = {"_operator": "operator", "builtins": ""}.get(module, module)
    return f"{module}.{target.__name__}" if module else target.__name__


def _owner(node):
    """(qualified name, class) of the module whose forward made ``node``, or None at the
    top level (fx keeps the stack of modules being traced in ``node.meta``)."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return None
    path, cls = list(stack.values())[-1]
    return path, cls


def describe(node) -> str:
    """``node 'add_1' (call_function operator.add) in module 'layer1.0' (BasicBlock)``: how
    errors name an fx node."""
    text = f"node '{node.name}' ({node.op} {_target_name(node)})"
    owner = _owner(node)
    if owner is not None and owner[0] and node.op != "call_module":
        text += f" in module '{owner[0]}' ({getattr(owner[1], '__name__', owner[1])})"
    return text


def operation_name(node) -> str:
    """A layer name for an operation: its module's qualified name and the operation,
    ``layer1.0`` and ``+`` -> layer1_0_add; at the top level fx's node name."""
    owner = _owner(node)
    if owner is None or not owner[0]:
        return node.name
    op = node.target if isinstance(node.target, str) else node.target.__name__
    return f"{owner[0].replace('.', '_')}_{op.strip('_')}"


def trace(module):
    """The fx graph of ``module``; a forward that fx cannot follow is an InteropError."""
    try:
        return _Tracer().trace(module)
    except Exception as err:          # fx raises TraceError, TypeError, ... on Python logic
        raise InteropError(f"from_torch: torch.fx cannot trace {type(module).__name__}."
                           f"forward ({type(err).__name__}: {err}); cnnlab reads a module "
                           "whose forward does not branch on tensor values") from err


class GraphImport:
    """The walk over an fx graph: the layers made, the connections between them, the
    batch-norm statistics to write once the Network exists, and each node's value."""

    def __init__(self, root, size, dtype):
        self.root, self.size, self.dtype = root, size, np.dtype(dtype)
        self.layers, self.edges, self.values = [], [], {}
        self.batchnorm_stats = {}          # layer name -> (mean, var)
        self.taken = set()
        self.inputs, self.made_at = {}, {}  # layer name -> its input images, its fx node
        # LayerGraphModule (cnnlab.to_torch of a graph) sums a join of n inputs as n - 1
        # additions: the plan of its joins, to name each by its layer and keep it one layer
        from .torch_graph import LayerGraphModule
        self.join_plan = None
        if isinstance(root, LayerGraphModule):
            self.join_plan = [(k, len(root.sources[k]) - 1 if root.joins[k] == "add" else 1)
                              for k in root.order if k in root.joins]
        self.adds_left = 0

    # ---- the layers and their connections ------------------------------------------------
    def unique(self, name, *, reserve=True):
        """``name``, or ``name_2``, ``name_3``, ... if taken (a module called twice, as
        torchvision's BasicBlock calls its ``relu``); ``reserve``: mark it taken."""
        base, k = name, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        if reserve:
            self.taken.add(name)
        return name

    def add(self, layer, inputs, where, *, flat=False, node=None):
        """Append ``layer`` reading ``inputs`` (images), or put it in place of the layer of
        the same name; its build on a copy checks the sizes and gives its output shape.
        Returns its output image."""
        shapes = [x.shape for x in inputs]
        built = copy.deepcopy(layer)
        try:
            shape = built.build(shapes if len(shapes) > 1 else shapes[0],
                                rng=np.random.default_rng(0), dtype=self.dtype)
        except ValueError as err:
            raise InteropError(f"{where}: {err}") from err
        names = [x.name for x in self.layers]
        if layer.name in names:
            self.layers[names.index(layer.name)] = layer
            self.edges = [e for e in self.edges if e[1] != layer.name]
        else:
            self.layers.append(layer)
        for port, x in zip(layer.input_names, inputs):
            self.edges.append((x.layer, layer.name, port))
        self.inputs[layer.name], self.made_at[layer.name] = list(inputs), node
        return TracedImage(layer.name, tuple(shape), flat)

    def join_name(self, node):
        """The name of a join (Addition, DepthConcatenation) made at ``node``."""
        if self.join_plan is None:
            return self.unique(operation_name(node))
        if not self.join_plan:
            raise InteropError(f"{describe(node)}: joins more branches than the "
                               "LayerGraphModule's joins list")
        name, count = self.join_plan.pop(0)
        self.adds_left = count - 1
        return self.unique(name)

    def continues_addition(self, node, first):
        """Whether the addition at ``node`` adds one more input to the Addition that computed
        ``first`` (``a + b + c`` is one Addition of 3): ``first`` is that Addition's output
        read by nothing else (and, in a LayerGraphModule, the same join)."""
        made = self.made_at.get(first.layer)
        alone = made is not None and made is node.args[0] and len(made.users) == 1 and \
            made.target in (operator.add, operator.iadd, torch.add, "add", "add_")
        if self.join_plan is None:
            return alone
        if self.adds_left > 0 and alone:
            self.adds_left -= 1
            return True
        return False

    # ---- node values -----------------------------------------------------------------------
    def value(self, arg):
        if isinstance(arg, torch.fx.Node):
            return self.values[arg]
        if isinstance(arg, (tuple, list)):
            return type(arg)(self.value(a) for a in arg)
        return arg

    def image(self, arg, where, *, pad_allowed=False):
        x = self.value(arg)
        if not isinstance(x, TracedImage):
            raise InteropError(f"{where}: reads {x!r} where cnnlab needs an image tensor "
                               "computed from the input")
        if x.pending is not None and not pad_allowed:
            raise InteropError(f"{x.pending[0]} is followed by {where}: cnnlab folds a pad "
                               "module only into the convolution or pooling right after it")
        return x

    # ---- the walk --------------------------------------------------------------------------
    def run(self, graph):
        nodes = list(graph.nodes)
        needed = _needed(nodes)
        inputs = [n for n in nodes if n.op == "placeholder"]
        if len(inputs) != 1:
            raise InteropError(f"from_torch: forward takes {len(inputs)} inputs "
                               f"({', '.join(n.name for n in inputs)}); cnnlab reads a module "
                               "with one image input")
        skip = self.read_input(inputs[0])
        out = None
        for node in nodes:
            if node not in needed or node.op == "placeholder" or node is skip:
                continue
            if node.op == "output":
                out = node
                break
            if node.op == "call_module":
                self.values[node] = self.read_module(node)
            elif node.op in ("call_function", "call_method"):
                from .torch_fx_ops import read_operation
                self.values[node] = read_operation(self, node)
            else:
                raise InteropError(f"{describe(node)}: cnnlab reads images computed from the "
                                   "input, not a module's tensor used directly "
                                   f"({node.op}); wrap that computation in a layer module")
        result = out.args[0]
        if not isinstance(result, torch.fx.Node):
            raise InteropError(f"from_torch: forward returns {type(result).__name__}; cnnlab "
                               "reads a module that returns one image tensor")
        return self.image(result, describe(out))

    def read_input(self, placeholder):
        """The image input: ImageNormalization first, if the input feeds it alone, becomes the
        input layer's normalization. Returns the node it took (or None)."""
        users = list(placeholder.users)
        first = users[0] if len(users) == 1 else None
        if first is not None and first.op == "call_module" and \
                isinstance(self.root.get_submodule(first.target), ImageNormalization):
            m = self.root.get_submodule(first.target)
            stats = {k: common.statistic_from_chw(_np(getattr(m, k))) for k in m.statistic_names}
            layer = ImageInput(self.size, normalization=m.normalization,
                               name=self.unique(self.module_name(first.target)), **stats)
            self.layers.append(layer)
            self.values[placeholder] = self.values[first] = TracedImage(layer.name, self.size)
            return first
        layer = ImageInput(self.size, normalization="none", name=self.unique("imageinput"))
        self.layers.append(layer)
        self.values[placeholder] = TracedImage(layer.name, self.size)
        return None

    def read_module(self, node):
        from .torch_import import MAPS, PAD_MODULES, TAKES_PAD
        m = self.root.get_submodule(node.target)
        where = f"module '{node.target}' ({type(m).__name__}, fx node '{node.name}')"
        read = MAPS.get(type(m))
        if isinstance(m, ImageNormalization):
            raise InteropError(f"{where}: cnnlab normalizes images only in its input layer, "
                               "so an ImageNormalization must be the first thing done to the "
                               "input and the only thing reading it")
        if read is None:
            raise InteropError(f"{where}: no cnnlab layer for {type(m).__name__}; cnnlab reads "
                               f"{', '.join(sorted(c.__name__ for c in MAPS))}, joined by "
                               "+ and torch.cat")
        if len(node.args) != 1 or node.kwargs:
            raise InteropError(f"{where}: called with {len(node.args)} arguments and keywords "
                               f"{sorted(node.kwargs)}; cnnlab layers read one image")
        x = self.image(node.args[0], where, pad_allowed=read in TAKES_PAD)
        if type(m) in PAD_MODULES and min(m.padding) < 0:
            raise InteropError(f"{where}: negative padding (a crop) is folded into a "
                               "transposed convolution only in an nn.Sequential chain")
        r = Reader(x.shape, self.dtype)
        r.flat, r.pending = x.flat, x.pending
        name = self.unique(self.module_name(node.target), reserve=False)
        layer = read(m, name, where, r)
        if layer is None:                    # flatten, pad, identity: no layer of its own
            pending = r.pending if type(m) in PAD_MODULES else None
            return TracedImage(x.layer, x.shape, r.flat, pending)
        self.taken.add(name)
        if r.batchnorm_stats:
            self.batchnorm_stats[name] = r.batchnorm_stats[0]
        return self.add(layer, [x], where, flat=r.flat)

    def module_name(self, target):
        """A layer name from a module's qualified name: ``layer1.0.conv1`` -> layer1_0_conv1;
        the module alone (but for pads and flattens) in an nn.Sequential takes that
        Sequential's name; LayerGraphModule's ``layers.`` prefix is dropped."""
        from .torch_graph import LayerGraphModule
        parts = target.split(".")
        while len(parts) > 1:
            parent = self.root.get_submodule(".".join(parts[:-1]))
            if not isinstance(parent, nn.Sequential) or \
                    sum(_makes_layer(c) for c in parent.children()) != 1:
                break
            parts = parts[:-1]
        if isinstance(self.root, LayerGraphModule) and parts[0] == "layers" and len(parts) > 1:
            parts = parts[1:]
        return "_".join(parts)


def _makes_layer(m) -> bool:
    from .torch_import import PAD_MODULES
    return type(m) not in PAD_MODULES and not isinstance(
        m, (nn.Flatten, nn.Unflatten, nn.Identity))


def _needed(nodes):
    """The nodes the output depends on (fx records whatever forward computed)."""
    out = [n for n in nodes if n.op == "output"]
    needed, stack = set(out), list(out)
    while stack:
        for n in stack.pop().all_input_nodes:
            if n not in needed:
                needed.add(n)
                stack.append(n)
    return needed


def _np(t):
    return t.detach().cpu().numpy().astype(np.float64)


def from_traced(module, size, *, dtype, seed, backend, classification):
    """The cnnlab Network of a module that is not an nn.Sequential (``torch_import``)."""
    from ..layer_graph import LayerGraph
    from ..layers.output import Classification, Softmax
    from ..network import Network
    walk = GraphImport(module, size, dtype)
    final = walk.run(trace(module))
    graph = LayerGraph()
    for layer in walk.layers:
        graph.add_layers([layer])
    if classification and isinstance(graph[final.layer], Softmax):
        graph.add_layers([Classification()])
        graph.connect(final.layer, graph.names[-1])
    for source, destination, port in walk.edges:
        graph.connect(source, f"{destination}/{port}")
    net = Network(graph, seed=seed, dtype=walk.dtype, backend=backend)
    # the graph copied the layers: the statistics go into the network's own
    for name, (mean, var) in walk.batchnorm_stats.items():
        net[name].state["trained_mean"][...] = mean
        net[name].state["trained_variance"][...] = var
    return net

