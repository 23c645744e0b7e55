"""The input region one neuron of a layer graph sees: the union over every path down.

In a chain (``receptive.py``) the positions that matter are carried down one layer after
another. In a graph a layer may be read by several layers (a fan-out) and a join reads
several (Addition, DepthConcatenation), so the walk goes down in reverse topological order:
each layer receives, from every reader on a path to the neuron, a set of rows × columns that
matter to that reader, maps each set through its own window (the same per-layer rule as the
chain, ``receptive._axes``) and hands the result to every layer it reads. Concatenation and
addition keep positions: all their inputs share the output's grid.

The field is the union of what arrives at the image. It is exact — the pixels on which the
neuron depends — and can be a union of rectangles that is not itself a rectangle (a 5x5 path
and a 1x1 skip path give a 5x5 field here, but a strided path beside a dense one gives holes
only in some rows); ``mask`` shows it, the bounds are its bounding box. ``chain`` lists each
visited layer (reverse topological order) with the bounding window, in its input's
coordinates, of what it reads over all paths; ``note`` says over how many paths from the
neuron to the image the union runs. ``unclipped`` and ``size`` are the bounding box of the
exact field (the textbook per-path windows are those of ``cnnlab.analyze``).
"""
from __future__ import annotations

import numpy as np

from .receptive import NeuronField, _axes, _ends


def graph_receptive_field(trace, layer, row, col) -> NeuronField:
    """The field of output (row, col) of ``layer`` in a traced layer graph."""
    net = trace.network
    rec = trace[layer]
    pending = {rec.name: {((int(row),), (int(col),))}}    # layer -> {(rows, cols)} it needs
    paths = {rec.name: 1}                                  # paths from the neuron down to it
    image_sets, chain, image_paths = set(), [], 0
    for i in range(rec.index, -1, -1):
        r = trace[i]
        wanted = pending.pop(r.name, None)
        if not wanted:
            continue
        in_h, in_w = r.input_shape[:2]
        reached, box = set(), None
        for rows, cols in wanted:
            (sr, sc), _how = _axes(r.layer, list(rows), list(cols), in_h, in_w)
            if not sr.indices or not sc.indices:          # only padding (or nothing) here
                continue
            reached.add((tuple(sr.indices), tuple(sc.indices)))
            (top, bottom), (left, right) = _ends(sr), _ends(sc)
            box = (top, left, bottom, right) if box is None else (
                min(box[0], top), min(box[1], left), max(box[2], bottom), max(box[3], right))
        chain.append((r.name, box or (0, 0, 0, 0)))
        sources = net.sources(r.name)
        if not reached:
            continue
        if not sources:                                   # the layer the image enters
            image_sets |= reached
            image_paths += paths[r.name]
        for s in sources:
            pending.setdefault(s, set()).update(reached)
            paths[s] = paths.get(s, 0) + paths[r.name]
    h, w = trace.image.shape[:2]
    mask = np.zeros((h, w), bool)
    for rows, cols in image_sets:
        mask[np.ix_(list(rows), list(cols))] = True
    if mask.any():
        rs, cs = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        top, bottom, left, right = int(rs[0]), int(rs[-1]) + 1, int(cs[0]), int(cs[-1]) + 1
        note = f"union over {image_paths} path{'s' if image_paths != 1 else ''}"
    else:
        top = left = bottom = right = 0
        note = "no input pixel reaches this neuron: every path reads only padding"
    return NeuronField(layer=rec.name, row=int(row), col=int(col), top=top, left=left,
                       bottom=bottom, right=right, unclipped=(top, left, bottom, right),
                       size=(bottom - top, right - left), chain=chain, mask=mask, note=note)
