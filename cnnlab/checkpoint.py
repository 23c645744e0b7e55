"""End-of-epoch training checkpoints, and resuming from them bit for bit.

With ``TrainingOptions(checkpoint_path=folder)`` training writes, after every completed epoch,
``folder/checkpoint_epoch_0001.cnnlab``, ``..._0002.cnnlab``, ... — each one a
``cnnlab.io`` container (format "cnnlab-checkpoint", written atomically) holding everything
the rest of the run depends on:

* the network: architecture (as in a saved network), parameters, layer state (normalization
  statistics, running means and variances) and its Generator's state (dropout masks);
* the solver: its step count t and its per-parameter arrays (velocity, moments);
* the shuffling Generator's state and the current image order;
* the history so far (``TrainingInfo`` columns), epochs and iterations done;
* what the run was for: the options that shape the weights (solver, learn rates, schedule,
  L2, mini-batch size, shuffle, seed) and the training data's shapes and SHA-256 checksums.

Calling ``train_network`` again with a ``checkpoint_path`` that holds checkpoints resumes from
the latest one (highest epoch) and ends with exactly the weights of an uninterrupted run. It
refuses, with a ValueError naming the file, when the network architecture, those options or
the data differ, or when the latest checkpoint is damaged: it does NOT silently fall back to
an older one (delete the damaged file to resume from the previous checkpoint).
``max_epochs``, validation, display and backend options may change between the two calls.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from . import io

FORMAT = "cnnlab-checkpoint"
_NAME = re.compile(r"^checkpoint_epoch_(\d+)\.cnnlab$")


class Run:
    """The mutable state of one training run (what a checkpoint saves and restores)."""

    def __init__(self, net, solver, shuffle_rng, order, info, options, X, T):
        self.net, self.solver, self.shuffle_rng, self.order = net, solver, shuffle_rng, order
        self.info, self.options, self.X, self.T = info, options, X, T
        self.epochs_done = 0
        self._fingerprint = None

    def data_fingerprint(self) -> dict:
        if self._fingerprint is None:
            self._fingerprint = {
                "images_shape": list(self.X.shape), "images_dtype": self.X.dtype.name,
                "targets_shape": list(self.T.shape),
                "images_sha256": hashlib.sha256(np.ascontiguousarray(self.X)).hexdigest(),
                "targets_sha256": hashlib.sha256(np.ascontiguousarray(self.T)).hexdigest()}
        return self._fingerprint


def _architecture_differences(net, manifest: dict) -> list[str]:
    """How ``net``'s layers differ from a saved architecture (empty if they agree)."""
    saved = manifest.get("layers") or []
    mine = io.network_manifest(net)
    diffs = []
    if list(mine["input_size"]) != list(manifest.get("input_size") or []):
        diffs.append(f"input size {tuple(mine['input_size'])} vs saved "
                     f"{tuple(manifest.get('input_size') or ())}")
    if mine["dtype"] != manifest.get("dtype"):
        diffs.append(f"dtype {mine['dtype']} vs saved {manifest.get('dtype')}")
    if len(saved) != len(mine["layers"]):
        diffs.append(f"{len(mine['layers'])} layers vs saved {len(saved)}")
        return diffs
    ours, theirs = mine.get("connections"), manifest.get("connections")
    if ours != theirs:                    # a layer graph's branches (None for a chain)
        extra = sorted(map(tuple, ours or [])) if ours else []
        gone = sorted(map(tuple, theirs or [])) if theirs else []
        new = [f"{s} -> {d}" for s, d in extra if [s, d] not in (theirs or [])]
        old = [f"{s} -> {d}" for s, d in gone if [s, d] not in (ours or [])]
        diffs.append("connections differ" + (f"; not saved: {', '.join(new)}" if new else "")
                     + (f"; only saved: {', '.join(old)}" if old else ""))
    for i, (a, b) in enumerate(zip(mine["layers"], saved)):
        if a["class"] != b.get("class"):
            diffs.append(f"layer {i + 1} is {a['class']}, saved {b.get('class')}")
            continue
        cb = b.get("config", {})
        for key in sorted(set(a["config"]) | set(cb)):
            va, vb = a["config"].get(key), cb.get(key)
            if key == "classes" and va is None:
                continue                  # names set by training on the saved network
            if va != vb:
                diffs.append(f"layer {i + 1} ({a['class']}) {key} = {va!r}, saved {vb!r}")
    return diffs


def checkpoint_file(folder, epoch: int) -> Path:
    return Path(folder) / f"checkpoint_epoch_{int(epoch):04d}.cnnlab"


