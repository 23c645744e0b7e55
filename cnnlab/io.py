"""Saving and loading networks: architecture as JSON, numbers as .npy arrays, no pickle.

    cl.save(net, "lenet.cnnlab")
    net = cl.load("lenet.cnnlab")          # a damaged or foreign file -> ValueError

A ``.cnnlab`` file is a ZIP archive (stored, not compressed) with two members:

``manifest.json``
    format name and version, cnnlab version, dtype, backend, seed and random-generator state,
    input size, the layers as ``{"class": "Convolution2D", "config": layer.config(),
    "params": [...], "state": [...]}`` (a layer graph's in topological order, with its
    ``"connections"``: ``[["relu_1", "add_1/in2"], ...]``), and for every array its shape,
    dtype and SHA-256.
``arrays.npz``
    ``np.savez`` output: parameters and state per layer, keys like ``"conv_1/weights"`` and
    ``"batchnorm_1/trained_mean"``; read back with ``allow_pickle=False``.

The ZIP comment, the last bytes of the file, is ``cnnlab-sha256:`` followed by the SHA-256 of
everything before the digest, so a bit changed anywhere (or a truncated file) is refused before
anything is parsed; each member also has the ZIP's CRC-32 and each array its own SHA-256.

Loading never runs code from the file: layer classes come from an explicit registry of cnnlab's
own layers, configs are plain JSON, and ``np.load`` refuses pickled objects. Writes are atomic:
a temporary file in the same folder is written, flushed, fsync'ed and then renamed over the
target with ``os.replace``, so a failure midway leaves the previous file as it was.

The container itself (sealing, atomic writes, checksums) is ``cnnlab.container``; its
``save_state`` / ``load_state`` are re-exported here.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .container import (FORMAT_VERSION, STATE_FORMAT_NAME, cnnlab_version, json_default,
                        load_state, read_container, save_state, write_container)

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "STATE_FORMAT_NAME", "cnnlab_version", "load",
           "load_state", "save", "save_state", "layer_registry", "network_manifest",
           "network_arrays", "network_from_manifest", "restore_network"]

FORMAT_NAME = "cnnlab-network"
_LAYER_MODULES = ("input", "conv", "transposed", "pool", "norm", "activation", "dropout",
                  "dense", "output", "combine")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


# ---- networks --------------------------------------------------------------------------------

def layer_registry() -> dict:
    """Class name -> class for every layer defined in cnnlab's own layer modules."""
    import importlib

    from .layers.base import Layer
    registry = {}
    for module_name in _LAYER_MODULES:
        full = f"{__package__}.layers.{module_name}"
        try:
            module = importlib.import_module(full)
        except ModuleNotFoundError as e:
            if e.name == full:
                continue                  # a layer family not written yet
            raise
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Layer) and obj is not Layer \
                    and obj.__module__ == full and not obj.__name__.startswith("_"):
                registry[obj.__name__] = obj
    return registry


def network_manifest(net) -> dict:
    """The architecture of ``net`` as JSON-compatible data (no arrays)."""
    layers = []
    for layer in net.layers:
        clash = set(layer.params) & set(layer.state)
        if clash:
            raise ValueError(f"save: {layer.label} has parameters and state with the same "
                             f"names {sorted(clash)}")
        layers.append({"class": type(layer).__name__, "config": layer.config(),
                       "params": list(layer.params), "state": list(layer.state)})
    manifest = {"dtype": net.dtype.name, "backend": net.backend, "seed": net.seed,
                "rng": net.rng.bit_generator.state, "input_size": list(net.input_size),
                "layers": json.loads(json.dumps(layers, default=json_default))}
    if net.is_graph:
        manifest["connections"] = [list(c) for c in net.connections]
    return manifest


def network_arrays(net, prefix: str = "") -> dict:
    """Every parameter and state array of ``net``: ``{prefix + "layer/key": array}``."""
    out = {}
    for layer in net.layers:
        for store in (layer.params, layer.state):
            for key, value in store.items():
                out[f"{prefix}{layer.name}/{key}"] = np.asarray(value)
    return out


def save(net, path) -> Path:
    """Save a Network (architecture, weights, state, random state) to one ``.cnnlab`` file."""
    from .network import Network
    if not isinstance(net, Network):
        raise TypeError(f"save: expected a cnnlab Network, got {type(net).__name__}")
    return write_container(path, {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                                   "cnnlab_version": cnnlab_version(),
                                   **network_manifest(net)}, network_arrays(net))


def load(path, *, backend: str | None = None):
    """The Network saved in ``path``; ``backend`` overrides the one it was saved with."""
    manifest, arrays = read_container(path, (FORMAT_NAME,))
    return network_from_manifest(manifest, arrays, source=str(path), backend=backend)


