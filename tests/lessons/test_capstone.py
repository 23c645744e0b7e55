"""Lesson 14 as a learner with MNIST files and a picture of their own uses it.

The lesson is executed headless with ``CNNLAB_DATA`` pointing at a folder of MNIST-format
files (written here with ``write_idx`` from generated digits: the real files are not needed to
test the path that reads them), then three cells are added at the end that do what the
upload button does: put a file's bytes into ``upload.value`` as the browser sends them. A
dark-on-light photo-sized picture of a held-out digit must be read as that digit, a blank
page must give prepare_digit's "no digit found" in the status line, not an error.
"""
from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from cnnlab.datasets import make_digits, write_idx
from tests.lessons.test_notebooks import LESSON_FACTS, NOTEBOOKS, fill_answers, printed

LESSON = next((p for p in NOTEBOOKS if p.name.startswith("14")), None)

# a held-out digit the network reads right, enlarged 8x and printed dark on light paper (as
# a photo of a drawing would be), sent through the FileUpload widget as PNG bytes (the
# widget's value as ipywidgets 8 deserializes the browser's message: a datetime time stamp)
UPLOAD_DIGIT = '''
from datetime import datetime, timezone
from PIL import Image
good = int(np.flatnonzero(pred == y_test)[0])
paper = Image.fromarray((255 - x_test[good, :, :, 0] * 255).astype(np.uint8)).resize((224, 224))
png = io.BytesIO(); paper.convert("RGB").save(png, format="PNG")
before = shown.value
upload.value = ({"name": "photo.png", "type": "image/png", "size": len(png.getvalue()),
                 "content": memoryview(png.getvalue()), "last_modified": datetime.now(timezone.utc)},)
print(f"uploaded a {y_test[good]}: {status.value}")
print("the picture changed:", shown.value != before)
'''
UPLOAD_BLANK = '''
png = io.BytesIO(); Image.new("RGB", (64, 64), "white").save(png, format="PNG")
upload.value = ({"name": "blank.png", "type": "image/png", "size": len(png.getvalue()),
                 "content": memoryview(png.getvalue()), "last_modified": datetime.now(timezone.utc)},)
print("blank:", status.value)
'''


@pytest.fixture(scope="module")
def mnist_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("cnnlab-data")
    folder = root / "mnist"
    folder.mkdir()
    for kind, n, seed in (("train", 3000, 11), ("t10k", 1000, 12)):
        x, y = make_digits(n, seed=seed)
        write_idx(folder / f"{kind}-images-idx3-ubyte.gz", np.asarray(x)[..., 0])
        write_idx(folder / f"{kind}-labels-idx1-ubyte.gz", np.asarray(y).astype(np.uint8))
    return root


@pytest.mark.skipif(LESSON is None, reason="lesson 14 not built")
def test_lesson14_reads_mnist_files_and_an_uploaded_picture(mnist_folder, monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_DATA", str(mnist_folder))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(LESSON, as_version=4)
    fill_answers(nb, {})                     # every exercise as the learner finds it
    nb.cells += [nbformat.v4.new_code_cell(UPLOAD_DIGIT), nbformat.v4.new_code_cell(UPLOAD_BLANK)]
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [out for cell in nb.cells for out in cell.get("outputs", [])
              if out.output_type == "error"]
    assert errors == []
    text = printed(nb)
    assert f"data: the files in {mnist_folder / 'mnist'}" in text
    assert "train (3000, 28, 28, 1), held-out (1000, 28, 28, 1)" in text
    assert "training the design of section 3" in text          # answer_1 left None
    uploaded = re.search(r"uploaded a (\d): <b>photo.png</b>: read as (\d) with probability",
                         text)
    assert uploaded and uploaded.group(1) == uploaded.group(2), uploaded
    assert "the picture changed: True" in text
    assert "blank: <b>blank.png</b>: prepare_digit: no digit found" in text
    assert LESSON_FACTS["14"]["expect"]                          # registered with the others
