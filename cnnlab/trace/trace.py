"""``net.trace(x)``: run one image through a network and keep every intermediate.

The trace runs the network's own layers, on its current backend (fast or reference), and
records per layer what it computed (``records.py``). Recording is done here, outside the
layers: a network that is not being traced runs exactly the code it always runs.

Modes:
* prediction (default): one image, batch norm on its running statistics, dropout the identity;
* ``training=True``: the whole batch runs (batch norm needs its statistics), image ``image``
  is recorded; dropout draws its masks from the network's Generator, the masks the next
  training step would draw. Afterwards the Generator's state and batch norm's running
  statistics are put back, so tracing never changes what later training or prediction
  computes (same seed, same weights, traced or not);
* ``backward=True`` with ``labels``: the loss gradient is propagated back and every layer
  records output_gradient, input_gradient and param_gradients (for the batch that ran: one
  image in prediction mode).

A layer graph is traced in topological order, every branch's layers recorded by name; the
layers that join branches (Addition, DepthConcatenation) also record ``inputs`` and
``sources`` (one per input, in1 first) and, backward, ``input_gradients``. Where an output
fans out, its ``output_gradient`` is the sum over its readers.
"""
from __future__ import annotations

import numpy as np

from ..graph_pass import graph_backward
from .budget import DEFAULT_BUDGET_BYTES, check_budget
from .receptive import NeuronField, receptive_field
from .records import LayerRecord, make_record


class Trace:
    """Every layer's record for one image: ``trace["conv_1"]``, ``trace[0]``, iteration.

    image : the H×W×C input that was traced; network; training; names; nbytes (bytes held by
    the records); estimated_bytes; budget_bytes; labels (given labels, or None); loss (with
    labels); prediction (class probabilities when the network ends in softmax) and label
    (their argmax) — for the traced image.
    """

    def __init__(self, network, image, records, *, training, budget_bytes, estimated_bytes,
                 labels=None, loss=None):
        self.network, self.image, self.records = network, image, records
        self.training, self.budget_bytes = training, budget_bytes
        self.estimated_bytes, self.labels, self.loss = estimated_bytes, labels, loss
        self._by_name = {r.name: r for r in records}
        soft = [r for r in records if r.kind == "softmax"]
        self.prediction = soft[-1].output.reshape(-1) if soft else None
        self.label = int(np.argmax(self.prediction)) if soft else None

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.records]

    def __getitem__(self, key) -> LayerRecord:
        if isinstance(key, (int, np.integer)):
            if not -len(self.records) <= key < len(self.records):
                raise IndexError(f"trace has {len(self.records)} layers; index {key} is out "
                                 "of range")
            return self.records[key]
        if key not in self._by_name:
            raise KeyError(f"no layer named {key!r} in this trace; layers: "
                           f"{', '.join(self.names)}")
        return self._by_name[key]

    def __iter__(self):
        return iter(self.records)

    def __len__(self):
        return len(self.records)

    @property
    def nbytes(self) -> int:
        return int(self.image.nbytes + sum(r.nbytes for r in self.records))

    def receptive_field(self, layer, row: int, col: int) -> NeuronField:
        """The region of the input image that output (row, col) of ``layer`` sees."""
        return receptive_field(self, layer, row, col)

    def summary(self) -> str:
        lines = [f"{'#':>3}  {'name':<14}{'type':<28}{'output':>12}{'bytes':>10}"]
        for r in self.records:
            shape = "x".join(map(str, r.output_shape))
            lines.append(f"{r.index:>3}  {r.name:<14}{r.type_name:<28}{shape:>12}"
                         f"{r.nbytes:>10,}")
        lines.append(f"total {self.nbytes:,} bytes (budget {self.budget_bytes:,}); "
                     f"{'training' if self.training else 'prediction'} mode")
        if self.label is not None:
            lines.append(f"predicted class {self.label} "
                         f"(probability {self.prediction[self.label]:.3f})")
        return "\n".join(lines)

    __str__ = summary

    def __repr__(self):
        return f"<Trace of {len(self)} layers, {self.nbytes:,} bytes>"


def _as_batch(net, x, image):
    x = np.asarray(x)
    h, w, c = net.layers[0].input_shape
    if x.ndim == 2 and c == 1:
        x = x[None, :, :, None]
    elif x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"trace: x has shape {x.shape}; give one image H x W x C "
                         f"({h}x{w}x{c}), H x W for one channel, or a batch N x H x W x C")
    if not isinstance(image, (int, np.integer)) or isinstance(image, bool) \
            or not 0 <= image < len(x):
        raise ValueError(f"trace: image = {image!r} must pick one of the {len(x)} images "
                         f"(0..{len(x) - 1})")
    return x


