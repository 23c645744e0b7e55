"""compare_runs: one panel per run, on shared axes, drawing exactly the recorded history."""
import math

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.training_record import TrainingInfo
from cnnlab.viz.run_comparison import compare_runs


def make_info(losses, *, accuracies=None, rates=None, validate=(), task="classification",
              total=None, stopped="max-epochs"):
    """A TrainingInfo filled by hand: losses[k] at iteration k + 1, validation at the
    iterations in ``validate`` (loss 1.5, accuracy 0.5)."""
    n = len(losses)
    info = TrainingInfo(total_iterations=total or n, iterations_per_epoch=n, max_epochs=1,
                        task=task)
    for k, loss in enumerate(losses):
        metric = ({"accuracy": accuracies[k] if accuracies is not None else 0.1}
                  if task == "classification" else {"rmse": 1.0})
        info._append(epochs=1, iterations=k + 1, loss=loss,
                     learn_rate=rates[k] if rates is not None else 0.01, time=0.0, **metric)
        if k + 1 in validate:
            info._set("validation_loss", 1.5)
            info._set("validation_accuracy", 0.5)
    info.stopped_reason = stopped
    return info


def _curves(ax):
    return {line.get_label(): (line.get_xdata(), line.get_ydata()) for line in ax.get_lines()}


def test_one_panel_per_run_in_order_with_its_history_and_validation_points():
    runs = {"a": make_info([2.3, 2.0, 1.0, 0.5], validate=(1, 4)),
            "b": make_info([2.3, 2.2, 2.1, 2.0])}
    fig = compare_runs(runs)
    assert len(fig.axes) == 2
    a, b = fig.axes
    assert a.get_title() == "a\nlast 0.5, validation 1.5"
    assert b.get_title() == "b\nlast 2"
    np.testing.assert_array_equal(_curves(a)["mini-batch"][0], [1, 2, 3, 4])
    np.testing.assert_array_equal(_curves(a)["mini-batch"][1], [2.3, 2.0, 1.0, 0.5])
    np.testing.assert_array_equal(_curves(a)["validation"][0], [1, 4])
    assert "validation" not in _curves(b)                 # b never validated
    # the same y range in every panel, from 0 (a loss) to above the highest value
    assert a.get_ylim() == b.get_ylim()
    assert a.get_ylim()[0] == 0 and a.get_ylim()[1] > 2.3
    assert fig.png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_panels_span_the_longest_run_so_a_short_one_looks_short():
    runs = {"short": make_info([2.0, 1.0], total=2), "long": make_info([2.0] * 10)}
    fig = compare_runs(runs)
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim()
    assert fig.axes[0].get_xlim()[1] >= 10


def test_a_loss_that_became_nan_is_drawn_up_to_the_nan_and_named_in_the_title():
    info = make_info([2.3, 5.0, np.inf, np.nan], stopped="nan-loss")
    fig = compare_runs({"η = 10": info})
    x, y = _curves(fig.axes[0])["mini-batch"]
    np.testing.assert_array_equal(x, [1, 2])
    np.testing.assert_array_equal(y, [2.3, 5.0])
    assert fig.axes[0].get_title() == "η = 10\nloss became NaN at iteration 3"
    assert np.isfinite(fig.axes[0].get_ylim()).all()


def test_accuracy_is_in_percent_and_learn_rate_as_steps():
    info = make_info([2.0, 1.0, 0.5], accuracies=[0.2, 0.6, 1.0], rates=[0.1, 0.1, 0.01],
                     validate=(3,))
    fig = compare_runs({"run": info}, metric="accuracy")
    ax = fig.axes[0]
    np.testing.assert_allclose(_curves(ax)["mini-batch"][1], [20, 60, 100])
    np.testing.assert_allclose(_curves(ax)["validation"][1], [50])
    assert ax.get_ylabel() == "accuracy (%)" and ax.get_ylim() == (-2, 102)
    assert ax.get_title() == "run\nlast 100.0 %, validation 50.0 %"
    fig = compare_runs({"run": info}, metric="learn_rate", log_y=True)
    ax = fig.axes[0]
    np.testing.assert_allclose(_curves(ax)["mini-batch"][1], [0.1, 0.1, 0.01])
    assert ax.get_yscale() == "log" and ax.get_lines()[0].get_drawstyle() == "steps-post"


def test_a_reference_line_is_drawn_in_every_panel_and_the_legend_names_it():
    runs = {"a": make_info([2.3, 1.0]), "b": make_info([2.3, 3.0])}
    fig = compare_runs(runs, reference=(math.log(10), "guessing"))
    for ax in fig.axes:
        y = _curves(ax)["guessing"][1]
        np.testing.assert_allclose(y, [math.log(10)] * 2)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["mini-batch", "guessing"]


def test_real_training_runs_are_drawn_as_recorded():
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 6, 6, 1)), np.arange(40) % 2
    layers = lambda: [cl.ImageInput((6, 6, 1)), cl.FullyConnected(2), cl.Softmax(),  # noqa: E731
                      cl.Classification()]
    runs = {}
    for rate in (0.01, 0.1):
        options = cl.TrainingOptions("sgdm", initial_learn_rate=rate, max_epochs=2,
                                     mini_batch_size=10, verbose=False, progress_bar=False)
        runs[f"lr {rate}"] = cl.train_network(x, y, layers(), options)[1]
    fig = compare_runs(runs)
    for ax, info in zip(fig.axes, runs.values()):
        np.testing.assert_array_equal(_curves(ax)["mini-batch"][1], info.loss)
        assert len(info.loss) == 8                      # 40 / 10 per epoch, 2 epochs


@pytest.mark.parametrize("call, message", [
    (lambda: compare_runs({}), "1 to 8 runs"),
    (lambda: compare_runs([make_info([1.0])]), "must be a dict"),
    (lambda: compare_runs({"a": [1.0, 2.0]}), "run 'a' is a list, not the TrainingInfo"),
    (lambda: compare_runs({"a": make_info([1.0])}, metric="rmse"), "metric = 'rmse'"),
    (lambda: compare_runs({"a": make_info([1.0], task="regression")}, metric="accuracy"),
     "run 'a' is a regression run"),
    (lambda: compare_runs({"a": TrainingInfo(total_iterations=3, iterations_per_epoch=3,
                                             max_epochs=1, task="classification")}),
     "run 'a' recorded no iteration"),
    (lambda: compare_runs({"a": make_info([1.0])}, reference=2.3), "expected (value, label)"),
])
def test_bad_input_is_refused_with_what_was_wrong(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
