"""The helper process of a cold compile (``cnnlab/kernels/fast/compile_helper.py``): its
claims, what it is sent, the kernels it records without compiling them, and its ending."""
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numba
import numpy as np
import pytest

from cnnlab.kernels.fast import compile_helper
from cnnlab.kernels.fast.compile_helper import Helper, _ZeroPickler, call_key, claim


class Kernel:
    def __init__(self, module, qualname):
        self.py_func = type("f", (), {"__module__": module, "__qualname__": qualname})


def test_a_call_key_names_the_kernel_and_its_types():
    a = call_key(Kernel("m", "k"), ("float32", "int64"))
    assert a == call_key(Kernel("m", "k"), ("float32", "int64"))
    assert len({a, call_key(Kernel("m", "k"), ("float64", "int64")),
                call_key(Kernel("m", "j"), ("float32", "int64")),
                call_key(Kernel("n", "k"), ("float32", "int64"))}) == 4


def test_the_first_to_claim_a_kernel_owns_it(tmp_path):
    assert claim(tmp_path, "abc") is True
    assert claim(tmp_path, "abc") is False
    assert claim(tmp_path, "abd") is True


def test_large_arrays_travel_as_zeros_of_their_shape_dtype_and_order():
    big_c = np.arange(20000, dtype=np.float32).reshape(100, 200)
    big_f = np.asfortranarray(np.ones((300, 100)))
    small = np.arange(6, dtype=np.float32)
    strided = np.ones((400, 100))[:, ::2]                 # neither C nor F: sent as it is
    buf = io.BytesIO()
    _ZeroPickler(buf).dump({"c": big_c, "f": big_f, "small": small, "strided": strided})
    got = pickle.loads(buf.getvalue())
    assert len(buf.getvalue()) < 2 * strided.nbytes      # the two big ones cost nothing
    for key, want in (("c", big_c), ("f", big_f)):
        assert got[key].shape == want.shape and got[key].dtype == want.dtype
        assert not got[key].any()
    assert got["c"].flags.c_contiguous and got["f"].flags.f_contiguous
    np.testing.assert_array_equal(got["small"], small)
    np.testing.assert_array_equal(got["strided"], strided)


RECORD = textwrap.dedent("""
    import json, sys
    import numba
    from numba.core import event
    import cnnlab as cl
    from cnnlab import models
    from cnnlab.kernels.fast.compile_helper import record_calls
    from cnnlab.kernels.fast.dry_run import stage_jobs, unique_kinds
    from numba.core.dispatcher import Dispatcher
    numba.set_num_threads(1)
    compiled = []

    class Seen(event.Listener):
        def on_start(self, ev):
            compiled.append(ev.data["dispatcher"].py_func.__qualname__)

        def on_end(self, ev):
            pass
    event.register("numba:compile", Seen())
    original = Dispatcher._compile_for_args
    net = cl.Network(getattr(models, sys.argv[1])(), seed=0, backend="fast")
    jobs = unique_kinds(stage_jobs(net._steps(net._body())))[0]
    calls = record_calls(jobs)
    print(json.dumps({"calls": [d.py_func.__qualname__ for d, _ in calls],
                      "types": [str(t) for t in calls[0][1]], "compiled": compiled,
                      "restored": Dispatcher._compile_for_args is original}))
""")


@pytest.mark.parametrize("model, kernels", [
    ("lenet5", ["conv1_pool2_stage_forward", "conv1_pool_stage_backward",
                "conv_pool2_stage_forward", "conv_tiled_pool_stage_backward",
                "dense_forward", "dense_input_gradient"]),
    ("reference_example", ["conv_moments_forward", "bn_stage_forward", "bn_stage_sums",
                           "conv_norm_backward", "dense_forward", "dense_input_gradient"])])
def test_the_helper_records_the_kernels_a_pass_calls_without_compiling(tmp_path, model,
                                                                       kernels):
    script = tmp_path / "record.py"
    script.write_text(RECORD)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, str(script), model], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["calls"] == kernels             # in the order a pass calls them
    assert report["compiled"] == [] and report["restored"]
    # the types a real call has: the input as 4-D float32, C order
    assert report["types"][0] == "array(float32, 4d, C)"


def test_a_stopped_helper_is_no_failure(tmp_path, monkeypatch):
    sleeper = tmp_path / "slow-python"
    sleeper.write_text("#!/bin/sh\nsleep 60\n")
    sleeper.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(sleeper))
    helper = Helper(jobs=[])
    helper.start()
    assert helper.proc.poll() is None and helper.claim("k") and not helper.claim("k")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        helper.stop()
    assert helper.finished and helper.proc.returncode is not None
    assert not os.path.exists(helper.claims) and not os.path.exists(helper.job_path)
    assert helper.claim("k")                 # ended: this process compiles everything


def test_the_helper_compiles_from_the_last_kernel_until_it_meets_a_claim(tmp_path,
                                                                         monkeypatch):
    compiled = []

    class Dispatcher:
        def __init__(self, name):
            self.py_func = type("f", (), {"__module__": "m", "__qualname__": name})

        def compile(self, types):
            compiled.append(self.py_func.__qualname__)
    calls = [(Dispatcher(n), ("t",)) for n in "abcd"]
    monkeypatch.setattr(compile_helper, "record_calls", lambda jobs: calls)
    monkeypatch.setattr(numba, "set_num_threads", lambda n: None)   # this process's own
    jobs = tmp_path / "jobs.pkl"
    jobs.write_bytes(pickle.dumps([]))
    claim(tmp_path, call_key(calls[1][0], ("t",)))        # the first process is at "b"
    assert compile_helper.main(str(jobs), str(tmp_path)) == 0
    assert compiled == ["d", "c"]
