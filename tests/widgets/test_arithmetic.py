"""ArithmeticCalculator: every control moves the numbers; impossible settings are explained."""
import pytest

from cnnlab import arithmetic as ar
from cnnlab.widgets.arithmetic import ArithmeticCalculator

OUT = "output size (height = width)"


def png(calc):
    return bytes(calc.image.value)


def set_both(calc, name, value):
    """Move the height and the width control of a size (input, filter, stride, dilation)."""
    calc.controls[f"{name}_height"].value = value
    calc.controls[f"{name}_width"].value = value


SLIDERS = ["input_height", "input_width", "filter_height", "filter_width", "stride_height",
           "stride_width", "dilation_height", "dilation_width", "pad_top", "pad_bottom",
           "pad_left", "pad_right", "channels", "filters", "groups"]


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


@pytest.mark.parametrize("name", SLIDERS)
def test_every_slider_to_its_extremes_updates_or_explains(name):
    calc = ArithmeticCalculator(padding=(1, 2, 0, 3), show_card=False)
    slider = calc.controls[name]
    for value in (slider.min, slider.max, slider.value):
        slider.value = value
        s = calc.settings()
        t, b, l, r = s["padding"]
        try:
            expected = [ar.conv_output_size(s["input_size"][k], s["filter_size"][k],
                                            stride=s["stride"][k], padding=pad,
                                            dilation=s["dilation"][k]).value
                        for k, pad in ((0, (t, b)), (1, (l, r)))]
        except ValueError as e:
            assert str(e) in calc.explanation.value.replace("&#x27;", "'")
        else:
            values = calc.values()
            shown = ([values[OUT]] * 2 if OUT in values else
                     [values["output size, height"], values["output size, width"]])
            assert [v.split()[0] for v in shown] == [str(v) for v in expected]


def test_the_card_picture_follows_the_controls():
    calc = ArithmeticCalculator()
    first = png(calc)
    set_both(calc, "stride", 2)
    second = png(calc)
    assert second != first
    assert any(text.startswith("floor((28 - ((3 - 1)·1 + 1) + 0 + 0) / 2) + 1 = ")
               for _, text in calc.card.texts())
    set_both(calc, "filter", 11)
    set_both(calc, "input", 3)
    assert png(calc) != second
    assert any(style == "error" for style, _ in calc.card.texts())


def test_filter_larger_than_padded_input_is_explained_then_recovers():
    calc = ArithmeticCalculator(show_card=False)
    set_both(calc, "input", 4)
    set_both(calc, "filter", 7)
    assert "larger than the padded input size 4 (4 + 0 + 0)" in calc.explanation.value
    assert "cannot be computed" in calc.values()[OUT]
    calc.controls["pad_top"].value = 2          # 4 + 2 + 2 = 8 >= 7 ("number": every side)
    assert calc.explanation.value == ""
    assert calc.values()[OUT] == "2"


def test_groups_that_do_not_divide_the_channels_are_explained():
    calc = ArithmeticCalculator(channels=4, filters=8, show_card=False)
    calc.controls["groups"].value = 3
    assert "groups = 3 does not divide num_channels = 4" in calc.explanation.value
    calc.controls["groups"].value = 4
    assert calc.explanation.value == ""
    assert calc.values()["parameters"] == str(ar.conv_parameters(3, 4, 8, groups=4).value)


def test_padding_modes_same_ab_and_four_sides():
    calc = ArithmeticCalculator(input_size=28, stride=2, show_card=False)
    calc.controls["padding_mode"].value = "same"
    assert all(calc.controls[f"pad_{side}"].disabled
               for side in ("top", "bottom", "left", "right"))
    assert calc.values()["'same' padding (before, after) (height = width)"] == "(0, 1)"
    assert calc.values()[OUT] == "14"
    calc.controls["padding_mode"].value = "[a b]"
    calc.controls["pad_left"].value = 3
    assert not calc.controls["pad_left"].disabled and calc.controls["pad_bottom"].disabled
    assert calc.settings()["padding"] == (0, 3)        # 0 rows top/bottom, 3 columns each side
    assert calc.values()["output size, height"] == "13   (before flooring 13.5)"
    assert calc.values()["output size, width"].split()[0] == str(
        ar.conv_output_size(28, 3, stride=2, padding=(3, 3)).value)
    calc.controls["padding_mode"].value = "[t b l r]"
    calc.controls["pad_bottom"].value = 2
    assert calc.settings()["padding"] == (0, 2, 3, 0)
    assert calc.values()["output size, height"].split()[0] == str(
        ar.conv_output_size(28, 3, stride=2, padding=(0, 2)).value)


def test_reference_documents_example_is_7x7_in_the_calculator():
    # issue 11 item 2: 28x28 input, [6 4] filter, stride 4, padding [1 0] -> 7x7 (the card
    # read [1 0] as (before, after) and showed 6x7). By hand: floor((28 + 2 - 6) / 4) + 1 = 7
    # and floor((28 + 0 - 4) / 4) + 1 = 7
    calc = ArithmeticCalculator(input_size=(28, 28), filter_size=(6, 4), stride=4,
                                padding=(1, 0), show_card=False)
    assert calc.controls["padding_mode"].value == "[a b]"
    values = calc.values()
    assert values["output size, height"] == "7" and values["output size, width"] == "7"
    assert values["neurons (output activations)"] == f"{7 * 7 * 8}"


def test_height_and_width_are_shown_apart_when_they_differ():
    calc = ArithmeticCalculator(input_size=(20, 30), filter_size=(3, 5), stride=(1, 2),
                                dilation=(2, 1), show_card=False)
    values = calc.values()
    # height: 20 - ((3 - 1)·2 + 1) + 1 = 16; width: floor((30 - 5) / 2) + 1 = 13
    assert values["output size, height"] == "16"
    assert values["output size, width"] == "13   (before flooring 13.5)"
    assert values["effective filter size, height"] == "5"
    assert values["effective filter size, width"] == "5"
    assert OUT not in values


def test_padding_given_in_any_layer_form():
    import numpy as np
    for padding, mode, sides in [(2, "number", (2, 2, 2, 2)), (np.array([1, 0]), "[a b]",
                                                               (1, 1, 0, 0)),
                                 ([0, 1, 2, 3], "[t b l r]", (0, 1, 2, 3)),
                                 ("same", "same", None)]:
        calc = ArithmeticCalculator(padding=padding, show_card=False)
        assert calc.controls["padding_mode"].value == mode
        if sides is not None:
            assert tuple(calc.controls[f"pad_{s}"].value
                         for s in ("top", "bottom", "left", "right")) == sides
    with pytest.raises(ValueError, match="padding = 'valid'"):
        ArithmeticCalculator(padding="valid")


def test_kinds_switch_the_controls_and_the_formulas():
    calc = ArithmeticCalculator(channels=6, show_card=False)
    calc.controls["kind"].value = "pool"
    assert calc.controls["filters"].disabled and calc.controls["dilation_height"].disabled
    assert calc.controls["filter_height"].description == "pool size H"
    assert calc.values()["parameters"].startswith("0")
    assert calc.values()["neurons (output activations)"] == f"{26 * 26 * 6:,}"
    calc.controls["kind"].value = "transposed"
    assert calc.controls["padding_mode"].description == "cropping"
    assert calc.values()[OUT] == str(ar.transposed_conv_output_size(28, 3).value)
    set_both(calc, "stride", 4)
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
        calc.controls["stride_height"].value = 3
        return first, png(calc), calc._pending

    first, second, pending = asyncio.run(move())
    assert second != first and pending is None
