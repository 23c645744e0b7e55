"""What a Network says about its connections: ``net.is_graph``, ``net.sources(name)``,
``net.connections`` (MATLAB's Connections table), ``net.layer_graph()`` to edit a copy, and
``net.require_chain(what)`` for code that only follows chains, and ``forward_through`` /
``backward_through`` for code that runs part of a network layer by layer, chain or graph.

A chain's connections are implicit (each layer reads the one before it); a graph's are the
``_sources`` table that ``cnnlab.layer_graph.plan_graph`` made when the network was built.
"""
from __future__ import annotations

from .graph_pass import graph_backward, graph_forward
from .graph_stages import graph_steps
from .layer_graph import LayerGraph, is_chain, plan_graph
from .network_build import name_layers


def arrange_layers(layers, graph):
    """A Network's (copied) layers named and ordered, and its sources table: for a list,
    the layers named, and None (a chain); for a LayerGraph, the layers in topological order
    and, unless the graph is a plain chain, the layers feeding each input."""
    if graph is None:
        name_layers(layers)
        sources = None
    else:
        layers, sources = plan_graph(layers, graph.edges)
        if is_chain(layers, sources):
            sources = None
    for layer in layers:
        if len(layer.input_names) > 1 and sources is None:
            raise ValueError(f"Network: {layer.label} has {len(layer.input_names)} inputs; a "
                             "chain gives it one. Build a cnnlab.LayerGraph and connect its "
                             f"inputs (g.connect('relu_1', '{layer.name}/in2'))")
    return layers, sources


class GraphAccess:
    """Mixed into :class:`cnnlab.Network`; reads ``self.layers`` and ``self._sources``."""

    @property
    def is_graph(self) -> bool:
        """True for a network with branches (built from a LayerGraph that is not a chain)."""
        return self._sources is not None

    def sources(self, name: str) -> list[str]:
        """The layers whose outputs feed layer ``name``, in input order (in1, in2, ...);
        empty for the layer the images enter."""
        i = self.names.index(self[name].name)
        if self._sources is None:
            return [self.layers[i - 1].name] if i else []
        return list(self._sources[name])

    @property
    def connections(self) -> list[tuple[str, str]]:
        """(source, destination/input) for every connection, as MATLAB's Connections table
        (for a chain: each layer to the next)."""
        return [(s, f"{layer.name}/{port}") for layer in self.layers
                for port, s in zip(layer.input_names, self.sources(layer.name))]

    def layer_graph(self) -> LayerGraph:
        """A LayerGraph of (copies of) this network's layers and connections, to edit and
        build into a new Network."""
        g = LayerGraph()
        for layer in self.layers:
            g.add_layers([layer])
        for source, destination in self.connections:
            g.connect(source, destination)
        return g

    def require_chain(self, what: str) -> None:
        """Refuse, naming ``what``, to run code that only follows chains on a graph."""
        if self.is_graph:
            joins = [layer.name for layer in self.layers if len(layer.input_names) > 1]
            raise ValueError(f"{what}: works on chains of layers; this network is a layer "
                             f"graph (branches join at {', '.join(joins) or 'no layer'})")

    def forward_through(self, layers, x, *, training: bool = False, keep: bool = True):
        """The output of the last of ``layers`` (a leading part of ``net.layers``) on a
        checked input ``x``, layer by layer (no fused stages), along the connections."""
        if self._sources is not None:
            return graph_forward(layers, self._sources, x, training=training, keep=keep,
                                 rng=self.rng)
        for layer in layers:
            x = layer.forward(x, training=training, rng=self.rng)
            if not keep:
                layer.release()
        return x

    def backward_through(self, layers, dy):
        """dL/d(input) from dL/d(output of the last of ``layers``), after
        :meth:`forward_through` kept the caches; fills the layers' ``.grads``."""
        if self._sources is not None:
            return graph_backward(layers, self._sources, dy)
        for layer in reversed(layers):
            dy = layer.backward(dy)
        return dy

    def _graph_steps(self, layers):
        """(steps, their sources) for running ``layers`` of a graph: with fused stages on the
        fast backend, each stage of a chain segment in place of its layers."""
        stages = self.__dict__.get("_stages")
        if stages is None or self.backend != "fast":
            return layers, self._sources
        return graph_steps(stages, layers, self._sources)
