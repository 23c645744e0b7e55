"""Build every edition of the lessons from their sources (the one source of truth).

Each ``lessons/_source/NN_name.py`` is a notebook in jupytext's percent format (``# %%``
starts a code cell, ``# %% [markdown]`` a markdown cell), read with jupytext. It holds the
teacher's whole lesson, worked solutions included (see editions.py). From it come:

- ``lessons/NN_name.ipynb``: the learner's notebook (no solutions), what ``cnnlab lab`` opens;
- ``lessons/teacher/source/NN_name/NN_name.ipynb``: the nbgrader source notebook (solutions,
  hidden tests, one point per exercise), in the course layout ``nbgrader`` expects;
- ``lessons/teacher/NN_name.md``: the teacher's edition, with the notes in
  ``lessons/_source/teacher/NN.md`` (teacher.py).

All are written without outputs and with stable cell ids, so rebuilding changes nothing.
``python lessons/_source/build.py`` writes them; ``--check`` only reports files that differ
from their sources (the test suite runs the same comparison).
"""
from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat

SOURCE_DIR = Path(__file__).resolve().parent
LESSON_DIR = SOURCE_DIR.parent
TEACHER_DIR = LESSON_DIR / "teacher"
NOTES_DIR = SOURCE_DIR / "teacher"

sys.path.insert(0, str(SOURCE_DIR))     # editions.py and teacher.py sit beside this file
from editions import editions          # noqa: E402
from teacher import teacher_edition    # noqa: E402


def sources() -> list[Path]:
    """The lesson sources in lesson order (file names start with a two-digit number)."""
    return sorted(p for p in SOURCE_DIR.glob("[0-9][0-9]_*.py"))


def notebook_of(path: Path) -> nbformat.NotebookNode:
    """The teacher's whole notebook for one source: cells in order, no outputs, stable ids."""
    nb = jupytext.read(path, fmt="py:percent")
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell.metadata = {}
        cell["id"] = f"{path.stem[:2]}-{i:03d}"     # stable ids: rebuilding changes nothing
    return nb


def text_of(nb) -> str:
    return nbformat.writes(nb) + "\n"


def outputs_of(path: Path) -> dict[Path, str]:
    """Every file one lesson source makes, with its text."""
    lesson = path.stem[:2]
    nb = notebook_of(path)
    learner, grader = editions(nb, lesson)
    notes = NOTES_DIR / f"{lesson}.md"
    if not notes.exists():
        raise SystemExit(f"build.py: lesson {lesson} has no teacher's notes ({notes})")
    return {
        LESSON_DIR / f"{path.stem}.ipynb": text_of(learner),
        TEACHER_DIR / "source" / path.stem / f"{path.stem}.ipynb": text_of(grader),
        TEACHER_DIR / f"{path.stem}.md": teacher_edition(nb, lesson, path.name,
                                                          notes.read_text(encoding="utf-8")),
    }


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stale = []
    for src in sources():
        for target, text in outputs_of(src).items():
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target.relative_to(LESSON_DIR)))
                if "--check" not in argv:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
    verb = "differ from their sources" if "--check" in argv else "written"
    print(f"{len(stale)} file(s) {verb}: {', '.join(stale) or '-'}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    raise SystemExit(main())
