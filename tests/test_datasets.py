"""cnnlab.datasets: generated digits, the IDX reader/writer, the MNIST loader and downloader.

No test touches the network: downloads go through file:// URLs of files the tests write.
"""
from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest

from cnnlab import datasets as ds
from cnnlab.datasets import idx as idx_module

# --- generated digits -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    return ds.make_digits(200, seed=7)


def test_shapes_dtypes_and_value_range(digits):
    X, y = digits
    assert X.shape == (200, 28, 28, 1) and X.dtype == np.uint8
    assert y.shape == (200,) and y.dtype == np.int64
    assert set(np.unique(y).tolist()) == set(range(10))
    # White ink on a black background, like MNIST: strokes saturate, borders are dark.
    assert np.percentile(X.reshape(200, -1).max(axis=1), 10) >= 230
    border = np.concatenate([X[:, :2].ravel(), X[:, -2:].ravel(),
                             X[:, :, :2].ravel(), X[:, :, -2:].ravel()])
    assert border.mean() < 8
    assert 0.05 < (X > 128).mean() < 0.35


def test_digits_are_centred_like_mnist(digits):
    X, _ = digits
    img = X[..., 0].astype(np.float64)
    mass = img.sum(axis=(1, 2))
    rows = (img.sum(axis=2) * np.arange(28)).sum(axis=1) / mass
    cols = (img.sum(axis=1) * np.arange(28)).sum(axis=1) / mass
    assert np.all(np.abs(rows - 13.5) < 4) and np.all(np.abs(cols - 13.5) < 4)
    assert abs(rows.mean() - 13.5) < 0.7 and abs(cols.mean() - 13.5) < 0.7
    # The ink fits in (roughly) MNIST's 20 x 20 box, never touching the image edge much.
    ink_rows = (img > 64).any(axis=2)
    height = 28 - ink_rows.argmax(axis=1) - ink_rows[:, ::-1].argmax(axis=1)
    assert 16 <= np.median(height) <= 23


def test_same_seed_is_bit_identical_and_seeds_differ(digits):
    X, y = digits
    X2, y2 = ds.make_digits(200, seed=7)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, y3 = ds.make_digits(200, seed=8)
    assert not np.array_equal(y, y3)
    assert not np.array_equal(X, X3)
    # Even the images of one class are different drawings under another seed.
    assert not np.array_equal(X[y == 3][:5], X3[y3 == 3][:5])


def test_images_within_a_set_are_all_different(digits):
    X, _ = digits
    assert len(np.unique(X.reshape(len(X), -1), axis=0)) == len(X)


