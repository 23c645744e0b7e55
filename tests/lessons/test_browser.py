"""Every lesson, run in a real JupyterLab in a real Chromium: widgets render, nothing fails.

Only a browser shows "Error displaying widget", "model not found" or a widget stuck on
"Loading widget..."; headless execution cannot. For each lesson: open it, wait until the
kernel is really connected, Run All, wait until every code cell has run, then assert no
error output, every widget view rendered with its images loaded, and save a screenshot
(folder CNNLAB_SCREENSHOTS, or a temporary folder) for a person to look at. For the lessons
with formulas: every formula that test_math.py finds in a markdown cell was typeset by
MathJax, with no MathJax error and no raw ``$`` left on the page. Lesson 09: the Stop button,
clicked in the page while the training cell runs, ends training early.

Lessons 11-14 stay open after their Run All and are then used as a learner uses them: every
picture a cell sent is on the page, loaded and not empty, with no raw ``$`` in any output
(11 and 13 show pictures and printed text only, no widgets); lesson 12's digit and ε sliders,
moved with the keyboard and typed into, redraw exactly the attack on that digit at that ε;
lesson 14's FileUpload, clicked and given a 0 the test draws with Pillow, reads what the
network reads from that file, a blank page gets its reason, and Stop ends a longer run whose
network the rest of the lesson then uses. The expected pictures and readings are computed in
the lesson's kernel by code the test sends there, outside the notebook's cells.
"""
from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import re
import time
from pathlib import Path

import pytest

from tests.lessons.conftest import LESSONS
from tests.lessons.test_math import LESSONS_WITH_MATH, formulas_of

pytestmark = pytest.mark.browser
NOTEBOOKS = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))

KERNEL_READY = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const s = w && w.sessionContext && w.sessionContext.session;
  return !!(s && s.kernel && s.kernel.status === 'idle'
            && s.kernel.connectionStatus === 'connected' && w.content
            && w.content.widgets.length > 0);
}"""
ALL_RUN = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const code = w.content.widgets.filter(c => c.model.type === 'code');
  const k = w.sessionContext.session.kernel;
  return k.status === 'idle' && code.every(c => c.model.executionCount !== null);
}"""
ERRORS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const out = [];
  w.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    for (const o of c.model.outputs.toJSON())
      if (o.output_type === 'error') out.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
  });
  return out;
}"""
BAD_TEXT = ("Error displaying widget", "model not found", "Loading widget...")


def screenshot_folder(tmp_path_factory) -> Path:
    folder = os.environ.get("CNNLAB_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.getbasetemp() / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_and_run_all(browser_context, url, token, notebook) -> "RunLesson":
    """Open a lesson in JupyterLab, wait until its kernel is really connected, Run All and
    wait until every code cell has run; page errors are collected from the start."""
    page = browser_context.new_page()
    lesson = RunLesson(notebook, page, [])
    page.on("pageerror", lambda e: lesson.page_errors.append(str(e)))
    try:
        page.goto(f"{url}/lab/tree/{notebook.name}?reset&token={token}")
        page.wait_for_function(KERNEL_READY, timeout=120_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(ALL_RUN, timeout=240_000, polling=500)
    except BaseException:
        page.close()
        raise
    return lesson


@dataclasses.dataclass
class RunLesson:
    """A lesson's page after Run All, and the page errors seen since it opened."""
    notebook: Path
    page: object
    page_errors: list


