"""A layer graph: layers plus the connections between them, for networks with branches.

A chain passes each layer's output to the next layer. A ResNet block adds a layer's output to
the output two layers later; an Inception block runs several branches on one input and stacks
their outputs. MATLAB describes such networks as a *layer graph*, and so does cnnlab, with the
same names:

>>> import cnnlab as cl
>>> g = cl.LayerGraph([cl.ImageInput((28, 28, 1)), cl.Convolution2D(3, 8, padding=1),
...                    cl.ReLU(), cl.Convolution2D(3, 8, padding=1), cl.Addition(2),
...                    cl.ReLU()])                     # connected in order, as a chain
>>> g.connections[3]
('conv_2', 'add_1/in1')
>>> g = g.connect("relu_1", "add_1/in2")               # the skip connection
>>> net = cl.Network(g, backend="reference")
>>> net.sources("add_1"), net.output_shape
(['conv_2', 'relu_1'], (28, 28, 8))

A connection goes from a layer's output (``"relu_1"``, or ``"relu_1/out"``) to one named
input of another layer: ``"conv_2"`` (or ``"conv_2/in"``) for a layer with one input,
``"add_1/in2"`` for the layers that join branches (inputs in1, in2, ...). One output may feed
many inputs (the branches fan out); each input is fed by exactly one output.

``plan_graph`` (used by ``cnnlab.Network``) checks that the connections make a network: one
input, every input connected, no cycle, every layer on a path to the output; and puts the
layers in a topological order (every layer after the layers it reads), the order in which the
forward pass runs them and the backward pass runs them in reverse.
"""
from __future__ import annotations

import copy
import heapq

from .layers.base import Layer
from .network_build import name_layers


def _input_names(layer) -> tuple:
    return tuple(layer.input_names)


