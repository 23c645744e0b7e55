"""DropoutExplorer without a kernel."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.widgets.dropout import DropoutExplorer


def test_resample_probability_and_mode():
    w = DropoutExplorer()
    assert w.record.training and w.record.mask is not None
    first_mask, first = w.record.mask.copy(), bytes(w.image.value)
    w.resample.click()
    assert not np.array_equal(w.record.mask, first_mask) and bytes(w.image.value) != first
    kept = int(w.record.mask.sum())
    assert f"kept {kept} of 64 values (expected (1 - p)·n = 32)" in w.summary.value
    np.testing.assert_allclose(w.record.output[w.record.mask], 2 * w.activations[w.record.mask])
    w.probability.value = w.probability.max                    # 0.95
    assert w.record.probability == 0.95 and "1/(1 - p) = 20" in w.summary.value
    w.probability.value = w.probability.min                    # 0: nothing dropped
    assert w.record.kept == 64
    w.mode.value = "prediction"
    assert w.record.mask is None and "identity" in w.summary.value
    w.resample.click()
    assert not w.message.text


def test_real_layer_and_fully_connected_activations():
    x = np.random.default_rng(0).random((6, 6, 1))
    net = cl.Network([cl.ImageInput((6, 6, 1), normalization="none"), cl.FullyConnected(5),
                      cl.Dropout(0.2)], seed=0, backend="reference")
    w = DropoutExplorer(net["dropout_1"], x)
    assert w.probability.value == pytest.approx(0.2)
    assert w.activations.shape == (1, 5, 1)                    # 1×1×5 laid out as a row
    np.testing.assert_allclose(w.activations.reshape(-1),
                               net.trace(x)["fc_1"].output.reshape(-1))
    with pytest.raises(ValueError, match="not a dropout layer"):
        DropoutExplorer(net["fc_1"], x)


def test_the_input_keeps_its_colours_as_p_rises():
    """The input map's colour range is the activations' own (1..9 here), whatever p is; the
    output's range grows with the survivors (× 1/(1 - p)); each bar says which is which."""
    w = DropoutExplorer(probability=0.1, seed=0)
    a = w.activations[:, :, 0]
    low = (w.view.input_grid.norm.vmin, w.view.input_grid.norm.vmax)
    colours_low = w.view.input_grid.image.to_rgba(w.view.input_grid.image.get_array())
    w.probability.value = 0.8                                # the user drags the slider
    grid = w.view.input_grid
    assert (grid.norm.vmin, grid.norm.vmax) == low == (a.min(), a.max())
    np.testing.assert_array_equal(grid.image.to_rgba(grid.image.get_array()), colours_low)
    out = w.record.output[:, :, 0]
    assert (w.view.output_grid.norm.vmin, w.view.output_grid.norm.vmax) == (out.min(), out.max())
    assert grid.colourbar.texts() == [f"{a.min():g}", f"{a.max():g}"]
    assert w.view.output_grid.colourbar.texts()[-1] == f"{out.max():g}"
