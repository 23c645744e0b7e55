"""``cnnlab lab``: copying the lessons into a working folder, never over a learner's copy."""
import sys

import pytest

from cnnlab import cli, lab


def test_lessons_are_found_next_to_the_package():
    folder = lab.lessons_folder()
    assert folder.name == "lessons" and len(list(folder.glob("[0-9][0-9]_*.ipynb"))) >= 9


def test_copy_keeps_the_learners_edits_and_adds_new_lessons(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("01_a.ipynb", "02_b.ipynb", "README.md", "_build.py"):
        (source / name).write_text(f"original {name}")
    work = tmp_path / "work"
    copied, kept = lab.copy_lessons(source, work)
    assert copied == ["01_a.ipynb", "02_b.ipynb", "README.md"] and kept == []
    assert not (work / "_build.py").exists()             # private helpers stay behind
    (work / "01_a.ipynb").write_text("my answers")
    (source / "03_c.ipynb").write_text("new lesson")
    copied, kept = lab.copy_lessons(source, work)
    assert copied == ["03_c.ipynb"] and "01_a.ipynb" in kept
    assert (work / "01_a.ipynb").read_text() == "my answers"


def test_print_command_starts_nothing(tmp_path, capsys):
    assert cli.main(["lab", "--dir", str(tmp_path / "course"), "--print-command",
                     "--no-browser", "--port", "8899"]) == 0
    out = capsys.readouterr().out
    assert f"{sys.executable} -m jupyterlab" in out and "--port=8899" in out
    assert "--no-browser" in out and "copied" in out
    assert any((tmp_path / "course").glob("01_*.ipynb"))


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        lab.copy_lessons(lab.lessons_folder(), tmp_path / "f")
