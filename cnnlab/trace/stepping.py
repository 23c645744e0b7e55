"""Which forward step k of a record is: the order the steps walk, and who makes each one.

``rec.num_steps`` and ``rec.step_at(k)`` of every ``LayerRecord`` come from here.

Order:
* spatial layers (image input, convolution, transposed convolution, pooling, activations,
  batch norm, cross-channel norm, dropout) walk channel by channel, each channel row by row:
  step k is (row, col, channel) with k = channel·H·W + row·W + col (so a convolution's steps
  of filter 0 come first, as ``rec.steps(0)``);
* fully connected, softmax and output layers walk their outputs in flat (C) order: step k is
  flat index k.

Each step is made on demand from the record (never stored); its module writes out the formula:
``steps.py`` (convolution, pooling), ``steps_elementwise.py``, ``steps_norm.py``,
``steps_dense.py``, ``steps_output.py``, ``steps_combine.py`` (addition, concatenation).

Backward steps (``rec.num_backward_steps``, ``rec.backward_step_at(k)``) walk the layer's
input in the same order, one step per input element (``backward_steps.py``,
``backward_fanin.py``; an Addition's, one per element of its inputs, in
``backward_combine.py``); parameter-gradient steps (``rec.param_step_at(name, k)``) walk
each parameter array in flat order.
"""
from __future__ import annotations

import numpy as np

from .backward_combine import addition_gradient
from .backward_fanin import FANIN, param_step
from .backward_steps import LOCAL, require_backward
from .step_base import channel_major, position
from .steps_combine import addition_step, concatenation_step
from .steps_dense import dense_step
from .steps_elementwise import ACTIVATIONS, activation_step, dropout_step, input_step
from .steps_norm import batchnorm_step, crossnorm_step
from .steps_output import loss_step, softmax_step

WINDOWED = ("conv", "transposed-conv", "maxpool", "avgpool", "gapool", "gmpool")
MAKERS = {"imageinput": input_step, "dropout": dropout_step, "batchnorm": batchnorm_step,
          "crossnorm": crossnorm_step, "fc": dense_step, "softmax": softmax_step,
          "classoutput": loss_step, "regressionoutput": loss_step,
          "add": addition_step, "depthcat": concatenation_step,
          **{kind: activation_step for kind in ACTIVATIONS}}
#: the joins with backward steps
JOINS = {"add": addition_gradient}
#: layers whose steps walk the outputs in flat order (the others: channel by channel)
FLAT_ORDER = ("fc", "softmax", "classoutput", "regressionoutput")


def has_steps(rec) -> bool:
    return rec.kind in WINDOWED or rec.kind in MAKERS


def num_steps(rec) -> int:
    """One step per output element (0 for a layer kind without steps)."""
    return int(np.prod(rec.output_shape)) if has_steps(rec) else 0


def check_step_index(rec, k, n: int, what: str = "step") -> int:
    """k as an int, or a ValueError naming the layer, k and the range."""
    if n == 0:
        raise ValueError(f"{rec.name} ({rec.type_name}) has no {what}s")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < n:
        raise ValueError(f"{rec.name} ({rec.type_name}): {what} k = {k!r} is out of range "
                         f"0..{n - 1} ({n} {what}s)")
    return int(k)


def step_position(rec, k: int) -> tuple[int, int, int]:
    """(row, col, channel) of forward step k (module docstring)."""
    if rec.kind in FLAT_ORDER:
        return position(rec.output_shape, k)
    return channel_major(rec.output_shape, k)


def step_at(rec, k):
    """Forward step k of ``rec`` (a WindowStep, PoolStep or one of the steps_* classes)."""
    k = check_step_index(rec, k, num_steps(rec))
    row, col, ch = step_position(rec, k)
    if rec.kind in WINDOWED:
        return rec.step(row, col, ch)
    return MAKERS[rec.kind](rec, row, col, ch)


# ---- backward --------------------------------------------------------------------------------

def num_backward_steps(rec) -> int:
    """One step per input element (0 for a layer kind without steps)."""
    require_backward(rec)
    # an Addition's steps pass dL/dy to every input (``backward_combine.py``); a
    # DepthConcatenation has forward steps only (its input_gradients are slices of dL/dy)
    backward = rec.kind in FANIN or rec.kind in LOCAL or rec.kind in JOINS
    return int(np.prod(rec.input_shape)) if has_steps(rec) and backward else 0


def backward_step_at(rec, k):
    """Backward step k of ``rec``: a GradientStep or, where the gradient starts, a
    LossGradientStep."""
    k = check_step_index(rec, k, num_backward_steps(rec), "backward step")
    if rec.kind in FLAT_ORDER:
        row, col, ch = position(rec.input_shape, k)
    else:
        row, col, ch = channel_major(rec.input_shape, k)
    maker = FANIN.get(rec.kind) or JOINS.get(rec.kind) or LOCAL[rec.kind]
    return maker(rec, row, col, ch)


def num_param_steps(rec, name: str) -> int:
    require_backward(rec)
    grads = rec.param_gradients
    if name not in grads:
        raise ValueError(f"{rec.name} ({rec.type_name}) has no parameter {name!r}; it has: "
                         f"{', '.join(grads) or 'none'}")
    return int(grads[name].size)


def param_step_at(rec, name: str, k):
    """Step k of the gradient of parameter ``name`` (k into the flattened array)."""
    k = check_step_index(rec, k, num_param_steps(rec, name), f"{name} gradient step")
    return param_step(rec, name, k)


def step_number(rec, row: int, col: int, channel: int, *, backward: bool = False) -> int:
    """The k of the step at (row, col, channel) of the output (forward) or the input
    (backward): the inverse of the walking order above; a ValueError outside the array."""
    shape = rec.input_shape if backward else rec.output_shape
    what = "input" if backward else "output"
    for name, v, size in zip(("row", "col", "channel"), (row, col, channel), shape):
        if not 0 <= v < size:
            raise ValueError(f"{rec.name}: {name} = {v} is outside its {what} "
                             f"{'x'.join(map(str, shape))} (0..{size - 1})")
    h, w, c = shape
    if rec.kind in FLAT_ORDER:
        return (row * w + col) * c + channel
    return channel * h * w + row * w + col