def checkpoints(folder) -> list[Path]:
    """The checkpoint files in ``folder``, oldest epoch first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def latest(folder) -> Path | None:
    found = checkpoints(folder)
    return found[-1] if found else None


def save(folder, run: Run) -> Path:
    """Write the checkpoint of the epoch ``run`` just completed (atomically)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"checkpoint_path {str(folder)!r} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    info_meta, history = run.info.state()
    meta = {"network": io.network_manifest(run.net), "epoch": run.epochs_done,
            "iteration": run.info.iteration, "solver_step": run.solver.t,
            "solver": run.solver.hyperparameters(),
            "shuffle_rng": run.shuffle_rng.bit_generator.state,
            "options": run.options.solver_fingerprint(), "data": run.data_fingerprint(),
            "info": info_meta}
    arrays = io.network_arrays(run.net, "network/")
    arrays.update({f"solver/{k}": v for k, v in run.solver.state_arrays().items()})
    arrays.update({f"history/{k}": v for k, v in history.items()})
    arrays["training/order"] = np.asarray(run.order)
    return io.save_state(checkpoint_file(folder, run.epochs_done), arrays, meta, format=FORMAT)


def load(path):
    """(arrays, meta) of a checkpoint file; a damaged or foreign file -> ValueError."""
    return io.load_state(path, format=FORMAT)


def load_network(path, *, backend: str | None = None):
    """The network stored in a checkpoint (to inspect or evaluate it)."""
    arrays, meta = load(path)
    return io.network_from_manifest(meta["network"], arrays, source=str(path),
                                    prefix="network/", backend=backend)


def resume(folder, run: Run) -> bool:
    """Restore ``run`` from the latest checkpoint in ``folder``; False if there is none."""
    path = latest(folder)
    if path is None:
        return False
    found = checkpoints(folder)
    try:
        arrays, meta = load(path)
    except ValueError as e:
        hint = (f"delete it to resume from {found[-2].name}" if len(found) > 1
                else "delete it to start training afresh")
        raise ValueError(f"{e}. It is the latest checkpoint in {str(folder)!r}; {hint}") \
            from None
    where = f"cannot resume from checkpoint {str(path)!r}"
    epoch = int(meta["epoch"])
    if epoch > run.options.max_epochs:
        raise ValueError(f"{where}: it was saved after epoch {epoch}, beyond max_epochs = "
                         f"{run.options.max_epochs}")
    diffs = _architecture_differences(run.net, meta["network"])
    if diffs:
        raise ValueError(f"{where}: it was saved for a different network: " + "; ".join(diffs))
    mine, saved = run.options.solver_fingerprint(), meta["options"]
    if run.options.seed is None:
        mine["seed"] = saved.get("seed")          # a random seed: take the run's own
    changed = [f"{k} = {mine.get(k)!r} (checkpoint: {saved.get(k)!r})"
               for k in sorted(set(mine) | set(saved)) if mine.get(k) != saved.get(k)]
    if changed:
        raise ValueError(f"{where}: these training options differ from the checkpoint's: "
                         + "; ".join(changed) + ". Use another checkpoint_path to start afresh")
    data, saved_data = run.data_fingerprint(), meta["data"]
    if data != saved_data:
        shapes = (f"images {tuple(data['images_shape'])} and targets "
                  f"{tuple(data['targets_shape'])}; the checkpoint's: images "
                  f"{tuple(saved_data.get('images_shape', ()))} and targets "
                  f"{tuple(saved_data.get('targets_shape', ()))}")
        raise ValueError(f"{where}: it was written for different training data ({shapes}"
                         + (", same shapes but different values" if
                            data["images_shape"] == saved_data.get("images_shape") else "")
                         + ")")
    io.restore_network(run.net, meta["network"], arrays, source=str(path), prefix="network/")
    for layer, spec in zip(run.net.layers, meta["network"]["layers"]):
        if "classes" in spec["config"] and getattr(layer, "classes", None) is None:
            layer.classes = spec["config"]["classes"]
    run.solver.load_state(meta["solver_step"], {k[len("solver/"):]: v for k, v in
                                                arrays.items() if k.startswith("solver/")})
    run.shuffle_rng.bit_generator.state = meta["shuffle_rng"]
    order = arrays["training/order"]
    if order.shape != (len(run.X),):
        raise ValueError(f"{where}: its image order has {order.shape} entries for "
                         f"{len(run.X)} images")
    run.order = order.copy()
    run.info.load_state(meta["info"], {k[len("history/"):]: v for k, v in arrays.items()
                                       if k.startswith("history/")})
    run.epochs_done = epoch
    run.info.resumed_from = str(path)
    return True
