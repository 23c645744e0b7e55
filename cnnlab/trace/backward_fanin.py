"""Backward steps of the fan-in layers — convolution, transposed convolution, pooling, fully
connected — and the parameter-gradient steps of every layer with parameters.

One input element x_i is read by several outputs, so its gradient is a sum over them
(``GradientStep``, terms listed):

    convolution      dL/dx[r, c, ch] = Σ dL/dy[i, j, f]·w[u, v, ch', f] over every filter f
                     that sees channel ch (ch' its index in the filter) and every tap (u, v)
                     with i·sh + u·dh = p, j·sw + v·dw = q, for each padded cell (p, q) that
                     holds x[r, c] (one, or several where a replicate/symmetric padding copies
                     an edge cell; none of a constant padding border)
    transposed conv  the same, read as the ordinary convolution of the record (the upsampled,
                     cropped input and the rotated filter): x[r, c] sits at
                     (FH − 1 + r·sh − top, FW − 1 + c·sw − left) of the upsampled input
    max pooling      Σ over the windows that hold x of dL/dy · [x is the window's maximum]
    average pooling  Σ over the windows that hold x of dL/dy · 1/(PH·PW)
    fully connected  dL/dx_i = Σ_k dL/dy_k·W[k, i]

Parameter gradients (``ParamGradientStep``, ``rec.param_step_at(name, k)`` for k into the
flattened parameter array), the traced image's share:

    convolution      dL/dw[u, v, ch', f] = Σ_{i, j} dL/dy[i, j, f]·xp[i·sh + u·dh,
                     j·sw + v·dw, ch];  dL/db[f] = Σ_{i, j} dL/dy[i, j, f]
    transposed conv  weights[a, b, f, c] is the rotated filter's tap (FH − 1 − a, FW − 1 − b)
    fully connected  dL/dW[k, i] = dL/dy_k·x_i;  dL/db_k = dL/dy_k
    batch norm       dL/dγ_c = Σ dL/dy·x̂ over channel c;  dL/dβ_c = Σ dL/dy

The recorded ``param_gradients`` sum over the whole batch: with one image (prediction-mode
traces) the step's value equals them; in training mode it is this image's share and ``output``
the batch's total.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import arithmetic as ar
from ..arithmetic.formatting import factor
from ..kernels.padding import source_index
from .backward_steps import GradientStep, gradient_step


def _holding_cells(rec, row, col):
    """The padded (or upsampled) cells (p, q) that hold input (row, col)."""
    if rec.kind == "transposed-conv":
        (sh, sw), (fh, fw) = rec.upsampling_stride, rec.filter_size
        t, l = rec.cropping[0], rec.cropping[2]
        p, q = fh - 1 + row * sh - t, fw - 1 + col * sw - l
        hp, wp = rec.padded_input.shape[:2]
        return [(p, q)] if 0 <= p < hp and 0 <= q < wp else []
    h, w, _ = rec.input_shape
    t, b, l, r = rec.pads
    rows = np.flatnonzero(source_index(h, t, b, rec.padding_value) == row)
    cols = np.flatnonzero(source_index(w, l, r, rec.padding_value) == col)
    return [(int(p), int(q)) for p in rows for q in cols]


def _filters_seeing(rec, ch):
    """[(f, index of ch among the channels filter f sees)] for every filter that sees ch."""
    fh, fw, cg, nf = rec.weights.shape
    out = []
    for f in range(nf):
        chans = list(ar.group_channels(f, num_filters=nf, groups=rec.groups,
                                       channels_per_group=cg))
        if ch in chans:
            out.append((f, chans.index(ch)))
    return out


def _tap_outputs(p, tap, step, dil, size):
    """The output index i with i·step + tap·dil = p, or None."""
    num = p - tap * dil
    if num < 0 or num % step:
        return None
    i = num // step
    return i if i < size else None


def conv_gradient(rec, row, col, ch) -> GradientStep:
    fh, fw, _, _ = rec.weights.shape
    (sh, sw), (dh, dw) = rec.stride, rec.dilation
    oh, ow, _ = rec.output_shape
    sources, labels, incoming, local = [], [], [], []
    for p, q in _holding_cells(rec, row, col):
        for f, cc in _filters_seeing(rec, ch):
            for u in range(fh):
                i = _tap_outputs(p, u, sh, dh, oh)
                if i is None:
                    continue
                for v in range(fw):
                    j = _tap_outputs(q, v, sw, dw, ow)
                    if j is None:
                        continue
                    sources.append([i, j, f])
                    labels.append(f"dL/dy({i}, {j}, {f})·w[{u}, {v}, {cc}, {f}]")
                    incoming.append(float(rec.output_gradient[i, j, f]))
                    local.append(float(rec.weights[u, v, cc, f]))
    what = "the rotated filter" if rec.kind == "transposed-conv" else "the filter"
    return gradient_step(rec, row, col, ch, f"the tap of {what} that touches x, per window",
                     sources, labels, incoming, local)


def pool_gradient(rec, row, col, ch) -> GradientStep:
    t, _, l, _ = rec.pads
    p, q = row + t, col + l
    (ph, pw), (sh, sw) = rec.pool_size, rec.stride
    oh, ow, _ = rec.output_shape
    is_max = rec.mode.endswith("max")
    sources, labels, incoming, local = [], [], [], []
    for i in range(oh):
        if not i * sh <= p < i * sh + ph:
            continue
        for j in range(ow):
            if not j * sw <= q < j * sw + pw:
                continue
            if is_max:
                winner = tuple(int(v) for v in rec.argmax[i, j, ch])
                d = 1.0 if winner == (p, q) else 0.0
            else:
                d = 1.0 / (ph * pw)
            sources.append([i, j, ch])
            labels.append(f"dL/dy({i}, {j}, {ch})")
            incoming.append(float(rec.output_gradient[i, j, ch]))
            local.append(d)
    formula = ("[x is the window's maximum]" if is_max else f"1/(PH·PW) = 1/{ph * pw}")
    return gradient_step(rec, row, col, ch, formula, sources, labels, incoming, local)


def dense_gradient(rec, row, col, ch) -> GradientStep:
    i = int(np.ravel_multi_index((row, col, ch), rec.input_shape))
    dy = rec.output_gradient.reshape(-1)
    k = range(len(dy))
    return gradient_step(rec, row, col, ch, f"W[k, {i}]", [[0, 0, n] for n in k],
                     [f"dL/dy({n})·W[{n}, {i}]" for n in k], dy, rec.weights[:, i])


FANIN = {"conv": conv_gradient, "transposed-conv": conv_gradient, "maxpool": pool_gradient,
         "avgpool": pool_gradient, "gapool": pool_gradient, "gmpool": pool_gradient,
         "fc": dense_gradient}


@dataclass(frozen=True)
class ParamGradientStep:
    """One element of a parameter gradient, for the traced image:

    name : "weights", "bias", "scale" or "offset";  index : its index in the parameter array
    flat_index : its position in the flattened parameter array (C order)
    sources : T×3 output positions of the dL/dy read;  labels : T term names
    incoming : (T,) dL/dy;  local : (T,) what the parameter multiplies (an input value, x̂,
        or 1 for a bias);  products : incoming·local;  value : Σ products (this image)
    output : the recorded gradient (the whole batch);  batch_size : N
    """
    name: str
    index: tuple
    flat_index: int
    sources: np.ndarray
    labels: tuple
    incoming: np.ndarray
    local: np.ndarray
    products: np.ndarray
    value: float
    output: float
    batch_size: int

    @property
    def reads(self) -> str:
        return f"{len(self.incoming)} incoming gradients and what {self.name} multiplies"

    def text(self, max_terms: int = 12) -> str:
        shown = GradientStep.sum_text(self, max_terms)         # the same rule-3 sum
        where = ", ".join(map(str, self.index))
        tail = "" if self.batch_size == 1 else (
            f" (this image; the batch of {self.batch_size} gives {factor(self.output)})")
        return f"dL/d{self.name}[{where}] = Σ dL/dy · ∂y/∂{self.name}: {shown}{tail}"

    def __str__(self):
        return self.text()


def _param_terms(rec, name, index):
    """(sources, labels, incoming, local) of one parameter element (module docstring)."""
    dy = rec.output_gradient
    kind = rec.kind
    if kind == "fc":
        k = index[0]
        x = rec.flattened_input
        if name == "bias":
            return [[0, 0, k]], [f"dL/dy({k})"], [dy.reshape(-1)[k]], [1.0]
        return [[0, 0, k]], [f"dL/dy({k})·x[{index[1]}]"], [dy.reshape(-1)[k]], \
            [x[index[1]]]
    if kind == "batchnorm":
        c = index[0]
        h, w, _ = rec.output_shape
        pos = [[i, j, c] for i in range(h) for j in range(w)]
        g = dy[:, :, c].reshape(-1)
        local = rec.normalized[:, :, c].reshape(-1) if name == "scale" else np.ones(h * w)
        return pos, [f"dL/dy({i}, {j}, {c})" for i, j, _ in pos], g, local
    oh, ow, _ = rec.output_shape
    if name == "bias":
        f = index[0]
        pos = [[i, j, f] for i in range(oh) for j in range(ow)]
        return pos, [f"dL/dy({i}, {j}, {f})" for i, j, _ in pos], \
            dy[:, :, f].reshape(-1), np.ones(oh * ow)
    fh, fw, cg, nf = rec.weights.shape
    if kind == "transposed-conv":                    # layer layout FH×FW×F×C
        a, b, f, c = index
        u, v, cc = fh - 1 - a, fw - 1 - b, c
    else:
        u, v, cc, f = index
    ch = list(ar.group_channels(f, num_filters=nf, groups=rec.groups,
                                channels_per_group=cg))[cc]
    (sh, sw), (dh, dw) = rec.stride, rec.dilation
    pos = [[i, j, f] for i in range(oh) for j in range(ow)]
    xs = [rec.padded_input[i * sh + u * dh, j * sw + v * dw, ch] for i, j, _ in pos]
    return pos, [f"dL/dy({i}, {j}, {f})·xp[{i * sh + u * dh}, {j * sw + v * dw}, {ch}]"
                 for i, j, _ in pos], dy[:, :, f].reshape(-1), xs


def param_step(rec, name, k) -> ParamGradientStep:
    grad = rec.param_gradients[name]
    index = tuple(int(v) for v in np.unravel_index(int(k), grad.shape))
    sources, labels, incoming, local = _param_terms(rec, name, index)
    incoming, local = np.asarray(incoming, float), np.asarray(local, float)
    products = incoming * local
    return ParamGradientStep(name=name, index=index, flat_index=int(k),
                             sources=np.asarray(sources, int).reshape(-1, 3),
                             labels=tuple(labels), incoming=incoming, local=local,
                             products=products, value=float(products.sum()),
                             output=float(grad[index]), batch_size=int(rec.batch_size))
