"""Fused stages (``kernels/fast/stages.py``) inside a layer graph: on its chain segments.

A stage runs a run of layers — convolution, batch norm, ReLU, max pooling; fully connected +
ReLU — as one step, reading one input and handing on one output. In a graph that holds along
a *chain segment*: layers each read by exactly one layer, which reads nothing else. Branch
points and joins end the segments (an Addition's inputs are two segments' ends), so a stage
never hides an output another branch reads.

The passes (``graph_pass.py``) then run *steps*: a stage stands where its last layer is in the
topological order (its input, read by its first layer, is computed earlier), keyed by its
last layer's name, and reads what its first layer reads. The numbers are those of the
per-layer fast kernels.
"""
from __future__ import annotations


def chain_segments(layers, sources) -> list[list]:
    """``layers`` (topologically ordered) split into maximal chain segments, in order."""
    readers = {layer.name: [] for layer in layers}
    for layer in layers:
        for s in sources[layer.name]:
            if s in readers:
                readers[s].append(layer.name)
    by_name = {layer.name: layer for layer in layers}
    # name -> the next layer of its segment: its only reader, which reads only it
    follows = {s: r[0] for s, r in readers.items()
               if len(r) == 1 and sources[r[0]] == [s]}
    continued = set(follows.values())
    segments = []
    for layer in layers:
        if layer.name in continued:
            continue
        segment = [layer]
        while segment[-1].name in follows:
            segment.append(by_name[follows[segment[-1].name]])
        segments.append(segment)
    return segments


def plan_graph_stages(layers, sources) -> list:
    """The stages that ``kernels.fast.stages.plan`` makes on each chain segment."""
    from .kernels.fast.stages import STAGES, plan
    return [step for segment in chain_segments(layers, sources) for step in plan(segment)
            if isinstance(step, STAGES)]


def graph_steps(stages, layers, sources):
    """(steps, their sources): ``layers`` with each stage whose layers are all among them in
    place of those layers, and what each step reads, keyed as ``graph_pass`` keys steps (a
    stage by its last layer's name)."""
    present = {id(layer) for layer in layers}
    owner = {}
    for stage in stages:
        if all(id(layer) in present for layer in stage.layers):
            owner.update({id(layer): stage for layer in stage.layers})
    steps, step_sources = [], {}
    for layer in layers:
        stage = owner.get(id(layer))
        if stage is None:
            steps.append(layer)
            step_sources[layer.name] = sources[layer.name]
        elif layer is stage.layers[-1]:
            steps.append(stage)
            step_sources[layer.name] = sources[stage.layers[0].name]
    return steps, step_sources
