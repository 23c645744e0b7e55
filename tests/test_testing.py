"""check_answer, the lessons' exercise check: one line, the working only when right, the hint
only when not."""
import doctest

import pytest

import cnnlab.testing
from cnnlab.testing import check_answer


def test_doctests():
    failed, attempted = doctest.testmod(cnnlab.testing)
    assert attempted >= 4 and failed == 0


@pytest.mark.parametrize("answer, printed", [
    (None, "Fill in your answer (replace None), then run this cell again.\n"),
    (12, "Right! 3·4 = 12\n"),
    (12.0000001, "Right! 3·4 = 12\n"),
    (13, "Not yet: you wrote 13. Hint: multiply the two sides.\n"),
    ("twelve", "Not yet: you wrote 'twelve'. Hint: multiply the two sides.\n"),
])
def test_a_hint_is_shown_only_on_not_yet(answer, printed, capsys):
    check_answer(answer, 12, "3·4 = 12", hint="multiply the two sides")
    assert capsys.readouterr().out == printed


def test_a_hint_ending_in_a_question_mark_keeps_it(capsys):
    check_answer(1, 2, hint="which columns does it read?")
    assert capsys.readouterr().out == "Not yet: you wrote 1. Hint: which columns does it read?\n"


def test_without_a_hint_not_yet_says_look_again(capsys):
    check_answer(13, 12, "3·4 = 12")
    out = capsys.readouterr().out
    assert out == "Not yet: you wrote 13. Look again and try once more.\n"
    assert "12" not in out.replace("13", "")
