"""Waiting for the next batch without sleeping: a short spin outside the GIL.

A training step hands its thread pool several batches in quick succession (each fused stage
forward and backward, ``pool_threads.py``). A helper thread that sleeps on a condition
variable between them takes ~60 µs to be woken (measured here: two 120 µs chunks on two
threads took 185 µs, not 125) — on LeNet-5's four dispatches per step, a tenth of the step.
So a helper first watches a counter the pool bumps with every batch, for a bounded number of
rounds, and only then goes to sleep; it watches from a nogil Numba loop, so the thread that
is preparing the next batch keeps the GIL to itself.

The caller waits for the helpers' last chunks the same way: sleeping on an event cost a
wake-up each time, and the helper that set it still held the GIL, so the caller woke only
to sleep again on the GIL. Now a helper marks its end from nogil code, once it has let the
GIL go, and the caller spins on the marks (measured on LeNet-5 at two threads, 60-80 paired
rounds of 20 steps: training 2.5-4% faster, inference 3-7%).

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
def mark_then_spin(marks, k, mark, watch, value, count, rounds):
    """marks[k] = mark (none when k < 0), then wait until exactly ``count`` entries of
    ``watch`` equal ``value``: True as soon as they do, False after ``rounds`` rounds.

    One function for both waits of the pool (one compiled function: each costs ~0.1 s of
    cold compile). A helper marks the batch it has finished and watches the pool's counter
    until it moves on (``watch`` = the counter, ``count`` = 0 entries still at ``value``);
    the caller watches the helpers' marks until all of them show its batch (``count`` =
    all). The mark is written from here, without the GIL, so a caller that sees it finds
    the GIL free."""
    if k >= 0:
        marks[k] = mark
    for _ in range(rounds + 1):
        same = 0
        for j in range(watch.shape[0]):
            if watch[j] == value:
                same += 1
        if same == count:
            return True
        _sched_yield()
    return False
