"""The rows and lanes of a graph picture: hand-worked layouts of a chain, a residual block
with an identity skip, one with a projection, an Inception block and resnet_digits()."""
import pytest

import cnnlab as cl
from cnnlab.models import basic_block, inception_block, resnet_digits
from cnnlab.viz.graph_layout import layout_graph, network_layout


def routes(lay):
    return {(e.source, e.destination): e.route for e in lay.edges}


def test_a_chain_is_one_lane_one_row_per_layer():
    net = cl.Network([cl.ImageInput((6, 6, 1)), cl.Convolution2D(3, 2), cl.ReLU(),
                      cl.FullyConnected(3), cl.Softmax(), cl.Classification()])
    lay = network_layout(net)
    assert [lay.rows[n] for n in lay.names] == list(range(6))
    assert set(lay.lanes.values()) == {0} and lay.num_lanes == 1
    assert set(routes(lay).values()) == {"straight"} and lay.joins == ()


def test_identity_skip_goes_round_the_main_lane():
    g = cl.LayerGraph([cl.ImageInput((6, 6, 4), normalization="none"),
                       cl.Convolution2D(3, 4, padding=1, name="stem")])
    basic_block(g, "stem", 4, name="b")
    lay = network_layout(cl.Network(g))
    # by hand: stem row 1, then conv1 bn1 relu1 conv2 bn2 on rows 2..6, the add on 7
    assert lay.rows["stem"] == 1 and lay.rows["b_bn2"] == 6 and lay.rows["b_add"] == 7
    assert lay.num_lanes == 1
    assert routes(lay)[("stem", "b_add")] == "side"
    assert routes(lay)[("b_bn2", "b_add")] == "straight"
    assert [e.port for e in lay.edges if e.destination == "b_add"] == [1, 2]


def test_projection_runs_in_its_own_lane_beside_the_main_path():
    g = cl.LayerGraph([cl.ImageInput((6, 6, 2), normalization="none"),
                       cl.Convolution2D(3, 4, padding=1, name="stem")])
    basic_block(g, "stem", 8, stride=2, projection=True, name="b")
    lay = network_layout(cl.Network(g))
    assert lay.lanes["b_conv1"] == 0 and lay.lanes["b_add"] == 0
    assert lay.lanes["b_proj_conv"] == lay.lanes["b_proj_bn"] == 1
    # side by side: the projection on the rows of the main path's first two layers
    assert lay.rows["b_proj_conv"] == lay.rows["b_conv1"] == 2
    assert lay.rows["b_proj_bn"] == lay.rows["b_bn1"] == 3
    r = routes(lay)
    assert r[("stem", "b_proj_conv")] == r[("b_proj_bn", "b_add")] == "bend"


def test_inception_branches_get_four_lanes_and_join_at_the_leftmost():
    g = cl.LayerGraph([cl.ImageInput((8, 8, 3), normalization="none")])
    inception_block(g, "imageinput", f1x1=2, f3x3_reduce=2, f3x3=3, f5x5_reduce=1, f5x5=2,
                    pool_proj=2, name="inc")
    lay = network_layout(cl.Network(g))
    firsts = ["inc_1x1", "inc_3x3_reduce", "inc_5x5_reduce", "inc_pool"]
    assert {lay.rows[n] for n in firsts} == {1}
    assert sorted(lay.lanes[n] for n in firsts) == [0, 1, 2, 3]
    # the longest branches (4 layers: reduce, relu, conv, relu) set the join's row
    assert lay.rows["inc_cat"] == 5 and lay.lanes["inc_cat"] == 0
    assert lay.joins == ("inc_cat",)
    # every layer of a branch stays in its branch's lane
    for branch in (["inc_5x5_reduce", "inc_5x5_reduce_relu", "inc_5x5", "inc_5x5_relu"],
                   ["inc_pool", "inc_pool_proj", "inc_pool_proj_relu"]):
        assert len({lay.lanes[n] for n in branch}) == 1


def test_resnet_digits_no_two_layers_share_a_place():
    lay = network_layout(cl.Network(resnet_digits(), seed=0))
    cells = [(lay.rows[n], lay.lanes[n]) for n in lay.names]
    assert len(set(cells)) == len(cells) == 33
    # 29 layers on the main path (all but the two 2-layer projections), 2 lanes
    assert lay.num_rows == 29 and lay.num_lanes == 2
    assert sum(e.route == "side" for e in lay.edges) == 1          # layer1's identity skip
    assert lay.joins == ("layer1_1_add", "layer2_1_add", "layer3_1_add")


def test_nested_skips_go_further_out_and_unknown_sources_are_refused():
    lay = layout_graph(["x", "a", "b", "c", "add1", "add2"],
                       {"x": [], "a": ["x"], "b": ["a"], "c": ["b"], "add1": ["c", "a"],
                        "add2": ["add1", "x"]})
    depth = {(e.source, e.destination): e.depth for e in lay.edges if e.route == "side"}
    assert depth == {("a", "add1"): 0, ("x", "add2"): 1}
    with pytest.raises(ValueError, match="'a' reads 'ghost'"):
        layout_graph(["x", "a"], {"x": [], "a": ["ghost"]})
