"""The pooling step picture: the window, the winner (max) or the mean, padding, overlap."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.examples import pool_example, traced
from cnnlab.viz.pool_step import PoolStepFigure

X = np.array([[1, 5, 2, 0], [3, 4, 8, 1], [0, 2, 6, 7], [9, 1, 3, 2]], float)


def record(layer, x=X):
    net = cl.Network([cl.ImageInput((*x.shape, 1), normalization="none"), layer],
                     dtype="float64", backend="reference")
    return net.trace(x[:, :, None])[1]


def window_of(rect):
    x, y = rect.get_xy()
    return (round(y + 0.5), round(x + 0.5), round(y + 0.5 + rect.get_height()),
            round(x + 0.5 + rect.get_width()))


def said(fig):
    """The caption with its line breaks undone."""
    return " ".join(fig.equation.get_text().split())


def texts(grid):
    return [[t.get_text() for t in row] for row in grid.texts]


def test_max_pooling_marks_the_winner_and_fills_the_output():
    fig = PoolStepFigure(record(cl.MaxPooling2D(2, stride=2)))
    # by hand: maxima of the four 2×2 blocks are 5, 8 / 9, 7 at (0,1), (1,2) / (3,0), (2,3)
    winners = [(0, 1), (1, 2), (3, 0), (2, 3)]
    for i, (r, c) in enumerate(winners):
        fig.show_step(i)
        xs, ys = fig.winner_mark.get_data()
        assert (ys[0], xs[0]) == (r, c)
        top, left = 2 * (i // 2), 2 * (i % 2)
        assert window_of(fig.window) == (top, left, top + 2, left + 2)
        assert window_of(fig.patch_outline) == (r - top, c - left, r - top + 1, c - left + 1)
    assert texts(fig.output_grid) == [["5", "8"], ["9", "7"]]
    assert said(fig).startswith("output (1, 1) of channel 0: max(6, 7, 3, 2) = 7")


def test_average_pooling_writes_the_mean_and_overlapping_windows():
    fig = PoolStepFigure(record(cl.AveragePooling2D(3, stride=1)))
    fig.show_step(1)
    # window rows 0..2, cols 1..3: 5+2+0+4+8+1+2+6+7 = 35, / 9
    assert said(fig).endswith("/ 9 = 35 / 9 = 3.889")
    assert not fig.winner_mark.get_visible()
    # stride 1 < pool 3: the previous window (cols 0..2) overlaps the current one
    assert window_of(fig.previous) == (0, 0, 3, 3) and fig.previous.get_visible()
    assert window_of(fig.window) == (0, 1, 3, 4)


def test_max_padding_is_minus_infinity_and_shaded():
    rec = record(cl.MaxPooling2D(2, stride=2, padding=1))
    fig = PoolStepFigure(rec).show_step(0)
    assert texts(fig.input_grid)[0][:3] == ["-∞", "-∞", "-∞"]
    # the window over the corner holds padding and X[0, 0] = 1, which wins
    assert said(fig).startswith("output (0, 0) of channel 0: max(-∞, -∞, -∞, 1) = 1")
    overlay = fig.input_grid.ax.images[1].get_array()
    np.testing.assert_array_equal(overlay[..., 3] > 0, rec.padding_mask)


def test_channel_and_kind_checks():
    rec = traced(*pool_example(channels=2))
    assert PoolStepFigure(rec, channel=1).channel == 1
    with pytest.raises(ValueError, match="channel = 2 is out of range 0..1"):
        PoolStepFigure(rec, channel=2)
    with pytest.raises(ValueError, match="not a pooling layer"):
        PoolStepFigure(record(cl.ReLU()))
