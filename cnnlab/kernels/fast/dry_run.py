"""A fused stage's passes on two images of zeros: every kernel a real pass calls, called.

Numba compiles a kernel at its first call with new argument types, and the types of a
stage's calls depend on its configuration and dtype, never on the values: a dry run makes
exactly the calls a training pass makes (forward, backward with the input gradient the
Network asks of that stage) and a prediction pass (forward in prediction mode), so after it
every kernel those passes need is compiled, or loaded from Numba's cache. It changes
nothing: the layers' state (batch-norm statistics), gradients and caches are put back.

``compile_ahead.py`` dry-runs a network's stages before its first pass; its helper process
(``compile_helper.py``) dry-runs them to learn which kernels they call.
"""
from __future__ import annotations

import copy

import numpy as np

from .pool_threads import batch_chunks, run_works
from .stage_chain import StageChain
from .stages import STAGES

#: images of a dry run: two, so that batch statistics have a batch
DRY_BATCH = 2


def stage_jobs(steps):
    """[(stage, input_gradient)] for every fused stage of ``steps`` (what a Network's passes
    run: stages, chains of stages, plain layers), with the input gradient a training step
    asks of it: none of the first step with parameters, which is the first stage of a chain
    (``Network._backward_through``); every later stage's."""
    first = next((i for i, step in enumerate(steps) if step.params), None)
    jobs = []
    for i, step in enumerate(steps):
        stages = step.stages if isinstance(step, StageChain) else [step]
        for k, stage in enumerate(stages):
            if isinstance(stage, STAGES):
                jobs.append((stage, not (i == first and k == 0)))
    return jobs


def unique_kinds(jobs, done=()):
    """The jobs whose kernels differ (``Stage.kernel_kind``), first of each kind, skipping the
    kinds in ``done``; returns (jobs, their kinds)."""
    out, kinds = [], []
    for stage, input_gradient in jobs:
        key = stage.kernel_kind(input_gradient)
        if key not in done and key not in kinds:
            kinds.append(key)
            out.append((stage, input_gradient))
    return out, kinds


def dry_run(stage, input_gradient):
    """Run ``stage`` forward and backward on two images of zeros (see the module), then put
    its layers' state, gradients and caches back as they were."""
    first = stage.layers[0]
    saved = [(copy.deepcopy(layer.state), layer.grads) for layer in stage.layers]
    x = np.zeros((DRY_BATCH,) + tuple(first.input_shape), dtype=first.dtype)
    try:
        if hasattr(stage, "begin_forward"):
            # the way a chain runs it (StageChain), whatever the batch size: a fully
            # connected stage alone hands a batch this small to its layers' own kernels
            chunks = batch_chunks(len(x))
            y, work, _ = stage.begin_forward(x)
            run_works(chunks, [work])
            work, _, _ = stage.begin_backward(np.zeros_like(y), input_gradient,
                                              len(chunks[1]))
            run_works(chunks, [work])
        else:
            stage.forward(x, training=False)
            y = stage.forward(x, training=True)
            if input_gradient:
                stage.backward(np.zeros_like(y))
            else:
                stage.backward_parameters(np.zeros_like(y))
    finally:
        stage.release()
        for layer, (state, grads) in zip(stage.layers, saved):
            layer.state.clear()
            layer.state.update(state)
            layer.grads = grads
