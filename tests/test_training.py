"""Training: the loop's rules (discarded last mini-batch, labels, validation schedule, NaN
stop, Ctrl-C, callbacks, progress display), checkpoint resume bit for bit, determinism, and a
small network that really learns. The solvers' update rules: tests/test_solvers.py."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import cnnlab as cl
import cnnlab.solvers as solvers_module
from cnnlab import checkpoint
from cnnlab.layers.activation import ReLU
from cnnlab.layers.dense import FullyConnected
from cnnlab.layers.dropout import Dropout
from cnnlab.layers.input import ImageInput
from cnnlab.layers.norm import BatchNormalization
from cnnlab.layers.output import Classification, Regression, Softmax
from cnnlab.network import Network
from cnnlab.solvers import SGDM
from cnnlab.training_options import TrainingOptions
from cnnlab.training import TrainingDiverged, TrainingInfo, train_network


# ---- the training loop on tiny networks ------------------------------------------------------

BACKEND = "reference"


def _options(**kw):
    base = dict(verbose=False, progress_bar=False, backend=BACKEND, initial_learn_rate=0.05)
    return TrainingOptions(**{**base, **kw})


def _blobs(n=60, size=4, classes=2, seed=0):
    """n images of size×size×1: class k is bright in row k (plus noise)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = 0.3 * rng.standard_normal((n, size, size, 1))
    x[np.arange(n), y, :, 0] += 2.0
    return x.astype(np.float32), y


def _mlp(classes=2, size=4, dropout=False, norm=False):
    layers = [ImageInput((size, size, 1)), FullyConnected(6)]
    if norm:
        layers.append(BatchNormalization())     # running statistics: layer state
    layers.append(ReLU())
    if dropout:
        layers.append(Dropout(0.25))            # masks drawn from the network's Generator
    return layers + [FullyConnected(classes), Softmax(), Classification()]


def _weights(net):
    """Every parameter and state array (copied), with layer and key names."""
    return [(layer.name, key, value.copy()) for layer in net.layers
            for store in (layer.params, layer.state) for key, value in store.items()]


def _same_weights(a, b):
    return len(a) == len(b) and all(x[:2] == y[:2] and np.array_equal(x[2], y[2])
                                    for x, y in zip(a, b))


def test_final_partial_mini_batch_is_discarded():
    x, y = _blobs(50)
    net, info = train_network(x, y, _mlp(), _options(max_epochs=2, mini_batch_size=16))
    assert isinstance(info, TrainingInfo)
    assert info.iterations.tolist() == [1, 2, 3, 4, 5, 6]         # 2 · floor(50 / 16)
    assert info.epochs.tolist() == [1, 1, 1, 2, 2, 2]
    assert info.stopped_reason == "max-epochs" and info.warnings == []
    assert np.all(np.isfinite(info.loss)) and np.all((info.accuracy >= 0) & (info.accuracy <= 1))
    assert np.all(np.isnan(info.rmse)) and np.all(np.diff(info.time) >= 0)


def test_fewer_images_than_a_mini_batch_is_one_batch_with_a_warning():
    x, y = _blobs(10)
    _, info = train_network(x, y, _mlp(), _options(max_epochs=3, mini_batch_size=16))
    assert info.iterations.tolist() == [1, 2, 3]
    assert len(info.warnings) == 1 and "only 10 images" in info.warnings[0]


def test_loop_equals_a_hand_written_loop():
    """Shuffle "never": iteration i uses images i·B..(i+1)·B-1 of X; the normalization is fit
    on X first; each step is Network.loss_and_gradients then one SGDM step."""
    x, y = _blobs(40)
    net, info = train_network(x, y, _mlp(), _options(max_epochs=2, mini_batch_size=16,
                                                     shuffle="never"))
    ref = Network(_mlp(), seed=0, backend=BACKEND)
    ref.fit_normalization(x)
    solver = SGDM(momentum=0.9, l2_regularization=1e-4)
    losses = []
    for _epoch in range(2):
        for i in range(2):
            loss, _ = ref.loss_and_gradients(x[16 * i:16 * (i + 1)], y[16 * i:16 * (i + 1)])
            losses.append(loss)
            solver.step(ref, 0.05)
    assert _same_weights(_weights(net), _weights(ref))
    assert info.loss.tolist() == losses