class LayerGraph:
    """Layers and connections (MATLAB's ``layerGraph``).

    Parameters
    ----------
    layers : list of Layer, optional
        Copied (the graph owns its layers), named (conv_1, relu_1, ... as a Network names
        them) and connected in order, each to the next: a chain to which
        :meth:`connect` adds the branches. A layer with several inputs is reached through its
        first input, in1.
    """

    def __init__(self, layers=()):
        self._layers: list[Layer] = []
        #: (source layer, destination layer, destination input), in the order they were made
        self._edges: list[tuple[str, str, str]] = []
        self.add_layers(layers)

    # ---- editing -------------------------------------------------------------------------
    def add_layers(self, layers) -> "LayerGraph":
        """Add ``layers`` (copies), connected to each other in order (MATLAB's ``addLayers``)
        but not to the layers already in the graph; returns the graph."""
        if isinstance(layers, Layer):
            layers = [layers]
        new = list(layers)
        for i, layer in enumerate(new):
            if not isinstance(layer, Layer):
                raise TypeError(f"LayerGraph: layer {i + 1} is {type(layer).__name__!r}, not "
                                "a cnnlab layer")
        new = [copy.deepcopy(layer) for layer in new]
        name_layers(self._layers + new, who="LayerGraph")
        self._layers += new
        for a, b in zip(new, new[1:]):
            if not _input_names(b):
                raise ValueError(f"LayerGraph: {b.label} has no inputs, so {a.label} cannot "
                                 "be connected to it (an image input starts a network)")
            self._edges.append((a.name, b.name, _input_names(b)[0]))
        return self

    def remove_layers(self, names) -> "LayerGraph":
        """Remove the named layers and every connection to or from them."""
        names = [names] if isinstance(names, str) else list(names)
        for name in names:
            self[name]
        self._layers = [layer for layer in self._layers if layer.name not in names]
        self._edges = [e for e in self._edges if e[0] not in names and e[1] not in names]
        return self

    def connect(self, source: str, destination: str) -> "LayerGraph":
        """Connect the output of ``source`` to an input of ``destination`` (MATLAB's
        ``connectLayers``): ``g.connect("relu_1", "add_1/in2")``. Returns the graph."""
        src = self._source(source)
        dst, port = self._destination(destination)
        for s, d, p in self._edges:
            if (d, p) == (dst, port):
                raise ValueError(f"LayerGraph.connect: input '{dst}/{port}' is already "
                                 f"connected to '{s}'; disconnect it first "
                                 f"(g.disconnect('{s}', '{dst}/{port}'))")
        if src == dst:
            raise ValueError(f"LayerGraph.connect: '{source}' -> '{destination}' connects "
                             "a layer to itself (a cycle)")
        self._edges.append((src, dst, port))
        return self

    def disconnect(self, source: str, destination: str) -> "LayerGraph":
        """Remove the connection from ``source`` to ``destination`` (MATLAB's
        ``disconnectLayers``). Returns the graph."""
        src = self._source(source)
        dst, port = self._destination(destination)
        if (src, dst, port) not in self._edges:
            raise ValueError(f"LayerGraph.disconnect: there is no connection from '{src}' "
                             f"to '{dst}/{port}'; connections: "
                             f"{', '.join(f'{a} -> {b}' for a, b in self.connections) or 'none'}")
        self._edges.remove((src, dst, port))
        return self

    def _source(self, text: str) -> str:
        if not isinstance(text, str):
            raise TypeError(f"LayerGraph: a source is a layer name, got {text!r}")
        name, _, port = text.partition("/")
        self[name]
        if port not in ("", "out"):
            raise ValueError(f"LayerGraph: '{text}': a layer has one output, 'out' "
                             f"(write '{name}' or '{name}/out')")
        return name

    def _destination(self, text: str) -> tuple[str, str]:
        if not isinstance(text, str):
            raise TypeError(f"LayerGraph: a destination is 'layer' or 'layer/input', got "
                            f"{text!r}")
        name, _, port = text.partition("/")
        layer = self[name]
        inputs = _input_names(layer)
        if not inputs:
            raise ValueError(f"LayerGraph: {layer.label} has no inputs (an image input is fed "
                             "the images), so nothing can be connected to it")
        if not port:
            if len(inputs) > 1:
                raise ValueError(f"LayerGraph: {layer.label} has inputs {', '.join(inputs)}: "
                                 f"name one, e.g. '{name}/{inputs[-1]}'")
            port = inputs[0]
        if port not in inputs:
            raise ValueError(f"LayerGraph: '{text}': {layer.label} has input"
                             f"{'s' if len(inputs) > 1 else ''} {', '.join(inputs)}, not "
                             f"{port!r}")
        return name, port

    # ---- reading -------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The graph's layers, in the order they were added."""
        return list(self._layers)

    @property
    def names(self) -> list[str]:
        return [layer.name for layer in self._layers]

    @property
    def connections(self) -> list[tuple[str, str]]:
        """(source, destination/input) for every connection, as MATLAB's Connections table."""
        return [(s, f"{d}/{p}") for s, d, p in self._edges]

    @property
    def edges(self) -> list[tuple[str, str, str]]:
        """(source layer, destination layer, input name) for every connection."""
        return list(self._edges)

    def __getitem__(self, name: str) -> Layer:
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise KeyError(f"LayerGraph: no layer named {name!r}; layers are: "
                       f"{', '.join(self.names) or 'none'}")

    def __len__(self):
        return len(self._layers)

    def __repr__(self):
        return (f"LayerGraph with {len(self._layers)} layers and {len(self._edges)} "
                "connections:\n" + connections_table(self.connections))


def connections_table(connections) -> str:
    """The connections as two columns, Source and Destination."""
    rows = [("Source", "Destination")] + [(s, d) for s, d in connections]
    w = max(len(r[0]) for r in rows)
    return "\n".join(f"    {s:<{w}}   {d}" for s, d in rows)


# ---- from a graph to a runnable order ----------------------------------------------------------

