"""2-D convolution: a bank of filters slid over the (padded) input.

    y[n, i, j, f] = b[f] + Σ_{u,v,c ∈ group(f)} xp[n, i·sh + u·dh, j·sw + v·dw, c]·w[u,v,c',f]

xp is the input padded by (top, bottom, left, right) with a constant or a mirror/replicate
mode (``cnnlab.kernels.padding``); w is FH×FW×(C/G)×F, b is (F,). With G groups, filter f of
group g sees only the input channels of group g (G = C is a depthwise convolution).

Output size per axis (``cnnlab.arithmetic.conv_output_size``):

    floor((H + top + bottom - ((FH - 1)·dh + 1)) / sh) + 1

Backward: the kernel returns the gradient of the padded input, and
``padding.pad_backward`` folds it onto the input (mirrored cells add up, constants drop).
"""
from __future__ import annotations

import numpy as np

from .. import arithmetic as ar
from ..kernels import padding as padding_ops
from .base import arrays_in, is_int, pair, positive_int
from .learnable import FilterBank, brackets, shape_error


class Convolution2D(FilterBank):
    """A 2-D convolutional layer (see the module docstring for the formula).

    Parameters
    ----------
    filter_size : int or (h, w)
    num_filters : int, the number of output channels F
    stride, dilation : int or (h, w), default 1
    padding : int p, (a, b) (a rows top and bottom, b columns left and right),
        (top, bottom, left, right), or "same" (output = ceil(input / stride), computed at
        build; an odd total puts the extra row/column at the bottom/right)
    padding_value : a number, or "symmetric-include-edge", "symmetric-exclude-edge",
        "replicate"
    groups : int; C and F must both be divisible by it (groups = C: depthwise)
    num_channels : "auto" or the expected number of input channels C
    weights, bias : optional initial arrays FH×FW×(C/groups)×F and (F,) (or 1×1×F)
    has_bias : False for a convolution without bias (PyTorch's ``bias=False``, as ResNet and
        MobileNet use before batch normalization): the bias is a fixed 0, not a parameter,
        not learned and not counted
    weights_initializer, bias_initializer : see ``cnnlab.initializers`` (fan-in
        FH·FW·C/groups, fan-out FH·FW·F/groups)
    weight_learn_rate_factor, bias_learn_rate_factor, weight_l2_factor, bias_l2_factor
    """

    kind = "conv"
    type_name = "Convolution"

    def __init__(self, filter_size, num_filters, *, stride=1, dilation=1, padding=0,
                 padding_value=0, groups=1, num_channels="auto", weights=None, bias=None,
                 has_bias=True, weights_initializer="glorot", bias_initializer="zeros",
                 weight_learn_rate_factor=1, bias_learn_rate_factor=1, weight_l2_factor=1,
                 bias_l2_factor=0, name=""):
        super().__init__(name=name)
        label = self.label
        self._set_filter_bank(filter_size, num_filters, stride, num_channels)
        self._dilation = pair(label, "dilation", dilation)
        # "same" or (top, bottom, left, right): the one reading of every padding form
        self._padding_option = ar.padding.parse_sides(padding, who=label, name="padding")
        self._padding_value = padding_ops.check_padding_value(label, padding_value)
        self._groups = positive_int(label, "groups", groups)
        if self._num_filters % self._groups:
            raise self.error("groups", self._groups,
                             f"{self._groups} does not divide num_filters = {self._num_filters}"
                             " (each group needs the same number of filters)")
        if is_int(self._num_channels_option) and self._num_channels_option % self._groups:
            raise self.error("groups", self._groups,
                             f"{self._groups} does not divide num_channels = "
                             f"{self._num_channels_option} (each group needs the same number "
                             "of input channels)")
        self._set_learnable(weights, bias, (weights_initializer, bias_initializer),
                            (weight_learn_rate_factor, bias_learn_rate_factor),
                            (weight_l2_factor, bias_l2_factor), has_bias=has_bias)
        self._zero_bias = None   # has_bias=False: the fixed (F,) zeros the kernels add
        w0 = self._initial_weights
        if w0 is not None and (w0.ndim != 4 or w0.shape[:2] != self._filter_size
                               or w0.shape[3] != self._num_filters):
            fh, fw = self._filter_size
            cg = (self._num_channels_option // self._groups
                  if is_int(self._num_channels_option) else "(C/groups)")
            raise shape_error(label, "weights", w0.shape,
                              f"expected {fh}x{fw}x{cg}x{self._num_filters} (filter height "
                              "x width x channels per group x filters)")
        self._pads = None        # (top, bottom, left, right), fixed at build
        self._workspace = {}     # scratch the fast kernels share between forward and backward

    # ---- read-only hyperparameters -------------------------------------------------------
    @property
    def dilation(self): return self._dilation
    @property
    def padding_value(self): return self._padding_value
    @property
    def groups(self): return self._groups

    @property
    def bias(self) -> np.ndarray:
        """The (F,) bias added to every output: params["bias"], or the fixed zeros of a
        convolution without bias (has_bias=False)."""
        self._require_built()
        if self._has_bias:
            return self.params["bias"]
        # in the weights' dtype, which Network.astype may have changed since build
        return self._zero_bias.astype(self.params["weights"].dtype, copy=False)

    @property
    def padding(self):
        """(top, bottom, left, right) once built; before that "same" or the given 4-tuple."""
        return self._pads if self._pads is not None else self._padding_option

    @property
    def effective_filter_size(self):
        """((FH - 1)·dh + 1, (FW - 1)·dw + 1): the span of the dilated filter."""
        return ar.effective_filter_hw(self._filter_size, self._dilation)

    def effective_weights(self) -> np.ndarray:
        """The dilated filter bank: the weights with dh - 1 (dw - 1) zero rows (columns)
        inserted between neighbours, shape (FH-1)·dh+1 × (FW-1)·dw+1 × C/groups × F."""
        self._require_built()
        return ar.dilate(self.params["weights"], self._dilation)

    def pad_input(self, x: np.ndarray) -> np.ndarray:
        """The input as the filters see it: padded with this layer's padding and value."""
        self._require_built()
        return padding_ops.pad(x, self._pads, self._padding_value)

    # ---- building ------------------------------------------------------------------------
    def _build(self, input_shape, rng):
        h, w, c = input_shape
        (fh, fw), (sh, sw), (dh, dw) = self._filter_size, self._stride, self._dilation
        g, f = self._groups, self._num_filters
        self._check_channels(input_shape)
        if c % g:
            raise self.error("groups", g, f"{g} does not divide num_channels = {c} (the input "
                             f"{h}x{w}x{c}); each group needs the same number of channels")
        if self._padding_option == "same":
            # per axis the total padding that makes the output ceil(input / stride)
            pads = ar.padding.same_sides((h, w), (fh, fw), (sh, sw), (dh, dw))
        else:
            pads = self._padding_option
        t, b, l, r = (int(p) for p in pads)
        ar.check_window_fits(f"{self.label}: filter_size = {self._filter_size!r}", (h, w),
                             (fh, fw), ((t, b), (l, r)), (dh, dw))
        try:
            self._arith = {
                "output_height": ar.conv_output_size(h, fh, stride=sh, padding=(t, b),
                                                     dilation=dh),
                "output_width": ar.conv_output_size(w, fw, stride=sw, padding=(l, r),
                                                    dilation=dw),
                "parameters": ar.conv_parameters((fh, fw), c, f, groups=g,
                                                 bias=self._has_bias),
                "effective_filter_height": ar.effective_filter_size(fh, dh),
                "effective_filter_width": ar.effective_filter_size(fw, dw),
            }
        except ValueError as e:
            raise self.error("filter_size", self._filter_size, str(e)) from None
        self._pads, self._num_channels = (t, b, l, r), c
        self.params = {"weights": self._make_weights(rng, c)}
        if self._has_bias:
            self.params["bias"] = self._make_bias(rng)
        else:
            self._zero_bias = np.zeros(f, dtype=self.dtype)
        return (self._arith["output_height"].value, self._arith["output_width"].value, f)

    def _make_weights(self, rng, c):
        (fh, fw), g, f = self._filter_size, self._groups, self._num_filters
        # fan-in FH·FW·C/G: the inputs one output sums; fan-out FH·FW·F/G
        return self._weights_from(rng, (fh, fw, c // g, f), num_in=fh * fw * (c // g),
                                  num_out=fh * fw * (f // g),
                                  expected=f"{fh}x{fw}x{c // g}x{f} (filter height x width x "
                                  f"channels per group ({c}/{g}) x filters)")

    def _make_bias(self, rng):
        (fh, fw), g, c, f = self._filter_size, self._groups, self._num_channels, self._num_filters
        return self._bias_from(rng, f, num_in=fh * fw * (c // g), num_out=fh * fw * (f // g))

    # ---- computing -----------------------------------------------------------------------
    def _forward(self, x, *, training=False, rng=None):
        # no padding: the input itself is the padded input (no copy)
        xp = padding_ops.pad(x, self._pads, self._padding_value) if any(self._pads) else x
        self._workspace = {}      # the fast kernels keep their column matrices here
        y = self.kernels.conv2d_forward(xp, self.params["weights"], self.bias,
                                        self._stride, self._dilation, self._groups,
                                        workspace=self._workspace)
        self._cache = xp          # backward needs the padded input (for dw) and its size
        return y

    def release(self):
        super().release()
        self._workspace = {}

    def held_arrays(self):
        return super().held_arrays() + list(arrays_in(self._workspace))

    def _set_grads(self, dw, db):
        w = self.params["weights"]
        self.grads = {"weights": dw.astype(w.dtype, copy=False)}
        if self._has_bias:      # without bias the zeros are fixed: no gradient is kept
            self.grads["bias"] = db.astype(w.dtype, copy=False)

    def _backward_parameters(self, dy):
        xp = self._need_cache()
        w = self.params["weights"]
        _, dw, db = self.kernels.conv2d_backward(xp, w, dy, self._stride, self._dilation,
                                                 self._groups, workspace=self._workspace,
                                                 input_gradient=False)
        self._set_grads(dw, db)

    def _backward(self, dy):
        xp = self._need_cache()
        w = self.params["weights"]
        dxp, dw, db = self.kernels.conv2d_backward(xp, w, dy, self._stride, self._dilation,
                                                   self._groups, workspace=self._workspace)
        self._set_grads(dw, db)
        if not any(self._pads):
            return dxp
        return padding_ops.pad_backward(dxp, self._pads, self._padding_value,
                                        self.input_shape[:2])

    # ---- description ---------------------------------------------------------------------
    def describe(self):
        fh, fw = self._filter_size
        g, f = self._groups, self._num_filters
        size = f"{fh}x{fw}x{self._num_channels // g}" if self.built else f"{fh}x{fw}"
        filters = f"{f} {size} convolutions" if g == 1 else \
            f"{g} groups of {f // g} {size} convolutions"
        pad = self.padding
        pad_text = "'same'" if pad == "same" else brackets(pad)
        text = f"{filters} with stride {brackets(self._stride)} and padding {pad_text}"
        if self._dilation != (1, 1):
            text += f", dilation {brackets(self._dilation)}"
        v = self._padding_value
        if isinstance(v, str):
            text += f", padding value '{v}'"
        elif v != 0:
            text += f", padding value {v:g}"
        if not self._has_bias:
            text += ", no bias"
        return text

    def config(self):
        pad = self._padding_option
        return {"filter_size": list(self._filter_size), "num_filters": self._num_filters,
                "stride": list(self._stride), "dilation": list(self._dilation),
                "padding": pad if pad == "same" else list(pad),
                "padding_value": self._padding_value, "groups": self._groups,
                "num_channels": self._num_channels_option, "has_bias": self._has_bias,
                **self._learnable_config(), "name": self.name}

    def multiply_adds(self):
        """Per image: OH·OW·FH·FW·(C/groups)·F."""
        self._require_built()
        oh, ow, f = self.output_shape
        return int(ar.conv_multiply_adds(oh, ow, self._filter_size, self._num_channels, f,
                                         groups=self._groups).value)

    def spatial(self):
        """((effective FH, sh, pad top), (effective FW, sw, pad left))."""
        self._require_built()
        eh, ew = self.effective_filter_size
        return ((eh, self._stride[0], self._pads[0]), (ew, self._stride[1], self._pads[2]))