# lessons 11-14, run top to bottom by the test below, stay open for the tests further down
# that look at every picture and use their widgets as a learner does (in this module, so that
# no lesson runs twice and one JupyterLab serves them all)
LEARNER_LESSONS = ("11", "12", "13", "14")
_RUN_LESSONS: dict[str, RunLesson] = {}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_runs_in_jupyterlab_with_every_widget_rendered(notebook, jupyterlab,
                                                              browser_context,
                                                              tmp_path_factory):
    url, token, _root = jupyterlab
    source = notebook.read_text()
    uses_widgets = "cnnlab.widgets" in source or "ipywidgets" in source
    lesson = open_and_run_all(browser_context, url, token, notebook)
    page, keep = lesson.page, False
    try:
        errors = page.evaluate(ERRORS)
        assert errors == [], f"{notebook.name}: {errors}"
        if uses_widgets:
            page.wait_for_selector(".jupyter-widgets", timeout=60_000)
            # views render asynchronously after the kernel goes idle
            page.wait_for_function(
                "() => !document.body.innerText.includes('Loading widget...')",
                timeout=60_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jupyter-widgets img')]"
                ".every(i => i.complete && i.naturalWidth > 0)", timeout=60_000)
        text = page.inner_text("body")
        for bad in BAD_TEXT:
            assert bad not in text, f"{notebook.name}: '{bad}' on the page"
        if uses_widgets:
            views = page.locator(".jupyter-widgets.widget-box, .jupyter-widgets.widget-vbox")
            assert views.count() > 0, f"{notebook.name}: no widget box rendered"
            views.first.scroll_into_view_if_needed()
        shots = screenshot_folder(tmp_path_factory)
        page.screenshot(path=str(shots / f"{notebook.stem}.png"))
        # and each widget on its own (the notebook panel scrolls: a page shot shows one)
        outputs = page.locator(".jp-OutputArea-output > .jupyter-widgets")
        for i in range(min(outputs.count(), 6)):
            outputs.nth(i).scroll_into_view_if_needed()
            outputs.nth(i).screenshot(path=str(shots / f"{notebook.stem}-widget{i + 1}.png"))
        assert not [e for e in lesson.page_errors if "widget" in e.lower()], lesson.page_errors
        keep = notebook.name[:2] in LEARNER_LESSONS
        if keep:
            _RUN_LESSONS[notebook.name[:2]] = lesson
    finally:
        if not keep:
            page.close()


@pytest.fixture
def run_lesson(jupyterlab, browser_context):
    """number -> RunLesson: the page the test above left open after Run All, or (when that
    test was deselected or failed) the lesson opened and run here."""
    def get(number: str) -> RunLesson:
        lesson = _RUN_LESSONS.get(number)
        if lesson is None or lesson.page.is_closed():
            url, token, _root = jupyterlab
            notebook = next(p for p in NOTEBOOKS if p.name.startswith(number))
            lesson = _RUN_LESSONS[number] = open_and_run_all(browser_context, url, token,
                                                             notebook)
            assert lesson.page.evaluate(ERRORS) == []
        lesson.page.bring_to_front()
        return lesson
    return get


# ---- lessons 11-14 as a learner uses them ----------------------------------------------------

# code run in the lesson's kernel, outside the notebook (nothing is added to its cells): its
# printed text, or the error it raised
IN_KERNEL = """async (code) => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = k.requestExecute({code: code, silent: false, store_history: false});
  let out = '';
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type;
    if (t === 'stream') out += msg.content.text;
    if (t === 'error') out += `ERROR ${msg.content.ename}: ${msg.content.evalue}`;
  };
  await future.done;
  return out;
}"""
# the SHA-256 of the bytes an <img> shows (a widget Image's blob: URL, or a data: URL)
IMAGE_HASH = """async (img) => {
  const bytes = await (await fetch(img.src)).arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map(b => b.toString(16).padStart(2, '0')).join('');
}"""
# code cells and how many pictures (image/png outputs) each has in the notebook's model
CODE_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .map((c, i) => c.model.type !== 'code' ? null : {index: i, pictures: c.model.outputs.toJSON()
       .filter(o => o.data && o.data['image/png']).length})
  .filter(c => c !== null)"""
# what one code cell's output area shows: its pictures, MathJax errors, and the text a
# learner reads outside typeset math and code
OUTPUT_OF_CELL = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  const area = cell.node.querySelector('.jp-OutputArea');
  if (!area) return null;
  const imgs = [...area.querySelectorAll('[data-mime-type="image/png"] img')];
  const copy = area.cloneNode(true);
  copy.querySelectorAll('mjx-container, code, pre').forEach(e => e.remove());
  return {pictures: imgs.length, loaded: imgs.every(m => m.complete && m.naturalWidth > 0),
          mathErrors: area.querySelectorAll('mjx-merror, [data-mjx-error]').length,
          text: copy.textContent};
}"""


