"""PyTorch as an independent oracle: layout conversions and the float64 rule in one place.

cnnlab is N×H×W×C with convolution weights FH×FW×(C/groups)×F; PyTorch is N×C×H×W with
weights F×(C/groups)×FH×FW (and C×(F/groups)×FH×FW for transposed convolution).

The oracle always computes in float64: every floating array handed to torch is cast to float64
here, and a float32 cnnlab result is compared against that with float32 tolerances. An oracle
must not depend on the CPU it runs on — PyTorch 2.13's oneDNN float32 ``conv2d`` returns wrong
values on some AMD EPYC machines (tests/layers/test_conv.py keeps the case as a regression
test), while its float64 path is right everywhere.

Importing this module never skips: tests that call torch carry ``@pytest.mark.torch`` and are
skipped (or, with ``CNNLAB_REQUIRE_TORCH=1`` as in .ci/run, failed) by tests/conftest.py when
torch is missing; everything else in the same file still runs.
"""
import os

import numpy as np
import pytest

try:
    import torch
except ImportError:          # the oracle is optional locally, required in CI
    torch = None
    F = None
else:
    torch.set_num_threads(1)
    F = torch.nn.functional

REQUIRE_VARIABLE = "CNNLAB_REQUIRE_TORCH"


def require_torch():
    """Skip (locally) or fail (CI, ``CNNLAB_REQUIRE_TORCH=1``) when torch is missing."""
    if torch is not None:
        return
    message = "the PyTorch oracle is not installed (pip install -e '.[dev]' brings torch)"
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{message}; {REQUIRE_VARIABLE}=1 requires it", pytrace=False)
    pytest.skip(message)


def tensor(a, requires_grad=False):
    """numpy -> tensor, floating values as float64 (integers, e.g. class labels, unchanged)."""
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t.requires_grad_(requires_grad) if requires_grad else t


def to_torch(x, requires_grad=False):
    """N×H×W×C numpy -> N×C×H×W float64 tensor."""
    return tensor(np.moveaxis(x, -1, 1), requires_grad)


def from_torch(t):
    """N×C×H×W tensor -> N×H×W×C numpy."""
    return np.moveaxis(t.detach().numpy(), 1, -1)


def conv_weights_to_torch(w, requires_grad=False):
    """FH×FW×Cg×F -> F×Cg×FH×FW, float64."""
    return tensor(w.transpose(3, 2, 0, 1), requires_grad)


def conv_weights_from_torch(t):
    """F×Cg×FH×FW -> FH×FW×Cg×F."""
    return t.detach().numpy().transpose(2, 3, 1, 0)


def transposed_weights_to_torch(w, requires_grad=False):
    """cnnlab transposed weights FH×FW×F×C -> PyTorch C×F×FH×FW, float64."""
    return tensor(w.transpose(3, 2, 0, 1), requires_grad)


def transposed_weights_from_torch(t):
    """PyTorch C×F×FH×FW -> cnnlab FH×FW×F×C."""
    return t.detach().numpy().transpose(2, 3, 1, 0)
