"""PyTorch as an independent oracle: layout conversions in one place.

cnnlab is N×H×W×C with convolution weights FH×FW×(C/groups)×F; PyTorch is N×C×H×W with
weights F×(C/groups)×FH×FW (and C×(F/groups)×FH×FW for transposed convolution).
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def to_torch(x, requires_grad=False):
    """N×H×W×C numpy -> N×C×H×W tensor (float64 stays float64)."""
    t = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))
    return t.requires_grad_(requires_grad)


def from_torch(t):
    """N×C×H×W tensor -> N×H×W×C numpy."""
    return np.moveaxis(t.detach().numpy(), 1, -1)


def conv_weights_to_torch(w, requires_grad=False):
    """FH×FW×Cg×F -> F×Cg×FH×FW."""
    return torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1))).requires_grad_(
        requires_grad)


def conv_weights_from_torch(t):
    """F×Cg×FH×FW -> FH×FW×Cg×F."""
    return t.detach().numpy().transpose(2, 3, 1, 0)


def transposed_weights_to_torch(w, requires_grad=False):
    """cnnlab transposed weights FH×FW×F×C -> PyTorch C×F×FH×FW."""
    return torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1))).requires_grad_(
        requires_grad)


def transposed_weights_from_torch(t):
    """PyTorch C×F×FH×FW -> cnnlab FH×FW×F×C."""
    return t.detach().numpy().transpose(2, 3, 1, 0)
