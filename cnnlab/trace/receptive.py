"""The input region one neuron sees, and the chain of windows that lead back to it.

Going backward from output (row, col) of layer L, each spatial layer l (kernel K, stride S,
pad P before, effective kernel with dilation) maps an output span [a, b] of its output to
the input span [a·S − P, b·S − P + K − 1] of its input. Repeating down to the image gives the
receptive field; the spans met on the way are the chain. The size agrees with
``cnnlab.arithmetic.receptive_field`` (the same recurrence run forward).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReceptiveField:
    """layer, row, col : the neuron; top, left, bottom, right : its field on the image,
    clipped to the image (bottom/right exclusive); unclipped : the same bounds before
    clipping (negative or past the edge where the field reaches into padding);
    size : (height, width) of the unclipped field; chain : [(layer name, (top, left, bottom,
    right) in that layer's INPUT coordinates, unclipped)] from the neuron's layer down to the
    first; mask : H×W bool over the input image."""
    layer: str
    row: int
    col: int
    top: int
    left: int
    bottom: int
    right: int
    unclipped: tuple
    size: tuple
    chain: list
    mask: np.ndarray


def receptive_field(trace, layer, row, col) -> ReceptiveField:
    rec = trace[layer]
    oh, ow = rec.output_shape[:2]
    for what, v, lim in (("row", row, oh), ("col", col, ow)):
        if not isinstance(v, (int, np.integer)) or not 0 <= v < lim:
            raise ValueError(f"receptive_field: {what} = {v!r} is out of range 0..{lim - 1} "
                             f"for {rec.name} ({oh}x{ow})")
    r0, r1, c0, c1 = int(row), int(row), int(col), int(col)      # inclusive spans
    chain = []
    for i in range(rec.index, -1, -1):
        layer_obj = trace[i].layer
        sp = layer_obj.spatial()
        if sp is None:
            h, w = trace[i].input_shape[:2]
            r0, r1, c0, c1 = 0, h - 1, 0, w - 1          # sees its whole input
        else:
            (kh, sh, ph), (kw, sw, pw) = sp
            r0, r1 = r0 * sh - ph, r1 * sh - ph + kh - 1
            c0, c1 = c0 * sw - pw, c1 * sw - pw + kw - 1
        chain.append((trace[i].name, (r0, c0, r1 + 1, c1 + 1)))
    h, w = trace.image.shape[:2]
    top, left = max(r0, 0), max(c0, 0)
    bottom, right = min(r1 + 1, h), min(c1 + 1, w)
    mask = np.zeros((h, w), bool)
    mask[top:bottom, left:right] = True
    return ReceptiveField(layer=rec.name, row=int(row), col=int(col), top=top, left=left,
                          bottom=bottom, right=right, unclipped=(r0, c0, r1 + 1, c1 + 1),
                          size=(r1 - r0 + 1, c1 - c0 + 1), chain=chain, mask=mask)
