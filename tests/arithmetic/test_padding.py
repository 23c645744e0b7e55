"""One reading of padding: the parser, every layer that takes padding or cropping, and the
agreement of layer, arithmetic card, ArithmeticCalculator and ``cnnlab arithmetic``.

Issue 11 items 2 and 7: the card and the calculator read (a, b) as (before, after) while the
layers read MATLAB's [a b] (a rows top and bottom, b columns left and right), and
MaxPooling2D died on a NumPy array.
"""
import contextlib
import doctest
import io
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnnlab as cl
from cnnlab.arithmetic import padding as pad
from cnnlab.cli import main
from cnnlab.viz.arithmetic_card import arithmetic_entries
from cnnlab.widgets.arithmetic import ArithmeticCalculator


def test_doctests():
    failed, attempted = doctest.testmod(pad)
    assert attempted > 0 and failed == 0


@pytest.mark.parametrize("value, sides", [
    (0, (0, 0, 0, 0)), (3, (3, 3, 3, 3)), (np.int64(2), (2, 2, 2, 2)),
    (np.array(2), (2, 2, 2, 2)),
    ((1, 0), (1, 1, 0, 0)), ([1, 0], (1, 1, 0, 0)), (np.array([1, 0]), (1, 1, 0, 0)),
    ((np.int32(2), 5), (2, 2, 5, 5)),
    ((0, 1, 2, 3), (0, 1, 2, 3)), (np.array([0, 1, 2, 3]), (0, 1, 2, 3)),
    (((0, 1), (2, 3)), (0, 1, 2, 3)), (np.array([[0, 1], [2, 3]]), (0, 1, 2, 3)),
    ("same", "same"),
])
def test_every_form_reads_as_the_layers_read_it(value, sides):
    got = pad.parse_sides(value)
    assert got == sides
    if got != "same":
        assert all(type(v) is int for v in got)


@pytest.mark.parametrize("value, words", [
    ("valid", "padding = 'valid': the only named form is 'same'"),
    ((1, 2, 3), "got 3 numbers"),
    ((), "got 0 numbers"),
    (-1, "the value -1 must be a non-negative integer"),
    ((1, -2), "columns (left and right) -2 must be a non-negative integer"),
    ((0, 0, 0, -1), "right -1 must be a non-negative integer"),
    (1.0, "write 1"),
    (np.array([1.5, 0.0]), "padding = array([1.5, 0.0]): rows (top and bottom) 1.5"),
    (True, "the value True must be a non-negative integer"),
    (None, "not a NoneType"),
    (((1, 2), (3,)), "two (before, after) pairs"),
    (("1", 0), "'1' must be a non-negative integer"),
])
def test_bad_padding_is_refused_naming_who_what_and_why(value, words):
    with pytest.raises(ValueError) as info:
        pad.parse_sides(value, who="SomeLayer layer 'x'")
    text = str(info.value)
    assert text.startswith("SomeLayer layer 'x': padding = ") and words in text


# ---- item 7: every layer with a padding or cropping option takes every form -----------------

def padded_layers(value):
    """(layer, option name) for each layer that has a padding or cropping option."""
    return [(cl.Convolution2D(3, 2, padding=value, name="c"), "padding"),
            (cl.MaxPooling2D(2, padding=value, name="m"), "padding"),
            (cl.AveragePooling2D(2, padding=value, name="a"), "padding"),
            (cl.TransposedConvolution2D(3, 2, cropping=value, name="t"), "cropping")]


@pytest.mark.parametrize("value, sides", [
    (np.array([1, 1]), (1, 1, 1, 1)), (np.array([1, 0]), (1, 1, 0, 0)),
    (np.array([0, 1, 1, 0]), (0, 1, 1, 0)), (np.int64(1), (1, 1, 1, 1)),
    ([1, 0], (1, 1, 0, 0)), ((0, 1), (0, 0, 1, 1)),
])
def test_numpy_arrays_and_lists_work_for_every_padded_layer(value, sides):
    # MaxPooling2D(2, padding=np.array([1, 1])) died with NumPy's truth-value error
    for layer, option in padded_layers(value):
        assert getattr(layer, option) == sides, layer.label
        net = cl.Network([cl.ImageInput((6, 6, 1), normalization="none"), layer], seed=0)
        assert getattr(net.layers[1], option) == sides         # built: the same sides
        t, b, l, r = sides
        if option == "padding":
            k = layer.pool_size if hasattr(layer, "pool_size") else layer.filter_size
            expected = (6 + t + b - k[0] + 1, 6 + l + r - k[1] + 1)   # stride 1
        else:
            expected = (6 - 1 + 3 - t - b, 6 - 1 + 3 - l - r)          # (I - 1)·1 + 3 - crop
        out = net.predict(np.ones((1, 6, 6, 1), np.float32))
        assert out.shape[1:3] == expected, layer.label


