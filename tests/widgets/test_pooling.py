"""PoolingExplorer without a kernel."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.widgets.pooling import PoolingExplorer


def test_default_steps_and_shows_the_winner():
    w = PoolingExplorer()
    # 6×6, pool 3, stride 2: floor(3/2) + 1 = 2 → 4 positions
    assert w.navigator.slider.max == 3
    before = bytes(w.image.value)
    w.navigator.slider.value = 3
    assert bytes(w.image.value) != before
    step = w.record.step(1, 1, 0)
    patch = w.record.padded_input[2:5, 2:5, 0]                 # rows/cols 2..4, by hand
    assert step.value == patch.max()
    assert f"= {patch.max():g}, the" in " ".join(w.caption.value.split())


def test_controls_to_extremes_and_errors():
    w = PoolingExplorer()
    c = w.controls
    c["mode"].value = "average"
    assert w.record.mode == "average" and "/ 9 =" in " ".join(w.caption.value.split())
    c["input"].value = c["input"].max
    c["pool"].value = c["pool"].min
    c["stride"].value = c["stride"].min
    assert w.record.output_shape[:2] == (28, 28) and not w.message.text
    c["padding"].value = "same"
    c["pool"].value = c["pool"].max
    c["stride"].value = c["stride"].max
    assert w.record.output_shape[:2] == (5, 5)                 # ceil(28 / 6)
    c["padding"].value = "0"
    c["input"].value = 3                                      # pool 6 > 3
    assert "larger than the padded input" in w.message.text
    w.navigator.slider.value = w.navigator.slider.max          # still usable
    c["input"].value = 12
    assert not w.message.text and w.record.output_shape[:2] == (2, 2)
    c["seed"].value = 3
    assert not w.message.text


def test_real_layer():
    x = np.random.default_rng(0).random((8, 8, 2))
    net = cl.Network([cl.ImageInput((8, 8, 2), normalization="none"), cl.ReLU(),
                      cl.MaxPooling2D(2, stride=2)], seed=0, backend="reference")
    w = PoolingExplorer(net["maxpool_1"], x)
    w.go_to(3, 2, channel=1)
    assert w.figure.channel == 1                               # float32 network
    assert w.figure.step.value == pytest.approx(x[6:8, 4:6, 1].max(), rel=1e-6)
    assert w.control_box.layout.display == "none"
    with pytest.raises(ValueError, match="not a pooling layer"):
        PoolingExplorer(net.trace(x)["relu_1"])


def test_the_state_is_traits_linked_to_the_controls():
    import traitlets
    w = PoolingExplorer()
    w.position = 3
    assert w.navigator.slider.value == 3 and w.figure.index == 3
    assert (w.figure.step.row, w.figure.step.col) == (1, 1)
    w.mode = "average"
    assert w.controls["mode"].value == "average" and w.record.mode == "average"
    w.controls["pool"].value = 2                     # floor((6 - 2) / 2) + 1 = 3
    assert w.pool_size == 2 and w.record.output_shape[:2] == (3, 3)
    with pytest.raises(traitlets.TraitError, match="channel = 1 is out of range 0..0"):
        w.channel = 1
    x = np.random.default_rng(0).random((8, 8, 2))
    net = cl.Network([cl.ImageInput((8, 8, 2), normalization="none"),
                      cl.MaxPooling2D(2, stride=2)], seed=0, backend="reference")
    real = PoolingExplorer(net.trace(x)["maxpool_1"])
    real.channel = 1
    assert real.channel_picker.value == 1 and real.figure.channel == 1
    real.position = 5                                # 5 = 1·4 + 1
    assert real.figure.step.value == pytest.approx(x[2:4, 2:4, 1].max(), rel=1e-6)
