"""Requests that cannot fit are refused with a sentence, before anything is allocated."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab import memory
from cnnlab.models import lenet5, reference_example
from tests.test_network import every_layer_type

MiB = 2**20


@pytest.fixture
def budget(monkeypatch):
    def set_budget(n):
        monkeypatch.setenv("CNNLAB_MEMORY_BUDGET", str(n))
    return set_budget


def test_budget_defaults_to_half_the_memory_and_reads_the_environment(budget):
    assert 2**28 <= memory.memory_budget_bytes() <= 16 * 2**30
    budget(12345)
    assert memory.memory_budget_bytes() == 12345


@pytest.mark.parametrize("bad", ["0", "-5", "lots"])
def test_a_bad_budget_setting_is_explained(budget, bad):
    budget(bad)
    with pytest.raises(ValueError, match="CNNLAB_MEMORY_BUDGET"):
        memory.memory_budget_bytes()


def test_a_huge_fully_connected_layer_is_refused_at_build(budget):
    budget(100 * MiB)
    # 28·28·1 inputs x 10**6 outputs in float32 = 3.1 GB of weights
    with pytest.raises(ValueError, match=r"FullyConnected layer 'fc_1': weights would be "
                                         r"1000000x784 = 784,000,000 numbers"):
        cl.Network([cl.ImageInput((28, 28, 1)), cl.FullyConnected(10**6)])


def test_a_huge_filter_bank_is_refused_at_build(budget):
    budget(100 * MiB)
    with pytest.raises(ValueError, match="Convolution2D layer 'conv_1': weights"):
        cl.Network([cl.ImageInput((8, 8, 3)), cl.Convolution2D(3, 2**31)])


def test_a_huge_activation_is_refused_at_build(budget):
    budget(100 * MiB)
    # (2 - 1)·1998 + 3 = 2001: one image's 2001x2001x16 float32 output is 244 MiB
    with pytest.raises(ValueError, match=r"TransposedConvolution2D layer 'transposed-conv_1' "
                                         r"\(output 2001x2001x16\): 1 image would"):
        cl.Network([cl.ImageInput((2, 2, 1)), cl.TransposedConvolution2D(3, 16, stride=1998)])


def test_padding_larger_than_the_budget_is_refused_at_build(budget):
    budget(100 * MiB)
    # "same" padding for a 2**31 window on a 1x1 input pads by about 2**30 on every side
    with pytest.raises(ValueError, match=r"AveragePooling2D layer 'avgpool_1'.*per image"):
        cl.Network([cl.ImageInput((1, 1, 1)), cl.AveragePooling2D(2**31, padding="same")])


def test_a_batch_too_large_for_a_forward_pass_is_refused_with_what_fits(budget):
    net = cl.Network(lenet5(), seed=0)
    per, fixed = memory.request_bytes(net.layers, net.dtype, training=False)
    # by hand for one 28x28 image, every layer's output: 28·28·1 + 2·(28·28·6) + 14·14·6
    # + 2·(10·10·16) + 5·5·16 + 2·120 + 2·84 + 3·10 = 15,406 values, plus conv_1's im2col
    # matrix 5·5·1·28·28 = 19,600 values and conv_1's padded input 32·32·1 = 1,024 values (the
    # other layers do not pad), 4 bytes each
    assert per == 4 * (15_406 + 19_600 + 1_024)
    budget(fixed + 10 * per)
    net.forward(np.zeros((10, 28, 28, 1), np.float32))      # exactly fits
    with pytest.raises(ValueError, match=r"Network.forward: 11 images .* \(about 10 fit\)"):
        net.forward(np.zeros((11, 28, 28, 1), np.float32))
    assert len(net.predict(np.zeros((25, 28, 28, 1), np.float32), batch_size=5)) == 25


def test_training_refuses_a_mini_batch_too_large(budget):
    x = np.zeros((40, 28, 28, 1), np.float32)
    y = np.arange(40) % 10
    net = cl.Network(lenet5(), seed=0)
    per, fixed = memory.request_bytes(net.layers, net.dtype, training=True, solver_slots=1)
    budget(fixed + 20 * per)
    with pytest.raises(ValueError, match=r"mini_batch_size = 32: 32 images .*smaller "
                                         r"mini_batch_size \(about 20 fit\)"):
        cl.train_network(x, y, net, cl.TrainingOptions(mini_batch_size=32, max_epochs=1,
                                                       verbose=False))


@pytest.mark.parametrize("layers", [lenet5, reference_example, every_layer_type],
                         ids=["lenet5", "reference", "every-layer"])
@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_the_training_estimate_covers_what_a_training_forward_really_holds(layers, backend):
    net = cl.Network(layers(), seed=0, backend=backend)
    h, w, c = net.input_size
    x = np.random.default_rng(0).random((6, h, w, c), dtype=np.float32)
    net.forward(x, training=True)
    per, fixed = memory.request_bytes(net.layers, net.dtype, training=True)
    held = net.held_bytes()
    assert held > 0
    assert held + 6 * memory.activation_bytes(net.layers, 4) <= 6 * per   # room for gradients
    per_inference, _ = memory.request_bytes(net.layers, net.dtype, training=False)
    net.predict(x)
    assert net.held_bytes() == 0 and per_inference < per