TAG_CELL = ("(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].node"
            ".setAttribute('data-cnnlab-cell', String(i))")


def in_kernel(page, code: str) -> str:
    """Run ``code`` in the lesson's kernel (after every message sent before it) and return
    what it printed."""
    out = page.evaluate(IN_KERNEL, code)
    assert "ERROR" not in out, f"kernel code failed: {out}\n{code}"
    return out.strip()


def kernel_until(page, code: str, wanted: str, timeout: float = 30.0) -> None:
    """Run ``code`` in the kernel until it prints ``wanted``: a widget's new value reaches the
    kernel a little after the page shows it (ipywidgets sends at most one update at a time)."""
    deadline = time.monotonic() + timeout
    while (out := in_kernel(page, code)) != wanted:
        assert time.monotonic() < deadline, f"the kernel says {out!r}, not {wanted!r}"
        time.sleep(0.2)


def image_hash(locator) -> str:
    return locator.evaluate(IMAGE_HASH)


def distinct_colours(png: bytes) -> int:
    """How many colours a picture has (a blank one has one or two)."""
    from PIL import Image
    colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 24)
    return len(colours)


def every_output_shown(lesson: RunLesson, shots: Path) -> int:
    """Scroll to every code cell: each picture the kernel sent is on the page, loaded and not
    blank, and no output shows a MathJax error or a raw $. A screenshot of each picture, for a
    person to look at (and the picture itself when the notebook panel cuts the screenshot
    short). Returns how many pictures there were."""
    from PIL import Image
    page, stem = lesson.page, lesson.notebook.stem
    shown = 0
    for cell in page.evaluate(CODE_CELLS):
        index, pictures = cell["index"], cell["pictures"]
        page.evaluate(SCROLL_TO_CELL, index)
        page.wait_for_function(
            f"() => {{ const s = ({OUTPUT_OF_CELL})({index}); "
            f"return s && s.pictures >= {pictures} && s.loaded; }}", timeout=30_000)
        seen = page.evaluate(OUTPUT_OF_CELL, index)
        assert seen["pictures"] == pictures, f"{stem} cell {index}: {seen}"
        assert seen["mathErrors"] == 0, f"{stem} cell {index}: MathJax error in its output"
        assert "$" not in seen["text"], f"{stem} cell {index}: raw $ in {seen['text']!r}"
        page.evaluate(TAG_CELL, index)
        for n in range(pictures):
            picture = page.locator(f"[data-cnnlab-cell='{index}'] "
                                   "[data-mime-type='image/png'] img").nth(n)
            name = f"{stem}-cell{index}-picture{n + 1}"
            sent = base64.b64decode(picture.get_attribute("src").split(",", 1)[1])
            assert distinct_colours(sent) >= 16, f"{stem} cell {index}: a blank picture"
            shot = picture.screenshot(path=str(shots / f"{name}.png"))
            if Image.open(io.BytesIO(shot)).height + 2 < picture.bounding_box()["height"]:
                (shots / f"{name}-whole.png").write_bytes(sent)
            shown += 1
    return shown


@pytest.mark.parametrize("number", LEARNER_LESSONS)
def test_new_lesson_shows_every_picture_and_no_raw_math_in_its_outputs(number, run_lesson,
                                                                       tmp_path_factory):
    lesson = run_lesson(number)
    shown = every_output_shown(lesson, screenshot_folder(tmp_path_factory))
    assert shown >= {"11": 8, "12": 5, "13": 1, "14": 5}[number], shown
    text = lesson.page.inner_text("body")
    for bad in BAD_TEXT:
        assert bad not in text, f"{lesson.notebook.name}: '{bad}' on the page"
    assert lesson.page.evaluate(ERRORS) == []


