"""TrainingMonitor on a tiny real training run (reference backend): curves equal the
history, Stop ends training cleanly."""
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
    mon = TrainingMonitor(min_interval=0)
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
    assert 2 <= mon.draws <= 7                 # first iteration, throttled ones, the end


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


def test_throttled_redraws_and_a_fresh_state_for_a_new_run(digits):
    X, y = digits
    mon = TrainingMonitor(min_interval=3600)
    mon.stop()                                  # a stale press before the run ...
    net, info = mon.train(X, y, layers(), options())
    assert info.stopped_reason == "max-epochs"  # ... does not stop the new run
    assert mon.draws == 2                       # the first iteration and the end only


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


def test_readout_before_and_after():
    from cnnlab.training_record import TrainingInfo
    info = TrainingInfo(total_iterations=4, iterations_per_epoch=2, max_epochs=2,
                        task="regression")
    assert readout_html(info).startswith("epoch 0 of 2, iteration 0 of 4")
    info._append(epochs=1, iterations=1, loss=0.5, learn_rate=0.1, time=1.0, rmse=0.25)
    info.elapsed_seconds = 2.0
    text = readout_html(info)
    assert "RMSE 0.25" in text and "elapsed 00:00:02" in text and "about 00:00:06 left" in text
