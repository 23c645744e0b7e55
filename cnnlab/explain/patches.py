"""Which image patches make one filter respond most, cropped exactly by its receptive field.

A neuron at (row, col) of a layer's feature map f depends on a region of the image, its
receptive field (``cnnlab.trace.receptive``: the exact set of pixels, traced down through the
real layers, clipped at the image edges). Run many images through the network up to that
layer, find for each image the position where filter f responds most, keep the k images
with the largest responses, and cut out of each exactly the pixels that neuron sees. What
those patches share is what the filter detects (Zeiler and Fergus, 2014, show the same for
the layers of a large network; Girshick et al. 2014 rank patches this way).

Each image contributes at most one patch (its strongest position), so the k patches come
from k different images. Ties are broken by the lower image index, then the first position
in row-major order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gradients import as_batch


@dataclass(frozen=True)
class ActivatingPatch:
    """One strong response of a filter and the image region behind it.

    image_index : which of the images; row, col : the neuron in the layer's feature map;
    activation : its value; top, left, bottom, right : the receptive field's bounding box on
    the image (bottom, right exclusive); patch : image[top:bottom, left:right, :]; field :
    the NeuronField (its ``mask`` has holes with dilation; ``size`` is the unclipped size)."""
    image_index: int
    row: int
    col: int
    activation: float
    top: int
    left: int
    bottom: int
    right: int
    patch: np.ndarray
    field: object


def layer_outputs(net, images, layer: str, *, batch_size: int = 256,
                  who: str = "layer_outputs") -> np.ndarray:
    """The output of layer ``layer`` (a name) for every image, N×H×W×C, prediction mode."""
    x, _single = as_batch(net, images, who)
    if layer not in net.names:
        raise ValueError(f"{who}: layer = {layer!r} is not a layer of this network; layers: "
                         f"{', '.join(net.names)}")
    index = net.names.index(layer)
    if net.layers[index].is_loss:
        raise ValueError(f"{who}: layer = {layer!r} is the output layer; choose a layer "
                         "that computes a feature map")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{who}: batch_size = {batch_size!r} must be a positive integer")
    chunks = []
    with net.computing():
        for start in range(0, len(x), batch_size):
            chunks.append(net.forward_through(net.layers[:index + 1], x[start:start + batch_size],
                                              keep=False))
    return np.concatenate(chunks)


def top_activating_patches(net, images, layer: str, filter: int, k: int = 9, *,
                           batch_size: int = 256) -> list[ActivatingPatch]:
    """The ``k`` images whose strongest response of channel ``filter`` of ``layer`` is
    largest, strongest first, each with the receptive-field patch of that neuron (module
    docstring)."""
    who = "top_activating_patches"
    x, _single = as_batch(net, images, who)
    raw = np.asarray(images).reshape(x.shape)        # crops hold the pixels as given
    maps = layer_outputs(net, x, layer, batch_size=batch_size, who=who)
    n, oh, ow, c = maps.shape
    if not isinstance(filter, (int, np.integer)) or isinstance(filter, bool) \
            or not 0 <= filter < c:
        raise ValueError(f"{who}: filter = {filter!r} is not a channel of {layer} (it has "
                         f"{c}: 0..{c - 1})")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= n:
        raise ValueError(f"{who}: k = {k!r} must be between 1 and the number of images ({n})")
    responses = maps[..., filter].reshape(n, oh * ow)
    best = responses.argmax(axis=1)                       # first maximum, row-major
    strongest = responses[np.arange(n), best]
    order = np.lexsort((np.arange(n), -strongest))[:k]   # largest first, then lower index
    # receptive fields depend on the geometry only: one trace of one image gives them all
    trace = net.trace(x[0], upto=layer)
    for lay in net.layers[:net.names.index(layer) + 1]:
        lay.release()                                # the trace's caches: not needed
    out = []
    for i in order:
        row, col = divmod(int(best[i]), ow)
        field = trace.receptive_field(layer, row, col)
        out.append(ActivatingPatch(
            image_index=int(i), row=row, col=col, activation=float(strongest[i]),
            top=field.top, left=field.left, bottom=field.bottom, right=field.right,
            patch=raw[i, field.top:field.bottom, field.left:field.right, :].copy(),
            field=field))
    return out
