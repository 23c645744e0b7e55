"""A persistent pool of Python threads that pull chunks of a batch as they free up.

Why not ``numba.prange``: on a shared 2-core machine a fixed OpenMP split stalls at every
parallel region whenever the other core is busy (PERFORMANCE-NOTES.md: a thread-pool design
kept 5.4 ms per step at load 4 while a fixed split reached 150 ms). Here a batch is cut into
more chunks than threads (at least two per thread) and each thread — the (T − 1) helpers
and the caller itself — takes the next chunk when it has finished its last one, so a
descheduled thread only delays the chunk it holds.

The work of a chunk is a nogil Numba kernel (``stage_kernels.py``): the threads really run
at the same time. A helper that has finished a batch watches for the next one for a few
hundred microseconds outside the GIL (``spin.py``: a step's batches follow each other
closely, and waking a sleeping thread costs ~60 µs), then sleeps on a condition variable.
An exception raised by any chunk is raised again in the caller once every started chunk
ended.

    pool = chunk_pool(2)
    pool.run(lambda i: work(lo[i], hi[i]), len(lo))

A fused stage's pass goes through :func:`run_works`, which runs one or several pieces of
work on each chunk of :func:`batch_chunks`: a chain of stages
(``stage_chain.py``) hands the pool all its stages at once, so each thread takes a chunk of
images through every stage in one dispatch.
"""
from __future__ import annotations

import os
import threading

import numba
import numpy as np

from .spin import SPIN_ROUNDS, mark_then_spin


class _Job:
    """One call of :meth:`ChunkPool.run`: ``count`` chunks handed out one at a time."""

    def __init__(self, fn, count):
        self.fn, self.count = fn, count
        self.next = 0
        self.finished = 0
        self.error = None
        self.lock = threading.Lock()
        self.done = threading.Event()

    def work(self):
        """Run chunks until none is left (called by every thread of the pool)."""
        while True:
            with self.lock:
                i = self.next
                if i >= self.count or self.error is not None:
                    # after an error the chunks not started yet are skipped: count them done
                    if i < self.count:
                        self.finished += self.count - i
                        self.next = self.count
                        if self.finished == self.count:
                            self.done.set()
                    return
                self.next = i + 1
            try:
                self.fn(i)
            except BaseException as exc:          # handed to the caller, not lost in a thread
                with self.lock:
                    if self.error is None:
                        self.error = exc
            with self.lock:
                self.finished += 1
                if self.finished == self.count:
                    self.done.set()


class ChunkPool:
    """``size`` threads in all: ``size - 1`` daemon helpers plus whoever calls :meth:`run`."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError(f"ChunkPool: size = {size}: need at least one thread")
        self.size = size
        self._cond = threading.Condition()
        self._job = None
        self._generation = 0
        self._posted = np.zeros(1, np.int64)     # the generation, for helpers that spin
        # the last generation each helper has finished, written outside the GIL
        self._finished = np.zeros(max(size - 1, 1), np.int64)
        self._run_lock = threading.Lock()        # one batch at a time (callers queue up)
        self._helpers = [threading.Thread(target=self._serve, args=(k,),
                                          name=f"cnnlab-chunk-{k + 1}", daemon=True)
                         for k in range(size - 1)]
        for t in self._helpers:
            t.start()

    def _serve(self, k):
        seen = 0
        while True:
            # mark generation `seen` done (slot k), then watch the posted counter until
            # no entry of it is still `seen`: the next batch is there
            mark_then_spin(self._finished, k, seen, self._posted, seen, 0, SPIN_ROUNDS)
            with self._cond:
                while self._generation == seen:
                    self._cond.wait()
                seen, job = self._generation, self._job
            job.work()

    def run(self, fn, count: int) -> None:
        """Call ``fn(i)`` for i in 0..count-1, spread over the pool's threads; returns when
        all have ended, raising the first exception any of them raised."""
        if count <= 0:
            return
        job = _Job(fn, count)
        if self.size == 1 or count == 1:
            job.work()
        else:
            with self._run_lock:
                with self._cond:
                    self._job = job
                    self._generation += 1
                    self._posted[0] = self._generation
                    self._cond.notify_all()
                job.work()
                # Wait for the helpers' last chunks. Sleeping on job.done costs a wake-up
                # when the last one ends (~30-60 µs here), and a helper marks its end while
                # it still holds the GIL, so the caller would then also sleep on the GIL.
                # Spinning outside the GIL on the marks each helper writes once it has let
                # the GIL go ends ~0.1 ms sooner per LeNet-5 step (2 threads). job.done is
                # the rule either way: the spin only saves the sleep.
                if not job.done.is_set():
                    # no mark of its own (slot -1); watch the helpers' marks until all
                    # of them show this batch's generation
                    mark_then_spin(self._finished, -1, 0, self._finished,
                                   self._generation, len(self._finished), SPIN_ROUNDS)
                job.done.wait()
        if job.error is not None:
            raise job.error


_pools: dict[int, ChunkPool] = {}
_pools_lock = threading.Lock()


def _after_fork():
    # a forked child has none of the parent's helper threads: it builds its own pools
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def chunk_pool(size: int) -> ChunkPool:
    """The process's pool of ``size`` threads (created on first use, kept for reuse)."""
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = ChunkPool(size)
        return pool


def chunk_bounds(n: int, threads: int, per_thread: int = 2):
    """Split n images into contiguous chunks, ``per_thread`` per thread (fewer when n is
    small): returns (lo, hi) lists with hi[i] = lo[i + 1]."""
    count = max(1, min(n, threads * per_thread if threads > 1 else 1))
    edges = [n * k // count for k in range(count + 1)]
    return edges[:-1], edges[1:]


def batch_chunks(n: int):
    """(threads, lo, hi): the thread count cnnlab computes with now and the chunks of a batch
    of n images, as :func:`run_works` takes them."""
    threads = numba.get_num_threads()
    lo, hi = chunk_bounds(n, threads)
    return threads, lo, hi


def run_works(chunks, works) -> None:
    """For each chunk i of ``chunks`` (what ``batch_chunks`` returns), call every ``work(i,
    lo, hi)`` of ``works`` in order, on the chunk pool: chunk i's images go through all of
    them on one thread, so a later piece of work may read what an earlier one wrote for
    those images. (The per-layer kernels have their own splitter, ``chunked.run_chunks``.)"""
    threads, lo, hi = chunks

    def chunk(i):
        for work in works:
            work(i, lo[i], hi[i])
    chunk_pool(threads).run(chunk, len(lo))
