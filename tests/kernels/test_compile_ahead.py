"""A cold compile shared with a helper process (``cnnlab/kernels/fast/compile_ahead.py``).

The end-to-end tests run LeNet-5's first training step and prediction in fresh processes,
each with an empty Numba cache: without the helper, with it, and with a helper that fails.
Each process notes which kernels it compiled itself (Numba's ``numba:compile`` event) and
saves its loss, gradients and predictions; the helper must take a share of the kernels off
the process, and every number must be the same, bit for bit, in all three.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numba.core import event

from cnnlab.kernels.fast import compile_ahead
from cnnlab.kernels.fast.compile_ahead import CompiledByHelper, _ShareCompiles

SCRIPT = textwrap.dedent("""
    import json, sys, threading, warnings
    import numpy as np
    from numba.core import event
    import cnnlab as cl
    from cnnlab.models import lenet5
    if len(sys.argv) > 2:
        sys.executable = sys.argv[2]        # the helper's interpreter (a broken one)
    depth, top = threading.local(), []

    class Top(event.Listener):              # kernels this process compiles, called from Python
        def on_start(self, ev):
            if getattr(depth, "n", 0) == 0:
                top.append(ev.data["dispatcher"].py_func.__qualname__)
            depth.n = getattr(depth, "n", 0) + 1

        def on_end(self, ev):
            depth.n -= 1
    event.register("numba:compile", Top())
    net = cl.Network(lenet5(), seed=0, backend="fast")
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = net.loss_and_gradients(x, np.arange(64) % 10)[0]
        probs = net.predict(x)
    grads = {f"{layer.name}.{k}": v for layer in net.layers for k, v in layer.grads.items()}
    np.savez(sys.argv[1], loss=loss, probs=probs, **grads)
    print(json.dumps({"top": top, "warnings": [str(w.message) for w in caught]}))
""")


def first_step(tmp_path, name, helper="1", interpreter=None, cache=None):
    """Run SCRIPT in a new process with the cache tmp_path/cache-``cache`` (by default a new
    one, cache-``name``): (what it reported, its numbers)."""
    script = tmp_path / "first_step.py"
    script.write_text(SCRIPT)
    out = tmp_path / f"{name}.npz"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / f"cache-{cache or name}"),
               CNNLAB_COMPILE_HELPER=helper)
    args = [sys.executable, str(script), str(out)] + ([interpreter] if interpreter else [])
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    with np.load(out) as numbers:
        return report, {k: numbers[k] for k in numbers.files}


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """The first step of a process that compiles everything itself: (its directory, what it
    reported, its numbers)."""
    tmp = tmp_path_factory.mktemp("alone")
    return (tmp,) + first_step(tmp, "alone", helper="0")


def assert_same_numbers(got, want):
    assert got.keys() == want.keys()
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


STAGE_KERNELS = {"conv1_pool2_stage_forward", "conv1_pool_stage_backward",
                 "conv_pool2_stage_forward", "conv_tiled_pool_stage_backward",
                 "dense_forward", "dense_input_gradient"}


def test_alone_a_process_compiles_every_stage_kernel(alone):
    _, report, _ = alone
    assert STAGE_KERNELS <= set(report["top"])
    assert report["warnings"] == []


def test_the_helper_takes_a_share_and_changes_no_number(tmp_path, alone):
    report, numbers = first_step(tmp_path, "shared")
    mine = set(report["top"]) & STAGE_KERNELS
    # both processes worked: this one compiled the first kernels, the helper the last ones
    assert "conv1_pool2_stage_forward" in mine
    assert mine < STAGE_KERNELS
    assert "dense_input_gradient" not in mine
    assert report["warnings"] == []
    assert_same_numbers(numbers, alone[2])


def test_a_failing_helper_is_reported_and_the_process_compiles_its_share(tmp_path, alone):
    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/sh\necho 'no such interpreter here' >&2\nexit 3\n")
    broken.chmod(0o755)
    report, numbers = first_step(tmp_path, "broken", interpreter=str(broken))
    assert STAGE_KERNELS <= set(report["top"])
    assert len(report["warnings"]) == 1
    assert "exit status 3 (no such interpreter here)" in report["warnings"][0]
    assert "compiles them instead" in report["warnings"][0]
    assert_same_numbers(numbers, alone[2])


def test_a_helper_that_cannot_start_is_reported(tmp_path, alone):
    report, numbers = first_step(tmp_path, "missing", interpreter=str(tmp_path / "none"))
    assert len(report["warnings"]) == 1 and "could not start" in report["warnings"][0]
    assert_same_numbers(numbers, alone[2])


def test_with_a_warm_cache_nothing_compiles_and_no_helper_starts(alone):
    report, numbers = first_step(alone[0], "warm", cache="alone")
    assert report["top"] == [] and report["warnings"] == []
    assert_same_numbers(numbers, alone[2])


class FakeHelper:
    """What _ShareCompiles asks of compile_helper.Helper, with the claims it was given."""

    def __init__(self, theirs=()):
        self.theirs, self.asked, self.started, self.finished = set(theirs), [], 0, False

    def start(self):
        self.started += 1

    def claim(self, key):
        self.asked.append(key)
        return key not in self.theirs


class FakeDispatcher:
    class py_func:
        __module__, __qualname__ = "m", "kernel"


def compile_event(status, args=("int64",)):
    return event.Event("numba:compile", status,
                       data={"dispatcher": FakeDispatcher, "args": args})


def test_only_kernels_called_from_python_are_claimed(monkeypatch):
    monkeypatch.setattr(compile_ahead, "call_key", lambda d, args: args)
    helper = FakeHelper(theirs={("theirs",)})
    share = _ShareCompiles(helper)
    share.notify(compile_event(event.EventStatus.START, ("mine",)))
    share.notify(compile_event(event.EventStatus.START, ("theirs",)))   # nested: compiled
    share.notify(compile_event(event.EventStatus.END, ("theirs",)))
    share.notify(compile_event(event.EventStatus.END, ("mine",)))
    assert helper.asked == [("mine",)] and helper.started == 1
    with pytest.raises(CompiledByHelper):
        share.notify(compile_event(event.EventStatus.START, ("theirs",)))
    # after the helper ended, nothing is claimed: the process compiles whatever is left
    helper.finished = True
    share.notify(compile_event(event.EventStatus.START, ("theirs",)))
    assert helper.asked == [("mine",), ("theirs",)]


def test_a_compilation_that_began_before_the_listener_ends_quietly(monkeypatch):
    # a thread of the chunk pool may be compiling when another thread installs the
    # listener: its end arrives without a start, and must neither raise (the thread would
    # die) nor leave the next compilation looking nested
    monkeypatch.setattr(compile_ahead, "call_key", lambda d, args: args)
    helper = FakeHelper()
    share = _ShareCompiles(helper)
    share.notify(compile_event(event.EventStatus.END, ("before",)))
    share.notify(compile_event(event.EventStatus.START, ("next",)))
    assert helper.asked == [("next",)]


def test_one_core_or_the_switch_means_no_helper(monkeypatch):
    import cnnlab as cl
    from cnnlab.models import lenet5
    started = []
    monkeypatch.setattr(compile_ahead.Helper, "start", lambda self: started.append(self))
    monkeypatch.setattr(compile_ahead, "_done", set())
    net = cl.Network(lenet5(), seed=0, backend="fast")
    monkeypatch.setenv("CNNLAB_COMPILE_HELPER", "0")
    compile_ahead.compile_stages(net._steps(net._body()))
    assert len(compile_ahead._done) == 3 and started == []
    compile_ahead.forget()
    assert compile_ahead._done == set()
