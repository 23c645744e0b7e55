"""Fused stages: a run of layers the fast backend computes as one pass per image.

A Network with ``fused = True`` (fast backend) hands its layers to :func:`plan`, which
replaces every run

    Convolution2D (groups = 1) [ReLU] [MaxPooling2D without padding, window ≤ 127 cells]

by one :class:`ConvStage`, every Convolution2D BatchNormalization [ReLU] [MaxPooling2D] by
one ``ConvNormStage`` (``conv_norm_stage.py``), every other BatchNormalization [ReLU]
[MaxPooling2D] by one ``NormStage`` (``norm_stage.py``) and every FullyConnected [ReLU] by
one ``DenseStage`` (``dense_stage.py``); every other layer, and every configuration a stage
does not cover, keeps running layer by layer. A stage (``stage_base.py``) behaves like one
layer to the Network (forward, backward, backward_parameters, release, params): it checks
its input as its first layer would, fills its layers' ``grads`` exactly as they do, and
returns the input gradient the layers would have returned. The Network then joins
consecutive conv and fully connected stages that can follow each other into chains
(``stage_chain.py``): one dispatch of the thread pool per pass for all of them, each chunk
of images going through every stage of the chain on one thread. What happens per image is in
``stage_kernels.py`` (one input channel: ``stage_planar.py``); the matrix products are BLAS
sgemm/dgemm called from inside the Numba workers (``blas.py``); how images are spread over
threads is in ``pool_threads.py``.

Why the products run inside the workers: the other design, Python chunk workers calling
nogil Numba loops for im2col and the epilogue and NumPy's matmul (which releases the GIL)
for the product, was measured at 5.4 ms against 2.0 ms on one thread, and 3.2 against 2.0
ms on two, for LeNet-5's two convolution stages forward and backward on 64 images (a
shared machine, load 2.4, whose second core was mostly taken): per-chunk column matrices
leave the cache, and each product is one more Python call.

The layers of a stage hold no caches of their own while the stage is used (their
``release`` is called at each stage forward): a stage keeps the padded input, its output and
the pooling winners until its backward pass. The reference backend, the trace (which runs
layers one at a time) and every layer's own forward/backward are unchanged.
"""
from __future__ import annotations

import numpy as np

from ...layers.activation import ReLU
from ...layers.conv import Convolution2D
from ...layers.dense import FullyConnected
from ...layers.norm import BatchNormalization
from ...layers.pool import MaxPooling2D
from . import stage_kernels as sk
from . import stage_planar as sp
from .conv_operands import EMPTY_ARG, finish, gradient_buffers, operands
from .conv_norm_stage import ConvNormStage
from .dense_stage import DenseStage
from .norm_stage import NormStage
from .stage_base import Stage
from .stage_gradients import tiles_exactly



def _tail(layers, end):
    """The [ReLU] [MaxPooling2D] a stage can take on after layers[end - 1]: (end, relu, pool).
    Pooling is taken when it has no padding and its window fits an int8 winner index."""
    relu = pool = None
    if end < len(layers) and type(layers[end]) is ReLU:
        relu, end = layers[end], end + 1
    if end < len(layers) and type(layers[end]) is MaxPooling2D:
        ph, pw = layers[end].pool_size
        if not any(layers[end].padding) and ph * pw <= 127:
            pool, end = layers[end], end + 1
    return end, relu, pool


