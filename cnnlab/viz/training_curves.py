"""Training curves: loss and accuracy (or RMSE) per iteration, with the validation points.

Reads a ``TrainingInfo`` (``cnnlab.training_record``): ``info.iterations``, ``info.loss``,
``info.accuracy`` / ``info.rmse`` and the ``validation_*`` columns (NaN where validation did
not run). One persistent figure; ``update(info)`` moves the line data in place, so a monitor
can call it while training runs.

    curves = TrainingCurves()
    curves.update(info)          # after (or during) cl.train_network
    open("curves.png", "wb").write(curves.png())
    fig = training_curves(info)  # a one-off Figure
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .style import figure, font

# Okabe-Ito: blue for the mini-batch, vermillion for validation
TRAIN_COLOUR, VALIDATION_COLOUR = "#0072B2", "#D55E00"


class TrainingCurves:
    """Two stacked axes (loss; accuracy in % or RMSE) against iteration.

    Lines: ``lines["loss"]``, ``lines["validation_loss"]``, ``lines["metric"]``,
    ``lines["validation_metric"]`` (Line2D, data set in place). The x axis spans the whole
    run (``info.total_iterations``) so the picture also shows how far training has come.
    """

    def __init__(self, *, figsize=(7.5, 4.8), dpi: int = 80):
        self.figure = figure(*figsize, dpi=dpi)       # sized by the style; PNG in a notebook
        # fixed margins (a layout engine would re-measure every label at every redraw)
        self.figure.subplots_adjust(left=0.11, right=0.98, top=0.93, bottom=0.1, hspace=0.1)
        self.axes = self.figure.subplots(2, 1, sharex=True)
        loss_ax, metric_ax = self.axes
        self.lines = {
            "loss": loss_ax.plot([], [], lw=1.2, color=TRAIN_COLOUR, label="mini-batch")[0],
            "validation_loss": loss_ax.plot([], [], "o--", ms=4, lw=1, color=VALIDATION_COLOUR,
                                            label="validation")[0],
            "metric": metric_ax.plot([], [], lw=1.2, color=TRAIN_COLOUR, label="mini-batch")[0],
            "validation_metric": metric_ax.plot([], [], "o--", ms=4, lw=1,
                                                color=VALIDATION_COLOUR, label="validation")[0],
        }
        loss_ax.set_ylabel("loss")
        metric_ax.set_xlabel("iteration")
        for ax in self.axes:
            ax.grid(alpha=0.3)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4))   # few labels: text is the cost
        metric_ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        self.title = loss_ax.set_title("waiting for the first iteration", fontsize=font(10))
        self._task = None
        self._legend_with_validation = None

    def update(self, info) -> None:
        """Put info's history into the lines and rescale the axes."""
        classification = info.task == "classification"
        if info.task != self._task:
            self._task = info.task
            self.axes[1].set_ylabel("accuracy (%)" if classification else "RMSE")
        scale = 100.0 if classification else 1.0
        it = np.asarray(info.iterations, dtype=float)
        metric = info.accuracy if classification else info.rmse
        val_metric = info.validation_accuracy if classification else info.validation_rmse
        has_val = ~np.isnan(np.asarray(info.validation_loss, dtype=float))
        self.lines["loss"].set_data(it, info.loss)
        self.lines["validation_loss"].set_data(it[has_val], info.validation_loss[has_val])
        self.lines["metric"].set_data(it, metric * scale)
        self.lines["validation_metric"].set_data(it[has_val], val_metric[has_val] * scale)
        for ax in self.axes:
            ax.relim()
            ax.autoscale_view(scalex=False)
        self.axes[0].set_xlim(0, max(info.total_iterations, 1) + 0.5)
        if classification:
            self.axes[1].set_ylim(-2, 102)
        if self._legend_with_validation != bool(has_val.any()):
            self._legend_with_validation = bool(has_val.any())
            handles = [h for h in self.axes[0].get_lines()
                       if has_val.any() or h.get_label() != "validation"]
            self.axes[0].legend(handles=handles, loc="upper right", fontsize=font(8))
        self.title.set_text(status_line(info))

    def curve_data(self) -> dict:
        """name -> (x, y) arrays the lines hold now (what the picture shows)."""
        return {k: (np.asarray(line.get_xdata()), np.asarray(line.get_ydata()))
                for k, line in self.lines.items()}

    def _repr_png_(self) -> bytes:
        """How a notebook shows this picture (IPython's display calls it)."""
        return self.png()

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.figure.dpi)
        return buffer.getvalue()


def status_line(info) -> str:
    """'epoch 2 of 4, iteration 37 of 60 (stopped: interrupted)'."""
    text = (f"epoch {info.epoch} of {info.max_epochs}, iteration {info.iteration} of "
            f"{info.total_iterations}")
    if info.stopped_reason:
        text += f" (stopped: {info.stopped_reason})"
    return text


def training_curves(info, **kw) -> Figure:
    """A Figure of info's curves (``TrainingCurves`` keywords: figsize, dpi)."""
    curves = TrainingCurves(**kw)
    curves.update(info)
    return curves.figure
