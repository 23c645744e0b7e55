"""A chain of fused stages: one dispatch of the chunk pool per pass for all of them.

Every stage alone costs one dispatch of the pool per pass: the helper threads are handed a
batch, each takes chunks, and the caller waits for the last one to end. On this 2-core
machine that costs about 60–120 µs beyond the work itself (a helper takes ~20 µs to start,
and the two threads finish their last chunks at different times), and LeNet-5's training
step had four of them, a tenth of the step. But the stages of LeNet-5 — conv, conv, fully
connected ×3 — treat every image on its own, so chunk i can go through all of them on one
thread, one stage after the other:

    forward    every stage prepares its output array and its work (``begin_forward``);
               then the pool runs, for each chunk, the work of stage 1, 2, ... in turn
    backward   likewise from the last stage to the first (``begin_backward``); each chunk
               adds its parameter gradients into its own buffers, and after the dispatch
               every stage sums its chunks' (``end``)

What may follow another stage in a chain: a stage whose work reads its input array as it is
given (``reads_input_as_given``) — a convolution without padding, or a fully connected stage
(whose flattening of a C-contiguous array is a view). A padded convolution copies its input
into the padded array before its work runs, when the values are not there yet, so it starts
a new chain. Read backward, the same condition makes the input gradient of a later stage
the very array its work writes, ready for the stage before it. Batch-norm stages need the
whole batch's statistics between their convolution and the rest: they are not chained.

The arithmetic is the stages' own, so a chain gives what its stages give one by one; only
the order in which the threads meet the work changes.
"""
from __future__ import annotations

import numpy as np

from .dense_stage import DenseStage
from .pool_threads import batch_chunks, run_works
from .stage_base import Stage
from .stages import ConvStage

#: the stages a chain takes
CHAINABLE = (ConvStage, DenseStage)


def chain_stages(steps):
    """``steps`` (what ``stages.plan`` returns) with every run of two or more consecutive
    chainable stages that may follow each other replaced by one :class:`StageChain`."""
    out, run = [], []

    def close():
        out.extend([StageChain(run)] if len(run) > 1 else run)
        run.clear()
    for step in steps:
        if isinstance(step, CHAINABLE):
            if run and not step.reads_input_as_given:
                close()
            run.append(step)
        else:
            close()
            out.append(step)
    close()
    return out


class StageChain(Stage):
    """Consecutive fused stages run chunk by chunk in one dispatch per pass (see the module).
    Its ``layers`` are all its stages' layers; ``_cache`` is the batch size of the last
    forward pass (the stages keep their own caches)."""

    def __init__(self, stages):
        self.stages = list(stages)
        super().__init__([layer for stage in self.stages for layer in stage.layers])

    def __repr__(self):
        return f"<StageChain {' | '.join(repr(s) for s in self.stages)}>"

    @property
    def label(self):
        return "chain of fused stages " + " | ".join(
            " + ".join(layer.label for layer in stage.layers) for stage in self.stages)

    def release(self):
        self._cache = None
        for stage in self.stages:
            stage.release()

    def held_arrays(self):
        return [a for stage in self.stages for a in stage.held_arrays()]

    def forward(self, x, *, training=False, rng=None):
        works, y = [], x
        for k, stage in enumerate(self.stages):
            y_next, work, read = stage.begin_forward(y)
            if k and not np.may_share_memory(read, y):
                # a copy taken now would hold the values before the earlier stage wrote them
                raise RuntimeError(f"{self.label}: {stage.label} does not read its input "
                                   "in place and cannot follow another stage in a chain")
            works.append(work)
            y = y_next
        run_works(batch_chunks(len(x)), works)
        self._cache = len(x)
        return y

    def _backward_cached(self, dy, input_gradient):
        chunks = batch_chunks(self._cache)
        works, ends = [], []
        for k in range(len(self.stages) - 1, -1, -1):
            # the first stage computes an input gradient only when the caller wants one;
            # every later one hands its own to the stage before it
            work, end, dy = self.stages[k].begin_backward(dy, input_gradient or k > 0,
                                                          len(chunks[1]))
            works.append(work)
            ends.append(end)
        run_works(chunks, works)
        return [end() for end in ends][-1]
