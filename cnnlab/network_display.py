"""How a Network prints: the layer array of the reference documents, and for a layer graph
the same table (layers in topological order) followed by its connections, Source and
Destination, as MATLAB lists a layer graph's Connections."""
from __future__ import annotations

from .layer_graph import connections_table


def network_display(net) -> str:
    """``repr(net)``: the layer array, plus the connections of a graph."""
    if not net.is_graph:
        return layer_array(net.layers)
    return (layer_array(net.layers, what="Layer graph") + "\n\n  "
            f"{len(net.connections)} connections:\n" + connections_table(net.connections))


def layer_array(layers, what: str = "Layer array") -> str:
    """The layers as the reference documents display a layer array (a graph's layers in
    topological order)."""
    rows = [(str(i + 1), f"'{layer.name}'", layer.type_name, layer.describe())
            for i, layer in enumerate(layers)]
    w = [max(len(r[k]) for r in rows) for k in range(3)]
    lines = [f"  {len(layers)}x1 {what} with layers:", ""]
    for num, name, typ, desc in rows:
        lines.append(f"    {num:>{w[0]}}   {name:<{w[1]}}   {typ:<{w[2]}}   {desc}")
    return "\n".join(lines)
