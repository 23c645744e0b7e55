"""Every lesson notebook, executed headless top to bottom in a fresh kernel (nbclient).

Each lesson runs once with some exercise answers filled in (hand-computed here, independently
of cnnlab) and the others left as the learner finds them (``None``), so both the "Right!" and
the "fill in your answer" paths of the check cells run. Asserted: no error output, the key
numbers each lesson teaches appear in its printed output, every widget displayed has its
state saved in the notebook (``store_widget_state=True``). How long a lesson takes is not
asserted here (that depends on the machine; ``cnnlab bench`` measures speed). Lesson 09's
training cell runs twice, as a learner who runs it again does: the second run must start from
fresh weights, not continue the first. A separate test checks that the committed notebooks
(and the teacher's editions) are exactly what ``lessons/_source/build.py`` makes of their
sources, with no outputs.
"""
from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "lessons"
NOTEBOOKS = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# p2 of softmax([2, 1, 0.1]) by hand: e^0.1 / (e^2 + e^1 + e^0.1)
_P2 = math.exp(0.1) / (math.exp(2) + math.exp(1) + math.exp(0.1))

# Per lesson: answers typed into the exercise cells (others stay None), and strings that must
# appear in the printed output (the numbers the lesson is about). Answers are worked out by
# hand from the reference documents' examples and the formulas, not by calling cnnlab.
LESSON_FACTS = {
    "01": {"answers": {"answer_2": "19", "answer_3": "26"},            # answer_1 left None
           "wrong": {},
           "expect": ["[[12. 12. 17.]", "[10. 17. 19.]", "[ 9.  6. 14.]]",
                      "0·3 + 1·3 + 2·2 + 2·0 + 2·0 + 0·1 + 0·3 + 1·1 + 2·2 + bias 0 = 12",
                      "output size: (26, 26)", "true convolution"]},
    "02": {"answers": {"answer_1": "9", "answer_2": "(7, 7)"},
           "wrong": {"answer_3": "4"},                                 # 7, 3, stride 2 -> 3
           "expect": ["value: 16  quotient: 15.5  unfloored: 16.5",
                      "[[9 8 7 8 9 8 7]",                                # exclude-edge mirror
                      "[[5 4 4 5 6 6 5]", "[[1 1 1 2 3 3 3]",
                      "padding = 'same': pads (top, bottom, left, right) = (0, 1, 0, 1)",
                      "floor(15.5) + 1 = 16"]},
    "03": {"answers": {"answer_1": "9", "answer_2": "7"},
           "wrong": {},
           "expect": ["effective filter shape: (9, 9)", "(3 - 1)·4 + 1",
                      "rows 7..14 and columns 7..14", "size=8, jump=2, start=-3"]},
    "04": {"answers": {"answer_1": "608", "answer_2": "203840", "answer_3": "392200",
                       "answer_4": "320"},
           "wrong": {},
           "expect": ["(5·5·3 + 1)·8 = 76·8 = 608", "16·16·8 = 2,048", "203,840",
                      "392,200", "1,961", "weights (200, 1960)",
                      "groups=16: weights (3, 3, 1, 16),   160 parameters"]},
    "05": {"answers": {"answer_1": "7.25", "answer_2": "6"},
           # the copied 1998 stack with a wrong fix (padding 2 on conv_2: 12, 6, then 2×2)
           "wrong": {"answer_3": "copied[:4] + [cl.Convolution2D(5, 16, padding=2)] + copied[5:]"},
           "expect": ["max(1, 3, 4, 6) = 6", "max(-inf, -inf, -inf, 1) = 1",
                      "(0 + 0 + 0 + 1) / 4 = ", "= 0.25   ← 1/4, the three padding zeros",
                      "floor(4 / 2) + 1 = 2 + 1 = 3",
                      "Convolution2D layer 'conv_3': filter_size = (5, 5)",
                      "larger than the padded input 4x4",
                      "Not yet: you wrote ((28, 28, 1), (2, 2, 120)). Hint: the input must stay"]},
    "06": {"answers": {"answer_1": "-0.25", "answer_2": "32"},
           "wrong": {},
           # 3 / (2 + (4 + 9 + 16)/3)^0.75 = 0.47524 by hand
           "expect": ["by hand, channel 2: 0.4752", "0.4752", "(≈ 0)",
                      "channels in each window: [(0, 1), (0, 2), (1, 3), (2, 4), (3, 4)]"]},
    "07": {"answers": {"answer_1": "1.25", "answer_2": "1000"},
           "wrong": {},
           "expect": ["multiplied by 1/(1 - p) = 2", "equal to the input: True",
                      "prediction mode: dropout is the identity"]},
    "08": {"answers": {"answer_1": f"{-math.log(_P2):.3f}", "answer_2": "62730"},
           "wrong": {},
           "expect": [f"−ln p0 = {-math.log(math.exp(2) / (math.exp(2) + math.exp(1) + math.exp(0.1))):.4f}",
                      "probabilities: [0.659  0.2424 0.0986]", "fc_1 neuron 0: 6,272 products"]},
    "09": {"answers": {"answer_1": "61706"},        # 156 + 2,416 + 48,120 + 10,164 + 850
           "wrong": {},                            # answer_2 depends on training: left None
           "expect": ["stopped: max-epochs", "validation accuracy:", "confusion matrix"]},
    # answer_2 as the lesson teaches it: add up the nine dL/dy values as printed (4 decimals)
    "10": {"answers": {"answer_1": "14",             # (7 - 1)·2 + 4 - 1 - 1
                       "answer_2": "float(np.round(conv.output_gradient[:, :, 0], 4).sum())"},
           "by_chance": {"answer_1": "section 1's 5×5 output holds the value 14"},
           "wrong": {},
           "expect": ["same as the layer: True", "matches: True",
                      "sum of window contributions equals dL/dx: True",
                      "sum of window contributions equals dL/dw: True",
                      "9·1 + 8·0 + 7·2 + 6·0 + 5·0 + 4·0 + 3·3 + 2·0 + 1·4 + bias 0 = 36"]},
    "12": {"answers": {"answer_1": "144",            # ((28 - 6)/2 + 1)² = 12²
                       "answer_2": "196"},           # rows 2r-2..2r+11: 14, squared
           "wrong": {"answer_3": "7.84"},            # 784·0.1 = 78.4, not 7.84
           "expect": ["the trace's dL/dx equals saliency(target='loss').gradient: True",
                      "the same as predicting that image directly: True",
                      "flipped: True", "largest change of a pixel: 0.100",
                      "epsilon 0.00: accuracy", "Hint: every pixel moves by at most ε"]},
    "13": {"answers": {"answer_1": "2712960",        # (784 + 1)·24·24·6
                       "answer_2": "16",             # all 16 sampled cells are 1 after the shift
                       "answer_3": "7840",           # 10·28·28 output positions
                       "answer_5": "1.0"},           # d(x + F(x))/dx with F's weights zero
           "by_chance": {"answer_2": "the goals name VGG-16"},
           "wrong": {"answer_4": "12288"},           # 192·64 forgets the 64 biases: 12,352
           "expect": ["(5·5·1 + 1)·6 = 26·6 = 156",
                      "stride 1: map of the shifted digit equals the shifted map: True",
                      "stride 2, input shifted by 1: shifted map? False",
                      "stride 2, input shifted by 2: shifted map? True",
                      "cols · w = [[12. 12. 17.]", "same result: True",
                      "same as a fully connected layer at each pixel: True",
                      "(4 - 1)·2 + 3 - 1 - 1 = 3·2 + 3 - 2 = 7",
                      "dL/dx equals the transposed convolution of dL/dy: True",
                      "61,100,840", "714,188,480", "138,357,544", "15,470,264,320",
                      "195 (dropout_1)", "212 (maxpool_5)",
                      "conv_1: output height 55.25 is not a whole number, floored to 55.",
                      "Hint: C·F weights",
                      "11,689,512", "1,814,073,344", "435 (layer4_2_relu)",
                      "plain                  13 convolutions, 11,018 parameters",
                      "times larger with skip connections",
                      "Right! every element of dL/dx is 1: the skip path"]},
}
# lesson 14 (kept apart from the table above so parallel lessons merge cleanly): answer_1 is
# a design of (3·3·1 + 1)·4 = 40 and 10·(7·7·4) + 10 = 1,970 parameters, 2,010 in all
LESSON_FACTS["14"] = {
    "answers": {"answer_1": "[cl.ImageInput((28, 28, 1)), cl.Convolution2D(3, 4, padding=1), "
                            "cl.ReLU(), cl.MaxPooling2D(4, stride=4), cl.FullyConnected(10), "
                            "cl.Softmax(), cl.Classification()]",
                "answer_4": "8"},                  # 3 + 1 + (3 - 1)·2: the pooling adds a row
    "wrong": {"answer_2": "7840"},                 # 10·784 forgets the 10 biases: 7,850
    "expect": ["Right! 2,010 learnable parameters, within the budget of 10,000.",
               "training your design", "total learnable parameters 61,706",
               "Hint: one weight from every one of the 7·7·16 inputs", "stopped: max-epochs",
               "held-out accuracy", "read as 7", "its field: rows "]}
