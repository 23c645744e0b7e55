"""The editions made from one lesson source (lessons/_source/editions.py and teacher.py): the
learner's notebook keeps no solution, nbgrader's keeps it and grades every check, the
teacher's edition holds every worked solution and the teacher's notes; a source that breaks
the exercise conventions is refused with a message naming the lesson and the exercise."""
from __future__ import annotations

import nbformat
import pytest

from tests.lessons.test_notebooks import LESSONS, load_builder

BUILD = load_builder()          # also puts lessons/_source on sys.path
import editions  # noqa: E402
import teacher  # noqa: E402

SOURCES = BUILD.sources()


def lesson(*cells) -> nbformat.NotebookNode:
    """A notebook from (kind, source) pairs."""
    make = {"md": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    return nbformat.v4.new_notebook(cells=[make[kind](text) for kind, text in cells])


GOOD = [("md", "# Lesson 99 — Counting\n\n**Goals.** Count."),
        ("md", "**Exercise 1.** How many?"),
        ("code", "answer_1 = None   # your count\n### BEGIN SOLUTION\nanswer_1 = 2 + 2\n"
                 "### END SOLUTION"),
        ("code", "check_answer(answer_1, 4, 'two and two', hint='add')")]
NOTES = ("## Class period\nTen minutes.\n\n## Misconceptions to expect\n- **It is 5.** No.\n\n"
         "## Exercise notes\n### Exercise 1\nSome type 22.\n")


def test_the_learner_gets_the_question_and_the_check_without_the_solution():
    learner, _ = editions.editions(lesson(*GOOD), "99")
    assert learner.cells[2].source == "answer_1 = None   # your count"
    assert learner.cells[3].source == GOOD[3][1]
    assert all("nbgrader" not in c.metadata for c in learner.cells)


def test_nbgrader_gets_the_solution_a_hidden_test_and_one_point_per_exercise():
    _, grader = editions.editions(lesson(*GOOD), "99")
    answer, check = grader.cells[2], grader.cells[3]
    assert answer.source == GOOD[2][1]
    assert answer.metadata["nbgrader"]["solution"] is True
    assert answer.metadata["nbgrader"]["grade"] is False
    assert check.metadata["nbgrader"]["grade"] is True
    assert check.metadata["nbgrader"]["points"] == 1
    assert check.source.splitlines()[-3:] == [
        "from cnnlab.testing import assert_answer",
        "assert_answer(answer_1, 4, 'two and two', hint='add')", "### END HIDDEN TESTS"]
    assert "nbgrader" not in grader.cells[1].metadata


def test_the_hidden_test_fails_a_wrong_or_missing_answer_and_passes_the_solution():
    _, grader = editions.editions(lesson(*GOOD), "99")
    check = grader.cells[3].source
    for answer, passes in ((4, True), (5, False), (None, False)):
        scope = {"answer_1": answer}
        exec("from cnnlab.testing import check_answer", scope)
        if passes:
            exec(check, scope)
        else:
            with pytest.raises(AssertionError):
                exec(check, scope)


def test_an_explicit_hidden_test_is_kept_for_checks_of_another_kind():
    cells = GOOD[:3] + [("code", "fits = answer_1 == 4\n### BEGIN HIDDEN TESTS\nassert fits\n"
                                 "### END HIDDEN TESTS")]
    learner, grader = editions.editions(lesson(*cells), "99")
    assert learner.cells[3].source == "fits = answer_1 == 4"
    assert grader.cells[3].source == cells[3][1]
    assert grader.cells[3].metadata["nbgrader"]["grade"] is True


@pytest.mark.parametrize("cells, message", [
    ([GOOD[1], ("code", "answer_1 = None"), GOOD[3]], "answer_1 has no worked solution"),
    ([GOOD[1], GOOD[3], GOOD[2]], "exercise 1 is checked before it is asked"),
    ([GOOD[1], GOOD[2]], "each exercise needs exactly one check cell"),
    ([GOOD[1], GOOD[2], GOOD[3], GOOD[3]], "each exercise needs exactly one check cell"),
    ([GOOD[1], ("code", GOOD[2][1].replace("answer_1", "answer_2")),
      ("code", "check_answer(answer_2, 4)")], "numbered 1, 2, ... in order"),
    ([GOOD[1], GOOD[2], ("code", "check_answer(answer_1, answer_3)")],
     "must read exactly one answer_k"),
    ([("code", "x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION")],
     "a solution outside an answer_k = None cell"),
    ([GOOD[1], ("code", "answer_1 = None\n### BEGIN SOLUTION\nanswer_1 = 4"), GOOD[3]],
     "without '### END SOLUTION'"),
])
def test_a_source_breaking_the_conventions_is_refused(cells, message):
    with pytest.raises(editions.SourceError, match="lesson 99") as error:
        editions.editions(lesson(*cells), "99")
    assert message in str(error.value)


def test_the_teacher_edition_has_goals_timing_misconceptions_question_and_solution():
    text = teacher.teacher_edition(lesson(*GOOD), "99", "99_counting.py", NOTES)
    assert text.startswith("# Teacher's edition — Lesson 99 — Counting\n")
    for part in ("**Goals.** Count.", "## Class period\n\nTen minutes.",
                 "## Misconceptions to expect\n\n- **It is 5.** No.",
                 "### Exercise 1\n\n> **Exercise 1.** How many?",
                 "```python\nanswer_1 = 2 + 2\n```", "Some type 22."):
        assert part in text


@pytest.mark.parametrize("notes, message", [
    (NOTES.replace("## Class period", "## Timing"), "the sections must be"),
    (NOTES.replace("### Exercise 1", "### Exercise 2"), "'Exercise notes' must have"),
])
def test_teacher_notes_missing_a_section_or_an_exercise_are_refused(notes, message):
    with pytest.raises(editions.SourceError, match=message):
        teacher.teacher_edition(lesson(*GOOD), "99", "99_counting.py", notes)


@pytest.mark.parametrize("src", SOURCES, ids=[s.stem for s in SOURCES])
def test_every_lesson_has_graded_exercises_and_a_complete_teacher_edition(src):
    outputs = BUILD.outputs_of(src)
    learner = nbformat.reads(outputs[LESSONS / f"{src.stem}.ipynb"], as_version=4)
    grader = nbformat.reads(outputs[LESSONS / "teacher" / "source" / src.stem
                                    / f"{src.stem}.ipynb"], as_version=4)
    edition = outputs[LESSONS / "teacher" / f"{src.stem}.md"]
    learner_text = "\n".join(c.source for c in learner.cells)
    assert "SOLUTION" not in learner_text and "HIDDEN TESTS" not in learner_text
    graded = [c.metadata["nbgrader"] for c in grader.cells
              if c.metadata.get("nbgrader", {}).get("grade")]
    solved = [c for c in grader.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(graded) == len(solved) >= 2
    assert len({g["grade_id"] for g in graded}) == len(graded)
    for k, solution in editions.solutions(BUILD.notebook_of(src), src.stem[:2]).items():
        assert solution.strip() and solution.strip() in edition
        assert f"### Exercise {k}\n" in edition
    for heading in ("## Class period", "## Misconceptions to expect",
                    "## Exercises and worked solutions"):
        assert heading in edition
