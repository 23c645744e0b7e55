"""Max, average and global pooling: down-sampling windows with no learnable parameters."""
from __future__ import annotations

import numpy as np

from .. import arithmetic as ar
from ..kernels import padding as padding_ops
from .base import Layer, pair


class _Pooling2D(Layer):
    _pad_value = 0.0
    _word = "pooling"

    def __init__(self, pool_size, *, stride=1, padding=0, name=""):
        super().__init__(name=name)
        self._pool = pair(self.label, "pool_size", pool_size)
        self._stride = pair(self.label, "stride", stride)
        # "same" or (top, bottom, left, right): the one reading of every padding form
        self._padding_option = ar.padding.parse_sides(padding, who=self.label, name="padding")
        self._pads = None

    pool_size = property(lambda self: self._pool)
    stride = property(lambda self: self._stride)

    @property
    def padding(self):
        """(top, bottom, left, right) once built; before that what was asked for."""
        return self._pads if self._pads is not None else self._padding_option

    def _build(self, input_shape, rng):
        h, w, c = input_shape
        (ph, pw), (sh, sw) = self._pool, self._stride
        if self._padding_option == "same":
            pads = ar.padding.same_sides((h, w), (ph, pw), (sh, sw))
        else:
            pads = self._padding_option
        t, b, l, r = pads
        ar.check_window_fits(f"{self.label}: pool_size = {self._pool!r}", (h, w), (ph, pw),
                             ((t, b), (l, r)))
        try:
            self._arith = {
                "output_height": ar.pool_output_size(h, ph, stride=sh, padding=(t, b)),
                "output_width": ar.pool_output_size(w, pw, stride=sw, padding=(l, r))}
        except ValueError as e:
            raise self.error("pool_size", self._pool, str(e)) from None
        self._pads = (t, b, l, r)
        return (self._arith["output_height"].value, self._arith["output_width"].value, c)

    def pad_input(self, x):
        return padding_ops.pad(x, self._pads, self._pad_value) if any(self._pads) else x

    def _unpad(self, dxp):
        t, b, l, r = self._pads
        H, W = self.input_shape[:2]
        return dxp[:, t:t + H, l:l + W, :]

    def describe(self):
        ph, pw = self._pool
        pads = ("'same'" if self._pads is None and self._padding_option == "same"
                else "[" + " ".join(map(str, self.padding)) + "]")
        return (f"{ph}x{pw} {self._word} with stride [{self._stride[0]} {self._stride[1]}] "
                f"and padding {pads}")

    def config(self):
        pad = self._padding_option
        return {"pool_size": list(self._pool), "stride": list(self._stride),
                "padding": pad if pad == "same" else list(pad), "name": self.name}

    def arithmetic(self):
        return dict(self._arith) if self.built else {}

    def spatial(self):
        (ph, pw), (sh, sw) = self._pool, self._stride
        t, _, l, _ = self._pads
        return ((ph, sh, t), (pw, sw, l))


#: how cnnlab.arithmetic.pool_output_size notes a window that sees no input
_EMPTY_WINDOW_NOTE = "entirely in the padding"


class MaxPooling2D(_Pooling2D):
    """The maximum of each pool_size window, the window moving by stride.

    Padding is -inf, so it is never the maximum of a window that also sees input. A window
    made only of padding would output -inf (and the loss NaN): such a configuration is refused
    when the network is built, with the arithmetic's note. PyTorch refuses more padding than
    half the window; cnnlab allows every padding that leaves each window some input.
    """
    kind, type_name = "maxpool", "Max Pooling"
    _pad_value = -np.inf     # padding can never be the maximum
    _word = "max pooling"

    def _build(self, input_shape, rng):
        shape = super()._build(input_shape, rng)
        h, w, _ = input_shape
        t, b, l, r = self._pads
        for axis, size, before, after in (("height", h, t, b), ("width", w, l, r)):
            result = self._arith[f"output_{axis}"]
            note = next((text for text in result.notes if _EMPTY_WINDOW_NOTE in text), None)
            if note is not None:
                self._pads = None
                raise self.error(
                    "padding", self._padding_option,
                    f"along the {axis}, padding {before} before and {after} after the {size} "
                    f"input {'rows' if axis == 'height' else 'columns'} gives "
                    f"{result.substituted} windows, and {note}: its maximum would be -inf "
                    f"(max pooling pads with -inf) and the loss NaN. "
                    f"Use less padding (PyTorch allows at most half the pool size), or "
                    f"average pooling, which counts padding as zeros")
        return shape

    def _forward(self, x, *, training=False, rng=None):
        xp = self.pad_input(x)
        y, argmax = self.kernels.maxpool2d_forward(xp, self._pool, self._stride)
        self._cache = (xp.shape, argmax)
        return y

    @property
    def last_argmax(self):
        """Flat index (row·padded width + col) of each window's winner, last forward."""
        return None if self._cache is None else self._cache[1]

    def _backward(self, dy):
        shape, argmax = self._need_cache()
        return self._unpad(self.kernels.maxpool2d_backward(dy, argmax, shape))


class AveragePooling2D(_Pooling2D):
    """The mean of each window; padding cells count as zeros in the mean."""
    kind, type_name = "avgpool", "Average Pooling"
    _word = "average pooling"

    def _forward(self, x, *, training=False, rng=None):
        xp = self.pad_input(x)
        self._cache = xp.shape
        return self.kernels.avgpool2d_forward(xp, self._pool, self._stride)

    def _backward(self, dy):
        shape = self._need_cache()
        return self._unpad(self.kernels.avgpool2d_backward(dy, shape, self._pool,
                                                           self._stride))


class GlobalAveragePooling2D(Layer):
    """The mean over all H×W positions of each channel: output 1×1×C."""
    kind, type_name = "gapool", "Global Average Pooling"

    def _build(self, input_shape, rng):
        return (1, 1, input_shape[2])

    def _forward(self, x, *, training=False, rng=None):
        self._cache = x.shape
        return x.mean(axis=(1, 2), keepdims=True)

    def _backward(self, dy):
        n, h, w, c = self._need_cache()
        return np.broadcast_to(dy / dy.dtype.type(h * w), (n, h, w, c)).copy()

    def describe(self):
        return "Global average pooling"

    def spatial(self):
        return None


class GlobalMaxPooling2D(Layer):
    """The maximum over all H×W positions of each channel (ties: the first maximum)."""
    kind, type_name = "gmpool", "Global Max Pooling"

    def _build(self, input_shape, rng):
        return (1, 1, input_shape[2])

    def _forward(self, x, *, training=False, rng=None):
        n, h, w, c = x.shape
        flat = x.reshape(n, h * w, c)
        k = np.argmax(flat, axis=1)
        self._cache = (x.shape, k)
        return np.take_along_axis(flat, k[:, None, :], axis=1).reshape(n, 1, 1, c)

    def _backward(self, dy):
        (n, h, w, c), k = self._need_cache()
        dx = np.zeros((n, h * w, c), dtype=dy.dtype)
        np.put_along_axis(dx, k[:, None, :], dy.reshape(n, 1, c), axis=1)
        return dx.reshape(n, h, w, c)

    def describe(self):
        return "Global max pooling"

    def spatial(self):
        return None