# lesson 09: after its training cell, keep the first run's losses, run the cell again, compare
TRAINING_CELL = "await monitor.run("
RERUN_CHECK = ("print('the second run started from fresh weights:', "
               "np.array_equal(first_run_loss, info.loss))")

# lesson 11 (training and generalization), kept apart from the table above so that lessons
# added in parallel merge cleanly
LESSON_FACTS["11"] = {
    "answers": {"answer_2": "0.002",                 # 0.05 · 0.2^2: epochs 5-6 follow 2 drops
                "answer_3": "500"},                  # 100 / 10 = 10 steps per epoch, · 50 epochs
    "wrong": {"answer_1": "0.001"},                  # the slowest rate still moves: see the hint
    "expect": ["best of the four after 40 steps: η =", "rates used [0.1  0.01]",
               "training accuracy (the 100 digits it learned): 100.0%", "generalization gap:",
               "highest validation accuracy:", "Hint: run the sweep and read each panel",
               "without batch norm loss", "with batch norm    loss"]}


def load_builder():
    spec = importlib.util.spec_from_file_location("lesson_build", LESSONS / "_source" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill_answers(nb, answers: dict) -> int:
    """Replace ``answer_k = None`` lines by the given answers; return how many exercises."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for name, value in answers.items():
            cell.source, n = re.subn(rf"^{name} = None\b", f"{name} = {value}", cell.source,
                                     flags=re.M)
            assert n <= 1
        count += len(re.findall(r"^answer_\d+ = ", cell.source, flags=re.M))
    return count


def run_training_twice(nb) -> None:
    """Insert, after lesson 09's training cell, a second run of that same cell and a check."""
    index = next(i for i, c in enumerate(nb.cells) if TRAINING_CELL in c.source)
    again = [nbformat.v4.new_code_cell("first_run_loss = info.loss.copy()"),
             nbformat.v4.new_code_cell(nb.cells[index].source),
             nbformat.v4.new_code_cell(RERUN_CHECK)]
    nb.cells[index + 1:index + 1] = again


def printed(nb) -> str:
    """All stream and text/plain output of the executed notebook, in order.

    Consecutive stream outputs of a cell are one text: the kernel flushes its output on a
    timer, so on a busy machine one print() can arrive as two stream messages, split
    anywhere (a check that looked for a printed line then failed by chance)."""
    parts = []
    for cell in nb.cells:
        stream = None
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                if stream is not None and stream[0] == out.name:
                    parts[-1] += out.text
                else:
                    parts.append(out.text)
                stream = (out.name,)
            else:
                stream = None
                if "data" in out:
                    parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Lesson number -> (executed notebook, exercises); each lesson run once."""
    cache = {}

    def run(path: Path):
        key = path.name[:2]
        if key not in cache:
            facts = LESSON_FACTS[key]
            nb = nbformat.read(path, as_version=4)
            exercises = fill_answers(nb, {**facts["answers"], **facts["wrong"]})
            if key == "09":
                run_training_twice(nb)
            work = tmp_path_factory.mktemp(f"lesson{key}")
            NotebookClient(nb, kernel_name="python3", store_widget_state=True, timeout=600,
                           resources={"metadata": {"path": str(work)}}).execute()
            cache[key] = (nb, exercises)
        return cache[key]

    return run


def test_there_are_at_least_nine_numbered_lessons_with_facts():
    assert len(NOTEBOOKS) >= 9
    assert sorted(p.name[:2] for p in NOTEBOOKS) == sorted(LESSON_FACTS)


def test_committed_notebooks_are_built_from_their_sources_without_outputs():
    # every edition: the learner's notebook, nbgrader's source notebook, the teacher's edition
    builder = load_builder()
    sources = builder.sources()
    assert [s.stem for s in sources] == [p.stem for p in NOTEBOOKS]
    for src in sources:
        outputs = builder.outputs_of(src)
        assert LESSONS / f"{src.stem}.ipynb" in outputs
        for target, text in outputs.items():
            assert target.exists() and target.read_text(encoding="utf-8") == text, \
                f"{target} differs from {src.name}: run python lessons/_source/build.py"
            if target.suffix != ".ipynb":
                continue
            nb = nbformat.read(target, as_version=4)
            nbformat.validate(nb)
            for cell in nb.cells:
                if cell.cell_type == "code":
                    assert cell.outputs == [] and cell.execution_count is None
            assert "widgets" not in nb.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_runs_top_to_bottom(path, executed):
    nb, exercises = executed(path)
    facts = LESSON_FACTS[path.name[:2]]
    errors = [out for cell in nb.cells for out in cell.get("outputs", [])
              if out.output_type == "error"]
    assert errors == []
    text = printed(nb)
    missing = [s for s in facts["expect"] if s not in text]
    assert missing == [], f"{path.name}: expected output not found: {missing}"
    # every exercise has a check cell that answered: right, wrong, or "fill in"
    right, wrong = len(facts["answers"]), len(facts["wrong"])
    assert text.count("Right! ") == right
    assert text.count("Not yet: you wrote") == wrong
    assert text.count("Fill in your answer") == exercises - right - wrong
    assert exercises >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_widgets_have_saved_state(path, executed):
    nb, _exercises = executed(path)
    views = [out.data[WIDGET_VIEW]["model_id"] for cell in nb.cells
             for out in cell.get("outputs", []) if WIDGET_VIEW in out.get("data", {})]
    source = path.read_text(encoding="utf-8")
    uses_widgets = "cnnlab.widgets" in source or "ipywidgets" in source
    assert bool(views) == uses_widgets
    if not views:
        return
    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    for model_id in views:
        assert model_id in state, f"{path.name}: widget {model_id} displayed but not saved"
        assert state[model_id]["model_name"].endswith("Model")
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    assert images, f"{path.name}: no picture in its widgets"


def numbers_in(text: str) -> list[float]:
    """Every number written in a text: 1,960 and 203,840 with their commas, −0.25 with a
    typographic minus, 7.25, 19."""
    text = text.replace("\u2212", "-")
    found = re.findall(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d])"
                       r"|(?<![\w.,])-?\d+(?:\.\d+)?", text)
    return [float(s.replace(",", "")) for s in found]


def string_literals(source: str) -> str:
    """The text a code cell types in (its string literals and f-string text), not what it
    computes."""
    import ast
    tree = compile(source, "<cell>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    return "\n".join(node.value for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str))


def distinctive(value: float) -> bool:
    """Small whole numbers (0..9) appear everywhere by chance; other answers do not."""
    return not (value == int(value) and 0 <= value <= 9)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_exercises_ask_before_they_show(path, executed):
    # nothing printed above an exercise, nor the lesson's text above it, nor the text typed in
    # its check cell gives its answer away: it may appear only once the learner ran the check.
    # Output is searched from the start of the exercise's section (its "## " heading), where
    # the answers were printed; further up numbers recur by chance (a 19 in a pixel printout
    # is not lesson 1's answer 19). A small whole number (0..9) is looked for only in the
    # exercise's own text and check cell.
    nb, _exercises = executed(path)
    checked = 0
    for name, value in LESSON_FACTS[path.name[:2]]["answers"].items():
        try:
            answer = float(eval(value, {"math": math}))
        except (NameError, TypeError, SyntaxError):
            continue                                   # an expression or a tuple
        index = next(i for i, c in enumerate(nb.cells)
                     if c.cell_type == "code" and re.match(rf"{name} = ", c.source))
        check_cell = next(c for c in nb.cells[index + 1:] if c.cell_type == "code")
        shown = {"the check cell's typed text": string_literals(check_cell.source),
                 "the exercise's text": nb.cells[index - 1].source}
        if distinctive(answer) and name not in LESSON_FACTS[path.name[:2]].get("by_chance", {}):
            section = max([i for i, c in enumerate(nb.cells[:index]) if c.cell_type == "markdown"
                           and re.match(r"#+ ", c.source)], default=0)
            shown["the output above it in its section"] = printed(
                nbformat.v4.new_notebook(cells=nb.cells[section:index]))
            shown["the lesson's text above it"] = "\n".join(
                c.source for c in nb.cells[:index] if c.cell_type == "markdown")
        for where, text in shown.items():
            leaked = [n for n in numbers_in(text)
                      if math.isclose(abs(n), abs(answer), rel_tol=1e-3)]
            assert leaked == [], (f"{path.name}: the answer to {name} ({answer:g}) is in "
                                  f"{where}: {text[:400]!r}")
        checked += 1
    assert checked >= 1


def test_lesson9_training_cell_run_again_starts_from_fresh_weights(executed):
    path = next(p for p in NOTEBOOKS if p.name.startswith("09"))
    text = printed(executed(path)[0])
    assert "the second run started from fresh weights: True" in text
    assert text.count("stopped: max-epochs") == 2


def test_lesson9_trains_to_a_useful_accuracy(executed):
    path = next(p for p in NOTEBOOKS if p.name.startswith("09"))
    nb, _exercises = executed(path)
    match = re.search(r"validation accuracy: ([\d.]+)%", printed(nb))
    assert match and float(match.group(1)) >= 90.0, match


def test_lesson11_premises_hold_one_rate_fails_and_100_digits_overfit(executed):
    # the lesson says "one of these rates fails: its loss ends no lower than where it started"
    # and that LeNet-5 learns its 100 digits perfectly but does worse on the validation digits
    path = next(p for p in NOTEBOOKS if p.name.startswith("11"))
    text = printed(executed(path)[0])
    sweep = re.findall(r"η = (\S+) +loss ([\d.]+) → ([\d.]+)", text)
    assert [rate for rate, _start, _end in sweep] == ["0.001", "0.01", "0.1", "1"]
    failed = [rate for rate, start, end in sweep if float(end) >= float(start)]
    assert failed == ["1"], sweep
    table = dict(re.findall(r"^(no cure|L2, λ = 0.005|dropout 0.5|augmentation|dropout \+ "
                            r"augmentation) +[\d.]+% +([\d.]+)%", text, flags=re.M))
    assert len(table) == 5, table
    gap = re.search(r"generalization gap: ([\d.]+) percentage points", text)
    assert gap and float(gap.group(1)) >= 5.0, gap
    # the table's best row is the one the lesson names
    best = max(table, key=lambda k: float(table[k]))
    assert f"highest validation accuracy: {best}" in text

def test_lesson13_premises_hold_skip_connections_keep_the_gradient_and_train(executed):
    # the lesson says: the plain chain stays at the loss of guessing, the same layers with skip
    # connections learn, and their first block's weight gradient is far larger
    path = next(p for p in NOTEBOOKS if p.name.startswith("13"))
    text = printed(executed(path)[0])
    runs = dict((name, (float(start), float(end), float(acc))) for name, start, end, acc in
                re.findall(r"^(plain|with skip connections) +loss ([\d.]+) → ([\d.]+), "
                           r"validation accuracy ([\d.]+)%", text, flags=re.M))
    assert set(runs) == {"plain", "with skip connections"}, runs
    assert abs(runs["plain"][1] - math.log(10)) < 0.05 and runs["plain"][2] < 20, runs
    assert runs["with skip connections"][1] < 1.5 and runs["with skip connections"][2] > 60
    ratio = re.search(r"weight gradient is ([\d,]+) times larger", text)
    assert ratio and int(ratio.group(1).replace(",", "")) >= 10, ratio


def test_lesson6_uses_the_batch_statistics_and_trains_batch_norm_away_from_identity(executed):
    path = next(p for p in NOTEBOOKS if p.name.startswith("06"))
    text = printed(executed(path)[0])
    # the statistics the trace used are the whole batch's, printed next to NumPy's
    used = re.search(r"mean used +: (\[.*?\]) +batch mean +: (\[.*?\])", text)
    assert used and used.group(1) == used.group(2), used
    by_hand = re.search(r"by hand (-?[\d.]+), layer (-?[\d.]+)", text)
    assert by_hand and by_hand.group(1) == by_hand.group(2), by_hand
    # untrained and predicting, batch norm is the identity; after training it is not
    gaps = [float(g) for g in re.findall(r"largest \|batchnorm_1 − conv_1\| on digit 0: ([\d.]+)",
                                         text)]
    assert len(gaps) == 2 and gaps[0] < 1e-3 and gaps[1] > 0.05, gaps
    assert "after 10 training steps" in text


def test_lesson14_reads_the_drawn_seven_and_explains_a_held_out_mistake(executed):
    path = next(p for p in NOTEBOOKS if p.name.startswith("14"))
    text = printed(executed(path)[0])
    assert "data: cnnlab's generated digits (no MNIST files found)" in text or \
        "data: the files in" in text
    accuracy = re.search(r"held-out accuracy ([\d.]+)%: (\d+) mistakes", text)
    assert accuracy and float(accuracy.group(1)) >= 85.0, accuracy
    # the drawn 7, prepared MNIST's way, is read as 7; the mistake explained is a real one
    assert re.search(r"^read as 7$", text, flags=re.M)
    mistake = re.search(r"held-out image \d+: true (\d), read as (\d)", text)
    assert mistake and mistake.group(1) != mistake.group(2), mistake
    # the saliency cell's loss is -ln of the true class's probability printed beside it
    loss = re.search(r"loss for the true class \d: ([\d.]+) = -ln ([\d.e+-]+);", text)
    assert loss and math.isclose(float(loss.group(1)), -math.log(float(loss.group(2))),
                                 rel_tol=0.01), loss
