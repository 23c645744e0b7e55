"""Thread policy for the fast kernels: Numba's threads on the cores, BLAS on one.

The fast kernels are serial nogil Numba loops that cnnlab's own thread pool runs on chunks of
a batch (pool_threads.py; the fused stages, and chunked.py for the per-layer kernels), with
BLAS matrix products inside them. BLAS keeps its own pool of spinning threads; on a 2-core
machine two pools fight and throughput collapses about 7× (measured, PERFORMANCE-NOTES.md).
The policy: BLAS gets one thread while fast kernels run; cnnlab's pool has the cores.

``kernel_threads()`` is re-entrant: the outermost entry caps BLAS (via threadpoolctl, which
knows every BLAS loaded in the process) and the exit restores what was there. Nested entries
(each convolution call inside a training loop that already holds the cap) only count depth.
"""
from __future__ import annotations

import contextlib
import threading

_state = threading.local()
_controller = None


def _blas_controller():
    # building a ThreadpoolController inspects every loaded library: do it once
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
    return _controller


def blas_threads() -> list[int]:
    """The thread counts of every BLAS library loaded in this process."""
    return [info["num_threads"] for info in _blas_controller().info()
            if info.get("user_api") == "blas"]


@contextlib.contextmanager
def kernel_threads(blas: int = 1):
    """Run the enclosed code with BLAS capped to ``blas`` threads (default 1)."""
    depth = getattr(_state, "depth", 0)
    if depth:
        _state.depth = depth + 1
        try:
            yield
        finally:
            _state.depth -= 1
        return
    limiter = _blas_controller().limit(limits=blas, user_api="blas")
    _state.depth = 1
    try:
        yield
    finally:
        _state.depth = 0
        limiter.restore_original_limits()
