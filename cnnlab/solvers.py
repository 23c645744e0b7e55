"""The three solvers of the reference documents: SGD with momentum, Adam and RMSProp.

Every solver updates each learnable parameter θ of a network IN PLACE (the layers own the
arrays) from its gradient ∂L/∂θ, with two per-parameter multipliers that the layers carry:

    g  = ∂L/∂θ + λ · l2_factor · θ          λ = l2_regularization (weight decay)
    lr = learn_rate · learn_rate_factor      a factor 0 freezes θ: it is not touched at all

The update rules (t counts the solver's steps, starting at 1):

    sgdm     v ← μ·v − lr·g ;  θ ← θ + v
    adam     m ← β1·m + (1 − β1)·g ;  v ← β2·v + (1 − β2)·g²
             θ ← θ − lr · m̂ / (√v̂ + ε)     with m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
    rmsprop  v ← β2·v + (1 − β2)·g² ;  θ ← θ − lr · g / (√v + ε)

All arithmetic stays in the parameter's dtype: the learn rate and the decay factors are Python
floats, which NumPy does not let promote a float32 array to float64.

Comparison with PyTorch (the test oracle): ``torch.optim.Adam`` and ``torch.optim.RMSprop
(alpha=β2, eps=ε)`` use the same formulas (ε is added to √v in both). ``torch.optim.SGD
(momentum=μ)`` keeps b ← μ·b + g and steps θ ← θ − lr·b; with a constant learn rate b = −v/lr
and the two agree, but after a learn-rate drop ours keeps the velocity it had (MATLAB's form)
while PyTorch's rescales it by the new rate. On the fast backend each rule runs as one
compiled loop per array, a few arrays per call, bit for bit this NumPy
(``kernels/fast/solver_update.py``).

The options that choose a solver and its hyperparameters, and the learn-rate schedule, are
``TrainingOptions`` (``training_options.py``); ``make_solver`` turns them into a solver."""
from __future__ import annotations

import numpy as np


