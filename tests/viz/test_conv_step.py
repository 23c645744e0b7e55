"""The convolution step picture shows the trace's window, products, sum and output filling in.

Expected numbers are independent: the reference documents' 5×5 example (output 12 12 17 /
10 17 19 / 9 6 14), and small cases worked by hand.
"""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.examples import conv_example, pool_example, traced
from cnnlab.viz.conv_step import ConvStepFigure

EXAMPLE_INPUT = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                 [2, 0, 0, 0, 1]]
EXAMPLE_KERNEL = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]
EXAMPLE_OUTPUT = [[12, 12, 17], [10, 17, 19], [9, 6, 14]]


def record_of(x, layer):
    x = np.asarray(x, float)
    x = x[:, :, None] if x.ndim == 2 else x
    net = cl.Network([cl.ImageInput(x.shape, normalization="none"), layer], dtype="float64",
                     backend="reference")
    return net.trace(x)[1]


@pytest.fixture(scope="module")
def example():
    w = np.array(EXAMPLE_KERNEL, float)[:, :, None, None]
    return record_of(EXAMPLE_INPUT, cl.Convolution2D(3, 1, weights=w, bias=np.zeros(1)))


def cell_texts(grid):
    return [[t.get_text() for t in row] for row in grid.texts]


def window_of(rect):
    """(top, left, bottom, right) in cells, read back from a rectangle artist."""
    x, y = rect.get_xy()
    return (round(y + 0.5), round(x + 0.5), round(y + 0.5 + rect.get_height()),
            round(x + 0.5 + rect.get_width()))


def test_reference_example_output_fills_in_scan_order(example):
    fig = ConvStepFigure(example)
    for i in range(9):
        fig.show_step(i)
        expected = [[str(v) if 3 * r + c <= i else "" for c, v in enumerate(row)]
                    for r, row in enumerate(EXAMPLE_OUTPUT)]
        assert cell_texts(fig.output_grid) == expected
        r, c = divmod(i, 3)
        assert window_of(fig.window[0]) == (r, c, r + 3, c + 3)
        assert window_of(fig.output_outline) == (r, c, r + 1, c + 1)
    assert fig.equation.get_text().endswith(f"bias 0 = {EXAMPLE_OUTPUT[2][2]}")


def test_products_and_sum_written_out(example):
    fig = ConvStepFigure(example).show_step((0, 0))
    # window rows 0..2, cols 0..2 of the input times the kernel, by hand
    products = np.array(EXAMPLE_INPUT)[:3, :3] * np.array(EXAMPLE_KERNEL)
    assert cell_texts(fig.product_grids[0]) == [[str(v) for v in row] for row in products]
    assert products.sum() == 12
    assert "sum = 12" in fig.product_titles[0].get_text()
    assert fig.equation.get_text() == ("(0, 0): 0·3 + 1·3 + 2·2 + 2·0 + 2·0 + 0·1 + 0·3 + "
                                       "1·1 + 2·2 + bias 0 = 12")


def test_padding_cells_show_the_padding_value_mode():
    # replicate padding of [[1, 2], [3, 4]] by 1: the edges repeat outward (worked by hand)
    w = np.ones((2, 2, 1, 1))
    rec = record_of([[1, 2], [3, 4]], cl.Convolution2D(2, 1, padding=1,
                                                       padding_value="replicate", weights=w,
                                                       bias=np.zeros(1)))
    fig = ConvStepFigure(rec)
    assert cell_texts(fig.input_grids[0]) == [["1", "1", "2", "2"], ["1", "1", "2", "2"],
                                              ["3", "3", "4", "4"], ["3", "3", "4", "4"]]
    assert any("with replicate" in t.get_text() for t in fig.input_axes[0].texts)
    overlay = fig.input_axes[0].images[1].get_array()          # the grey padding layer
    np.testing.assert_array_equal(overlay[..., 3] > 0, rec.padding_mask)
    fig.show_step((0, 0))
    assert fig.equation.get_text().endswith("= 4")             # 1 + 1 + 1 + 1


