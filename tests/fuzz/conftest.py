"""Fuzz counts: every fuzz test adds its outcomes here; the totals print after the run.

The default run uses the derandomized "ci" profile; the long run is

    HYPOTHESIS_PROFILE=long python -m pytest tests/fuzz -q -m slow -p no:randomly

(10,000 cases per test) and prints the same table.
"""
from collections import Counter

import pytest

COUNTS = Counter()


def pytest_terminal_summary(terminalreporter):
    if COUNTS:
        terminalreporter.section("fuzz cases")
        for key in sorted(COUNTS):
            terminalreporter.write_line(f"{key:<55}{COUNTS[key]:>8,}")


@pytest.fixture(autouse=True)
def small_memory_budget(monkeypatch):
    """Fuzzed sizes reach 2**31: keep every accepted request small for this machine."""
    monkeypatch.setenv("CNNLAB_MEMORY_BUDGET", str(256 * 2**20))
