"""``cnnlab bench`` runs both engines and prints a well-formed table (no timing assertions)."""
import re

import pytest

from cnnlab import bench


def test_quick_benchmark_prints_every_row_with_positive_rates_and_a_ratio(capsys):
    pytest.importorskip("torch")
    assert bench.main(["--quick", "--networks", "lenet5"]) == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^lenet5\s+64\s+(train|infer)\s+([\d,]+)\s+([\d,]+)\s+([\d.]+)x$", out,
                      re.M)
    assert [r[0] for r in rows] == ["train", "infer"]
    for _, ours, theirs, ratio in rows:
        ours, theirs = float(ours.replace(",", "")), float(theirs.replace(",", ""))
        assert ours > 0 and theirs > 0
        assert float(ratio) == pytest.approx(ours / theirs, abs=0.01)


def test_without_torch_shows_cnnlab_alone(capsys):
    assert bench.main(["--quick", "--no-torch", "--networks", "reference"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^reference\s+128\s+train\s+[\d,]+$", out, re.M)
    assert "pytorch" not in out


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        bench.main(["--steps", "0"])
