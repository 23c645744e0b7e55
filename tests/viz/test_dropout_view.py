"""The dropout picture reads the trace's mask, scale and counts."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.viz.dropout_view import DropoutView


def trace(p, training, seed=0):
    x = np.arange(1.0, 37.0).reshape(6, 6, 1)
    net = cl.Network([cl.ImageInput(x.shape, normalization="none"), cl.Dropout(p)],
                     dtype="float64", backend="reference", seed=seed)
    return net.trace(x, training=training)[1]


def test_training_mask_scaled_values_and_counts():
    rec = trace(0.25, True)
    view = DropoutView(rec)
    kept = rec.mask[:, :, 0]
    np.testing.assert_array_equal(view.mask_grid.values, kept.astype(float))
    x = np.arange(1.0, 37.0).reshape(6, 6)
    # kept values times 1/(1 - 0.25) = 4/3, dropped ones 0: by hand from the mask
    np.testing.assert_allclose(view.output_grid.values, np.where(kept, x * 4 / 3, 0))
    n_kept = int(kept.sum())
    text = view.summary.get_text()
    assert f"kept {n_kept} of 36 values (expected (1 - p)·n = 27)" in text
    assert f"dropped {36 - n_kept} (expected p·n = 9)" in text
    assert "1/(1 - p) = 1.33" in text
    xs, _ = view._crosses.get_data()
    assert len(xs) == 36 - n_kept


def test_prediction_mode_is_the_identity_and_show_redraws():
    view = DropoutView(trace(0.5, True))
    first = view.png()
    view.show(trace(0.5, False))
    assert (view.mask_grid.values == 1).all()
    np.testing.assert_array_equal(view.output_grid.values, view.input_grid.values)
    assert view.summary.get_text().startswith("prediction mode: dropout is the identity")
    assert "about 18 of the 36 values" in view.summary.get_text()
    assert view.png() != first


def test_wrong_records_and_shapes():
    with pytest.raises(ValueError, match="not dropout"):
        DropoutView(cl.Network([cl.ImageInput((2, 2, 1), normalization="none"), cl.ReLU()],
                               backend="reference")
                    .trace(np.zeros((2, 2, 1)))[1])
    view = DropoutView(trace(0.5, True))
    x = np.zeros((3, 3, 1))
    net = cl.Network([cl.ImageInput(x.shape, normalization="none"), cl.Dropout(0.5)],
                     backend="reference")
    with pytest.raises(ValueError, match="built for"):
        view.show(net.trace(x)[1])
