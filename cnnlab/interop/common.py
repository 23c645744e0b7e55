"""What every direction of the interop shares: layouts, the error, the padding and input plans.

Layouts (cnnlab is channels last, PyTorch and ONNX channels first)::

    images               cnnlab N×H×W×C            PyTorch / ONNX N×C×H×W
    convolution weights  FH×FW×(C/G)×F             F×(C/G)×FH×FW
    transposed weights   FH×FW×F×C                 C×F×FH×FW
    fully connected      K×(H·W·C), flattened      K×(C·H·W), flattened over C, then H, then W
                         over H, then W, then C

The last line is the trap: the same weights in the wrong order give a different network
(about 2e-3 off on LeNet-5), so a fully connected layer after a spatial input has its columns
permuted, ``fc_weights_to_chw`` / ``fc_weights_from_chw``.

Nothing here imports torch or onnx.
"""
from __future__ import annotations

import numpy as np


class InteropError(ValueError):
    """A layer, module or node that the other side cannot represent exactly.

    The message names the layer (or module / node) and the option that does not map: a
    network is never converted into a silently different one.
    """


# ---- layouts ---------------------------------------------------------------------------------

def images_to_chw(x: np.ndarray) -> np.ndarray:
    """N×H×W×C -> N×C×H×W (contiguous)."""
    return np.ascontiguousarray(np.moveaxis(np.asarray(x), -1, 1))


def images_from_chw(x: np.ndarray) -> np.ndarray:
    """N×C×H×W -> N×H×W×C; a 2-D N×K result (after a flatten) becomes N×1×1×K."""
    x = np.asarray(x)
    if x.ndim == 2:
        return x.reshape(len(x), 1, 1, -1)
    return np.ascontiguousarray(np.moveaxis(x, 1, -1))


def conv_weights_to_chw(w):
    """FH×FW×Cg×F -> F×Cg×FH×FW."""
    return np.ascontiguousarray(np.asarray(w).transpose(3, 2, 0, 1))


def conv_weights_from_chw(w):
    """F×Cg×FH×FW -> FH×FW×Cg×F."""
    return np.ascontiguousarray(np.asarray(w).transpose(2, 3, 1, 0))


def transposed_weights_to_chw(w):
    """cnnlab FH×FW×F×C -> PyTorch/ONNX C×F×FH×FW."""
    return np.ascontiguousarray(np.asarray(w).transpose(3, 2, 0, 1))


def transposed_weights_from_chw(w):
    """PyTorch/ONNX C×F×FH×FW -> cnnlab FH×FW×F×C."""
    return np.ascontiguousarray(np.asarray(w).transpose(2, 3, 1, 0))


def fc_weights_to_chw(w, input_shape):
    """K×(H·W·C) columns in cnnlab's H, W, C order -> K×(C·H·W) in PyTorch's order.

    Column (h, w, c) of cnnlab is column (c, h, w) of PyTorch: reshape to K×H×W×C, move C
    in front of H and W, flatten again.
    """
    h, wd, c = input_shape
    w = np.asarray(w)
    return np.ascontiguousarray(w.reshape(len(w), h, wd, c).transpose(0, 3, 1, 2)
                                .reshape(len(w), -1))


def fc_weights_from_chw(w, input_shape):
    """K×(C·H·W) PyTorch columns -> K×(H·W·C) cnnlab columns (inverse of the above)."""
    h, wd, c = input_shape
    w = np.asarray(w)
    return np.ascontiguousarray(w.reshape(len(w), c, h, wd).transpose(0, 2, 3, 1)
                                .reshape(len(w), -1))


def statistic_to_chw(arr):
    """An image input statistic H×W×C (1×1×C, 1×1×1) -> 1×C×H×W (1×C×1×1, 1×1×1×1)."""
    return np.ascontiguousarray(np.asarray(arr).transpose(2, 0, 1)[None])


def statistic_from_chw(arr):
    """1×C×H×W (or C×H×W, C×1×1, a scalar) -> H×W×C (1×1×C, 1×1×1)."""
    arr = np.asarray(arr)
    if arr.ndim == 0:
        return arr.reshape(1, 1, 1)
    if arr.ndim == 4:
        arr = arr[0]
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1, 1)
    if arr.ndim != 3:
        raise ValueError(f"a normalization statistic of shape {arr.shape}: expected 1xCxHxW")
    return np.ascontiguousarray(arr.transpose(1, 2, 0))


# ---- the image input ----------------------------------------------------------------------

#: the statistics each normalization keeps (as cnnlab.layers.input documents them)
NORMALIZATION_STATISTICS = {"zerocenter": ("mean",), "zscore": ("mean", "std"),
                            "rescale-zero-one": ("min", "max"),
                            "rescale-symmetric": ("min", "max"), "none": ()}


def input_shift_scale(layer):
    """(shift, scale) with the image input's output = (x - shift) / scale, H×W×C-shaped
    (1×1×C, 1×1×1) arrays in the layer's dtype; None when nothing is subtracted or divided
    (normalization "none", or statistics not set yet).

    The same arithmetic as ImageInput, in the same dtype, so the two agree to the last bit:
    zerocenter: x - mean; zscore: (x - mean)/std; rescale-zero-one: (x - min)/(max - min);
    rescale-symmetric: (x - (min + max)/2) / ((max - min)/2).
    """
    s, norm = layer.state, layer.normalization
    if not layer.statistics_set or norm == "none":
        return None
    if norm == "zerocenter":
        mean = s["mean"]
        return mean, np.ones_like(mean)
    if norm == "zscore":
        mean, std = np.broadcast_arrays(s["mean"], s["std"])
        return mean.copy(), std.copy()
    lo, hi = np.broadcast_arrays(s["min"], s["max"])
    if norm == "rescale-zero-one":
        return lo.copy(), hi - lo
    return (lo + hi) / 2, (hi - lo) / 2


# ---- padding -------------------------------------------------------------------------------

#: cnnlab padding value -> PyTorch Conv2d padding_mode / pad module / ONNX Pad mode
TORCH_PADDING_MODES = {"replicate": "replicate", "symmetric-exclude-edge": "reflect"}
ONNX_PADDING_MODES = {"replicate": "edge", "symmetric-exclude-edge": "reflect"}


def check_padding_maps(layer, pads, value, input_hw):
    """Refuse a padding value with no PyTorch or ONNX operation, naming layer and option.

    - "symmetric-include-edge" (numpy's "symmetric": the edge row is repeated) has no
      PyTorch pad module and no ONNX Pad mode;
    - "symmetric-exclude-edge" is PyTorch's and ONNX's "reflect", which reflects once only:
      each side's padding must be smaller than the input along that axis.
    """
    if value == "symmetric-include-edge":
        raise InteropError(f"{layer.label}: padding_value = 'symmetric-include-edge' has no "
                           "PyTorch or ONNX equivalent (their 'reflect' is cnnlab's "
                           "'symmetric-exclude-edge'; no mode repeats the edge row)")
    if value == "symmetric-exclude-edge":
        t, b, l, r = pads
        h, w = input_hw
        if max(t, b) >= h or max(l, r) >= w:
            raise InteropError(
                f"{layer.label}: padding = {tuple(pads)} with padding_value "
                f"'symmetric-exclude-edge' on a {h}x{w} input: PyTorch's and ONNX's 'reflect' "
                "mirror once only, so each side's padding must be smaller than the input "
                f"({h} rows, {w} columns)")
