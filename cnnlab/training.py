"""Training a network: the loop and its record (options: ``cnnlab.training_options``).

    options = cl.TrainingOptions("sgdm", max_epochs=4, mini_batch_size=64,
                                 validation_data=(x_val, y_val))
    net, info = cl.train_network(x_train, y_train, layers, options)
    info.loss, info.accuracy, info.validation_accuracy, info.stopped_reason

One iteration takes the next mini-batch, runs the forward pass in training mode, computes the
loss, back-propagates, and lets the solver update every parameter in place. An epoch is
floor(N / mini_batch_size) iterations: as in MATLAB, the final incomplete mini-batch of an
epoch is discarded (with shuffle "every-epoch" different images fall out each epoch). If N is
smaller than the mini-batch size, each epoch is one mini-batch of all N images and
``info.warnings`` says so.

Labels: for a Classification output, Y holds integer class indices 0..K−1 (integer-valued
floats count as indices), or other labels (strings, ...): then the classes are the sorted
unique labels, stored as strings in the Classification layer's ``classes`` (the layer keeps
class names as strings), so that ``net.classify`` answers with those names; if the layer
names its classes already, the labels must be among them. Integers are always indices: to
use 3, 5, 7 as class names, pass them as strings. For a Regression output Y holds the
targets: N×R, N (one response) or N×H×W×C, matching the network output.

Augmentation: with ``options.augmentation`` (a ``cnnlab.ImageDataAugmenter``) every training
mini-batch is transformed afresh before its forward pass, drawing from ``net.rng``; the
normalization statistics and the validation data use the images as given.

Normalization: before the first epoch the ImageInput statistics are computed from X, unless
they are set already — given explicitly, or fitted by an earlier training of the same
Network object (which keeps the network's function; MATLAB would recompute them).

The rules that make a run safe to stop and resume:

* **NaN stop.** The loss of iteration t is computed with the weights that update t − 1 made.
  If it is NaN or infinite those weights are the first bad ones: training stops with a
  ``TrainingDiverged`` warning and the network gets back the weights and layer state it had
  *before update t − 1* — the last weights known to give a finite loss (at t = 1: the initial
  weights). The history keeps iteration t with its non-finite loss.
* **Ctrl-C.** A KeyboardInterrupt during an iteration undoes that iteration's partial update:
  you get the network and history of the iterations that completed (stopped_reason
  "interrupted"). A callback returning True (or raising StopIteration) stops the same way
  after its iteration completed (also "interrupted"; ``info.message`` says which).
* **Checkpoints.** With ``checkpoint_path`` a checkpoint is saved atomically at the end of
  every epoch (``cnnlab.checkpoint``); a later call with the same options, data and
  architecture resumes from the latest one and ends with the same weights, bit for bit, as a
  run that was never stopped.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from . import checkpoint, memory
from .training_record import Progress, TrainingInfo, make_monitor
from .warmup import compile_kernels
from .solvers import make_solver
from .training_options import TrainingOptions

__all__ = ["TrainingOptions", "TrainingInfo", "TrainingDiverged", "train_network"]

STOPPED_REASONS = ("max-epochs", "nan-loss", "interrupted")


class TrainingDiverged(RuntimeWarning):
    """The loss became NaN or infinite; training stopped and kept the last good weights."""


# ---- data ------------------------------------------------------------------------------------

def _images(net, X, what: str) -> np.ndarray:
    """X as N×H×W×C of the network's dtype (a single-channel N×H×W is accepted)."""
    X = np.asarray(X)
    h, w, c = net.input_size
    if X.ndim == 3 and c == 1 and X.shape[1:] == (h, w):
        X = X[..., None]
    if X.ndim != 4:
        raise ValueError(f"{what} has shape {X.shape}; expected N x {h} x {w} x {c} images "
                         "(channels last; a single-channel N x H x W is accepted too)")
    try:
        return np.ascontiguousarray(net.check_input(X))
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None


def _output_layer(net):
    from .layers.output import Classification, Regression
    out = net.loss_layer
    if not isinstance(out, (Classification, Regression)):
        raise ValueError("train_network: the network must end with Softmax + Classification or "
                         "with Regression (it needs a loss to minimise)")
    return out, ("classification" if isinstance(out, Classification) else "regression")


