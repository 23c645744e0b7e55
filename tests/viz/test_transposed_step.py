"""The transposed convolution step: zeros inserted, padding, the window over the upsampled input.

By hand: a 2×2 input [[1, 2], [3, 4]] with a 2×2 filter of ones and stride 2 stamps each
input value onto its own 2×2 block, so the output is the 4×4 block-repeated input.
"""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.examples import conv_example, traced
from cnnlab.viz.transposed_step import TransposedStepFigure


@pytest.fixture(scope="module")
def rec():
    x = np.array([[1, 2], [3, 4]], float)[:, :, None]
    layer = cl.TransposedConvolution2D(2, 1, stride=2, weights=np.ones((2, 2, 1, 1)),
                                       bias=np.zeros(1))
    net = cl.Network([cl.ImageInput(x.shape, normalization="none"), layer], dtype="float64",
                     backend="reference")
    return net.trace(x)[1]


def test_upsampled_input_shows_inserted_zeros_and_padding(rec):
    fig = TransposedStepFigure(rec)
    # zero insertion: 1 0 2 / 0 0 0 / 3 0 4, then 1 cell of padding (filter 2 - 1) each side
    expected = [["0"] * 5, ["0", "1", "0", "2", "0"], ["0"] * 5, ["0", "3", "0", "4", "0"],
                ["0"] * 5]
    assert [[t.get_text() for t in row] for row in fig.input_grids[0].texts] == expected
    assert rec.upsampled_input.shape[:2] == (5, 5)
    inserted = np.zeros((5, 5), bool)
    inserted[1, 2] = inserted[3, 2] = True
    inserted[2, 1:4] = True
    np.testing.assert_array_equal(fig.inserted, inserted)
    title = " ".join(t.get_text() for t in fig.input_axes[0].texts)
    assert "from 2×2" in title and "zeros inserted" in title and "padding" in title


def test_each_output_cell_is_one_window_sum(rec):
    fig = TransposedStepFigure(rec)
    blocks = np.kron(np.array([[1, 2], [3, 4]]), np.ones((2, 2), int))
    for i in range(16):
        fig.show_step(i)
        r, c = divmod(i, 4)
        assert fig.equation.get_text().endswith(f"= {blocks[r, c]}")
    assert [[t.get_text() for t in row] for row in fig.output_grid.texts] == \
        [[str(v) for v in row] for row in blocks]


def test_only_transposed_records():
    with pytest.raises(ValueError, match="not a transposed convolution"):
        TransposedStepFigure(traced(*conv_example()))
