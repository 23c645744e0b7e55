"""PyTorch parity of the activation layers (ReLU, leaky and clipped ReLU, tanh, sigmoid):
forward and input gradient, float32 against the float64 oracle and float64.
(Non-finite inputs: tests/layers/test_nonfinite.py.)"""
import pytest

import cnnlab as cl
from tests.layers.parity import check_parameterless
from tests.torch_oracle import F, torch

# each layer and the torch expression it must equal (looked up only when torch is there)
PARAMETERLESS = {
    "relu": (cl.ReLU, lambda t: F.relu(t)),
    "leaky": (lambda: cl.LeakyReLU(0.2), lambda t: F.leaky_relu(t, 0.2)),
    "clipped": (lambda: cl.ClippedReLU(1.5), lambda t: F.hardtanh(t, 0.0, 1.5)),
    "tanh": (cl.Tanh, lambda t: torch.tanh(t)),
    "sigmoid": (cl.Sigmoid, lambda t: torch.sigmoid(t)),
}


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", list(PARAMETERLESS))
def test_parameterless_layers_match_torch(which, dtype):
    make, torch_f = PARAMETERLESS[which]
    check_parameterless(make(), torch_f, dtype)
