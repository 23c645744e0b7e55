"""The Layer contract every cnnlab layer follows.

A layer is a thin object: hyperparameters checked when it is created, shapes and parameters
settled when a Network *builds* it for a known input size, and a forward/backward pair that
calls into a kernel backend (``cnnlab.kernels.reference`` or ``cnnlab.kernels.fast``).

Shapes are H×W×C per image; arrays carry a leading batch axis, N×H×W×C.

Life cycle::

    layer = Convolution2D(3, 16, padding=1)       # hyperparameters validated here
    out_shape = layer.build((28, 28, 1), rng=rng, dtype=np.float32, kernels=backend)
    y = layer.forward(x, training=True, rng=rng)  # caches what backward needs (one call only)
    dx = layer.backward(dy)                       # fills layer.grads, keys as layer.params

``forward`` and ``backward`` belong to this base class: they check the array's shape against
the built sizes (one error form for every layer: layer, expected shape, shape given), then
call the layer's ``_forward`` / ``_backward``, which are what a layer implements.

Nothing accumulates across calls: each forward replaces the previous cache.
"""
from __future__ import annotations

import weakref

import numpy as np

# the validators every layer uses, one message form for all of cnnlab:
# "<layer label>: <parameter> = <value>: <what is wrong>" (cnnlab.arithmetic.checks)
from ..arithmetic.checks import (is_int, is_number, nonnegative_factor,  # noqa: F401
                                 pair, positive_int)


