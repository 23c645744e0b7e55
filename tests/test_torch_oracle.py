"""The PyTorch oracle's own rules: it computes in float64, and its absence skips (locally) or
fails (CNNLAB_REQUIRE_TORCH=1, as .ci/run sets) only the tests that call it."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tests.torch_oracle as oracle

ROOT = Path(__file__).resolve().parents[1]
# `import torch` fails once sys.modules holds None for it: torch is "not installed"
WITHOUT_TORCH = ("import sys; sys.modules['torch'] = None; import pytest; "
                 "sys.exit(pytest.main(sys.argv[1:]))")
# a torch-free test and a torch test from each file that used to skip or error as a whole
SELECTION = [
    "tests/layers/test_conv.py::test_convolution_arithmetic_example",
    "tests/layers/test_conv.py::"
    "test_regression_7x1_stride_1x3_dilation_2x1_same_float32_against_a_hand_loop[reference]",
    "tests/layers/test_conv.py::"
    "test_regression_7x1_stride_1x3_dilation_2x1_same_float32_against_float64_torch[reference]",
    "tests/trace/test_steps.py::test_padding_value_examples_appear_as_the_padded_input",
    "tests/test_solvers.py::test_sgdm_keeps_its_velocity_across_a_learn_rate_change",
    "tests/test_solvers.py::test_sgdm_differs_from_torch_only_after_a_learn_rate_change",
]


def run_without_torch(require):
    env = dict(os.environ, CNNLAB_REQUIRE_TORCH="1" if require else "0",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", WITHOUT_TORCH, "-q", "-rsE", *SELECTION],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    counts = dict((word, int(n)) for n, word in
                  re.findall(r"(\d+) (passed|skipped|failed|errors?)", done.stdout))
    return done, counts


def test_without_torch_only_the_tests_that_call_it_skip():
    done, counts = run_without_torch(require=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # passed: the arithmetic example, the hand loop, the steps test over the four padding
    # values of tests/examples.py, the solver by hand; skipped: the two torch comparisons
    assert counts == {"passed": 7, "skipped": 2}, done.stdout
    assert "PyTorch oracle is not installed" in done.stdout


def test_with_cnnlab_require_torch_a_missing_oracle_fails_the_run():
    done, counts = run_without_torch(require=True)
    assert done.returncode != 0
    assert counts == {"passed": 7, "errors": 2}, done.stdout
    assert "CNNLAB_REQUIRE_TORCH=1 requires it" in done.stdout


def test_require_torch_skips_or_fails(monkeypatch):
    monkeypatch.setattr(oracle, "torch", None)
    monkeypatch.delenv(oracle.REQUIRE_VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        oracle.require_torch()
    monkeypatch.setenv(oracle.REQUIRE_VARIABLE, "1")
    with pytest.raises(pytest.fail.Exception, match="CNNLAB_REQUIRE_TORCH=1"):
        oracle.require_torch()


@pytest.mark.torch
def test_the_oracle_computes_in_float64():
    x = np.ones((1, 2, 3, 4), np.float32)
    assert oracle.to_torch(x).dtype == oracle.torch.float64
    assert oracle.to_torch(x).shape == (1, 4, 2, 3)
    assert oracle.conv_weights_to_torch(x).dtype == oracle.torch.float64
    assert oracle.transposed_weights_to_torch(x).dtype == oracle.torch.float64
    assert oracle.tensor(np.float32([1.5]), True).requires_grad
    assert oracle.tensor(np.array([1, 2])).dtype == oracle.torch.int64     # labels stay ints
    np.testing.assert_array_equal(oracle.from_torch(oracle.to_torch(x)), x)