def plan(layers):
    """The layers as a list of steps: stage objects and the other layers.

    Convolution2D (groups = 1, with its bias) BatchNormalization [ReLU] [MaxPooling2D]
    -> ConvNormStage; Convolution2D (groups = 1, with its bias) [ReLU] [MaxPooling2D]
    -> ConvStage; BatchNormalization [ReLU] [MaxPooling2D] -> NormStage;
    FullyConnected [ReLU] -> DenseStage (``dense_stage.py``).
    A convolution without bias (``has_bias=False``) runs on its own kernels.
    """
    steps, i = [], 0
    while i < len(layers):
        kind = type(layers[i])
        if kind is Convolution2D and layers[i].groups == 1 and layers[i].has_bias:
            if i + 1 < len(layers) and type(layers[i + 1]) is BatchNormalization:
                end, relu, pool = _tail(layers, i + 2)
                steps.append(ConvNormStage(layers[i:end], relu is not None, pool))
            else:
                end, relu, pool = _tail(layers, i + 1)
                steps.append(ConvStage(layers[i:end], relu is not None, pool))
            i = end
        elif kind is BatchNormalization:
            end, relu, pool = _tail(layers, i + 1)
            steps.append(NormStage(layers[i:end], relu is not None, pool))
            i = end
        elif kind is FullyConnected:
            end = i + 2 if i + 1 < len(layers) and type(layers[i + 1]) is ReLU else i + 1
            steps.append(DenseStage(layers[i:end], end == i + 2))
            i = end
        else:
            steps.append(layers[i])
            i += 1
    return steps


def regroup(steps, layers):
    """``layers`` (a leading part of a network's body, in order) with each run that a stage of
    ``steps`` covers replaced by that stage; a run cut short stays layer by layer. A chain
    of stages (``stage_chain.py``) cut short gives way to the stages of it that fit."""
    starts = {}
    for step in steps:
        for stage in [step] + list(getattr(step, "stages", [])):
            if isinstance(stage, Stage):
                starts.setdefault(id(stage.layers[0]), []).append(stage)
    out, i = [], 0
    while i < len(layers):
        for stage in starts.get(id(layers[i]), []):
            if list(layers[i:i + len(stage.layers)]) == stage.layers:
                out.append(stage)
                i += len(stage.layers)
                break
        else:
            out.append(layers[i])
            i += 1
    return out


