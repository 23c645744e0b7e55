"""A convolution and the batch norm after it as one stage: Convolution2D + BatchNormalization
(+ ReLU) (+ max pooling), the block of most CNNs since 2015 (the reference documents' network
is two of them).

Run as two stages (``stages.ConvStage`` then ``norm_stage.NormStage``) the batch passes over
the convolution's output z four times more than it must: the batch statistics read z twice,
and backward writes the batch norm's input gradient for the whole batch for the convolution
to read again. This stage computes each image's statistics while its z is in cache and hands
the batch norm's input gradient to the convolution's backward image by image
(``conv_norm_kernels.py`` gives the dispatches and the arithmetic, which is the layers' own).

It behaves like its layers to the Network: the convolution's ``grads`` {"weights", "bias"},
the batch norm's {"scale", "offset"}, its trained statistics updated as
``BatchNormalization`` updates them, ``last_mean`` / ``last_variance`` / ``last_normalized``
set, the input gradient the layers would return. Prediction mode uses the trained
statistics (two dispatches, the batch statistics computed but unused).
"""
from __future__ import annotations

import numba
import numpy as np

from . import conv_norm_kernels as ck
from . import norm_stage_kernels as nk
from .conv_operands import EMPTY_ARG, finish, gradient_buffers, operands
from .norm_stage import combine_moments, dx_coefficients, inverse_std, update_statistics
from .pool_threads import chunk_bounds, chunk_pool
from .stage_base import Stage



class ConvNormStage(Stage):
    """Convolution + batch normalization (+ ReLU) (+ max pooling) as one multi-threaded step."""

    def __init__(self, layers, relu, pool):
        super().__init__(layers)
        self.conv, self.bn = self.layers[0], self.layers[1]
        self.relu, self.pool = relu, pool

    def _conv_geometry(self):
        """The convolution alone (no ReLU, no pooling), as stage_kernels' ``geo``."""
        conv = self.conv
        (fh, fw), (sh, sw), (dh, dw) = conv.filter_size, conv.stride, conv.dilation
        oh, ow, _ = conv.output_shape
        return (fh, fw, sh, sw, dh, dw, oh, ow, 0, 0, 0, 1, 1, oh, ow)

    def _norm_geometry(self):
        """(relu, ph, pw, psh, psw, poh, pow) as norm_stage_kernels' ``geo``."""
        if self.pool is None:
            return (int(self.relu), 0, 0, 1, 1, 0, 0)
        (ph, pw), (psh, psw) = self.pool.pool_size, self.pool.stride
        poh, pow_, _ = self.pool.output_shape
        return (int(self.relu), ph, pw, psh, psw, poh, pow_)

    # ---- forward -------------------------------------------------------------------------
    def forward(self, x, *, training=False, rng=None):
        conv, bn = self.conv, self.bn
        conv.check_input(x)
        for layer in self.layers:
            layer.release()
        n = len(x)
        oh, ow, nf = conv.output_shape
        m = n * oh * ow
        if training and m < 2:
            # the batch norm's own refusal (a variance needs two values), worded by the layer
            for layer in self.layers:
                x = layer.forward(x, training=True, rng=rng)
            return x
        xp, wmat, b = operands(self, conv, x)
        dt = xp.dtype
        threads = numba.get_num_threads()
        lo, hi = chunk_bounds(n, threads)
        pool = chunk_pool(threads)

        # dispatch 1: z = the convolution, and each image's statistics while z is in cache
        z = np.empty((n, oh, ow, nf), dtype=dt)
        means, m2s = np.empty((n, nf)), np.empty((n, nf))
        geo = self._conv_geometry()
        pool.run(lambda i: ck.conv_moments_forward(xp, wmat, b, lo[i], hi[i], geo, z,
                                                   EMPTY_ARG, means, m2s), len(lo))
        if training:
            mean, var = update_statistics(
                bn, *combine_moments(np.full(n, oh * ow), means, m2s), m, dt)
        else:
            mean = np.ascontiguousarray(bn.state["trained_mean"], dtype=dt)
            var = bn.state["trained_variance"].astype(dt)
        inv_std = inverse_std(bn, var, dt)

        # dispatch 2: normalize, scale and shift, ReLU, pooling
        gamma = np.ascontiguousarray(bn.params["scale"], dtype=dt)
        beta = np.ascontiguousarray(bn.params["offset"], dtype=dt)
        out = np.empty((n,) + tuple(self.output_shape), dtype=dt)
        arg = np.empty(out.shape, dtype=np.int8) if self.pool is not None else EMPTY_ARG
        bn_geo = self._norm_geometry()
        pool.run(lambda i: nk.bn_stage_forward(z, lo[i], hi[i], mean, inv_std, gamma, beta,
                                               bn_geo, out, arg), len(lo))
        bn.record_normalization(z, mean, var, inv_std)
        self._cache = (xp, wmat, z, mean, var, inv_std, training, out, arg)
        return out

    def held_arrays(self):
        """The padded input, the convolution's output, the stage's output and the winners."""
        if self._cache is None:
            return []
        xp, _, z, *_, out, arg = self._cache
        return [xp, z, out] + ([] if arg is EMPTY_ARG else [arg])

    # ---- backward ------------------------------------------------------------------------
    def _backward_cached(self, dy, input_gradient):
        xp, wmat, z, mean, var, inv_std, training, out, arg = self._cache
        self.check_gradient(dy, out.shape)
        conv, bn, dt = self.conv, self.bn, xp.dtype
        dy = np.ascontiguousarray(dy, dtype=dt)
        n, oh, ow, nf = z.shape
        threads = numba.get_num_threads()
        lo, hi = chunk_bounds(n, threads)
        pool = chunk_pool(threads)
        bn_geo = self._norm_geometry()

        # dispatch 1: dbeta = Σ dY, dgamma = Σ dY·x̂ (dY: through pooling and the ReLU mask)
        sb, sg = np.zeros((len(lo), nf)), np.zeros((len(lo), nf))
        pool.run(lambda i: nk.bn_stage_sums(dy, out, arg, z, mean, inv_std, lo[i], hi[i],
                                            bn_geo, sb[i], sg[i]), len(lo))
        dbeta, dgamma = sb.sum(axis=0).astype(dt), sg.sum(axis=0).astype(dt)
        coefs = dx_coefficients(bn, inv_std, dbeta, dgamma, n * oh * ow, training, dt)

        # dispatch 2: per image, the batch norm's input gradient, then the convolution's
        dw_parts, db_parts, dxp = gradient_buffers(xp, wmat, len(lo), input_gradient)
        geo = self._conv_geometry()
        pool.run(lambda i: ck.conv_norm_backward(
            xp, wmat, z, out, arg, dy, lo[i], hi[i], geo, bn_geo, mean, coefs, dw_parts[i],
            db_parts[i], dxp, input_gradient), len(lo))
        bn.grads = {"scale": dgamma, "offset": dbeta}
        return finish(conv, dw_parts, db_parts, dxp, input_gradient)
