"""Waiting for the next batch without sleeping: a short spin outside the GIL.

A training step hands its thread pool several batches in quick succession (each fused stage
forward and backward, ``pool_threads.py``). A helper thread that sleeps on a condition
variable between them takes ~60 µs to be woken (measured here: two 120 µs chunks on two
threads took 185 µs, not 125) — on LeNet-5's four dispatches per step, a tenth of the step.
So a helper first watches a counter the pool bumps with every batch, for a bounded number of
rounds, and only then goes to sleep; it watches from a nogil Numba loop, so the thread that
is preparing the next batch keeps the GIL to itself.

The caller waits for the helpers' last chunks the same way (``mark_then_spin``,
``spin_until_all``): sleeping on an event cost a wake-up each time, and the helper that set
it still held the GIL, so the caller woke only to sleep on the GIL. A helper now marks its
end from nogil code, once it has let the GIL go (measured on LeNet-5 at two threads, 60-80
paired rounds of 20 steps: training 2.5-4% faster, inference 3-7%).

Each round calls the C library's ``sched_yield`` — which also makes the compiler read the
counter from memory every round (an opaque call may change it), where a bare loop could
read it once. The address is registered with LLVM under a fixed name, as ``blas.py`` does
for sgemm, so the cached machine code works in every process.
"""
from __future__ import annotations

import ctypes
import ctypes.util

import llvmlite.binding as llvm
import numba
from numba import types

#: rounds of sched_yield before a helper sleeps: about 1.2 ms here (0.15 µs a round). A
#: training step's dispatches follow each other within that, an idle pool stops spinning.
#: Between LeNet-5's backward dispatch and the next step's forward the caller spends ~0.55
#: ms in Python (gradients, solver, input checks): at 2000 rounds (0.3 ms) the helper had
#: gone to sleep, and 8000 made the step 2.1% faster (2.62 -> 2.56 ms, 80 paired rounds)
SPIN_ROUNDS = 8000

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
llvm.add_symbol("cnnlab_sched_yield",
                ctypes.cast(_libc.sched_yield, ctypes.c_void_p).value)
_sched_yield = types.ExternalFunction("cnnlab_sched_yield", types.intc())


@numba.njit(nogil=True, cache=True)
def spin_until_changed(counter, seen, rounds):
    """True as soon as counter[0] != seen, False after ``rounds`` rounds without a change."""
    for _ in range(rounds):
        if counter[0] != seen:
            return True
        _sched_yield()
    return counter[0] != seen


@numba.njit(nogil=True, cache=True)
def mark_then_spin(marks, k, mark, counter, seen, rounds):
    """marks[k] = mark, then spin_until_changed(counter, seen, rounds): a helper says it has
    finished a batch from code that runs without the GIL, so the caller that sees the mark
    finds the GIL free (see ``pool_threads.ChunkPool.run``)."""
    marks[k] = mark
    for _ in range(rounds):
        if counter[0] != seen:
            return True
        _sched_yield()
    return counter[0] != seen


@numba.njit(nogil=True, cache=True)
def spin_until_all(marks, mark, rounds):
    """True as soon as every marks[k] == mark, False after ``rounds`` rounds without."""
    for _ in range(rounds):
        done = True
        for k in range(marks.shape[0]):
            if marks[k] != mark:
                done = False
        if done:
            return True
        _sched_yield()
    return False

