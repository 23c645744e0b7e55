"""TrainingMonitor: live loss/accuracy curves, a progress readout and a Stop button.

In a notebook, train through the monitor and wait for it with ``await``:

    mon = TrainingMonitor(); display(mon)
    net, info = await mon.run(X, Y, layers, options)

``run`` trains in a background thread and the cell waits for that thread with ``await``, so
the kernel's event loop stays free: the Stop click reaches the kernel while training runs
(ipykernel 7.4 and later dispatch widget messages while a cell awaits; an older kernel
still trains to the end, the readout says so, and its interrupt button stops cleanly),
training ends after the
iteration in progress (stopped_reason "interrupted", the partial network is returned) and the
readout says that you stopped it. Pass a list of layers, not a Network, and running the cell
again trains fresh weights (``Network(layers, seed=options.seed)``) instead of continuing.

A cell that calls ``train_network`` directly keeps the kernel busy until training ends: the
curves still update (``TrainingOptions(plots=mon)`` calls ``mon.update(info)`` after every
iteration and ``mon.finish(info)`` at the end), but a Stop click waits in the kernel's queue
until the cell is over; Jupyter's interrupt button does stop it cleanly (the training loop
treats Ctrl-C as a clean stop). Outside a notebook ``mon.train(...)`` blocks like
``train_network``, and ``mon.start(...)`` / ``mon.result()`` run the thread without ``await``.

Redrawing is throttled to ``min_interval`` seconds (0.3 s: at most ~3 pictures a second) and
to four times the last picture's drawing time (so drawing takes at most ~20% of the run); the
first iteration and the end of training are always drawn. ``clock`` (``time.perf_counter``)
is what the throttle reads: tests pass a clock of their own, so that how many pictures are
drawn does not depend on how fast the machine draws.
"""
from __future__ import annotations

import asyncio
import dataclasses
import html
import threading
import time

import ipywidgets as widgets

from ..viz.training_curves import TrainingCurves, status_line


