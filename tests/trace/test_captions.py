"""On-screen sums add up as printed (issue 11 item 12; the rule is in cnnlab.trace.sums).

Every caption is read back the way a student reads it: the printed numbers are parsed and
added with exact fractions. A printed "=" must hold exactly for the printed numbers; a "≈"
within the rounding of the n printed terms and the total, (n + 1)/2 units of the last place.
The printed numbers must also be the engine's numbers, rounded to what they show.
"""
import html
import re
from fractions import Fraction

import numpy as np
from hypothesis import given, settings, strategies as st

import cnnlab as cl
from cnnlab.viz.conv_step import ConvStepFigure
from cnnlab.viz.pool_step import PoolStepFigure
from cnnlab.widgets import ConvolutionExplorer

NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?|-?inf|nan"


def value(text):
    return Fraction(text)                   # exact: "0.1235" is 1235/10000


def unit(text):
    """One unit of the last printed place: "0.120" -> 1/1000, "3" -> 1, "1.5e-05" -> 1e-6."""
    mantissa, _, exponent = text.lstrip("-").partition("e")
    places = len(mantissa.partition(".")[2])
    return Fraction(1, 10 ** places) * Fraction(10) ** int(exponent or 0)


def decimals(text):
    return len(text.partition(".")[2])


def check_sum(terms, rel, total):
    """Terms and total of one printed sum (strings): '=' exact, '≈' within the rounding."""
    assert rel in "=≈"
    assert len({decimals(t) for t in terms + [total]}) == 1, (terms, total)   # rule 1
    got = sum(value(t) for t in terms)
    if rel == "=":
        assert got == value(total), (terms, total)
    else:
        assert abs(got - value(total)) <= (len(terms) + 1) * unit(total) / 2, (terms, total)


def check_products(pairs, bias, rel, total):
    """w·x pairs (strings), bias and total: '=' means the printed factors' products and bias,
    rounded to the total's last place, give the total; '≈' the propagated rounding."""
    exact = sum(value(w) * value(x) for w, x in pairs) + value(bias)
    assert decimals(bias) == decimals(total)
    if rel == "=":
        assert abs(exact - value(total)) <= unit(total) / 2, (pairs, bias, total)
    else:
        bound = sum(abs(value(w)) * unit(x) / 2 + abs(value(x)) * unit(w) / 2
                    + unit(w) * unit(x) / 4 for w, x in pairs)
        assert abs(exact - value(total)) <= bound + unit(bias) / 2 + unit(total) / 2


def close(printed, true):
    """The printed number is the true one rounded to its last place (float32 slack)."""
    assert abs(value(printed) - Fraction(float(true))) <= unit(printed) / 2 * (1 + 1e-6) \
        + Fraction(abs(float(true))) * Fraction(1, 10 ** 6)


def terms_of(body):
    """The terms of a printed sum ``a + b − c``, each with its sign: ["a", "b", "-c"]. A
    negative term after the first is written subtracted, never as "+ -c"."""
    assert " + -" not in body and " − -" not in body, body
    pieces = re.split(r" ([+−]) ", body)
    return [pieces[0]] + [("-" if op == "−" else "") + t
                          for op, t in zip(pieces[1::2], pieces[2::2])]


def read_products_line(text):
    m = re.fullmatch(rf"(.*) \+ bias ({NUMBER}) (=|≈) ({NUMBER})", text)
    assert m, text
    # a negative term after the first is subtracted (" − w·x", never " + -w·x"), and a
    # negative second factor is printed in parentheses: w·(-x)
    pairs = [tuple(term.split("·")) for term in terms_of(m.group(1))]
    assert all(len(p) == 2 and not p[1].startswith("-") for p in pairs), text
    pairs = [(w, x.removeprefix("(").removesuffix(")")) for w, x in pairs]
    return pairs, m.group(2), m.group(3), m.group(4)


def read_sums(text, step):
    """Check every complete sum in a caption or equation text of a convolution step."""
    flat = " ".join(text.split("\n"))
    found = 0
    m = re.search(rf"channel sums \(([^)]*)\): ((?:{NUMBER})(?: [+−] (?:{NUMBER}))*) (=|≈) "
                  rf"({NUMBER})", flat)
    if m:
        terms = terms_of(m.group(2))
        check_sum(terms, m.group(3), m.group(4))
        for t, true in zip(terms, step.channel_sums):
            close(t, true)
        found += 1
    m = re.search(rf"total ({NUMBER}) \+ bias ({NUMBER}) (=|≈) ({NUMBER})", flat)
    if m:
        check_sum([m.group(1), m.group(2)], m.group(3), m.group(4))
        close(m.group(1), step.total)
        close(m.group(4), step.value)
        found += 1
    if len(step.channels) == 1 and "..." not in flat:
        body = re.search(r"\(\d+, \d+\): (.*)$", flat).group(1)
        pairs, bias, rel, total = read_products_line(body)
        check_products(pairs, bias, rel, total)
        close(total, step.value)
        found += 1
    return found