@pytest.mark.parametrize("value, words", [
    (np.array([1, 1, 1]), "got 3 numbers"), ("valid", "the only named form is 'same'"),
    (np.array([1, -1]), "-1 must be a non-negative integer"), (1.5, "1.5 must be"),
])
def test_every_padded_layer_refuses_bad_padding_alike(value, words):
    for layer_class, option, args in [(cl.Convolution2D, "padding", (3, 2)),
                                      (cl.MaxPooling2D, "padding", (2,)),
                                      (cl.AveragePooling2D, "padding", (2,)),
                                      (cl.TransposedConvolution2D, "cropping", (3, 2))]:
        with pytest.raises(ValueError) as info:
            layer_class(*args, **{option: value}, name="x")
        text = str(info.value)
        assert text.startswith(f"{layer_class.__name__} layer 'x': {option} = "), text
        assert words in text


# ---- item 2: the reference documents' example, everywhere -----------------------------------

def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def cli_output_size(text):
    """(height, width) from ``cnnlab arithmetic`` output ('output size: 7' or one per axis)."""
    both = re.search(r"^output size: (\d+)", text, re.M)
    if both:
        return int(both.group(1)), int(both.group(1))
    h = re.search(r"^output size, height: (\d+)", text, re.M)
    w = re.search(r"^output size, width: (\d+)", text, re.M)
    return int(h.group(1)), int(w.group(1))


def shown_output_size(values):
    """(height, width) from the card's / calculator's label -> value text, None if invalid."""
    pair = ([values["output size (height = width)"]] * 2 if "output size (height = width)"
            in values else [values["output size, height"], values["output size, width"]])
    if any(v == "cannot be computed" for v in pair):
        return None
    return tuple(int(v.split()[0].replace(",", "")) for v in pair)


def test_reference_documents_example_is_7x7_everywhere():
    # 28x28 input, [6 4] filter, stride 4, padding [1 0] (1 row top and bottom, no columns):
    # floor((28 + 1 + 1 - 6) / 4) + 1 = 7 rows and floor((28 - 4) / 4) + 1 = 7 columns.
    # The card showed 6x7 (it read [1 0] as 1 before, 0 after on both axes).
    net = cl.Network([cl.ImageInput((28, 28, 1), normalization="none"),
                      cl.Convolution2D((6, 4), 1, stride=4, padding=[1, 0])], seed=0)
    assert net["conv_1"].output_shape == (7, 7, 1)
    card = {e.label: e.value_text for e in arithmetic_entries(
        "conv", input_size=28, filter_size=(6, 4), stride=4, padding=(1, 0))}
    assert shown_output_size(card) == (7, 7)
    calc = ArithmeticCalculator(input_size=28, filter_size=(6, 4), stride=4, padding=(1, 0),
                                show_card=False)
    assert shown_output_size(calc.values()) == (7, 7)
    code, out, _ = run_cli("arithmetic", "conv", "--input", "28x28", "--filter", "6x4",
                           "--stride", "4", "--padding", "1 0")
    assert code == 0 and cli_output_size(out) == (7, 7)
    assert "floor((28 - ((6 - 1)·1 + 1) + 1 + 1) / 4) + 1" in out
    assert "floor((28 - ((4 - 1)·1 + 1) + 0 + 0) / 4) + 1" in out


# ---- the property: layer, card, calculator and CLI agree with a brute-force count ------------

def windows(length, span, stride):
    """How many windows of ``span`` fit in ``length`` cells, starting 0, stride, 2·stride, ..."""
    count, start = 0, 0
    while start + span <= length:
        count, start = count + 1, start + stride
    return count


