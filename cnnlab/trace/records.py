"""What one layer did in a traced forward pass: a ``LayerRecord`` per layer.

Every record has the layer's input and output for the traced image (H×W×C), its
hyperparameters, the parameters it used and the arithmetic behind its output size. Each layer
kind adds what explains it (see ``RECORDERS`` below): convolutions their padded input and
dilated filters, pooling its windows and winners, dropout its mask, batch norm its
statistics, softmax its exponentials. Records of convolutions and pooling derive window steps
on demand (``steps()``, see ``steps.py``).
"""
from __future__ import annotations

import numpy as np

from .. import arithmetic as ar
from ..kernels import padding as padding_ops
from ..kernels.reference.norm import lrn_window
from . import stepping
from . import steps as st
from .step_base import flat_of


class LayerRecord:
    """The record of one layer. Fields are attributes; ``fields`` lists them all.

    Always: name, type_name, kind, index, layer, input, output, input_shape, output_shape,
    hyperparameters, params, arithmetic. With ``backward=True``: output_gradient,
    input_gradient, param_gradients. Kind-specific fields are set by the ``_<kind>``
    functions below (one per layer family) and described in the README; ``str(record)``
    lists them with their shapes.
    """

    def __init__(self, layer, index, x, y, **extra):
        self.layer = layer
        self.name, self.type_name, self.kind, self.index = (layer.name, layer.type_name,
                                                             layer.kind, index)
        self.input, self.output = x, y
        self.input_shape, self.output_shape = tuple(x.shape), tuple(y.shape)
        self.hyperparameters = {k: v for k, v in layer.config().items()
                                if k not in ("weights", "bias")}
        self.params = {k: v.copy() for k, v in layer.params.items()}
        try:
            self.arithmetic = layer.arithmetic()
        except (NotImplementedError, AttributeError):
            self.arithmetic = {}
        self._extra = dict(extra)

    def __getattr__(self, name):
        extra = self.__dict__.get("_extra", {})
        if name in extra:
            return extra[name]
        raise AttributeError(f"record of {self.__dict__.get('name', '?')} "
                             f"({self.__dict__.get('type_name', '?')}) has no field {name!r}; "
                             f"it has: {', '.join(self.fields)}")

    def _set(self, **values):
        self._extra.update(values)

    @property
    def fields(self) -> list[str]:
        base = ["name", "type_name", "kind", "index", "input", "output", "input_shape",
                "output_shape", "hyperparameters", "params", "arithmetic"]
        return base + list(self._extra)

    # ---- steps (stepping.py; backward: backward_steps.py) ----------------------------------
    @property
    def num_steps(self) -> int:
        """How many forward steps: one per output element (``stepping.py`` gives the order)."""
        return stepping.num_steps(self)

    def step_at(self, k: int):
        """Forward step k, 0 <= k < num_steps, made from the record on demand."""
        return stepping.step_at(self, k)

    @property
    def num_backward_steps(self) -> int:
        """How many backward steps (trace with backward=True): one per input element."""
        return stepping.num_backward_steps(self)

    def backward_step_at(self, k: int):
        """Backward step k: the chain rule for input element k (``backward_steps.py``)."""
        return stepping.backward_step_at(self, k)

    def num_param_steps(self, name: str) -> int:
        """How many elements parameter ``name`` has (steps of its gradient)."""
        return stepping.num_param_steps(self, name)

    def param_step_at(self, name: str, k: int):
        """The gradient of element k of parameter ``name``, for the traced image."""
        return stepping.param_step_at(self, name, k)

    @property
    def nbytes(self) -> int:
        arrays = [self.input, self.output, *self.params.values()]
        arrays += [v for v in self._extra.values() if isinstance(v, np.ndarray)]
        arrays += [v for v in self._extra.get("param_gradients", {}).values()]
        return int(sum(a.nbytes for a in arrays))

    def __repr__(self):
        shape = "x".join(map(str, self.output_shape))
        return f"<LayerRecord {self.name} ({self.type_name}) -> {shape}>"

    def __str__(self):
        lines = [repr(self)]
        for k in self.fields[4:]:
            v = getattr(self, k)
            if isinstance(v, np.ndarray):
                v = f"array {'x'.join(map(str, v.shape))} {v.dtype}"
            elif isinstance(v, dict):
                v = "{" + ", ".join(v) + "}"
            lines.append(f"  {k}: {v}")
        return "\n".join(lines)


