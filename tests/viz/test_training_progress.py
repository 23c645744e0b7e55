"""plots="training-progress": the TrainingCurves picture, throttled, saved outside Jupyter."""
import numpy as np

from cnnlab.viz.training_progress import TrainingProgressPlot
from tests.viz.test_training_curves import make_info


def test_draws_the_history_with_the_one_curves_renderer_and_saves_it(tmp_path):
    path = tmp_path / "sub" / "training-progress.png"
    plot = TrainingProgressPlot(path=path, min_interval=1e9)
    info = make_info(n=3)
    plot.update(info)                               # the first update always draws
    assert plot.draws == 1 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = path.read_bytes()
    info = make_info(n=6)
    plot.update(info)                               # within min_interval: not drawn
    assert plot.draws == 1 and path.read_bytes() == first
    plot.finish(info)                               # the end is always drawn
    assert plot.draws == 2 and path.read_bytes() != first
    data = plot.curves.curve_data()
    np.testing.assert_allclose(data["loss"][1], info.loss)
    np.testing.assert_array_equal(data["validation_loss"][0], [3, 6])
    assert plot.curves.title.get_text() == "epoch 2 of 2, iteration 6 of 10"


def test_without_a_path_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plot = TrainingProgressPlot()
    plot.finish(make_info(n=2))
    assert plot.draws == 1 and list(tmp_path.iterdir()) == []
