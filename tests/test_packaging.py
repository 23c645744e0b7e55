"""The wheel a user installs: what it carries, and that it works away from the repository.

The wheel is built from a copy of the source tree (so the build leaves nothing in the clone),
then installed without extras into one fresh virtual environment (pip brings numpy, numba,
matplotlib... from the machine's package index), and the installed ``cnnlab`` command is run
from an empty folder with no PYTHONPATH: nothing of the repository is reachable, so the
lessons ``cnnlab lab --list`` finds must be the ones inside the wheel. One venv per test
session keeps this to a couple of minutes; ``-m "not packaging"`` leaves it out.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
SKIP = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".venv",
                              ".hypothesis", ".ipynb_checkpoints", "artifacts")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "CNNLAB_TRACEBACK")}
    return {**env, **extra}


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source") / "cnnlab"
    shutil.copytree(ROOT, source, ignore=SKIP)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                    str(source)], check=True, env=clean_env(), timeout=600)
    [built] = out.glob("cnnlab-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory):
    """(run, folder): run(*argv) runs the venv's cnnlab in an empty folder outside the tree."""
    home = tmp_path_factory.mktemp("user")
    env_dir = home / "venv"
    venv.create(env_dir, with_pip=True)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", str(wheel)],
                   check=True, env=clean_env(), timeout=900)
    work = home / "work"
    work.mkdir()

    def run(*argv, program="cnnlab", timeout=600):
        done = subprocess.run([str(bindir / program), *argv], cwd=work, capture_output=True,
                              text=True, env=clean_env(HOME=str(home)), timeout=timeout)
        assert "Traceback" not in done.stdout + done.stderr, done.stderr
        return done

    return run, work, bindir


def test_the_wheel_carries_every_lesson_and_the_licence(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    lessons = sorted(n.split("/")[-1] for n in names if n.startswith("cnnlab/lessons/")
                     and n.endswith(".ipynb"))
    assert lessons == LESSONS and len(lessons) == len(list(
        (ROOT / "lessons" / "_source").glob("[0-9][0-9]_*.py")))
    assert "cnnlab/lessons/README.md" in names
    assert not any("_source" in n for n in names)          # the lessons' sources stay home
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_the_wheel_metadata_licence_and_dependencies(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(meta_name).decode())
    assert meta["License-Expression"] == "MIT"
    requires = meta.get_all("Requires-Dist")
    assert not any(r.startswith("scipy") for r in requires)          # imported nowhere
    numba = next(r for r in requires if r.startswith("numba"))
    assert 'sys_platform != "emscripten"' in numba
    assert any(r.startswith("torch>=2.1") and 'extra == "torch"' in r for r in requires)
    # the tests' oracle is pinned (the public index's newer releases are CUDA builds)
    assert any(r.startswith("torch==2.13.0") and 'extra == "dev"' in r for r in requires)
    assert not any(r.startswith(("torch", "jupyterlab")) and "extra" not in r for r in requires)


def test_installed_cnnlab_is_the_wheels_not_the_repositorys(installed):
    run, work, bindir = installed
    done = run("-c", "import cnnlab, sys; print(cnnlab.__file__)", program="python")
    location = Path(done.stdout.strip())
    assert bindir.parent in location.parents and ROOT not in location.parents


def test_version(installed):
    import cnnlab
    run, _, _ = installed
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"cnnlab {cnnlab.__version__}"
    done = run("-m", "cnnlab", "--version", program="python")
    assert done.stdout.strip() == f"cnnlab {cnnlab.__version__}"


def test_train_then_summary_of_the_saved_network(installed):
    run, work, _ = installed
    done = run("train", "--epochs", "1", "-o", "model.cnnlab")
    assert done.returncode == 0, done.stderr
    assert f"Saved the trained network to {work / 'model.cnnlab'}" in done.stdout
    assert "Held-out accuracy" in done.stdout
    done = run("summary", "model.cnnlab")
    assert done.returncode == 0, done.stderr
    # LeNet-5 on 28x28x1: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 learnables
    assert "conv_1" in done.stdout and "61,706" in done.stdout


def test_lab_finds_every_lesson_inside_the_installed_package(installed):
    run, _, bindir = installed
    done = run("lab", "--list")
    assert done.returncode == 0
    header, *names = done.stdout.splitlines()
    assert header.startswith(f"{len(LESSONS)} lessons in ") and "site-packages" in header
    assert [n.strip() for n in names] == LESSONS
    # without the lab extra JupyterLab is missing: said in one line, before any copying
    done = run("lab", "--dir", "course")
    assert done.returncode == 1 and "JupyterLab is not installed" in done.stderr
    assert not (bindir.parent.parent / "work" / "course").exists()


def test_with_the_lab_extra_jupyterlab_is_there_and_lab_starts(installed, wheel):
    run, work, bindir = installed
    subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", f"{wheel}[lab]"],
                   check=True, env=clean_env(), timeout=900)
    done = run("lab", "--dir", "course", "--print-command", "--", "--allow-root")
    assert done.returncode == 0, done.stderr
    assert f"{bindir / 'python'} -m jupyterlab" in done.stdout
    assert done.stdout.rstrip().endswith("--allow-root")
    assert sorted(p.name for p in (work / "course").glob("*.ipynb")) == LESSONS
    done = run("-c", "import jupyterlab, ipywidgets, ipykernel", program="python")
    assert done.returncode == 0
