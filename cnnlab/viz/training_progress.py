"""``plots="training-progress"``: the training curves, redrawn while ``train_network`` runs.

The picture is ``cnnlab.viz.training_curves.TrainingCurves`` (the one renderer of the
curves, also the TrainingMonitor's), redrawn at most once every ``min_interval`` seconds and
always at the end. In Jupyter the PNG is displayed and updated in place; elsewhere it is
saved to ``path`` (``make_monitor`` in ``cnnlab.training_record`` picks
training-progress.png in the checkpoint folder or the current folder). The TrainingMonitor
widget does the same with a Stop button; any object with ``update(info)`` (and optionally
``finish(info)``) can be passed as ``plots`` instead.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from .training_curves import TrainingCurves


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (where a display can be updated in place)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class TrainingProgressPlot:
    """Loss (top) and accuracy or RMSE (bottom) against iteration, with validation points.

    Attributes: ``curves`` (the TrainingCurves), ``path``, ``draws`` (pictures made).
    """

    def __init__(self, *, path=None, min_interval: float = 1.0):
        self.curves = TrainingCurves(figsize=(7, 5), dpi=100)
        self.path = None if path is None else Path(path)
        self.min_interval = float(min_interval)
        self.draws = 0
        self._last = -math.inf
        self._handle = None
        self._jupyter = in_jupyter()

    def update(self, info):
        """After every iteration: redraw when ``min_interval`` seconds have passed."""
        if time.perf_counter() - self._last >= self.min_interval:
            self.draw(info)

    def finish(self, info):
        """When training ends: the final picture."""
        self.draw(info)

    def draw(self, info):
        self._last = time.perf_counter()
        self.curves.update(info)
        png = self.curves.png()
        self.draws += 1
        if self._jupyter:
            from IPython.display import Image, display
            if self._handle is None:
                self._handle = display(Image(data=png), display_id=True)
            else:
                self._handle.update(Image(data=png))
        elif self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(png)