def test_same_seed_same_weights_and_different_seed_different_weights():
    x, y = _blobs(48)
    opts = _options(max_epochs=2, mini_batch_size=8, shuffle="every-epoch")
    a, ia = train_network(x, y, _mlp(dropout=True), opts)
    b, ib = train_network(x, y, _mlp(dropout=True), opts)
    c, _ = train_network(x, y, _mlp(dropout=True), dataclasses.replace(opts, seed=1))
    assert _same_weights(_weights(a), _weights(b)) and np.array_equal(ia.loss, ib.loss)
    assert not _same_weights(_weights(a), _weights(c))


def test_a_network_is_trained_in_place():
    x, y = _blobs(32)
    net = Network(_mlp(), seed=5, backend=BACKEND)
    before = _weights(net)
    out, _ = train_network(x, y, net, _options(max_epochs=1, mini_batch_size=8))
    assert out is net and not _same_weights(before, _weights(net))


def test_validation_is_recorded_at_the_first_every_kth_and_last_iteration():
    x, y = _blobs(45)
    xv, yv = _blobs(20, seed=1)
    net, info = train_network(x, y, _mlp(), _options(
        max_epochs=3, mini_batch_size=15, validation_data=(xv, yv), validation_frequency=4))
    done = info.iterations[~np.isnan(info.validation_loss)].tolist()
    assert done == [1, 4, 8, 9]
    assert np.array_equal(np.isnan(info.validation_loss), np.isnan(info.validation_accuracy))
    assert info.final_validation_accuracy == info.validation_accuracy[-1]
    assert info.final_validation_accuracy == np.mean(net.classify(xv) == yv)


def test_learn_rate_schedule_is_applied_per_epoch():
    x, y = _blobs(20)
    _, info = train_network(x, y, _mlp(), _options(
        max_epochs=4, mini_batch_size=10, learn_rate_schedule="piecewise",
        learn_rate_drop_factor=0.5, learn_rate_drop_period=2, initial_learn_rate=0.2))
    assert info.learn_rate.tolist() == [0.2] * 4 + [0.1] * 4


def test_string_labels_become_the_output_classes():
    x, y = _blobs(40, classes=3)
    names = np.array(["cat", "dog", "emu"])[y]
    net, info = train_network(x, names, _mlp(classes=3), _options(
        max_epochs=2, mini_batch_size=10, validation_data=(x[:10], names[:10])))
    assert info.classes == ["cat", "dog", "emu"] and net.loss_layer.classes == info.classes
    assert set(net.classify(x).tolist()) <= {"cat", "dog", "emu"}
    with pytest.raises(ValueError, match=r"not among the output layer's classes \[.*\]: 'yak'"):
        train_network(x, np.where(y == 0, "yak", names), net, _options(max_epochs=1))


@pytest.mark.parametrize("labels, message", [
    (lambda y: y + 5, r"class labels must be integers 0\.\.1 .*from 5 to 6"),
    (lambda y: y[:-1], "Y has 39 entries for 40 images"),
    (lambda y: np.stack([y, y], 1), "expected a vector of N class labels"),
    (lambda y: y + 0.5, "fractional"),
    (lambda y: np.array(["a", "b", "c"])[np.arange(len(y)) % 3],
     r"3 distinct labels \('a', 'b', 'c'\) but the network has 2 outputs"),
])
def test_bad_labels_are_refused(labels, message):
    x, y = _blobs(40, classes=2)
    y = y.copy()
    y[:3] = [0, 1, 1]
    with pytest.raises(ValueError, match=message):
        train_network(x, labels(y), _mlp(), _options(max_epochs=1))


def test_images_are_checked_and_single_channel_stacks_accepted():
    x, y = _blobs(32)
    a, _ = train_network(x, y, _mlp(), _options(max_epochs=1, mini_batch_size=8))
    b, _ = train_network(x[..., 0], y, _mlp(), _options(max_epochs=1, mini_batch_size=8))
    assert _same_weights(_weights(a), _weights(b))
    with pytest.raises(ValueError, match=r"X has shape \(32, 16\)"):
        train_network(x.reshape(32, 16), y, _mlp(), _options(max_epochs=1))
    with pytest.raises(ValueError, match=r"X: .*shape \(32, 5, 5, 1\)"):
        train_network(np.zeros((32, 5, 5, 1)), y, _mlp(), _options(max_epochs=1))
    with pytest.raises(ValueError, match="validation_data images"):
        train_network(x, y, _mlp(), _options(max_epochs=1, validation_data=(x[:, :2], y)))


