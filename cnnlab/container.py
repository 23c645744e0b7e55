"""The ``.cnnlab`` container: named arrays plus JSON metadata in one sealed, atomic file.

A container is a ZIP archive (stored, not compressed) with two members:

``manifest.json``
    format name and version, cnnlab version, the caller's metadata, and for every array its
    shape, dtype and SHA-256.
``arrays.npz``
    ``np.savez`` output, read back with ``allow_pickle=False`` (loading never runs code).

The ZIP comment, the last bytes of the file, is ``cnnlab-sha256:`` followed by the SHA-256 of
everything before the digest, so a bit changed anywhere (or a truncated file) is refused before
anything is parsed; each member also has the ZIP's CRC-32 and each array its own SHA-256.
Writes are atomic: a temporary file in the same folder is written, flushed, fsync'ed and then
renamed over the target with ``os.replace``, so a failure midway leaves the previous file as it
was.

``cnnlab.io`` stores networks in it; ``cnnlab.checkpoint`` stores training checkpoints.
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

STATE_FORMAT_NAME = "cnnlab-state"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
TRAILER = b"cnnlab-sha256:"
_DIGEST_LEN = 64
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)      # fixed, so saving the same network gives the same bytes


def _sha256(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def json_default(value):
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


def write_container(path, manifest: dict, arrays: dict) -> Path:
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
    manifest_bytes = json.dumps(manifest, indent=1, default=json_default).encode("utf-8")
    npz = _bytes_io.BytesIO()
    np.savez(npz, **clean)
    _atomic_write(path, _pack(manifest_bytes, npz.getvalue()))
    return path


def read_container(path, formats: tuple[str, ...]):
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
    return write_container(path, {"format": format, "format_version": FORMAT_VERSION,
                                   "cnnlab_version": cnnlab_version(), **meta}, arrays)


def load_state(path, *, format: str | tuple[str, ...] = STATE_FORMAT_NAME):
    """(arrays, meta) written by ``save_state``; a damaged or foreign file -> ValueError."""
    formats = (format,) if isinstance(format, str) else tuple(format)
    manifest, arrays = read_container(path, formats)
    meta = {k: v for k, v in manifest.items() if k != "arrays"}
    return arrays, meta


def cnnlab_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("cnnlab")
    except (ImportError, PackageNotFoundError):
        import cnnlab
        return str(getattr(cnnlab, "__version__", "unknown"))
