"""What the two convolution stages (``stages.ConvStage``, ``conv_norm_stage.ConvNormStage``)
hand their kernels and take back: the operands of the product, the per-chunk gradient
buffers, and the gradients in the form ``Convolution2D`` gives them.

The kernels see the padded input xp (N×Hp×Wp×C, C-contiguous), the weights as a K×F matrix
(K = FH·FW·C, the filter's (u, v, c) order, a view of the parameters), the bias (F,), and
write each chunk's dW (K×F) and db (F, float64) into its own row of a buffer that is summed
once afterwards; the input gradient is written padded, then cut to the input by
``padding.pad_backward`` (which adds the mirrored/replicated cells back onto their sources).
"""
from __future__ import annotations

import numpy as np

from ..padding import pad_backward

#: "no pooling winners" / "no input gradient": tiny arrays the kernels never index
EMPTY_ARG = np.zeros((1, 1, 1, 1), dtype=np.int8)
EMPTY_DX = {np.dtype(np.float32): np.zeros((1, 1, 1, 1), np.float32),
            np.dtype(np.float64): np.zeros((1, 1, 1, 1), np.float64)}


def operands(stage, conv, x):
    """(xp, wmat, b) for ``conv`` on the input ``x`` (already checked by the layer)."""
    xp = conv.pad_input(x) if any(conv.padding) else x
    dt = xp.dtype
    if dt not in (np.float32, np.float64):
        raise TypeError(f"{stage.label}: input dtype {dt}, expected float32 or float64")
    w = conv.params["weights"]
    return (np.ascontiguousarray(xp), np.ascontiguousarray(w.reshape(-1, w.shape[3]), dtype=dt),
            np.ascontiguousarray(conv.params["bias"], dtype=dt))


def gradient_buffers(xp, wmat, chunks, input_gradient):
    """(dw_parts, db_parts, dxp): one dW and db row per chunk, and the padded input gradient
    (zeros, for the kernels to add into) or EMPTY_DX."""
    k, nf = wmat.shape
    dxp = np.zeros(xp.shape, dtype=xp.dtype) if input_gradient else EMPTY_DX[xp.dtype]
    return (np.zeros((chunks, k, nf), dtype=xp.dtype), np.zeros((chunks, nf)), dxp)


def finish(conv, dw_parts, db_parts, dxp, input_gradient):
    """Sets ``conv.grads`` from the chunks' parts (the dtypes Convolution2D gives them:
    weights', bias' own) and returns the input gradient (None without ``input_gradient``)."""
    w, bias = conv.params["weights"], conv.params["bias"]
    dw = dw_parts[0] if len(dw_parts) == 1 else dw_parts.sum(axis=0)
    conv.grads = {"weights": dw.reshape(w.shape).astype(w.dtype, copy=False),
                  "bias": db_parts.sum(axis=0).astype(dw.dtype).astype(bias.dtype,
                                                                      copy=False)}
    if not input_gradient:
        return None
    if not any(conv.padding):
        return dxp
    return pad_backward(dxp, conv.padding, conv.padding_value, conv.input_shape[:2])
