"""The one PyTorch module cnnlab adds: its image input's normalization (imports torch)."""
from __future__ import annotations

import torch
from torch import nn


class ImageNormalization(nn.Module):
    """cnnlab's image input layer in PyTorch: y = (x - shift) / scale, on N×C×H×W tensors.

    ``shift`` and ``scale`` are 1×C×1×1 (per channel), 1×C×H×W (per element) or 1×1×1×1
    buffers; ``normalization`` names the cnnlab normalization and ``statistics`` holds the
    statistics it came from (mean, std, min, max as buffers), so ``cnnlab.from_torch`` gives
    the same image input layer back.
    """

    def __init__(self, shift, scale, *, normalization="zscore", statistics=None):
        super().__init__()
        self.normalization = normalization
        self.register_buffer("shift", torch.as_tensor(shift))
        self.register_buffer("scale", torch.as_tensor(scale))
        self.statistic_names = tuple(statistics or ())
        for key, value in (statistics or {}).items():
            self.register_buffer(key, torch.as_tensor(value))

    def forward(self, x):
        return (x - self.shift) / self.scale

    def extra_repr(self):
        return f"normalization={self.normalization!r}, shift and scale of shape " \
               f"{tuple(self.shift.shape)}"
