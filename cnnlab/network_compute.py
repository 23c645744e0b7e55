"""The context every computation of a network runs in: one pass at a time, BLAS capped.

A widget's callback runs in its own thread while a notebook cell may be computing with the
same network (ipykernel's subshells), and the layers keep each pass's intermediates for the
backward pass: two passes at once would mix them up ("backward called before forward", or
a gradient of the wrong image). So every computation holds the network's re-entrant lock.
With the fast backend BLAS is also capped to one thread (``kernels.fast.threads``) so its
threads do not spin against Numba's, and before the first pass with fused stages their
kernels are compiled, on two cores when Numba's cache is cold (``kernels.fast.compile_ahead``).
"""
from __future__ import annotations

import contextlib
import threading


class Computing:
    """Mixin of :class:`cnnlab.Network`: ``with net.computing(): ...`` (re-entrant)."""

    def _new_lock(self) -> None:
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def computing(self):
        """Hold this network's lock (and, on the fast backend, cap BLAS to one thread)
        while the enclosed code computes; nesting costs nothing."""
        with self._lock:
            if self._backend == "reference":
                yield
                return
            from .kernels.fast.threads import kernel_threads
            with kernel_threads():
                yield

    def _compile_ahead(self):
        """Before the first pass with fused stages (called by Network._forward): compile
        their kernels, on two cores when the cache is cold; once per network."""
        if self.__dict__.get("_stages") is None or self.__dict__.get("_compiled_ahead"):
            return
        from .kernels.fast.compile_ahead import compile_stages
        compile_stages(self._steps(self._body()))
        self._compiled_ahead = True

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_lock", None)          # a lock is not copied: each copy gets its own
        state.pop("_compiled_ahead", None)  # nor whether this process compiled its kernels
        return state
