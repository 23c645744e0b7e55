"""How many bytes a trace will hold, estimated from layer shapes before anything runs.

A trace keeps, for the traced image, each layer's input and output, a copy of its parameters,
and what explains it (a convolution's padded input, a pooling layer's padded input and
winners, batch norm's normalized values, LRN's window sums...): roughly, per layer,

    bytes ≈ itemsize · (2·input + 2·output + 2·parameters)     (×2 again with backward=True)

The padded input is counted as a second input, the extra fields as a second output. The
forward pass itself runs on the traced batch (one image, or the whole batch in training
mode, which batch norm needs): that batch's activations count too.
"""
from __future__ import annotations

import math

DEFAULT_BUDGET_BYTES = 256 * 2**20      # 256 MiB: comfortable on a classroom laptop


class TraceBudgetError(ValueError):
    """The trace would hold more than its memory budget; nothing was recorded."""


def estimate_bytes(layers, itemsize: int, *, batch: int = 1, backward: bool = False) -> int:
    """Estimated bytes of a trace of ``layers`` (built) on one image of a ``batch``."""
    per_image = 0
    activations = 0
    for layer in layers:
        inp = math.prod(layer.input_shape) if layer.input_shape else 0
        out = math.prod(layer.output_shape) if layer.output_shape else 0
        params = sum(p.size for p in layer.params.values())
        per_image += 2 * inp + 2 * out + 2 * params
        activations += out
    total = per_image * (2 if backward else 1) + activations * batch * (2 if backward else 1)
    return int(total * itemsize)


def check_budget(layers, itemsize, *, batch, backward, budget_bytes):
    """Raise TraceBudgetError when the estimate exceeds ``budget_bytes``."""
    need = estimate_bytes(layers, itemsize, batch=batch, backward=backward)
    if need > budget_bytes:
        raise TraceBudgetError(
            f"trace: recording {len(layers)} layers on a batch of {batch} would take about "
            f"{need / 2**20:.1f} MiB, more than the budget of {budget_bytes / 2**20:.1f} MiB "
            f"(budget_bytes={budget_bytes}); trace fewer layers (upto='<layer name>'), a "
            f"smaller batch or a smaller input" + (", or leave backward off" if backward
                                                    else "") + ", or raise budget_bytes")
    return need
