"""MNIST and Fashion-MNIST from their IDX files: a strict reader, a writer, a loader, a downloader.

The IDX format (used by MNIST, Fashion-MNIST, EMNIST, KMNIST) is a tiny header followed by a
dense big-endian array:

======== ====================================================================================
bytes    meaning
======== ====================================================================================
0-1      zero
2        data type code (see ``IDX_TYPES``: 0x08 unsigned byte, 0x09 signed byte, ...)
3        number of dimensions D
4..4+4D  each dimension as a big-endian unsigned 32-bit integer
rest     prod(dimensions) values of that type, big-endian, last dimension fastest
======== ====================================================================================

So the *magic number* -- the first four bytes read as one integer -- is 0x00000803 for an
image file (unsigned bytes, 3 dimensions N x H x W) and 0x00000801 for a label file (1
dimension N). Files may be gzip-compressed (``.gz``), as the originals are distributed.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

# IDX type code -> (numpy dtype, big-endian, as stored; name used in messages)
IDX_TYPES: dict[int, tuple[np.dtype, str]] = {
    0x08: (np.dtype("u1"), "unsigned byte"),
    0x09: (np.dtype("i1"), "signed byte"),
    0x0B: (np.dtype(">i2"), "short (int16)"),
    0x0C: (np.dtype(">i4"), "int (int32)"),
    0x0D: (np.dtype(">f4"), "float (float32)"),
    0x0E: (np.dtype(">f8"), "double (float64)"),
}
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

_KINDS = {"train": "train", "t10k": "t10k", "test": "t10k"}


def _file_names(prefix: str) -> tuple[str, str]:
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped if it is gzip data (detected by content, not by name)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: damaged or truncated gzip data ({exc})") from exc
    if path.suffix == ".gz":
        raise ValueError(f"{path}: the name ends in .gz but the content is not gzip data")
    return data


def _parse_idx(data: bytes, where) -> tuple[np.ndarray, int]:
    """Parse IDX bytes; returns (array in native byte order, magic number)."""
    if len(data) < 4:
        raise ValueError(f"{where}: truncated: {len(data)} bytes, too short for the 4-byte "
                         "IDX magic number")
    magic = int.from_bytes(data[:4], "big")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"{where}: bad magic number 0x{magic:08X}: an IDX file starts with "
                         "two zero bytes (images 0x00000803, labels 0x00000801); is this an "
                         "IDX file?")
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X} {name}" for c, (_, name) in IDX_TYPES.items())
        raise ValueError(f"{where}: bad magic number 0x{magic:08X}: unknown IDX data type "
                         f"code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise ValueError(f"{where}: bad magic number 0x{magic:08X}: declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{where}: truncated: the header declares {ndim} dimensions "
                         f"({header} header bytes) but the file has only {len(data)} bytes")
    dims = tuple(int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
    dtype, name = IDX_TYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    shape = " x ".join(map(str, dims))
    if found < expected:
        raise ValueError(f"{where}: truncated: the header declares {shape} values of "
                         f"{name} = {expected:,} data bytes, but only {found:,} follow")
    if found > expected:
        raise ValueError(f"{where}: {found - expected:,} unexpected bytes after the "
                         f"{expected:,} data bytes the header declares ({shape} of {name})")
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return array.reshape(dims).astype(dtype.newbyteorder("="), copy=True), magic


def read_idx(path) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a numpy array of the shape its header declares.

    The header is validated strictly: magic number (two zero bytes, a known type code, at
    least one dimension) and file length (exactly header + prod(dims) * itemsize bytes). Any
    problem raises ``ValueError`` naming the file and what is wrong (truncated, trailing bytes,
    bad magic, damaged gzip). The result is writable, in native byte order, with the dtype of
    the type code (``IDX_TYPES``): uint8 for MNIST images (N, 28, 28) and labels (N,).
    """
    path = Path(path)
    return _parse_idx(_read_bytes(path), path)[0]


