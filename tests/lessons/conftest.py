"""A real JupyterLab on loopback, isolated from the user's configuration, for browser tests.

Recipe measured in the project's testing notes: fresh config/runtime/workspace/IPython
folders, a token, no announcements, no update checks; Playwright drives Debian's Chromium
(never ``playwright install``). With CNNLAB_REQUIRE_BROWSER=1 (set by .ci/run) a missing
browser fails the run instead of skipping.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LESSONS = Path(os.environ.get("CNNLAB_LESSONS_DIR")
               or Path(__file__).resolve().parents[2] / "lessons")


def require_browser():
    """Skip (locally) or fail (CI) when Playwright or Chromium is missing."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package")
    if not os.path.exists(CHROMIUM):
        missing.append("Chromium (apt-get install -y chromium)")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get("CNNLAB_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """(base url, token, root folder): a JupyterLab server serving a copy of the lessons."""
    yield from _jupyterlab(tmp_path_factory, {})


@pytest.fixture(scope="module")
def jupyterlab_without_numba(tmp_path_factory):
    """The same, with kernels that cannot import numba (as in JupyterLite/Pyodide): the
    lessons run on the reference kernels (tests/lessons/without_numba/sitecustomize.py)."""
    blocker = Path(__file__).resolve().parent / "without_numba"
    path = os.pathsep.join(p for p in (str(blocker), os.environ.get("PYTHONPATH")) if p)
    yield from _jupyterlab(tmp_path_factory, {"PYTHONPATH": path, "CNNLAB_BLOCK_NUMBA": "1"})


def _jupyterlab(tmp_path_factory, extra_env):
    require_browser()
    base = tmp_path_factory.mktemp("jupyter")
    root = base / "root"
    shutil.copytree(LESSONS, root, ignore=shutil.ignore_patterns(".*", "_*"))
    env = dict(os.environ)
    for var, name in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                      ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")):
        (base / name).mkdir()
        env[var] = str(base / name)
    labconfig = base / "config" / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    env["MPLBACKEND"] = "Agg"
    env.update(extra_env)
    port, token = _free_port(), secrets.token_hex(16)
    log = open(base / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.token={token}", "--allow-root", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.expose_app_in_browser=True"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n"
                                       + (base / "server.log").read_text()[-3000:])
                time.sleep(0.3)
        yield url, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory, jupyterlab):
    # module scope: Playwright's sync API runs an asyncio loop on this thread while it is
    # open; closing it after the browser tests keeps that loop away from every other test
    from playwright.sync_api import sync_playwright
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True,
            viewport={"width": 1400, "height": 1000},
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        try:
            yield context
        finally:
            context.close()
