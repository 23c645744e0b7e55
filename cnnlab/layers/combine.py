"""Layers that join branches: Addition (element-wise sum) and DepthConcatenation (stacking
along channels). They are the only layers with several inputs, named ``in1``, ``in2``, ...
as MATLAB names them; a :class:`cnnlab.LayerGraph` connects them
(``g.connect("relu_1", "add_1/in2")``).

Addition, inputs x_1 .. x_n all H×W×C::

    y = x_1 + x_2 + ... + x_n                      (element by element)
    dL/dx_i = dL/dy                                (∂y/∂x_i = 1: every input gets it all)

This is ResNet's skip connection, y = F(x) + x: the gradient reaches x both through F and
unchanged along the identity path.

DepthConcatenation, inputs H×W×C_1 .. H×W×C_n (the same H×W)::

    y[..., c] = x_i[..., c - (C_1 + ... + C_{i-1})]   for the i-th block of channels
    dL/dx_i = dL/dy[..., C_1 + ... + C_{i-1} : C_1 + ... + C_i]

the slice of the gradient that belongs to input i (concatenation only moves numbers).

Both use plain NumPy (one addition, one copy), so the reference and fast backends compute them
with the same code. A multi-input layer's ``build``, ``forward`` and ``backward`` take and
return lists, one entry per input, in input order.
"""
from __future__ import annotations

import numpy as np

from .base import Layer, is_int


def _size(shape) -> str:
    return "x".join(map(str, shape))


class _MultiInput(Layer):
    """What Addition and DepthConcatenation share: inputs in1..in<n>, list-based calls."""

    def __init__(self, num_inputs=2, *, name=""):
        super().__init__(name=name)
        if not is_int(num_inputs) or isinstance(num_inputs, bool) or num_inputs < 2:
            raise self.error("num_inputs", num_inputs, "must be an integer >= 2 (a layer "
                             "that joins branches needs at least two of them)")
        self.num_inputs = int(num_inputs)
        self.input_shapes: list[tuple[int, int, int]] | None = None
        self.sources: list[str] = []

    @property
    def input_names(self) -> tuple[str, ...]:
        """in1, in2, ...: the names ``LayerGraph.connect`` uses for this layer's inputs."""
        return tuple(f"in{i + 1}" for i in range(self.num_inputs))

    def _describe_inputs(self, shapes) -> str:
        """'in1 (from 'bn_2') is 14x14x16, in2 (from 'relu_1') is 28x28x16'."""
        parts = []
        for i, shape in enumerate(shapes):
            src = f" (from '{self.sources[i]}')" if i < len(self.sources) else ""
            parts.append(f"in{i + 1}{src} is {_size(shape)}")
        return ", ".join(parts)

    # ---- building: a list of input sizes -------------------------------------------------
    def build(self, input_shapes, *, rng=None, dtype="float32", kernels=None, sources=None):
        """Fix the input sizes (one H×W×C per input, in order) and return the output size.
        ``sources`` (the layers feeding in1, in2, ...) only make error messages precise."""
        shapes = [tuple(int(v) for v in s) for s in input_shapes]
        self.sources = list(sources or [])
        if len(shapes) != self.num_inputs:
            raise ValueError(f"{self.label}: has {self.num_inputs} inputs but was built with "
                             f"{len(shapes)} input sizes")
        self.input_shapes = shapes
        # the first input's size, for code that reads one input size (all are equal for an
        # Addition; for a concatenation they share H×W)
        self.input_shape = shapes[0]
        self.dtype = np.dtype(dtype)
        self.kernels = kernels
        self.output_shape = self._output_shape(shapes)
        self.grads = {}
        return self.output_shape

    # ---- computing: lists in, lists out --------------------------------------------------
    def forward(self, xs, *, training: bool = False, rng=None) -> np.ndarray:
        """The output for ``xs``, one N×H×W×C batch per input (in1, in2, ...)."""
        self._require_built()
        xs = list(xs) if isinstance(xs, (list, tuple)) else [xs]
        if len(xs) != self.num_inputs:
            raise ValueError(f"{self.label}: forward got {len(xs)} arrays; it has "
                             f"{self.num_inputs} inputs ({', '.join(self.input_names)})")
        for i, (x, shape) in enumerate(zip(xs, self.input_shapes)):
            if not isinstance(x, np.ndarray) or x.ndim != 4 or x.shape[1:] != shape \
                    or x.shape[0] == 0 or x.shape[0] != xs[0].shape[0]:
                got = x.shape if isinstance(x, np.ndarray) else type(x).__name__
                raise ValueError(f"{self.label}: input in{i + 1} has shape {got}; expected "
                                 f"N x {' x '.join(map(str, shape))} with the same N >= 1 "
                                 "for every input")
        self._batch = xs[0].shape[0]
        return self._forward_many(xs)

    def backward(self, dy: np.ndarray) -> list:
        """[dL/d(in1), dL/d(in2), ...] from dL/d(output) of the last forward call."""
        self.check_gradient(dy)
        if self.__dict__.get("_batch") is None:
            raise RuntimeError(f"{self.label}: backward called before forward")
        return self._backward_many(dy)

    def backward_parameters(self, dy) -> None:
        """No parameters: nothing to fill."""

    def _output_shape(self, shapes):
        raise NotImplementedError

    def config(self):
        return {"num_inputs": self.num_inputs, "name": self.name}


