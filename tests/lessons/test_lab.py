"""``cnnlab lab``: finding the lessons, copying them into a working folder (never over a
learner's copy), and the JupyterLab command line, with JupyterLab's launch replaced by a
recorder (the real server is started by the browser tests)."""
import importlib.util
import sys
from pathlib import Path

import pytest

from cnnlab import cli, lab

REPO_LESSONS = Path(__file__).resolve().parents[2] / "lessons"
ALL_LESSONS = sorted(p.name for p in REPO_LESSONS.glob("[0-9][0-9]_*.ipynb"))


def test_lessons_are_found_next_to_the_package():
    folder = lab.lessons_folder()
    assert folder.name == "lessons" and len(list(folder.glob("[0-9][0-9]_*.ipynb"))) >= 9


def test_the_installed_copy_comes_before_the_repository(tmp_path):
    installed, repository = tmp_path / "cnnlab" / "lessons", tmp_path / "lessons"
    for folder in (installed, repository):
        folder.mkdir(parents=True)
    (repository / "01_a.ipynb").write_text("{}")
    assert lab.lessons_folder((installed, repository)) == repository   # editable install
    (installed / "01_a.ipynb").write_text("{}")
    assert lab.lessons_folder((installed, repository)) == installed    # wheel install
    with pytest.raises(FileNotFoundError, match="no lessons found .*pip install"):
        lab.lessons_folder((tmp_path / "empty",))


def test_list_names_every_lesson_and_starts_nothing(capsys, monkeypatch):
    monkeypatch.setattr(lab, "launch", lambda cmd: pytest.fail("launched JupyterLab"))
    assert cli.main(["lab", "--list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{len(ALL_LESSONS)} lessons in ")
    assert [line.strip() for line in out.splitlines()[1:]] == ALL_LESSONS
    # every lesson source has its notebook (and no lesson is found twice or missing)
    assert len(ALL_LESSONS) == len(list((REPO_LESSONS / "_source").glob("[0-9][0-9]_*.py")))


@pytest.fixture
def launched(monkeypatch):
    """The command lab would run; JupyterLab counts as installed, the user as not root."""
    calls = []
    monkeypatch.setattr(lab, "launch", lambda cmd: calls.append(cmd) or 0)
    monkeypatch.setattr(lab.os, "geteuid", lambda: 1000, raising=False)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "jupyterlab" else real(name, *a))
    return calls


def test_arguments_after_double_dash_reach_jupyterlab_verbatim(tmp_path, launched):
    assert cli.main(["lab", "--dir", str(tmp_path / "course"), "--port", "8899",
                     "--no-browser", "--", "--allow-root", "--ServerApp.ip=0.0.0.0",
                     "--port=9000"]) == 0
    [cmd] = launched
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path / 'course'}" in cmd
    # ours first, the user's last (JupyterLab lets the last --port win), untouched
    assert cmd[-5:] == ["--port=8899", "--no-browser", "--allow-root",
                        "--ServerApp.ip=0.0.0.0", "--port=9000"]
    assert cmd.count("--allow-root") == 1
    assert sorted(p.name for p in (tmp_path / "course").glob("*.ipynb")) == ALL_LESSONS


def test_root_needs_allow_root_which_is_passed_on(tmp_path, launched, monkeypatch, capsys):
    monkeypatch.setattr(lab.os, "geteuid", lambda: 0, raising=False)
    assert cli.main(["lab", "--dir", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cnnlab lab: running as root") and "--allow-root" in err
    assert launched == [] and not (tmp_path / "a").exists()
    assert cli.main(["lab", "--dir", str(tmp_path / "b"), "--allow-root"]) == 0
    assert launched[0][-1] == "--allow-root"


def test_missing_jupyterlab_is_found_before_copying(tmp_path, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "jupyterlab" else real(name, *a))
    monkeypatch.setattr(lab, "launch", lambda cmd: pytest.fail("launched JupyterLab"))
    assert cli.main(["lab", "--dir", str(tmp_path / "course")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("cnnlab lab: JupyterLab is not installed: pip install 'cnnlab[lab]' "
                           "(from a clone: pip install -e '.[lab]')")
    assert not (tmp_path / "course").exists()


def test_the_launch_exit_code_is_the_commands(tmp_path, launched, monkeypatch):
    monkeypatch.setattr(lab, "launch", lambda cmd: 3)
    assert cli.main(["lab", "--dir", str(tmp_path)]) == 3


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


def test_launch_waits_for_the_program_and_returns_its_status():
    assert lab.launch([sys.executable, "-c", "import sys; sys.exit(4)"]) == 4
