"""FGSM: the perturbation is ε·sign of the centred-difference loss gradient, clipped to the
valid range; the lesson's ε flips the lesson's digit while no pixel moves by more than ε."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab.explain import fgsm
from cnnlab.testing import numerical_gradient

#: lesson 12's example: validation digit 3 (a 9) and ε = 0.1
LESSON_IMAGE, LESSON_EPSILON = 3, 0.1


def test_step_is_epsilon_times_the_sign_of_the_numerical_gradient(small_pair):
    net, _scores = small_pair
    x = np.random.default_rng(2).random((6, 6, 1))
    probe = x.copy()
    g = numerical_gradient(lambda: -np.log(net.predict(probe)[0, 2]), probe)
    a = fgsm(net, x, 2, 0.07)
    np.testing.assert_allclose(a.gradient, g, rtol=1e-6, atol=1e-9)
    expected = np.clip(x + 0.07 * np.sign(g), 0, 1)
    np.testing.assert_allclose(a.adversarial, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(a.perturbation, expected - x, atol=1e-15)
    np.testing.assert_allclose(a.adversarial_probabilities, net.predict(expected)[0],
                               rtol=1e-12)
    np.testing.assert_allclose(a.original_probabilities, net.predict(x)[0], rtol=1e-12)
    assert a.epsilon == 0.07 and a.clip == (0.0, 1.0) and a.label == 2
    # the step raised the loss of the true class
    assert -np.log(a.adversarial_probabilities[2]) > -np.log(a.original_probabilities[2])


def test_clipping_keeps_pixels_in_range_and_none_turns_it_off(small_pair):
    net, _scores = small_pair
    x = np.zeros((6, 6, 1))
    x[::2] = 1.0                                           # pixels at both ends of [0, 1]
    a = fgsm(net, x, 0, 0.3)
    assert a.adversarial.min() >= 0 and a.adversarial.max() <= 1
    free = fgsm(net, x, 0, 0.3, clip=None)
    np.testing.assert_allclose(np.abs(free.perturbation), 0.3 * (free.gradient != 0),
                               atol=1e-15)
    np.testing.assert_allclose(a.adversarial, np.clip(free.adversarial, 0, 1), atol=1e-15)
    narrow = fgsm(net, x + 0.5, 0, 0.3, clip=(0.4, 1.2))
    assert narrow.adversarial.min() >= 0.4 and narrow.adversarial.max() <= 1.2


def test_epsilon_zero_changes_nothing(small_pair):
    net, _scores = small_pair
    x = np.random.default_rng(3).random((6, 6, 1))
    a = fgsm(net, x, 1, 0.0)
    np.testing.assert_array_equal(a.adversarial, x)
    assert not a.flipped


def test_the_lessons_epsilon_flips_the_lessons_digit(trained, digits):
    _xt, _yt, x_val, y_val = digits
    x, k = x_val[LESSON_IMAGE], int(y_val[LESSON_IMAGE])
    a = fgsm(trained, x, k, LESSON_EPSILON)
    assert a.original_label == k                           # right before the step
    assert a.flipped and a.adversarial_label != k          # wrong after it
    assert int(np.argmax(trained.predict(a.adversarial)[0])) == a.adversarial_label
    assert np.abs(a.perturbation).max() <= LESSON_EPSILON + 1e-6
    assert a.adversarial.min() >= 0 and a.adversarial.max() <= 1


def test_a_batch_and_a_larger_epsilon_fool_more_digits(trained, digits):
    _xt, _yt, x_val, y_val = digits
    x, y = x_val[:100], y_val[:100]
    accuracy = []
    for eps in (0.0, 0.05, 0.1, 0.2):
        a = fgsm(trained, x, y, eps)
        assert a.adversarial.shape == x.shape and a.label.shape == (100,)
        accuracy.append(float(np.mean(a.adversarial_label == y)))
    assert accuracy[0] >= 0.85
    assert accuracy == sorted(accuracy, reverse=True) and accuracy[-1] < 0.3
    one = fgsm(trained, x[7], int(y[7]), 0.1)
    batch = fgsm(trained, x, y, 0.1)
    np.testing.assert_allclose(batch.adversarial[7], one.adversarial, atol=1e-6)


@pytest.mark.parametrize("epsilon, clip, message", [
    (-0.1, (0, 1), "epsilon = -0.1 must be a finite number ≥ 0"),
    (np.inf, (0, 1), "epsilon = inf"),
    ("0.1", (0, 1), "epsilon = '0.1'"),
    (0.1, (1, 0), r"clip = \(1, 0\): expected \(low, high\) with low < high"),
    (0.1, (0, 1, 2), r"clip = \(0, 1, 2\)"),
])
def test_bad_arguments_are_refused(epsilon, clip, message, small_pair):
    net, _scores = small_pair
    with pytest.raises(ValueError, match=message):
        fgsm(net, np.zeros((6, 6, 1)), 0, epsilon, clip=clip)


def test_a_network_without_softmax_is_refused(small_pair):
    _net, scores = small_pair
    with pytest.raises(ValueError, match="needs a network ending in Softmax"):
        fgsm(scores, np.zeros((6, 6, 1)), 0, 0.1)
