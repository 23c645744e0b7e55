"""What the lessons say about their sources and names is true (each claim checked once by hand
against the reference documents in ../shared/seeds/ and the papers they cite).

- Lesson 01's 5×5 input and 3×3 filter (output 12 12 17 / 10 17 19 / 9 6 14) is figure 1.1 of
  Dumoulin and Visin's "A guide to convolution arithmetic for deep learning", not a reference
  document's.
- Lesson 02: the arithmetic's ``quotient`` is the division inside the floor (15.5),
  ``unfloored`` the size before flooring (16.5); "exact quotient" named neither.
- Lesson 04: the crash-course article's example is a 32×32×1 input, 10 filters of 5×5,
  stride 1 and no padding (28×28×10 maps, 203,840 connections).
- Lesson 07: ``net.forward`` of a batch of 200 images is one pass with 200 masks.
- Lesson 09: ``lenet5()`` is the modern variant (28×28 with padding, ReLU, max pooling,
  softmax), said so; the 500 digits it is checked on have one name, "validation".
"""
from __future__ import annotations

import ast

import nbformat
import pytest

from tests.lessons.conftest import LESSONS

NOTEBOOKS = {p.name[:2]: p for p in sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))}


def text_of(lesson: str, kind: str | None = None) -> str:
    nb = nbformat.read(NOTEBOOKS[lesson], as_version=4)
    return "\n".join(c.source for c in nb.cells if kind is None or c.cell_type == kind)


def test_lesson1_credits_the_5x5_example_to_dumoulin_and_visin():
    text = text_of("01", "markdown")
    assert "Dumoulin and Visin" in text and "figure 1.1" in text
    assert "reference documents' small example" not in text


def test_lesson2_names_quotient_and_unfloored_honestly():
    text = text_of("02")
    assert "r.quotient" in text and "r.unfloored" in text
    assert "r.exact" not in text and "exact quotient" not in text


def test_lesson4_quotes_the_crash_course_example_as_it_is():
    text = text_of("04", "markdown")
    assert "32×32 grey image, 10 filters of 5×5" in text and "no padding" in text
    assert "padded so that the maps stay 28×28" not in text
    source = text_of("04", "code")
    assert "ar.conv_output_size(32, 5)" in source        # the 28×28 maps, derived


def test_lesson7_says_one_pass_over_200_images():
    text = text_of("07")
    assert "200 passes" not in text
    assert "One training pass over a batch of 200 images" in text


def test_lesson9_says_which_lenet5_and_uses_one_name_for_its_validation_digits():
    text = text_of("09")
    assert "LeNet-5 as it is built today, not LeCun's 1998 original" in text
    assert "held-out" not in text.lower() and "x_test" not in text
    assert "validation" in text


@pytest.mark.parametrize("lesson", sorted(NOTEBOOKS))
def test_every_lesson_uses_the_one_exercise_check(lesson):
    source = text_of(lesson, "code")
    assert "from cnnlab.testing import check_answer" in source
    assert "def check(" not in source


@pytest.mark.parametrize("lesson", sorted(NOTEBOOKS))
def test_every_checked_exercise_has_a_hint_for_not_yet(lesson):
    # issue 18: "Not yet" says what to look at (check_answer prints the hint only then);
    # that each hint names the method and not the answer was read by hand
    calls = [node for cell in nbformat.read(NOTEBOOKS[lesson], as_version=4).cells
             if cell.cell_type == "code"
             for node in ast.walk(ast.parse(cell.source))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_answer"]
    hints = [k.value for c in calls for k in c.keywords if k.arg == "hint"]
    assert len(hints) == len(calls), f"lesson {lesson}: {len(calls) - len(hints)} without hint"
