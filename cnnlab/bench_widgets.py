"""How fast the explorers step: a benchmark, not a test.

    python -c "from cnnlab.bench_widgets import step_benchmark as b; print(b())"

``step_benchmark`` moves a ConvolutionExplorer's position ``moves`` times (each move is what
a slider move does: the linked ``position`` trait changes, the figure redraws its changing
artists and the new PNG bytes reach the ``ipywidgets.Image``) and reports the median, 90th
percentile and maximum wall time, and the median CPU time, in milliseconds.
"""
from __future__ import annotations

import time

import numpy as np


def step_benchmark(moves: int = 100, input_size: int = 28, filter_size: int = 3) -> dict:
    """Time ``moves`` position changes of a ConvolutionExplorer on an ``input_size`` square
    input, ``filter_size`` filter, padding 1, stride 1 (see the module docstring)."""
    from .widgets.convolution import ConvolutionExplorer
    w = ConvolutionExplorer()
    w.padding, w.stride, w.input_size, w.filter_size = "1", 1, input_size, filter_size
    times, cpu = [], []
    for i in range(1, moves + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        w.navigator.slider.value = i % w.record.num_positions
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    ms, cpu_ms = np.array(times) * 1000, np.array(cpu) * 1000
    # wall time depends on what else runs on the machine; CPU time much less
    return {"moves": moves, "output": w.record.output_shape, "median_ms": float(np.median(ms)),
            "p90_ms": float(np.percentile(ms, 90)), "max_ms": float(ms.max()),
            "median_cpu_ms": float(np.median(cpu_ms)), "png_bytes": len(bytes(w.image.value))}