def brute_force(kind, i, k, s, d, before, after):
    """The output size along one axis, counted without cnnlab.arithmetic."""
    if kind == "transposed":
        return (i - 1) * s + k - before - after
    return windows(i + before + after, (k - 1) * d + 1, s)


@st.composite
def configurations(draw):
    kind = draw(st.sampled_from(["conv", "pool", "transposed"]))
    ih, iw = draw(st.integers(1, 20)), draw(st.integers(1, 20))
    kh, kw = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if kind == "conv" else (1, 1)
    form = draw(st.sampled_from(["int", "ab", "tblr", "array", "same"]))
    n = st.integers(0, 4)
    padding = {"int": lambda: draw(n), "ab": lambda: (draw(n), draw(n)),
               "tblr": lambda: tuple(draw(n) for _ in range(4)),
               "array": lambda: np.array([draw(n), draw(n)]), "same": lambda: "same"}[form]()
    return kind, (ih, iw), (kh, kw), (sh, sw), (dh, dw), padding


def padding_text(padding):
    return padding if isinstance(padding, str) else " ".join(map(str, np.ravel(padding)))


@given(configurations())
def test_layer_card_calculator_and_cli_agree(config):
    kind, (ih, iw), (kh, kw), (sh, sw), (dh, dw), padding = config
    # the layer (average pooling for "pool": a max-pooling window made only of padding is
    # refused at build, which the size arithmetic alone does not decide)
    if kind == "conv":
        layer = cl.Convolution2D((kh, kw), 2, stride=(sh, sw), dilation=(dh, dw),
                                 padding=padding)
    elif kind == "pool":
        layer = cl.AveragePooling2D((kh, kw), stride=(sh, sw), padding=padding)
    else:
        try:
            layer = cl.TransposedConvolution2D((kh, kw), 2, stride=(sh, sw), cropping=padding)
        except ValueError as e:                  # 'same' cropping with a filter < stride
            assert "'same' crops filter size - stride" in str(e)
            layer = None
    try:
        if layer is None:
            raise ValueError("refused at construction")
        net = cl.Network([cl.ImageInput((ih, iw, 1), normalization="none"), layer], seed=0,
                         backend="reference")
        layer = net.layers[1]                   # the network builds its own copy
        from_layer = layer.output_shape[:2]
    except ValueError:
        from_layer = None

    # the independent count
    if isinstance(padding, str):
        if kind == "transposed":
            expected = (ih * sh, iw * sw) if kh >= sh and kw >= sw else None
        else:
            expected = (-(-ih // sh), -(-iw // sw))          # 'same' means ceil(I / S)
    else:
        flat = np.ravel(padding).tolist()
        t, b, l, r = flat * 4 if len(flat) == 1 else (
            [flat[0], flat[0], flat[1], flat[1]] if len(flat) == 2 else flat)
        expected = (brute_force(kind, ih, kh, sh, dh, t, b),
                    brute_force(kind, iw, kw, sw, dw, l, r))
        if min(expected) <= 0:
            expected = None
    assert from_layer == expected, (from_layer, expected)
    if from_layer is not None:                          # and the layer really computes that
        y = layer.forward(np.ones((1, ih, iw, 1), np.float32))
        assert y.shape[1:3] == expected

    card = {e.label: e.value_text for e in arithmetic_entries(
        kind, input_size=(ih, iw), filter_size=(kh, kw), stride=(sh, sw), dilation=(dh, dw),
        padding=padding)}
    assert shown_output_size(card) == expected

    calc = ArithmeticCalculator(kind, input_size=(ih, iw), filter_size=(kh, kw),
                                stride=(sh, sw), dilation=(dh, dw), padding=padding,
                                show_card=False)
    assert shown_output_size(calc.values()) == expected
    assert (calc.explanation.value == "") == (expected is not None)

    code, out, err = run_cli("arithmetic", kind, "--input", f"{ih}x{iw}", "--filter",
                             f"{kh}x{kw}", "--stride", f"{sh}x{sw}", "--dilation",
                             f"{dh}x{dw}", "--padding", padding_text(padding))
    if expected is None:
        assert code == 2 and err.startswith("cnnlab arithmetic: ")
    else:
        assert code == 0 and cli_output_size(out) == expected
