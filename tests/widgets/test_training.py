"""TrainingMonitor on a tiny real training run (reference backend): curves equal the
history, Stop ends training cleanly (also while ``await mon.run(...)`` leaves the event loop
free, as a notebook cell does), and redraws are throttled by a clock the test controls, so no
count depends on how fast this machine draws."""
import asyncio
import time

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.datasets import make_digits
from cnnlab.widgets.training import TrainingMonitor, readout_html


@pytest.fixture(scope="module")
def digits():
    X, y = make_digits(24, seed=0)
    return X / 255.0, y


def layers():
    return [cl.ImageInput((28, 28, 1)), cl.Convolution2D(3, 2), cl.ReLU(),
            cl.MaxPooling2D(2, stride=2), cl.FullyConnected(10), cl.Softmax(),
            cl.Classification()]


def options(mon=None, **kw):
    base = dict(max_epochs=2, mini_batch_size=8, verbose=False, progress_bar=False,
                backend="reference", seed=0)
    base.update(kw)
    return cl.TrainingOptions("sgdm", plots="none" if mon is None else mon, **base)


def test_monitor_curves_equal_the_training_history(digits):
    X, y = digits
    mon = TrainingMonitor(min_interval=0, clock=lambda: 0.0)   # time stands still
    net, info = cl.train_network(X, y, layers(),
                                 options(mon, validation_data=(X[:8], y[:8]),
                                         validation_frequency=2),
                                 callbacks=[mon])
    assert info.stopped_reason == "max-epochs" and info.iteration == 6
    data = mon.curves.curve_data()
    np.testing.assert_array_equal(data["loss"][0], info.iterations)
    np.testing.assert_array_equal(data["loss"][1], info.loss)
    np.testing.assert_array_equal(data["metric"][1], 100 * info.accuracy)
    computed = ~np.isnan(info.validation_loss)
    np.testing.assert_array_equal(data["validation_loss"][1], info.validation_loss[computed])
    assert mon.progress.value == mon.progress.max == 6
    assert "(stopped: max-epochs)" in mon.readout.value
    assert f"loss {info.loss[-1]:.4f}" in mon.readout.value
    assert bytes(mon.image.value)[:4] == b"\x89PNG"
    assert mon.stop_button.disabled            # nothing to stop any more
    assert mon.draws == 7                      # no throttling: 6 iterations and the end


def test_stop_button_ends_training_with_the_partial_network(digits):
    X, y = digits
    mon = TrainingMonitor()

    def press_at_iteration_2(info):
        if info.iteration == 2:
            mon.stop_button.click()

    net, info = cl.train_network(X, y, layers(), options(mon, max_epochs=5),
                                 callbacks=[press_at_iteration_2, mon])
    assert info.stopped_reason == "interrupted"
    assert info.iteration == 2 and len(info.loss) == 2
    assert isinstance(net, cl.Network)
    assert "callback" in info.message


def test_plots_alone_is_enough_for_the_stop_button(digits):
    X, y = digits
    mon = TrainingMonitor()
    real_update = mon.update

    def update_and_press(info):          # a click arriving while iteration 3 is drawn
        real_update(info)
        if info.iteration == 3:
            mon.stop_button.click()
    mon.update = update_and_press
    net, info = cl.train_network(X, y, layers(), options(mon, max_epochs=5))
    assert info.stopped_reason == "interrupted"
    assert info.iteration == 3 and isinstance(net, cl.Network)
    np.testing.assert_array_equal(mon.curves.curve_data()["loss"][1], info.loss)
    assert "(stopped: interrupted)" in mon.readout.value
    assert "monitor" in info.message


