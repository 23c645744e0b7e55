"""Build the lesson notebooks from their plain-Python sources (the one source of truth).

Each ``lessons/_source/NN_name.py`` is a sequence of cells separated by marker lines:
``# %% [markdown]`` starts a markdown cell (its lines lose the leading ``# ``), ``# %%``
starts a code cell. ``python lessons/_source/build.py`` writes ``lessons/NN_name.ipynb``
with no outputs; ``--check`` only reports notebooks that differ from their source (the test
suite runs the same comparison).
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

SOURCE_DIR = Path(__file__).resolve().parent
LESSON_DIR = SOURCE_DIR.parent


def sources() -> list[Path]:
    """The lesson sources in lesson order (file names start with a two-digit number)."""
    return sorted(p for p in SOURCE_DIR.glob("[0-9][0-9]_*.py"))


def cells_of(text: str) -> list[tuple[str, str]]:
    """Split a source into (kind, text) cells, kind "markdown" or "code"."""
    cells, kind, lines = [], None, []

    def flush():
        if kind is not None:
            body = "\n".join(lines).strip("\n")
            if body:
                cells.append((kind, body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        elif kind == "code":
            lines.append(line)
    flush()
    return cells


def notebook_of(path: Path) -> nbformat.NotebookNode:
    """The notebook for one source: cells in order, no outputs, a python3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"}}
    for i, (kind, body) in enumerate(cells_of(path.read_text(encoding="utf-8"))):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = make(body)
        cell["id"] = f"{path.stem[:2]}-{i:03d}"     # stable ids: rebuilding changes nothing
        nb.cells.append(cell)
    return nb


def text_of(nb) -> str:
    return nbformat.writes(nb) + "\n"


def target_of(path: Path) -> Path:
    return LESSON_DIR / (path.stem + ".ipynb")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stale = []
    for src in sources():
        text, target = text_of(notebook_of(src)), target_of(src)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(target.name)
            if "--check" not in argv:
                target.write_text(text, encoding="utf-8")
    verb = "differ from their sources" if "--check" in argv else "written"
    print(f"{len(stale)} notebook(s) {verb}: {', '.join(stale) or '-'}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    raise SystemExit(main())
