"""``cnnlab lab``: open JupyterLab on the lessons, in a working folder of your own.

    cnnlab lab                         copy the lessons to ~/cnnlab-lessons and open JupyterLab
    cnnlab lab --dir course            ... to ./course instead
    cnnlab lab --print-command         show what would run, start nothing

The lessons live in the repository's ``lessons/`` folder (one source of truth, committed
without outputs). They are copied into the working folder so a learner's edits and outputs
never touch the repository; a lesson already in the working folder is never overwritten
(it is the learner's copy — delete it to get the original back), new lessons are added.
cnnlab is installed from a clone (``pip install -e .``), so the folder is found next to the
package; an install without the repository has no lessons and says where to get them.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

DEFAULT_DIR = Path.home() / "cnnlab-lessons"


def lessons_folder() -> Path:
    """The repository's lessons/ folder (next to the cnnlab package)."""
    folder = Path(__file__).resolve().parent.parent / "lessons"
    if not any(folder.glob("[0-9][0-9]_*.ipynb")):
        raise ValueError(f"no lessons found in {folder}: install cnnlab from a clone of its "
                         "repository (pip install -e .), which holds the lessons/ folder")
    return folder


def copy_lessons(source: Path, target: Path) -> tuple[list[str], list[str]]:
    """Copy every lesson (and README/data next to it) missing from ``target``.

    Returns (copied, kept): file names copied now, and names already there and left alone.
    """
    if target.exists() and not target.is_dir():
        raise ValueError(f"--dir {target}: exists and is not a folder")
    target.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for path in sorted(source.iterdir()):
        if path.name.startswith((".", "_")) or not path.is_file():
            continue
        dest = target / path.name
        if dest.exists():
            kept.append(path.name)
        else:
            shutil.copy2(path, dest)
            copied.append(path.name)
    return copied, kept


def command(folder: Path, port: int | None, browser: bool) -> list[str]:
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    if port:
        cmd.append(f"--port={port}")
    if not browser:
        cmd.append("--no-browser")
    return cmd


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cnnlab lab", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                   help=f"working folder for the lessons (default {DEFAULT_DIR})")
    p.add_argument("--port", type=int)
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--print-command", action="store_true",
                   help="copy the lessons, print the JupyterLab command, start nothing")
    a = p.parse_args(argv)
    copied, kept = copy_lessons(lessons_folder(), a.dir)
    print(f"lessons in {a.dir}: {len(copied)} copied"
          + (f", {len(kept)} of yours kept as they are" if kept else ""))
    cmd = command(a.dir, a.port, not a.no_browser)
    if a.print_command:
        print(" ".join(cmd))
        return 0
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        raise ValueError("JupyterLab is not installed: pip install -e '.[lab]'") from None
    return subprocess.call(cmd)
