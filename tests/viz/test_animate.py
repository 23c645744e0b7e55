"""Animations: one GIF frame per output position, for examples and for real records."""
import shutil

import numpy as np
import pytest
from PIL import Image

import cnnlab as cl
from cnnlab.examples import conv_example, traced
from cnnlab.viz.animate import animate_convolution, animate_pooling, animate_transposed
from cnnlab.cli import main as cnnlab_main
from cnnlab.viz.cli import main


def frames(path):
    with Image.open(path) as im:
        return im.n_frames


def test_convolution_gif_has_one_frame_per_position(tmp_path):
    # 5×5, 3×3, padding 1, stride 2: floor((5 + 2 - 3) / 2) + 1 = 3 → 3×3 = 9 frames
    path = animate_convolution(output=tmp_path / "c.gif", input_size=5, filter_size=3,
                               padding=1, stride=2)
    assert frames(path) == 9


def test_pooling_and_transposed_frames(tmp_path):
    # 6×6, pool 3, stride 2: floor((6 - 3) / 2) + 1 = 2 → 4 frames
    assert frames(animate_pooling(output=tmp_path / "p.gif", input_size=6, pool_size=3,
                                  stride=2, mode="average")) == 4
    # 2×2 input, 3×3 filter, stride 2: (2 - 1)·2 + 3 = 5 → 25 frames
    assert frames(animate_transposed(output=tmp_path / "t.gif", input_size=2,
                                     filter_size=3, stride=2)) == 25


def test_a_real_record_and_dilation(tmp_path):
    net = cl.Network([cl.ImageInput((6, 6, 2), normalization="none"),
                      cl.Convolution2D(2, 3, dilation=2)], seed=0, backend="reference")
    rec = net.trace(np.random.default_rng(0).random((6, 6, 2)))["conv_1"]
    # effective filter 3: 6 - 3 + 1 = 4 → 16 frames
    assert frames(animate_convolution(rec, output=tmp_path / "r.gif", filter=2)) == 16


def test_format_errors(tmp_path):
    with pytest.raises(ValueError, match="suffix must be .gif or .mp4"):
        animate_convolution(output=tmp_path / "c.png")
    with pytest.raises(ValueError, match="fps = 0"):
        animate_convolution(output=tmp_path / "c.gif", fps=0)
    if shutil.which("ffmpeg") is None:
        with pytest.raises(ValueError, match="needs the ffmpeg program"):
            animate_convolution(output=tmp_path / "c.mp4")
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_example(3, 5)


def test_cli_writes_a_gif_and_exits_2_on_bad_settings(tmp_path, capsys):
    out = tmp_path / "conv.gif"
    assert main(["conv", "--input", "5x5", "--filter", "3", "--padding", "1", "--stride", "2",
                 "-o", str(out)]) == 0
    assert frames(out) == 9 and f"wrote {out}" in capsys.readouterr().out
    assert main(["pool", "--input", "4", "--filter", "2", "--mode", "max",
                 "-o", str(tmp_path / "p.gif")]) == 0
    assert frames(tmp_path / "p.gif") == 4                   # stride 2 by default: 2×2
    assert cnnlab_main(["animate", "conv", "--input", "3", "--filter", "5",
                         "-o", str(tmp_path / "x.gif")]) == 2
    assert "larger than the padded input" in capsys.readouterr().err
    assert traced(*conv_example(4, 2)).output_shape == (3, 3, 1)
