"""Saving and loading networks: architecture as JSON, numbers as .npy arrays, no pickle.

    cl.save(net, "lenet.cnnlab")
    net = cl.load("lenet.cnnlab")          # a damaged or foreign file -> ValueError

A ``.cnnlab`` file is a ZIP archive (stored, not compressed) with two members:

``manifest.json``
    format name and version, cnnlab version, dtype, backend, seed and random-generator state,
    input size, the layers as ``{"class": "Convolution2D", "config": layer.config(),
    "params": [...], "state": [...]}``, and for every array its shape, dtype and SHA-256.
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

``save_state`` / ``load_state`` use the same container for any named arrays plus JSON metadata
(the training checkpoints).
"""
from __future__ import annotations

import hashlib
import io as _bytes_io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

FORMAT_NAME = "cnnlab-network"
STATE_FORMAT_NAME = "cnnlab-state"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
TRAILER = b"cnnlab-sha256:"
_DIGEST_LEN = 64
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)      # fixed, so saving the same network gives the same bytes
_LAYER_MODULES = ("input", "conv", "transposed", "pool", "norm", "activation", "dropout",
                  "dense", "output")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


# ---- the container ---------------------------------------------------------------------------

def _sha256(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} value {value!r} cannot be written as JSON")


def _seal(body: bytes) -> bytes:
    """Replace the placeholder digest at the end of ``body`` by the SHA-256 of the rest."""
    head = body[:-_DIGEST_LEN]
    return head + hashlib.sha256(head).hexdigest().encode("ascii")


def _pack(manifest_bytes: bytes, npz_bytes: bytes) -> bytes:
    """The bytes of a container holding these two members, sealed with its checksum."""
    buf = _bytes_io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in (("manifest.json", manifest_bytes), ("arrays.npz", npz_bytes)):
            zf.writestr(zipfile.ZipInfo(name, date_time=_ZIP_DATE), data)
        zf.comment = TRAILER + b"0" * _DIGEST_LEN
    return _seal(buf.getvalue())


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:                                  # make the rename itself durable (POSIX only)
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _write_container(path, manifest: dict, arrays: dict) -> Path:
    path = Path(path)
    entries = {}
    clean = {}
    for key, value in arrays.items():
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"save {path}: array {key!r} has dtype {arr.dtype}; only numeric "
                             "arrays can be saved")
        clean[key] = np.ascontiguousarray(arr)
        entries[key] = {"shape": list(arr.shape), "dtype": arr.dtype.str,
                        "sha256": _sha256(arr)}
    manifest = {**manifest, "arrays": entries}
    manifest_bytes = json.dumps(manifest, indent=1, default=_json_default).encode("utf-8")
    npz = _bytes_io.BytesIO()
    np.savez(npz, **clean)
    _atomic_write(path, _pack(manifest_bytes, npz.getvalue()))
    return path


