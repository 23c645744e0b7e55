"""The options of a training run (``TrainingOptions``, re-exported by ``cnnlab`` and
``cnnlab.training``): solver and hyperparameters, the learn-rate schedule, epochs and
mini-batches, validation, display, checkpoints and the backend.

The defaults are MATLAB's ``trainingOptions`` defaults, and every option is validated when
the options are made, so a bad value is refused with its name before any training starts.
The piecewise schedule is

    lr(epoch) = initial · drop_factor ^ floor((epoch − 1) / drop_period)

``cnnlab.solvers.make_solver`` turns the options into the solver they name."""
from __future__ import annotations

import math
import os
from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np

#: default initial learn rates (MATLAB trainingOptions)
DEFAULT_LEARN_RATE = {"sgdm": 0.01, "adam": 0.001, "rmsprop": 0.001}
#: default squared-gradient decay factor β2
DEFAULT_SQUARED_DECAY = {"adam": 0.999, "rmsprop": 0.9}


def piecewise_learn_rate(initial: float, epoch: int, *, drop_factor: float,
                         drop_period: int) -> float:
    """The learn rate in (1-based) ``epoch`` of a piecewise schedule, lr(epoch) = initial ·
    drop_factor ^ floor((epoch − 1) / drop_period): epochs 1..P use the initial rate, P+1..2P
    the rate times the factor, and so on."""
    return float(initial) * float(drop_factor) ** ((int(epoch) - 1) // int(drop_period))


SOLVER_NAMES = ("sgdm", "adam", "rmsprop")
SCHEDULES = ("none", "piecewise")
SHUFFLES = ("once", "never", "every-epoch")
PLOTS = ("none", "training-progress")


def _real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) \
        and math.isfinite(float(v))


