"""Network.training_pass (``cnnlab/network_step.py``): one step's loss, output and gradients.

The step is forward in training mode, the output layer's loss, and backward from it; the
expected values are computed here from the parts (the output layer's loss of the forward
output, a float64 centred difference of that loss for a weight's gradient), and a loss that
is not finite leaves the gradients alone when asked to.
"""
import numpy as np
import pytest

import cnnlab as cl


def small_net(backend):
    layers = [cl.Convolution2D(3, 4), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
              cl.FullyConnected(3), cl.Softmax(), cl.Classification()]
    return cl.Network(layers, seed=2, dtype="float64", backend=backend, input_size=(8, 8, 2))


@pytest.mark.parametrize("backend", ["reference", "fast"])
def test_the_pass_is_forward_loss_and_backward(backend):
    net = small_net(backend)
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((5, 8, 8, 2)), np.array([0, 2, 1, 1, 0])
    loss, y = net.training_pass(x, labels)
    np.testing.assert_allclose(y, net.predict(x).reshape(y.shape), rtol=1e-12)
    assert loss == pytest.approx(net.loss(x, labels), rel=1e-12)
    # dL/dw of one weight of conv_1 against a float64 centred difference of the loss
    w = net["conv_1"].params["weights"]
    got = net["conv_1"].grads["weights"][1, 2, 0, 3]
    h, keep = 1e-6, w[1, 2, 0, 3]
    w[1, 2, 0, 3] = keep + h
    up = net.loss(x, labels)
    w[1, 2, 0, 3] = keep - h
    down = net.loss(x, labels)
    w[1, 2, 0, 3] = keep
    assert got == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-10)


@pytest.mark.parametrize("backend", ["reference", "fast"])
def test_a_loss_that_is_not_finite_can_leave_the_gradients_alone(backend):
    net = small_net(backend)
    x, labels = np.ones((2, 8, 8, 2)), np.array([0, 1])
    net.training_pass(x, labels)
    before = {k: v.copy() for k, v in net["fc_1"].grads.items()}
    net["fc_1"].params["bias"][0] = np.inf           # the softmax of an inf score is NaN
    with np.errstate(invalid="ignore"):
        loss, _ = net.training_pass(x, labels, stop_if_not_finite=True)
        assert not np.isfinite(loss)
        for k, v in before.items():
            np.testing.assert_array_equal(net["fc_1"].grads[k], v)
        net.training_pass(x, labels)                 # by default backward runs regardless
    assert np.isnan(net["fc_1"].grads["weights"]).any()


def test_labels_of_another_batch_are_refused():
    net = small_net("reference")
    with pytest.raises(ValueError, match="labels have 3 rows for 2 images"):
        net.training_pass(np.zeros((2, 8, 8, 2)), [0, 1, 2])
