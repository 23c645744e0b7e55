"""NetworkExplorer on a layer graph: the graph picture beside the maps, the chosen layer
highlighted as the layer control changes; a chain keeps its layout without it."""
import io

import numpy as np
import pytest
from PIL import Image

import cnnlab as cl
from cnnlab.models import basic_block, inception_block
from cnnlab.widgets.network import GRAPH_WINDOW, NetworkExplorer


@pytest.fixture(scope="module")
def residual():
    g = cl.LayerGraph([cl.ImageInput((8, 8, 1), normalization="none"),
                       cl.Convolution2D(3, 4, padding=1, name="stem"), cl.ReLU(name="act")])
    last = basic_block(g, "act", 4, name="b")
    g.add_layers([cl.FullyConnected(3, name="fc"), cl.Softmax(), cl.Classification()])
    g.connect(last, "fc")
    return cl.Network(g, seed=0)


def png(img):
    return bytes(img.value)


def contains(box, child):
    """Whether ``child`` is ``box`` or inside it (ipywidgets containers)."""
    return box is child or any(contains(c, child) for c in getattr(box, "children", ()))


def test_the_graph_is_shown_beside_the_maps_and_follows_the_layer(residual):
    ex = NetworkExplorer(residual, np.random.default_rng(0).random((2, 8, 8, 1)))
    assert ex.graph is not None and contains(ex, ex.graph_image)
    row = next(c for c in ex.children if contains(c, ex.graph_image))
    assert contains(row, ex.maps_image), "graph and maps side by side in one row"
    assert ex.graph.highlighted == ex.controls["layer"].value == "stem"
    first = png(ex.graph_image)
    assert first[:4] == b"\x89PNG"
    ex.controls["layer"].value = "b_add"
    assert ex.graph.highlighted == "b_add" and ex.record.name == "b_add"
    assert png(ex.graph_image) != first
    # the overlay sits on b_add's box; the maps show b_add's output
    left, top, right, bottom = ex.graph.box_extent("b_add")
    assert ex.graph.overlay.get_y() == pytest.approx(top)
    assert "b_add (Addition)" in ex.maps.title.get_text()
    value = float(ex.readout.value.split("= <b>")[1].split("</b>")[0])
    assert value == pytest.approx(float(ex.trace["b_add"].output[0, 0, 0]), rel=1e-5)


def test_a_tall_graph_shows_the_part_around_the_chosen_layer():
    g = cl.LayerGraph([cl.ImageInput((6, 6, 2), normalization="none")])
    last = "imageinput"
    for i in range(4):                      # 4 inception blocks: 21 rows, taller than 9 in
        last = inception_block(g, last, f1x1=1, f3x3_reduce=1, f3x3=1, f5x5_reduce=1,
                               f5x5=1, pool_proj=1, name=f"inc{i}")
    net = cl.Network(g, seed=0)
    ex = NetworkExplorer(net, np.random.default_rng(1).random((6, 6, 2)), layer="inc3_cat")
    shown = Image.open(io.BytesIO(png(ex.graph_image)))
    assert ex.graph.height > GRAPH_WINDOW
    assert shown.height == round(GRAPH_WINDOW * ex.graph.figure.dpi)
    first, last_row = ex.graph.window(GRAPH_WINDOW)
    assert first > 0                         # scrolled down to the last block's join


def test_a_chain_keeps_todays_layout():
    net = cl.Network([cl.ImageInput((8, 8, 1), normalization="none"),
                      cl.Convolution2D(3, 2), cl.ReLU(), cl.FullyConnected(2), cl.Softmax(),
                      cl.Classification()], seed=0)
    ex = NetworkExplorer(net, np.zeros((8, 8, 1)))
    assert ex.graph is None and ex.graph_image is None
    assert ex.maps_image in ex.children and ex.field_image in ex.children