def trace_network(net, x, *, image: int = 0, training: bool = False, backward: bool = False,
                  labels=None, budget_bytes: int | None = None, upto: str | None = None):
    """Record every intermediate of one forward pass of ``net`` (see the module docstring).

    x : H×W×C, H×W (one channel) or N×H×W×C; image : which image of a batch to record
    upto : the name of the last layer to trace (the rest is not run)
    budget_bytes : refuse (TraceBudgetError, a ValueError) traces estimated larger than this
        (default 256 MiB), before anything is recorded
    """
    x = _as_batch(net, x, image)
    budget = DEFAULT_BUDGET_BYTES if budget_bytes is None else budget_bytes
    if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool) or budget <= 0:
        raise ValueError(f"trace: budget_bytes = {budget_bytes!r} must be a positive integer")
    layers = list(net.layers)
    if upto is not None:
        if upto not in net.names:
            raise ValueError(f"trace: upto = {upto!r} is not a layer of this network; layers: "
                             f"{', '.join(net.names)}")
        layers = layers[:net.names.index(upto) + 1]
    if backward and (labels is None or upto is not None):
        raise ValueError("trace: backward=True needs labels=... (the class of each image, or "
                         "regression targets) and the whole network (no upto=)")
    batch = x if training else x[image:image + 1]
    k = image if training else 0
    estimate = check_budget(layers, net.dtype.itemsize, batch=len(batch), backward=backward,
                            budget_bytes=budget)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = labels[None]
        if len(labels) not in {1, len(x)} or (training and len(labels) != len(x)):
            raise ValueError(f"trace: {len(labels)} labels for {len(x)} images; give one "
                             "per image" + ("" if training else " (or one for the traced "
                                                                 "image)"))
        if not training and len(labels) == len(x):
            labels = labels[image:image + 1]

    saved = {i: {n: np.array(v, copy=True) for n, v in layer.state.items()}
             for i, layer in enumerate(layers) if training and layer.state}
    # dropout draws from net.rng: keep its state so later training draws what it would have
    rng_state = net.rng.bit_generator.state
    records = []
    ctx = {"training": training, "batch_size": len(batch)}
    try:
        y = images = net.check_input(batch)
        outputs = {}          # every output, by layer: a layer graph reads them by name
        for i, layer in enumerate(layers):
            if layer.is_loss:
                break
            srcs = net.sources(layer.name)
            ins = [outputs[s] for s in srcs] if srcs else [images]
            joins = len(layer.input_names) > 1          # Addition, DepthConcatenation
            y = layer.forward(ins if joins else ins[0], training=training, rng=net.rng)
            outputs[layer.name] = y
            rec = make_record(layer, i, ins[0][k].copy(), y[k].copy(), k, ctx)
            if joins:         # every input (``input`` is in1's), and where each came from
                rec._set(inputs=[a[k].copy() for a in ins], sources=list(srcs))
            records.append(rec)
        loss = None
        if layers[-1].is_loss:
            out = layers[-1]
            rec = LayerRecord(out, len(layers) - 1, y[k].copy(), y[k].copy(),
                              batch_size=len(batch))
            if labels is not None:
                labels = net.check_labels(labels, y)
                rec._set(loss_terms=out.loss_terms(y, labels)[k]
                         if hasattr(out, "loss_terms") else None,
                         loss=float(out.loss(y[k:k + 1], labels[k:k + 1])),
                         targets=out.targets(labels, y.shape)[k])
                loss = rec.loss
            records.append(rec)
        if backward:
            _record_backward(net, records, y, labels, k)
    finally:
        for i, state in saved.items():
            layers[i].state.update(state)
        net.rng.bit_generator.state = rng_state
    return Trace(net, x[image].copy(), records, training=training, budget_bytes=budget,
                 estimated_bytes=estimate, labels=labels, loss=loss)


def _record_backward(net, records, y, labels, k):
    """Propagate the loss gradient back through the traced layers, recording each step."""
    traced = [r.layer for r in records if not r.layer.is_loss]
    body, dy = net.loss_entry(y, labels, traced)
    out = records[-1].layer
    targets = out.targets(labels, y.shape)
    # the output layer: dL/dy, where the chain rule starts (backward_steps.py)
    records[-1]._set(output_gradient=None, input_gradient=out.loss_gradient(y, labels)[k],
                     param_gradients={})
    if len(body) < len(traced):                   # the softmax, skipped: dy enters before it
        records[len(body)]._set(output_gradient=None, input_gradient=dy[k].copy(),
                                param_gradients={}, targets=targets[k],
                                note="softmax + cross-entropy: the gradient at the "
                                     "softmax input is (y - t)/N")
    def record(layer, grad_out, dx):
        grads = dx if isinstance(dx, list) else [dx]
        rec = records[by_name[layer.name]]
        rec._set(output_gradient=grad_out[k].copy(), input_gradient=grads[0][k].copy(),
                 param_gradients={n: g.copy() for n, g in layer.grads.items()}
                 if layer.params else {})
        if isinstance(dx, list):          # a join: one gradient per input
            rec._set(input_gradients=[g[k].copy() for g in grads])

    by_name = {r.name: i for i, r in enumerate(records)}
    if net.is_graph:                      # in reverse topological order, summed at fan-outs
        sources = {layer.name: net.sources(layer.name) for layer in body}
        graph_backward(body, sources, dy, on_step=record)
        return
    for layer in reversed(body):
        grad_out = dy
        dy = layer.backward(dy)
        record(layer, grad_out, dy)