@st.composite
def conv_layers(draw):
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    fh, fw, c = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    scale_x, scale_w = 10.0 ** draw(st.integers(-3, 3)), 10.0 ** draw(st.integers(-3, 2))
    kind = draw(st.sampled_from(["normal", "integers", "mixed"]))
    w = rng.standard_normal((fh, fw, c, 2)) * scale_w
    x = rng.standard_normal((draw(st.integers(3, 5)), draw(st.integers(3, 5)), c)) * scale_x
    if kind == "integers":
        w, x = np.round(w * 3), np.round(x)
    bias = rng.standard_normal(2) * scale_w * (kind != "integers")
    layer = cl.Convolution2D((fh, fw), 2, weights=w, bias=bias, padding=draw(st.integers(0, 1)))
    net = cl.Network([cl.ImageInput(x.shape, normalization="none"), layer], seed=0,
                     dtype=draw(st.sampled_from(["float32", "float64"])), backend="reference")
    return net.trace(x)[1]


@given(conv_layers())
def test_every_convolution_caption_adds_up(rec):
    fig = ConvStepFigure(rec, 0, max_terms=40)
    oh, ow = rec.output_shape[:2]
    checked = 0
    for row in range(oh):
        for col in range(ow):
            step = rec.step(row, col, 0)
            pairs, bias, rel, total = read_products_line(step.text(max_terms=100).split(": ", 1)[1])
            check_products(pairs, bias, rel, total)
            close(total, step.value)
            checked += read_sums(fig.equation_text(step), step)
            checked += read_sums(fig.caption(step), step)
    assert checked >= oh * ow                  # something was read back from every caption
    # the picture: each channel's product cells add up to the sum in its title
    for row, col in {(0, 0), (oh - 1, ow - 1), (oh // 2, ow // 2)}:
        fig.show_step((row, col))
        step = fig.step
        for k, ch in enumerate(fig.shown):
            cells = [t.get_text() for t in fig.product_grids[k].texts.ravel()]
            m = re.fullmatch(rf"products, ch {ch}\nsum (=|≈) ({NUMBER})",
                             fig.product_titles[k].get_text())
            assert m, fig.product_titles[k].get_text()
            check_sum(cells, m.group(1), m.group(2))
            close(m.group(2), step.channel_sums[step.channels.index(ch)])
            assert f"ch {ch}: {m.group(2)}" in fig.caption()


def test_the_issue_example_now_adds_up():
    # two channel sums whose 3-figure roundings did not add to the 3-figure total
    w = np.zeros((1, 1, 2, 1))
    w[0, 0, :, 0] = (-0.42249, 0.11449)
    net = cl.Network([cl.ImageInput((1, 1, 2), normalization="none"),
                      cl.Convolution2D(1, 1, weights=w, bias=np.zeros(1))], dtype="float64")
    step = net.trace(np.ones((1, 1, 2)))[1].step(0, 0)
    assert step.channel_sums_text() == "channel sums (0, 1): -0.4225 + 0.1145 = -0.3080"
    assert step.total_text() == "total -0.3080 + bias 0.0000 = -0.3080"


@st.composite
def average_pools(draw):
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    k = draw(st.integers(1, 4))
    x = rng.standard_normal((draw(st.integers(k, 6)), draw(st.integers(k, 6)), 1))
    x *= 10.0 ** draw(st.integers(-3, 3))
    if draw(st.booleans()):
        x = np.round(x)
    net = cl.Network([cl.ImageInput(x.shape, normalization="none"),
                      cl.AveragePooling2D(k, stride=draw(st.integers(1, 2)),
                                          padding=draw(st.integers(0, k - 1)))], seed=0)
    return net.trace(x)[1]


@given(average_pools())
def test_every_average_pooling_caption_adds_up(rec):
    fig = PoolStepFigure(rec)
    oh, ow = rec.output_shape[:2]
    for row in range(oh):
        for col in range(ow):
            step = rec.step(row, col, 0)
            for text in (step.text(max_terms=100), fig.caption(step)):
                flat = " ".join(text.split("\n"))
                m = re.search(rf"\(((?:{NUMBER})(?: [+−] (?:{NUMBER}))*)\) / (\d+) (=|≈) "
                              rf"({NUMBER}) / (\d+) (=|≈) ({NUMBER})$", flat)
                assert m, flat
                cells, n = terms_of(m.group(1)), int(m.group(2))
                check_sum(cells, m.group(3), m.group(4))
                mean, s = m.group(7), value(m.group(4)) / n
                if m.group(6) == "=":
                    assert abs(s - value(mean)) <= unit(mean) / 2
                close(mean, step.output)
                close(m.group(4), np.sum(step.patch, dtype=np.float64))


@settings(max_examples=8)
@given(conv_layers(), st.data())
def test_the_convolution_explorer_text_adds_up(rec, data):
    w = ConvolutionExplorer(rec)
    oh, ow = rec.output_shape[:2]
    for index in data.draw(st.lists(st.integers(0, oh * ow - 1), min_size=1, max_size=3)):
        w.navigator.slider.value = index
        text = html.unescape(re.sub(r"<[^>]+>", "", w.caption.value))
        step = rec.step(index // ow, index % ow, 0)
        assert read_sums(text, step) >= 1
        header = re.match(rf"output \((\d+), (\d+)\) of filter 0 = ({NUMBER}); channel sums "
                          r"(.*)", text)
        assert header and (int(header.group(1)), int(header.group(2))) == (step.row, step.col)
        close(header.group(3), step.output)
