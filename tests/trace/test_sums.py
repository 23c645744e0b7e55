"""How printed terms are joined: a negative term after the first is subtracted (``0.5 − 0.07``,
never ``0.5 + -0.07``), the first keeps its sign, products keep a negative second factor in
parentheses; the "=" / "≈" of a sum still judges the printed terms."""
from __future__ import annotations

import numpy as np

import cnnlab as cl
from cnnlab.trace import sums as printed


def test_negative_terms_after_the_first_are_subtracted():
    assert printed.join_terms(["0.5", "-0.07", "0.2"]) == "0.5 − 0.07 + 0.2"
    assert printed.join_terms(["-0.5", "0.07"]) == "-0.5 + 0.07"
    assert printed.join_terms(["-1", "-2", "-3"]) == "-1 − 2 − 3"
    assert printed.join_terms(["1.5"]) == "1.5"
    assert printed.join_terms([]) == ""


def test_non_finite_and_hidden_terms_keep_their_meaning():
    assert printed.join_terms(["1", "-inf", "nan"]) == "1 − inf + nan"
    assert printed.join_terms(["1", "... 6 more ...", "-2"]) == "1 + ... 6 more ... − 2"


def test_products_subtract_and_parenthesize_the_second_factor():
    terms = [printed.product_term(w, x) for w, x in
             (("0.5", "2"), ("-0.5", "-2"), ("-1", "3"), ("4", "-0.25"))]
    assert terms == ["0.5·2", "-0.5·(-2)", "-1·3", "4·(-0.25)"]
    # 0.5·2 − 0.5·(-2) − 1·3 + 4·(-0.25) = 1 + 1 − 3 − 1 = -2
    assert printed.join_terms(terms) == "0.5·2 − 0.5·(-2) − 1·3 + 4·(-0.25)"


def test_a_sum_with_negative_terms_reads_and_adds_up():
    # 0.25 + (-0.75) + 1.125 = 0.625 exactly at three decimals
    assert printed.sum_text([0.25, -0.75, 1.125], 0.625, 3) == "0.250 − 0.750 + 1.125 = 0.625"
    # at one decimal the printed terms add to -0.3, the printed total is -0.4: "≈"
    assert printed.sum_text([-0.14, -0.14, -0.14], -0.42, 1) == "-0.1 − 0.1 − 0.1 ≈ -0.4"
    assert printed.sum_text([0.14, -0.14, 0.14], 0.14, 1) == "0.1 − 0.1 + 0.1 = 0.1"


def test_a_trace_text_never_adds_a_negative_number():
    net = cl.Network([cl.ImageInput((4, 4, 1), normalization="none"), cl.Convolution2D(2, 2),
                      cl.ReLU(), cl.FullyConnected(3), cl.Softmax(), cl.Classification()],
                     seed=1, backend="reference")
    x = np.random.default_rng(0).standard_normal((1, 4, 4, 1))
    tr = net.trace(x, backward=True, labels=[1])
    texts = [rec.step_at(k).text() for rec in tr for k in range(rec.num_steps)]
    texts += [rec.backward_step_at(k).text() for rec in tr
              for k in range(rec.num_backward_steps)]
    assert any(" − " in t and "·" in t for t in texts)      # the weights have both signs
    assert not [t for t in texts if "+ -" in t or "− -" in t]