class ConvolutionRecord(LayerRecord):
    """A convolution: padded_input, padding_mask, padding_value, pads, weights, bias,
    effective_weights, stride, dilation, groups, filter_size, preactivation; window steps."""

    @property
    def num_positions(self) -> int:
        """Output positions of one filter (oh·ow): the steps of ``steps(filter)``."""
        return self.output_shape[0] * self.output_shape[1]

    def channels_of(self, f: int) -> list[int]:
        """The input channels filter ``f`` sees (all of them unless the layer is grouped)."""
        nf, cg = self.output_shape[2], self.weights.shape[2]
        self._check_index("filter", f, nf)
        return list(ar.group_channels(f, num_filters=nf, groups=self.groups,
                                      channels_per_group=cg))

    def _check_index(self, what, value, limit):
        if not isinstance(value, (int, np.integer)) or not 0 <= value < limit:
            raise ValueError(f"{self.name}: {what} = {value!r} is out of range 0..{limit - 1}")

    def step(self, row: int, col: int, filter: int = 0) -> st.WindowStep:
        """The window at output (row, col) for one filter."""
        oh, ow, nf = self.output_shape
        self._check_index("row", row, oh)
        self._check_index("col", col, ow)
        self._check_index("filter", filter, nf)
        return st.conv_step(self.padded_input, self.padding_mask, self.weights, self.bias,
                            self.stride, self.dilation, self.groups, int(row), int(col),
                            int(filter), self.output[row, col, filter],
                            flat_of(self.output_shape, row, col, filter))

    def steps(self, filter: int = 0):
        """Every window in scan order (row by row), one WindowStep each, made lazily."""
        self._check_index("filter", filter, self.output_shape[2])
        oh, ow, _ = self.output_shape
        return (self.step(i, j, filter) for i in range(oh) for j in range(ow))

    def backward_steps(self, filter: int = 0):
        """How each output gradient of ``filter`` reaches the inputs and weights (needs a
        trace made with ``backward=True``)."""
        if "output_gradient" not in self._extra:
            raise ValueError(f"{self.name}: trace with backward=True (and labels) to get "
                             "backward steps")
        self._check_index("filter", filter, self.output_shape[2])
        oh, ow, _ = self.output_shape
        return (st.conv_backward_step(self.padded_input, self.weights, self.output_gradient,
                                      self.stride, self.dilation, self.groups, i, j, filter)
                for i in range(oh) for j in range(ow))


class TransposedRecord(ConvolutionRecord):
    """A transposed convolution, read as an ordinary stride-1 convolution.

    ``upsampled_input``: the input with stride - 1 zeros inserted between neighbours, padded
    with FH - 1 (FW - 1) zeros on each side and cut by the cropping, so that output (row, col)
    is the window at (row, col) of it times the filter rotated by 180°
    (``effective_weights``, F last). ``upsampled_mask``: 0 where an input value sits, 1 for
    an inserted zero, 2 for padding.
    """


class PoolingRecord(LayerRecord):
    """Max or average pooling (and global pooling, one window per channel)."""

    @property
    def num_positions(self) -> int:
        """Output positions of one channel (oh·ow): the steps of ``steps(channel)``."""
        return self.output_shape[0] * self.output_shape[1]

    def step(self, row: int, col: int, channel: int = 0) -> st.PoolStep:
        oh, ow, c = self.output_shape
        for what, v, lim in (("row", row, oh), ("col", col, ow), ("channel", channel, c)):
            if not isinstance(v, (int, np.integer)) or not 0 <= v < lim:
                raise ValueError(f"{self.name}: {what} = {v!r} is out of range 0..{lim - 1}")
        mode = "max" if self.mode.endswith("max") else "average"
        return st.pool_step(self.padded_input, self.padding_mask, self.pool_size, self.stride,
                            mode, int(row), int(col), int(channel),
                            self.output[row, col, channel], self._extra.get("argmax"),
                            flat_of(self.output_shape, row, col, channel))

    def steps(self, channel: int = 0):
        """Every window of one channel in scan order, made lazily."""
        oh, ow, c = self.output_shape
        if not 0 <= channel < c:
            raise ValueError(f"{self.name}: channel = {channel} is out of range 0..{c - 1}")
        return (self.step(i, j, channel) for i in range(oh) for j in range(ow))


