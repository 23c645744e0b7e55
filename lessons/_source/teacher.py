"""The teacher's edition of one lesson: lessons/teacher/NN_name.md.

It is put together from two sources, so that nothing in it can drift from the lesson:

- the lesson source (``NN_name.py``): its title and goals, each exercise's question as the
  learner reads it and its worked solution (the ``### BEGIN SOLUTION`` region of the answer
  cell, see editions.py);
- the teacher's notes (``teacher/NN.md``), written for teachers only, in three sections:
  ``## Class period`` (timing), ``## Misconceptions to expect`` and ``## Exercise notes``
  with one ``### Exercise k`` per exercise (the wrong answers students give and what each
  reveals).
"""
from __future__ import annotations

import re

from editions import SourceError, classify, solutions

SECTIONS = ("Class period", "Misconceptions to expect", "Exercise notes")


def sections(text: str, level: str) -> dict[str, str]:
    """Heading -> body for the headings of one level (``"##"`` or ``"###"``) in Markdown."""
    parts = re.split(rf"^{level} (.+)$", text, flags=re.M)
    return {title.strip(): body.strip("\n") for title, body in zip(parts[1::2], parts[2::2])}


def notes_of(text: str, lesson: str, exercises: list[int]) -> dict:
    """The notes' sections, checked: all three, in order, and notes for every exercise."""
    found = sections(text, "##")
    if tuple(found) != SECTIONS:
        raise SourceError(f"teacher notes of lesson {lesson}: the sections must be "
                          f"{list(SECTIONS)}, in that order; found {list(found)}")
    per_exercise = sections(found["Exercise notes"], "###")
    wanted = [f"Exercise {k}" for k in exercises]
    if list(per_exercise) != wanted:
        raise SourceError(f"teacher notes of lesson {lesson}: 'Exercise notes' must have "
                          f"{wanted}; found {list(per_exercise)}")
    return {**found, "exercises": per_exercise}


def question_of(nb, answer_index: int, k: int, lesson: str) -> str:
    """The text of exercise k: from ``**Exercise k`` to the end of its markdown cell."""
    for cell in reversed(nb.cells[:answer_index]):
        if cell.cell_type == "markdown" and f"**Exercise {k}" in cell.source:
            return cell.source[cell.source.index(f"**Exercise {k}"):].strip()
    raise SourceError(f"lesson {lesson}: no '**Exercise {k}' text before answer_{k}")


def quoted(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.split("\n"))


def teacher_edition(nb, lesson: str, source_name: str, notes_text: str) -> str:
    """The Markdown of one lesson's teacher's edition."""
    first = nb.cells[0].source
    title = first.split("\n", 1)[0].lstrip("# ").strip()
    goals = first[first.index("**Goals.**"):].strip() if "**Goals.**" in first else ""
    answer_cells = {k: i for i, cell in enumerate(nb.cells)
                    for kind, k in [classify(cell, lesson)] if kind == "answer"}
    worked = solutions(nb, lesson)
    notes = notes_of(notes_text, lesson, sorted(answer_cells))
    out = [f"# Teacher's edition — {title}", "",
           f"*Made by `lessons/_source/build.py` from `lessons/_source/{source_name}` and "
           f"`lessons/_source/teacher/{lesson}.md`: edit those, not this file.*", ""]
    if goals:
        out += [goals, ""]
    out += ["## Class period", "", notes["Class period"], "",
            "## Misconceptions to expect", "", notes["Misconceptions to expect"], "",
            "## Exercises and worked solutions", ""]
    for k, index in sorted(answer_cells.items()):
        out += [f"### Exercise {k}", "", quoted(question_of(nb, index, k, lesson)), "",
                "Worked solution (the answer cell as the teacher's notebook holds it):", "",
                "```python", worked[k].strip("\n"), "```", "",
                notes["exercises"][f"Exercise {k}"], ""]
    return "\n".join(out).rstrip("\n") + "\n"