def write_idx(path, array) -> Path:
    """Write ``array`` as an IDX file; gzip-compressed if ``path`` ends in ``.gz``.

    The dtype must be one IDX stores: uint8, int8, int16, int32, float32 or float64
    (anything else -> ``ValueError``); at most 255 dimensions, each < 2**32. The gzip header
    carries no time stamp, so the same array always gives the same bytes. Returns the path.
    """
    path = Path(path)
    a = np.asarray(array)
    for code, (dtype, _) in IDX_TYPES.items():
        if a.dtype.kind == dtype.kind and a.dtype.itemsize == dtype.itemsize:
            break
    else:
        raise ValueError(f"{path}: IDX cannot store dtype {a.dtype} (use uint8, int8, int16, "
                         "int32, float32 or float64)")
    if a.ndim == 0 or a.ndim > 255 or any(d >= 2**32 for d in a.shape):
        raise ValueError(f"{path}: IDX needs 1 to 255 dimensions each < 2**32, got {a.shape}")
    header = bytes([0, 0, code, a.ndim]) + b"".join(d.to_bytes(4, "big") for d in a.shape)
    data = header + np.ascontiguousarray(a, dtype=dtype).tobytes()
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def _find(folder: Path, name: str) -> Path | None:
    """The file ``name`` in ``folder``, raw or .gz; also the 'name.idx3-ubyte' spelling some
    archives use instead of 'name-idx3-ubyte'."""
    alt = name.replace("-idx", ".idx")
    for candidate in (name, name + ".gz", alt, alt + ".gz"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def load_mnist(path, *, kind: str = "train"):
    """Load MNIST or Fashion-MNIST (or any data set in the same layout) from a folder.

    ``path`` is a folder holding ``{kind}-images-idx3-ubyte`` and ``{kind}-labels-idx1-ubyte``,
    each raw or gzipped (``.gz``); ``kind`` is ``"train"`` or ``"t10k"`` (``"test"`` is an
    alias for ``"t10k"``).

    Returns ``X``: uint8 (N, H, W, 1), channels last (N, 28, 28, 1 for MNIST), and ``y``:
    int64 (N,).

    Raises ``FileNotFoundError`` (listing the expected file names) if a file is missing, and
    ``ValueError`` for a bad ``kind``, a malformed file (see :func:`read_idx`), a file of the
    wrong sort (an image file must have magic 0x00000803, a label file 0x00000801) or a
    label count different from the image count.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'train' or 't10k' (or 'test'), got {kind!r}")
    prefix = _KINDS[kind]
    folder = Path(path)
    images_name, labels_name = _file_names(prefix)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder; expected a folder with "
                                f"{images_name}[.gz] and {labels_name}[.gz]")
    found = {name: _find(folder, name) for name in (images_name, labels_name)}
    missing = [name for name, p in found.items() if p is None]
    if missing:
        every = ", ".join(n for k in ("train", "t10k") for n in _file_names(k))
        raise FileNotFoundError(
            f"{folder}: missing {' and '.join(m + '[.gz]' for m in missing)}; an MNIST-style "
            f"folder holds {every} (each raw or .gz)")
    images_path, labels_path = found[images_name], found[labels_name]
    images, magic = _parse_idx(_read_bytes(images_path), images_path)
    if magic != IMAGES_MAGIC:
        raise ValueError(f"{images_path}: expected an image file, magic number "
                         f"0x{IMAGES_MAGIC:08X} (unsigned bytes, 3 dimensions N x H x W), found "
                         f"0x{magic:08X} "
                         f"(shape {images.shape}, dtype {images.dtype})")
    labels, magic = _parse_idx(_read_bytes(labels_path), labels_path)
    if magic != LABELS_MAGIC:
        raise ValueError(f"{labels_path}: expected a label file, magic number "
                         f"0x{LABELS_MAGIC:08X} (unsigned bytes, 1 dimension N), found "
                         f"0x{magic:08X} "
                         f"(shape {labels.shape}, dtype {labels.dtype})")
    if len(labels) != len(images):
        raise ValueError(f"label count {len(labels):,} in {labels_path} does not match image "
                         f"count {len(images):,} in {images_path}")
    return images[..., None], labels.astype(np.int64)


# --- download ------------------------------------------------------------------------------------

# The gzipped files and their published MD5 sums (as listed by the data sets' own pages and by
# torchvision). MD5 is used here only to detect corrupted or wrong files, not against attackers.
DATASETS: dict[str, dict] = {
    "mnist": {
        "urls": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        "checksums": {
            "train-images-idx3-ubyte.gz": "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "md5:d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "md5:9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "md5:ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
    "fashion-mnist": {
        "urls": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                 "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/"
                 "data/fashion/"),
        "checksums": {
            "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
        },
    },
}
_FILES = tuple(n + ".gz" for k in ("train", "t10k") for n in _file_names(k))
_HEX_ALGORITHMS = {32: "md5", 40: "sha1", 64: "sha256"}


def default_cache_dir(dataset: str) -> Path:
    """Where :func:`download_mnist` puts ``dataset``: ``$CNNLAB_DATA/<dataset>`` if the
    environment variable ``CNNLAB_DATA`` is set, else ``~/.cache/cnnlab/<dataset>``."""
    root = os.environ.get("CNNLAB_DATA")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "cnnlab"
    return base / dataset


def _parse_checksum(spec: str, name: str) -> tuple[str, str]:
    """'md5:<hex>' / 'sha256:<hex>' or bare hex (algorithm from its length) -> (algo, hex)."""
    algo, sep, digest = spec.partition(":")
    if not sep:
        algo, digest = _HEX_ALGORITHMS.get(len(spec), ""), spec
    digest = digest.lower()
    if algo not in hashlib.algorithms_available or not digest:
        raise ValueError(f"checksum for {name}: cannot understand {spec!r} "
                         "(expected 'md5:<hex>', 'sha256:<hex>' or a bare hex digest)")
    return algo, digest


def _hash_file(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download_mnist(dataset: str = "mnist", *, cache_dir=None, base_url=None, checksums=None,
                   timeout: float = 60.0) -> Path:
    """Download the four gzipped IDX files of MNIST or Fashion-MNIST, verify them, cache them.

    Parameters
    ----------
    dataset: ``"mnist"`` or ``"fashion-mnist"``.
    cache_dir: root of the cache; the files go to ``cache_dir/<dataset>``. Default: the
        ``CNNLAB_DATA`` environment variable if set, else ``~/.cache/cnnlab``.
    base_url: a URL (or a sequence of mirror URLs, tried in order) that the file names are
        appended to; ``file://`` URLs work too. Default: the data set's known mirrors.
    checksums: mapping file name -> ``"md5:<hex>"`` / ``"sha256:<hex>"`` (or bare hex), used
        instead of the built-in table of published MD5 sums (``DATASETS``). A file with an
        entry must match it; a file without an entry is accepted unverified.
    timeout: seconds to wait for a server.

    Returns the folder holding the files, ready for :func:`load_mnist`.

    Files already in the cache that verify are not downloaded again. Each download is written
    to a temporary file in the cache folder and renamed over the final name only after its
    checksum verifies, so an interrupted or corrupted download never leaves a file that looks
    complete. A checksum mismatch deletes the temporary file and raises ``ValueError``; if no
    mirror can be reached, ``ConnectionError`` lists the URLs tried.
    """
    key = str(dataset).lower()
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    info = DATASETS[key]
    folder = (Path(cache_dir).expanduser() / key) if cache_dir is not None \
        else default_cache_dir(key)
    if base_url is None:
        urls = info["urls"]
    elif isinstance(base_url, str):
        urls = (base_url,)
    else:
        urls = tuple(base_url)
    table = info["checksums"] if checksums is None else dict(checksums)
    folder.mkdir(parents=True, exist_ok=True)
    for name in _FILES:
        expected = _parse_checksum(table[name], name) if table.get(name) else None
        target = folder / name
        if target.is_file() and (expected is None or
                                 _hash_file(target, expected[0]) == expected[1]):
            continue            # cached and verified; a file that does not verify is replaced
        _download_one(name, urls, target, expected, timeout)
    return folder


def _download_one(name: str, urls, target: Path, expected, timeout: float) -> None:
    errors = []
    for base in urls:
        url = base.rstrip("/") + "/" + name
        fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            try:
                with os.fdopen(fd, "wb") as out, \
                        urllib.request.urlopen(url, timeout=timeout) as response:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        out.write(block)
            except (urllib.error.URLError, OSError) as exc:
                errors.append(f"{url}: {getattr(exc, 'reason', exc)}")
                continue        # try the next mirror
            if expected is not None:
                algo, digest = expected
                got = _hash_file(tmp, algo)
                if got != digest:
                    raise ValueError(f"checksum mismatch for {name} downloaded from {url}: "
                                     f"expected {algo} {digest}, got {got}; the download was "
                                     "deleted")
            os.replace(tmp, target)
            return
        finally:
            tmp.unlink(missing_ok=True)
    raise ConnectionError(f"could not download {name}; tried:\n  " + "\n  ".join(errors))
