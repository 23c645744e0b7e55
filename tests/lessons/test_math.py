"""The formulas in every lesson's markdown are whole: balanced, undamaged LaTeX.

Lessons 06, 08 and 10 once went through a shell that expanded ``$$`` into its process id
(15356) and ``$o``, ``$y`` into nothing, leaving ``15356\\hat x = ...`` and ``formula  =``
in the text. ``math_problems`` reads a markdown cell as JupyterLab does (code spans and
fenced code are not math; ``\\$`` is a dollar sign), pairs the ``$$ ... $$`` and ``$ ... $``
delimiters, and reports: an unpaired delimiter, empty math, inline math that starts or ends
with a space (no renderer reads ``$ x$`` as math reliably), unbalanced braces or
``\\left``/``\\right`` or ``\\begin``/``\\end`` inside math, a LaTeX command outside math, and a
number glued to a LaTeX command or to the end of math text (what an expanded ``$$`` leaves).
The browser test (test_browser.py) checks that the formulas found here really render.
"""
from __future__ import annotations

import re

import nbformat
import pytest

from tests.lessons.conftest import LESSONS

NOTEBOOKS = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
#: the lessons that teach with formulas: each must have math, so the check is not vacuous
LESSONS_WITH_MATH = {"01", "02", "03", "06", "08", "10", "11", "12", "13", "14"}

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?:.|\n)*?(?<!`)\1(?!`)")
_COMMAND = re.compile(r"\\[A-Za-z]+")
# digits glued to a command (15356\hat) or to math-looking text before it (\beta_c15356)
_GLUED = re.compile(r"\d{3,}\\[A-Za-z]|[_^}]\w*?\d{4,}\b")


def commands(name: str, body: str) -> int:
    """How often the LaTeX command ``name`` occurs in ``body`` as a whole command (``\\left``
    is not counted inside ``\\leftarrow``, an arrow, not a delimiter)."""
    return len(re.findall(re.escape(name) + r"(?![A-Za-z])", body))


def strip_code(text: str) -> str:
    """Markdown text with fenced code blocks and code spans blanked (they are never math)."""
    text = _FENCE.sub(lambda m: " " * len(m.group(0)), text)
    return _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)


def split_math(text: str):
    """(pieces of math as (delimiter, body), prose outside math, problems) of one cell."""
    text = strip_code(text).replace(r"\$", "  ")
    math, prose, problems = [], [], []
    i = 0
    while True:
        j = text.find("$", i)
        if j < 0:
            prose.append(text[i:])
            break
        prose.append(text[i:j])
        delim = "$$" if text.startswith("$$", j) else "$"
        end = text.find(delim, j + len(delim))
        if delim == "$":
            # inline math ends at the next single $ (a $$ there would be a pairing error)
            end = text.find("$", j + 1)
            if end >= 0 and text.startswith("$$", end):
                problems.append(f"inline $ at {j} runs into a $$ at {end}")
        if end < 0:
            problems.append(f"unpaired {delim} at character {j}: "
                            f"{text[max(0, j - 20):j + 40]!r}")
            prose.append(text[j + len(delim):])
            break
        math.append((delim, text[j + len(delim):end]))
        i = end + len(delim)
    return math, "".join(prose), problems


def math_problems(markdown: str) -> list[str]:
    """Everything wrong with the math of one markdown cell (empty list: all well)."""
    math, prose, problems = split_math(markdown)
    for delim, body in math:
        shown = f"{delim}{body}{delim}"
        if not body.strip():
            problems.append(f"empty math {shown!r}")
            continue
        if delim == "$" and (body[0].isspace() or body[-1].isspace()):
            problems.append(f"inline math with a space inside its $: {shown!r}")
        depth = 0
        for ch in re.sub(r"\\[{}]", "", body):
            depth += ch == "{"
            depth -= ch == "}"
            if depth < 0:
                break
        if depth:
            problems.append(f"unbalanced braces in {shown!r}")
        for opener, closer in ((r"\left", r"\right"), (r"\begin", r"\end")):
            if commands(opener, body) != commands(closer, body):
                problems.append(f"{opener} without its {closer} in {shown!r}")
        if _GLUED.search(body):
            problems.append(f"a number glued to LaTeX in {shown!r} (an expanded $$?)")
    for command in _COMMAND.finditer(prose):
        where = prose[max(0, command.start() - 25):command.end() + 25].strip()
        problems.append(f"LaTeX command {command.group(0)} outside math: {where!r}")
    for glued in _GLUED.finditer(prose):
        problems.append(f"a number glued to LaTeX outside math: {glued.group(0)!r} "
                        "(an expanded $$?)")
    return problems