class ConvStage(Stage):
    """Convolution (+ ReLU) (+ max pooling) as one fused, multi-threaded step."""

    def __init__(self, layers, relu, pool):
        super().__init__(layers)
        self.conv = self.layers[0]
        self.relu, self.pool = relu, pool
        self._geo = None

    def _geometry(self):
        """The sizes the workers take (see stage_kernels.py), worked out once: a stage is
        planned from built layers, whose sizes never change."""
        if self._geo is None:
            self._geo = self._work_out_geometry()
        return self._geo

    def _work_out_geometry(self):
        conv = self.conv
        fh, fw = conv.filter_size
        (sh, sw), (dh, dw) = conv.stride, conv.dilation
        oh, ow, _ = conv.output_shape
        if self.pool is None:
            pool = (0, 0, 1, 1, oh, ow)
        else:
            (ph, pw), (psh, psw) = self.pool.pool_size, self.pool.stride
            poh, pow_, _ = self.pool.output_shape
            pool = (ph, pw, psh, psw, poh, pow_)
        return (fh, fw, sh, sw, dh, dw, oh, ow, int(self.relu)) + pool

    def _workers(self, planar):
        """(forward, backward) Numba workers for this stage: the one-input-channel ones
        (``planar``, stage_planar.py) or the channels-last ones, for its pooling — none, the
        2×2 window at stride 2, any other. Each kind has its own worker so that a network
        compiles only the kinds it uses. Backward through pooling has two ways for
        channels last (``stage_gradients.tiles_exactly``)."""
        if self.pool is None:
            return _FORWARD[planar, None], _BACKWARD[planar, None]
        (ph, pw), (psh, psw) = self.pool.pool_size, self.pool.stride
        kind = "2x2" if (ph, pw, psh, psw) == (2, 2, 2, 2) else "any"
        oh, ow, nf = self.conv.output_shape
        back = "tiled" if not planar and tiles_exactly(oh, ow, nf, ph, pw, psh, psw) \
            else "scattered"
        return _FORWARD[planar, kind], _BACKWARD[planar, back]

    def kernel_kind(self, input_gradient):
        """The workers themselves (see Stage.kernel_kind): forward's, and backward's for this
        input gradient (a one-channel stage asked for one runs the channels-last worker)."""
        planar = self.conv.input_shape[-1] == 1
        return (str(self.conv.dtype), self._workers(planar)[0],
                self._workers(planar and not input_gradient)[1])

    # ---- forward ----------------------------------------------------------------------
    def forward(self, x, *, training=False, rng=None):
        return self.run_alone(x)

    def begin_forward(self, x):
        """Everything of a forward pass but the work on the images: checks, operands, the
        output array (not yet written) and the cache. Returns (y, work, read): ``work(i, lo,
        hi)`` computes images lo..hi-1 into y; ``read`` is the array the work reads (x
        itself when the convolution has no padding: ``stage_chain.py`` relies on it)."""
        conv = self.conv
        conv.check_input(x)
        for layer in self.layers:
            layer.release()
        xp, wmat, b = operands(self, conv, x)
        n = len(xp)
        geo = self._geometry()
        y = np.empty((n,) + tuple(self.output_shape), dtype=xp.dtype)
        arg = EMPTY_ARG if self.pool is None else np.empty(y.shape, dtype=np.int8)
        kernel = self._workers(xp.shape[3] == 1)[0]
        self._cache = (xp, wmat, y, arg)
        return y, (lambda i, lo, hi: kernel(xp, wmat, b, lo, hi, geo, y, arg)), xp

    def held_arrays(self):
        """The padded input, the output and the winners (not the weights matrix, a view of
        the parameters, which held_bytes leaves out)."""
        if self._cache is None:
            return []
        xp, _, y, arg = self._cache
        return [xp, y] + ([] if arg is EMPTY_ARG else [arg])

    # ---- backward ------------------------------------------------------------------------
    def _backward_cached(self, dy, input_gradient):
        return self.run_backward_alone(len(self._cache[0]), dy, input_gradient)

    def begin_backward(self, dy, input_gradient, chunks):
        """A backward pass but its work, for a batch cut into ``chunks`` chunks: returns
        (work, end, dx). ``work(i, lo, hi)`` adds chunk i's parameter gradients into their
        own buffers and writes its images' input gradient into dx (with ``input_gradient``;
        padded when the convolution pads); ``end()`` sums the chunks into the layer's
        ``grads`` and returns the input gradient (None without one)."""
        xp, wmat, y, arg = self._cache
        self.check_gradient(dy, y.shape)
        dy = np.ascontiguousarray(dy, dtype=xp.dtype)
        geo = self._geometry()
        dw_parts, db_parts, dxp = gradient_buffers(xp, wmat, chunks, input_gradient)
        # the one-channel workers compute no input gradient (stage_planar.py): asked for
        # one, the stage runs the channels-last workers, which take any number of channels
        planar = xp.shape[3] == 1 and not input_gradient
        kernel = self._workers(planar)[1]
        extra = () if planar else (dxp, input_gradient)

        def work(i, lo, hi):
            kernel(xp, wmat, y, arg, dy, lo, hi, geo, dw_parts[i], db_parts[i], *extra)
        return (work, lambda: finish(self.conv, dw_parts, db_parts, dxp, input_gradient),
                dxp)

    @property
    def reads_input_as_given(self):
        """Whether the work reads the input array itself (no padding copies it first)."""
        return not any(self.conv.padding)


#: ConvStage's workers by (one input channel, pooling kind) and (one input channel, way back
#: through the pooling)
_FORWARD = {(True, None): sp.conv1_stage_forward, (True, "2x2"): sp.conv1_pool2_stage_forward,
            (True, "any"): sp.conv1_pool_stage_forward, (False, None): sk.conv_stage_forward,
            (False, "2x2"): sk.conv_pool2_stage_forward,
            (False, "any"): sk.conv_pool_stage_forward}
_BACKWARD = {(True, None): sp.conv1_stage_backward,
             (True, "scattered"): sp.conv1_pool_stage_backward,
             (False, None): sk.conv_stage_backward,
             (False, "scattered"): sk.conv_pool_stage_backward,
             (False, "tiled"): sk.conv_tiled_pool_stage_backward}

#: every kind of stage ``plan`` makes
STAGES = (ConvStage, ConvNormStage, NormStage, DenseStage)
