"""Colour bars: under the step pictures' input and output grids, their ends the grids'
ranges; and on every row of network_view, beside class labels on the final layers."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.examples import conv_example, pool_example, traced
from cnnlab.viz import ConvStepFigure, PoolStepFigure, network_view


def _under(bar_ax, grid_ax):
    """The bar lies just below the grid and overlaps it horizontally."""
    b, g = bar_ax.get_position(), grid_ax.get_position()
    return b.y1 <= g.y0 and g.y0 - b.y1 < 0.1 and b.x0 < g.x1 and g.x0 < b.x1


def test_conv_step_bars_give_the_input_and_output_ranges():
    net, x = conv_example(5, 3, padding=1, stride=2)
    rec = traced(net, x)
    fig = ConvStepFigure(rec).show_step(3)
    bar = fig.input_grids[0].colourbar
    xp = rec.padded_input[:, :, 0]
    assert bar.texts() == [f"{xp.min():g}", f"{xp.max():g}"]           # 0 .. 3
    assert _under(bar.ax, fig.input_axes[0])
    out = rec.output[:, :, 0]
    assert fig.output_grid.colourbar.texts() == [f"{out.min():g}", f"{out.max():g}"]
    assert _under(fig.output_grid.colourbar.ax, fig.output_axes)
    # the bar's strip is the grid's own colour map
    assert fig.input_grids[0].colourbar.ax.images[0].cmap.name == "viridis"


def test_pool_step_bars():
    net, x = pool_example()
    rec = traced(net, x)
    fig = PoolStepFigure(rec)
    xp = rec.padded_input[:, :, 0]
    assert fig.input_grid.colourbar.texts() == [f"{xp.min():g}", f"{xp.max():g}"]
    assert fig.output_grid.colourbar is not None


def test_a_diverging_range_marks_zero():
    net, x = conv_example(4, 2, seed=1)
    rec = traced(net, x)
    fig = ConvStepFigure(rec)
    bar = fig.output_grid.colourbar
    bar.update(-3.0, 5.0)
    assert bar.texts() == ["-3", "0", "5"]
    assert bar.zero.get_position()[0] == pytest.approx(3 / 8)       # where 0 sits on the strip
    bar.update(-1.0, 9.0)                 # 0 at a tenth: too close to "-1" to be written
    assert bar.texts() == ["-1", "9"]
    bar.update(2.0, 4.0)
    assert bar.texts() == ["2", "4"]


@pytest.fixture(scope="module")
def trace():
    net = cl.Network([cl.ImageInput((10, 10, 1), normalization="none"),
                      cl.Convolution2D(3, 4, padding=1), cl.ReLU(), cl.FullyConnected(3),
                      cl.Softmax(), cl.Classification(classes=["cat", "dog", "owl"])], seed=3)
    return net.trace(np.random.default_rng(0).random((10, 10, 1)))


def test_network_view_rows_have_colour_bars_and_final_layers_class_labels(trace):
    fig = network_view(trace)
    bars = [bar for ax in fig.axes for bar in ax.child_axes if bar.get_label() == "colourbar"]
    assert len(bars) == len(list(trace)) + 1                      # the input row too
    out = trace["conv_1"].output
    ends = [[t.get_text() for t in bar.get_xticklabels()] for bar in bars]
    assert [f"{out.min():.3g}", f"{out.max():.3g}"] in ends
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    p = trace["softmax"].output.reshape(-1)
    for j, name in enumerate(["cat", "dog", "owl"]):
        assert f"{name}\n{p[j]:.2g}" in texts                    # softmax row
        f = trace["fc_1"].output.reshape(-1)[j]
        assert f"{name}\n{f:.2g}" in texts                       # the last fully connected
    # the predicted class is outlined on the softmax and output rows
    outlined = [patch for ax in fig.axes for patch in ax.patches]
    assert len(outlined) == 2
    assert all(patch.get_x() == trace.label - 0.5 for patch in outlined)
