"""The two notebook editions made from one lesson source: the learner's and nbgrader's.

A lesson source (``NN_name.py``, jupytext's percent format) holds the teacher's whole lesson.
An exercise is two code cells:

- the **answer cell**, ``answer_k = None`` followed by the worked solution between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
- the **check cell**, a ``check_answer(answer_k, expected, ...)`` call (cnnlab.testing) or,
  for checks of another kind (a design against a budget), an explicit region between
  ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` that raises unless the answer is right.

The **learner's edition** (lessons/NN_name.ipynb, what ``cnnlab lab`` opens) drops both kinds of
region: the answer cell is ``answer_k = None``, the check prints Right! / Not yet / Fill in.
The **nbgrader edition** (an nbgrader *source* notebook) keeps the solution, gives each check
cell a hidden test, ``assert_answer(...)`` with the check's own arguments, and marks the cells
with nbgrader's metadata: the answer cell a solution cell, the check cell an autograded test
worth one point. ``nbgrader generate_assignment`` then clears exactly what the learner's edition
leaves out (its code stub for a solution is empty, see lessons/teacher/nbgrader_config.py).
"""
from __future__ import annotations

import ast
import copy
import re

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
ANSWER = re.compile(r"^(answer_\d+) = None\b", re.M)
ANSWER_NAME = re.compile(r"\banswer_(\d+)\b")


class SourceError(ValueError):
    """A lesson source that breaks the exercise conventions above."""


def region(source: str, begin: str, end: str, lesson: str) -> tuple[str, str] | None:
    """(the source without the region, the region's lines) or None when there is none."""
    try:
        return _split(source, begin, end)
    except SourceError as error:
        raise SourceError(f"lesson {lesson}: {error} in the cell\n{source}") from None


def _split(source: str, begin: str, end: str) -> tuple[str, str] | None:
    kept, inside, found, state = [], [], False, "out"
    for line in source.split("\n"):
        if line.strip() == begin:
            if state != "out":
                raise SourceError(f"nested {begin!r}")
            state, found = "in", True
        elif line.strip() == end:
            if state != "in":
                raise SourceError(f"{end!r} without {begin!r}")
            state = "out"
        elif state == "in":
            inside.append(line)
        else:
            kept.append(line)
    if state == "in":
        raise SourceError(f"{begin!r} without {end!r}")
    if not found:
        return None
    return "\n".join(kept).rstrip("\n"), "\n".join(inside)


def check_calls(source: str) -> list[str]:
    """The source text of every ``check_answer(...)`` call in a code cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []             # a cell with top-level await: it holds no check
    return [ast.get_source_segment(source, node) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_answer"]


def exercise_of(source: str, lesson: str) -> int:
    """The exercise number k of a check cell: the ``answer_k`` it reads (exactly one)."""
    numbers = sorted({int(k) for k in ANSWER_NAME.findall(source)})
    if len(numbers) != 1:
        raise SourceError(f"lesson {lesson}: a check cell must read exactly one answer_k, "
                          f"this one reads {['answer_%d' % k for k in numbers] or 'none'}:\n"
                          f"{source}")
    return numbers[0]


def classify(cell, lesson: str) -> tuple[str, int | None]:
    """("answer", k), ("check", k) or ("plain", None) for one cell."""
    if cell.cell_type != "code":
        return "plain", None
    answers = ANSWER.findall(cell.source)
    if answers:
        if len(answers) > 1:
            raise SourceError(f"lesson {lesson}: one answer per cell, found {answers}")
        if region(cell.source, BEGIN_SOLUTION, END_SOLUTION, lesson) is None:
            raise SourceError(f"lesson {lesson}: {answers[0]} has no worked solution "
                              f"({BEGIN_SOLUTION} ... {END_SOLUTION})")
        return "answer", int(answers[0].split("_")[1])
    if check_calls(cell.source) or BEGIN_HIDDEN in cell.source:
        return "check", exercise_of(cell.source, lesson)
    if BEGIN_SOLUTION in cell.source:
        raise SourceError(f"lesson {lesson}: a solution outside an answer_k = None cell:\n"
                          f"{cell.source}")
    return "plain", None


def learner_source(cell, lesson: str) -> str:
    """A cell as the learner gets it: no solution, no hidden test."""
    source = cell.source
    for begin, end in ((BEGIN_SOLUTION, END_SOLUTION), (BEGIN_HIDDEN, END_HIDDEN)):
        stripped = region(source, begin, end, lesson)
        if stripped is not None:
            source = stripped[0]
    return source


def hidden_tests(source: str) -> str:
    """A check cell with its hidden test: every ``check_answer(...)`` repeated as
    ``assert_answer(...)`` (same arguments, same tolerance, raises unless right)."""
    calls = check_calls(source)
    if not calls:
        return source               # an explicit hidden-test region is already there
    asserts = [call.replace("check_answer", "assert_answer", 1) for call in calls]
    return "\n".join([source, BEGIN_HIDDEN, "from cnnlab.testing import assert_answer",
                      *asserts, END_HIDDEN])


def nbgrader_metadata(kind: str, k: int) -> dict:
    """nbgrader's cell metadata (schema 3): a solution cell or a one-point test cell."""
    common = {"schema_version": 3, "task": False}
    if kind == "answer":
        return {**common, "grade": False, "solution": True, "locked": False,
                "grade_id": f"exercise_{k}_answer"}
    return {**common, "grade": True, "solution": False, "locked": True, "points": 1,
            "grade_id": f"exercise_{k}_check"}


def check_pairs(kinds: list[tuple[str, int | None]], lesson: str) -> None:
    """Every exercise has one answer cell followed (later) by one check cell, numbered 1..n."""
    answers = [k for kind, k in kinds if kind == "answer"]
    checks = [k for kind, k in kinds if kind == "check"]
    if answers != list(range(1, len(answers) + 1)):
        raise SourceError(f"lesson {lesson}: exercises must be numbered 1, 2, ... in order; "
                          f"the answer cells are {answers}")
    if sorted(checks) != answers or len(set(checks)) != len(checks):
        raise SourceError(f"lesson {lesson}: each exercise needs exactly one check cell; "
                          f"answers {answers}, checks {checks}")
    for k in answers:
        a = next(i for i, (kind, n) in enumerate(kinds) if kind == "answer" and n == k)
        c = next(i for i, (kind, n) in enumerate(kinds) if kind == "check" and n == k)
        if c < a:
            raise SourceError(f"lesson {lesson}: exercise {k} is checked before it is asked")


def editions(nb, lesson: str):
    """(learner notebook, nbgrader source notebook), both copies of ``nb``."""
    kinds = [classify(cell, lesson) for cell in nb.cells]
    check_pairs(kinds, lesson)
    learner, grader = copy.deepcopy(nb), copy.deepcopy(nb)
    for cell, (kind, k) in zip(learner.cells, kinds):
        cell.source = learner_source(cell, lesson)
    for cell, (kind, k) in zip(grader.cells, kinds):
        if kind == "check":
            cell.source = hidden_tests(cell.source)
        if kind != "plain":
            cell.metadata["nbgrader"] = nbgrader_metadata(kind, k)
    return learner, grader


def solutions(nb, lesson: str) -> dict[int, str]:
    """Exercise k -> the lines of its worked solution, for the teacher's edition."""
    out = {}
    for cell in nb.cells:
        kind, k = classify(cell, lesson)
        if kind == "answer":
            out[k] = region(cell.source, BEGIN_SOLUTION, END_SOLUTION, lesson)[1]
    return out
