"""Cold compile on two cores: before a network's first pass, its kernels are compiled by
this process and a helper process at the same time.

Numba compiles one function at a time, on one core: its compiler holds a process-wide lock
from typing to machine code. A LeNet-5 training step on an empty cache spends 6-12 s there
(by the machine's day), the network of the reference documents, with batch norm, twice as
long, while the second core idles. Two processes, though, compile at the same time, and
Numba's on-disk cache (``cache=True`` on every kernel) carries what one compiled to the other.

So the first pass of a network with fused stages runs :func:`compile_stages` first:

1. Every kind of fused stage (``Stage.kernel_kind``) gets a dry run (``dry_run.py``): the
   calls of a training and a prediction pass on two images of zeros, which compile or load
   every kernel those passes need, and change nothing.
2. Numba announces each compilation (the ``numba:compile`` event, sent after a cache miss).
   At the first one the cache is known to be cold, and the helper process starts
   (``compile_helper.py``): it learns which kernels the dry runs call, and compiles them
   from the last one back while this process compiles them from the first on. Before this
   process compiles a kernel it claims it; a kernel the helper has claimed it does not
   compile but waits for the helper to end, and runs that dry run again: the helper's
   kernels now load from the cache in milliseconds.
3. If this process gets through every dry run first, the helper is stopped.

The helper only ever saves time: the numbers never depend on it (the kernels are the same
machine code either way), and whatever it did not leave in the cache (it failed, with a
warning, or was stopped) this process compiles, as it would have without it. With a warm
cache nothing compiles, so no helper starts and the dry runs cost milliseconds. Where only
one core is available there is no helper; ``CNNLAB_COMPILE_HELPER=0`` turns it off.
Whatever a dry run does not call (a fully connected stage's kernel for large batches, the
layers outside the stages) compiles in the first pass, as before.
"""
from __future__ import annotations

import os
import threading

from numba.core import event

from .compile_helper import Helper, call_key
from .dry_run import dry_run, stage_jobs, unique_kinds

_lock = threading.Lock()
_done: set = set()          # kernel kinds (Stage.kernel_kind) dry-run in this process


class CompiledByHelper(Exception):
    """Raised from Numba's compile event in place of compiling a kernel the helper claimed."""


class _ShareCompiles(event.Listener):
    """At each compilation of a kernel called from Python (not of the functions it calls,
    which Numba compiles inside it): start the helper, if not yet, and claim the kernel."""

    def __init__(self, helper):
        self.helper = helper
        self.depth = threading.local()        # compilations under way in this thread

    def on_start(self, ev):
        depth = getattr(self.depth, "n", 0)
        if depth == 0 and not self.helper.finished:
            self.helper.start()
            if not self.helper.claim(call_key(ev.data["dispatcher"], ev.data["args"])):
                raise CompiledByHelper(ev.data["dispatcher"].py_func.__qualname__)
        self.depth.n = depth + 1

    def on_end(self, ev):
        # a compilation another thread began before the listener was installed ends here
        # without its start: an error now would kill that thread (e.g. a pool helper)
        self.depth.n = max(getattr(self.depth, "n", 0) - 1, 0)


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def compile_stages(steps) -> None:
    """Compile (or load) the kernels of every fused stage of ``steps`` (a Network's passes)
    before they first run, with a helper process when the cache is cold (see the module)."""
    with _lock:
        jobs, kinds = unique_kinds(stage_jobs(steps), _done)
        if not jobs:
            return
        if _cores() < 2 or os.environ.get("CNNLAB_COMPILE_HELPER", "1") == "0":
            for job in jobs:
                dry_run(*job)
        else:
            helper = Helper(jobs)
            try:
                with event.install_listener("numba:compile", _ShareCompiles(helper)):
                    for job in jobs:
                        while True:
                            try:
                                dry_run(*job)
                                break
                            except CompiledByHelper:
                                helper.wait()      # then its kernels are in the cache
            finally:
                helper.stop()
        _done.update(kinds)


def forget() -> None:
    """Forget which kernel kinds have been dry-run in this process (for tests)."""
    with _lock:
        _done.clear()
