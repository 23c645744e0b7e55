"""check_design, the design exercise's check: counts by hand (weights + biases per layer), the
hint names the layer holding most parameters, a network that cannot be built is "not yet"."""
import doctest

import pytest

import cnnlab as cl
import cnnlab.design_check
from cnnlab.design_check import check_design
from cnnlab.models import lenet5


def small(filters=4, pool=4):
    return [cl.ImageInput((28, 28, 1)), cl.Convolution2D(3, filters, padding=1), cl.ReLU(),
            cl.MaxPooling2D(pool, stride=pool), cl.FullyConnected(10), cl.Softmax(),
            cl.Classification()]


def test_doctest():
    failed, attempted = doctest.testmod(cnnlab.design_check)
    assert attempted >= 1 and failed == 0


def test_a_network_within_the_budget_is_right(capsys):
    # (3·3·1 + 1)·4 = 40; pool 4 -> 7×7×4 = 196 inputs: 10·196 + 10 = 1,970; total 2,010
    assert check_design(small(), 2010) is True
    assert capsys.readouterr().out == ("Right! 2,010 learnable parameters, within the budget "
                                       "of 2,010.\n")


def test_over_budget_names_the_costliest_layer(capsys):
    # LeNet-5: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706; fc_1 = 120·400 + 120 = 48,120
    assert check_design(lenet5(), 10_000) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet: you wrote a network with 61,706 learnable parameters, "
                          "51,706 over the budget of 10,000. Hint: fc_1 holds 48,120 of them "
                          "(78.0%)")
    assert "fewer outputs" in out


def test_a_convolution_that_costs_most_gets_convolution_advice(capsys):
    # conv 5×5×1×64: 26·64 = 1,664; then global pooling -> 64 inputs: 10·64 + 10 = 650
    layers = [cl.ImageInput((28, 28, 1)), cl.Convolution2D(5, 64), cl.GlobalAveragePooling2D(),
              cl.FullyConnected(10), cl.Softmax(), cl.Classification()]
    assert check_design(layers, 1000) is False
    out = capsys.readouterr().out
    assert "2,314 learnable parameters" in out and "conv_1 holds 1,664" in out
    assert "fewer filters" in out


def test_none_asks_for_an_answer_and_a_broken_network_is_not_yet(capsys):
    assert check_design(None, 100) is False
    assert capsys.readouterr().out.startswith("Fill in your answer")
    broken = [cl.ImageInput((4, 4, 1)), cl.Convolution2D(5, 2)]     # 5×5 filter on 4×4
    assert check_design(broken, 100) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet: you wrote a network that cannot be built: ")


def test_with_outputs_the_network_must_end_in_an_output_layer_of_that_size(capsys):
    assert check_design(small(), 10_000, outputs=10) is True
    capsys.readouterr()
    no_loss = small()[:-2]                                     # ends in fc_1
    assert check_design(no_loss, 10_000, outputs=10) is False
    assert "ends in fc_1, not in an output layer" in capsys.readouterr().out
    assert check_design(no_loss, 10_000) is True               # a budget alone: it fits
    capsys.readouterr()
    five = small()
    five[4] = cl.FullyConnected(5)
    assert check_design(five, 10_000, outputs=10) is False
    assert capsys.readouterr().out == ("Not yet: you wrote a network with 5 outputs; it needs "
                                       "10 (one per class): give the last fully connected "
                                       "layer 10 outputs.\n")


@pytest.mark.parametrize("budget", [0, -5, 2.5, True, "10000"])
def test_a_bad_budget_is_refused(budget):
    with pytest.raises(ValueError, match="budget"):
        check_design(small(), budget)


@pytest.mark.parametrize("outputs", [0, 2.0, True])
def test_bad_outputs_are_refused(outputs):
    with pytest.raises(ValueError, match="outputs"):
        check_design(small(), 100, outputs=outputs)