class Solver:
    """Base class: walks the parameters, applies the factors, calls ``_update`` per array.

    ``slots`` holds the solver's own arrays per parameter, keyed "layer_name/param_name"
    (e.g. velocity "conv_1/weights"); ``t`` is the number of steps taken.
    """

    name = "solver"
    #: the per-parameter arrays a solver keeps, e.g. ("velocity",)
    slot_names: tuple[str, ...] = ()

    def __init__(self, *, l2_regularization: float = 1e-4):
        self.l2_regularization = float(l2_regularization)
        self.t = 0
        self.slots: dict[str, dict[str, np.ndarray]] = {name: {} for name in self.slot_names}

    def step(self, net, learn_rate: float) -> None:
        """Update every parameter of ``net`` in place from the layers' ``.grads``."""
        self.t += 1
        learn_rate = float(learn_rate)
        items = []                            # (θ, ∂L/∂θ, decay, lr, slots) per parameter
        for layer, key, theta in net.parameters():
            lr = learn_rate * float(layer.learn_rate_factors.get(key, 1.0))
            if lr == 0.0:
                continue                      # frozen: θ (and its slots) stay as they are
            decay = self.l2_regularization * float(layer.l2_factors.get(key, 1.0))
            slot_key = f"{layer.name}/{key}"
            for name in self.slot_names:      # a parameter's slots start at 0
                if slot_key not in self.slots[name]:
                    self.slots[name][slot_key] = np.zeros_like(theta)
            items.append((theta, layer.grads[key], decay, lr,
                          {name: self.slots[name][slot_key] for name in self.slot_names}))
        if getattr(net, "backend", None) == "fast":
            items = self._fast_updates(items)     # the same arithmetic in compiled loops
        for theta, g, decay, lr, slots in items:
            if decay != 0.0:
                g = g + decay * theta         # gradient of L + (λ/2)·l2_factor·Σθ²
            self._update(theta, g, lr, **slots)

    def _update(self, theta, g, lr, **slots):
        raise NotImplementedError

    def _fast_updates(self, items) -> list:
        """The fast backend's decay + ``_update`` of ``items``, bit for bit; returns the items
        left to NumPy (here: all of them)."""
        return items

    def _compiled(self, items, kind, consts):
        from .kernels.fast.solver_update import fast_updates    # (imports Numba)
        return fast_updates(kind, items, self.slot_names, consts)

    # ---- checkpoints ---------------------------------------------------------------------
    def hyperparameters(self) -> dict:
        return {"solver": self.name, "l2_regularization": self.l2_regularization}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The slots as a flat dict "slot/layer/param" -> array (for a checkpoint)."""
        return {f"{name}/{key}": arr for name, store in self.slots.items()
                for key, arr in store.items()}

    def load_state(self, t: int, arrays: dict[str, np.ndarray]) -> None:
        """Restore ``t`` and the slots from ``state_arrays()`` output (arrays are copied)."""
        self.t = int(t)
        self.slots = {name: {} for name in self.slot_names}
        for flat, arr in arrays.items():
            name, _, key = flat.partition("/")
            if name not in self.slots:
                raise ValueError(f"{self.name} solver: unknown state array {flat!r}")
            self.slots[name][key] = np.array(arr, copy=True)

    def __repr__(self):
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items() if k != "solver")
        return f"<{type(self).__name__} {hp}, step {self.t}>"


class SGDM(Solver):
    """Stochastic gradient descent with momentum μ (MATLAB "sgdm")."""

    name = "sgdm"
    slot_names = ("velocity",)

    def __init__(self, *, momentum: float = 0.9, l2_regularization: float = 1e-4):
        super().__init__(l2_regularization=l2_regularization)
        self.momentum = float(momentum)

    def _update(self, theta, g, lr, *, velocity):
        # v ← μ·v − lr·g ;  θ ← θ + v
        velocity *= self.momentum
        velocity -= lr * g
        theta += velocity

    def _fast_updates(self, items):
        return self._compiled(items, "sgdm", (self.momentum,))

    def hyperparameters(self):
        return {**super().hyperparameters(), "momentum": self.momentum}


class Adam(Solver):
    """Adaptive moment estimation (MATLAB "adam")."""

    name = "adam"
    slot_names = ("m", "v")

    def __init__(self, *, gradient_decay_factor: float = 0.9,
                 squared_gradient_decay_factor: float = 0.999, epsilon: float = 1e-8,
                 l2_regularization: float = 1e-4):
        super().__init__(l2_regularization=l2_regularization)
        self.beta1 = float(gradient_decay_factor)
        self.beta2 = float(squared_gradient_decay_factor)
        self.epsilon = float(epsilon)

    def _update(self, theta, g, lr, *, m, v):
        b1, b2 = self.beta1, self.beta2
        # m ← β1·m + (1 − β1)·g ;  v ← β2·v + (1 − β2)·g²
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * (g * g)
        # θ ← θ − lr · m̂ / (√v̂ + ε),  m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
        m_hat = m / (1.0 - b1 ** self.t)
        v_hat = v / (1.0 - b2 ** self.t)
        theta -= lr * m_hat / (np.sqrt(v_hat) + self.epsilon)

    def _fast_updates(self, items):
        b1, b2 = self.beta1, self.beta2
        return self._compiled(items, "adam", (b1, 1.0 - b1, b2, 1.0 - b2, 1.0 - b1 ** self.t,
                                              1.0 - b2 ** self.t, self.epsilon))

    def hyperparameters(self):
        return {**super().hyperparameters(), "gradient_decay_factor": self.beta1,
                "squared_gradient_decay_factor": self.beta2, "epsilon": self.epsilon}


class RMSProp(Solver):
    """Root mean square propagation (MATLAB "rmsprop")."""

    name = "rmsprop"
    slot_names = ("v",)

    def __init__(self, *, squared_gradient_decay_factor: float = 0.9, epsilon: float = 1e-8,
                 l2_regularization: float = 1e-4):
        super().__init__(l2_regularization=l2_regularization)
        self.beta2 = float(squared_gradient_decay_factor)
        self.epsilon = float(epsilon)

    def _update(self, theta, g, lr, *, v):
        # v ← β2·v + (1 − β2)·g² ;  θ ← θ − lr · g / (√v + ε)
        v *= self.beta2
        v += (1.0 - self.beta2) * (g * g)
        theta -= lr * g / (np.sqrt(v) + self.epsilon)

    def _fast_updates(self, items):
        return self._compiled(items, "rmsprop", (self.beta2, 1.0 - self.beta2, self.epsilon))

    def hyperparameters(self):
        return {**super().hyperparameters(), "squared_gradient_decay_factor": self.beta2,
                "epsilon": self.epsilon}


def make_solver(options) -> Solver:
    """The solver a ``TrainingOptions`` asks for, with its hyperparameters."""
    l2 = options.l2_regularization
    if options.solver == "sgdm":
        return SGDM(momentum=options.momentum, l2_regularization=l2)
    beta2 = options.resolved_squared_gradient_decay_factor
    if options.solver == "adam":
        return Adam(gradient_decay_factor=options.gradient_decay_factor,
                    squared_gradient_decay_factor=beta2, epsilon=options.epsilon,
                    l2_regularization=l2)
    return RMSProp(squared_gradient_decay_factor=beta2, epsilon=options.epsilon,
                   l2_regularization=l2)
