"""An Addition's backward steps: every input receives dL/dy whole. Oracles: the gradients the
layer's own backward pass recorded for each input (``rec.input_gradients``) and, for the
identity input, the float64 centred difference of the loss."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.models import basic_block, inception_block


def residual(seed=0):
    g = cl.LayerGraph([cl.ImageInput((4, 4, 2), normalization="none"),
                       cl.Convolution2D(3, 2, padding=1, name="stem")])
    last = basic_block(g, "stem", 2, name="b")
    g.add_layers([cl.FullyConnected(3, name="fc"), cl.Softmax(), cl.Classification()])
    g.connect(last, "fc")
    return cl.Network(g, seed=seed, dtype="float64", backend="reference")


def test_each_step_passes_the_incoming_gradient_to_every_input():
    net = residual()
    x = np.random.default_rng(0).standard_normal((4, 4, 2))
    rec = net.trace(x, backward=True, labels=[2])["b_add"]
    assert rec.num_backward_steps == 4 * 4 * 2
    for k in range(rec.num_backward_steps):
        step = rec.backward_step_at(k)
        ch, pos = divmod(k, 16)
        r, c = divmod(pos, 4)
        assert (step.row, step.col, step.channel) == (r, c, ch)
        assert step.value == rec.output_gradient[r, c, ch]
        assert step.gradients == tuple(float(g[r, c, ch]) for g in rec.input_gradients)
        assert all(g == step.value for g in step.gradients)
        assert step.fed == ("b_bn2", "stem") and "back to 'stem'" in step.text()


def test_the_identity_inputs_gradient_is_the_loss_difference_quotient():
    # y = in1 + in2, so nudging in2 at one element nudges y there by the same amount:
    # dL/d(in2) = dL/dy, measured by running the layers after the Addition on y ± h
    net = residual(1)
    x = np.random.default_rng(2).standard_normal((4, 4, 2))
    tr = net.trace(x, backward=True, labels=[0])
    step = tr["b_add"].backward_step_at(5)
    r, c, ch = step.row, step.col, step.channel
    after = [layer for layer in net.layers if layer.name in ("b_relu", "fc", "softmax")]
    loss_layer = net.layers[-1]

    def loss(y):
        for layer in after:
            y = layer.forward(y)
        return float(loss_layer.loss(y, np.array([0])))

    y = tr["b_add"].output[None].astype(np.float64)
    h = 1e-5
    up, down = y.copy(), y.copy()
    up[0, r, c, ch] += h
    down[0, r, c, ch] -= h
    numeric = (loss(up) - loss(down)) / (2 * h)
    assert step.gradients[1] == pytest.approx(numeric, rel=1e-6, abs=1e-10)


def test_a_concatenation_still_has_no_backward_steps():
    g = cl.LayerGraph([cl.ImageInput((3, 3, 1), normalization="none")])
    out = inception_block(g, "imageinput", f1x1=1, f3x3_reduce=1, f3x3=1, f5x5_reduce=1,
                          f5x5=1, pool_proj=1, name="i")
    g.add_layers([cl.FullyConnected(2, name="fc"), cl.Softmax(), cl.Classification()])
    g.connect(out, "fc")
    net = cl.Network(g, seed=0, dtype="float64", backend="reference")
    rec = net.trace(np.ones((3, 3, 1)), backward=True, labels=[0])["i_cat"]
    assert rec.num_backward_steps == 0
