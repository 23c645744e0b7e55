"""Receptive fields in a layer graph, for ``cnnlab.analyze``: the union over every path.

Along one path the field follows the chain rule of ``cnnlab.arithmetic.receptive``: a layer
with (effective) kernel K, stride S and padding P before maps the field (size, jump, start)
of its input to::

    (size + (K - 1)·jump,  jump·S,  start - P·jump)

A layer reached by several paths (after an Addition or a concatenation) sees the union of
their fields. When every path has the same jump, output neighbours are the same distance
apart on the input whichever path one follows, and the union is one window from the smallest
start to the largest end: that window's size is reported. When the jumps differ the paths
are not aligned and no single size/jump describes the layer; the note says so.
"""
from __future__ import annotations


def _through(field, spatial):
    size, jump, start = field
    k, s, p = spatial
    return size + (k - 1) * jump, jump * s, start - p * jump


def graph_fields(net) -> dict:
    """name -> (receptive_field (h, w) or None, jump (h, w) or None, note) for every layer."""
    fields = {}      # name -> (set of fields along h, set along w), or a str: why undefined
    out = {}
    for layer in net.layers:
        srcs = net.sources(layer.name)
        before = [fields[s] for s in srcs] if srcs else [({(1, 1, 0)}, {(1, 1, 0)})]
        why = next((b for b in before if isinstance(b, str)), None)
        spatial = layer.spatial()
        if why is None and spatial is None:
            why = ("whole input" if layer.kind != "transposed-conv"
                   else "not tracked through a transposed convolution")
        if why is not None:
            fields[layer.name] = why
            out[layer.name] = (None, None, why)
            continue
        axes = tuple({_through(f, spatial[axis]) for b in before for f in b[axis]}
                     for axis in (0, 1))
        fields[layer.name] = axes
        jumps = [{f[1] for f in axis} for axis in axes]
        if any(len(j) > 1 for j in jumps):
            text = " x ".join("/".join(map(str, sorted(j))) for j in jumps)
            out[layer.name] = (None, None, f"paths not aligned (jumps {text})")
            continue
        spans = tuple(max(f[2] + f[0] for f in axis) - min(f[2] for f in axis)
                      for axis in axes)
        paths = max(len(axis) for axis in axes)
        note = f"union of {paths} path fields" if paths > 1 else ""
        out[layer.name] = (spans, tuple(next(iter(j)) for j in jumps), note)
    return out