def plan_graph(layers, edges):
    """Check that ``edges`` connect ``layers`` into a network; return (order, sources).

    ``order``: the layers in a topological order (ties broken by the order of ``layers``),
    first the input layer, last the output layer. ``sources[name]``: the layers feeding
    each input of ``name``, in input order (in1, in2, ...); empty for the input layer.
    Every refusal is a ValueError that names the layers and connections at fault.
    """
    from .layers.output import Classification, Softmax
    by_name = {layer.name: layer for layer in layers}
    index = {layer.name: i for i, layer in enumerate(layers)}
    feeds = {(d, p): s for s, d, p in edges}
    consumers = {name: [] for name in by_name}
    for s, d, _ in edges:
        consumers[s].append(d)

    # 1. inputs: each connected, except those of the one layer the images enter
    sources, roots = {}, []
    for layer in layers:
        ports = _input_names(layer)
        got = [feeds.get((layer.name, p)) for p in ports]
        if all(g is None for g in got):
            roots.append(layer)
            sources[layer.name] = []
            continue
        missing = [p for p, g in zip(ports, got) if g is None]
        if missing:
            raise ValueError(f"Network: input '{layer.name}/{missing[0]}' is not connected "
                             f"({layer.label} has inputs {', '.join(ports)}); connect a "
                             f"layer to it with g.connect('source', '{layer.name}/"
                             f"{missing[0]}')")
        sources[layer.name] = got
    if len(roots) != 1:
        raise ValueError("Network: a network has one input, but these layers have nothing "
                         f"connected to their input: {', '.join(r.name for r in roots)} "
                         "(connect them to the network, or remove them)")
    root = roots[0]

    # 2. topological order (Kahn): a layer is ready once every layer it reads has run
    waiting = {name: len(srcs) for name, srcs in sources.items()}
    ready = [(index[root.name], root.name)]
    order = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(by_name[name])
        for d in consumers[name]:
            waiting[d] -= 1
            if waiting[d] == 0:
                heapq.heappush(ready, (index[d], d))
    if len(order) < len(layers):
        done = {layer.name for layer in order}
        raise ValueError(f"Network: the connections make a cycle: "
                         f"{' -> '.join(_cycle(sources, done))}; a network computes each "
                         "layer once, after the layers it reads")

    # 3. one output, the output (loss) layer if there is one; every layer must lead to it
    sinks = [layer for layer in order if not consumers[layer.name]]
    losses = [layer for layer in sinks if layer.is_loss]
    if len(sinks) > 1 and len(losses) != 1:
        raise ValueError(f"Network: the layers {', '.join(x.name for x in sinks)} all end the "
                         "graph (their outputs feed nothing); a network has one output "
                         "(connect the others to it, e.g. through an Addition, or remove "
                         "them)")
    out = losses[0] if losses else sinks[0]
    reaches = {out.name}
    for layer in reversed(order):
        if any(d in reaches for d in consumers[layer.name]):
            reaches.add(layer.name)
    dead = [layer.name for layer in order if layer.name not in reaches]
    if dead:
        raise ValueError(f"Network: the output of {', '.join(dead)} has no path to the "
                         f"network output '{out.name}' (connect it on, e.g. through an "
                         "Addition, or remove it)")

    # 4. the rules of a chain that still hold: output layers last, classification after
    #    a softmax
    for layer in order:
        if layer.is_loss and consumers[layer.name]:
            raise ValueError(f"Network: {layer.label} feeds {', '.join(consumers[layer.name])}; "
                             "an output (loss) layer must end the network")
        if isinstance(layer, Classification) and not isinstance(
                by_name[sources[layer.name][0]], Softmax):
            raise ValueError(f"Network: {layer.label} must directly follow a Softmax layer "
                             f"(it reads class probabilities); it follows "
                             f"'{sources[layer.name][0]}'")
    return order, sources


def _cycle(sources, done) -> list[str]:
    """One cycle among the layers not ordered: walk back along inputs until a layer repeats."""
    start = next(name for name in sources if name not in done)
    path, seen = [start], {start: 0}
    while True:
        name = next(s for s in sources[path[-1]] if s not in done)
        if name in seen:
            cycle = path[seen[name]:] + [name]
            return list(reversed(cycle))
        seen[name] = len(path)
        path.append(name)


def is_chain(order, sources) -> bool:
    """Whether the graph is a plain chain: each layer reads the one before it, and nothing
    else reads that one."""
    return all(sources[b.name] == [a.name] for a, b in zip(order, order[1:])) and \
        sum(len(s) for s in sources.values()) == len(order) - 1
