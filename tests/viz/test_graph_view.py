"""The graph picture: what each box writes, where boxes and arrows go, the joins' marks and
the highlight. Checked on the drawn artists (texts, extents, paths), not on pixels; the
oracles are the network's own names, types, sizes and connections."""
import io

import numpy as np
import pytest
from PIL import Image

import cnnlab as cl
from cnnlab.models import basic_block, inception_block, resnet_digits
from cnnlab.viz import style
from cnnlab.viz.graph_view import GraphView, graph_view


@pytest.fixture(scope="module")
def resnet():
    return cl.Network(resnet_digits(), seed=0)


@pytest.fixture(scope="module")
def inception():
    g = cl.LayerGraph([cl.ImageInput((8, 8, 3), normalization="none")])
    inception_block(g, "imageinput", f1x1=2, f3x3_reduce=2, f3x3=3, f5x5_reduce=1, f5x5=2,
                    pool_proj=2, name="inc")
    return cl.Network(g, seed=0)


def pixels_of(view, extent):
    """The figure's text/patch extent in display pixels -> (left, top, right, bottom) inches
    from the top left, to compare with the layout's inches."""
    h = view.figure.get_figheight() * view.figure.dpi
    scale = view.height / h
    return (extent.x0 * scale, (h - extent.y1) * scale, extent.x1 * scale,
            (h - extent.y0) * scale)


def test_every_box_writes_its_layers_name_type_and_output_size(resnet):
    view = GraphView(resnet)
    assert set(view.boxes) == {layer.name for layer in resnet.layers}
    for layer in resnet.layers:
        title, detail = view.labels[layer.name]
        assert title.get_text() == layer.name
        size = "×".join(map(str, layer.output_shape))
        assert detail.get_text() == f"{layer.type_name} · {size}"
    assert view.labels["layer3_1_add"][1].get_text() == "Addition · 7×7×64"


@pytest.mark.parametrize("look", ["default", "projector"])
def test_texts_stay_inside_their_boxes_and_boxes_do_not_overlap(resnet, inception, look):
    g = cl.LayerGraph([cl.ImageInput((8, 8, 3), normalization="none")])
    inception_block(g, "imageinput", f1x1=2, f3x3_reduce=2, f3x3=3, f5x5_reduce=1, f5x5=2,
                    pool_proj=2)                 # its own long names: inception_pool_proj_relu
    for net in (resnet, inception, cl.Network(g)):
        with style(look):
            view = GraphView(net)
        view.figure.canvas.draw()
        renderer = view.figure.canvas.get_renderer()
        extents = {n: view.box_extent(n) for n in view.boxes}
        for name, texts in view.labels.items():
            left, top, right, bottom = extents[name]
            for text in texts:
                a, b, c, d = pixels_of(view, text.get_window_extent(renderer))
                assert left <= a and c <= right and top <= b and d <= bottom, (name,
                                                                              text.get_text())
        names = list(extents)
        for i, n in enumerate(names):
            for m in names[i + 1:]:
                a, b = extents[n], extents[m]
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                assert apart, (n, m)


def test_main_path_top_to_bottom_and_the_projection_beside_it(resnet):
    view = GraphView(resnet)
    ext = view.box_extent
    # the main path: one column, each box below the one before
    main = ["imageinput", "conv1", "relu1", "layer2_1_conv1", "layer2_1_bn2", "layer2_1_add",
            "fc", "classoutput"]
    assert len({ext(n)[0] for n in main}) == 1
    assert all(ext(a)[3] < ext(b)[1] for a, b in zip(main, main[1:]))
    # the projection: to the right, on the rows of the first main-path layers of the block
    assert ext("layer2_1_proj_conv")[0] > ext("layer2_1_conv1")[2]
    assert ext("layer2_1_proj_conv")[1] == ext("layer2_1_conv1")[1]
    assert ext("layer2_1_proj_bn")[1] == ext("layer2_1_bn1")[1]


def test_arrows_follow_the_networks_connections(resnet):
    view = GraphView(resnet)
    edges = [(e.source, e.destination, e.port) for e in view.layout.edges]
    # MATLAB's Connections table: "layer/in" for a one-input layer, "join/in2"
    wanted = [(s, d.split("/")[0], int(d.split("/")[1][2:] or 1))
              for s, d in resnet.connections]
    assert sorted(edges) == sorted(wanted)
    assert len(view.arrows) == len(view.routes) == len(edges)
    for edge, route in zip(view.layout.edges, view.routes):
        start, end = route[0], route[-1]
        s, d = view.box_extent(edge.source), view.box_extent(edge.destination)
        if edge.route == "side":         # out of the source's right side, into the join's
            assert start[0] == pytest.approx(s[2]) and end[0] == pytest.approx(d[2])
            assert s[1] < start[1] < s[3] and d[1] < end[1] < d[3]
        else:                            # out of the source's bottom, into the top
            assert start[1] == pytest.approx(s[3]) and end[1] == pytest.approx(d[1])
            assert d[0] < end[0] < d[2]
    # the identity skip of layer1 is labelled
    assert [t.get_text() for t in view.skip_labels] == ["identity"]


