"""The arithmetic card: entries carry cnnlab.arithmetic's numbers; the text is laid out cleanly."""
import numpy as np
import pytest

import cnnlab as cl
from cnnlab.viz.arithmetic_card import (ArithmeticCard, _wrap_formula, arithmetic_card,
                                        arithmetic_entries, card_lines, layer_entries)


def by_label(entries):
    return {e.label: e for e in entries}


def test_reference_example_608_parameters_16x16_and_2048_neurons():
    e = by_label(arithmetic_entries("conv", input_size=32, filter_size=5, stride=2, padding=2,
                                    channels=3, filters=8))
    out = e["output size (height = width)"]
    assert (out.result.value, out.result.exact) == (16, 16.5)
    assert "before flooring 16.5" in out.value_text
    assert e["parameters"].result.value == 608
    assert e["neurons (output activations)"].result.value == 2048
    # hand count: 16·16·8 outputs, each 5·5·3 multiply-adds
    assert e["multiply-adds per image"].result.value == 16 * 16 * 8 * 75
    # the non-tiling stride's note says what is discarded
    assert any("never visited" in note for note in out.result.notes)


def test_connections_203840_and_non_square_filter_with_per_axis_padding():
    e = by_label(arithmetic_entries("conv", input_size=32, filter_size=5, channels=1,
                                    filters=10))
    assert e["connections"].result.value == 203_840
    # the [6 4] filter, stride 4, padding [1 0] on a 28x28 input gives 7x7
    e = by_label(arithmetic_entries("conv", input_size=28, filter_size=(6, 4), stride=4,
                                    padding=((1, 1), (0, 0)), filters=1))
    assert e["output size, height"].result.value == 7
    assert e["output size, width"].result.value == 7
    assert e["neurons (output activations)"].result.value == 49


def test_same_padding_split_and_dilation():
    e = by_label(arithmetic_entries("conv", input_size=28, filter_size=3, stride=2,
                                    padding="same"))
    assert e["'same' padding (before, after) (height = width)"].result.value == (0, 1)
    assert e["output size (height = width)"].result.value == 14
    e = by_label(arithmetic_entries("conv", input_size=28, filter_size=3, dilation=2))
    assert e["effective filter size (height = width)"].result.value == 5
    assert e["output size (height = width)"].result.value == 24


def test_invalid_combinations_become_error_entries():
    e = by_label(arithmetic_entries("conv", input_size=5, filter_size=11))
    assert "larger than the padded input size 5" in e["output size (height = width)"].error
    assert "output size" in e["neurons, connections, multiply-adds"].error
    e = by_label(arithmetic_entries("conv", channels=4, filters=6, groups=3))
    assert "groups = 3 does not divide num_channels = 4" in e["parameters"].error
    assert e["output size (height = width)"].error is None
    e = by_label(arithmetic_entries("transposed", input_size=3, filter_size=2, stride=3,
                                    padding="same"))
    assert "at least the stride" in e["output size (height = width)"].error
    with pytest.raises(ValueError, match="kind = 'dense'"):
        arithmetic_entries("dense")


def test_pool_and_transposed_entries():
    e = by_label(arithmetic_entries("pool", input_size=28, filter_size=2, stride=2,
                                    channels=6))
    assert e["output size (height = width)"].result.value == 14
    assert e["neurons (output activations)"].result.value == 14 * 14 * 6
    assert e["parameters"].value_text.startswith("0")
    e = by_label(arithmetic_entries("transposed", input_size=8, filter_size=4, stride=2,
                                    padding=1, channels=3, filters=16))
    assert e["output size (height = width)"].result.value == 16     # (8-1)·2 + 4 - 2
    assert e["parameters"].result.value == 4 * 4 * 16 * 3 + 16


def test_receptive_field_entry_reaches_into_padding():
    e = by_label(arithmetic_entries("conv", input_size=32, filter_size=5, stride=2, padding=2))
    rf = e["receptive field of the last output (height = width)"]
    # last output 15 starts at 15·2 - 2 = 28 and spans 5: 28..32, one past the image
    assert rf.result.value == (28, 32)
    assert rf.shown == "input positions 28..32 (5 wide)"


