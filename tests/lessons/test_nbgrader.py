"""The nbgrader round trip a teacher makes with lessons/teacher/, for every lesson.

A copy of the course folder (nbgrader_config.py and the source notebooks) is taken through
nbgrader itself, in a separate process: ``generate_assignment`` makes the student version;
two students hand it in, one with every answer cell filled in with the worked solution, one
untouched; ``autograde`` runs both. Asserted: the student version nbgrader makes is, cell for
cell, the notebook lessons/ ships (what ``cnnlab lab`` opens), the filled-in submission gets
full marks and runs without an error, the untouched one gets zero.

nbgrader's Python API (``NbGraderAPI``, the one its formgrader uses) does the work in one
process instead of a command per lesson and step (each ``nbgrader`` command starts in ~5 s).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.lessons.test_notebooks import LESSONS, NOTEBOOKS, load_builder

BUILD = load_builder()
import editions  # noqa: E402  (lessons/_source, put on sys.path by the builder)

TEACHER = LESSONS / "teacher"
NAMES = [p.stem for p in NOTEBOOKS]

# generate every assignment, then autograde every submission; print the scores as JSON
RUN_NBGRADER = r"""
import json, sys
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.api import Gradebook
from traitlets.config.loader import PyFileConfigLoader

root, step, names = sys.argv[1], sys.argv[2], sys.argv[3:]
config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
config.CourseDirectory.root = root
api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
for name in names:
    if step == "generate":
        result = api.generate_assignment(name, force=True)
        if not result["success"]:
            sys.exit(f"generate_assignment {name} failed:\n{result['log']}")
        continue
    for student in ("full", "blank"):
        result = api.autograde(name, student, force=True)
        if not result["success"]:
            sys.exit(f"autograde {name} {student} failed:\n{result['log']}")
if step == "autograde":
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        print(json.dumps({f"{name}/{student}": [gb.find_submission(name, student).score,
                                                  gb.find_submission(name, student).max_score]
                          for name in names for student in ("full", "blank")}))
"""


def nbgrader(root: Path, step: str) -> str:
    done = subprocess.run([sys.executable, "-c", RUN_NBGRADER, str(root), step, *NAMES],
                          capture_output=True, text=True, cwd=root, timeout=3600)
    assert done.returncode == 0, done.stderr[-4000:] + done.stdout[-2000:]
    return done.stdout


def filled_in(nb, solutions: dict[int, str]):
    """The student's notebook with every ``answer_k = None`` line replaced by the solution."""
    for cell in nb.cells:
        match = re.match(r"answer_(\d+) = None\b.*$", cell.source, flags=re.M)
        if cell.cell_type == "code" and match:
            cell.source = cell.source.replace(match.group(0),
                                              solutions[int(match.group(1))].strip("\n"), 1)
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """(course folder, scores): the assignments generated, handed in twice and graded."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(TEACHER / "source", root / "source")
    shutil.copy(TEACHER / "nbgrader_config.py", root)
    nbgrader(root, "generate")
    for name in NAMES:
        released = root / "release" / name / f"{name}.ipynb"
        solutions = editions.solutions(BUILD.notebook_of(BUILD.SOURCE_DIR / f"{name}.py"),
                                       name[:2])
        for student, nb in (("blank", nbformat.read(released, as_version=4)),
                            ("full", filled_in(nbformat.read(released, as_version=4),
                                               solutions))):
            target = root / "submitted" / student / name / f"{name}.ipynb"
            target.parent.mkdir(parents=True)
            nbformat.write(nb, target)
    scores = json.loads(nbgrader(root, "autograde").strip().splitlines()[-1])
    return root, scores


@pytest.mark.parametrize("name", NAMES)
def test_nbgraders_student_version_is_the_lesson_learners_get(course, name):
    root, _ = course
    released = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
    shipped = nbformat.read(LESSONS / f"{name}.ipynb", as_version=4)
    assert [(c.cell_type, c.source.rstrip()) for c in released.cells] == \
           [(c.cell_type, c.source.rstrip()) for c in shipped.cells]


@pytest.mark.parametrize("name", NAMES)
def test_worked_solutions_get_full_marks_and_blank_answers_none(course, name):
    root, scores = course
    full, most = scores[f"{name}/full"]
    blank, _ = scores[f"{name}/blank"]
    exercises = len(editions.solutions(BUILD.notebook_of(BUILD.SOURCE_DIR / f"{name}.py"),
                                       name[:2]))
    assert most == exercises >= 2
    assert full == most, f"{name}: the worked solutions score {full} of {most}"
    assert blank == 0, f"{name}: an untouched notebook scores {blank}"
    graded = nbformat.read(root / "autograded" / "full" / name / f"{name}.ipynb",
                           as_version=4)
    errors = [out for cell in graded.cells for out in cell.get("outputs", [])
              if out.output_type == "error"]
    assert errors == [], f"{name}: {errors[0].ename}: {errors[0].evalue}"
