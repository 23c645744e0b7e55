"""animate_pass: the documented frames, a GIF Pillow reads back, clear errors."""
import numpy as np
import pytest
from PIL import Image

import cnnlab as cl
from cnnlab.viz import animate_pass
from cnnlab.viz.animate_pass import pass_frames


def tiny():
    w = np.arange(18, dtype=float).reshape(2, 9) / 20 - 0.4
    return cl.Network([cl.ImageInput((3, 3, 1), normalization="none"),
                       cl.FullyConnected(2, weights=w, bias=np.array([0.1, -0.1])),
                       cl.Softmax(), cl.Classification()], dtype="float64")


X = np.linspace(0, 1, 9).reshape(3, 3, 1)


def test_frames_are_spread_evenly_over_each_layer():
    trace = tiny().trace(X, backward=True, labels=[1])
    frames = [(r.name, d, k) for r, d, k in pass_frames(trace, "both", frames_per_layer=4)]
    # by hand: 9 input steps -> round(linspace(0, 8, 4)) = 0, 3, 5, 8; 2 steps -> both
    assert frames == [("imageinput", "forward", k) for k in (0, 3, 5, 8)] + \
        [("fc_1", "forward", 0), ("fc_1", "forward", 1),
         ("softmax", "forward", 0), ("softmax", "forward", 1),
         ("classoutput", "forward", 0), ("classoutput", "forward", 1),
         ("classoutput", "backward", 0), ("classoutput", "backward", 1),
         ("softmax", "backward", 0), ("softmax", "backward", 1)] + \
        [("fc_1", "backward", k) for k in (0, 3, 5, 8)] + \
        [("imageinput", "backward", k) for k in (0, 3, 5, 8)]
    every = pass_frames(trace, "forward", frames_per_layer=0, layers=["imageinput"])
    assert [k for _r, _d, k in every] == list(range(9))


def test_the_gif_has_the_documented_frame_count(tmp_path):
    path = animate_pass(tiny(), X, tmp_path / "pass.gif", direction="both", labels=1,
                        frames_per_layer=4, fps=5)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4 + 2 + 2 + 2 + 2 + 2 + 4 + 4
        assert gif.size[0] == 1040
        gif.seek(0)
        first = np.asarray(gif.convert("RGB")).copy()
        gif.seek(5)
        assert not np.array_equal(first, np.asarray(gif.convert("RGB")))
        assert gif.info["duration"] == 200


def test_errors_say_what_to_change(tmp_path):
    net = tiny()
    with pytest.raises(ValueError, match="suffix must be .gif or .mp4"):
        animate_pass(net, X, tmp_path / "pass.png")
    with pytest.raises(ValueError, match="frames_per_layer = -1"):
        animate_pass(net, X, tmp_path / "pass.gif", frames_per_layer=-1)
    with pytest.raises(ValueError, match="no layer 'conv_9'"):
        animate_pass(net, X, tmp_path / "pass.gif", layers=["conv_9"])
    with pytest.raises(ValueError, match="direction = 'up'"):
        animate_pass(net, X, tmp_path / "pass.gif", direction="up")
    regression = cl.Network([cl.ImageInput((3, 3, 1), normalization="none"),
                             cl.FullyConnected(1), cl.Regression()])
    with pytest.raises(ValueError, match="backward pass needs labels"):
        animate_pass(regression, X, tmp_path / "r.gif", direction="backward")