@pytest.mark.parametrize("layer, name", [
    (cl.Convolution2D((5, 3), 4, stride=(2, 1), padding="same", dilation=(1, 2)), "conv_1"),
    (cl.MaxPooling2D(3, stride=2, padding=1), "maxpool_1"),
    (cl.TransposedConvolution2D(3, 2, stride=2, cropping="same"), "transposed-conv_1"),
])
def test_layer_entries_agree_with_the_built_layer(layer, name):
    net = cl.Network([cl.ImageInput((11, 9, 2), normalization="none"), layer])
    built = net[1]
    e = layer_entries(built)
    values = {x.label: x.result.value for x in e if x.result is not None}
    oh, ow, c = built.output_shape
    heights = [v for k, v in values.items() if k.startswith("output size")]
    assert heights[0] == oh and heights[-1] == ow
    neurons = values["neurons (output activations)"]
    assert neurons == oh * ow * c
    if "parameters" in values:
        assert values["parameters"] == built.num_parameters


def test_layer_entries_refuses_layers_without_windows():
    net = cl.Network([cl.ImageInput((4, 4, 1), normalization="none"), cl.ReLU()])
    with pytest.raises(ValueError, match="no window arithmetic"):
        layer_entries(net[1])


def test_wrapped_formula_lines_fit_and_keep_every_character():
    text = "floor((32 - ((5 - 1)·1 + 1) + 2 + 2) / 2) + 1 = floor((32 - 5 + 2 + 2) / 2) + 1 = " \
           "floor(31 / 2) + 1 = floor(15.5) + 1 = 16"
    lines = _wrap_formula(text, 50)
    assert len(lines) > 1 and all(len(line) <= 50 for line in lines)
    assert "".join(line.replace(" ", "") for line in lines) == text.replace(" ", "")


@pytest.mark.parametrize("kind, sizes", [
    ("conv", dict(input_size=32, filter_size=5, stride=2, padding=2, channels=3, filters=8)),
    ("conv", dict(input_size=5, filter_size=7, stride=2, padding=1, channels=4, filters=6,
                  groups=3)),                                     # error entries
    ("transposed", dict(input_size=8, filter_size=4, stride=2, padding=1, channels=3,
                        filters=16)),                             # a long heading
    ("pool", dict(input_size=13, filter_size=3, stride=2, padding="same", channels=6)),
])
def test_card_text_artists_fit_the_figure_and_do_not_overlap(kind, sizes):
    entries = arithmetic_entries(kind, **sizes)
    card = ArithmeticCard()
    title = "a long title, " * 8
    card.draw(entries, title)
    assert card.texts() == card_lines(entries, title)
    renderer = card.figure.canvas.get_renderer()
    fig_box = card.figure.bbox
    boxes = [t.get_window_extent(renderer) for t in card.figure.texts if t.get_visible()]
    assert len(boxes) == len(card.texts())
    for box in boxes:
        assert box.x0 >= 0 and box.x1 <= fig_box.x1 and box.y0 >= 0 and box.y1 <= fig_box.y1
    ordered = sorted(boxes, key=lambda b: -b.y1)
    for upper, lower in zip(ordered, ordered[1:]):
        assert lower.y1 <= upper.y0 + 1.0          # at most a pixel of antialiasing touch
    # drawing a shorter card reuses the artists and hides the spares
    card.draw(arithmetic_entries("pool"), "short")
    assert sum(t.get_visible() for t in card.figure.texts) == len(card.texts())
    assert card.png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_arithmetic_card_from_layer_and_from_sizes():
    net = cl.Network([cl.ImageInput((28, 28, 1), normalization="none"),
                      cl.Convolution2D(5, 6, padding=2)])
    fig = arithmetic_card(net["conv_1"])
    shown = [t.get_text() for t in fig.texts if t.get_visible()]
    assert shown[0].startswith("conv_1:")
    assert "(5·5·1 + 1)·6 = 26·6 = 156" in shown
    fig = arithmetic_card(kind="pool", input_size=5, filter_size=3, stride=2)
    assert any("pooling: input 5×5×1" in t.get_text() for t in fig.texts)
    assert np.isfinite(fig.get_size_inches()).all()
