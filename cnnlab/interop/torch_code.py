"""``net.to_torch_code()``: the PyTorch code that builds the same network, one module per line
with the cnnlab layer it stands for beside it. It prints the plan ``to_torch`` builds from
(``torch_plan``), so the code and the converted model cannot disagree. No torch import.
"""
from __future__ import annotations

import math

import numpy as np

from .torch_plan import torch_plan

#: keyword values PyTorch uses when the keyword is left out (not printed)
_DEFAULTS = {"stride": (1, 1), "dilation": (1, 1), "groups": 1, "bias": True,
             "padding_mode": "zeros", "momentum": 0.1, "eps": 1e-5}

_NORMALIZATION_CLASS = '''

class ImageNormalization(nn.Module):
    """cnnlab's image input layer: (x - shift) / scale."""

    def __init__(self, shift, scale):
        super().__init__()
        self.register_buffer("shift", torch.as_tensor(shift))
        self.register_buffer("scale", torch.as_tensor(scale))

    def forward(self, x):
        return (x - self.shift) / self.scale
'''


def _value(v) -> str:
    """A Python literal for an argument (float('-inf') for the max-pooling pad)."""
    if isinstance(v, float) and math.isinf(v):
        return f"float('{'-' if v < 0 else ''}inf')"
    if isinstance(v, (np.floating, np.integer)):
        return repr(v.item())
    if isinstance(v, tuple):
        inner = ", ".join(_value(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    return repr(v)


def _tensor(arr) -> str:
    """A small statistic written out (6 digits), a large one as a placeholder of its shape."""
    arr = np.asarray(arr, dtype=np.float64)
    shape = ", ".join(map(str, arr.shape))
    if np.all(arr == 1):
        return f"torch.ones({shape})"
    if arr.size <= 8:
        values = ", ".join(f"{v:.6g}" for v in arr.reshape(-1))
        return f"torch.tensor([{values}]).reshape({shape})"
    return f"torch.zeros({shape})  # {arr.size} statistics: cnnlab.to_torch(net) copies them"


def _call(entry) -> str:
    if entry.cls == "ImageNormalization":
        return "ImageNormalization(shift, scale)"
    args = [_value(a) for a in entry.args]
    defaults = dict(_DEFAULTS)
    if entry.cls in ("MaxPool2d", "AvgPool2d"):      # a pool's stride defaults to its size
        defaults["stride"] = entry.args[0]
    for key, v in entry.kwargs.items():
        if key in defaults and v == defaults[key]:
            continue
        args.append(f"{key}={_value(v)}")
    return f"nn.{entry.cls}({', '.join(args)})"


def torch_code(net) -> str:
    """PyTorch code (a string) for an nn.Sequential with the architecture of ``net``."""
    from ..layers.output import Classification, Regression
    net.require_chain("to_torch_code (cnnlab.to_torch builds a layer graph's model)")
    entries = torch_plan(net)
    h, w, c = net.input_size
    lines = ["import torch", "from torch import nn"]
    if any(e.cls == "ImageNormalization" for e in entries):
        lines.append(_NORMALIZATION_CLASS.rstrip("\n"))
    lines += ["", "",
              f"# input: N x {c} x {h} x {w} (cnnlab's N x {h} x {w} x {c} images: "
              "x.permute(0, 3, 1, 2))",
              "# weights: cnnlab.to_torch(net) builds this model with the network's numbers"]
    for e in entries:
        if e.cls == "ImageNormalization":
            norm = e.layer.normalization
            lines += [f"# {e.layer.name}: '{norm}' normalization, (x - shift) / scale",
                      f"shift = {_tensor(e.arrays['shift'])}",
                      f"scale = {_tensor(e.arrays['scale'])}"]
    lines.append("model = nn.Sequential(")
    calls = [_call(e) for e in entries]
    # the notes line up, except after a call too long to wait for
    width = min(max((len(s) for s in calls), default=0), 56) + 6
    for entry, call in zip(entries, calls):
        if entry.helper:
            note = {"Flatten": "flatten (over C, H, W) for the fully connected layer",
                    "Unflatten": "back to N x K x 1 x 1"}.get(entry.cls)
            if note is None:
                note = "negative padding: the cropping" if entry.name.endswith("_crop") else \
                    "padding the next layer cannot do itself"
        else:
            note = f"{entry.layer.name}: {entry.layer.describe()}"
        lines.append(f"    {call + ',':<{width - 4}}  # {note}")
    lines.append(")")
    out = net.layers[-1]
    if isinstance(out, Classification):
        lines.append(f"# {out.name}: cross-entropy of these probabilities, "
                     "nn.NLLLoss()(torch.log(model(x)), labels)")
    elif isinstance(out, Regression):
        lines.append(f"# {out.name}: half squared error summed per image, mean over images: "
                     "0.5 * ((model(x) - t) ** 2).sum() / len(x)")
    return "\n".join(lines) + "\n"