def test_regression_records_rmse():
    x, _ = _blobs(40)
    t = np.stack([x.mean(axis=(1, 2, 3)), x[:, 0, 0, 0]], 1)
    layers = [ImageInput((4, 4, 1), normalization="none"), FullyConnected(2), Regression()]
    net, info = train_network(x, t, layers, _options(max_epochs=3, mini_batch_size=10,
                                                     validation_data=(x[:10], t[:10])))
    assert np.all(np.isnan(info.accuracy)) and np.all(np.isfinite(info.rmse))
    pred = net.predict(x[:10])
    assert info.final_validation_rmse == pytest.approx(np.sqrt(np.mean((pred - t[:10]) ** 2)),
                                                       rel=1e-5)
    with pytest.raises(ValueError, match="give N x 2"):
        train_network(x, t[:, :1], layers, _options(max_epochs=1))


def test_nan_loss_stops_and_restores_the_weights_from_before_the_bad_update():
    """A callback poisons the weights right after update k; iteration k + 1's loss is then
    not finite and the network must come back with the weights from before update k, i.e.
    those recorded after iteration k - 1."""
    x, y = _blobs(40)
    seen = []

    def record_and_poison(info):
        seen.append(_weights(net))
        if info.iteration == 3:
            net["fc_2"].params["weights"][0, 0] = np.inf

    net = Network(_mlp(norm=True), seed=0, backend=BACKEND)
    with pytest.warns(TrainingDiverged, match="the loss of iteration 4 is nan"):
        _, info = train_network(x, y, net, _options(max_epochs=5, mini_batch_size=8),
                                callbacks=[record_and_poison])
    assert info.stopped_reason == "nan-loss" and len(info.loss) == 4
    assert np.isnan(info.loss[-1]) and np.all(np.isfinite(info.loss[:-1]))
    # after iteration 2 = before update 3 (parameters and batch-norm running statistics)
    assert _same_weights(_weights(net), seen[1])


def test_nan_from_a_huge_learn_rate_keeps_finite_weights():
    x, y = _blobs(40)
    net = Network(_mlp(), seed=0, backend=BACKEND)
    net.fit_normalization(x)                  # statistics set: train_network keeps them
    initial = _weights(net)
    with pytest.warns(TrainingDiverged):
        _, info = train_network(x, y, net, _options(max_epochs=3, mini_batch_size=8,
                                                    initial_learn_rate=1e30, momentum=0.0))
    assert info.stopped_reason == "nan-loss" and len(info.loss) == 2
    assert _same_weights(_weights(net), initial)        # update 1 was the bad one


def _interrupt_after(monkeypatch, steps_done, params_per_step):
    """Make the solver raise KeyboardInterrupt halfway through step steps_done + 1."""
    calls = {"n": 0}
    original = solvers_module.SGDM._update

    def update(self, theta, g, lr, **slots):
        if calls["n"] == steps_done * params_per_step + 1:     # after one parameter moved
            raise KeyboardInterrupt
        calls["n"] += 1
        original(self, theta, g, lr, **slots)

    monkeypatch.setattr(solvers_module.SGDM, "_update", update)


def test_ctrl_c_returns_the_completed_iterations_only(monkeypatch):
    x, y = _blobs(64)
    opts = _options(max_epochs=4, mini_batch_size=8)
    stopped, info_cb = train_network(x, y, _mlp(norm=True), opts,
                                     callbacks=[lambda info: info.iteration == 5])
    assert info_cb.stopped_reason == "interrupted" and len(info_cb.loss) == 5
    _interrupt_after(monkeypatch, 5, params_per_step=6)
    net, info = train_network(x, y, _mlp(norm=True), opts)
    assert info.stopped_reason == "interrupted" and "KeyboardInterrupt" in info.message
    assert len(info.loss) == 5 and np.array_equal(info.loss, info_cb.loss)
    assert _same_weights(_weights(net), _weights(stopped))


def test_a_callback_raising_stop_iteration_stops():
    x, y = _blobs(32)

    def stop(info):
        if info.iteration == 2:
            raise StopIteration

    _, info = train_network(x, y, _mlp(), _options(max_epochs=3, mini_batch_size=8),
                            callbacks=[stop])
    assert info.stopped_reason == "interrupted" and info.iteration == 2


