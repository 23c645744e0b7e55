"""Element-wise steps (image input, activations, dropout) give what the network computed."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import cnnlab as cl
from tests.trace.stepcheck import check_forward, regression_net, targets_for

BACKENDS = ["reference", "fast"]

activations = st.one_of(
    st.just(("relu", {})), st.just(("tanh", {})), st.just(("sigmoid", {})),
    st.floats(-2, 2).map(lambda s: ("leakyrelu", {"scale": s})),
    st.floats(0.1, 3).map(lambda c: ("clippedrelu", {"ceiling": c})))
LAYERS = {"relu": cl.ReLU, "leakyrelu": cl.LeakyReLU, "clippedrelu": cl.ClippedReLU,
          "tanh": cl.Tanh, "sigmoid": cl.Sigmoid}
shapes = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))


@pytest.mark.parametrize("backend", BACKENDS)
@given(act=activations, shape=shapes, seed=st.integers(0, 50))
def test_activation_steps_give_the_output(backend, act, shape, seed):
    kind, options = act
    net = regression_net([LAYERS[kind](**options)], shape, backend, seed)
    x = 3 * np.random.default_rng(seed).standard_normal(shape)
    rec = net.trace(x)[1]
    check_forward(rec)
    for k in range(rec.num_steps):
        s = rec.step_at(k)
        assert s.x == float(rec.input.reshape(-1)[s.flat_index])
        assert s.function == kind


@pytest.mark.parametrize("backend", BACKENDS)
@given(norm=st.sampled_from(["zerocenter", "zscore", "rescale-zero-one",
                             "rescale-symmetric", "none"]),
       dim=st.sampled_from(["auto", "channel", "element", "all"]), shape=shapes,
       seed=st.integers(0, 50))
def test_image_input_steps_normalize_each_element(backend, norm, dim, shape, seed):
    layer = cl.ImageInput(shape, normalization=norm, normalization_dimension=dim)
    net = cl.Network([layer, cl.Regression()], backend=backend, seed=seed)
    data = np.random.default_rng(seed).random((5, *shape)) * 4 - 1
    layer = net.layers[0]
    layer.fit(data)
    rec = net.trace(data[2])[0]
    assert layer.statistics_set
    check_forward(rec)
    # by the formula of the image input's docstring, in numpy
    s = layer.state
    x = data[2]
    want = {"zerocenter": lambda: x - s["mean"], "zscore": lambda: (x - s["mean"]) / s["std"],
            "rescale-zero-one": lambda: (x - s["min"]) / (s["max"] - s["min"]),
            "rescale-symmetric": lambda: 2 * (x - s["min"]) / (s["max"] - s["min"]) - 1,
            "none": lambda: x}[norm]()
    got = np.array([rec.step_at(k).value for k in range(rec.num_steps)])
    flat = [rec.step_at(k).flat_index for k in range(rec.num_steps)]
    np.testing.assert_allclose(got, np.asarray(want).reshape(-1)[flat], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
@given(p=st.sampled_from([0.0, 0.2, 0.5, 0.8]), training=st.booleans(), shape=shapes,
       seed=st.integers(0, 50))
def test_dropout_steps_apply_the_mask(backend, p, training, shape, seed):
    net = regression_net([cl.Dropout(p)], shape, backend, seed)
    x = np.random.default_rng(seed).standard_normal((3, *shape))
    rec = net.trace(x, training=training, image=1)[1]
    check_forward(rec)
    steps = [rec.step_at(k) for k in range(rec.num_steps)]
    if training and p > 0:
        dropped = [s for s in steps if not s.kept]
        assert all(s.value == 0 for s in dropped)
        assert len(dropped) == int(rec.dropped.sum())
        kept = [s for s in steps if s.kept]
        assert all(s.value == pytest.approx(s.x / (1 - p)) for s in kept)
    else:
        assert all(s.kept and s.value == s.x for s in steps)


def one(layer, x, **kw):
    x = np.asarray(x, float)
    net = regression_net([layer], x.shape, "reference", dtype="float64")
    return net.trace(x, **kw)[1]


def test_relu_of_a_negative_number():
    rec = one(cl.ReLU(), [[[-0.37, 2.5]]])
    assert rec.step_at(0).text() == "output (0, 0, channel 0): max(0, -0.37) = 0"
    assert rec.step_at(1).text() == "output (0, 0, channel 1): max(0, 2.5) = 2.5"
    assert rec.step_at(0).reads == "input x = -0.37 at (0, 0, channel 0)"


def test_leaky_clipped_tanh_sigmoid_texts():
    assert one(cl.LeakyReLU(0.1), [[[-2.0]]]).step_at(0).text() == \
        "output (0, 0, channel 0): -2 ≤ 0, so y = 0.1·(-2) = -0.2"
    assert one(cl.ClippedReLU(6), [[[7.5]]]).step_at(0).text() == \
        "output (0, 0, channel 0): min(max(7.5, 0), 6) = 6"
    assert one(cl.Tanh(), [[[0.0]]]).step_at(0).formula() == "tanh(0) = 0"
    # 1 / (1 + e^-0) = 1/2
    assert one(cl.Sigmoid(), [[[0.0]]]).step_at(0).formula() == "1 / (1 + e^−0) = 0.5"


def test_steps_walk_channel_by_channel_then_row_by_row():
    x = np.arange(12.0).reshape(2, 3, 2)         # value = its own flat index
    rec = one(cl.ReLU(), x)
    assert [rec.step_at(k).value for k in range(4)] == [0, 2, 4, 6]       # channel 0 first
    assert [(s.row, s.col, s.channel) for s in (rec.step_at(3), rec.step_at(6))] == \
        [(1, 0, 0), (0, 0, 1)]


def test_zscore_input_text():
    layer = cl.ImageInput((1, 1, 1), normalization="zscore", mean=1.0, std=2.0)
    net = cl.Network([layer, cl.Regression()], backend="reference", dtype="float64")
    s = net.trace(np.array([[[5.0]]]))[0].step_at(0)
    assert s.text() == "output (0, 0, channel 0): (x − mean) / std = (5 − 1) / 2 = 2"
    assert (s.shift, s.scale, s.value) == (1.0, 2.0, 2.0)


def test_dropout_texts_in_training_and_prediction():
    rec = one(cl.Dropout(0.5), np.full((2, 2, 1), 3.0))
    assert rec.step_at(0).text() == ("output (0, 0, channel 0): prediction: dropout is the "
                                     "identity, y = x = 3")
    net = regression_net([cl.Dropout(0.5)], (2, 2, 1), "reference", dtype="float64", seed=3)
    rec = net.trace(np.full((2, 2, 2, 1), 3.0), training=True)[1]
    texts = {rec.step_at(k).text().split(": ", 1)[1] for k in range(4)}
    assert texts <= {"kept: y = x·1/(1 − 0.5) = 3·2 = 6",
                     "dropped (probability 0.5): y = 0·3 = 0"}
    assert len(texts) == 2 or rec.kept in (0, 4)


def test_targets_helper_matches_the_output_shape():
    net = regression_net([cl.ReLU()], (2, 2, 1), "reference")
    assert targets_for(net, 3).shape == (3, 2, 2, 1)


# ---- the joins of a layer graph (cnnlab/trace/steps_combine.py) -------------------------------

def _joined_trace():
    g = cl.LayerGraph([cl.ImageInput((3, 3, 2), normalization="none"),
                       cl.Convolution2D(1, 2, name="conv"), cl.Addition(2, name="add"),
                       cl.DepthConcatenation(2, name="cat")])
    g.connect("imageinput", "add/in2").connect("imageinput", "cat/in2")
    net = cl.Network(g, seed=0, dtype="float64", backend="reference")
    image = np.random.default_rng(1).standard_normal((3, 3, 2))
    return net.trace(image), image


def test_addition_steps_show_the_sum_of_the_inputs():
    t, image = _joined_trace()
    add = t["add"]
    assert add.num_steps == 3 * 3 * 2
    step = add.step_at(3 * 3 + 1 * 3 + 2)                # channel 1, row 1, col 2
    assert (step.row, step.col, step.channel) == (1, 2, 1)
    conv_value = t["conv"].output[1, 2, 1]
    assert step.terms == (conv_value, image[1, 2, 1])
    assert step.value == conv_value + image[1, 2, 1] == step.output
    assert step.reads.startswith("in1 (from 'conv') = ")
    assert " + " in step.text() or " - " in step.text()
    for k in range(add.num_steps):
        s = add.step_at(k)
        assert s.value == pytest.approx(s.output, rel=1e-15, abs=1e-15)


def test_concatenation_steps_say_which_input_each_channel_copies():
    t, image = _joined_trace()
    cat = t["cat"]
    assert cat.output_shape == (3, 3, 4)
    first = cat.step_at(0)                               # channel 0: in1 (add), channel 0
    assert (first.input, first.source, first.input_channel, first.offset) == (1, "add", 0, 0)
    late = cat.step_at(3 * 3 * 3 + 4)                    # channel 3: in2's channel 1
    assert (late.input, late.source, late.input_channel, late.offset) == (2, "imageinput", 1, 2)
    assert late.value == image[1, 1, 1] == late.output
    assert "a copy of in2" in late.text()
