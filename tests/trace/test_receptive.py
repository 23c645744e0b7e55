"""Receptive fields: exactly the pixels whose gradient reaches the neuron; the textbook size
inside the image.

The oracle is the input gradient: with positive weights, positive images and no max pooling
every path from a pixel to the neuron adds a positive amount, so nothing cancels and the
non-zero support of d(neuron)/d(image) is exactly the set of pixels that reach it.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import cnnlab as cl
from cnnlab import arithmetic as ar

MODES = [0, "replicate", "symmetric-include-edge", "symmetric-exclude-edge"]
pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def stacks(draw, *, transposed=True, max_pool=False):
    """Up to three spatial layers (at most one transposed convolution) on a small image."""
    kinds = ["conv", "avgpool", "relu"] + (["transposed"] if transposed else []) \
        + (["maxpool"] if max_pool else [])
    layers, plain = [], True
    chosen = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3))
    if chosen.count("transposed") > 1:
        chosen = [k for k in chosen if k != "transposed"] + ["transposed"]
    for kind in chosen:
        if kind == "conv":
            layers.append(cl.Convolution2D(
                draw(pairs), 2, stride=draw(pairs),
                dilation=draw(st.tuples(st.integers(1, 2), st.integers(1, 2))),
                padding=draw(st.tuples(*[st.integers(0, 2)] * 4)),
                padding_value=draw(st.sampled_from(MODES))))
        elif kind in ("avgpool", "maxpool"):
            cls = cl.AveragePooling2D if kind == "avgpool" else cl.MaxPooling2D
            layers.append(cls(draw(pairs), stride=draw(pairs),
                              padding=draw(st.tuples(*[st.integers(0, 1)] * 4))))
        elif kind == "transposed":
            plain = False
            layers.append(cl.TransposedConvolution2D(
                draw(pairs), 2, stride=draw(pairs),
                cropping=draw(st.tuples(*[st.integers(0, 1)] * 4))))
        else:
            layers.append(cl.ReLU())
    size = (draw(st.integers(4, 9)), draw(st.integers(4, 9)), draw(st.integers(1, 2)))
    return layers, size, plain


def positive_network(layers, size, seed):
    try:
        net = cl.Network([cl.ImageInput(size, normalization="none"), *layers], seed=seed,
                         dtype="float64", backend="reference")
    except ValueError:
        assume(False)
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if "weights" in layer.params:           # no cancellation along any path
            w = layer.params["weights"]
            w[...] = rng.uniform(0.5, 1.5, w.shape)
    return net, rng.uniform(0.5, 1.5, size)


def influence(net, x, name, row, col, channel=0):
    """Pixels whose gradient reaches output (row, col, channel) of layer ``name``."""
    body = net.layers[:net.names.index(name) + 1]
    y = x[None]
    for layer in body:
        y = layer.forward(y)
    dy = np.zeros_like(y)
    dy[0, row, col, channel] = 1
    for layer in reversed(body[1:]):
        dy = layer.backward(dy)
    return np.abs(dy[0]).sum(axis=-1) > 0


def neurons(shape, seed, count=10):
    oh, ow = shape[:2]
    every = [(r, c) for r in range(oh) for c in range(ow)]
    if len(every) <= count:
        return every
    pick = np.random.default_rng(seed).choice(len(every), count - 2, replace=False)
    return [(0, 0), (oh - 1, ow - 1)] + [every[k] for k in pick]


def box(mask):
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return (0, 0, 0, 0)
    return (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)


@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(stacks(), st.integers(0, 1000))
def test_the_field_is_exactly_the_support_of_the_input_gradient(stack, seed):
    layers, size, _ = stack
    net, x = positive_network(layers, size, seed)
    tr = net.trace(x)
    last = tr[-1]
    for row, col in neurons(last.output_shape, seed):
        rf = tr.receptive_field(last.name, row, col)
        seen = influence(net, x, last.name, row, col)
        assert box(seen) == (rf.top, rf.left, rf.bottom, rf.right), (row, col)
        np.testing.assert_array_equal(rf.mask, seen)       # holes (dilation, stride) too
        assert rf.mask.shape == size[:2]
        assert 0 <= rf.top <= rf.bottom <= size[0] and 0 <= rf.left <= rf.right <= size[1]
        if rf.mask.any():
            assert not rf.note or "whole" in rf.note
        else:
            assert "no input pixel reaches" in rf.note


CHOSEN = {   # the cases the random stacks must cover, always run
    "transposed stride 3 > filter 2, cropped, after a dilated mirror-padded conv": lambda: [
        cl.Convolution2D((2, 3), 2, dilation=(2, 1), padding=(2, 1, 0, 2),
                         padding_value="symmetric-exclude-edge"),
        cl.TransposedConvolution2D((2, 3), 2, stride=(3, 2), cropping=(1, 0, 0, 1))],
    "conv after a transposed conv after an average pool with padding": lambda: [
        cl.AveragePooling2D(2, stride=2, padding=(1, 0, 0, 1)),
        cl.TransposedConvolution2D(3, 2, stride=2, cropping=1),
        cl.Convolution2D(3, 2, stride=2, dilation=2, padding=1, padding_value="replicate")],
    "stride larger than the filter, padding wider than half": lambda: [
        cl.Convolution2D(1, 2, stride=3, padding=2), cl.ReLU(),
        cl.Convolution2D(2, 2, stride=1, padding=(0, 1, 1, 0),
                         padding_value="symmetric-include-edge")],
}


@pytest.mark.parametrize("case", list(CHOSEN))
def test_chosen_stacks_match_the_gradient_at_every_neuron(case):
    net, x = positive_network(CHOSEN[case](), (7, 8, 2), 3)
    tr = net.trace(x)
    last = tr[-1]
    oh, ow = last.output_shape[:2]
    empty = 0
    for row in range(oh):
        for col in range(ow):
            rf = tr.receptive_field(last.name, row, col)
            np.testing.assert_array_equal(rf.mask, influence(net, x, last.name, row, col))
            empty += not rf.mask.any()
    if case.startswith("transposed stride 3"):
        assert empty > 0            # the gaps of a stride-3, 2-tap transposed convolution


@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(stacks(transposed=False, max_pool=True), st.integers(0, 1000))
def test_max_pooling_passes_on_a_subset_of_the_field(stack, seed):
    layers, size, _ = stack
    net, x = positive_network(layers, size, seed)
    tr = net.trace(x)
    last = tr[-1]
    for row, col in neurons(last.output_shape, seed, count=6):
        rf = tr.receptive_field(last.name, row, col)
        assert not (influence(net, x, last.name, row, col) & ~rf.mask).any()


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(stacks(transposed=False), st.integers(0, 1000))
def test_inside_the_grids_the_size_is_the_textbook_one(stack, seed):
    layers, size, _ = stack
    net, x = positive_network(layers, size, seed)
    tr = net.trace(x)
    spatial_h, spatial_w = [], []
    for layer in net.layers[1:]:
        (eh, sh, ph), (ew, sw, pw) = layer.spatial()
        dh, dw = getattr(layer, "dilation", (1, 1))
        spatial_h.append({"kernel": (eh - 1) // dh + 1, "stride": sh, "pad_before": ph,
                          "dilation": dh})
        spatial_w.append({"kernel": (ew - 1) // dw + 1, "stride": sw, "pad_before": pw,
                          "dilation": dw})
    fh, fw = ar.receptive_field(spatial_h).value[-1], ar.receptive_field(spatial_w).value[-1]
    last = tr[-1]
    checked = 0
    for row, col in neurons(last.output_shape, seed, count=30):
        rf = tr.receptive_field(last.name, row, col)
        inside = all(0 <= t and 0 <= l and b <= tr[name].input_shape[0]
                     and r <= tr[name].input_shape[1] for name, (t, l, b, r) in rf.chain)
        if not inside:
            continue
        checked += 1
        assert rf.size == (fh.size, fw.size)
        top, bottom = ar.receptive_field_of(spatial_h, row).value
        left, right = ar.receptive_field_of(spatial_w, col).value
        assert rf.unclipped == (top, left, bottom + 1, right + 1)


def test_a_neuron_after_a_transposed_convolution_sees_a_small_block():
    # the case: it used to be the whole 16x16 image with an 18x18 "field".
    # transposed 2x2 stride 2: output row 5 comes from input row i with 0 <= 5 - 2i <= 1,
    # i = 2; column 7 from i = 3. The 3x3 padded conv before: row 2 reads rows 1..3,
    # column 3 reads columns 2..4.
    net = cl.Network([cl.ImageInput((16, 16, 1), normalization="none"),
                      cl.Convolution2D(3, 2, padding=1),
                      cl.TransposedConvolution2D(2, 1, stride=2)],
                     seed=0)
    tr = net.trace(np.ones((16, 16, 1), np.float32))
    rf = tr.receptive_field("transposed-conv_1", 5, 7)
    assert (rf.top, rf.left, rf.bottom, rf.right) == (1, 2, 4, 5)
    assert rf.size == (3, 3) and rf.mask.sum() == 9
    assert rf.chain[0] == ("transposed-conv_1", (2, 3, 3, 4))
    corner = tr.receptive_field("transposed-conv_1", 0, 0)
    assert corner.unclipped == (-1, -1, 2, 2) and (corner.bottom, corner.right) == (2, 2)


def test_outputs_a_strided_transposed_convolution_skips_see_nothing():
    # 1x1 filter, stride 2: odd outputs are never painted (bias only)
    net = cl.Network([cl.ImageInput((3, 3, 1), normalization="none"),
                      cl.TransposedConvolution2D(1, 1, stride=2)], seed=0)
    tr = net.trace(np.ones((3, 3, 1), np.float32))
    empty = tr.receptive_field("transposed-conv_1", 1, 2)
    assert not empty.mask.any() and empty.size == (0, 0)
    assert "no input pixel reaches" in empty.note and "bias" in empty.note
    one = tr.receptive_field("transposed-conv_1", 4, 2)
    assert one.mask.sum() == 1 and one.mask[2, 1]


def test_lenet_field_and_chain():
    from cnnlab.models import lenet5
    net = cl.Network(lenet5(), seed=0)
    tr = net.trace(np.zeros((28, 28, 1), np.float32))
    rf = tr.receptive_field("conv_2", 0, 0)
    # conv 5 pad 2, pool 2/2, conv 5: size 5 + 1·1 + 4·2 = 14, starting at -2
    assert rf.size == (14, 14) and rf.unclipped == (-2, -2, 12, 12)
    assert (rf.top, rf.left, rf.bottom, rf.right) == (0, 0, 12, 12)
    assert [name for name, _ in rf.chain][:3] == ["conv_2", "maxpool_1", "relu_1"]
    assert rf.mask.sum() == 144
    fc = tr.receptive_field("fc_1", 0, 0)             # fully connected sees everything
    assert fc.mask.all() and "whole input" in fc.note
    with pytest.raises(ValueError, match="row = 10"):
        tr.receptive_field("conv_2", 10, 0)


def _field_graph():
    """No ReLU or max pooling (their gradients vanish on some inputs): with generic weights
    the input gradient of a neuron is non-zero exactly on its receptive field. The image feeds
    three paths: "side" (3x3), "dil" (3x3 with dilation 2: taps 2 apart) and "skip" (1x1);
    dil + skip are added, concatenated with side, and "top" (1x1) reads the result. The
    field is a 3x3 block plus the dilated taps around it: not a rectangle."""
    g = cl.LayerGraph([cl.ImageInput((11, 11, 1), normalization="none"),
                       cl.Convolution2D(3, 2, dilation=2, padding=2, name="dil"),
                       cl.Addition(2, name="add"), cl.Convolution2D(1, 2, name="top")])
    g.add_layers([cl.Convolution2D(1, 2, name="skip")])
    g.connect("imageinput", "skip").connect("skip", "add/in2")
    g.add_layers([cl.Convolution2D(3, 1, padding=1, name="side"), cl.DepthConcatenation(2,
                                                                                      name="cat")])
    g.connect("imageinput", "side").connect("add", "cat/in2")
    g.disconnect("add", "top").connect("cat", "top")
    return g


@pytest.mark.parametrize("row, col", [(0, 0), (4, 4), (8, 3)])
def test_graph_receptive_field_is_the_support_of_the_input_gradient(row, col):
    net = cl.Network(_field_graph(), seed=2, dtype="float64", backend="reference")
    image = np.random.default_rng(3).standard_normal((11, 11, 1))
    field = net.trace(image).receptive_field("top", row, col)
    x = net.check_input(image)
    y = net.forward(x, keep_caches=True)
    dy = np.zeros_like(y)
    dy[0, row, col, :] = [0.7, -1.3]
    support = np.abs(net.backward(dy)[0, ..., 0]) > 0
    np.testing.assert_array_equal(field.mask, support)
    assert "union over 3 paths" == field.note        # side, dil, skip
    rows, cols = np.nonzero(support)
    assert (field.top, field.left, field.bottom, field.right) == \
        (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)
    assert [name for name, _ in field.chain][:2] == ["top", "cat"]
    assert not field.mask[field.top:field.bottom, field.left:field.right].all()   # holes


def test_graph_receptive_field_of_the_centre_by_hand():
    net = cl.Network(_field_graph(), seed=2, dtype="float64", backend="reference")
    field = net.trace(np.zeros((11, 11, 1))).receptive_field("top", 5, 5)
    expected = np.zeros((11, 11), bool)
    expected[4:7, 4:7] = True                       # side's 3x3 (skip's 1x1 lies inside)
    expected[3:8:2, 3:8:2] = True                   # dil: taps at -2, 0, 2
    np.testing.assert_array_equal(field.mask, expected)
    assert (field.top, field.left, field.bottom, field.right) == (3, 3, 8, 8)
