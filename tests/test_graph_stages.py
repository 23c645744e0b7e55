"""cnnlab/graph_stages.py: chain segments end at branch points and joins."""
import cnnlab as cl
from cnnlab.graph_stages import chain_segments


def test_chain_segments_end_at_fan_outs_and_joins():
    g = cl.LayerGraph([cl.ImageInput((6, 6, 2), normalization="none"),
                       cl.Convolution2D(3, 2, padding=1, name="a"), cl.ReLU(name="b"),
                       cl.Convolution2D(3, 2, padding=1, name="c"),
                       cl.BatchNormalization(name="d"), cl.Addition(2, name="add"),
                       cl.ReLU(name="e"), cl.FullyConnected(2, name="f")])
    g.connect("b", "add/in2")                   # b is read by c and by the Addition
    net = cl.Network(g, backend="reference")
    segments = chain_segments(net.layers, {n: net.sources(n) for n in net.names})
    assert [[layer.name for layer in s] for s in segments] == [
        ["imageinput", "a", "b"], ["c", "d"], ["add", "e", "f"]]