# ---- what each kind records -------------------------------------------------------------------

def _conv(layer, rec, x, y, k, ctx):
    t, b, l, r = layer.padding
    xp = padding_ops.pad(x[None], (t, b, l, r), layer.padding_value)[0]
    rec._set(padded_input=xp, padding_mask=padding_ops.padding_mask(*x.shape[:2], (t, b, l, r)),
             padding_value=layer.padding_value, pads=(t, b, l, r),
             weights=rec.params["weights"], bias=layer.bias.copy(),
             effective_weights=layer.effective_weights(), stride=layer.stride,
             dilation=layer.dilation, groups=layer.groups, filter_size=layer.filter_size,
             preactivation=y)


def _transposed(layer, rec, x, y, k, ctx):
    h, w, c = x.shape
    (sh, sw), (fh, fw) = layer.stride, layer.filter_size
    t, _, l, _ = layer.cropping                             # built: (top, bottom, left, right)
    up = np.zeros(((h - 1) * sh + 1 + 2 * (fh - 1), (w - 1) * sw + 1 + 2 * (fw - 1), c),
                  x.dtype)
    mask = np.full(up.shape[:2], 2, np.int8)
    mask[fh - 1:up.shape[0] - fh + 1, fw - 1:up.shape[1] - fw + 1] = 1
    up[fh - 1:fh - 1 + (h - 1) * sh + 1:sh, fw - 1:fw - 1 + (w - 1) * sw + 1:sw] = x
    mask[fh - 1:fh - 1 + (h - 1) * sh + 1:sh, fw - 1:fw - 1 + (w - 1) * sw + 1:sw] = 0
    oh, ow, _ = y.shape
    up, mask = up[t:t + oh + fh - 1, l:l + ow + fw - 1], mask[t:t + oh + fh - 1, l:l + ow + fw - 1]
    wt = rec.params["weights"]                              # FH×FW×F×C
    rotated = np.ascontiguousarray(wt[::-1, ::-1].transpose(0, 1, 3, 2))   # FH×FW×C×F
    rec._set(upsampled_input=up, upsampled_mask=mask, padded_input=up, padding_mask=mask == 2,
             padding_value=0, pads=(fh - 1 - t, 0, fw - 1 - l, 0), cropping=layer.cropping,
             weights=rotated, bias=rec.params["bias"], effective_weights=rotated,
             stride=(1, 1), dilation=(1, 1), groups=1, filter_size=(fh, fw),
             upsampling_stride=layer.stride, preactivation=y)