def expect(locator):
    """Playwright's assertions, which wait (up to 5 s) for the page to get there."""
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect(locator)


def slider(box, label: str):
    """The slider of a widget box whose description is ``label``."""
    return box.locator(".widget-slider").filter(
        has=box.page.locator(".widget-label", has_text=label))


def test_lesson12_digit_and_epsilon_sliders_redraw_the_attack(run_lesson, tmp_path_factory):
    page = run_lesson("12").page
    shots = screenshot_folder(tmp_path_factory)
    box = page.locator(".jupyter-widgets.widget-vbox").filter(
        has=page.locator(".widget-label", has_text="ε")).last
    box.scroll_into_view_if_needed()
    picture = box.locator("img").first
    digit, epsilon = slider(box, "digit"), slider(box, "ε")
    expect(digit.locator(".widget-readout")).to_have_text("3")
    expect(epsilon.locator(".widget-readout")).to_have_text("0.10")
    start = image_hash(picture)
    box.screenshot(path=str(shots / "12_what_the_network_sees-attack-digit3-eps0.10.png"))

    def shows(expected_digit, expected_eps):
        """The kernel holds what the sliders show, and the picture becomes the attack on
        exactly that digit at exactly that ε, drawn afresh here by the lesson's functions."""
        kernel_until(page, "print(digit.value, f'{eps_slider.value:.2f}')",
                     f"{expected_digit} {expected_eps:.2f}")
        # on a copy of the network: the slider's callback may still be drawing, in a
        # subshell thread, and one network's layer caches serve one pass at a time
        expected = in_kernel(page, (
            "import hashlib as _h\n"
            "_a = explain.fgsm(net.astype(net.dtype), x_val[digit.value], y_val[digit.value], "
            "eps_slider.value)\n"
            "print(_h.sha256(png_bytes(pictures.adversarial_figure(_a))).hexdigest())"))
        page.wait_for_function(f"async () => ({IMAGE_HASH})(document.querySelector("
                               f"'[data-cnnlab-attack] img')) === '{expected}'",
                               timeout=30_000, polling=200)
        return expected

    box.evaluate("b => b.setAttribute('data-cnnlab-attack', '1')")
    # ε with the keyboard: the handle focused, five presses of → (steps of 0.01)
    epsilon.locator(".noUi-handle").focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => [...document.querySelectorAll('[data-cnnlab-attack] "
                           ".widget-readout')].some(r => r.innerText === '0.15')",
                           timeout=30_000)
    at_015 = shows(3, 0.15)
    assert at_015 != start, "the picture did not change with ε"
    # the digit typed into the slider's readout, as a learner jumps to one digit
    readout = digit.locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    assert shows(7, 0.15) not in (start, at_015), "the picture did not change with the digit"
    box.screenshot(path=str(shots / "12_what_the_network_sees-attack-digit7-eps0.15.png"))
    # ε back to 0: nothing is perturbed
    epsilon.locator(".noUi-handle").focus()
    page.keyboard.press("Home")
    shows(7, 0.0)
    box.screenshot(path=str(shots / "12_what_the_network_sees-attack-digit7-eps0.png"))
    assert page.evaluate(ERRORS) == []


def draw_digit_png(path: Path, digit: str) -> Path:
    """A learner's picture: dark blue ink on cream paper, larger than MNIST and off centre,
    a "0" as an ellipse, or blank paper for ``digit == "blank"``."""
    from PIL import Image, ImageDraw
    paper = Image.new("RGB", (300, 360), (235, 230, 215))
    if digit == "0":
        ImageDraw.Draw(paper).ellipse([90, 60, 250, 320], outline=(20, 30, 90), width=22)
    paper.save(path)
    return path


def test_lesson14_upload_your_digit_and_stop_training(run_lesson, tmp_path_factory):
    page = run_lesson("14").page
    shots = screenshot_folder(tmp_path_factory)
    work = tmp_path_factory.mktemp("uploads")
    # after Run All: the monitor trained to the end, and the upload box reads the drawn 7
    state = page.evaluate(MONITOR_STATE)
    assert state["iteration"] == state["total"] == 180, state
    assert "(stopped: max-epochs)" in state["readout"], state
    box = page.locator(".jupyter-widgets.widget-vbox").filter(
        has=page.locator(".widget-upload")).last
    box.scroll_into_view_if_needed()
    box.evaluate("b => b.setAttribute('data-cnnlab-upload', '1')")
    status, picture = box.locator(".widget-html-content"), box.locator("img").first
    expect(status).to_have_text(re.compile(r"^the 7 drawn with Pillow \(nothing uploaded\): "
                                           r"read as 7 with probability [01]\.\d\d$"))
    drawn = image_hash(picture)
    box.screenshot(path=str(shots / "14_capstone-upload-before.png"))

    def upload(path: Path) -> str:
        with page.expect_file_chooser() as chooser:      # the learner clicks the button
            box.locator("button.widget-upload, .widget-upload button").first.click()
        chooser.value.set_files(str(path))
        page.wait_for_function(
            "() => document.querySelector('[data-cnnlab-upload] .widget-html-content')"
            f".innerText.startsWith({json.dumps(path.name)})", timeout=30_000)
        return status.inner_text()

    # a 0 of the test's own: the status is what the network reads from that very file,
    # prepared here independently of the widget's callback
    zero = draw_digit_png(work / "my_zero.png", "0")
    said = upload(zero)
    oracle = in_kernel(page, (
        "from PIL import Image as _Image\n"
        f"_p = net.predict((prepare_digit(_Image.open({str(zero)!r})) / 255)[None])[0]\n"
        "import hashlib as _h\n"
        "print(int(_p.argmax()), f'{_p.max():.2f}', _h.sha256(bytes(shown.value)).hexdigest())"))
    label, probability, widget_png = oracle.split()
    assert said == f"my_zero.png: read as {label} with probability {probability}", said
    assert label == "0", f"the network reads the uploaded 0 as {label}"
    page.wait_for_function(f"async () => ({IMAGE_HASH})(document.querySelector("
                           f"'[data-cnnlab-upload] img')) === '{widget_png}'", timeout=30_000)
    assert widget_png != drawn, "the picture did not change with the upload"
    box.screenshot(path=str(shots / "14_capstone-upload-zero.png"))
    # blank paper: the status says why, and the last picture stays
    said = upload(draw_digit_png(work / "blank.png", "blank"))
    assert said.startswith("blank.png: prepare_digit: no digit found: the image is blank"), said
    assert image_hash(picture) == widget_png
    box.screenshot(path=str(shots / "14_capstone-upload-blank.png"))

    # Stop: the learner trains longer (40 epochs instead of 3, the cell edited) and stops it
    cells = "window.jupyterapp.shell.currentWidget.content"
    index = page.evaluate(f"() => {cells}.widgets.findIndex(c => c.model.sharedModel"
                          ".getSource().includes('await monitor.run('))")
    page.evaluate(f"""(i) => {{
        const m = {cells}.widgets[i].model.sharedModel;
        m.setSource(m.getSource().replace('max_epochs=3,', 'max_epochs=40,'));
        {cells}.activeCellIndex = i;
        window.jupyterapp.commands.execute('notebook:run-cell');
    }}""", index)
    page.wait_for_function(f"() => {{ const s = ({MONITOR_STATE})(); "
                           "return s && s.total === 2400 && s.iteration >= 2; }",
                           timeout=120_000, polling=50)
    monitor = page.locator(".jupyter-widgets.widget-vbox").filter(
        has=page.locator("button", has_text="Stop")).first
    monitor.locator("button", has_text="Stop").click()
    page.wait_for_function(f"() => ({MONITOR_STATE})().printed.includes('stopped:')",
                           timeout=120_000, polling=100)
    state = page.evaluate(MONITOR_STATE)
    monitor.screenshot(path=str(shots / "14_capstone-stopped.png"))
    assert "stopped: interrupted;" in state["printed"], state
    stopped_at = int(state["printed"].split("stopped: interrupted; ")[1].split()[0])
    assert 2 <= stopped_at < 2400, state
    assert (f"stopped by user (the Stop button) after iteration {stopped_at} of 2400"
            in state["readout"]), state
    assert monitor.locator("button", has_text="Stop").is_disabled()
    # the rest of the lesson runs again on the network as far as it got
    last = page.evaluate(f"() => {cells}.widgets.filter(c => c.model.type === 'code')"
                         ".pop().model.executionCount")
    page.evaluate(f"""(i) => {{ {cells}.activeCellIndex = i;
        window.jupyterapp.commands.execute('notebook:run-all-below'); }}""", index + 1)
    page.wait_for_function(f"() => {cells}.widgets.filter(c => c.model.type === 'code')"
                           f".pop().model.executionCount > {last} && ({ALL_RUN})()",
                           timeout=240_000, polling=500)
    assert page.evaluate(ERRORS) == []
    # and the upload box, made afresh by its cell, reads the drawn 7 with that network
    upload_cell = page.evaluate(f"() => {cells}.widgets.findIndex(c => c.model.sharedModel"
                                ".getSource().includes('widgets.FileUpload('))")
    page.evaluate(SCROLL_TO_CELL, upload_cell)
    page.wait_for_function(
        f"(i) => /^the 7 drawn with Pillow \\(nothing uploaded\\): read as \\d with "
        f"probability [01]\\.\\d\\d$/.test(({cells}.widgets[i].node.querySelector("
        "'.widget-html-content') || {}).innerText)", arg=upload_cell, timeout=30_000)


def test_lessons_are_committed_without_outputs():
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [] and cell.get("execution_count") is None, \
                    f"{path.name} has outputs: strip them before committing"
        assert "widgets" not in nb.get("metadata", {}), f"{path.name} keeps widget state"


# one markdown cell, brought into view (the notebook renders only the cells near the viewport):
# how many formulas MathJax typeset, how many MathJax errors, and the text left outside math
# and code (a raw $ there is a formula that did not render)
SCROLL_TO_CELL = """async (i) => {
  const w = window.jupyterapp.shell.currentWidget;
  if (w.content.scrollToItem) await w.content.scrollToItem(i, 'center');
  w.content.widgets[i].node.scrollIntoView({block: 'center'});
}"""
MATH_OF_CELL = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  const out = cell.node.querySelector('.jp-RenderedMarkdown');
  if (!out) return {typeset: 0, errors: 0, raw: '(not rendered yet)'};
  const copy = out.cloneNode(true);
  copy.querySelectorAll('mjx-container, code, pre').forEach(e => e.remove());
  return {typeset: out.querySelectorAll('mjx-container').length,
          errors: out.querySelectorAll('mjx-merror, [data-mjx-error]').length,
          raw: copy.textContent};
}"""
MATH_NOTEBOOKS = [p for p in NOTEBOOKS if p.name[:2] in LESSONS_WITH_MATH]


@pytest.mark.parametrize("notebook", MATH_NOTEBOOKS, ids=[p.stem for p in MATH_NOTEBOOKS])
def test_every_formula_renders_in_jupyterlab(notebook, jupyterlab, browser_context,
                                             tmp_path_factory):
    url, token, _root = jupyterlab
    formulas = dict(formulas_of(notebook))
    assert formulas, f"{notebook.name} has no formulas to check"
    markdown = [i for i, c in enumerate(json.loads(notebook.read_text())["cells"])
                if c["cell_type"] == "markdown"]
    page = browser_context.new_page()
    try:
        page.goto(f"{url}/lab/tree/{notebook.name}?reset&token={token}")
        page.wait_for_function(KERNEL_READY, timeout=120_000)
        for index in markdown:         # every cell: damaged math shows up in any of them
            count = formulas.get(index, 0)
            # typesetting is asynchronous: wait until this cell shows all its formulas
            page.evaluate(SCROLL_TO_CELL, index)
            page.wait_for_function(
                f"() => {{ const s = ({MATH_OF_CELL})({index}); "
                f"return s.raw !== '(not rendered yet)' && s.typeset >= {count}; }}",
                timeout=30_000, polling=250)
            seen = page.evaluate(MATH_OF_CELL, index)
            assert seen["typeset"] == count, f"{notebook.name} cell {index}: {seen}"
            assert seen["errors"] == 0, f"{notebook.name} cell {index}: MathJax error {seen}"
            assert "$" not in seen["raw"], \
                f"{notebook.name} cell {index}: raw $ left on the page: {seen['raw']!r}"
            assert "\\" not in seen["raw"], \
                f"{notebook.name} cell {index}: LaTeX shown as text: {seen['raw']!r}"
            if count:                  # a picture of each cell with formulas, for a person
                page.evaluate("(i) => window.jupyterapp.shell.currentWidget.content"
                              ".widgets[i].node.setAttribute('data-cnnlab-cell', String(i))",
                              index)
                page.locator(f"[data-cnnlab-cell='{index}']").screenshot(
                    path=str(screenshot_folder(tmp_path_factory)
                             / f"{notebook.stem}-math-cell{index}.png"))
    finally:
        page.close()


# lesson 09's training monitor: the iteration its readout shows, and the readout text
MONITOR_STATE = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cell = w.content.widgets.find(c => c.model.type === 'code'
                                      && c.model.sharedModel.getSource().includes('monitor.run('));
  if (!cell) return null;
  const html = [...cell.node.querySelectorAll('.widget-html-content')]
                 .map(e => e.textContent).join(' ');
  const m = html.match(/iteration (\\d+) of (\\d+)/);
  const printed = cell.model.outputs.toJSON().filter(o => o.output_type === 'stream')
                    .map(o => o.text).join('');
  return {iteration: m ? +m[1] : 0, total: m ? +m[2] : 0, readout: html, printed: printed};
}"""


