"""Memory budgets: refuse a request that cannot fit before allocating anything.

A classroom types ``FullyConnected(10**6)`` or a batch of 100,000 images sooner or later; the
answer should be a sentence, not a frozen laptop or a process killed by the kernel. Three
checks, each made from shapes alone:

* a parameter array (at build): its bytes, ∏ shape · itemsize;
* one image's activations (at build): Σ over layers of ∏ output shape · itemsize;
* a forward/backward or training request on a batch of N:

      prediction  bytes ≈ itemsize · (N · (A + I_max + Q) + P · (2 + S))
      training    bytes ≈ itemsize · (N · (2·A + I_all + Q + K) + P · (2 + S))

  with A the activations per image, Q the padded inputs that convolutions and pooling
  make, I the im2col matrices per image of the fast convolution (FH·FW·C/G·OH·OW per group),
  P the parameters (and their gradients) and S the solver's state arrays per parameter
  (2 for Adam, 1 for SGDM and RMSProp). A prediction pass releases each layer's caches as
  soon as the next layer runs, so only the largest im2col (I_max) exists at a time; a
  training pass keeps every layer's caches until backward: every convolution's columns
  (I_all), and K, the extra arrays layers keep (max pooling's int64 winners, batch
  normalization's x̂, cross-channel normalization's scale, dropout's mask). The second A is the gradients
  of the backward pass. ``Network.held_bytes()`` measures what is really held.

The budget is half the machine's physical memory (capped at 16 GiB), or the environment
variable CNNLAB_MEMORY_BUDGET (bytes); ``memory_budget_bytes()`` says which.
"""
from __future__ import annotations

import math
import os

import numpy as np


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_budget_bytes() -> int:
    """The largest request cnnlab accepts, in bytes."""
    env = os.environ.get("CNNLAB_MEMORY_BUDGET")
    if env:
        try:
            value = int(float(env))
        except ValueError:
            value = 0
        if value <= 0:
            raise ValueError(f"CNNLAB_MEMORY_BUDGET = {env!r}: expected a positive number of "
                             "bytes")
        return value
    physical = _physical_memory()
    return min(16 * 2**30, physical // 2) if physical else 4 * 2**30


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**28 else f"{n / 2**20:.1f} MiB"


def check_parameter(label: str, parameter: str, shape, itemsize: int) -> None:
    """Refuse a parameter array larger than the budget (before allocating it)."""
    count = math.prod(int(s) for s in shape)
    need, budget = count * itemsize, memory_budget_bytes()
    if need > budget:
        raise ValueError(f"{label}: {parameter} would be {'x'.join(map(str, shape))} = "
                         f"{count:,} numbers ({gib(need)}), more than the memory budget of "
                         f"{gib(budget)}: use fewer filters or outputs, or a smaller input")


def activation_bytes(layers, itemsize: int) -> int:
    """Bytes of every layer's output for one image."""
    return itemsize * sum(math.prod(layer.output_shape) for layer in layers
                          if layer.output_shape)


def padded_bytes(layers, itemsize: int) -> int:
    """The padded copies of inputs that convolution and pooling layers make, per image."""
    total = 0
    for layer in layers:
        pads = getattr(layer, "_pads", None)
        if pads is not None and any(pads) and layer.input_shape:   # no padding: no copy
            (h, w, c), (t, b, l, r) = layer.input_shape, pads
            total += (h + t + b) * (w + l + r) * c
    return total * itemsize


def columns_bytes(layers, itemsize: int, *, every: bool = False) -> int:
    """The im2col matrices of one image (fast backend): the largest one among the
    convolutions, or with ``every`` their sum (what a training pass keeps)."""
    sizes = [0]
    for layer in layers:
        if layer.kind == "conv" and layer.output_shape:
            fh, fw = layer.filter_size
            oh, ow, _ = layer.output_shape
            sizes.append(fh * fw * layer.input_shape[2] * oh * ow)   # all groups
    return (sum(sizes) if every else max(sizes)) * itemsize


def kept_extra_bytes(layers, itemsize: int) -> int:
    """Per image, the arrays beyond the activations that training caches keep."""
    total = 0
    for layer in layers:
        if not layer.output_shape:
            continue
        out = math.prod(layer.output_shape)
        if layer.kind in ("maxpool", "gmpool"):
            total += out * np.dtype(np.int64).itemsize          # the winners' indices
        elif layer.kind in ("batchnorm", "crossnorm"):
            total += out * itemsize                             # x̂ or the LRN scale
        elif layer.kind == "dropout":
            total += out                                        # the boolean mask
    return total


def request_bytes(layers, dtype, *, training: bool, solver_slots: int = 0) -> tuple[int, int]:
    """(bytes per image, fixed bytes) of running built ``layers``: N images need N·per + fixed."""
    itemsize = np.dtype(dtype).itemsize
    per_image = activation_bytes(layers, itemsize) * (2 if training else 1)
    per_image += columns_bytes(layers, itemsize, every=training) + padded_bytes(layers, itemsize)
    if training:
        per_image += kept_extra_bytes(layers, itemsize)
    fixed = sum(layer.num_parameters for layer in layers) * itemsize * (2 + solver_slots)
    return per_image, fixed


def check_request(layers, dtype, batch: int, *, training: bool, what: str,
                  solver_slots: int = 0, hint: str = "a smaller batch") -> int:
    """Refuse running ``layers`` on ``batch`` images if the estimate exceeds the budget."""
    return check_batch(request_bytes(layers, dtype, training=training, solver_slots=solver_slots),
                       batch, what=what, hint=hint)


def check_batch(estimate: tuple[int, int], batch: int, *, what: str,
                hint: str = "a smaller batch") -> int:
    """``check_request`` for an estimate (per image, fixed bytes) already computed."""
    per, fixed = estimate
    need, budget = batch * per + fixed, memory_budget_bytes()
    if need > budget:
        fits = (budget - fixed) // per if per else 0
        images = f"{batch:,} image" + ("" if batch == 1 else "s")
        raise ValueError(f"{what}: {images} would need about {gib(need)} "
                         f"({gib(per)} per image), more than the memory budget of "
                         f"{gib(budget)}; use {hint}" + (f" (about {fits:,} fit)" if fits > 0
                                                         else ""))
    return need
