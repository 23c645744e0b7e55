"""Network: naming, shape inference, input checks, whole-network gradients."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.models import lenet5, reference_example
from cnnlab.testing import numerical_gradient, relative_error


def every_layer_type():
    return [cl.ImageInput((6, 6, 2), normalization="zscore", mean=0.1, std=2.0),
            cl.Convolution2D(3, 4, padding=1, padding_value="replicate"),
            cl.BatchNormalization(), cl.LeakyReLU(0.1), cl.CrossChannelNormalization(3),
            cl.MaxPooling2D(2, stride=2), cl.Convolution2D(2, 4, groups=2, dilation=1),
            cl.Tanh(), cl.AveragePooling2D(2, stride=1, padding=1), cl.Sigmoid(),
            cl.ClippedReLU(0.8), cl.TransposedConvolution2D(2, 2, stride=2, cropping=1),
            cl.ReLU(), cl.FullyConnected(3), cl.Softmax(), cl.Classification()]


def test_reference_example_layer_array_and_names():
    net = cl.Network(reference_example(), seed=0)
    assert net.names == ["imageinput", "conv_1", "batchnorm_1", "relu_1", "maxpool_1",
                         "conv_2", "batchnorm_2", "relu_2", "fc_1", "softmax", "classoutput"]
    text = repr(net)
    assert text.splitlines()[0] == "  11x1 Layer array with layers:"
    assert "16 3x3x1 convolutions with stride [1 1] and padding [1 1 1 1]" in text
    assert "2x2 max pooling with stride [2 2] and padding [0 0 0 0]" in text
    assert "10 fully connected layer" in text and "crossentropyex" in text
    # 28x28x16 -> pool 14x14x16 -> conv 14x14x32 -> fc 10
    assert net["maxpool_1"].output_shape == (14, 14, 16)
    assert net["fc_1"].params["weights"].shape == (10, 14 * 14 * 32)


def test_analysis_of_the_608_parameter_example():
    a = cl.analyze([cl.ImageInput((32, 32, 3), normalization="none"),
                    cl.Convolution2D(5, 8, stride=2, padding=2)])
    row = a.rows[1]
    assert (a.total_parameters, row.activations, row.neurons) == (608, (16, 16, 8), 2048)
    assert any("16.5" in w for w in a.warnings)       # the discarded half row is reported


def test_analysis_receptive_field_lenet():
    a = cl.analyze(cl.Network(lenet5(), seed=0))
    # conv5 (rf 5) -> pool2 (6, jump 2) -> conv5 (6 + 4·2 = 14) -> pool2 (16, jump 4)
    assert a["conv_1"].receptive_field == (5, 5)
    assert a["maxpool_1"].receptive_field == (6, 6) and a["maxpool_1"].jump == (2, 2)
    assert a["conv_2"].receptive_field == (14, 14)
    assert a["maxpool_2"].receptive_field == (16, 16)
    assert a.total_parameters == 156 + 2416 + 48120 + 10164 + 850


def test_user_names_kept_and_duplicates_refused():
    net = cl.Network([cl.ImageInput((8, 8, 1)), cl.Convolution2D(3, 2, name="edges"),
                      cl.Convolution2D(3, 2)], seed=0)
    assert net.names == ["imageinput", "edges", "conv_1"]
    with pytest.raises(ValueError, match="unique"):
        cl.Network([cl.ImageInput((8, 8, 1)), cl.ReLU(name="a"), cl.ReLU(name="a")])


def test_layer_list_is_not_modified():
    layers = reference_example()
    cl.Network(layers, seed=0)
    assert all(not layer.built and layer.name == "" for layer in layers)


@pytest.mark.parametrize("layers, match", [
    ([cl.Convolution2D(3, 2)], "input_size"),
    ([cl.ImageInput((8, 8, 1)), cl.Classification()], "Softmax"),
    ([cl.ImageInput((8, 8, 1)), cl.Regression(), cl.ReLU()], "must be last"),
    ([cl.ImageInput((8, 8, 1)), cl.ImageInput((8, 8, 1))], "first layer"),
    ([cl.ImageInput((8, 8, 1)), cl.Convolution2D(7, 2, dilation=2, padding=1)], "13x13"),
])
def test_build_errors_name_the_problem(layers, match):
    with pytest.raises(ValueError, match=match):
        cl.Network(layers)


def test_input_checks():
    net = cl.Network([cl.ImageInput((4, 4, 1)), cl.FullyConnected(2)], seed=0)
    assert net.forward(np.zeros((4, 4))).shape == (1, 1, 1, 2)       # one H×W image
    with pytest.raises(ValueError, match="expected N x 4 x 4 x 1"):
        net.forward(np.zeros((2, 5, 4, 1)))
    with pytest.raises(ValueError, match="NaN"):
        net.forward(np.full((1, 4, 4, 1), np.nan))
    with pytest.raises(ValueError, match="empty"):
        net.forward(np.zeros((0, 4, 4, 1)))
    with pytest.raises(ValueError, match="dtype"):
        net.forward(np.array([["a"] * 4] * 4))
    with pytest.raises(ValueError, match="no output layer"):
        net.loss_and_gradients(np.zeros((1, 4, 4, 1)), [0])


def test_labels_checked():
    net = cl.Network([cl.ImageInput((4, 4, 1)), cl.FullyConnected(3), cl.Softmax(),
                      cl.Classification()], seed=0)
    with pytest.raises(ValueError, match="out of range"):
        net.loss_and_gradients(np.zeros((2, 4, 4, 1)), [0, 3])
    with pytest.raises(ValueError, match="rows"):
        net.loss_and_gradients(np.zeros((2, 4, 4, 1)), [0])


def test_whole_network_gradients_float64():
    """Every layer type in one float64 network against centred differences."""
    net = cl.Network(every_layer_type(), seed=1, dtype="float64")
    x = np.random.default_rng(2).standard_normal((3, 6, 6, 2))
    labels = np.array([0, 2, 1])
    _, grads = net.loss_and_gradients(x, labels)
    for layer_name, params in grads.items():
        for key, analytic in params.items():
            analytic = analytic.copy()
            p = net[layer_name].params[key]
            numeric = numerical_gradient(lambda: net.loss(x, labels, training=True), p)
            assert np.allclose(analytic, numeric, rtol=1e-6, atol=1e-8), (layer_name, key)


def test_input_gradient_matches_numerical():
    net = cl.Network(every_layer_type()[:-2], seed=3, dtype="float64")   # no loss layer
    x = np.random.default_rng(4).standard_normal((2, 6, 6, 2))
    r = np.random.default_rng(5).standard_normal((2, 1, 1, 3))
    net.forward(x, training=True)
    dx = net.backward(r)
    numeric = numerical_gradient(lambda: np.sum(net.forward(x, training=True) * r), x)
    assert np.allclose(dx, numeric, rtol=1e-6, atol=1e-9)


def test_same_seed_same_weights_and_masks():
    layers = [cl.ImageInput((5, 5, 1)), cl.Convolution2D(3, 2), cl.Dropout(0.5)]
    a, b = cl.Network(layers, seed=7), cl.Network(layers, seed=7)
    assert np.array_equal(a["conv_1"].params["weights"], b["conv_1"].params["weights"])
    x = np.ones((2, 5, 5, 1))
    assert np.array_equal(a.forward(x, training=True), b.forward(x, training=True))
    assert not np.array_equal(cl.Network(layers, seed=8)["conv_1"].params["weights"],
                              a["conv_1"].params["weights"])


def test_predict_classify_dtype_and_astype():
    net = cl.Network(lenet5(), seed=0)
    x = np.random.default_rng(0).random((5, 28, 28, 1))
    p = net.predict(x, batch_size=2)
    assert p.shape == (5, 10) and p.dtype == np.float32
    assert np.allclose(p.sum(axis=1), 1, atol=1e-6)
    assert np.array_equal(net.classify(x), p.argmax(axis=1))
    p64 = net.astype("float64").predict(x)
    assert p64.dtype == np.float64 and np.allclose(p64, p, atol=1e-5)


def test_a_layer_knows_its_network_and_copies_adopt_their_own():
    import copy
    net = cl.Network([cl.ImageInput((5, 5, 1)), cl.Convolution2D(3, 2), cl.ReLU()], seed=0)
    assert net["conv_1"].network is net
    twin = copy.deepcopy(net)
    assert twin["conv_1"].network is twin and net["conv_1"].network is net
    assert net.astype("float64")["relu_1"].network is not net
    assert copy.deepcopy(net["conv_1"]).network is None
    assert cl.ReLU().network is None


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_a_deep_copy_computes_what_the_original_computes(backend):
    import copy
    net = cl.Network(lenet5(), seed=0, backend=backend)
    x = np.random.default_rng(1).random((3, 28, 28, 1), dtype=np.float32)
    twin = copy.deepcopy(net)
    assert twin.backend == backend
    assert np.array_equal(twin.predict(x), net.predict(x))
    loss, grads = twin.loss_and_gradients(x, [1, 2, 3])
    assert np.isfinite(loss) and grads["conv_1"]["weights"].shape == (5, 5, 1, 6)


def test_two_threads_computing_with_one_network_take_turns():
    # a widget callback (its own thread under ipykernel's subshells) and a cell that use
    # one network: without the network's lock one pass overwrote the other's intermediates
    # ("ReLU layer 'relu_2': backward called before forward") or gave wrong gradients
    import threading

    from cnnlab.explain import input_gradient
    net = cl.Network(lenet5(), seed=0, backend="reference")
    x = np.random.default_rng(2).random((2, 28, 28, 1))
    labels = [3, 7]
    expected = input_gradient(net, x, labels)[0].copy()
    errors, wrong = [], []

    def worker():
        try:
            for _ in range(15):
                g = input_gradient(net, x, labels)[0]
                if not np.array_equal(g, expected):
                    wrong.append(g)
        except Exception as error:          # noqa: BLE001 (the failure being tested)
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and wrong == []


# ---- caches: kept only when a backward pass follows (issue 11, item 9) -------------------------

@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_predict_and_prediction_forward_leave_no_caches(backend):
    net = cl.Network(lenet5(), seed=0, backend=backend)
    net.fused = False                 # per-layer caches (a fused stage keeps its layers')
    x = np.random.default_rng(0).random((20, 28, 28, 1), dtype=np.float32)
    net.forward(x, training=True)
    # after a training forward the layers hold their inputs, im2col columns, winners ...
    # for LeNet-5: conv_1's padded input 32·32 and columns 25·28·28 (fast), ReLU in/out,
    # pooling winners; at least the 28·28·6 conv_1 output per image, 4 bytes each
    assert net.held_bytes() >= 20 * 28 * 28 * 6 * 4
    assert net["conv_1"].held_bytes() > 0 and net["relu_1"].held_bytes() > 0
    net.predict(x, batch_size=8)
    assert net.held_bytes() == 0
    assert all(layer.held_bytes() == 0 for layer in net)
    net.forward(x)
    assert net.held_bytes() == 0
    with pytest.raises(RuntimeError, match="keeps no caches"):
        net.backward(np.ones((20, 1, 1, 10), np.float32))
    net.forward(x, keep_caches=True)           # prediction mode, but a backward will follow
    assert net.backward(np.ones((20, 1, 1, 10), np.float32)).shape == x.shape


def test_training_releases_its_caches_when_it_ends():
    x = np.random.default_rng(1).random((16, 28, 28, 1), dtype=np.float32)
    net, _ = cl.train_network(x, np.arange(16) % 10, lenet5(),
                              cl.TrainingOptions(max_epochs=1, mini_batch_size=8, verbose=False))
    assert net.held_bytes() == 0


def test_held_bytes_counts_a_shared_buffer_once():
    net = cl.Network([cl.ImageInput((4, 4, 1)), cl.FullyConnected(3), cl.ReLU()], seed=0,
                     dtype="float64")
    net.forward(np.ones((2, 4, 4, 1)), training=True)
    # FC keeps its input as a 2x16 view of the batch; ReLU keeps the FC output (its input)
    # and its own output: 2·16 + 2·3 + 2·3 float64 values
    assert net.held_bytes() == 8 * (2 * 16 + 2 * 3 + 2 * 3)
    assert net["fc_1"].held_bytes() == 8 * 2 * 16


def test_every_computation_holds_the_blas_cap(monkeypatch):
    from cnnlab.kernels.fast import threads
    net = cl.Network(lenet5(), seed=0, backend="fast")
    seen = []
    original = net["imageinput"].forward     # a layer every pass runs on its own

    def spy(x, **kw):
        seen.append(threads.blas_threads())
        return original(x, **kw)
    monkeypatch.setattr(net["imageinput"], "forward", spy)
    x = np.zeros((3, 28, 28, 1), np.float32)
    net.predict(x)
    net.forward(x)
    net.loss_and_gradients(x, [0, 1, 2])
    net.loss(x, [0, 1, 2])
    assert len(seen) == 4 and all(t and all(n == 1 for n in t) for t in seen)


def test_the_fast_backend_runs_fused_stages_by_default_and_they_hold_no_caches_after_predict():
    net = cl.Network(lenet5(), seed=0, backend="fast")
    assert net.fused and not cl.Network(lenet5(), seed=0, backend="reference").fused
    x = np.random.default_rng(0).random((20, 28, 28, 1), dtype=np.float32)
    net.forward(x, training=True)
    assert net.held_bytes() > 0          # the stages keep what backward needs (less: they
                                         # recompute the columns and keep 1-byte winners)
    net.predict(x, batch_size=8)
    assert net.held_bytes() == 0
    per_layer = cl.Network(lenet5(), seed=0, backend="fast")
    per_layer.fused = False
    np.testing.assert_allclose(net.predict(x), per_layer.predict(x), rtol=1e-5, atol=1e-6)