def _pool(layer, rec, x, y, k, ctx):
    t, b, l, r = layer.padding                              # built: (top, bottom, left, right)
    mode = "max" if layer.kind == "maxpool" else "average"
    xp = layer.pad_input(x[None])[0]
    fields = dict(padded_input=xp, padding_mask=padding_ops.padding_mask(*x.shape[:2],
                                                                         (t, b, l, r)),
                  pads=(t, b, l, r), pool_size=layer.pool_size, stride=layer.stride, mode=mode)
    if mode == "max":
        arg = layer.last_argmax[k]                # row·Wp + col in the padded input
        wp = xp.shape[1]
        fields["argmax"] = np.stack([arg // wp, arg % wp], axis=-1)
    rec._set(**fields)


def _global_pool(layer, rec, x, y, k, ctx):
    h, w, c = x.shape
    mode = "global-max" if layer.kind == "gmpool" else "global-average"
    fields = dict(padded_input=x, padding_mask=np.zeros((h, w), bool), pads=(0, 0, 0, 0),
                  pool_size=(h, w), stride=(h, w), mode=mode)
    if mode == "global-max":
        flat = np.argmax(x.reshape(h * w, c), axis=0)
        fields["argmax"] = np.stack([flat // w, flat % w], axis=-1).reshape(1, 1, c, 2)
    rec._set(**fields)


def _dropout(layer, rec, x, y, k, ctx):
    dropped = layer.last_mask
    if ctx["training"] and dropped is not None:
        kept = ~dropped[k]
        rec._set(mask=kept, dropped=~kept, scale=layer.scale, probability=layer.probability,
                 training=True, kept=int(kept.sum()), expected_kept=(1 - layer.probability)
                 * kept.size, note=f"training: each value dropped with probability "
                 f"{layer.probability:g}; the kept ones are multiplied by 1/(1 - p) = "
                 f"{layer.scale:g}")
    else:
        rec._set(mask=None, dropped=None, scale=layer.scale, probability=layer.probability,
                 training=bool(ctx["training"]), kept=x.size, expected_kept=float(x.size),
                 note="prediction mode: dropout is the identity (nothing dropped, no scaling)"
                 if not ctx["training"] else "probability 0: nothing is dropped")


def _batchnorm(layer, rec, x, y, k, ctx):
    rec._set(mean=np.asarray(layer.last_mean).copy(),
             variance=np.asarray(layer.last_variance).copy(),
             normalized=layer.last_normalized[k].copy(), scale_param=rec.params["scale"],
             offset=rec.params["offset"], epsilon=layer.epsilon,
             mode="batch statistics" if ctx["training"] else "running statistics")


def _lrn(layer, rec, x, y, k, ctx):
    c = x.shape[-1]
    sums = np.empty_like(x)
    for ch in range(c):
        lo, hi = lrn_window(ch, layer.window_channel_size, c)
        sums[..., ch] = (x[..., lo:hi + 1] ** 2).sum(axis=-1)
    rec._set(window_sums=sums, windows=[lrn_window(ch, layer.window_channel_size, c)
                                        for ch in range(c)],
             scale_factor=layer.k + layer.alpha * sums / layer.window_channel_size)


def _softmax(layer, rec, x, y, k, ctx):
    z = x.reshape(-1).astype(np.float64)
    e = np.exp(z - z.max())       # shifted by the largest input: same ratios, no overflow
    rec._set(exponentials=e, exp_sum=float(e.sum()), shift=float(z.max()),
             probabilities=y.reshape(-1))


def _input(layer, rec, x, y, k, ctx):
    rec._set(normalization=layer.normalization,
             statistics={n: np.array(v, copy=True) for n, v in layer.state.items()})


def _fc(layer, rec, x, y, k, ctx):
    rec._set(flattened_input=x.reshape(-1), weights=rec.params["weights"],
             bias=rec.params["bias"])


RECORDERS = {"conv": (_conv, ConvolutionRecord), "transposed-conv": (_transposed, TransposedRecord),
             "maxpool": (_pool, PoolingRecord), "avgpool": (_pool, PoolingRecord),
             "gapool": (_global_pool, PoolingRecord), "gmpool": (_global_pool, PoolingRecord),
             "dropout": (_dropout, LayerRecord), "batchnorm": (_batchnorm, LayerRecord),
             "crossnorm": (_lrn, LayerRecord), "softmax": (_softmax, LayerRecord),
             "fc": (_fc, LayerRecord), "imageinput": (_input, LayerRecord)}


def make_record(layer, index, x, y, k, ctx) -> LayerRecord:
    """The record of ``layer`` for image k of the batch it just ran on (x, y: that image)."""
    recorder, cls = RECORDERS.get(layer.kind, (None, LayerRecord))
    rec = cls(layer, index, x, y)
    rec._set(batch_size=int(ctx.get("batch_size", 1)))
    if recorder is not None:
        recorder(layer, rec, x, y, k, ctx)
    return rec