def _targets(net, Y, n: int, what: str):
    """The targets the output layer's loss takes: class indices (N,) or N×H×W×C numbers."""
    out, task = _output_layer(net)
    Y = np.asarray(Y)
    if Y.ndim == 0 or len(Y) != n:
        raise ValueError(f"{what} has {Y.shape[0] if Y.ndim else 0} entries for {n} images")
    shape = net.output_shape
    if task == "regression":
        if Y.dtype.kind not in "biuf":
            raise ValueError(f"{what} has dtype {Y.dtype}; regression targets must be numbers")
        size = int(np.prod(shape))
        if Y.size != n * size or not (Y.ndim == 1 and size == 1 or Y.shape[1:] in (
                (size,), shape)):
            raise ValueError(f"{what} has shape {Y.shape}; the network outputs "
                             f"{'x'.join(map(str, shape))} per image, so give N x {size}"
                             + (" or N" if size == 1 else "")
                             + f" or N x {' x '.join(map(str, shape))}")
        T = Y.reshape((n,) + shape).astype(net.dtype)
        if not np.all(np.isfinite(T)):
            raise ValueError(f"{what} contains NaN or infinite values")
        return T
    k = shape[-1]
    if shape[:2] != (1, 1):
        raise ValueError(f"train_network: the classification output is "
                         f"{'x'.join(map(str, shape))}; expected 1x1xK (one score per class)")
    if Y.ndim != 1:
        raise ValueError(f"{what} has shape {Y.shape}; expected a vector of N class labels")
    if Y.dtype.kind == "f" and np.all(np.isfinite(Y)) and np.all(Y == np.round(Y)):
        Y = Y.astype(np.int64)            # 0.0, 1.0, ... are class indices
    if Y.dtype.kind in "iu":
        if Y.min() < 0 or Y.max() >= k:
            raise ValueError(f"{what}: class labels must be integers 0..{k - 1} (the network "
                             f"has {k} outputs); found labels from {Y.min()} to {Y.max()} "
                             "(give other labels as strings)")
        return Y.astype(np.int64)
    if Y.dtype.kind == "f":
        raise ValueError(f"{what} holds fractional numbers; class labels must be integers "
                         "0..K-1 or names")
    classes = out.classes
    if classes is None:
        try:
            names = sorted(set(Y.tolist()))
        except TypeError:
            raise ValueError(f"{what}: the labels cannot be sorted (mixed types?); give class "
                             "indices 0..K-1 or labels of one type") from None
        classes = [str(c) for c in names]
        if len(classes) != k:
            shown = ", ".join(map(repr, classes[:10])) + ("..." if len(classes) > 10 else "")
            raise ValueError(f"{what} has {len(classes)} distinct labels ({shown}) but the "
                             f"network has {k} outputs")
        out.classes = classes
    index = {c: i for i, c in enumerate(classes)}
    labels = [str(v) for v in Y.tolist()]
    unknown = sorted({repr(v) for v in labels if v not in index})
    if unknown:
        raise ValueError(f"{what} has labels that are not among the output layer's classes "
                         f"{classes}: {', '.join(unknown[:10])}")
    return np.array([index[v] for v in labels], dtype=np.int64)


# ---- one iteration ---------------------------------------------------------------------------

def _metric(task, y, t) -> float:
    """Accuracy (fraction of correct argmax) or RMSE of a batch of outputs."""
    if task == "classification":
        return float(np.mean(np.argmax(y.reshape(len(y), -1), axis=1) == t))
    return float(np.sqrt(np.mean((y.astype(np.float64) - t) ** 2)))


def _evaluate(net, out, task, X, T, batch: int):
    y = np.concatenate([net.forward(X[i:i + batch]) for i in range(0, len(X), batch)])
    return float(out.loss(y, T)), _metric(task, y, T)


def _snapshot(net):
    return [({k: v.copy() for k, v in layer.params.items()},
             {k: np.array(v, copy=True) for k, v in layer.state.items()}) for layer in net.layers]


def _restore(net, snap):
    for layer, (params, state) in zip(net.layers, snap):
        for k, v in params.items():
            layer.params[k][...] = v
        layer.state.clear()
        layer.state.update({k: v.copy() for k, v in state.items()})
        layer.release()


def _threads(net):
    """The context the training loop runs in: the fast kernels' thread control.

    Numba's threads and BLAS's threads would fight over the cores; the fast backend's
    ``kernel_threads`` caps BLAS to one thread while the loop runs (``Network.computing``).
    """
    return net.computing()


