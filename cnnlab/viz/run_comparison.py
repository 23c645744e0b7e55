"""Several training runs side by side: one panel per run, the same axes, so they compare.

    runs = {f"lr {lr:g}": cl.train_network(X, Y, layers(), options(lr))[1] for lr in rates}
    compare_runs(runs)                          # the mini-batch loss of each run
    compare_runs(runs, metric="accuracy")       # mini-batch accuracy in %, validation points
    compare_runs(runs, metric="learn_rate")     # the schedule each run used

Reads only what ``cnnlab.train_network`` recorded in each ``TrainingInfo`` (one entry per
iteration: ``info.iterations``, ``info.loss``, ``info.accuracy``, ``info.learn_rate`` and the
``validation_*`` columns, NaN where validation did not run). Every panel has the same x range
(the longest run) and y range, so a curve that is higher IS higher; each panel's title is the
run's name, its last value and last validation value (and how it stopped, if early). A loss that became
NaN or infinite is not drawn past that point; the title says "loss became NaN" instead.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import MaxNLocator

from .style import Picture, figure, font
from .training_curves import TRAIN_COLOUR, VALIDATION_COLOUR

#: metric -> (TrainingInfo column, validation column or None, y label, scale)
METRICS = {"loss": ("loss", "validation_loss", "loss", 1.0),
           "accuracy": ("accuracy", "validation_accuracy", "accuracy (%)", 100.0),
           "learn_rate": ("learn_rate", None, "learn rate", 1.0)}


def _check(runs, metric, reference):
    from ..training_record import TrainingInfo
    if metric not in METRICS:
        raise ValueError(f"compare_runs: metric = {metric!r}; expected one of "
                         f"{', '.join(map(repr, METRICS))}")
    if not isinstance(runs, dict) or not 1 <= len(runs) <= 8:
        raise ValueError("compare_runs: runs must be a dict name -> TrainingInfo with 1 to 8 "
                         f"runs, got {type(runs).__name__}"
                         + (f" with {len(runs)}" if isinstance(runs, dict) else ""))
    for name, info in runs.items():
        if not isinstance(info, TrainingInfo):
            raise ValueError(f"compare_runs: run {name!r} is a {type(info).__name__}, not the "
                             "TrainingInfo that train_network returns")
        if info.iteration == 0:
            raise ValueError(f"compare_runs: run {name!r} recorded no iteration")
        if metric == "accuracy" and info.task != "classification":
            raise ValueError(f"compare_runs: run {name!r} is a {info.task} run; accuracy "
                             "exists only for classification (use metric='loss')")
    if reference is not None and not (
            isinstance(reference, tuple) and len(reference) == 2
            and isinstance(reference[0], (int, float, np.floating, np.integer))
            and math.isfinite(float(reference[0])) and isinstance(reference[1], str)):
        raise ValueError(f"compare_runs: reference = {reference!r}; expected (value, label), "
                         "e.g. (math.log(10), 'guessing')")


def _shown(value, metric) -> str:
    return f"{value:.1f} %" if metric == "accuracy" else f"{value:.3g}"


def _title(name, info, values, val_values, metric, scale) -> str:
    """The run's name; its last value (and last validation value); how it stopped."""
    if not np.all(np.isfinite(values)) and metric == "loss":
        first_bad = int(np.flatnonzero(~np.isfinite(values))[0])
        return f"{name}\nloss became NaN at iteration {first_bad + 1}"
    text = f"last {_shown(values[-1] * scale, metric)}"
    if val_values is not None and np.isfinite(val_values).any():
        last_val = val_values[np.isfinite(val_values)][-1] * scale
        text = f"last {_shown(values[-1] * scale, metric)}, validation {_shown(last_val, metric)}"
    if info.stopped_reason not in (None, "max-epochs"):
        text += f" ({info.stopped_reason})"
    return f"{name}\n{text}"


def compare_runs(runs: dict, *, metric: str = "loss", reference=None, log_y: bool = False,
                 panel_inches: float = 2.4, height: float = 2.4, dpi: int = 80) -> Picture:
    """One panel per run (left to right, in the dict's order), same x and y ranges.

    runs : dict name -> TrainingInfo (1..8 runs); metric : "loss" | "accuracy" |
    "learn_rate"; reference : (value, label) drawn as a dashed grey line in every panel (e.g.
    the loss of guessing, ln 10); log_y : a logarithmic y axis (for learn rates).
    """
    _check(runs, metric, reference)
    column, val_column, ylabel, scale = METRICS[metric]
    n = len(runs)
    fig = figure(0.6 + n * panel_inches, height, dpi=dpi)
    axes = fig.subplots(1, n, sharex=True, sharey=True, squeeze=False)[0]
    # the legend goes under the panels, where it hides no curve
    fig.subplots_adjust(left=0.6 / (0.6 + n * panel_inches), right=0.98, top=0.78,
                        bottom=0.32, wspace=0.08)
    longest = max(info.total_iterations for info in runs.values())
    finite_values = []
    for ax, (name, info) in zip(axes, runs.items()):
        it = np.asarray(info.iterations, dtype=float)
        values = np.asarray(getattr(info, column), dtype=float)
        ok = np.isfinite(values)
        if not ok.all():                      # draw up to the first NaN or infinity only
            ok[int(np.flatnonzero(~ok)[0]):] = False
        ax.plot(it[ok], values[ok] * scale, lw=1.2, color=TRAIN_COLOUR, label="mini-batch",
                drawstyle="steps-post" if metric == "learn_rate" else "default")
        finite_values.append(values[ok] * scale)
        val = None if val_column is None else np.asarray(getattr(info, val_column), float)
        if val is not None:
            has = np.isfinite(val)
            if has.any():
                ax.plot(it[has], val[has] * scale, "o--", ms=4, lw=1, color=VALIDATION_COLOUR,
                        label="validation")
                finite_values.append(val[has] * scale)
        if reference is not None:
            ax.axhline(float(reference[0]) * scale, color="0.5", lw=1, ls=":",
                       label=reference[1])
        ax.set_title(_title(name, info, values, val, metric, scale), fontsize=font(9))
        ax.set_xlabel("iteration", fontsize=font(8))
        ax.tick_params(labelsize=font(7))
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    axes[0].set_xlim(0, longest + 0.5)
    axes[0].set_ylabel(ylabel, fontsize=font(8))
    if log_y:
        axes[0].set_yscale("log")
    elif metric == "accuracy":
        axes[0].set_ylim(-2, 102)
    else:
        both = np.concatenate(finite_values + ([np.array([float(reference[0]) * scale])]
                                               if reference is not None else []))
        low, high = float(both.min()), float(both.max())
        pad = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
        axes[0].set_ylim(min(0.0, low) if metric == "loss" else low - pad, high + pad)
    labelled = {}
    for ax in axes:
        for line in ax.get_lines():
            labelled.setdefault(line.get_label(), line)
    fig.legend(list(labelled.values()), list(labelled), loc="lower center", ncol=len(labelled),
               fontsize=font(7), frameon=False)
    return fig
