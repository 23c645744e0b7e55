"""What a training run records and prints: its history, a progress bar, a table.

* ``TrainingInfo``: the history, one entry per iteration, returned by ``train_network``.
* ``Progress``: a ``tqdm.auto`` bar over iterations (a widget in Jupyter, text on stderr in a
  terminal) with the loss and accuracy in its postfix, and, when ``options.verbose``, a table
  like MATLAB's printed every ``verbose_frequency`` iterations (and at the first and last).
* ``make_monitor``: what ``options.plots`` asks for. The pictures live in ``cnnlab.viz``:
  ``plots="training-progress"`` is ``cnnlab.viz.training_progress.TrainingProgressPlot``,
  which draws with ``cnnlab.viz.training_curves.TrainingCurves``.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

_FLOAT_COLUMNS = ("loss", "accuracy", "rmse", "learn_rate", "time", "validation_loss",
                  "validation_accuracy", "validation_rmse")
_COLUMNS = ("epochs", "iterations") + _FLOAT_COLUMNS


class TrainingInfo:
    """The record of a training run, one entry per iteration (NumPy arrays).

    epochs, iterations : epoch (1-based) and iteration (1-based, counted over the whole run)
    loss : mini-batch loss, computed before that iteration's update
    accuracy : mini-batch accuracy as a fraction 0..1 (classification; NaN for regression)
    rmse : mini-batch root-mean-square error (regression; NaN for classification)
    learn_rate : the global learn rate used; time : seconds since training started
    validation_loss, validation_accuracy, validation_rmse : NaN where not computed
    stopped_reason : "max-epochs" | "nan-loss" | "interrupted"; message says more
    final_validation_loss / _accuracy / _rmse : on the returned network (NaN without data)
    elapsed_seconds, warnings (list of str), classes (the class labels, or None)
    iteration, epoch, total_iterations, iterations_per_epoch : where the run is (for monitors)
    """

    def __init__(self, *, total_iterations: int, iterations_per_epoch: int, max_epochs: int,
                 task: str, classes=None):
        self.task = task
        self.total_iterations = int(total_iterations)
        self.iterations_per_epoch = int(iterations_per_epoch)
        self.max_epochs = int(max_epochs)
        self.classes = classes
        self._data = {c: np.full(self.total_iterations, np.nan) for c in _FLOAT_COLUMNS}
        for c in ("epochs", "iterations"):
            self._data[c] = np.zeros(self.total_iterations, dtype=np.int64)
        self.iteration = 0
        self.epoch = 0
        self.stopped_reason: str | None = None
        self.message = ""
        self.final_validation_loss = self.final_validation_accuracy = np.nan
        self.final_validation_rmse = np.nan
        self.elapsed_seconds = 0.0
        self.warnings: list[str] = []
        self.resumed_from: str | None = None

    def _append(self, **values):
        for c, v in values.items():
            self._data[c][self.iteration] = v
        self.iteration += 1

    def _set(self, column: str, value: float):
        """Set a column of the latest iteration (validation results)."""
        self._data[column][self.iteration - 1] = value

    # ---- checkpoints ---------------------------------------------------------------------
    def state(self) -> tuple[dict, dict]:
        """(meta, arrays) for a checkpoint."""
        meta = {"iteration": self.iteration, "epoch": self.epoch,
                "elapsed_seconds": self.elapsed_seconds, "warnings": list(self.warnings)}
        return meta, {c: self._data[c][:self.iteration] for c in _COLUMNS}

    def load_state(self, meta: dict, arrays: dict):
        n = int(meta["iteration"])
        if n > self.total_iterations:
            raise ValueError(f"the checkpoint has {n} iterations, more than this run's "
                             f"{self.total_iterations}")
        for c in _COLUMNS:
            self._data[c][:n] = arrays[c]
        self.iteration, self.epoch = n, int(meta["epoch"])
        self.elapsed_seconds = float(meta["elapsed_seconds"])
        self.warnings = [w for w in meta["warnings"] if w not in self.warnings] + self.warnings

    def __repr__(self):
        last = f", loss {self.loss[-1]:.4g}" if self.iteration else ""
        return (f"<TrainingInfo: {self.iteration} of {self.total_iterations} iterations, epoch "
                f"{self.epoch} of {self.max_epochs}{last}, stopped: {self.stopped_reason}>")


for _c in _COLUMNS:
    setattr(TrainingInfo, _c, property(lambda self, c=_c: self._data[c][:self.iteration],
                                       doc=f"info.{_c}, one entry per iteration"))



_TABLE = (("Epoch", 7), ("Iteration", 11), ("Time Elapsed", 14), ("Mini-batch", 12),
            ("Validation", 12), ("Mini-batch", 12), ("Validation", 12), ("Base Learning", 15))


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """The progress bar and the verbose table of one run."""

    def __init__(self, options, info):
        self.options = options
        self.bar = None
        self.header_done = False
        self.last_row = 0
        if options.progress_bar:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=info.total_iterations, initial=info.iteration,
                            desc="training", unit="it", dynamic_ncols=True)

    def _print(self, text: str):
        if self.bar is not None:
            self.bar.write(text, file=sys.stdout)
        else:
            print(text, flush=True)

    def _header(self, task: str):
        metric = "Accuracy" if task == "classification" else "RMSE"
        second = ("", "", "(hh:mm:ss)", metric, metric, "Loss", "Loss", "Rate")
        rule = "|" + "=" * (sum(w + 3 for _, w in _TABLE) - 1) + "|"
        self._print(rule)
        for row in ([name for name, _ in _TABLE], second):
            self._print("|" + "|".join(f" {v:^{w}} " for v, (_, w) in zip(row, _TABLE)) + "|")
        self._print(rule)
        self.header_done = True

    def row(self, info):
        """Print the table row of the latest iteration."""
        if not self.header_done:
            self._header(info.task)
        k = info.iteration - 1
        metric = info.accuracy if info.task == "classification" else info.rmse
        val_metric = (info.validation_accuracy if info.task == "classification"
                      else info.validation_rmse)

        def num(v, pct=False):
            if math.isnan(v):
                return ""
            return f"{100 * v:.2f}%" if pct else f"{v:.4f}"

        pct = info.task == "classification"
        cells = (info.epochs[k], info.iterations[k], _hms(info.time[k]), num(metric[k], pct),
                 num(val_metric[k], pct), num(info.loss[k]), num(info.validation_loss[k]),
                 f"{info.learn_rate[k]:.4g}")
        self._print("|" + "|".join(f" {str(v):>{w}} " for v, (_, w) in zip(cells, _TABLE))
                    + "|")
        self.last_row = info.iteration

    def update(self, info):
        it = info.iteration
        if self.bar is not None:
            self.bar.update(it - self.bar.n)
            post = {"loss": f"{info.loss[-1]:.4f}"}
            if info.task == "classification":
                post["accuracy"] = f"{100 * info.accuracy[-1]:.1f}%"
            else:
                post["rmse"] = f"{info.rmse[-1]:.4g}"
            self.bar.set_postfix(post, refresh=False)
        if self.options.verbose and (it == 1 or it % self.options.verbose_frequency == 0
                                     or it == info.total_iterations):
            self.row(info)

    def close(self):
        if self.bar is not None:
            self.bar.close()

    def summary(self, info):
        """The last row (if not yet printed) and why training stopped."""
        if not self.options.verbose:
            return
        if info.iteration and self.last_row != info.iteration:
            self.row(info)
        if self.header_done:
            self._print("|" + "=" * (sum(w + 3 for _, w in _TABLE) - 1) + "|")
        self._print(f"Training stopped ({info.stopped_reason}): {info.message}.")


def make_monitor(options):
    """The monitor ``options.plots`` asks for: None, a TrainingProgressPlot (drawn by
    ``cnnlab.viz``) or the object."""
    if isinstance(options.plots, str):
        if options.plots == "none":
            return None
        from .viz.training_progress import TrainingProgressPlot, in_jupyter
        folder = Path(options.checkpoint_path) if options.checkpoint_path else Path(".")
        return TrainingProgressPlot(path=None if in_jupyter()
                                    else folder / "training-progress.png")
    return options.plots
