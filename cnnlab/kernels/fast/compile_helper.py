"""The second process of a cold compile, and how the two share the kernels out.

``compile_ahead.py`` gives the plan; this module is its helper process, run as

    python -m cnnlab.kernels.fast.compile_helper JOBS CLAIMS

JOBS is a pickle of the stages to dry-run (``dry_run.py``), their large arrays sent as
zeros of their shape (the kernels' types depend on shapes and dtypes, never on values);
CLAIMS a directory both processes know. The helper

1. *records* the kernels the stages call and their argument types, in the order the first
   process will meet them: it dry-runs the stages with Numba's compilation replaced by a
   note of the call (the call then does nothing; the arrays keep whatever they held, which
   no later call's types depend on);
2. from the *last* of those, claims each kernel and compiles it (or loads it, if Numba's
   cache has it), until it meets one the first process has claimed.

The first process claims each kernel as it starts compiling it, from the first. So the two
meet in the middle, each having compiled about half the time's worth, whatever each kernel
costs. A claim is a file created with O_EXCL in CLAIMS: whoever creates it first owns the
kernel. What the helper compiles reaches the first process through Numba's on-disk cache.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np

from .dry_run import dry_run

#: arrays larger than this are sent to the helper as zeros of their shape (bytes)
SEND_AS_ZEROS = 1 << 16
#: the longest the first process waits for the helper (seconds) before compiling it all itself
HELPER_TIMEOUT = 600


def call_key(dispatcher, types) -> str:
    """A file name for "this kernel with these argument types", the same in both processes."""
    func = dispatcher.py_func
    text = f"{func.__module__}.{func.__qualname__}({', '.join(map(str, types))})"
    return hashlib.sha1(text.encode()).hexdigest()


def claim(directory, key) -> bool:
    """Claim a kernel: True for the first process to ask (see the module)."""
    try:
        os.close(os.open(os.path.join(directory, key), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


class _ZeroPickler(pickle.Pickler):
    """Pickles large contiguous arrays as zeros of their shape, dtype and memory order."""

    def reducer_override(self, obj):
        if (type(obj) is np.ndarray and obj.nbytes > SEND_AS_ZEROS
                and (obj.flags.c_contiguous or obj.flags.f_contiguous)):
            return np.zeros, (obj.shape, obj.dtype, "C" if obj.flags.c_contiguous else "F")
        return NotImplemented


class Helper:
    """The helper process, seen from the first one: :meth:`start` (from a Numba compile event,
    so it never raises), :meth:`claim`, :meth:`wait` (for its kernels) and :meth:`stop`."""

    def __init__(self, jobs):
        self.jobs = jobs
        self.proc = self.job_path = self.claims = self.log = None
        self.failure = None
        self.stopped = False           # ended by stop(): not a failure
        self.finished = False          # waited for or stopped: nothing more comes from it

    def start(self):
        if self.proc is not None or self.failure is not None or self.finished:
            return
        try:
            self.claims = tempfile.mkdtemp(prefix="cnnlab-claims-")
            with tempfile.NamedTemporaryFile(prefix="cnnlab-compile-", suffix=".pkl",
                                             delete=False) as f:
                self.job_path = f.name
                _ZeroPickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(self.jobs)
            self.log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", __name__, self.job_path, self.claims],
                env=_environment(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self.log)
        except Exception as exc:           # no helper: this process compiles everything
            self.failure = f"could not start ({exc})"

    def claim(self, key) -> bool:
        """Whether this process may compile the kernel ``key`` (False: the helper has it)."""
        if self.proc is None or self.finished:
            return True
        return claim(self.claims, key)

    def wait(self):
        """Wait for the helper to end: its kernels are then in the cache (warns if it failed;
        this process then compiles them, as it would have without it)."""
        if self.proc is not None and not self.finished:
            try:
                self.proc.wait(timeout=HELPER_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.failure = f"did not end within {HELPER_TIMEOUT} s"
        self._close()

    def stop(self):
        """End the helper, which has nothing this process still needs."""
        if self.proc is not None and not self.finished and self.proc.poll() is None:
            self.stopped = True
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        if self.finished:
            return
        self.finished = True
        if (self.proc is not None and self.failure is None and not self.stopped
                and self.proc.returncode != 0):
            self.log.seek(0)
            lines = self.log.read().decode(errors="replace").strip().splitlines()
            self.failure = (f"ended with exit status {self.proc.returncode} "
                            f"({lines[-1] if lines else 'no message'})")
        if self.log is not None:
            self.log.close()
        if self.job_path is not None:
            os.unlink(self.job_path)
        if self.claims is not None:
            shutil.rmtree(self.claims, ignore_errors=True)
        if self.failure is not None:
            warnings.warn(f"cnnlab: the process compiling kernels beside this one "
                          f"{self.failure}; this one compiles them instead "
                          "(CNNLAB_COMPILE_HELPER=0 turns the helper off)", RuntimeWarning,
                          stacklevel=2)


def _environment():
    """This process's environment, with this very cnnlab first on the helper's path (Numba
    keeps its cache per source file: the helper must compile the files this process runs)."""
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join([package_parent] + rest))


def _skip(*args, **kws):
    """Stands for a kernel's machine code while calls are recorded: does nothing."""


def record_calls(jobs):
    """[(dispatcher, argument types)] of the kernels the jobs' dry runs call that are not
    compiled yet, in order, without compiling them (see the module, step 1)."""
    from numba.core.dispatcher import Dispatcher
    calls = []

    def note(dispatcher, *args, **kws):
        # what Dispatcher._compile_for_args would compile: the types Numba gives the values
        call = (dispatcher, tuple(dispatcher.typeof_pyval(a) for a in args))
        if call not in calls:
            calls.append(call)
        return _skip             # Numba calls what compiling returns: the machine code
    compile_for_args = Dispatcher._compile_for_args
    Dispatcher._compile_for_args = note
    try:
        with np.errstate(all="ignore"):
            for stage, input_gradient in jobs:
                dry_run(stage, input_gradient)
    finally:
        Dispatcher._compile_for_args = compile_for_args
    return calls


def main(job_path, claims) -> int:
    """The helper (see the module): record, then compile from the last kernel back."""
    import numba
    numba.set_num_threads(1)
    with open(job_path, "rb") as f:
        jobs = pickle.load(f)
    for dispatcher, types in reversed(record_calls(jobs)):
        if not claim(claims, call_key(dispatcher, types)):
            break
        dispatcher.compile(types)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
