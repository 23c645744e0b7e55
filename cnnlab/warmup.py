"""The fast kernels' first call: compiled before training starts, said out loud.

Numba compiles a kernel the first time it is called with a new type signature (about 15 s
for LeNet-5's kernels on a cold cache, under a second when a later process loads them from
Numba's cache). Left inside the first training iteration, that pause makes a progress bar
estimate hours for a one-minute run. ``train_network`` therefore runs one throw-away
training step first, announced as "compiling kernels (first run only)", and starts its
progress bar and clock after it. The step changes nothing: it computes gradients (which the
first real iteration recomputes) and no update; the layers' state (batch-normalization
running statistics) and the network's random generator (dropout masks) are put back, so a
run with the warm-up gives the same weights, bit for bit, as one without.
"""
from __future__ import annotations

import copy
import sys
import time

_done: set = set()      # (dtype, layer classes) already compiled in this process


def forget() -> None:
    """Forget which kernels have run, so the next training warms up again (for tests)."""
    _done.clear()


def compile_kernels(net, step, *, announce: bool = True) -> float | None:
    """Run ``step()`` once, undoing its effects, if ``net``'s fast kernels for its dtype and
    layer classes have not run in this process; return the seconds it took (None if skipped).
    """
    if net.backend != "fast":
        return None
    key = (net.dtype.str, tuple(type(layer).__qualname__ for layer in net.layers))
    if key in _done:
        return None
    if announce:
        print("compiling kernels (first run only)...", end=" ", flush=True, file=sys.stdout)
    states = [copy.deepcopy(layer.state) for layer in net.layers]
    rng_state = copy.deepcopy(net.rng.bit_generator.state)
    start = time.perf_counter()
    try:
        step()
    finally:
        for layer, state in zip(net.layers, states):
            layer.state.clear()
            layer.state.update(state)
        net.rng.bit_generator.state = rng_state
        net.release()
    seconds = time.perf_counter() - start
    _done.add(key)
    if announce:
        print(f"done in {seconds:.1f} s", flush=True)
    return seconds