class ManualClock:
    """Seconds that pass only when the test says so."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_throttled_redraws_and_a_fresh_state_for_a_new_run(digits):
    X, y = digits
    clock = ManualClock()
    mon = TrainingMonitor(min_interval=3600, clock=clock)
    mon.stop()                                  # a stale press before the run ...

    def a_minute_per_iteration(info):
        clock.now += 60

    net, info = mon.train(X, y, layers(), options(), callbacks=[a_minute_per_iteration])
    assert info.stopped_reason == "max-epochs"  # ... does not stop the new run
    assert not mon.stopped_by_user
    assert mon.draws == 2                       # the first iteration and the end only


def test_a_slow_picture_spaces_the_next_ones(digits):
    # each picture "takes" 2 s, each iteration 1 s: after a picture the next waits 4 · 2 s
    X, y = digits
    clock = ManualClock()
    mon = TrainingMonitor(min_interval=0, clock=clock)
    render = mon.curves.png

    def slow_png():
        clock.now += 2
        return render()
    mon.curves.png = slow_png

    def a_second_per_iteration(info):
        clock.now += 1

    drawn_at = []
    real_draw = mon.draw

    def recording_draw(info):
        drawn_at.append(info.iteration)
        real_draw(info)
    mon.draw = recording_draw
    net, info = mon.train(X, y, layers(), options(max_epochs=4),
                          callbacks=[a_second_per_iteration])
    assert info.iteration == 12
    # iteration 1 at t = 0 (drawn until t = 2), then t = 3, 4, ...: iteration 7 at t = 8 is
    # the first 8 s after the last picture began; then nothing until the end (t = 15 < 16)
    assert drawn_at == [1, 7, 12] and mon.draws == 3


def test_background_start_and_stop(digits):
    X, y = digits
    mon = TrainingMonitor()
    mon.start(X, y, layers(), options(max_epochs=200))
    deadline = time.monotonic() + 30
    while (mon.info is None or mon.info.iteration < 1) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert mon.running
    mon.stop_button.click()
    net, info = mon.result(timeout=30)
    assert not mon.running
    assert info.stopped_reason == "interrupted" and 1 <= info.iteration < 600
    with pytest.raises(RuntimeError, match="no run"):
        TrainingMonitor().result()


def test_awaited_run_leaves_the_event_loop_free_for_the_stop_click(digits):
    # what a notebook cell does: ``await mon.run(...)``; the click is handled by the same event
    # loop while training runs in its thread, as the kernel handles the browser's click
    X, y = digits
    mon = TrainingMonitor()

    async def click_once_training_runs():
        while mon.info is None or mon.info.iteration < 2:
            await asyncio.sleep(0.01)
        mon.stop_button.click()

    async def cell():
        clicker = asyncio.ensure_future(click_once_training_runs())
        result = await mon.run(X, y, layers(), options(max_epochs=200))
        await clicker
        return result

    net, info = asyncio.run(cell())
    assert info.stopped_reason == "interrupted" and 2 <= info.iteration < info.total_iterations
    assert mon.stopped_by_user and not mon.running
    assert "stopped by user (the Stop button) after iteration" in mon.readout.value
    assert f"after iteration {info.iteration} of {info.total_iterations}" in mon.readout.value
    assert isinstance(net, cl.Network)


def test_running_again_from_layers_starts_from_fresh_weights(digits):
    # a lesson cell that passes layers (not a trained Network) trains the same run again
    X, y = digits
    first = asyncio.run(TrainingMonitor().run(X, y, layers(), options(max_epochs=1)))[1]
    mon = TrainingMonitor()
    again = asyncio.run(mon.run(X, y, layers(), options(max_epochs=1)))[1]
    np.testing.assert_array_equal(first.loss, again.loss)
    assert not mon.stopped_by_user and "completed 1 epochs" in mon.readout.value


def test_an_older_kernel_is_told_that_stop_waits(digits, monkeypatch):
    import sys
    import types
    real = sys.modules.get("ipykernel")

    def kernel(version):               # what the monitor reads: the loaded ipykernel's version
        fake = types.ModuleType("ipykernel")
        fake.__dict__.update(vars(real) if real else {})
        fake.__version__, fake.version_info = version, tuple(map(int, version.split(".")))
        return fake
    monkeypatch.setitem(sys.modules, "ipykernel", kernel("7.3.0"))
    X, y = digits
    mon = TrainingMonitor()
    asyncio.run(mon.run(X, y, layers(), options(max_epochs=1)))
    assert "older than 7.4" in mon.readout.value and "interrupt button" in mon.readout.value
    monkeypatch.setitem(sys.modules, "ipykernel", kernel("7.4.0"))
    asyncio.run(mon.run(X, y, layers(), options(max_epochs=1)))
    assert "older than" not in mon.readout.value


def test_readout_before_and_after():
    from cnnlab.training_record import TrainingInfo
    info = TrainingInfo(total_iterations=4, iterations_per_epoch=2, max_epochs=2,
                        task="regression")
    assert readout_html(info).startswith("epoch 0 of 2, iteration 0 of 4")
    info._append(epochs=1, iterations=1, loss=0.5, learn_rate=0.1, time=1.0, rmse=0.25)
    info.elapsed_seconds = 2.0
    text = readout_html(info)
    assert "RMSE 0.25" in text and "elapsed 00:00:02" in text and "about 00:00:06 left" in text


def test_finish_ends_a_run_and_close_stays_the_widgets_close(digits):
    X, y = digits
    mon = TrainingMonitor(min_interval=1e9, clock=lambda: 0.0)   # only first and last drawn
    _, info = cl.train_network(X, y, layers(), options(mon, max_epochs=1))
    assert mon.info is info and mon.stop_button.disabled
    assert mon.draws == 2 and "(stopped: max-epochs)" in mon.readout.value
    assert mon.comm is not None
    mon.close()                                  # ipywidgets' close: the widget goes away
    assert mon.comm is None
