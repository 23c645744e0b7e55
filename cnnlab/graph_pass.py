"""The forward and backward passes of a layer graph (a Network with branches).

Forward: the layers run in topological order (``layer_graph.plan_graph``); each reads the
outputs of the layers connected to its inputs, kept in a table until their last reader has
run.

Backward: the same layers in reverse. Where a layer's output fans out to several readers, the
loss depends on that output through every one of them, so by the multivariable chain rule its
gradient is the sum of what each reader sends back::

    y feeds r_1 .. r_k:    dL/dy = Σ_j  dL/dy |through r_j

A layer runs backward once the gradients of all its readers are summed, which the reverse
topological order guarantees (every reader comes later in the forward order).

On the fast backend a step may also be a fused stage standing for a chain segment of layers
(``graph_stages.py``): it is keyed by its last layer's name and reads what its first reads.
"""
from __future__ import annotations


def _key(step) -> str:
    """The name a step's output goes by: a layer's own, a fused stage's last layer's."""
    return step.name if not hasattr(step, "layers") else step.layers[-1].name


def _joins(step) -> bool:
    """Whether the step takes a list of inputs (Addition, DepthConcatenation)."""
    return len(getattr(step, "input_names", ("in",))) > 1


def graph_forward(layers, sources, x, *, training, keep, rng):
    """Run ``layers`` (topologically ordered, the first one fed ``x``); return the output of
    the last. ``keep=False``: release each layer's caches as soon as it has run (nothing
    will go backward) and drop every output once its last reader has read it."""
    readers_left = {}
    for layer in layers:
        for s in sources[_key(layer)]:
            readers_left[s] = readers_left.get(s, 0) + 1
    outputs = {}
    y = x
    for layer in layers:
        srcs = sources[_key(layer)]
        if not srcs:
            y = layer.forward(x, training=training, rng=rng)
        elif _joins(layer):
            y = layer.forward([outputs[s] for s in srcs], training=training, rng=rng)
        else:
            y = layer.forward(outputs[srcs[0]], training=training, rng=rng)
        if not keep:
            layer.release()
        for s in srcs:
            readers_left[s] -= 1
            if readers_left[s] == 0:
                del outputs[s]
        outputs[_key(layer)] = y
    return y


def graph_backward(layers, sources, dy, *, input_gradient=True, on_step=None):
    """Back-propagate ``dy`` = dL/d(output of ``layers[-1]``) through ``layers``; fill every
    layer's ``.grads``. Returns dL/d(network input), or None with ``input_gradient=False``:
    then a layer computes the gradient of its inputs only when a layer with parameters lies
    upstream of it (the rest would be thrown away). ``on_step(layer, dL/d(output),
    dL/d(input) or a list of them)``, if given, is called after each layer (the trace
    records with it)."""
    # learns[name]: the layer or one that feeds it, directly or not, has parameters
    learns = {}
    for layer in layers:
        learns[_key(layer)] = bool(layer.params) or any(learns[s] for s in sources[_key(layer)])
    pending = {_key(layers[-1]): dy}      # name -> dL/d(its output), summed over its readers
    dx_input = None
    for layer in reversed(layers):
        g = pending.pop(_key(layer), None)
        if g is None:                     # reads nothing that learns: no gradient came back
            continue
        srcs = sources[_key(layer)]
        if not input_gradient and not any(learns[s] for s in srcs):
            if layer.params:
                layer.backward_parameters(g)
            continue
        dx = layer.backward(g)
        if on_step is not None:
            on_step(layer, g, dx)
        if not srcs:                      # the layer the images enter
            dx_input = dx
            continue
        for s, d in zip(srcs, dx if isinstance(dx, list) else [dx]):
            # a new array for a sum (never +=): a gradient may be another layer's array
            pending[s] = d if s not in pending else pending[s] + d
    return dx_input if input_gradient else None
