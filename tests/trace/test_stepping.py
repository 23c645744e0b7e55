"""Every record has steps: the order they walk, bad step numbers, whole networks end to end."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab import models
from tests.trace.stepcheck import check_backward, check_forward

BACKENDS = ["reference", "fast"]


def small_net(backend="reference"):
    return cl.Network([cl.ImageInput((4, 4, 1), normalization="none"),
                       cl.Convolution2D(3, 2, padding=1), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
                       cl.FullyConnected(3), cl.Softmax(), cl.Classification()],
                      backend=backend, seed=2)


def test_convolution_steps_walk_filter_by_filter_and_keep_their_per_filter_views():
    tr = small_net().trace(np.arange(16.0).reshape(4, 4))
    conv = tr["conv_1"]
    assert conv.num_positions == 16 and conv.num_steps == 32
    per_filter = list(conv.steps(0)) + list(conv.steps(1))
    for k in range(conv.num_steps):
        a, b = conv.step_at(k), per_filter[k]
        assert (a.row, a.col, a.filter, a.value) == (b.row, b.col, b.filter, b.value)
        assert a.flat_index == (a.row * 4 + a.col) * 2 + a.filter
        assert a.channel == a.filter and "window rows" in a.reads
    pool = tr["maxpool_1"]
    assert pool.num_positions == 4 and pool.num_steps == 8
    assert pool.step_at(5).channel == 1 and pool.step_at(5).flat_index == (0 * 2 + 1) * 2 + 1


@pytest.mark.parametrize("bad", [-1, 32, 1.0, True, "3", None])
def test_bad_step_numbers_name_the_layer_and_the_range(bad):
    conv = small_net().trace(np.ones((4, 4)))["conv_1"]
    with pytest.raises(ValueError, match=r"conv_1 .*k = .* out of range 0\.\.31 \(32 steps\)"):
        conv.step_at(bad)


def test_bad_backward_step_numbers_and_missing_backward_pass():
    net = small_net()
    plain = net.trace(np.ones((4, 4)))["fc_1"]
    with pytest.raises(ValueError, match="fc_1: trace with backward=True"):
        plain.backward_step_at(0)
    with pytest.raises(ValueError, match="fc_1: trace with backward=True"):
        _ = plain.num_backward_steps
    rec = net.trace(np.ones((4, 4)), labels=[1], backward=True)["fc_1"]
    with pytest.raises(ValueError, match=r"fc_1 .*backward step k = 8 is out of range 0\.\.7"):
        rec.backward_step_at(8)
    with pytest.raises(ValueError, match=r"weights gradient step k = 24 is out of range 0\.\.23"):
        rec.param_step_at("weights", 24)
    with pytest.raises(ValueError, match="has no parameter 'scale'; it has: weights, bias"):
        rec.param_step_at("scale", 0)


def _walk(net, x, label, every_forward, every_backward):
    tr = net.trace(x, labels=[label], backward=True)
    for rec in tr:
        assert rec.num_steps > 0 and rec.num_backward_steps > 0
        check_forward(rec, every=every_forward)
        check_backward(rec, every=every_backward)
    return tr


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("model", [models.lenet5, models.reference_example])
def test_whole_networks_step_end_to_end(backend, model):
    net = cl.Network(model(), backend=backend, seed=4)
    rng = np.random.default_rng(0)
    net.layers[0].fit(rng.random((8, 28, 28, 1)))
    tr = _walk(net, rng.random((28, 28, 1)), 7, every_forward=7, every_backward=11)
    kinds = {r.kind for r in tr}
    assert {"imageinput", "conv", "relu", "maxpool", "fc", "softmax", "classoutput"} <= kinds
    # every forward step of the first layers, exhaustively
    for name in ("imageinput", "relu_1", "softmax", "classoutput"):
        check_forward(tr[name])
        check_backward(tr[name])


def test_reference_network_in_training_mode_steps_through_batch_statistics():
    net = cl.Network(models.reference_example(), backend="fast", seed=5)
    x = np.random.default_rng(1).random((3, 28, 28, 1))
    tr = net.trace(x, labels=[1, 2, 3], training=True, image=2, backward=True)
    for rec in tr:
        check_forward(rec, every=13)
        check_backward(rec, every=17, params=False)
    bn = tr["batchnorm_1"]
    assert bn.step_at(0).statistics == "batch" and bn.batch_size == 3


def test_a_transposed_network_and_every_other_kind_step_end_to_end():
    layers = [cl.ImageInput((4, 4, 2), normalization="zscore", mean=0.5, std=2.0),
              cl.TransposedConvolution2D(3, 2, stride=2, cropping=1), cl.LeakyReLU(0.2),
              cl.CrossChannelNormalization(2), cl.AveragePooling2D(2, stride=2),
              cl.Tanh(), cl.BatchNormalization(), cl.ClippedReLU(1.5), cl.Dropout(0.3),
              cl.GlobalMaxPooling2D(), cl.Sigmoid(), cl.FullyConnected(4),
              cl.Regression()]
    for backend in BACKENDS:
        net = cl.Network(layers, backend=backend, seed=6)
        x = np.random.default_rng(2).standard_normal((2, 4, 4, 2))
        targets = np.random.default_rng(3).standard_normal((2, 1, 1, 4))
        for training in (False, True):
            tr = net.trace(x, labels=targets, training=training, image=1, backward=True)
            for rec in tr:
                check_forward(rec)
                check_backward(rec, params=not training)
