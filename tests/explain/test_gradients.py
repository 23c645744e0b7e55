"""Saliency and the input gradient against float64 centred differences of what the network
predicts (independent of any backward pass), and a hand-computed case."""
from __future__ import annotations

import numpy as np
import pytest

import cnnlab as cl
from cnnlab.explain import input_gradient, saliency
from cnnlab.testing import numerical_gradient

from .conftest import small_layers


def _image(seed=0):
    return np.random.default_rng(seed).random((6, 6, 1))


@pytest.mark.parametrize("label", [0, 2])
def test_score_gradient_is_the_centred_difference_of_the_class_score(small_pair, label):
    net, scores = small_pair
    x = _image()
    s = saliency(net, x, label)
    probe = x.copy()
    numeric = numerical_gradient(lambda: scores.predict(probe)[0, label], probe)
    np.testing.assert_allclose(s.gradient, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(s.map, np.abs(numeric).max(axis=2), rtol=1e-6, atol=1e-9)
    assert s.value == pytest.approx(scores.predict(x)[0, label], rel=1e-12)
    assert s.target == "score" and s.label == label
    np.testing.assert_allclose(s.probabilities, net.predict(x)[0], rtol=1e-12)
    assert s.predicted == int(np.argmax(net.predict(x)[0]))


def test_loss_gradient_is_the_centred_difference_of_minus_log_p(small_pair):
    net, _scores = small_pair
    x = _image(1)
    s = saliency(net, x, 1, target="loss")
    probe = x.copy()
    numeric = numerical_gradient(lambda: -np.log(net.predict(probe)[0, 1]), probe)
    np.testing.assert_allclose(s.gradient, numeric, rtol=1e-6, atol=1e-9)
    assert s.value == pytest.approx(-np.log(net.predict(x)[0, 1]), rel=1e-12)


def test_a_batch_gives_each_image_its_own_gradient(small_pair):
    net, _scores = small_pair
    x = np.stack([_image(2), _image(3), _image(4)])
    grad, value, probs = input_gradient(net, x, [0, 1, 2], target="loss")
    for n, k in enumerate([0, 1, 2]):
        one = saliency(net, x[n], k, target="loss")
        np.testing.assert_allclose(grad[n], one.gradient, rtol=1e-12, atol=1e-14)
        assert value[n] == pytest.approx(one.value)
    np.testing.assert_allclose(probs, net.predict(x), rtol=1e-12)


def test_colour_images_take_the_largest_channel_magnitude():
    net = cl.Network(small_layers(with_softmax=False, channels=3), dtype="float64",
                     backend="reference")
    x = np.random.default_rng(5).random((6, 6, 3))
    s = saliency(net, x, 1)
    assert s.gradient.shape == (6, 6, 3) and s.map.shape == (6, 6)
    np.testing.assert_array_equal(s.map, np.abs(s.gradient).max(axis=2))
    assert s.probabilities is None


def test_hand_computed_fully_connected_case():
    # one fully connected layer: s = W x + b, so ds_k/dx = row k of W, whatever x is
    w = np.array([[1.0, -2.0, 0.5, 0.0], [3.0, 1.0, -1.0, 2.0]])
    net = cl.Network([cl.ImageInput((2, 2, 1), normalization="none"),
                      cl.FullyConnected(2, weights=w, bias=[0.0, 0.0]), cl.Softmax(),
                      cl.Classification()], dtype="float64", backend="reference")
    x = np.array([[0.2, 0.4], [0.6, 0.8]])[:, :, None]
    s = saliency(net, x, 1)
    # the network flattens H×W×C in row-major order: x(0,0), x(0,1), x(1,0), x(1,1)
    np.testing.assert_allclose(s.gradient[:, :, 0], [[3.0, 1.0], [-1.0, 2.0]])
    np.testing.assert_allclose(s.map, [[3.0, 1.0], [1.0, 2.0]])
    assert s.value == pytest.approx(3 * 0.2 + 0.4 - 0.6 + 2 * 0.8)
    # the loss gradient: (p - onehot(1)) · W, with p from the two scores by hand
    s0, s1 = 0.2 - 0.8 + 0.3, s.value
    p = np.exp([s0, s1]) / np.exp([s0, s1]).sum()
    loss = saliency(net, x, 1, target="loss")
    np.testing.assert_allclose(loss.gradient[:, :, 0].reshape(-1),
                               (p - [0, 1]) @ w, rtol=1e-12)


def test_saliency_does_not_change_the_network(small_pair):
    net, _scores = small_pair
    x = _image(6)
    before = net.predict(x)
    weights = {layer.name: {k: v.copy() for k, v in layer.params.items()} for layer in net}
    saliency(net, x, 0)
    np.testing.assert_array_equal(net.predict(x), before)
    for layer in net:
        for k, v in layer.params.items():
            np.testing.assert_array_equal(v, weights[layer.name][k])
    assert net.held_bytes() == 0


def test_saliency_of_the_trained_lenet_is_finite_and_mostly_on_the_digit(trained, digits):
    _xt, _yt, x_val, y_val = digits
    s = saliency(trained, x_val[3], int(y_val[3]))
    assert s.map.shape == (28, 28) and np.all(np.isfinite(s.map))
    ink = x_val[3][:, :, 0] > 0.3
    near_ink = np.zeros_like(ink)
    for dr in (-2, -1, 0, 1, 2):             # the stroke and two pixels around it
        for dc in (-2, -1, 0, 1, 2):
            near_ink |= np.roll(np.roll(ink, dr, 0), dc, 1)
    assert s.map[near_ink].sum() > 0.5 * s.map.sum()


@pytest.mark.parametrize("call, message", [
    (lambda net: saliency(net, np.zeros((5, 6, 1)), 0), "image has shape"),
    (lambda net: saliency(net, np.zeros((2, 6, 6, 1)), 0), "give one image"),
    (lambda net: saliency(net, np.zeros((6, 6, 1)), 3), r"label 3 is not a class .*0\.\.2"),
    (lambda net: saliency(net, np.zeros((6, 6, 1)), -1), "label -1 is not a class"),
    (lambda net: saliency(net, np.zeros((6, 6, 1)), 0.5), "expected class indices"),
    (lambda net: saliency(net, np.zeros((6, 6, 1)), [0, 1]), r"2 label\(s\) for 1 image"),
    (lambda net: saliency(net, np.zeros((6, 6, 1)), 0, target="logit"),
     "target = 'logit': expected one of score, loss"),
    (lambda net: input_gradient(net, np.zeros((0, 6, 6, 1)), []), "empty batch"),
])
def test_bad_input_is_refused_with_what_is_wrong(call, message, small_pair):
    net, _scores = small_pair
    with pytest.raises(ValueError, match=message):
        call(net)


def test_loss_needs_a_softmax_and_scores_must_be_a_vector():
    scores = cl.Network(small_layers(with_softmax=False), dtype="float64", backend="reference")
    with pytest.raises(ValueError, match="target = 'loss' needs a network ending in Softmax"):
        saliency(scores, _image(), 0, target="loss")
    maps = cl.Network([cl.ImageInput((6, 6, 1), normalization="none"), cl.Convolution2D(3, 2)],
                      backend="reference")
    with pytest.raises(ValueError, match=r"outputs 4x4x2; class scores must be 1x1xK"):
        saliency(maps, _image(), 0)


def test_doctest_of_the_module():
    import doctest

    import cnnlab.explain.gradients as module
    failed, attempted = doctest.testmod(module)
    assert attempted >= 3 and failed == 0


def test_saliency_follows_every_branch_of_a_layer_graph():
    """On a graph (concatenation and residual blocks) the gradient of a class score with
    respect to the image matches centred differences of that score."""
    from tests.test_graph_pass import classifier_graph
    net = cl.Network(classifier_graph(), seed=3, dtype="float64", backend="reference")
    image = np.random.default_rng(4).standard_normal((6, 6, 3))
    s = saliency(net, image, 1)
    to_scores = net.layers[:-2]                          # up to fc_1, before the softmax

    def score():                                         # numerical_gradient nudges image
        return float(net.forward_through(to_scores, image[None], keep=False)[0, 0, 0, 1])

    numeric = numerical_gradient(score, image)
    np.testing.assert_allclose(s.gradient, numeric, rtol=1e-6, atol=1e-9)
    assert s.value == pytest.approx(score())