def test_progress_table_and_monitor(capsys):
    x, y = _blobs(40)
    updates = []

    class Monitor:
        def update(self, info):
            updates.append(info.iteration)

        def close(self, info):
            updates.append("closed")

    _, info = train_network(x, y, _mlp(), _options(
        max_epochs=2, mini_batch_size=10, verbose=True, verbose_frequency=3, plots=Monitor(),
        validation_data=(x[:8], y[:8]), validation_frequency=3))
    assert updates == list(range(1, 9)) + ["closed"]
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("|") and line[1:9].strip()
            .isdigit()]
    assert [int(r.split("|")[2]) for r in rows] == [1, 3, 6, 8]
    assert "Mini-batch" in out and "Training stopped (max-epochs)" in out


def test_training_progress_plot_is_saved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x, y = _blobs(20)
    train_network(x, y, _mlp(), _options(max_epochs=1, mini_batch_size=10,
                                         plots="training-progress"))
    assert (tmp_path / "training-progress.png").stat().st_size > 1000


# ---- checkpoints -----------------------------------------------------------------------------

def _ckpt_options(**kw):
    return _options(solver="adam", initial_learn_rate=0.01, mini_batch_size=8,
                    shuffle="every-epoch", **kw)


def test_resuming_from_a_checkpoint_is_bit_exact(tmp_path):
    x, y = _blobs(44)
    xv, yv = _blobs(12, seed=3)
    full, info_full = train_network(x, y, _mlp(dropout=True, norm=True), _ckpt_options(
        max_epochs=3, validation_data=(xv, yv), validation_frequency=4))
    folder = tmp_path / "ckpt"
    _, first = train_network(x, y, _mlp(dropout=True, norm=True), _ckpt_options(
        max_epochs=1, checkpoint_path=folder, validation_data=(xv, yv), validation_frequency=4))
    assert [p.name for p in checkpoint.checkpoints(folder)] == ["checkpoint_epoch_0001.cnnlab"]
    resumed, info = train_network(x, y, _mlp(dropout=True, norm=True), _ckpt_options(
        max_epochs=3, checkpoint_path=folder, validation_data=(xv, yv), validation_frequency=4))
    assert info.resumed_from.endswith("checkpoint_epoch_0001.cnnlab")
    assert _same_weights(_weights(full), _weights(resumed))
    assert np.array_equal(info.loss, info_full.loss) and info.iteration == 15
    # the history also keeps the validation done at the end of the first (1-epoch) call
    extra = info_full.validation_loss.copy()
    extra[4] = first.final_validation_loss
    assert np.array_equal(info.validation_loss, extra, equal_nan=True)
    assert resumed.rng.bit_generator.state == full.rng.bit_generator.state
    assert len(checkpoint.checkpoints(folder)) == 3
    saved = checkpoint.load_network(checkpoint.latest(folder), backend=BACKEND)
    assert _same_weights(_weights(saved), _weights(full))


def test_resume_refuses_another_network_options_or_data(tmp_path):
    x, y = _blobs(24)
    train_network(x, y, _mlp(), _ckpt_options(max_epochs=1, checkpoint_path=tmp_path))
    with pytest.raises(ValueError, match=r"different network: .*FullyConnected"):
        train_network(x, y, [ImageInput((4, 4, 1)), FullyConnected(7), ReLU(),
                             FullyConnected(2), Softmax(), Classification()],
                      _ckpt_options(max_epochs=2, checkpoint_path=tmp_path))
    with pytest.raises(ValueError, match=r"mini_batch_size = 4 \(checkpoint: 8\)"):
        train_network(x, y, _mlp(), dataclasses.replace(
            _ckpt_options(max_epochs=2, checkpoint_path=tmp_path), mini_batch_size=4))
    with pytest.raises(ValueError, match=r"different training data \(images \(20, 4, 4, 1\)"):
        train_network(x[:20], y[:20], _mlp(), _ckpt_options(max_epochs=2,
                                                            checkpoint_path=tmp_path))
    with pytest.raises(ValueError, match="same shapes but different values"):
        train_network(x + 1, y, _mlp(), _ckpt_options(max_epochs=2, checkpoint_path=tmp_path))


def test_a_damaged_latest_checkpoint_is_refused_by_name(tmp_path):
    x, y = _blobs(24)
    train_network(x, y, _mlp(), _ckpt_options(max_epochs=2, checkpoint_path=tmp_path))
    latest = checkpoint.latest(tmp_path)
    data = bytearray(latest.read_bytes())
    data[len(data) // 2] ^= 0x10
    latest.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"checkpoint_epoch_0002\.cnnlab.*delete it to resume "
                                         r"from checkpoint_epoch_0001\.cnnlab"):
        train_network(x, y, _mlp(), _ckpt_options(max_epochs=3, checkpoint_path=tmp_path))


