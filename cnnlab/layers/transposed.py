"""2-D transposed convolution: every input pixel paints a weighted copy of each filter.

    y_full[n, i·sh + u, j·sw + v, f] += x[n, i, j, c] · w[u, v, f, c],   y_full += b[f]

then ``cropping`` (top, bottom, left, right) rows and columns are cut off the full output of
size ((H - 1)·sh + FH) × ((W - 1)·sw + FW). Weights are FH×FW×F×C (filters before channels,
the reference documents' layout for this layer), bias (F,). It is the transpose (the input
gradient) of a stride-s convolution, so it upsamples: H × W -> about H·sh × W·sw.

Output size per axis (``cnnlab.arithmetic.transposed_conv_output_size``):

    (H - 1)·sh + FH - top - bottom

"same" cropping makes the output exactly H·sh: it crops FH - sh per axis, split floor/ceil
with the extra row (column) at the bottom (right); it needs FH >= sh.

Backward: put dy into a zero array of the full size (the cropped cells had no effect on the
loss) and gather with the kernel.

Decisions where the reference documents are silent:

- initializers use fan-in FH·FW·F and fan-out FH·FW·C: each *input* pixel feeds FH·FW·F
  weights, as in MATLAB's transposed layer (Glorot is symmetric in the two; only "he"
  depends on the choice);
- ``spatial()`` returns None: receptive fields are defined for layers that shrink or keep the
  grid; through an upsampling layer the analysis reports them as not tracked.
"""
from __future__ import annotations

import numpy as np

from .. import arithmetic as ar
from .learnable import FilterBank, brackets, shape_error