def test_lesson9_stop_button_ends_training_early(jupyterlab_without_numba, browser_context,
                                                 tmp_path_factory):
    # On the fused fast kernels the lesson's 80 iterations take under a second, less than a
    # click needs to arrive; on the reference kernels (what JupyterLite runs: no numba) they
    # take about 15 s, and that is where Stop must work. The code path of the button (the
    # training thread, the awaiting cell, the kernel hearing the click) is the same on both.
    url, token, _root = jupyterlab_without_numba
    notebook = next(p for p in NOTEBOOKS if p.name.startswith("09"))
    page = browser_context.new_page()
    try:
        page.goto(f"{url}/lab/tree/{notebook.name}?reset&token={token}")
        page.wait_for_function(KERNEL_READY, timeout=120_000)
        # not awaited: the command's promise settles only when every cell has run
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        # training has begun: the monitor's readout counts iterations
        page.wait_for_function(f"() => {{ const s = ({MONITOR_STATE})(); "
                               "return s && s.iteration >= 2; }", timeout=240_000, polling=50)
        stop = page.locator(".jupyter-widgets button", has_text="Stop")
        stop.scroll_into_view_if_needed()
        stop.click()
        page.wait_for_function(f"() => ({MONITOR_STATE})().printed.includes('stopped:')",
                               timeout=120_000, polling=100)
        state = page.evaluate(MONITOR_STATE)
        shots = screenshot_folder(tmp_path_factory)
        page.locator(".jupyter-widgets.widget-vbox").first.screenshot(
            path=str(shots / "09_training_lenet5-stopped.png"))
        assert "stopped: interrupted;" in state["printed"], state
        stopped_at = int(state["printed"].split("stopped: interrupted; ")[1].split()[0])
        assert 2 <= stopped_at < state["total"] == 80, state
        assert (f"stopped by user (the Stop button) after iteration {stopped_at} of 80"
                in state["readout"]), state
        # the rest of the lesson runs on the network as far as it got
        page.wait_for_function(ALL_RUN, timeout=240_000, polling=500)
        assert page.evaluate(ERRORS) == []
    finally:
        page.close()