def test_joins_are_marked_and_their_inputs_named(resnet, inception):
    view = GraphView(resnet)
    assert {n: t.get_text() for n, t in view.marks.items()} == {
        "layer1_1_add": "+", "layer2_1_add": "+", "layer3_1_add": "+"}
    assert {k: t.get_text() for k, t in view.port_labels.items()
            if k[0] == "layer2_1_add"} == {("layer2_1_add", 1): "in1",
                                           ("layer2_1_add", 2): "in2"}
    view = GraphView(inception)
    assert view.marks["inc_cat"].get_text() == "concat"
    assert [view.port_labels[("inc_cat", p)].get_text() for p in (1, 2, 3, 4)] == \
        ["in1", "in2", "in3", "in4"]
    # each port label sits where its arrow arrives (same x), inside the join's box
    left, top, right, bottom = view.box_extent("inc_cat")
    for edge, route in zip(view.layout.edges, view.routes):
        if edge.destination == "inc_cat":
            label = view.port_labels[("inc_cat", edge.port)]
            x, y = label.get_position()
            assert x == pytest.approx(route[-1][0])
            assert left < x < right and top < y < bottom


def test_the_highlight_covers_the_chosen_box_and_moves(resnet):
    view = GraphView(resnet, "layer2_1_add")
    box = view.overlay
    assert box.get_visible()
    assert (box.get_x(), box.get_y(), box.get_x() + box.get_width(),
            box.get_y() + box.get_height()) == pytest.approx(view.box_extent("layer2_1_add"))
    first = view.png()
    view.show("fc")
    assert box.get_y() == pytest.approx(view.box_extent("fc")[1])
    second = view.png()
    assert first != second
    view.show(None)
    assert not box.get_visible()
    with pytest.raises(ValueError, match="no layer 'nope'"):
        view.show("nope")


def test_the_cached_redraw_equals_a_full_drawing(resnet):
    view = GraphView(resnet, "conv1")
    view.png()                                     # caches the background
    view.show("layer3_1_add")
    fast = np.asarray(Image.open(io.BytesIO(view.png())).convert("RGB"))
    full = np.asarray(Image.open(io.BytesIO(graph_view(resnet, "layer3_1_add").png()))
                      .convert("RGB"))
    assert fast.shape == full.shape and np.array_equal(fast, full)


def test_a_window_is_centred_on_the_highlighted_layer(resnet):
    view = GraphView(resnet, "layer2_1_add", dpi=72)
    whole = Image.open(io.BytesIO(view.png()))
    part = Image.open(io.BytesIO(view.png(window=9.0)))
    assert part.width == whole.width and part.height == round(9.0 * 72)
    first, last = view.window(9.0)
    _l, top, _r, bottom = view.box_extent("layer2_1_add")
    centre = (top + bottom) / 2 * whole.height / view.height
    assert abs((first + last) / 2 - centre) <= 1
    view.show("imageinput")                         # clamped at the top
    assert view.window(9.0)[0] == 0


def test_a_chain_is_one_column_and_the_picture_shows_in_a_notebook():
    net = cl.Network([cl.ImageInput((6, 6, 1)), cl.Convolution2D(3, 2), cl.ReLU(),
                      cl.FullyConnected(3), cl.Softmax(), cl.Classification()])
    fig = graph_view(net, "conv_1")
    view = fig.view
    assert len({view.box_extent(n)[0] for n in view.boxes}) == 1
    assert view.marks == {} and view.port_labels == {}
    from IPython.core.formatters import DisplayFormatter
    data, _ = DisplayFormatter().format(fig)
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_projector_style_writes_bigger_text():
    g = cl.LayerGraph([cl.ImageInput((6, 6, 4), normalization="none")])
    basic_block(g, "imageinput", 4, name="b")
    net = cl.Network(g)
    normal = GraphView(net).labels["b_add"][0].get_fontsize()
    with style("projector"):
        big = GraphView(net)
    assert big.labels["b_add"][0].get_fontsize() == pytest.approx(1.5 * normal)
    assert big.figure.get_figwidth() == pytest.approx(1.25 * GraphView(net).figure
                                                      .get_figwidth())


def crossings(routes):
    """Pairs of routes where a horizontal piece of one crosses a vertical piece of another
    (strictly inside both): the arrows a reader could not follow."""
    def pieces(points):
        return list(zip(points, points[1:]))
    found = []
    for i, a in enumerate(routes):
        for j, b in enumerate(routes):
            if i == j:
                continue
            for (p, q) in pieces(a):
                for (r, s) in pieces(b):
                    if p[1] == q[1] and r[0] == s[0]:          # a horizontal, b vertical
                        x0, x1 = sorted((p[0], q[0]))
                        y0, y1 = sorted((r[1], s[1]))
                        if x0 < r[0] < x1 and y0 < p[1] < y1:
                            found.append((i, j))
    return found


def test_the_four_branches_arrive_at_the_concatenation_without_crossing(inception):
    view = GraphView(inception)
    into = [route for edge, route in zip(view.layout.edges, view.routes)
            if edge.destination == "inc_cat"]
    assert len(into) == 4 and crossings(into) == []
    out = [route for edge, route in zip(view.layout.edges, view.routes)
           if edge.source == "imageinput"]
    assert len(out) == 4 and crossings(out) == []
