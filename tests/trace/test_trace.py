"""Trace: what each layer records, the modes, determinism, backward, budget and errors."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.models import lenet5, reference_example
from cnnlab.trace import TraceBudgetError, estimate_bytes


def digits(n=4, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def ref_net():
    net = cl.Network(reference_example(), seed=0)
    net.fit_normalization(digits(8))
    return net


def test_every_layer_is_recorded_with_input_output_and_shapes(ref_net):
    x = digits()
    tr = ref_net.trace(x, image=2)
    assert tr.names == ref_net.names and len(tr) == len(ref_net)
    np.testing.assert_array_equal(tr.image, x[2])
    # the outputs are what the network computes for that image in prediction mode
    np.testing.assert_allclose(tr["softmax"].output.reshape(-1),
                               ref_net.forward(x)[2].reshape(-1), rtol=1e-5, atol=1e-6)
    for prev, rec in zip(tr.records, tr.records[1:]):
        if not rec.layer.is_loss:
            np.testing.assert_array_equal(rec.input, prev.output)
        assert rec.output_shape == rec.layer.output_shape
    assert tr[1] is tr["conv_1"] and [r.name for r in tr] == tr.names
    assert tr.label == int(np.argmax(ref_net.predict(x[2:3])))


def test_convolution_record(ref_net):
    rec = ref_net.trace(digits()[0])["conv_1"]
    assert rec.padded_input.shape == (30, 30, 1) and rec.pads == (1, 1, 1, 1)
    assert rec.padding_mask.sum() == 30 * 30 - 28 * 28
    np.testing.assert_array_equal(rec.padded_input[1:29, 1:29], rec.input)
    np.testing.assert_array_equal(rec.weights, ref_net["conv_1"].params["weights"])
    assert rec.arithmetic["output_height"].value == 28
    assert rec.hyperparameters["num_filters"] == 16 and "weights" not in rec.hyperparameters
    with pytest.raises(AttributeError, match="has no field 'mask'"):
        rec.mask


def test_pooling_batchnorm_softmax_and_fc_records(ref_net):
    tr = ref_net.trace(digits()[1])
    pool = tr["maxpool_1"]
    assert pool.mode == "max" and pool.argmax.shape == (14, 14, 16, 2)
    r, c = pool.argmax[3, 4, 5]
    assert pool.output[3, 4, 5] == pool.padded_input[r, c, 5]
    bn = tr["batchnorm_1"]
    assert bn.mode == "running statistics"
    np.testing.assert_array_equal(bn.mean, ref_net["batchnorm_1"].state["trained_mean"])
    expected = (bn.input - bn.mean) / np.sqrt(bn.variance + bn.epsilon)
    np.testing.assert_allclose(bn.normalized, expected, rtol=1e-4, atol=1e-5)
    soft = tr["softmax"]
    np.testing.assert_allclose(soft.exponentials / soft.exp_sum, soft.output.reshape(-1),
                               rtol=1e-5)
    assert soft.exponentials.max() == 1.0            # shifted by the largest input
    fc = tr["fc_1"]
    np.testing.assert_allclose(fc.weights @ fc.flattened_input + fc.bias,
                               fc.output.reshape(-1), rtol=1e-4, atol=1e-5)


def test_dropout_records_its_mask_in_training_and_is_the_identity_in_prediction():
    layers = [cl.ImageInput((4, 4, 2), normalization="none"), cl.Dropout(0.5)]
    x = np.arange(32.0).reshape(4, 4, 2) + 1
    pred = cl.Network(layers, seed=3).trace(x)["dropout_1"]
    assert pred.mask is None and "identity" in pred.note
    np.testing.assert_array_equal(pred.output, pred.input)
    a = cl.Network(layers, seed=3).trace(x, training=True)["dropout_1"]
    b = cl.Network(layers, seed=3).trace(x, training=True)["dropout_1"]
    np.testing.assert_array_equal(a.mask, b.mask)               # same seed, same mask
    assert a.scale == 2.0 and a.kept == a.mask.sum() and a.expected_kept == 16
    np.testing.assert_array_equal(a.output[a.mask], 2 * x[a.mask])
    np.testing.assert_array_equal(a.output[~a.mask], 0)


def test_training_trace_uses_batch_statistics_and_leaves_running_statistics_alone(ref_net):
    before = {k: v.copy() for k, v in ref_net["batchnorm_1"].state.items()}
    x = digits(6, seed=5)
    rec = ref_net.trace(x, image=4, training=True)["batchnorm_1"]
    assert rec.mode == "batch statistics"
    for k, v in before.items():
        np.testing.assert_array_equal(ref_net["batchnorm_1"].state[k], v)
    assert not np.allclose(rec.mean, before["trained_mean"])


def small_dropout_net():
    layers = [cl.ImageInput((6, 6, 1), normalization="none"), cl.Convolution2D(3, 4),
              cl.BatchNormalization(), cl.ReLU(), cl.Dropout(0.5), cl.FullyConnected(3),
              cl.Softmax(), cl.Classification()]
    return cl.Network(layers, seed=11, dtype="float64", backend="reference")


def test_training_trace_changes_nothing_later_training_computes():
    # issue 11 item 5: a training trace drew its dropout masks from net.rng and left it
    # advanced, so training afterwards drew other masks and ended with other weights
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 6, 6, 1)), rng.integers(0, 3, 12)
    options = cl.TrainingOptions("sgdm", max_epochs=2, mini_batch_size=4, shuffle="never",
                                 verbose=False, seed=0)
    plain, traced = small_dropout_net(), small_dropout_net()
    before = traced.rng.bit_generator.state
    tr = traced.trace(x, image=1, training=True, backward=True, labels=y)
    assert tr["dropout_1"].mask is not None          # the masks were really drawn
    assert traced.rng.bit_generator.state == before
    cl.train_network(x, y, plain, options)
    cl.train_network(x, y, traced, options)
    for a, b in zip(plain.layers, traced.layers):
        for name in a.params:
            np.testing.assert_array_equal(a.params[name], b.params[name])
        for name in a.state:
            np.testing.assert_array_equal(a.state[name], b.state[name])


def test_traces_are_deterministic(ref_net):
    a, b = ref_net.trace(digits()[0]), ref_net.trace(digits()[0])
    for ra, rb in zip(a, b):
        np.testing.assert_array_equal(ra.output, rb.output)


def test_backward_trace_matches_the_network_gradients_and_steps_rebuild_them():
    net = cl.Network(lenet5(), seed=1, dtype="float64", backend="reference")
    x = digits(1, seed=2).astype(np.float64)
    tr = net.trace(x, backward=True, labels=[7])
    _, grads = net.loss_and_gradients(x, [7])
    for name in ("conv_1", "conv_2", "fc_1"):
        for p, g in tr[name].param_gradients.items():
            np.testing.assert_allclose(g, grads[name][p], rtol=1e-12, atol=1e-14)
    assert tr.loss == pytest.approx(net.loss(x, [7], training=False))
    rec = tr["conv_2"]
    dxp = np.zeros_like(rec.padded_input)
    dw = np.zeros_like(rec.weights)
    for f in range(rec.output_shape[2]):
        for s in rec.backward_steps(f):
            dxp[np.ix_(s.rows, s.cols, s.channels)] += s.input_gradient
            dw[:, :, :, f] += s.weight_gradient
    np.testing.assert_allclose(dw, rec.param_gradients["weights"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dxp, rec.input_gradient, rtol=1e-10, atol=1e-14)   # no padding
    np.testing.assert_array_equal(rec.output_gradient, tr["relu_2"].input_gradient)


def test_without_backward_there_are_no_backward_steps(ref_net):
    with pytest.raises(ValueError, match="backward=True"):
        next(ref_net.trace(digits()[0])["conv_1"].backward_steps())


def test_budget_refuses_before_recording_and_reports_the_size():
    net = cl.Network(lenet5(), seed=0)
    need = estimate_bytes(net.layers, 4)
    with pytest.raises(TraceBudgetError, match="budget") as e:
        net.trace(digits()[0], budget_bytes=need - 1)
    assert isinstance(e.value, ValueError) and "upto=" in str(e.value)
    assert net.trace(digits()[0], budget_bytes=need).nbytes <= need
    # LeNet-5 on one 28x28 image: under a megabyte, far below the default budget
    tr = net.trace(digits()[0])
    assert tr.nbytes < 1_000_000 < tr.budget_bytes


def test_upto_traces_only_the_first_layers():
    net = cl.Network(lenet5(), seed=0)
    tr = net.trace(digits()[0], upto="maxpool_1")
    assert tr.names == ["imageinput", "conv_1", "relu_1", "maxpool_1"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(image=4), "image = 4"),
    (dict(image=True), "image = True"),
    (dict(upto="conv_9"), "conv_9"),
    (dict(backward=True), "labels"),
    (dict(budget_bytes=0), "budget_bytes"),
    (dict(labels=[1, 2]), "2 labels for 4"),
])
def test_bad_requests_are_explained(ref_net, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ref_net.trace(digits(), **kwargs)


def test_wrong_image_shape_is_refused(ref_net):
    with pytest.raises(ValueError, match="28x28x1"):
        ref_net.trace(np.zeros(5))
    with pytest.raises(ValueError):
        ref_net.trace(np.zeros((27, 28, 1)))


def test_summary_lists_layers_and_bytes(ref_net):
    text = ref_net.trace(digits()[0]).summary()
    assert "conv_1" in text and "28x28x16" in text and "budget" in text


# ---- layer graphs: every branch recorded ------------------------------------------------------

def test_a_graph_trace_records_every_branch_and_the_sums_at_joins_and_fan_outs():
    from tests.test_graph_pass import classifier_graph
    net = cl.Network(classifier_graph(), seed=4, dtype="float64", backend="reference")
    x = np.random.default_rng(5).standard_normal((6, 6, 3))
    t = net.trace(x, backward=True, labels=[2])
    assert t.names == net.names                       # all branches, topological order
    cat = t["cat"]
    assert cat.sources == ["branch_1x1", "branch_3x3", "branch_pool"]
    np.testing.assert_array_equal(cat.output, np.concatenate(
        [t[s].output for s in cat.sources], axis=2))
    add = t["res_add"]
    assert add.sources == ["res_bn_2", "squeeze"]
    np.testing.assert_array_equal(add.output, t["res_bn_2"].output + t["squeeze"].output)
    np.testing.assert_array_equal(add.input, add.inputs[0])
    # squeeze's output feeds res_conv_1 and res_add/in2: its gradient is the sum of both
    np.testing.assert_allclose(t["squeeze"].output_gradient,
                               t["res_conv_1"].input_gradient + add.input_gradients[1],
                               rtol=1e-12, atol=1e-15)
    # the image gets the three branches' gradients, summed (through the image input)
    summed = sum(t[b].input_gradient for b in cat.sources)
    np.testing.assert_allclose(t["imageinput"].output_gradient, summed, rtol=1e-12,
                               atol=1e-15)
    # the traced prediction is the network's
    np.testing.assert_allclose(t.prediction, net.predict(x[None])[0], rtol=1e-12)