# ---- the loop --------------------------------------------------------------------------------

def _network(layers_or_network, options):
    from .kernels import resolve_backend
    from .network import Network
    if isinstance(layers_or_network, Network):
        net = layers_or_network
        if options.backend is not None and resolve_backend(options.backend) != net.backend:
            net.backend = options.backend
        return net
    from .layer_graph import LayerGraph
    if isinstance(layers_or_network, (list, tuple, LayerGraph)):
        kw = {} if options.backend is None else {"backend": options.backend}
        return Network(layers_or_network, seed=options.seed, **kw)
    raise TypeError("train_network: expected a list of layers, a LayerGraph or a cnnlab "
                    "Network, got "
                    f"{type(layers_or_network).__name__}")


def train_network(X, Y, layers_or_network, options: TrainingOptions | None = None, *,
                  callbacks=None):
    """Train a network on images X (N×H×W×C) with labels or targets Y; return (net, info).

    ``layers_or_network``: a list of layers or a LayerGraph (built into
    ``Network(layers, seed=options.seed)``) or a Network (trained in place and returned). Before training the ImageInput layer's
    normalization statistics are computed from X, unless they are set already.
    ``callbacks``: callables ``f(info)`` run after every iteration; one returning True (or
    raising StopIteration) stops training. See the module docstring for the label rules, the
    discarded last mini-batch, NaN stops, Ctrl-C and checkpoints.
    """
    if options is None:
        options = TrainingOptions()
    if not isinstance(options, TrainingOptions):
        raise TypeError(f"train_network: options must be a TrainingOptions, got "
                        f"{type(options).__name__}")
    net = _network(layers_or_network, options)
    out, task = _output_layer(net)
    X = _images(net, X, "X")
    if options.augmentation is not None:        # e.g. a fill_value per channel that does not fit
        options.augmentation.check(X, "train_network")
    n = len(X)
    T = _targets(net, Y, n, "Y")
    val = None
    if options.validation_data is not None:
        Xv = _images(net, options.validation_data[0], "validation_data images")
        val = (Xv, _targets(net, options.validation_data[1], len(Xv), "validation_data labels"))
    B = options.mini_batch_size
    batch = min(B, n)
    # refuse a mini-batch that cannot fit before anything is allocated (momentum, Adam and
    # RMSProp keep one or two arrays per parameter)
    memory.check_request(net.layers, net.dtype, batch, training=True,
                         what=f"train_network: mini_batch_size = {B}",
                         solver_slots=2 if options.solver == "adam" else 1,
                         hint="a smaller mini_batch_size")
    per_epoch = n // B if n >= B else 1
    total = per_epoch * options.max_epochs
    info = TrainingInfo(total_iterations=total, iterations_per_epoch=per_epoch,
                        max_epochs=options.max_epochs, task=task,
                        classes=getattr(out, "classes", None))
    if n < B:
        info.warnings.append(f"only {n} images for mini_batch_size = {B}: every epoch is one "
                             f"mini-batch of {n}")
    solver = make_solver(options)
    seed = options.seed
    shuffle_rng = np.random.default_rng(None if seed is None else [seed, 1])
    run = checkpoint.Run(net, solver, shuffle_rng, np.arange(n), info, options, X, T)
    if not (options.checkpoint_path and checkpoint.resume(options.checkpoint_path, run)):
        _fit_normalization(net, X)
        if options.shuffle == "once":
            run.order = shuffle_rng.permutation(n)
    # Numba compiles on the first call: do it now, so the bar's clock and ETA start after it
    with _threads(net), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        compile_kernels(net, lambda: net.training_pass(X[:batch], T[:batch],
                                                       stop_if_not_finite=True),
                        announce=options.verbose or options.progress_bar)
    progress = Progress(options, info)
    monitor = make_monitor(options)
    callbacks = list(callbacks or [])
    start = time.perf_counter() - info.elapsed_seconds
    aug = options.augmentation       # new random transforms for every mini-batch
    pending = good = None        # layer snapshots: this iteration's start, the previous one's
    reason, message = "max-epochs", f"completed {options.max_epochs} epochs"
    try:
        with _threads(net), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for epoch in range(run.epochs_done + 1, options.max_epochs + 1):
                if options.shuffle == "every-epoch":
                    run.order = run.shuffle_rng.permutation(n)
                lr = options.learn_rate(epoch)
                info.epoch = epoch
                for i in range(per_epoch):
                    idx = run.order[i * batch:(i + 1) * batch]
                    pending = _snapshot(net)
                    x = X[idx] if aug is None else aug.augment(X[idx], net.rng)
                    loss, y = net.training_pass(x, T[idx], stop_if_not_finite=True)
                    if not np.isfinite(loss):
                        # the weights of update t-1 gave this loss: go back to before it
                        _restore(net, good if good is not None else pending)
                        pending = None
                        info._append(epochs=epoch, iterations=info.iteration + 1, loss=loss,
                                     learn_rate=lr, time=time.perf_counter() - start)
                        reason = "nan-loss"
                        message = (f"the loss of iteration {info.iteration} is {loss}; the "
                                   "network keeps the weights from before "
                                   + (f"the update of iteration {info.iteration - 1}"
                                      if good is not None else "this run's first update"))
                        raise _Stop
                    metric = _metric(task, y, T[idx])
                    solver.step(net, lr)
                    row = {"accuracy" if task == "classification" else "rmse": metric}
                    info._append(epochs=epoch, iterations=info.iteration + 1, loss=loss,
                                 learn_rate=lr, time=time.perf_counter() - start, **row)
                    good, pending = pending, None          # this iteration is complete
                    it = info.iteration
                    if val is not None and (it == 1 or it % options.validation_frequency == 0
                                            or it == info.total_iterations):
                        _validate(info, net, out, task, val, options)
                    info.elapsed_seconds = time.perf_counter() - start
                    progress.update(info)
                    if monitor is not None:
                        monitor.update(info)
                        if getattr(monitor, "stop_requested", False) is True:
                            # a monitor with a Stop button (cnnlab.widgets.TrainingMonitor)
                            message = (f"stopped by the monitor ({type(monitor).__name__}) "
                                       f"after iteration {it}")
                            reason = "interrupted"
                            raise _Stop
                    for callback in callbacks:
                        try:
                            stop = callback(info) is True
                        except StopIteration:
                            stop = True
                        if stop:
                            message = f"stopped by callback {callback!r} after iteration {it}"
                            reason = "interrupted"
                            raise _Stop
                run.epochs_done = epoch
                if options.checkpoint_path:
                    checkpoint.save(options.checkpoint_path, run)
    except _Stop:
        pass
    except KeyboardInterrupt:
        if pending is not None:
            _restore(net, pending)        # undo the half-done iteration
        reason = "interrupted"
        message = f"interrupted (KeyboardInterrupt) after iteration {info.iteration}"
    finally:
        info.elapsed_seconds = time.perf_counter() - start
        progress.close()
        net.release()       # the last step's caches: no backward follows the training run
    info.stopped_reason, info.message = reason, message
    if val is not None and not message.startswith("interrupted (KeyboardInterrupt)"):
        if reason != "nan-loss" and info.iteration and not np.isnan(info.validation_loss[-1]):
            info.final_validation_loss = float(info.validation_loss[-1])  # same weights
            info.final_validation_accuracy = float(info.validation_accuracy[-1])
            info.final_validation_rmse = float(info.validation_rmse[-1])
        else:
            _validate(info, net, out, task, val, options, final_only=True)
    info.classes = getattr(out, "classes", None)
    progress.summary(info)
    if monitor is not None:
        # finish(info); close(info) is the older name (an ipywidget's close() takes no info)
        end = getattr(monitor, "finish", None) or getattr(monitor, "close", None)
        if end is not None:
            end(info)
    if reason == "nan-loss":
        warnings.warn(f"training diverged: {message}", TrainingDiverged, stacklevel=2)
    return net, info


class _Stop(Exception):
    """Internal: leave the training loop (NaN loss or a callback asked to stop)."""


def _validate(info, net, out, task, val, options, *, final_only=False):
    loss, metric = _evaluate(net, out, task, val[0], val[1],
                             max(options.mini_batch_size, 128))
    key = "validation_accuracy" if task == "classification" else "validation_rmse"
    if not final_only:
        info._set("validation_loss", loss)
        info._set(key, metric)
    info.final_validation_loss = loss
    setattr(info, "final_" + key, metric)


def _fit_normalization(net, X):
    from .layers.input import ImageInput
    first = net.layers[0]
    if isinstance(first, ImageInput) and not first.statistics_set:
        net.fit_normalization(X)