def formulas_of(path) -> list[tuple[int, int]]:
    """(cell index, number of formulas) for each markdown cell of a notebook that has math."""
    nb = nbformat.read(path, as_version=4)
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            math, _prose, _problems = split_math(cell.source)
            if math:
                out.append((i, len(math)))
    return out


# ---- the checker itself, on what the damaged lessons really said ------------------------------

DAMAGED = [
    # lesson 06 on main before the repair: $$ expanded to the shell's process id
    r"For each channel c:\n15356\hat x = \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}},"
    r"\qquad y = \gamma_c\,\hat x + \beta_c15356",
    # lesson 10: "$o" expanded to nothing, the closing $ left alone
    r"2. Use its output-size formula  = (i - 1)\,s + k - c_{\text{top}}$.",
    # lesson 10: "$y" gone
    r"The chain rule, for (i,j) = \sum_{u,v} x(i+u, j+v)\,w(u,v) + b$ and a loss L:",
    # one $$ expanded, the other kept
    r"15356p_i = \frac{e^{z_i}}{\sum_j e^{z_j}}$$",
]


@pytest.mark.parametrize("text", DAMAGED)
def test_checker_finds_the_damage_the_shell_did(text):
    assert math_problems(text.replace(r"\n", "\n")) != []


@pytest.mark.parametrize("text, words", [
    ("an empty $$ $$ display", "empty math"),
    ("inline $ x$ with a space", "space inside"),
    (r"$\frac{a}{b$", "unbalanced braces"),
    (r"$$\left( x$$", r"\left without"),
    (r"the formula \frac{a}{b} in prose", r"\frac outside math"),
    ("one $x and no close", "unpaired $"),
    ("display $$x = 1 with no close", "unpaired $$"),
    ("a number after math text $x_c15356$", "glued"),
])
def test_checker_names_each_kind_of_damage(text, words):
    problems = math_problems(text)
    assert any(words in p for p in problems), problems


@pytest.mark.parametrize("text", [
    r"$$o = \left\lfloor \frac{i - k}{s} \right\rfloor + 1.$$",
    r"input size $i$, filter $k$ and $(k-1)\,d+1$; money: \$5",
    "code is not math: `print('$x')` and\n```\necho $$\n```\n",
    r"two lines $$a,\qquad" "\n" r"b$$ and after it $c$",
    "the year 2026 and 200 images are plain numbers",
    r"$\theta \leftarrow \theta - \eta g$ and $a \rightarrow b$, $\left( x \right)$",
])
def test_checker_accepts_good_math_and_plain_text(text):
    assert math_problems(text) == []


# ---- every lesson ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_markdown_cell_has_whole_math(path):
    nb = nbformat.read(path, as_version=4)
    problems = [f"cell {i}: {p}" for i, cell in enumerate(nb.cells)
                if cell.cell_type == "markdown" for p in math_problems(cell.source)]
    assert problems == [], f"{path.name}:\n" + "\n".join(problems)


def test_the_lessons_that_teach_formulas_have_them():
    with_math = {p.name[:2] for p in NOTEBOOKS if formulas_of(p)}
    assert with_math == LESSONS_WITH_MATH
    # the repaired formulas themselves: batch norm and LRN, softmax and loss, transposed size
    # and both chain-rule sums
    text = {p.name[:2]: p.read_text(encoding="utf-8") for p in NOTEBOOKS}
    assert r"$$\\hat x = \\frac{x - \\mu_c}" in text["06"]
    assert r"$$y = \\frac{x}{\\left(k + \\frac{\\alpha}{n}" in text["06"]
    assert r"$$p_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}" in text["08"]
    assert r"$o = (i - 1)\\,s + k" in text["10"]
    assert r"$y(i,j) = \\sum_{u,v}" in text["10"]
    assert "15356" not in "".join(text.values())
