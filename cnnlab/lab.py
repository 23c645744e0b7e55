"""``cnnlab lab``: open JupyterLab on the lessons, in a working folder of your own.

    cnnlab lab                         copy the lessons to ~/cnnlab-lessons and open JupyterLab
    cnnlab lab --dir course            ... to ./course instead
    cnnlab lab --list                  list the lessons this install has, start nothing
    cnnlab lab --print-command         copy, show what would run, start nothing
    cnnlab lab -- --allow-root --ip=0.0.0.0     everything after -- goes to JupyterLab

The lessons are written in the repository's lessons/ folder (one source of truth, committed
without outputs); a wheel carries a copy inside the package as cnnlab/lessons (setup.py's
build step puts it there). They are copied into the working folder so a learner's edits and
outputs never touch the installed originals; a lesson already in the working folder is never
overwritten (it is the learner's copy: delete it to get the original back), new lessons are
added. JupyterLab refuses to run as root (classroom containers often are): pass --allow-root.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .helpformat import HelpFormatter, plain

DEFAULT_DIR = Path.home() / "cnnlab-lessons"
PACKAGE = Path(__file__).resolve().parent
#: where the lessons are looked for: inside the installed package (a wheel), then the
#: repository next to the package (an editable install from a clone)
SEARCHED = (PACKAGE / "lessons", PACKAGE.parent / "lessons")


def lesson_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("[0-9][0-9]_*.ipynb"))


def lessons_folder(searched=SEARCHED) -> Path:
    """The first folder of ``searched`` that holds numbered lesson notebooks."""
    for folder in searched:
        if lesson_names(folder):
            return folder
    raise FileNotFoundError(
        f"no lessons found (looked in {', '.join(map(str, searched))}): reinstall cnnlab "
        "(pip install 'cnnlab[lab]'), or from a clone pip install -e '.[lab]'")


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


def command(folder: Path, port: int | None, browser: bool, allow_root: bool = False,
            extra=()) -> list[str]:
    """The JupyterLab command line: our options first, then the user's, verbatim."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    if port:
        cmd.append(f"--port={port}")
    if not browser:
        cmd.append("--no-browser")
    if allow_root:
        cmd.append("--allow-root")
    return cmd + list(extra)


def launch(cmd: list[str]) -> int:
    """Run JupyterLab and wait; Ctrl-C goes to JupyterLab (it asks before shutting down),
    so this process waits on until JupyterLab has exited and returns its exit code."""
    process = subprocess.Popen(cmd)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cnnlab lab", description=plain(__doc__),
                                formatter_class=HelpFormatter)
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                   help="working folder the lessons are copied to")
    p.add_argument("--list", action="store_true",
                   help="list the lessons and where they are, start nothing")
    p.add_argument("--port", type=int, help="JupyterLab's port (JupyterLab picks one if unset)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--allow-root", action="store_true",
                   help="let JupyterLab run as root (it refuses otherwise)")
    p.add_argument("--print-command", action="store_true",
                   help="copy the lessons, print the JupyterLab command, start nothing")
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # everything after "--" is JupyterLab's, untouched by our parser
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    a = build_parser().parse_args(own)
    source = lessons_folder()
    if a.list:
        names = lesson_names(source)
        print(f"{len(names)} lessons in {source}:")
        for name in names:
            print(f"  {name}")
        return 0
    if not a.print_command and importlib.util.find_spec("jupyterlab") is None:
        raise ModuleNotFoundError("JupyterLab is not installed: pip install 'cnnlab[lab]' "
                                  "(from a clone: pip install -e '.[lab]')", name="jupyterlab")
    allow_root = a.allow_root or "--allow-root" in extra
    if not a.print_command and not allow_root and hasattr(os, "geteuid") and os.geteuid() == 0:
        raise ValueError("running as root, which JupyterLab refuses: add --allow-root "
                         "(cnnlab lab --allow-root)")
    copied, kept = copy_lessons(source, a.dir)
    print(f"lessons in {a.dir}: {len(copied)} copied"
          + (f", {len(kept)} of yours kept as they are" if kept else ""))
    cmd = command(a.dir, a.port, not a.no_browser, a.allow_root and "--allow-root" not in extra,
                  extra)
    if a.print_command:
        print(" ".join(cmd))
        return 0
    return launch(cmd)