@pytest.mark.parametrize("n", [0, 1, 9, 10, 23, 101])
def test_classes_balanced_and_shuffled(n):
    X, y = ds.make_digits(n, seed=1)
    assert X.shape == (n, 28, 28, 1) and y.shape == (n,)
    counts = np.bincount(y, minlength=10)
    assert counts.sum() == n
    assert set(counts.tolist()) <= {n // 10, n // 10 + 1}


def test_labels_order_is_shuffled():
    _, y = ds.make_digits(100, seed=0)
    assert not np.array_equal(y, np.arange(100) % 10)
    assert not np.array_equal(y, np.sort(y))


def test_other_image_size():
    X, y = ds.make_digits(12, seed=0, image_size=32)
    assert X.shape == (12, 32, 32, 1) and X.dtype == np.uint8 and X.max() > 200


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_images=-1), "num_images"),
    (dict(num_images=5, image_size=4), "image_size"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ds.make_digits(**kwargs)


def test_digits_split_is_independent_and_documented():
    X_train, y_train, X_test, y_test = ds.digits_split(60, 30, seed=4)
    assert X_train.shape == (60, 28, 28, 1) and X_test.shape == (30, 28, 28, 1)
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert set(np.bincount(y_test, minlength=10).tolist()) == {3}
    # Deterministic, and exactly the documented derivation of the two streams.
    train_ss, test_ss = np.random.SeedSequence(4).spawn(2)
    Xa, ya = ds.make_digits(60, seed=train_ss)
    Xb, yb = ds.make_digits(30, seed=test_ss)
    assert np.array_equal(X_train, Xa) and np.array_equal(y_train, ya)
    assert np.array_equal(X_test, Xb) and np.array_equal(y_test, yb)
    # Independent: no test image is a copy of a training image, and neither stream is the
    # plain integer seed's stream.
    train_rows = {row.tobytes() for row in X_train.reshape(60, -1)}
    assert not any(row.tobytes() in train_rows for row in X_test.reshape(30, -1))
    X4, _ = ds.make_digits(60, seed=4)
    assert not np.array_equal(X4, X_train)
    # Another seed, another split.
    assert not np.array_equal(ds.digits_split(60, 30, seed=5)[0], X_train)


def test_class_names():
    assert ds.class_names == ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


def test_glyph_bank_is_cached_and_read_only():
    from cnnlab.datasets._glyphs import glyph_bank
    bank = glyph_bank()
    assert glyph_bank() is bank
    assert bank.images.dtype == np.uint8 and bank.images.shape[1] == 10
    assert not bank.images.flags.writeable
    assert np.all(bank.images.sum(axis=(3, 4)) > 0)           # no empty glyph


# --- IDX files -------------------------------------------------------------------------------

def _idx_bytes(type_code, dims, payload: bytes) -> bytes:
    """An IDX file written by hand from the format description (independent of write_idx)."""
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


def test_read_idx_hand_written_raw_and_gzip(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    raw = _idx_bytes(0x08, images.shape, images.tobytes())
    (tmp_path / "img").write_bytes(raw)
    (tmp_path / "img.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "lab").write_bytes(_idx_bytes(0x08, (5,), labels.tobytes()))
    for name in ("img", "img.gz"):
        got = ds.read_idx(tmp_path / name)
        assert got.dtype == np.uint8 and np.array_equal(got, images)
    assert np.array_equal(ds.read_idx(str(tmp_path / "lab")), labels)
    # Multi-byte types are big-endian in the file and native in the result.
    values = [1, -2, 30000]
    (tmp_path / "short").write_bytes(_idx_bytes(0x0B, (3,), struct.pack(">3h", *values)))
    got = ds.read_idx(tmp_path / "short")
    assert got.dtype == np.int16 and got.dtype.isnative and got.tolist() == values
    (tmp_path / "dbl").write_bytes(_idx_bytes(0x0E, (2, 1), struct.pack(">2d", 0.5, -1e300)))
    assert ds.read_idx(tmp_path / "dbl").tolist() == [[0.5], [-1e300]]


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8", ">i4", "<f8"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_read_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(1)
    a = (rng.normal(0, 50, (3, 2, 5))).astype(dtype)
    path = ds.write_idx(tmp_path / f"a{suffix}", a)
    back = ds.read_idx(path)
    assert back.shape == a.shape and back.dtype == a.dtype.newbyteorder("=")
    assert np.array_equal(back, a)
    assert back.flags.writeable
    # Byte-exact with the hand-written format, and the same bytes every time.
    code = {"u": {1: 0x08}, "i": {1: 0x09, 2: 0x0B, 4: 0x0C}, "f": {4: 0x0D, 8: 0x0E}}
    expected = _idx_bytes(code[a.dtype.kind][a.dtype.itemsize], a.shape,
                          a.astype(a.dtype.newbyteorder(">")).tobytes())
    data = path.read_bytes()
    assert (gzip.decompress(data) if suffix else data) == expected
    assert ds.write_idx(tmp_path / f"b{suffix}", a).read_bytes() == data


def test_write_idx_refuses_unstorable_dtype(tmp_path):
    with pytest.raises(ValueError, match="cannot store dtype int64"):
        ds.write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="dimensions"):
        ds.write_idx(tmp_path / "x", np.uint8(3))


@pytest.mark.parametrize("content, message", [
    (b"\x00\x00", "truncated: 2 bytes"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated: the header declares 3 dimensions"),
    (_idx_bytes(0x08, (2, 3, 3), bytes(17)), "truncated: the header declares 2 x 3 x 3"),
    (_idx_bytes(0x0C, (4,), bytes(12)), r"int \(int32\) = 16 data bytes, but only 12"),
    (_idx_bytes(0x08, (4,), bytes(6)), "2 unexpected bytes after the 4 data bytes"),
    (b"\x12\x34\x08\x01" + bytes(8), "bad magic number 0x12340801"),
    (b"PK\x03\x04" + bytes(8), "two zero bytes"),
    (_idx_bytes(0x0A, (2,), bytes(2)), "unknown IDX data type code 0x0A"),
    (b"\x00\x00\x08\x00", "declares 0 dimensions"),
])
def test_read_idx_rejects_malformed_files(tmp_path, content, message):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        ds.read_idx(path)
    assert "broken-idx1-ubyte" in str(info.value)


def test_read_idx_rejects_damaged_gzip(tmp_path):
    good = gzip.compress(_idx_bytes(0x08, (100,), bytes(range(100))))
    (tmp_path / "cut.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="cut.gz: damaged or truncated gzip"):
        ds.read_idx(tmp_path / "cut.gz")
    (tmp_path / "plain.gz").write_bytes(_idx_bytes(0x08, (1,), b"\x07"))
    with pytest.raises(ValueError, match="not gzip data"):
        ds.read_idx(tmp_path / "plain.gz")


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ds.read_idx(tmp_path / "nothing-here")


# --- load_mnist --------------------------------------------------------------------------------

def _write_mnist_folder(folder, n_train=7, n_test=4, *, gzip_test=True, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for prefix, n, gz in (("train", n_train, False), ("t10k", n_test, gzip_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n).astype(np.uint8)
        suffix = ".gz" if gz else ""
        ds.write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", x)
        ds.write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", y)
        out[prefix] = (x, y)
    return out


def test_load_mnist_raw_and_gzip(tmp_path):
    truth = _write_mnist_folder(tmp_path)
    X, y = ds.load_mnist(tmp_path, kind="train")
    assert X.shape == (7, 28, 28, 1) and X.dtype == np.uint8
    assert y.shape == (7,) and y.dtype == np.int64
    assert np.array_equal(X[..., 0], truth["train"][0])
    assert np.array_equal(y, truth["train"][1])
    for kind in ("t10k", "test"):
        X, y = ds.load_mnist(str(tmp_path), kind=kind)
        assert np.array_equal(X[..., 0], truth["t10k"][0]) and np.array_equal(y, truth["t10k"][1])


def test_load_mnist_wrong_kind(tmp_path):
    _write_mnist_folder(tmp_path)
    with pytest.raises(ValueError, match=r"kind must be 'train' or 't10k'.*'validation'"):
        ds.load_mnist(tmp_path, kind="validation")


def test_load_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        ds.load_mnist(tmp_path / "absent")
    ds.write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(FileNotFoundError) as info:
        ds.load_mnist(tmp_path, kind="train")
    message = str(info.value)
    assert "missing train-labels-idx1-ubyte[.gz]" in message
    for name in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        assert name in message


def test_load_mnist_count_mismatch(tmp_path):
    ds.write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    ds.write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="label count 4 .* does not match image count 5"):
        ds.load_mnist(tmp_path)


def test_load_mnist_swapped_or_wrong_type_files(tmp_path):
    ds.write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros(5, np.uint8))
    ds.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="expected an image file.*0x00000803.*found 0x00000801"):
        ds.load_mnist(tmp_path)
    ds.write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    ds.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.int32))
    with pytest.raises(ValueError, match="expected a label file.*found 0x00000C01"):
        ds.load_mnist(tmp_path)


def test_load_mnist_truncated_file_names_the_file(tmp_path):
    _write_mnist_folder(tmp_path, gzip_test=False)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte: truncated"):
        ds.load_mnist(tmp_path, kind="t10k")


# --- download_mnist ------------------------------------------------------------------------

@pytest.fixture()
def server(tmp_path):
    """A folder of gzipped IDX files served through a file:// URL, with their checksums."""
    folder = tmp_path / "server"
    truth = _write_mnist_folder(folder, gzip_test=True, seed=3)
    for prefix in ("train",):                 # serve everything gzipped, as the real mirrors do
        for kind in ("images-idx3", "labels-idx1"):
            raw = folder / f"{prefix}-{kind}-ubyte"
            (folder / (raw.name + ".gz")).write_bytes(gzip.compress(raw.read_bytes(), mtime=0))
            raw.unlink()
    sums = {p.name: "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.iterdir()}
    return folder, folder.as_uri() + "/", sums, truth


def test_download_verifies_and_caches(server, tmp_path):
    folder, url, sums, truth = server
    md5s = {name: hashlib.md5(  # bare hex: the algorithm follows from the length
        (folder / name).read_bytes(), usedforsecurity=False).hexdigest() for name in sums}
    cache = tmp_path / "cache"
    got = ds.download_mnist("mnist", cache_dir=cache, base_url=url, checksums=md5s)
    assert got == cache / "mnist"
    assert sorted(p.name for p in got.iterdir()) == sorted(sums)       # no temporary files left
    X, y = ds.load_mnist(got, kind="train")
    assert np.array_equal(X[..., 0], truth["train"][0]) and np.array_equal(y, truth["train"][1])
    # Cached files that verify are reused: the server may disappear.
    for p in folder.iterdir():
        p.unlink()
    assert ds.download_mnist("mnist", cache_dir=cache, base_url=url, checksums=sums) == got


def test_download_checksum_mismatch_deletes_and_raises(server, tmp_path):
    _, url, sums, _ = server
    bad = dict(sums)
    bad["t10k-labels-idx1-ubyte.gz"] = "sha256:" + "0" * 64
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="checksum mismatch for t10k-labels-idx1-ubyte.gz"):
        ds.download_mnist("fashion-mnist", cache_dir=cache, base_url=url, checksums=bad)
    left = sorted(p.name for p in (cache / "fashion-mnist").iterdir())
    assert "t10k-labels-idx1-ubyte.gz" not in left
    assert not any(name.endswith(".part") for name in left)


def test_download_replaces_a_corrupt_cached_file(server, tmp_path):
    folder, url, sums, _ = server
    target = tmp_path / "cache" / "mnist"
    target.mkdir(parents=True)
    (target / "train-images-idx3-ubyte.gz").write_bytes(b"garbage")
    ds.download_mnist(cache_dir=tmp_path / "cache", base_url=url, checksums=sums)
    assert ((target / "train-images-idx3-ubyte.gz").read_bytes()
            == (folder / "train-images-idx3-ubyte.gz").read_bytes())


def test_download_honours_cnnlab_data_and_mirror_order(server, tmp_path, monkeypatch):
    _, url, sums, _ = server
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "data-root"))
    assert ds.default_cache_dir("mnist") == tmp_path / "data-root" / "mnist"
    dead = (tmp_path / "no-such-mirror").as_uri() + "/"
    got = ds.download_mnist("mnist", base_url=[dead, url], checksums=sums)
    assert got == tmp_path / "data-root" / "mnist"
    assert len(list(got.glob("*-ubyte.gz"))) == 4


