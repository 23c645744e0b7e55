"""The throw-away compile step before training: said once, and leaves the network as it was."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.warmup import compile_kernels, forget

pytest.importorskip("numba")


def small_net(seed=0):
    # batch norm (running statistics) and dropout (the generator): what a step could change
    return cl.Network([cl.ImageInput((6, 6, 2), normalization="none"),
                       cl.Convolution2D(3, 3, padding=1), cl.BatchNormalization(),
                       cl.ReLU(), cl.Dropout(0.5), cl.FullyConnected(4), cl.Softmax(),
                       cl.Classification()], seed=seed, dtype="float64", backend="fast")


def test_the_step_runs_once_per_process_and_changes_nothing(capsys):
    forget()
    net = small_net()
    x = np.random.default_rng(1).random((5, 6, 6, 2))
    labels = np.arange(5) % 4
    state = {layer.name: {k: v.copy() for k, v in layer.state.items()} for layer in net.layers}
    params = {layer.name: {k: v.copy() for k, v in layer.params.items()}
              for layer in net.layers}
    rng_state = net.rng.bit_generator.state
    seconds = compile_kernels(net, lambda: net.loss_and_gradients(x, labels))
    assert seconds is not None and seconds >= 0
    out = capsys.readouterr().out
    assert out.startswith("compiling kernels (first run only)... done in ")
    for layer in net.layers:
        for k, v in layer.state.items():
            np.testing.assert_array_equal(v, state[layer.name][k])
        for k, v in layer.params.items():
            np.testing.assert_array_equal(v, params[layer.name][k])
    assert net.rng.bit_generator.state == rng_state          # the same dropout masks follow
    assert net.held_bytes() == 0                              # no caches left behind
    # the same dtype and layers again: nothing to compile, nothing said
    assert compile_kernels(small_net(), lambda: pytest.fail("ran again")) is None
    assert capsys.readouterr().out == ""


def test_training_gives_the_same_weights_after_the_warm_up():
    x = np.random.default_rng(2).random((16, 6, 6, 2))
    y = np.arange(16) % 4
    options = cl.TrainingOptions("sgdm", max_epochs=2, mini_batch_size=8, verbose=False,
                                 progress_bar=False, seed=0)
    forget()
    first, _ = cl.train_network(x, y, small_net(seed=5), options)     # warms up first
    second, _ = cl.train_network(x, y, small_net(seed=5), options)    # does not
    for a, b in zip(first.layers, second.layers):
        for k in a.params:
            np.testing.assert_array_equal(a.params[k], b.params[k])


def test_the_reference_backend_has_nothing_to_compile():
    net = small_net().astype("float32")
    net.backend = "reference"
    assert compile_kernels(net, lambda: pytest.fail("ran")) is None
