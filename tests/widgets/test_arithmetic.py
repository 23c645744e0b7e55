"""ArithmeticCalculator: every control moves the numbers; impossible settings are explained."""
import pytest

from cnnlab import arithmetic as ar
from cnnlab.widgets.arithmetic import ArithmeticCalculator

OUT = "output size (height = width)"


def png(calc):
    return bytes(calc.image.value)


def test_default_shows_every_quantity_and_a_card():
    calc = ArithmeticCalculator()
    values = calc.values()
    assert values[OUT] == "26"
    assert values["parameters"] == str(ar.conv_parameters(3, 1, 8).value)
    for label in ("effective filter size (height = width)", "neurons (output activations)",
                  "connections", "multiply-adds per image"):
        assert label in values
    assert calc.explanation.value == ""
    assert png(calc)[:4] == b"\x89PNG"
    assert "floor((28 - ((3 - 1)·1 + 1) + 0 + 0) / 1) + 1" in calc.table.value


def test_reference_example_and_exact_value():
    calc = ArithmeticCalculator(input_size=32, filter_size=5, stride=2, padding=2, channels=3,
                                filters=8)
    assert calc.values()[OUT] == "16   (before flooring 16.5)"
    assert calc.values()["parameters"] == "608"
    assert calc.values()["neurons (output activations)"] == "2,048"
    assert "never visited" in calc.table.value          # the discarded-row note is shown


@pytest.mark.parametrize("name", ["input_size", "filter_size", "stride", "pad_before",
                                  "pad_after", "dilation", "channels", "filters", "groups"])
def test_every_slider_to_its_extremes_updates_or_explains(name):
    calc = ArithmeticCalculator(padding=(1, 2), show_card=False)
    slider = calc.controls[name]
    for value in (slider.min, slider.max, slider.value):
        slider.value = value
        s = calc.settings()
        try:
            expected = ar.conv_output_size(s["input_size"], s["filter_size"],
                                           stride=s["stride"], padding=s["padding"],
                                           dilation=s["dilation"]).value
        except ValueError as e:
            assert str(e) in calc.explanation.value.replace("&#x27;", "'")
        else:
            assert calc.values()[OUT].split()[0] == str(expected)


def test_the_card_picture_follows_the_controls():
    calc = ArithmeticCalculator()
    first = png(calc)
    calc.controls["stride"].value = 2
    second = png(calc)
    assert second != first
    assert any(text.startswith("floor((28 - ((3 - 1)·1 + 1) + 0 + 0) / 2) + 1 = ")
               for _, text in calc.card.texts())
    calc.controls["filter_size"].value = 11
    calc.controls["input_size"].value = 3
    assert png(calc) != second
    assert any(style == "error" for style, _ in calc.card.texts())


def test_filter_larger_than_padded_input_is_explained_then_recovers():
    calc = ArithmeticCalculator(show_card=False)
    calc.controls["input_size"].value = 4
    calc.controls["filter_size"].value = 7
    assert "larger than the padded input size 4 (4 + 0 + 0)" in calc.explanation.value
    assert "cannot be computed" in calc.values()[OUT]
    calc.controls["pad_before"].value = 2          # 4 + 2 + 2 = 8 >= 7
    assert calc.explanation.value == ""
    assert calc.values()[OUT] == "2"


def test_groups_that_do_not_divide_the_channels_are_explained():
    calc = ArithmeticCalculator(channels=4, filters=8, show_card=False)
    calc.controls["groups"].value = 3
    assert "groups = 3 does not divide num_channels = 4" in calc.explanation.value
    calc.controls["groups"].value = 4
    assert calc.explanation.value == ""
    assert calc.values()["parameters"] == str(ar.conv_parameters(3, 4, 8, groups=4).value)


def test_padding_modes_same_and_before_after():
    calc = ArithmeticCalculator(input_size=28, stride=2, show_card=False)
    calc.controls["padding_mode"].value = "same"
    assert calc.controls["pad_before"].disabled and calc.controls["pad_after"].disabled
    assert calc.values()["'same' padding (before, after) (height = width)"] == "(0, 1)"
    assert calc.values()[OUT] == "14"
    calc.controls["padding_mode"].value = "before,after"
    calc.controls["pad_after"].value = 3
    assert not calc.controls["pad_after"].disabled
    assert calc.settings()["padding"] == (0, 3)
    assert calc.values()[OUT].split()[0] == str(ar.conv_output_size(28, 3, stride=2,
                                                                    padding=(0, 3)).value)


def test_kinds_switch_the_controls_and_the_formulas():
    calc = ArithmeticCalculator(channels=6, show_card=False)
    calc.controls["kind"].value = "pool"
    assert calc.controls["filters"].disabled and calc.controls["dilation"].disabled
    assert calc.controls["filter_size"].description == "pool size"
    assert calc.values()["parameters"].startswith("0")
    assert calc.values()["neurons (output activations)"] == f"{26 * 26 * 6:,}"
    calc.controls["kind"].value = "transposed"
    assert calc.controls["padding_mode"].description == "cropping"
    assert calc.values()[OUT] == str(ar.transposed_conv_output_size(28, 3).value)
    calc.controls["stride"].value = 4
    calc.controls["padding_mode"].value = "same"
    assert "at least the stride" in calc.explanation.value
    calc.controls["kind"].value = "conv"
    assert calc.explanation.value == ""
    assert not calc.controls["groups"].disabled


def test_a_running_event_loop_outside_a_kernel_still_draws_at_once():
    # Playwright's sync API (the browser tests) runs an asyncio loop in the main thread: the
    # card must not wait for a timer that only a Jupyter kernel would fire
    import asyncio

    async def move():
        calc = ArithmeticCalculator()
        first = png(calc)
        calc.controls["stride"].value = 3
        return first, png(calc), calc._pending

    first, second, pending = asyncio.run(move())
    assert second != first and pending is None