def _picture_layout():
    """At its own pixel size (a VBox would stretch it to the full width), never wider than
    the page."""
    return widgets.Layout(max_width="100%", align_self="flex-start")


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class TrainingMonitor(widgets.VBox):
    """Live curves and progress of a ``train_network`` run, with a Stop button.

    Attributes: ``progress`` (IntProgress over iterations), ``readout`` (HTML: iteration,
    epoch, loss, accuracy, validation, time), ``stop_button``, ``image`` (the curves PNG),
    ``curves`` (the ``TrainingCurves`` renderer), ``stop_requested`` (bool), ``info`` (the
    TrainingInfo last seen), ``draws`` (pictures rendered so far), ``stopped_by_user`` (the
    last run ended because Stop was pressed).
    """

    def __init__(self, *, min_interval: float = 0.3, clock=time.perf_counter):
        self.min_interval = float(min_interval)
        self.clock = clock
        self.stopped_by_user = False
        self.note = ""          # a line under the readout (why Stop cannot work, if it cannot)
        self.curves = TrainingCurves()
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="training",
                                            layout=widgets.Layout(width="420px"))
        self.readout = widgets.HTML("waiting for train_network to start")
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger",
                                          tooltip="stop after the current iteration",
                                          disabled=True)
        self.stop_button.on_click(lambda _button: self.stop())
        self.image = widgets.Image(format="png", layout=_picture_layout())
        self.stop_requested = False
        self.info = None
        self.draws = 0
        self._last_draw = -float("inf")
        self._draw_seconds = 0.0
        self._thread = None
        self._result = None
        self._error = None
        super().__init__([widgets.HBox([self.progress, self.stop_button]), self.readout,
                          self.image])

    # ---- the monitor protocol of train_network ---------------------------------------------
    def update(self, info) -> None:
        """Called by train_network after every iteration (``TrainingOptions(plots=mon)``)."""
        if info is not self.info:                 # a new run: fresh state
            self.info = info
            self.stop_requested = self.stopped_by_user = False
            self.stop_button.disabled = False
            self.stop_button.description = "Stop"
            self.progress.max = max(info.total_iterations, 1)
            self._last_draw = -float("inf")
        # at most one picture per min_interval, and drawing at most ~20% of the time
        if self.clock() - self._last_draw >= max(self.min_interval, 4 * self._draw_seconds):
            self.draw(info)

    def finish(self, info) -> None:
        """Called once when training ends: the final picture and why it stopped.
        (``close()`` stays ipywidgets' ``Widget.close``, which removes the widget.)"""
        self.info = info
        # the loop stops for the Stop button only through stop_requested ("interrupted")
        self.stopped_by_user = self.stop_requested and info.stopped_reason == "interrupted"
        self.draw(info)
        self.stop_button.disabled = True
        self.stop_button.description = "Stop"

    def __call__(self, info) -> bool:
        """As a ``train_network`` callback: True (stop) once Stop was pressed."""
        return self.stop_requested

    def stop(self) -> None:
        """What the Stop button does: ask training to stop after the current iteration."""
        self.stop_requested = True
        self.stop_button.description = "Stopping..."
        self.stop_button.disabled = True

    # ---- drawing ------------------------------------------------------------------------
    def draw(self, info) -> None:
        """Readout, progress bar and curves from ``info`` (not throttled)."""
        start = self._last_draw = self.clock()
        self.progress.max = max(info.total_iterations, 1)
        self.progress.value = info.iteration
        self.readout.value = readout_html(info, stopped_by_user=self.stopped_by_user) + (
            f"<br><i>{html.escape(self.note)}</i>" if self.note else "")
        if info.iteration:
            self.curves.update(info)
            self.image.value = self.curves.png()
            self.draws += 1
        self._draw_seconds = self.clock() - start

    # ---- training through the monitor ---------------------------------------------------
    def _wire(self, options, callbacks):
        from ..training_options import TrainingOptions
        options = TrainingOptions() if options is None else options
        return dataclasses.replace(options, plots=self), list(callbacks or [])

    def train(self, X, Y, layers_or_network, options=None, *, callbacks=None):
        """``train_network`` with this monitor as plots and Stop callback; returns (net, info)."""
        from ..training import train_network
        options, callbacks = self._wire(options, callbacks)
        return train_network(X, Y, layers_or_network, options, callbacks=callbacks)

    def start(self, X, Y, layers_or_network, options=None, *, callbacks=None):
        """Train in a background thread (Stop stays clickable in a notebook); returns None at once.

        ``result()`` waits for the end and returns (net, info); ``running`` says whether the
        thread is still training. Do not touch the network while it trains.
        """
        if self.running:
            raise RuntimeError("TrainingMonitor.start: a training run is already going; press "
                               "Stop or wait for result()")
        options, callbacks = self._wire(options, callbacks)
        from ..training import train_network
        self._result = self._error = None

        def run():
            try:
                self._result = train_network(X, Y, layers_or_network, options,
                                             callbacks=callbacks)
            except BaseException as e:       # shown in the readout, re-raised by result()
                self._error = e
                self.readout.value = (f"<span style='color:#D55E00'>training failed: "
                                      f"{html.escape(str(e))}</span>")

        self._thread = threading.Thread(target=run, name="cnnlab-training", daemon=True)
        self._thread.start()

    async def run(self, X, Y, layers_or_network, options=None, *, callbacks=None,
                  poll_seconds: float = 0.05):
        """Train in a background thread and wait for it without blocking the event loop.

        ``net, info = await mon.run(...)`` in a notebook cell: while the cell awaits, the kernel
        still handles widget messages, so Stop works during training. A KeyboardInterrupt or a
        cancelled cell asks the thread to stop after its iteration and waits for it (one
        iteration), so no thread keeps training behind your back.
        """
        self.start(X, Y, layers_or_network, options, callbacks=callbacks)
        self.note = "" if _kernel_hears_widgets_while_awaiting() else (
            "this kernel (ipykernel older than 7.4) hears the Stop button only after training: "
            "to stop now, use the kernel's interrupt button")
        self.readout.value = self.note or self.readout.value
        try:
            while self.running:
                await asyncio.sleep(poll_seconds)
        except KeyboardInterrupt:
            self.stop()
            self._thread.join()
        except asyncio.CancelledError:
            self.stop()
            self._thread.join()
            raise
        return self.result()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def result(self, timeout=None):
        """(net, info) of the run started by ``start``, waiting for it to end."""
        if self._thread is None:
            raise RuntimeError("TrainingMonitor.result: no run was started with start()")
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"TrainingMonitor.result: still training after {timeout} s")
        if self._error is not None:
            raise self._error
        return self._result


def _kernel_hears_widgets_while_awaiting() -> bool:
    """False inside an ipykernel older than 7.4 (it queues widget messages behind an awaiting
    cell); True in 7.4 and later, and outside a kernel (nothing to hear)."""
    import sys
    kernel = sys.modules.get("ipykernel")
    if kernel is None:
        return True
    try:
        major, minor = (int(part) for part in kernel.__version__.split(".")[:2])
    except (AttributeError, ValueError):
        return True
    return (major, minor) >= (7, 4)


def readout_html(info, *, stopped_by_user: bool = False) -> str:
    """One or two lines: where training is, the latest numbers, time used and left; at the
    end why training stopped (``stopped_by_user``: the Stop button, said in those words)."""
    parts = [html.escape(status_line(info))]
    if info.iteration:
        k = info.iteration - 1
        parts.append(f"loss {info.loss[k]:.4f}")
        if info.task == "classification":
            parts.append(f"accuracy {100 * info.accuracy[k]:.1f}%")
            metric = info.validation_accuracy
            val = metric[~(metric != metric)]        # drop NaN (not computed)
            if len(val):
                parts.append(f"validation accuracy {100 * val[-1]:.1f}%")
        else:
            parts.append(f"RMSE {info.rmse[k]:.4g}")
        used = info.elapsed_seconds
        done = info.iteration / max(info.total_iterations, 1)
        parts.append(f"elapsed {_hms(used)}")
        if not info.stopped_reason and 0 < done < 1:
            parts.append(f"about {_hms(used * (1 - done) / done)} left")
    text = " · ".join(parts)
    if stopped_by_user:
        text += (f"<br><i>stopped by user (the Stop button) after iteration {info.iteration} "
                 f"of {info.total_iterations}</i>")
    elif info.stopped_reason:
        text += f"<br><i>{html.escape(info.message)}</i>"
    return text
