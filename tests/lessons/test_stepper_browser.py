"""Lesson 08's ForwardStepper in a real JupyterLab in Chromium: clicked, stepped, switched to
backward, with screenshots (folder CNNLAB_SCREENSHOTS) for a person to look at."""
from __future__ import annotations

import pytest

from tests.lessons.test_browser import ALL_RUN, ERRORS, KERNEL_READY, NOTEBOOKS, \
    screenshot_folder

pytestmark = pytest.mark.browser

# the stepper's view: the widget box whose text has the "step over layer" button
STEPPER = """() => {
  const boxes = [...document.querySelectorAll('.jupyter-widgets.widget-vbox')]
    .filter(b => b.innerText.includes('step over layer'));
  if (!boxes.length) return null;
  const b = boxes[0];
  const img = b.querySelector('img');
  const current = [...b.querySelectorAll('div')].find(d => d.style.border.startsWith('3px'));
  const html = [...b.querySelectorAll('.widget-html-content')].map(e => e.innerText);
  return {src: img ? img.src.length + ':' + img.src.slice(-40) : '',
          loaded: !!img && img.complete && img.naturalWidth > 0,
          current: current ? current.innerText.split('\\n')[0] : '',
          caption: html[html.length - 1] || ''};
}"""


def test_lesson8_stepper_steps_and_goes_backward_in_the_browser(jupyterlab, browser_context,
                                                                tmp_path_factory):
    url, token, _root = jupyterlab
    notebook = next(p for p in NOTEBOOKS if p.name.startswith("08"))
    shots = screenshot_folder(tmp_path_factory)
    page = browser_context.new_page()
    try:
        page.goto(f"{url}/lab/tree/{notebook.name}?reset&token={token}")
        page.wait_for_function(KERNEL_READY, timeout=120_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(ALL_RUN, timeout=300_000, polling=500)
        assert page.evaluate(ERRORS) == []
        box = page.locator(".jupyter-widgets.widget-vbox", has_text="step over layer").first
        box.scroll_into_view_if_needed()
        page.wait_for_function(f"() => {{ const s = ({STEPPER})(); return s && s.loaded; }}",
                               timeout=60_000)
        first = page.evaluate(STEPPER)
        assert first["current"] == "fc_1", first          # the lesson ran to fc_1
        assert "fc_1 step 1 of 10" in first["caption"], first
        box.screenshot(path=str(shots / "stepper-08-fc_1.png"))

        def click(text, until):
            box.locator("button", has_text=text).first.click()
            page.wait_for_function(
                f"() => {{ const s = ({STEPPER})(); return s && s.loaded && ({until})(s); }}",
                timeout=30_000)
            return page.evaluate(STEPPER)

        stepped = click("step ▶", "s => s.caption.includes('fc_1 step 2 of 10')")
        assert stepped["src"] != first["src"], "the picture changed"
        over = click("step over layer", "s => s.current === 'softmax'")
        assert "softmax step 1 of 10" in over["caption"] and "probability" in over["caption"]
        box.screenshot(path=str(shots / "stepper-08-softmax.png"))
        back = click("backward", "s => s.current === 'classoutput'")
        assert "classoutput step 1 of 10" in back["caption"] and "dL/dy" in back["caption"]
        box.screenshot(path=str(shots / "stepper-08-backward-loss.png"))
        over = click("step over layer", "s => s.current === 'softmax'")
        over = click("step over layer", "s => s.current === 'fc_1'")
        assert "dL/dx" in over["caption"], over
        box.screenshot(path=str(shots / "stepper-08-backward-fc_1.png"))
        # the keyboard: focus the pass slider's handle, then → steps one on
        box.locator(".noUi-handle").first.focus()
        page.keyboard.press("ArrowRight")
        keyed = page.wait_for_function(
            f"() => {{ const s = ({STEPPER})(); return s && s.caption.includes("
            "'fc_1 step 2 of'); }", timeout=30_000)
        assert keyed
        box.screenshot(path=str(shots / "stepper-08-keyboard.png"))
        text = page.inner_text("body")
        for bad in ("Error displaying widget", "model not found", "Not possible"):
            assert bad not in text
    finally:
        page.close()