# ---- it learns -------------------------------------------------------------------------------

def _bars(n, seed):
    """n 8×8 images in three classes — a horizontal bar, a vertical bar, a diagonal — each at
    a random place, with noise: easy for a small CNN, impossible for a constant guess."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = 0.2 * rng.standard_normal((n, 8, 8, 1))
    d = np.arange(8)
    for i, (k, p) in enumerate(zip(y, rng.integers(1, 7, n))):
        if k == 0:
            x[i, p, 1:7, 0] += 1
        elif k == 1:
            x[i, 1:7, p, 0] += 1
        else:
            x[i, d, (d + p) % 8, 0] += 1
    return x.astype(np.float32), y


@pytest.mark.parametrize("solver, learn_rate", [("sgdm", 0.05), ("adam", 0.01)])
def test_a_small_cnn_learns_to_separate_three_classes(solver, learn_rate):
    from cnnlab.layers.conv import Convolution2D
    from cnnlab.layers.pool import MaxPooling2D
    x, y = _bars(200, seed=0)
    xv, yv = _bars(100, seed=1)
    layers = [ImageInput((8, 8, 1)), Convolution2D(3, 6, padding=1), BatchNormalization(),
              ReLU(), MaxPooling2D(2, stride=2), FullyConnected(3), Softmax(), Classification()]
    net, info = train_network(x, y, layers, _options(
        solver=solver, initial_learn_rate=learn_rate, max_epochs=5, mini_batch_size=20,
        shuffle="every-epoch", validation_data=(xv, yv)))
    assert info.loss[0] > 1.0 and np.mean(info.loss[-10:]) < 0.3
    assert info.final_validation_accuracy >= 0.95
    assert np.mean(net.classify(xv) == yv) == info.final_validation_accuracy


def test_progress_bar_goes_to_stderr_and_the_table_to_stdout(capsys):
    x, y = _blobs(20)
    train_network(x, y, _mlp(), _options(max_epochs=1, mini_batch_size=10, verbose=True,
                                         progress_bar=True))
    captured = capsys.readouterr()
    assert "training" in captured.err and "2/2" in captured.err
    assert "Base Learning" in captured.out and "Base Learning" not in captured.err


def test_a_monitor_asking_to_stop_ends_training_after_that_iteration():
    class Monitor:                       # what TrainingMonitor's Stop button sets
        stop_requested = False

        def update(self, info):
            self.stop_requested = info.iteration == 3

    x, y = _blobs(32)
    _, info = train_network(x, y, _mlp(), _options(max_epochs=3, mini_batch_size=8,
                                                   plots=Monitor()))
    assert info.stopped_reason == "interrupted" and info.iteration == 3
    assert "Monitor" in info.message


def _two_path_graph(skip_from):
    """4x4x1 -> conv (1 filter) -> relu -> addition (in2 from ``skip_from``) -> fc -> out."""
    g = cl.LayerGraph([ImageInput((4, 4, 1)), cl.Convolution2D(3, 1, padding=1), ReLU(),
                       cl.Addition(2), FullyConnected(2), Softmax(), Classification()])
    return g.connect(skip_from, "add_1/in2")


def test_a_layer_graph_resumes_and_refuses_other_connections(tmp_path):
    x, y = _blobs(24)
    full, _ = train_network(x, y, _two_path_graph("imageinput"),
                            _ckpt_options(max_epochs=2, checkpoint_path=tmp_path / "a"))
    train_network(x, y, _two_path_graph("imageinput"),
                  _ckpt_options(max_epochs=1, checkpoint_path=tmp_path / "b"))
    resumed, _ = train_network(x, y, _two_path_graph("imageinput"),
                               _ckpt_options(max_epochs=2, checkpoint_path=tmp_path / "b"))
    assert resumed.is_graph and _same_weights(_weights(resumed), _weights(full))
    with pytest.raises(ValueError, match=r"different network: .*connections differ; not "
                                         r"saved: conv_1 -> add_1/in2; only saved: "
                                         r"imageinput -> add_1/in2"):
        train_network(x, y, _two_path_graph("conv_1"),
                      _ckpt_options(max_epochs=2, checkpoint_path=tmp_path / "b"))