def _layers_from_manifest(manifest: dict, where: str) -> list:
    registry = layer_registry()
    specs = manifest.get("layers")
    if not isinstance(specs, list) or not specs:
        raise ValueError(f"{where}: the manifest has no layer list")
    layers = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
            raise ValueError(f"{where}: layer {i + 1} is not a {{'class', 'config'}} entry")
        name = spec.get("class")
        cls = registry.get(name) if isinstance(name, str) else None
        if cls is None:
            raise ValueError(f"{where}: layer {i + 1} has unknown layer class {name!r}; known "
                             f"classes: {', '.join(sorted(registry))}")
        # a custom initializer cannot be saved; the weights are restored, so draw zeros
        config = {k: ("zeros" if k.endswith("_initializer") and v == "custom" else v)
                  for k, v in spec["config"].items()}
        try:
            layers.append(cls(**config))
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: layer {i + 1} ({name}) cannot be built from its "
                             f"config: {e}") from None
    return layers


def _graph_from_manifest(layers, connections):
    """A LayerGraph of the saved layers (in their saved, topological order) and connections."""
    from .layer_graph import LayerGraph
    if not isinstance(connections, list) or not all(
            isinstance(c, list) and len(c) == 2 and all(isinstance(v, str) for v in c)
            for c in connections):
        raise ValueError("the connections are not a list of [source, destination] names")
    graph = LayerGraph()
    for layer in layers:
        graph.add_layers([layer])
    for source, destination in connections:
        graph.connect(source, destination)
    return graph


def _saved_backend(name) -> str:
    """The backend a file was saved with, as a preference: "fast" loads as "auto", so a
    machine without Numba still opens it (on the reference kernels, with a warning)."""
    return "auto" if name == "fast" else (name or "reference")


def network_from_manifest(manifest: dict, arrays: dict, *, source: str, prefix: str = "",
                          backend: str | None = None):
    """Rebuild a Network from ``network_manifest`` data and its arrays (keys after prefix)."""
    from .network import Network
    where = f"cannot load {source!r}"
    layers = _layers_from_manifest(manifest, where)
    try:
        if "connections" in manifest:
            layers = _graph_from_manifest(layers, manifest["connections"])
        net = Network(layers, seed=manifest.get("seed"), dtype=manifest.get("dtype"),
                      backend=backend or _saved_backend(manifest.get("backend")),
                      input_size=manifest.get("input_size"))
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"{where}: the saved layers do not form a network: {e}") from None
    restore_network(net, manifest, arrays, source=source, prefix=prefix)
    return net


def restore_network(net, manifest: dict, arrays: dict, *, source: str, prefix: str = "") -> None:
    """Copy saved parameters, state and random state into ``net`` (same architecture).

    Everything is checked (every key, shape and dtype) before anything is copied, so a
    refused file leaves ``net`` as it was.
    """
    where = f"cannot load {source!r}"
    specs = manifest.get("layers") or []
    if len(specs) != len(net.layers):
        raise ValueError(f"{where}: it has {len(specs)} layers, the network {len(net.layers)}")
    plan = []                                  # (layer, kind, key, array)
    for layer, spec in zip(net.layers, specs):
        saved_params = list(spec.get("params", []))
        if sorted(saved_params) != sorted(layer.params):
            raise ValueError(f"{where}: {layer.label} has parameters {sorted(layer.params)}, "
                             f"the file {sorted(saved_params)}")
        saved_state = list(spec.get("state", []))
        missing = sorted(set(layer.state) - set(saved_state))
        if missing:
            raise ValueError(f"{where}: {layer.label} state {missing} is not in the file")
        for kind, keys in (("params", saved_params), ("state", saved_state)):
            store = getattr(layer, kind)
            for key in keys:
                full = f"{prefix}{layer.name}/{key}"
                if full not in arrays:
                    raise ValueError(f"{where}: array {full!r} is missing")
                arr, old = arrays[full], store.get(key)
                if old is not None and np.shape(old) != arr.shape:
                    raise ValueError(f"{where}: array {full!r} has shape {arr.shape}; "
                                     f"{layer.label} needs {np.shape(old)}")
                if kind == "params" and arr.dtype != old.dtype:
                    raise ValueError(f"{where}: array {full!r} is {arr.dtype}, the network "
                                     f"is {old.dtype}")
                if kind == "state":     # e.g. an image input's statistics: shape and values
                    try:
                        arr = layer.check_state(key, arr)
                    except ValueError as e:
                        raise ValueError(f"{where}: array {full!r}: {e}") from None
                plan.append((layer, kind, key, arr))
    claimed = {f"{prefix}{layer.name}/{key}" for layer, _, key, _ in plan}
    unclaimed = sorted(k for k in arrays if k.startswith(prefix) and k not in claimed
                       and "/" in k[len(prefix):])
    if unclaimed:
        raise ValueError(f"{where}: arrays that belong to no layer parameter or state: "
                         f"{', '.join(unclaimed)}")
    rng = None
    state = manifest.get("rng")
    if isinstance(state, dict) and state.get("bit_generator") in _BIT_GENERATORS:
        bit_generator = getattr(np.random, state["bit_generator"])()
        try:
            bit_generator.state = state
        except (TypeError, ValueError, KeyError) as e:
            raise ValueError(f"{where}: the saved random generator state is invalid ({e})") \
                from None
        rng = np.random.Generator(bit_generator)
    for layer, kind, key, arr in plan:
        if kind == "params":
            layer.params[key][...] = arr           # in place: the layer keeps its array
        else:
            layer.state[key] = np.array(arr, copy=True)
        layer.release()                            # no cache computed with the old numbers
    if rng is not None:
        net.rng = rng
