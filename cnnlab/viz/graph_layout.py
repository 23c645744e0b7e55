"""Where each layer of a network goes in a picture of its graph: a row and a lane (column).

No graphviz: the layout follows from the topological order in three passes.

* **row** = the length of the longest path from the input to the layer (longest-path
  layering): every arrow points down, and layers that run side by side on parallel branches
  share a row;
* **lane**: the input is in lane 0; where a layer's output feeds several layers (a branch
  point), the reader that starts the longest way to the output stays in the source's lane
  (the main path stays in one lane, top to bottom) and each other reader opens the leftmost
  lane free from its row to the row of the last layer its branch feeds; a join (Addition,
  DepthConcatenation) goes to the leftmost lane of its inputs, so a branch that rejoins is
  drawn beside the main path in its own lane;
* **route** of each connection: ``"straight"`` (down the lane, nothing in between),
  ``"side"`` (same lane with layers in between: the identity skip of a residual block, drawn
  around the right of the lane), ``"bend"`` (another lane: down the source's lane, then
  across into the destination).

    >>> lay = layout_graph(["x", "a", "b", "add"], {"x": [], "a": ["x"], "b": ["a"],
    ...                                            "add": ["b", "x"]})
    >>> [lay.rows[n] for n in lay.names], [lay.lanes[n] for n in lay.names]
    ([0, 1, 2, 3], [0, 0, 0, 0])
    >>> [(e.source, e.destination, e.port, e.route) for e in lay.edges]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('x', 'a', 1, 'straight'), ('a', 'b', 1, 'straight'), ('b', 'add', 1, 'straight'),
     ('x', 'add', 2, 'side')]
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Edge:
    """One connection: ``source`` feeds input ``port`` (1 for in1) of ``destination``;
    ``route`` how it is drawn (module docstring); ``depth`` how far out a side route goes
    (0 nearest the lane; skips whose rows overlap go one step further out each)."""
    source: str
    destination: str
    port: int
    route: str
    depth: int = 0


@dataclass(frozen=True)
class GraphLayout:
    """names (topological order), rows and lanes (dicts by name), edges, num_rows,
    num_lanes, joins (the names of layers with several inputs)."""
    names: tuple
    rows: dict
    lanes: dict
    edges: tuple
    num_rows: int
    num_lanes: int
    joins: tuple


def layout_graph(names, sources) -> GraphLayout:
    """The layout of layers ``names`` (in topological order) where ``sources[name]`` lists
    the layers feeding ``name``'s inputs in order (empty for the input layer)."""
    names = list(names)
    known = set(names)
    consumers = {n: [] for n in names}
    for n in names:
        for s in sources[n]:
            if s not in known:
                raise ValueError(f"layout_graph: {n!r} reads {s!r}, which is not one of the "
                                 "layers")
            consumers[s].append(n)
    rows = {}
    for n in names:                                   # longest path from the input
        rows[n] = max((rows[s] + 1 for s in sources[n]), default=0)
    height = {}
    for n in reversed(names):                         # longest path to the output
        height[n] = max((height[c] + 1 for c in consumers[n]), default=0)

    lanes, busy = {}, {}                              # busy[lane]: last row it is needed

    def reserve(n):
        last = max([rows[c] for c in consumers[n]] + [rows[n]])
        busy[lanes[n]] = max(busy.get(lanes[n], -1), last)

    for n in names:
        srcs = sources[n]
        if len(srcs) > 1:                             # a join: the leftmost of its inputs
            lanes[n] = min(lanes[s] for s in srcs)
        elif srcs and _heir(srcs[0], consumers, height) == n:
            lanes[n] = lanes[srcs[0]]                 # the source's main reader stays
        else:                                         # a branch (or an input) opens the
            lanes[n] = next(lane for lane in range(len(names) + 1)    # leftmost lane free
                            if busy.get(lane, -1) < rows[n])          # from its row on
        reserve(n)

    by_cell = {(rows[n], lanes[n]) for n in names}
    edges, sides = [], []
    for n in names:
        for port, s in enumerate(sources[n], start=1):
            if lanes[s] != lanes[n]:
                route = "bend"
            elif any((r, lanes[n]) in by_cell for r in range(rows[s] + 1, rows[n])):
                route = "side"
            else:
                route = "straight"
            depth = 0
            if route == "side":
                span = (rows[s], rows[n], lanes[n])
                depth = sum(1 for a, b, lane in sides
                            if lane == span[2] and a < span[1] and span[0] < b)
                sides.append(span)
            edges.append(Edge(s, n, port, route, depth))
    return GraphLayout(names=tuple(names), rows=rows, lanes=lanes, edges=tuple(edges),
                       num_rows=max(rows.values()) + 1 if rows else 0,
                       num_lanes=max(lanes.values()) + 1 if lanes else 0,
                       joins=tuple(n for n in names if len(sources[n]) > 1))


def _heir(source, consumers, height):
    """The reader of ``source`` that starts the longest way to the output (the first such
    in topological order): the one that stays in ``source``'s lane."""
    return max(consumers[source], key=lambda c: height[c], default=None)


def network_layout(net) -> GraphLayout:
    """The layout of a :class:`cnnlab.Network` (a chain is one lane)."""
    return layout_graph([layer.name for layer in net.layers],
                        {layer.name: net.sources(layer.name) for layer in net.layers})