def test_dilated_filter_has_holes_and_the_read_cells_are_marked():
    rec = traced(*conv_example(7, 3, dilation=2, padding=0, stride=1, seed=1))
    fig = ConvStepFigure(rec).show_step((1, 2))
    shown = fig.filter_grids[0].values
    holes = np.isnan(shown)
    assert shown.shape == (5, 5)
    lattice = np.arange(5) % 2 == 0           # dilation 2: every other row and column
    np.testing.assert_array_equal(holes, ~np.logical_and.outer(lattice, lattice))
    np.testing.assert_array_equal(shown[::2, ::2], rec.weights[:, :, 0, 0])
    xs, ys = fig.read_marks[0].get_data()
    # rows 1, 3, 5 and columns 2, 4, 6 of the input (stride 1, dilation 2), by hand
    assert sorted(set(ys)) == [1, 3, 5] and sorted(set(xs)) == [2, 4, 6]
    assert window_of(fig.window[0]) == (1, 2, 6, 7)


def test_multichannel_partial_sums_and_total():
    rec = traced(*conv_example(4, 2, channels=3, seed=2))
    fig = ConvStepFigure(rec).show_step((1, 1))
    step = rec.step(1, 1, 0)
    x, w = rec.input, rec.weights[:, :, :, 0]
    by_hand = [(x[1:3, 1:3, c] * w[:, :, c]).sum() for c in range(3)]
    np.testing.assert_allclose(step.channel_sums, by_hand)
    for k in range(3):
        assert f"sum = {int(by_hand[k])}" in fig.product_titles[k].get_text()
    text = fig.equation.get_text()
    assert f"= {int(sum(by_hand))}" in text and "channel sums (0, 1, 2)" in text
    assert fig.output_grid.values[1, 1] == pytest.approx(sum(by_hand))


def test_many_channels_draws_three_rows_and_sums_them_all():
    rec = traced(*conv_example(3, 1, channels=5, seed=0))
    fig = ConvStepFigure(rec)
    assert len(fig.input_grids) == 3 and fig.channels == [0, 1, 2, 3, 4]
    assert "channel sums (0, 1, 2, 3, 4)" in fig.equation.get_text()


def test_big_inputs_are_colour_only_and_text_free_mode():
    rec = traced(*conv_example(28, 3, padding=1))
    fig = ConvStepFigure(rec, text=False).show_step(100)
    assert fig.input_grids[0].texts is None and fig.output_grid.texts is None
    assert fig.output_grid.values.shape == (28, 28)
    assert np.isnan(fig.output_grid.values.reshape(-1)[101:]).all()
    assert fig.equation.get_text() == ""
    assert "= " in fig.caption() and fig.png()[:4] == b"\x89PNG"


def test_bad_arguments_raise_naming_the_problem(example):
    with pytest.raises(ValueError, match="filter = 1 is out of range 0..0"):
        ConvStepFigure(example, filter=1)
    with pytest.raises(ValueError, match="step 9 is out of range"):
        ConvStepFigure(example).show_step(9)
    with pytest.raises(ValueError, match=r"position \(3, 0\) is outside the 3×3 output"):
        ConvStepFigure(example).show_step((3, 0))
    pool = traced(*pool_example())
    with pytest.raises(ValueError, match="not a convolution"):
        ConvStepFigure(pool)


def test_grouped_filters_show_only_their_channels():
    net = cl.Network([cl.ImageInput((4, 4, 4), normalization="none"),
                      cl.Convolution2D(2, 4, groups=2)], seed=0, dtype="float64",
                     backend="reference")
    rec = net.trace(np.random.default_rng(0).random((4, 4, 4)))[1]
    fig = ConvStepFigure(rec, filter=3)                   # filters 2, 3 see channels 2, 3
    assert fig.channels == [2, 3]
    assert any(t.get_text().startswith("input, ch 2") for t in fig.input_axes[0].texts)
    np.testing.assert_array_equal(fig.input_grids[1].values, rec.padded_input[:, :, 3])
