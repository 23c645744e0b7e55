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

Small work runs as one direct call: handing chunks to another thread costs some tens of
microseconds (waking it, one lock per chunk), more than copying a few ten thousand values.
"""
from __future__ import annotations

import numba

from .pool_threads import chunk_bounds, chunk_pool

#: below this many values touched, one thread does the whole range (a dispatch to the pool
#: costs ~20–60 µs here; copying 64 K float32 values takes about as long)
PARALLEL_MIN_WORK = 1 << 16


def run_chunks(kernel, count: int, work: int, *args) -> None:
    """Call ``kernel(*args, lo, hi)`` over 0..count-1, in chunks on the pool when ``work``
    (values the whole call touches) is large enough to pay for a second thread."""
    threads = numba.get_num_threads()
    if threads < 2 or count < 2 or work < PARALLEL_MIN_WORK:
        kernel(*args, 0, count)
        return
    lo, hi = chunk_bounds(count, threads)
    chunk_pool(threads).run(lambda i: kernel(*args, lo[i], hi[i]), len(lo))
