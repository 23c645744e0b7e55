"""What every fused stage shares: it stands in a Network for a run of layers.

A stage (``stages.ConvStage``, ``conv_norm_stage.ConvNormStage``, ``norm_stage.NormStage``,
``dense_stage.DenseStage``) behaves like one layer to the Network — forward, backward,
backward_parameters, release, held_arrays, params, output_shape — while its layers keep
their parameters, gradients and state. It keeps what its backward pass needs in ``_cache``
(never copied with a network). If the layers ran their own forward after the stage's (a
trace runs layers one at a time), they hold caches again and the backward pass is theirs.
"""
from __future__ import annotations

import numpy as np

from .pool_threads import batch_chunks, run_works


def layers_ran_alone(layers):
    """Whether a stage's layers ran their own forward after the stage's (which releases
    them), e.g. in ``net.trace``: they hold caches again, and the last forward is theirs."""
    return any(layer.held_arrays() for layer in layers)


def backward_layer_by_layer(layers, dy, input_gradient):
    """The layers' own backward passes, last to first (what the Network would run)."""
    for layer in reversed(layers[1:]):
        dy = layer.backward(dy)
    if input_gradient:
        return layers[0].backward(dy)
    layers[0].backward_parameters(dy)
    return None


class Stage:
    """A run of layers computed as one multi-threaded step (see the module). Subclasses
    compute ``forward`` and ``_backward_cached(dy, input_gradient)``, and say what they hold
    (``held_arrays``)."""

    def __init__(self, layers):
        self.layers = list(layers)
        self._cache = None

    def __getstate__(self):
        # a copied network (copy.deepcopy, astype) starts with no cache, like its layers
        return dict(self.__dict__, _cache=None)

    def __repr__(self):
        return f"<{type(self).__name__} {' + '.join(layer.name for layer in self.layers)}>"

    @property
    def label(self):
        return "fused stage " + " + ".join(layer.label for layer in self.layers)

    def kernel_kind(self, input_gradient):
        """What decides which compiled kernels this stage's passes call (a training pass,
        backward with or without the input gradient): two stages of one kind need the same
        ones (``compile_ahead.py``). Here: the class and the dtype, for the stages whose
        kernels pick their way at run time; ConvStage and DenseStage say more."""
        return type(self).__name__, str(self.layers[0].dtype)

    @property
    def params(self):
        """The first layer's parameters (the Network asks whether a step has any)."""
        return self.layers[0].params

    @property
    def output_shape(self):
        return self.layers[-1].output_shape

    def release(self):
        self._cache = None
        for layer in self.layers:
            layer.release()

    def backward(self, dy):
        return self._backward(dy, True)

    def backward_parameters(self, dy):
        self._backward(dy, False)

    def _backward(self, dy, input_gradient):
        if layers_ran_alone(self.layers):
            return backward_layer_by_layer(self.layers, dy, input_gradient)
        if self._cache is None:
            raise RuntimeError(f"{self.label}: backward called before forward (or after a "
                               "Network.forward/predict in prediction mode, which keeps no "
                               "caches: use forward(x, training=True) or keep_caches=True)")
        return self._backward_cached(dy, input_gradient)

    def run_alone(self, x):
        """The forward pass of a stage that is not in a chain: its ``begin_forward`` and its
        work, in one dispatch of the pool."""
        y, work, _ = self.begin_forward(x)
        run_works(batch_chunks(len(y)), [work])
        return y

    def run_backward_alone(self, n, dy, input_gradient):
        """Likewise for the backward pass of a batch of n images (``begin_backward``)."""
        chunks = batch_chunks(n)
        work, end, _ = self.begin_backward(dy, input_gradient, len(chunks[1]))
        run_works(chunks, [work])
        return end()

    def check_gradient(self, dy, shape):
        """Refuse a gradient that is not the shape of the last forward call's output."""
        if not isinstance(dy, np.ndarray) or dy.shape != tuple(shape):
            raise ValueError(f"{self.label}: gradient has shape {getattr(dy, 'shape', dy)}; "
                             f"expected {' x '.join(map(str, shape))} (the output of the "
                             "last forward call)")
