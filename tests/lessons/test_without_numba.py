"""The whole course on the reference backend: every lesson, in a kernel that cannot import numba.

This is how the lessons run where Numba cannot install (JupyterLite/Pyodide has NumPy and
matplotlib, not Numba): the default backend "auto" falls back to the reference kernels with
one BackendFallbackWarning. The kernel is an ordinary ipykernel whose Python start-up runs
tests/lessons/without_numba/sitecustomize.py (on PYTHONPATH, with CNNLAB_BLOCK_NUMBA=1), so
``import numba`` fails before any lesson code runs. Each lesson must run without an error
and print the same key numbers as on the fast backend (the facts of test_notebooks.py); a
last cell added here reports that numba stayed blocked and the fast kernels never loaded.
The one-minute budget is the fast backend's and is not asserted here.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .test_notebooks import LESSON_FACTS, NOTEBOOKS, fill_answers, printed

ROOT = Path(__file__).resolve().parents[2]
BLOCKER = Path(__file__).resolve().parent / "without_numba"
PROBE = ("import sys\n"
         "print('numba blocked:', sys.modules.get('numba', 'absent') is None,\n"
         "      '| fast kernels loaded:', 'cnnlab.kernels.fast' in sys.modules)")


@pytest.fixture
def numba_blocked_kernel(monkeypatch):
    """Kernels started now inherit an environment that blocks numba."""
    monkeypatch.setenv("CNNLAB_BLOCK_NUMBA", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(BLOCKER), str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(
            os.pathsep) if p]))
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_runs_on_the_reference_backend(path, numba_blocked_kernel, tmp_path):
    facts = LESSON_FACTS[path.name[:2]]
    nb = nbformat.read(path, as_version=4)
    fill_answers(nb, {**facts["answers"], **facts["wrong"]})
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [out for cell in nb.cells for out in cell.get("outputs", [])
              if out.output_type == "error"]
    assert errors == []
    text = printed(nb)
    assert "numba blocked: True | fast kernels loaded: False" in text
    missing = [s for s in facts["expect"] if s not in text]
    assert missing == [], f"{path.name} on the reference backend: not found: {missing}"
    assert text.count("Right! ") == len(facts["answers"])
    # a lesson that builds a network says, once, that it runs on the reference kernels
    warnings = re.findall(r"BackendFallbackWarning", text)
    assert len(warnings) <= 1
    if "cl.Network(" in path.read_text(encoding="utf-8") or "train_network" in \
            path.read_text(encoding="utf-8"):
        assert len(warnings) == 1, f"{path.name}: no fallback warning shown"
