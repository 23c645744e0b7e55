"""Killing a training process (SIGKILL) loses at most one checkpoint interval.

A real child process trains a small CNN with checkpoints at the end of every epoch; once
epoch 3 is under way (epoch 2's checkpoint written) the test kills it with SIGKILL — no
handler runs, no file is closed cleanly. Running the same command again resumes from the
last checkpoint, and its final weights are bit-for-bit those of a run never interrupted.
Interrupting a save midway (SIGKILL inside the write) leaves the previous file intact.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cnnlab as cl
from cnnlab import checkpoint
from cnnlab.models import lenet5

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

TRAIN = textwrap.dedent("""
    import sys, time
    import numpy as np
    import cnnlab as cl
    folder, out, pause_at_epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 96)
    x = 0.3 * rng.standard_normal((96, 8, 8, 1)).astype(np.float32)
    x[np.arange(96), 2 * y, :, 0] += 2.0
    layers = [cl.ImageInput((8, 8, 1)), cl.Convolution2D(3, 4, padding=1),
              cl.BatchNormalization(), cl.ReLU(), cl.MaxPooling2D(2, stride=2),
              cl.Dropout(0.2), cl.FullyConnected(3), cl.Softmax(), cl.Classification()]
    def pause(info):
        if info.epoch == pause_at_epoch:
            print("EPOCH", info.epoch, "ITERATION", info.iteration, flush=True)
            time.sleep(600)                  # the parent kills us here
    options = cl.TrainingOptions("sgdm", initial_learn_rate=0.05, max_epochs=4,
                                 mini_batch_size=16, shuffle="every-epoch", seed=3,
                                 verbose=False, progress_bar=False,
                                 checkpoint_path=folder if folder != "-" else None)
    net, info = cl.train_network(x, y, layers, options, callbacks=[pause])
    cl.save(net, out)
    print("DONE", info.iteration, info.resumed_from, flush=True)
""")


def run(args, **kw):
    return subprocess.run([sys.executable, "-c", TRAIN, *map(str, args)], capture_output=True,
                          text=True, timeout=600, **kw)


def weights(path):
    net = cl.load(path)
    return [(layer.name, k, v) for layer in net.layers
            for store in (layer.params, layer.state) for k, v in store.items()]


def test_sigkill_then_resume_gives_the_uninterrupted_weights(tmp_path):
    full = run(["-", tmp_path / "full.cnnlab", 0])
    assert full.returncode == 0, full.stderr
    folder = tmp_path / "checkpoints"
    child = subprocess.Popen([sys.executable, "-c", TRAIN, str(folder),
                              str(tmp_path / "killed.cnnlab"), "3"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.startswith("EPOCH 3"), line + child.stderr.read()
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.stderr.close()
    # epoch 3 was lost, epochs 1 and 2 were kept: at most one checkpoint interval
    assert [p.name for p in checkpoint.checkpoints(folder)] == [
        "checkpoint_epoch_0001.cnnlab", "checkpoint_epoch_0002.cnnlab"]
    assert not (tmp_path / "killed.cnnlab").exists()
    resumed = run([folder, tmp_path / "resumed.cnnlab", 0])
    assert resumed.returncode == 0, resumed.stderr
    assert "checkpoint_epoch_0002" in resumed.stdout and "DONE 24" in resumed.stdout
    a, b = weights(tmp_path / "full.cnnlab"), weights(tmp_path / "resumed.cnnlab")
    assert [x[:2] for x in a] == [x[:2] for x in b]
    for (name, key, x), (_, _, y) in zip(a, b):
        assert np.array_equal(x, y), f"{name}.{key} differs after resuming"


SAVE = textwrap.dedent("""
    import os, sys, zipfile
    import numpy as np
    import cnnlab as cl
    from cnnlab.models import lenet5
    path = sys.argv[1]
    real_write = zipfile.ZipFile.writestr
    def write_then_die(self, *args, **kw):
        real_write(self, *args, **kw)
        print("WRITING", flush=True)
        os.kill(os.getpid(), 9)              # SIGKILL in the middle of the archive
    zipfile.ZipFile.writestr = write_then_die
    cl.save(cl.Network(lenet5(), seed=1), path)
""")


def test_sigkill_during_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "model.cnnlab"
    original = cl.Network(lenet5(), seed=0)
    cl.save(original, path)
    before = path.read_bytes()
    child = subprocess.run([sys.executable, "-c", SAVE, str(path)], capture_output=True,
                           text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL and "WRITING" in child.stdout, child.stderr
    assert path.read_bytes() == before                     # untouched
    loaded = cl.load(path)
    np.testing.assert_array_equal(loaded["conv_1"].params["weights"],
                                  original["conv_1"].params["weights"])
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "model.cnnlab")
    # a temporary file may remain after SIGKILL (nothing can clean up), but never in place
    # of the model, and always with a name that says what it is
    assert all(name.startswith(".model.cnnlab.") or name.endswith(".tmp")
               for name in leftovers), leftovers


@pytest.mark.parametrize("make", ["empty", "directory", "plain npz", "json"])
def test_files_that_are_not_networks_are_refused(tmp_path, make):
    path = tmp_path / "thing.cnnlab"
    if make == "empty":
        path.write_bytes(b"")
    elif make == "directory":
        path.mkdir()
    elif make == "plain npz":
        np.savez(path.with_suffix(".npz"), weights=np.ones(3))
        path.with_suffix(".npz").rename(path)
    else:
        path.write_text('{"format": "cnnlab-network", "version": 1}')
    with pytest.raises(ValueError, match="thing.cnnlab"):
        cl.load(path)