def _integer(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


@dataclass(eq=False, repr=False)
class TrainingOptions:
    """How to train: solver, learn rate, epochs, mini-batches, validation, display.

    Defaults are MATLAB's ``trainingOptions`` defaults. ``initial_learn_rate=None`` means the
    solver's default (0.01 for sgdm, 0.001 for adam and rmsprop) and
    ``squared_gradient_decay_factor=None`` likewise (0.999 for adam, 0.9 for rmsprop); the
    ``resolved_*`` properties give the values in use.

    solver : "sgdm" | "adam" | "rmsprop"
    momentum : μ of sgdm, in [0, 1]
    gradient_decay_factor : β1 of adam, in [0, 1)
    squared_gradient_decay_factor : β2 of adam and rmsprop, in [0, 1)
    epsilon : ε of adam and rmsprop, > 0
    learn_rate_schedule : "none" | "piecewise" (multiply the rate by learn_rate_drop_factor
        every learn_rate_drop_period epochs)
    l2_regularization : λ, the weight decay added to the gradient as λ·l2_factor·θ
    max_epochs, mini_batch_size : positive integers
    shuffle : "once" (before training) | "never" | "every-epoch"
    validation_data : (X_val, Y_val) or None; validated at iteration 1, every
        validation_frequency iterations and at the end
    verbose, verbose_frequency : print a progress table every verbose_frequency iterations
    plots : "none" | "training-progress" | a monitor object with ``update(info)`` (called
        after every iteration) and optionally ``finish(info)`` (once, at the end)
    checkpoint_path : a folder for end-of-epoch checkpoints (and resuming), or None
    seed : seeds the network's Generator (weights, dropout masks) when train_network builds
        the network from layers, and, separately, the shuffling Generator (None: random)
    backend : "fast" | "reference" | None (the Network's default, or a given Network's own)
    progress_bar : show a tqdm progress bar (a widget in Jupyter, text on stderr otherwise)
    augmentation : a ``cnnlab.ImageDataAugmenter`` applied to every training mini-batch
        (draws from the network's Generator; validation data is not augmented), or None
    """

    solver: str = "sgdm"
    _: KW_ONLY
    initial_learn_rate: float | None = None
    momentum: float = 0.9
    gradient_decay_factor: float = 0.9
    squared_gradient_decay_factor: float | None = None
    epsilon: float = 1e-8
    learn_rate_schedule: str = "none"
    learn_rate_drop_factor: float = 0.1
    learn_rate_drop_period: int = 10
    l2_regularization: float = 1e-4
    max_epochs: int = 30
    mini_batch_size: int = 128
    shuffle: str = "once"
    validation_data: Any = None
    validation_frequency: int = 50
    verbose: bool = True
    verbose_frequency: int = 50
    plots: Any = "none"
    checkpoint_path: Any = None
    seed: int | None = 0
    backend: str | None = None
    progress_bar: bool = True
    augmentation: Any = None

    def __post_init__(self):
        def bad(option, why):
            return ValueError(f"TrainingOptions: {option} = {getattr(self, option)!r}: {why}")

        if not isinstance(self.solver, str) or self.solver.lower() not in SOLVER_NAMES:
            raise bad("solver", f"expected one of {', '.join(SOLVER_NAMES)}")
        self.solver = self.solver.lower()
        if self.initial_learn_rate is not None and not (
                _real(self.initial_learn_rate) and self.initial_learn_rate > 0):
            raise bad("initial_learn_rate", "must be a positive finite number (or None for the "
                      "solver's default)")
        for name, low, high, closed in (("momentum", 0, 1, True),
                                        ("gradient_decay_factor", 0, 1, False),
                                        ("squared_gradient_decay_factor", 0, 1, False),
                                        ("learn_rate_drop_factor", 0, 1, True)):
            v = getattr(self, name)
            if v is None and name == "squared_gradient_decay_factor":
                continue
            if not _real(v) or v < low or (v > high if closed else v >= high):
                raise bad(name, f"must be a number in [{low}, {high}{']' if closed else ')'}")
        for name in ("epsilon",):
            if not _real(getattr(self, name)) or getattr(self, name) <= 0:
                raise bad(name, "must be a positive finite number")
        if not _real(self.l2_regularization) or self.l2_regularization < 0:
            raise bad("l2_regularization", "must be a nonnegative finite number")
        for name in ("learn_rate_drop_period", "max_epochs", "mini_batch_size",
                     "validation_frequency", "verbose_frequency"):
            v = getattr(self, name)
            if not _integer(v) or v < 1:
                raise bad(name, "must be a positive integer")
        for name, allowed in (("learn_rate_schedule", SCHEDULES), ("shuffle", SHUFFLES)):
            if getattr(self, name) not in allowed:
                raise bad(name, f"expected one of {', '.join(map(repr, allowed))}")
        if not (self.plots in PLOTS if isinstance(self.plots, str)
                else callable(getattr(self.plots, "update", None))):
            raise bad("plots", "expected 'none', 'training-progress' or an object with an "
                      "update(info) method")
        for name in ("verbose", "progress_bar"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise bad(name, "must be True or False")
        if self.validation_data is not None and (
                not isinstance(self.validation_data, (tuple, list))
                or len(self.validation_data) != 2):
            raise ValueError("TrainingOptions: validation_data must be a pair (X_val, Y_val) "
                             f"or None, got {type(self.validation_data).__name__}")
        if self.checkpoint_path is not None and not isinstance(self.checkpoint_path,
                                                               (str, os.PathLike)):
            raise bad("checkpoint_path", "must be a folder path (str or os.PathLike) or None")
        if self.seed is not None and (not _integer(self.seed) or self.seed < 0):
            raise bad("seed", "must be a nonnegative integer or None")
        from .kernels import BACKENDS
        if self.backend is not None and self.backend not in BACKENDS:
            raise bad("backend", f"expected one of {', '.join(BACKENDS)} or None")
        from .augmentation import check_augmentation
        check_augmentation(self.augmentation)

    @property
    def resolved_initial_learn_rate(self) -> float:
        if self.initial_learn_rate is None:
            return DEFAULT_LEARN_RATE[self.solver]
        return float(self.initial_learn_rate)

    @property
    def resolved_squared_gradient_decay_factor(self) -> float | None:
        if self.squared_gradient_decay_factor is None:
            return DEFAULT_SQUARED_DECAY.get(self.solver)
        return float(self.squared_gradient_decay_factor)

    def learn_rate(self, epoch: int) -> float:
        """The global learn rate during (1-based) ``epoch``."""
        if self.learn_rate_schedule == "piecewise":
            return piecewise_learn_rate(self.resolved_initial_learn_rate, epoch,
                                        drop_factor=self.learn_rate_drop_factor,
                                        drop_period=self.learn_rate_drop_period)
        return self.resolved_initial_learn_rate

    def solver_fingerprint(self) -> dict:
        """The options that change the weights a run produces (checked when resuming)."""
        fp = {"solver": self.solver, "initial_learn_rate": self.resolved_initial_learn_rate,
              "learn_rate_schedule": self.learn_rate_schedule,
              "l2_regularization": float(self.l2_regularization),
              "mini_batch_size": int(self.mini_batch_size), "shuffle": self.shuffle,
              "seed": self.seed, "augmentation": None if self.augmentation is None
              else self.augmentation.config()}
        if self.learn_rate_schedule == "piecewise":
            fp["learn_rate_drop_factor"] = float(self.learn_rate_drop_factor)
            fp["learn_rate_drop_period"] = int(self.learn_rate_drop_period)
        if self.solver == "sgdm":
            fp["momentum"] = float(self.momentum)
        else:
            fp["squared_gradient_decay_factor"] = self.resolved_squared_gradient_decay_factor
            fp["epsilon"] = float(self.epsilon)
            if self.solver == "adam":
                fp["gradient_decay_factor"] = float(self.gradient_decay_factor)
        return fp

    def __repr__(self):
        parts = []
        for name in self.__dataclass_fields__:
            if name == "_":
                continue
            v = getattr(self, name)
            if name == "validation_data" and v is not None:
                shown = f"({np.shape(v[0])} images, {np.shape(v[1])} labels)"
            elif name == "initial_learn_rate" and v is None:
                shown = f"None ({self.resolved_initial_learn_rate:g})"
            elif name == "squared_gradient_decay_factor" and v is None:
                r = self.resolved_squared_gradient_decay_factor
                shown = "None" if r is None else f"None ({r:g})"
            else:
                shown = repr(v)
            parts.append(f"    {name}={shown},")
        return "TrainingOptions(\n" + "\n".join(parts) + "\n)"