def test_download_unreachable_and_unknown(tmp_path):
    dead = (tmp_path / "nowhere").as_uri() + "/"
    with pytest.raises(ConnectionError, match="could not download train-images-idx3-ubyte.gz"):
        ds.download_mnist("mnist", cache_dir=tmp_path, base_url=dead, checksums={})
    assert not any(p.name.endswith(".part") for p in (tmp_path / "mnist").iterdir())
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'"):
        ds.download_mnist("cifar10", cache_dir=tmp_path)


def test_bad_checksum_spec_is_reported(server, tmp_path):
    _, url, sums, _ = server
    odd = dict(sums, **{"train-images-idx3-ubyte.gz": "crc:1234"})
    with pytest.raises(ValueError, match="cannot understand 'crc:1234'"):
        ds.download_mnist(cache_dir=tmp_path / "c", base_url=url, checksums=odd)


def test_builtin_checksum_tables_are_complete():
    for name, info in idx_module.DATASETS.items():
        assert sorted(info["checksums"]) == sorted(idx_module._FILES), name
        for spec in info["checksums"].values():
            algo, digest = idx_module._parse_checksum(spec, "x")
            assert algo == "md5" and len(digest) == 32 and int(digest, 16) >= 0
        assert all(u.startswith(("http://", "https://")) for u in info["urls"])