class TransposedConvolution2D(FilterBank):
    """A 2-D transposed convolutional layer (see the module docstring).

    Parameters
    ----------
    filter_size : int or (h, w)
    num_filters : int, the number of output channels F
    stride : int or (h, w), the upsampling factor
    cropping : int, (a, b), (top, bottom, left, right), or "same" (output = input·stride)
    num_channels : "auto" or the expected number of input channels C
    weights, bias : optional initial arrays FH×FW×F×C and (F,) (or 1×1×F)
    weights_initializer, bias_initializer, learn-rate and L2 factors : as Convolution2D
    """

    kind = "transposed-conv"
    type_name = "Transposed Convolution"

    def __init__(self, filter_size, num_filters, *, stride=1, cropping=0, num_channels="auto",
                 weights=None, bias=None, weights_initializer="glorot",
                 bias_initializer="zeros", weight_learn_rate_factor=1, bias_learn_rate_factor=1,
                 weight_l2_factor=1, bias_l2_factor=0, name=""):
        super().__init__(name=name)
        label = self.label
        self._set_filter_bank(filter_size, num_filters, stride, num_channels)
        # "same" or (top, bottom, left, right), read as padding is (arithmetic.padding)
        self._cropping_option = ar.padding.parse_sides(cropping, who=label, name="cropping")
        if self._cropping_option == "same":      # refuse a filter smaller than the stride now
            ar.padding.same_cropping_sides(self._filter_size, self._stride, who=label)
        self._set_learnable(weights, bias, (weights_initializer, bias_initializer),
                            (weight_learn_rate_factor, bias_learn_rate_factor),
                            (weight_l2_factor, bias_l2_factor))
        w0 = self._initial_weights
        if w0 is not None and (w0.ndim != 4 or w0.shape[:3] != self._filter_size +
                               (self._num_filters,)):
            fh, fw = self._filter_size
            raise shape_error(label, "weights", w0.shape,
                              f"expected {fh}x{fw}x{self._num_filters}xC (filter height x "
                              "width x filters x input channels)")
        self._crops = None

    # ---- read-only hyperparameters -------------------------------------------------------

    @property
    def cropping(self):
        """(top, bottom, left, right) once built; before that "same" or the given 4-tuple."""
        return self._crops if self._crops is not None else self._cropping_option

    def full_output_size(self):
        """((H - 1)·sh + FH, (W - 1)·sw + FW): the output before cropping."""
        self._require_built()
        h, w, _ = self.input_shape
        (fh, fw), (sh, sw) = self._filter_size, self._stride
        return (ar.transposed_conv_output_size(h, fh, stride=sh).value,
                ar.transposed_conv_output_size(w, fw, stride=sw).value)

    # ---- building ------------------------------------------------------------------------
    def _build(self, input_shape, rng):
        h, w, c = input_shape
        (fh, fw), (sh, sw), f = self._filter_size, self._stride, self._num_filters
        self._check_channels(input_shape)
        if self._cropping_option == "same":
            # crop FH - sh per axis (so the output is H·sh), extra row/column bottom/right
            t, b, l, r = ar.padding.same_cropping_sides((fh, fw), (sh, sw), who=self.label)
        else:
            t, b, l, r = self._cropping_option
        full_h = ar.transposed_conv_output_size(h, fh, stride=sh).value   # (H - 1)·sh + FH
        full_w = ar.transposed_conv_output_size(w, fw, stride=sw).value
        if t + b >= full_h or l + r >= full_w:
            raise self.error(
                "cropping", self._cropping_option,
                f"the uncropped output is {full_h}x{full_w} (({h} - 1)·{sh} + {fh} by "
                f"({w} - 1)·{sw} + {fw}); cropping {t} + {b} rows and {l} + {r} columns "
                "leaves nothing")
        try:
            self._arith = {
                "output_height": ar.transposed_conv_output_size(h, fh, stride=sh,
                                                                cropping=(t, b)),
                "output_width": ar.transposed_conv_output_size(w, fw, stride=sw,
                                                               cropping=(l, r)),
                "parameters": ar.transposed_conv_parameters((fh, fw), c, f),
            }
        except ValueError as e:
            raise self.error("cropping", self._cropping_option, str(e)) from None
        self._crops, self._num_channels = (t, b, l, r), c
        # fan-in FH·FW·F: each input pixel feeds FH·FW·F weights (see the module docstring)
        weights = self._weights_from(rng, (fh, fw, f, c), num_in=fh * fw * f,
                                     num_out=fh * fw * c,
                                     expected=f"{fh}x{fw}x{f}x{c} (filter height x width x "
                                     "filters x input channels)")
        bias = self._bias_from(rng, f, num_in=fh * fw * f, num_out=fh * fw * c)
        self.params = {"weights": weights, "bias": bias}
        return (self._arith["output_height"].value, self._arith["output_width"].value, f)

    # ---- computing -----------------------------------------------------------------------
    def _forward(self, x, *, training=False, rng=None):
        y_full = self.kernels.conv2d_transpose_forward(x, self.params["weights"],
                                                       self.params["bias"], self._stride)
        t, b, l, r = self._crops
        self._cache = x           # backward needs the input (for dw)
        return y_full[:, t:y_full.shape[1] - b, l:y_full.shape[2] - r, :]

    def _backward(self, dy):
        x = self._need_cache()
        t, _, l, _ = self._crops
        oh, ow, f = self.output_shape
        full_h, full_w = self.full_output_size()
        # cropped cells never reached the loss: their gradient is zero
        dy_full = np.zeros((dy.shape[0], full_h, full_w, f), dtype=dy.dtype)
        dy_full[:, t:t + oh, l:l + ow, :] = dy
        dx, dw, db = self.kernels.conv2d_transpose_backward(x, self.params["weights"], dy_full,
                                                            self._stride)
        self.grads = {"weights": dw.astype(self.params["weights"].dtype, copy=False),
                      "bias": db.astype(self.params["bias"].dtype, copy=False)}
        return dx

    # ---- description ---------------------------------------------------------------------
    def describe(self):
        fh, fw = self._filter_size
        size = f"{fh}x{fw}x{self._num_channels}" if self.built else f"{fh}x{fw}"
        crop = self.cropping
        crop_text = "'same'" if crop == "same" else brackets(crop)
        return (f"{self._num_filters} {size} transposed convolutions with stride "
                f"{brackets(self._stride)} and cropping {crop_text}")

    def config(self):
        crop = self._cropping_option
        return {"filter_size": list(self._filter_size), "num_filters": self._num_filters,
                "stride": list(self._stride),
                "cropping": crop if crop == "same" else list(crop),
                "num_channels": self._num_channels_option,
                **self._learnable_config(), "name": self.name}

    def multiply_adds(self):
        """Per image: every input value times every weight of its channel, H·W·C·FH·FW·F
        (the cropped border is computed too)."""
        self._require_built()
        h, w, c = self.input_shape
        return ar.transposed_conv_multiply_adds(h, w, self._filter_size, c,
                                                self._num_filters).value

    def spatial(self):
        """None: receptive fields are not tracked through an upsampling layer."""
        return None
