"""Running a per-layer kernel over a batch: chunks of images on the chunk pool, or one call.

The per-layer fast kernels (im2col, col2im, pooling, batch norm, ReLU) are serial nogil Numba
loops over a range ``lo..hi`` of their outermost axis (images, or rows of a flattened batch).
Each range writes a part of the result no other range touches, so ranges can run at the same
time without locks. ``run_chunks`` hands them to the persistent thread pool of the fused
stages (``pool_threads.py``): the batch is cut into more chunks than threads and a thread
takes the next one when it is free, so a thread that the operating system deschedules on a
busy machine delays only its chunk — where an OpenMP region (``parallel=True``) waits for
every thread at its end (PERFORMANCE-NOTES.md: 27 ms instead of 5 ms for one im2col at
load 7).

Work below ~1 ms runs as one direct call, measured here (2 shared cores, load 2–4): handing
chunks to another thread costs 10–20 µs (waking it, a lock and a Numba dispatch per chunk),
and when the other core is busy a helper that took a chunk may be descheduled inside it, so
the caller waits a scheduler time slice for it. im2col of 64 images of 16×16×8 (0.9 M values)
took a median 0.29–0.33 ms on one thread and 0.94 ms (75th percentile 2.8 ms) in chunks;
whole LeNet-5 and 13-convolution training steps (net.fused = False) were the same within the
noise for thresholds 64 K, 512 K, 4 M values and "never". With an idle core the chunks halve
a large kernel; above the threshold a kernel is long enough to absorb one late chunk.
"""
from __future__ import annotations

import numba
import numpy as np

from .pool_threads import chunk_bounds, chunk_pool

#: below this many values touched, one thread does the whole range (a serial pass over 4 M
#: float32 values takes about a millisecond here)
PARALLEL_MIN_WORK = 1 << 22


def chunk_threads() -> int:
    """How many threads the per-layer kernels use: Numba's setting, as the fused stages."""
    return numba.get_num_threads()


def run_chunks(kernel, count: int, work: int, *args) -> None:
    """Call ``kernel(*args, lo, hi)`` over 0..count-1, in chunks on the pool when ``work``
    (values the whole call touches) is large enough to pay for a second thread."""
    threads = chunk_threads()
    if threads < 2 or count < 2 or work < PARALLEL_MIN_WORK:
        kernel(*args, 0, count)
        return
    lo, hi = chunk_bounds(count, threads)
    # NumPy's floating-point error state (np.errstate) belongs to the calling thread's
    # context: a helper thread starts with the defaults. Chunks that call NumPy (the
    # convolutions' matrix products) run under the caller's, so a NaN product warns, or
    # not, as it would on one thread and on the reference backend.
    errors = np.geterr()

    def chunk(i):
        with np.errstate(**errors):
            kernel(*args, lo[i], hi[i])

    chunk_pool(threads).run(chunk, len(lo))