class Addition(_MultiInput):
    """Adds its ``num_inputs`` inputs element by element (MATLAB's ``additionLayer``).

    Every input must have the same H×W×C; the output has it too.

    >>> import numpy as np
    >>> add = Addition(2)
    >>> add.build([(1, 2, 1), (1, 2, 1)])
    (1, 2, 1)
    >>> add.forward([np.ones((1, 1, 2, 1)), np.full((1, 1, 2, 1), 2.0)]).ravel()
    array([3., 3.])
    """
    kind, type_name = "add", "Addition"

    def _output_shape(self, shapes):
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"{self.label}: inputs must all have the same size H×W×C to be "
                             f"added element by element; {self._describe_inputs(shapes)}")
        return shapes[0]

    def _forward_many(self, xs):
        y = xs[0] + xs[1]                       # a new array: the inputs stay untouched
        for x in xs[2:]:
            y += x
        return y

    def _backward_many(self, dy):
        # ∂y/∂x_i = 1, so each input receives dL/dy; copies, so that no two branches ever
        # share one gradient array
        return [dy] + [dy.copy() for _ in range(self.num_inputs - 1)]

    def describe(self):
        return f"Element-wise addition of {self.num_inputs} inputs"


class DepthConcatenation(_MultiInput):
    """Stacks its inputs along the channels (MATLAB's ``depthConcatenationLayer``).

    Inputs H×W×C_1, ..., H×W×C_n (the same height and width) give H×W×(C_1 + ... + C_n),
    channels of in1 first.

    >>> cat = DepthConcatenation(2)
    >>> cat.build([(4, 4, 3), (4, 4, 5)])
    (4, 4, 8)
    """
    kind, type_name = "depthcat", "Depth concatenation"

    def _output_shape(self, shapes):
        if any(s[:2] != shapes[0][:2] for s in shapes):
            raise ValueError(f"{self.label}: inputs must have the same height and width to "
                             "be stacked along the channels; "
                             f"{self._describe_inputs(shapes)}")
        return (shapes[0][0], shapes[0][1], sum(s[2] for s in shapes))

    @property
    def channel_offsets(self) -> list[int]:
        """Where each input's channels start in the output: 0, C_1, C_1 + C_2, ..."""
        offsets = [0]
        for shape in self.input_shapes[:-1]:
            offsets.append(offsets[-1] + shape[2])
        return offsets

    def _forward_many(self, xs):
        return np.concatenate(xs, axis=3)

    def _backward_many(self, dy):
        # the gradient of a copy is the copied slice: input i gets its own block of channels
        return [np.ascontiguousarray(dy[..., start:start + shape[2]])
                for start, shape in zip(self.channel_offsets, self.input_shapes)]

    def describe(self):
        return f"Depth concatenation of {self.num_inputs} inputs"
