"""Training curves read a TrainingInfo's history into their lines, in place."""
import numpy as np

from cnnlab.training_record import TrainingInfo
from cnnlab.viz.training_curves import TrainingCurves, status_line, training_curves


def make_info(task="classification", n=6, validate_every=3):
    info = TrainingInfo(total_iterations=10, iterations_per_epoch=5, max_epochs=2, task=task)
    for k in range(n):
        metric = {"accuracy": 0.1 * k} if task == "classification" else {"rmse": 1.0 / (k + 1)}
        info.epoch = k // 5 + 1
        info._append(epochs=info.epoch, iterations=k + 1, loss=2.0 - 0.1 * k, learn_rate=0.01,
                     time=0.5 * k, **metric)
        if (k + 1) % validate_every == 0:
            info._set("validation_loss", 1.5 - 0.1 * k)
            info._set("validation_accuracy" if task == "classification" else "validation_rmse",
                      0.5)
    return info


def test_lines_hold_the_history_and_validation_points_only_where_computed():
    info = make_info()
    curves = TrainingCurves()
    curves.update(info)
    data = curves.curve_data()
    np.testing.assert_array_equal(data["loss"][0], [1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(data["loss"][1], info.loss)
    np.testing.assert_allclose(data["metric"][1], 100 * info.accuracy)
    np.testing.assert_array_equal(data["validation_loss"][0], [3, 6])
    np.testing.assert_allclose(data["validation_loss"][1], [1.3, 1.0])
    np.testing.assert_allclose(data["validation_metric"][1], [50.0, 50.0])
    assert curves.axes[1].get_ylabel() == "accuracy (%)"
    assert curves.axes[0].get_xlim()[1] >= 10          # the whole run's length
    assert curves.title.get_text() == "epoch 2 of 2, iteration 6 of 10"
    labels = [t.get_text() for t in curves.axes[0].get_legend().get_texts()]
    assert labels == ["mini-batch", "validation"]


def test_updates_in_place_and_the_picture_changes():
    info = make_info(n=2, validate_every=100)
    curves = TrainingCurves()
    curves.update(info)
    lines_before = list(curves.axes[0].get_lines())
    first = curves.png()
    assert [t.get_text() for t in curves.axes[0].get_legend().get_texts()] == ["mini-batch"]
    for k in range(2, 5):
        info._append(epochs=1, iterations=k + 1, loss=1.0, learn_rate=0.01, time=1.0,
                     accuracy=0.9)
    curves.update(info)
    assert list(curves.axes[0].get_lines()) == lines_before      # same artists, new data
    assert len(curves.curve_data()["loss"][0]) == 5
    assert curves.png() != first


def test_regression_shows_rmse_and_the_stop_reason():
    info = make_info("regression")
    info.stopped_reason, info.message = "interrupted", "stopped"
    fig = training_curves(info)
    assert fig.axes[1].get_ylabel() == "RMSE"
    assert status_line(info).endswith("(stopped: interrupted)")
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_ydata(), info.rmse)
