"""cnnlab.checkpoint's files: their names, which ones count, the latest, and what is refused.
(Resuming bit for bit, and refusing another network, options or data: test_training.py.)"""
import numpy as np
import pytest

from cnnlab import checkpoint
from cnnlab.container import save_state


def test_file_names_carry_the_epoch_in_four_digits(tmp_path):
    assert checkpoint.checkpoint_file(tmp_path, 7).name == "checkpoint_epoch_0007.cnnlab"
    assert checkpoint.checkpoint_file(tmp_path, 12345).name == "checkpoint_epoch_12345.cnnlab"


def test_checkpoints_are_listed_by_epoch_and_foreign_files_ignored(tmp_path):
    for name in ("checkpoint_epoch_0010.cnnlab", "checkpoint_epoch_0002.cnnlab",
                 "checkpoint_epoch_10000.cnnlab", "checkpoint_epoch_0003.cnnlab.tmp",
                 "notes.txt", "checkpoint_epoch_x.cnnlab"):
        (tmp_path / name).write_bytes(b"")
    # by epoch number: 10000 comes after 0010 although it has five digits
    assert [p.name for p in checkpoint.checkpoints(tmp_path)] == [
        "checkpoint_epoch_0002.cnnlab", "checkpoint_epoch_0010.cnnlab",
        "checkpoint_epoch_10000.cnnlab"]
    assert checkpoint.latest(tmp_path).name == "checkpoint_epoch_10000.cnnlab"


def test_no_folder_means_no_checkpoint(tmp_path):
    missing = tmp_path / "not-yet"
    assert checkpoint.checkpoints(missing) == [] and checkpoint.latest(missing) is None
    assert checkpoint.resume(missing, run=None) is False       # nothing to restore


def test_saving_into_a_file_is_refused(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(ValueError, match=r"checkpoint_path '.*a-file' is a file, not a folder"):
        checkpoint.save(target, run=None)


def test_a_container_of_another_format_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "checkpoint_epoch_0001.cnnlab"
    save_state(path, {"w": np.zeros(3)}, {"note": "a plain state file"})
    with pytest.raises(ValueError):
        checkpoint.load(path)
    save_state(path, {"w": np.arange(3.0)}, {"epoch": 1}, format=checkpoint.FORMAT)
    arrays, meta = checkpoint.load(path)
    assert meta["epoch"] == 1 and np.array_equal(arrays["w"], [0, 1, 2])
