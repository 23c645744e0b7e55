"""The step pictures of the joins: an Addition writes each input's value, labelled with the
layer that fed it, and their sum; a DepthConcatenation names the input and channel it copies.

Oracles: the trace's recorded inputs and output (what the network's layers computed), read at
the position the documented step order names (``stepnets.expected_flat``), and the channel
ranges counted by hand from the branches' filter counts."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.models import basic_block, inception_block
from cnnlab.viz.join_step import JoinStepFigure
from cnnlab.viz.step_pictures import step_picture, steps_of
from tests.viz.stepnets import agrees, expected_flat, written


def residual_trace():
    g = cl.LayerGraph([cl.ImageInput((5, 5, 2), normalization="none"),
                       cl.Convolution2D(3, 3, padding=1, name="stem")])
    basic_block(g, "stem", 4, projection=True, name="b")
    net = cl.Network(g, seed=0, dtype="float64", backend="reference")
    return net, net.trace(np.random.default_rng(0).standard_normal((5, 5, 2)))


def inception_trace():
    g = cl.LayerGraph([cl.ImageInput((4, 4, 3), normalization="none")])
    inception_block(g, "imageinput", f1x1=2, f3x3_reduce=2, f3x3=3, f5x5_reduce=1, f5x5=1,
                    pool_proj=2, name="inc")
    net = cl.Network(g, seed=0, dtype="float64", backend="reference")
    return net, net.trace(np.random.default_rng(1).random((4, 4, 3)))


def test_addition_picture_writes_each_input_with_its_source_and_the_recorded_sum():
    net, tr = residual_trace()
    rec = tr["b_add"]
    assert net.sources("b_add") == ["b_bn2", "b_proj_bn"]
    fig = step_picture(rec)
    assert isinstance(fig, JoinStepFigure)
    assert [t.get_text() for t in fig.operators] == ["+", "="]
    h, w, c = rec.output_shape
    n = steps_of(rec)
    assert n == h * w * c
    for k in (0, 7, n // 2, n - 1):
        fig.show_step(k)
        flat = expected_flat(rec, k)
        r, col, ch = np.unravel_index(flat, rec.output_shape)
        # each input's title: its port, the layer that fed it (the network's own
        # connections) and that layer's recorded output at this element
        for i, source in enumerate(net.sources("b_add")):
            title = fig.input_titles[i].get_text()
            assert title.startswith(f"in{i + 1} ← {source}"), title
            assert agrees(title, float(tr[source].output[r, col, ch])), (k, title)
        assert agrees(fig.value_text.get_text().split("\n")[-1],
                      float(rec.output[r, col, ch]))
        assert f"channel {ch}" in fig.value_text.get_text()
        # and the sum written out: in1 + in2 = y
        terms = [float(tr[s].output[r, col, ch]) for s in net.sources("b_add")]
        assert abs(sum(terms) - float(rec.output[r, col, ch])) < 1e-12
        assert agrees(fig.equation.get_text(), float(rec.output[r, col, ch]))


def test_concatenation_picture_names_the_input_and_channel_it_copies():
    net, tr = inception_trace()
    rec = tr["inc_cat"]
    sources = net.sources("inc_cat")
    # by hand: 1x1 gives channels 0-1, 3x3 2-4, 5x5 5, pool projection 6-7
    ranges = [(0, 1), (2, 4), (5, 5), (6, 7)]
    fig = step_picture(rec)
    h, w, _ = rec.output_shape
    for ch, (which, channel) in [(0, (0, 0)), (3, (1, 1)), (5, (2, 0)), (7, (3, 1))]:
        k = ch * h * w + 1 * w + 2                       # row 1, column 2 of channel ch
        fig.show_step(k)
        assert expected_flat(rec, k) == np.ravel_multi_index((1, 2, ch), rec.output_shape)
        for i, title in enumerate(t.get_text() for t in fig.input_titles):
            assert title.replace("\n", " ").startswith(f"in{i + 1} ← {sources[i]}"), title
            if i == which:
                assert f"channel {channel}:" in title
                assert agrees(title, float(tr[sources[i]].output[1, 2, channel]))
                assert fig.input_panels[i].outline.get_visible()
            else:
                lo, hi = ranges[i]
                assert title.endswith(f"fills channels {lo}..{hi}"), title
                assert not fig.input_panels[i].outline.get_visible()
        assert written(fig.value_text.get_text()) == pytest.approx(
            float(rec.output[1, 2, ch]), abs=5e-4)
        assert f"a copy of in{which + 1}" in fig.equation.get_text()


def test_join_pictures_change_per_step_and_refuse_other_records():
    _, tr = residual_trace()
    fig = step_picture(tr["b_add"])
    pictures = {fig.show_step(k).png() for k in (0, 1, 2)}
    assert len(pictures) == 3
    with pytest.raises(ValueError, match="out of range"):
        fig.show_step(steps_of(tr["b_add"]))
    with pytest.raises(ValueError, match="not an Addition"):
        JoinStepFigure(tr["stem"])