class Layer:
    #: prefix of automatic names: conv -> conv_1, conv_2, ...
    kind = "layer"
    #: the type column of a layer array display, e.g. "Convolution"
    type_name = "Layer"
    #: True for the output layers that compute a loss (Classification, Regression)
    is_loss = False
    #: True for layers that act differently when training (dropout, batch norm)
    has_training_mode = False
    #: the names of the layer's inputs in a LayerGraph ("in"; in1, in2, ... for the layers
    #: that join branches; none for an image input, which is fed the data)
    input_names: tuple = ("in",)

    def __init__(self, *, name: str = ""):
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string, got {name!r}")
        self.name = name
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        #: per-parameter multipliers of the global learn rate and L2 factor (training)
        self.learn_rate_factors: dict[str, float] = {}
        self.l2_factors: dict[str, float] = {}
        #: non-learnable state saved with the network (e.g. running statistics)
        self.state: dict[str, np.ndarray] = {}
        self.input_shape: tuple[int, int, int] | None = None
        self.output_shape: tuple[int, int, int] | None = None
        self.kernels = None
        self.dtype = np.dtype(np.float32)
        self._cache = None
        self._batch = None        # N of the last forward call (backward checks dy)

    # ---- identity and errors -------------------------------------------------------------
    @property
    def label(self) -> str:
        """How error messages name this layer: type and name (if it has one)."""
        cls = type(self).__name__
        return f"{cls} layer '{self.name}'" if self.name else f"{cls} layer"

    def error(self, parameter: str, value, why: str) -> ValueError:
        """A ValueError that names the layer, the parameter, the value and the reason."""
        return ValueError(f"{self.label}: {parameter} = {value!r}: {why}")

    # ---- building ------------------------------------------------------------------------
    def build(self, input_shape, *, rng: np.random.Generator, dtype="float32", kernels=None):
        """Fix the input size, check the arithmetic, create parameters; return output H×W×C."""
        self.input_shape = tuple(int(v) for v in input_shape)
        self.dtype = np.dtype(dtype)
        if kernels is None:
            from ..kernels import get_backend
            kernels = get_backend("reference")
        self.kernels = kernels
        self.output_shape = tuple(int(v) for v in self._build(self.input_shape, rng))
        # np.zeros, not zeros_like: the pages of a large gradient are not touched (allocated
        # lazily by the OS) until a backward pass writes them
        self.grads = {k: np.zeros(v.shape, v.dtype) for k, v in self.params.items()}
        return self.output_shape

    def _build(self, input_shape, rng):
        """Subclasses: validate against input_shape, create self.params; return output shape."""
        return input_shape

    @property
    def built(self) -> bool:
        return self.output_shape is not None

    def _require_built(self):
        if not self.built:
            raise RuntimeError(f"{self.label} is not built yet: put it in a cnnlab.Network "
                               "(which infers its input size) before calling it")

    # ---- computing -----------------------------------------------------------------------
    # The public calls check their array against the built sizes, with one message form for
    # every layer, before the layer's own ``_forward`` / ``_backward`` runs a kernel (Numba
    # kernels do not check bounds). Layers implement only the underscored methods.
    def forward(self, x: np.ndarray, *, training: bool = False, rng=None) -> np.ndarray:
        """The output for a batch ``x`` of N×H×W×C (the built input size), N >= 1."""
        self.check_input(x)
        self._batch = x.shape[0]
        return self._forward(x, training=training, rng=rng)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dL/d(input) from dL/d(output) of the last forward call; fills ``.grads``."""
        self.check_gradient(dy)
        return self._backward(dy)

    def backward_parameters(self, dy: np.ndarray) -> None:
        """Fill ``.grads`` only, for a layer whose input gradient nobody needs (the first
        layer with parameters, in training)."""
        self.check_gradient(dy)
        self._backward_parameters(dy)

    def _forward(self, x, *, training=False, rng=None):
        raise NotImplementedError

    def _backward(self, dy):
        raise NotImplementedError

    def _backward_parameters(self, dy):
        """Layers that can skip the input gradient override this."""
        self._backward(dy)

    def check_input(self, x) -> None:
        """A ValueError naming the layer, what it expects and what it got, unless ``x`` is an
        N×H×W×C numpy array of the built input size with N >= 1."""
        self._require_built()
        h, w, c = self.input_shape
        expected = f"expected N x {h} x {w} x {c} (N >= 1 images of {h}x{w}x{c}, channels last)"
        if not isinstance(x, np.ndarray):
            raise ValueError(f"{self.label}: input is a {type(x).__name__}, not a numpy array; "
                             f"{expected}")
        if x.ndim != 4 or x.shape[1:] != self.input_shape or x.shape[0] == 0:
            empty = " (an empty batch)" if x.ndim == 4 and x.shape[0] == 0 else ""
            raise ValueError(f"{self.label}: input has shape {x.shape}{empty}; {expected}")

    def check_gradient(self, dy) -> None:
        """As check_input, for dL/d(output): the output size of the last forward batch.
        Before any forward call the layer itself reports that backward came first."""
        n = self.__dict__.get("_batch")
        if n is None:
            return
        want = (n,) + tuple(self.output_shape)
        expected = (f"expected {' x '.join(map(str, want))} (the output of the last forward "
                    f"call, {n} image{'s' if n != 1 else ''})")
        if not isinstance(dy, np.ndarray):
            raise ValueError(f"{self.label}: gradient is a {type(dy).__name__}, not a numpy "
                             f"array; {expected}")
        if dy.shape != want:
            raise ValueError(f"{self.label}: gradient has shape {dy.shape}; {expected}")

    @property
    def network(self):
        """The Network this layer belongs to (it sets itself here when it builds), or None.

        Held as a weak reference, so a layer never keeps its network alive; it is what lets
        ``ConvolutionExplorer(net["conv_1"], image)`` trace the network the layer is in."""
        ref = self.__dict__.get("_network")
        return ref() if ref is not None else None

    @network.setter
    def network(self, net) -> None:
        self._network = weakref.ref(net) if net is not None else None

    def _need_cache(self):
        if self._cache is None:
            raise RuntimeError(f"{self.label}: backward called before forward (or after a "
                               "Network.forward/predict in prediction mode, which keeps no "
                               "caches: use forward(x, training=True) or keep_caches=True)")
        return self._cache

    def check_state(self, key: str, value) -> np.ndarray:
        """A saved state array (``cnnlab.io``) checked before it is restored; layers whose
        state is not fixed at build (the image input's statistics) override this."""
        return np.asarray(value)

    # ---- what a layer holds between forward and backward ---------------------------------
    def release(self) -> None:
        """Drop what forward kept for backward (caches, scratch matrices). A Network calls
        this after each layer of a prediction-mode pass, where no backward follows."""
        self._cache = None

    def held_arrays(self):
        """The arrays this layer keeps alive for its backward pass (caches, workspaces)."""
        return list(arrays_in(self._cache))

    def held_bytes(self) -> int:
        """Bytes of memory this layer's caches keep alive (each buffer counted once)."""
        return unique_nbytes(self.held_arrays())

    # ---- description ---------------------------------------------------------------------
    def describe(self) -> str:
        """One line as in a layer array display, e.g. '16 3x3 convolutions with stride ...'."""
        return self.type_name

    def config(self) -> dict:
        """The constructor keywords that rebuild this layer (JSON-compatible)."""
        return {"name": self.name}

    def arithmetic(self) -> dict:
        """The cnnlab.arithmetic Results behind this layer's output size (empty if none)."""
        return {}

    def multiply_adds(self) -> int:
        """Multiply-adds for one image in the forward pass (0 where there are none)."""
        return 0

    def spatial(self):
        """How the layer maps positions, per axis, for receptive fields.

        Returns ((kernel_h, stride_h, pad_top), (kernel_w, stride_w, pad_left)) with the
        effective (dilated) kernel, or None for layers that see the whole input (fully
        connected, global pooling).
        """
        return ((1, 1, 0), (1, 1, 0))

    @property
    def num_parameters(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}': {self.describe()}>"

    def __getstate__(self):
        # the kernel backend is a module (not copyable); a Network sets it again
        state = dict(self.__dict__)
        state["kernels"] = None
        state["_network"] = None        # a copy belongs to no network until one adopts it
        if "_workspace" in state:   # a convolution's scratch matrices: never worth copying
            state["_workspace"] = {}
        return state


def arrays_in(obj):
    """Every ndarray inside obj (an array, or tuples, lists and dicts of them)."""
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from arrays_in(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from arrays_in(item)


def unique_nbytes(arrays) -> int:
    """Bytes of the memory buffers behind ``arrays``: a view counts as the array that owns
    its memory, and a buffer shared by several arrays counts once."""
    owners = {}
    for a in arrays:
        while isinstance(a.base, np.ndarray):
            a = a.base
        owners[id(a)] = a.nbytes
    return sum(owners.values())