def _read_container(path, formats: tuple[str, ...]):
    """(manifest, arrays) from a container file, or a ValueError naming the file and fault."""
    path = Path(path)
    where = f"cannot load {str(path)!r}"
    if path.is_dir():
        raise ValueError(f"{where}: it is a folder, not a cnnlab file")
    data = path.read_bytes()
    if not data.startswith(b"PK\x03\x04"):
        raise ValueError(f"{where}: it is not a cnnlab file (not a ZIP archive)")
    if data[-(_DIGEST_LEN + len(TRAILER)):-_DIGEST_LEN] != TRAILER:
        if zipfile.is_zipfile(_bytes_io.BytesIO(data)):
            raise ValueError(f"{where}: it is a ZIP archive but not a cnnlab file (no cnnlab "
                             "checksum at its end), or it was damaged")
        raise ValueError(f"{where}: the file is truncated or damaged (the end of the ZIP "
                         f"archive is missing; {len(data)} bytes)")
    if hashlib.sha256(data[:-_DIGEST_LEN]).hexdigest().encode("ascii") != data[-_DIGEST_LEN:]:
        raise ValueError(f"{where}: the file is damaged: its SHA-256 checksum does not match "
                         "its contents (it was changed or corrupted after it was written)")
    try:
        with zipfile.ZipFile(_bytes_io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            for member in ("manifest.json", "arrays.npz"):
                if member not in names:
                    raise ValueError(f"{where}: the archive has no {member}; it is not a "
                                     "cnnlab file")
            manifest_bytes = zf.read("manifest.json")
            npz_bytes = zf.read("arrays.npz")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as e:
        raise ValueError(f"{where}: the ZIP archive is damaged ({e})") from None
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{where}: manifest.json is not valid JSON ({e})") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{where}: manifest.json is not a JSON object")
    fmt = manifest.get("format")
    if fmt not in formats:
        raise ValueError(f"{where}: it holds format {fmt!r}; expected "
                         f"{' or '.join(map(repr, formats))}")
    version = manifest.get("format_version")
    supported = ", ".join(map(str, SUPPORTED_VERSIONS))
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{where}: unknown format version {version!r}; this cnnlab reads "
                         f"format versions {supported}")
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"{where}: format version {version} was written by a newer cnnlab "
                         f"(version {manifest.get('cnnlab_version')}); this cnnlab reads "
                         f"format versions {supported}: upgrade cnnlab to load it")
    entries = manifest.get("arrays")
    if not isinstance(entries, dict):
        raise ValueError(f"{where}: the manifest does not list the arrays")
    try:
        with np.load(_bytes_io.BytesIO(npz_bytes), allow_pickle=False) as npz:
            stored = set(npz.files)
            arrays = {key: npz[key] for key in entries if key in stored}
    except Exception as e:          # a pickled object array, a malformed .npy header, ...
        raise ValueError(f"{where}: arrays.npz is damaged or not allowed ({type(e).__name__}: "
                         f"{e})") from None
    missing = sorted(set(entries) - stored)
    if missing:
        raise ValueError(f"{where}: arrays missing from arrays.npz: {', '.join(missing)}")
    extra = sorted(stored - set(entries))
    if extra:
        raise ValueError(f"{where}: arrays.npz holds arrays the manifest does not list: "
                         f"{', '.join(extra)}")
    for key, entry in entries.items():
        arr = arrays[key]
        if not isinstance(entry, dict) or list(arr.shape) != entry.get("shape") \
                or arr.dtype.str != entry.get("dtype"):
            raise ValueError(f"{where}: array {key!r} is {arr.dtype.str} of shape "
                             f"{list(arr.shape)}, the manifest says {entry}")
        if _sha256(arr) != entry.get("sha256"):
            raise ValueError(f"{where}: array {key!r} does not match its SHA-256 checksum")
    return manifest, arrays


def save_state(path, arrays: dict, meta: dict, *, format: str = STATE_FORMAT_NAME) -> Path:
    """Write named numeric arrays and JSON metadata to ``path`` atomically.

    ``meta`` must be JSON-compatible (NumPy scalars and tuples are converted); its keys
    "format", "format_version" and "arrays" are reserved.
    """
    reserved = {"format", "format_version", "arrays"} & set(meta)
    if reserved:
        raise ValueError(f"save_state: meta keys {sorted(reserved)} are reserved")
    return _write_container(path, {"format": format, "format_version": FORMAT_VERSION,
                                   "cnnlab_version": cnnlab_version(), **meta}, arrays)


def load_state(path, *, format: str | tuple[str, ...] = STATE_FORMAT_NAME):
    """(arrays, meta) written by ``save_state``; a damaged or foreign file -> ValueError."""
    formats = (format,) if isinstance(format, str) else tuple(format)
    manifest, arrays = _read_container(path, formats)
    meta = {k: v for k, v in manifest.items() if k != "arrays"}
    return arrays, meta


def cnnlab_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("cnnlab")
    except (ImportError, PackageNotFoundError):
        import cnnlab
        return str(getattr(cnnlab, "__version__", "unknown"))


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
    return {"dtype": net.dtype.name, "backend": net.backend, "seed": net.seed,
            "rng": net.rng.bit_generator.state, "input_size": list(net.input_size),
            "layers": json.loads(json.dumps(layers, default=_json_default))}


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
    return _write_container(path, {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                                   "cnnlab_version": cnnlab_version(),
                                   **network_manifest(net)}, network_arrays(net))


def load(path, *, backend: str | None = None):
    """The Network saved in ``path``; ``backend`` overrides the one it was saved with."""
    manifest, arrays = _read_container(path, (FORMAT_NAME,))
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
        net = Network(layers, seed=manifest.get("seed"), dtype=manifest.get("dtype"),
                      backend=backend or _saved_backend(manifest.get("backend")),
                      input_size=manifest.get("input_size"))
    except (TypeError, ValueError) as e:
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
        layer._cache = None
    if rng is not None:
        net.rng = rng
