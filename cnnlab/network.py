"""A Network: a chain of layers or a layer graph, shapes inferred, names given, weights drawn.

    net = Network([ImageInput((28, 28, 1)), Convolution2D(3, 16, padding=1), ReLU(), ...])
    net = Network(graph)        # a cnnlab.LayerGraph: branches, skip connections (graph_pass.py)

Building walks the layers once with the input size, so every size error is found here, with
the layer's name, before any number is computed. The Network owns one
``numpy.random.Generator``: it draws the initial weights (in layer order) and later every
dropout mask, so the same seed gives the same weights, masks and traces.
"""
from __future__ import annotations

import copy

import numpy as np

from . import memory
from .kernels import get_backend, resolve_backend
from .graph_pass import graph_backward, graph_forward
from .graph_stages import plan_graph_stages
from .layer_graph import LayerGraph
from .network_display import layer_array, network_display  # noqa: F401  (layer_array: API)
from .network_compute import Computing
from .network_step import TrainingPass
from .network_graph import GraphAccess, arrange_layers
from .layers.base import Layer
from .network_build import check_order

class Network(GraphAccess, Computing, TrainingPass):
    """A network built for a fixed input size: a chain of layers or a layer graph.

    Parameters
    ----------
    layers : list of Layer, or a LayerGraph
        Copied: the network owns its layers, the list or graph you pass is left untouched.
        A graph's ``net.layers`` are in topological order (each after the layers it reads;
        ``net.sources(name)``: what feeds it); a graph that is a plain chain runs as one.
    seed : int
        Seed of the Generator that draws weights and dropout masks.
    dtype : "float32" (default) or "float64"
    backend : "auto" (the default: "fast" when Numba imports, else "reference" with a
        ``BackendFallbackWarning``), "fast" (Numba kernels) or "reference" (plain loops, the
        definition). ``net.backend`` is the one chosen.
    input_size : (H, W, C), needed only when the first layer is not an ImageInput.
    """

    def __init__(self, layers, *, seed: int | None = 0, dtype="float32", backend: str = "auto",
                 input_size=None, rng: np.random.Generator | None = None):
        graph = layers if isinstance(layers, LayerGraph) else None
        layers = list(graph.layers if graph is not None else layers)
        if not layers:
            raise ValueError("Network: layers is empty")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Network: layer {i + 1} is {type(layer).__name__!r}, "
                                "not a cnnlab layer")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"Network: dtype = {dtype!r}: expected 'float32' or 'float64'")
        self.rng = rng if rng is not None else np.random.default_rng(seed)
        self.seed = seed
        self.layers: list[Layer] = [copy.deepcopy(layer) for layer in layers]
        self.layers, self._sources = arrange_layers(self.layers, graph)
        self.input_size = check_order(self.layers, input_size)
        self._backend = resolve_backend(backend)
        self._new_lock()                      # computing() holds it (network_compute.py)
        kernels = get_backend(self._backend)
        shapes = {}
        for i, layer in enumerate(self.layers):
            layer.network = self                     # so net["conv_1"].network is net
            srcs = self.sources(layer.name)
            ins = [shapes[s] for s in srcs] or [self.input_size]
            many = {"sources": srcs} if len(layer.input_names) > 1 else {}  # say who feeds it
            shape = shapes[layer.name] = layer.build(ins if many else ins[0], rng=self.rng,
                                                     dtype=self.dtype, kernels=kernels, **many)
            memory.check_request(self.layers[:i + 1], self.dtype, 1, training=False,
                                 what=f"Network: {layer.label} (output "
                                      f"{'x'.join(map(str, shape))})",
                                 hint="a smaller input, larger strides or fewer filters")
        # the fast backend runs conv/batch norm (+ReLU)(+max pool) as fused stages where
        # they apply (net.fused = False turns them off); where numpy's BLAS cannot be
        # called from the stages (not the ILP64 OpenBLAS of numpy's wheels) it runs the
        # per-layer fast kernels, which compute the same numbers
        if self._backend == "fast":
            try:
                self.fused = True
            except ImportError:
                self._stages = None

    # ---- access --------------------------------------------------------------------------
    def __getitem__(self, key) -> Layer:
        if isinstance(key, (int, np.integer)):
            return self.layers[key]
        for layer in self.layers:
            if layer.name == key:
                return layer
        raise KeyError(f"no layer named {key!r}; layers are: {', '.join(self.names)}")

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    @property
    def names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return self.layers[-1].output_shape

    @property
    def loss_layer(self):
        return self.layers[-1] if self.layers[-1].is_loss else None

    @property
    def num_parameters(self) -> int:
        return sum(layer.num_parameters for layer in self.layers)

    @property
    def backend(self) -> str:
        return self._backend

    @backend.setter
    def backend(self, name: str):
        name = resolve_backend(name)
        kernels = get_backend(name)
        self._backend = name
        for layer in self.layers:
            layer.kernels = kernels

    def parameters(self):
        """Yield (layer, parameter name, array) for every learnable parameter."""
        for layer in self.layers:
            for key, value in layer.params.items():
                yield layer, key, value

    def __setstate__(self, state):
        # a copied network (copy.deepcopy, astype) adopts its copied layers and gives them
        # their kernels again (a layer's copy has none: a module is not copied)
        self.__dict__.update(state)
        self._new_lock()
        for layer in self.layers:
            layer.network = self
        self.backend = self._backend

    def astype(self, dtype) -> "Network":
        """A copy of the network with parameters and state in another float dtype."""
        new = copy.deepcopy(self)
        new.dtype = np.dtype(dtype)
        if new.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"astype: dtype = {dtype!r}: expected 'float32' or 'float64'")
        for layer in new.layers:
            layer.dtype = new.dtype
            for store in (layer.params, layer.grads, layer.state):
                for key in store:
                    store[key] = store[key].astype(new.dtype)
            layer.release()
        new.backend = self.backend
        return new

    # ---- computing -----------------------------------------------------------------------
    def check_input(self, x) -> np.ndarray:
        """x as an N×H×W×C array of the network's dtype, or a ValueError saying what is off.

        A single image H×W×C (or H×W for one channel) is accepted as a batch of one.
        """
        x = np.asarray(x)
        if x.dtype == object or not (np.issubdtype(x.dtype, np.integer)
                                     or np.issubdtype(x.dtype, np.floating)):
            raise ValueError(f"Network input has dtype {x.dtype}; expected real numbers "
                             "(integer or floating point)")
        h, w, c = self.input_size
        if x.shape == (h, w, c) or (c == 1 and x.shape == (h, w)):
            x = x.reshape(1, h, w, c)
        if x.ndim != 4 or x.shape[1:] != (h, w, c):
            raise ValueError(f"Network input has shape {x.shape}; expected N x {h} x {w} x {c} "
                             f"(N images of {h}x{w}x{c}, channels last)")
        if x.shape[0] == 0:
            raise ValueError("Network input is an empty batch (N = 0)")
        x = x.astype(self.dtype, copy=False)
        if not np.all(np.isfinite(x)):
            raise ValueError("Network input contains NaN or infinite values")
        return x

    def _body(self):
        return self.layers[:-1] if self.layers[-1].is_loss else self.layers

    def forward(self, x, *, training: bool = False, keep_caches: bool | None = None
                ) -> np.ndarray:
        """Run every layer (the loss layer, if any, passes its input through).

        ``keep_caches``: whether the layers keep what their backward pass needs (inputs,
        column matrices, masks). Default: only when ``training``; a prediction-mode pass
        releases each layer's caches as soon as the next layer has its input, so a
        forward or predict leaves nothing behind (see :meth:`held_bytes`). Pass
        ``keep_caches=True`` to back-propagate through prediction mode.
        """
        return self._forward(self.check_input(x), training,
                             training if keep_caches is None else bool(keep_caches))

    def _forward(self, y, training, keep):
        """forward on an input already checked by :meth:`check_input`."""
        memory.check_batch(self._memory_estimate(keep), len(y), what="Network.forward",
                           hint="a smaller batch (predict(x, batch_size=...) splits one)")
        with self.computing():
            self._compile_ahead()
            if self._sources is not None:       # a graph: along its connections
                return graph_forward(*self._graph_steps(self._body()), y, training=training,
                                     keep=keep, rng=self.rng)
            for layer in self._steps(self._body()):
                y = layer.forward(y, training=training, rng=self.rng)
                if not keep:
                    layer.release()
        return y

    def _memory_estimate(self, training):
        """memory.request_bytes of a pass, once per network (its layers never change)."""
        estimates = self.__dict__.setdefault("_estimates", {})
        key = (np.dtype(self.dtype), training)
        if key not in estimates:
            estimates[key] = memory.request_bytes(self.layers, self.dtype, training=training)
        return estimates[key]

    def release(self) -> None:
        """Drop every layer's caches (what a backward pass would need)."""
        for layer in self._steps(self.layers):
            layer.release()

    def held_bytes(self) -> int:
        """Bytes that the layers' caches and workspaces keep alive now (parameters, their
        gradients and solver state not included); each buffer counted once."""
        from .layers.base import unique_nbytes
        return unique_nbytes([a for layer in self._steps(self.layers)
                              for a in layer.held_arrays()])

    def backward(self, dy, *, input_gradient: bool = True):
        """Back-propagate dL/d(output) through every layer; fills each layer's ``.grads``.

        Returns dL/d(input). ``input_gradient=False`` (what training uses) stops at the first
        layer with parameters, which then computes only its parameter gradients, and returns
        None: nothing needs the gradient of the image.
        """
        dy = np.asarray(dy, dtype=self.dtype)
        body = self._body()
        expected = body[-1].output_shape
        if dy.ndim != 4 or dy.shape[1:] != expected:
            raise ValueError(f"backward: gradient has shape {dy.shape}; expected N x "
                             f"{' x '.join(map(str, expected))}")
        with self.computing():
            return self._backward_through(body, dy, input_gradient)

    # ---- fused stages (the fast backend's default): cnnlab/kernels/fast/stages.py --------
    @property
    def fused(self) -> bool:
        """Whether the fast backend runs each Convolution2D or BatchNormalization
        (+ReLU)(+MaxPooling2D) run as one fused, multi-threaded stage
        (``kernels/fast/stages.py``; in a graph on its chain segments) by default on the fast
        backend; False: the per-layer fast kernels, the same parameters, gradients, state."""
        return self.__dict__.get("_stages") is not None

    @fused.setter
    def fused(self, on: bool):
        if on and self._backend != "fast":
            raise ValueError(f"Network.fused = {on!r}: fused stages need backend='fast', "
                             f"this network uses {self._backend!r}")
        self.release()
        self._stages = None
        if on:                          # a graph: on its chain segments, graph_stages.py
            from .kernels.fast.stage_chain import chain_stages
            from .kernels.fast.stages import plan
            self._stages = (chain_stages(plan(self._body())) if self._sources is None
                            else plan_graph_stages(self._body(), self._sources))

    def _steps(self, layers):
        """``layers`` as the passes run them: a fused stage wherever one covers a run."""
        stages = self.__dict__.get("_stages")
        if stages is None or self._backend != "fast":
            return layers
        if self._sources is not None:         # a graph: stages of its chain segments
            return self._graph_steps(layers)[0]
        from .kernels.fast.stages import regroup
        return regroup(stages, layers)

    def _backward_through(self, layers, dy, input_gradient=True):
        """Run ``layers`` backward from their last; see :meth:`backward`."""
        if self._sources is not None:
            return graph_backward(*self._graph_steps(layers), dy, input_gradient=input_gradient)
        layers = self._steps(layers)
        first = 0
        if not input_gradient:
            first = next((i for i, layer in enumerate(layers) if layer.params), len(layers))
        for i in range(len(layers) - 1, first - 1, -1):
            if i == first and not input_gradient:
                layers[i].backward_parameters(dy)
                return None
            dy = layers[i].backward(dy)
        return dy

    def trace(self, x, **options):
        """Record every intermediate of one forward pass: see :func:`cnnlab.trace.trace_network`.

        ``net.trace(image)`` or ``net.trace(batch, image=3)``; ``backward=True, labels=...``
        also records the gradients. Returns a :class:`cnnlab.trace.Trace`.
        """
        from .trace import trace_network
        return trace_network(self, x, **options)

    def loss(self, x, labels, *, training: bool = False) -> float:
        """The output layer's loss on a batch (no gradients)."""
        out = self._require_loss_layer()
        y = self.forward(x, training=training, keep_caches=False)
        return float(out.loss(y, self.check_labels(labels, y)))

    def loss_and_gradients(self, x, labels):
        """One training step's numbers: loss and the gradient of every parameter.

        Returns (loss, grads) with grads[layer_name][param_name]; the arrays are the layers'
        own ``.grads`` and are overwritten by the next call. When Softmax is followed by
        Classification the gradient enters at the softmax input as (y - t)/N, which is
        exact and does not divide by small probabilities.
        """
        loss, _ = self.training_pass(x, labels)
        return loss, {layer.name: layer.grads for layer in self.layers if layer.params}

    def loss_entry(self, y, labels, layers=None):
        """Where the loss gradient enters the layers before the output layer, and its value.

        Returns (the layers to run backward, dL/d(their output)). ``y`` is the output of a
        training-mode forward pass, ``layers`` those layers (default: all but the output
        layer). When Softmax is followed by Classification the gradient enters at the softmax
        input as (y - t)/N, which is exact and does not divide by small probabilities, and the
        softmax itself is skipped.
        """
        out = self._require_loss_layer()
        body = list(self._body() if layers is None else layers)
        if out.kind == "classoutput" and body and body[-1].kind == "softmax":
            return body[:-1], out.softmax_loss_gradient(y, labels)
        return body, out.loss_gradient(y, labels)

    def backward_from_loss(self, y, labels) -> None:
        """Fill every layer's ``.grads`` from the loss of a training-mode output ``y``
        (labels already checked); the image gradient is not computed."""
        body, dy = self.loss_entry(y, labels)
        self._backward_through(body, dy, input_gradient=False)

    def _require_loss_layer(self):
        out = self.loss_layer
        if out is None:
            raise ValueError("this network has no output layer: end it with Softmax + "
                             "Classification or with Regression to compute a loss")
        return out

    def check_labels(self, labels, y):
        """``labels`` as an array, refused unless it has one row per image of ``y``."""
        labels = np.asarray(labels)
        if labels.shape[:1] != y.shape[:1]:
            raise ValueError(f"labels have {labels.shape[0] if labels.ndim else 0} rows for "
                             f"{y.shape[0]} images")
        return labels

    def predict(self, x, *, batch_size: int = 256) -> np.ndarray:
        """Network output in prediction mode, N×K for 1×1×K outputs, else N×H×W×C."""
        x = self.check_input(x)
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"predict: batch_size = {batch_size!r} must be a positive integer")
        with self.computing():          # x is checked once, not once per chunk
            outs = [self._forward(x[i:i + batch_size], False, False)
                    for i in range(0, len(x), batch_size)]
        y = np.concatenate(outs)
        return y.reshape(len(y), -1) if y.shape[1:3] == (1, 1) else y

    def classify(self, x, *, batch_size: int = 256) -> np.ndarray:
        """Predicted class per image: an index, or the class name if the output names them."""
        scores = self.predict(x, batch_size=batch_size)
        if scores.ndim != 2:
            raise ValueError("classify needs an output of size 1x1xK (a class score vector)")
        idx = np.argmax(scores, axis=1)
        classes = getattr(self.loss_layer, "classes", None)
        return np.asarray(classes)[idx] if classes is not None else idx

    def fit_normalization(self, x):
        """Compute the image input layer's normalization statistics from training images."""
        from .layers.input import ImageInput
        first = self.layers[0]
        if not isinstance(first, ImageInput):
            raise ValueError("fit_normalization: the first layer is not an ImageInput")
        first.fit(self.check_input(x))

    # ---- display -------------------------------------------------------------------------
    def __repr__(self):
        return network_display(self)

    def to_torch_code(self) -> str:
        """The PyTorch code of the same network, each module beside the layer it stands for
        (``cnnlab.interop.torch_code``; needs no torch). ``cnnlab.to_torch(net)`` builds it
        with this network's weights."""
        from .interop.torch_code import torch_code
        return torch_code(self)
