"""Saving and loading: bit-exact round trips for every layer type, every damaged-file case
refused with a ValueError naming the file, atomic writes, and no pickle anywhere."""
from __future__ import annotations

import io as bytes_io
import json
import os
import zipfile

import numpy as np
import pytest

import cnnlab.io as cio
from cnnlab.network import Network


# ---- the container: state files --------------------------------------------------------------

def _state(tmp_path):
    arrays = {"a/x": np.arange(12, dtype=np.float32).reshape(3, 4),
              "b/y": np.array([1.5, -2.0]), "c": np.array([3, 1, 2], dtype=np.int64)}
    path = tmp_path / "s.cnnlab"
    cio.save_state(path, arrays, {"epoch": 3, "note": "hello", "np": np.int64(4)})
    return path, arrays


def test_state_round_trip(tmp_path):
    path, arrays = _state(tmp_path)
    got, meta = cio.load_state(path)
    assert meta["epoch"] == 3 and meta["note"] == "hello" and meta["np"] == 4
    assert meta["format"] == cio.STATE_FORMAT_NAME and meta["format_version"] == 1
    assert set(got) == set(arrays)
    for k in arrays:
        assert got[k].dtype == arrays[k].dtype and np.array_equal(got[k], arrays[k])


def test_same_contents_give_the_same_bytes(tmp_path):
    path, arrays = _state(tmp_path)
    other = tmp_path / "t.cnnlab"
    cio.save_state(other, arrays, {"epoch": 3, "note": "hello", "np": 4})
    assert path.read_bytes() == other.read_bytes()


def test_object_arrays_and_reserved_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match="only numeric arrays"):
        cio.save_state(tmp_path / "o.cnnlab", {"x": np.array([{}, 1], dtype=object)}, {})
    with pytest.raises(ValueError, match="reserved"):
        cio.save_state(tmp_path / "o.cnnlab", {}, {"format": "mine"})


def test_not_a_zip_is_refused(tmp_path):
    p = tmp_path / "text.cnnlab"
    p.write_text("hello, I am not a network")
    with pytest.raises(ValueError, match=r"text\.cnnlab.*not a cnnlab file \(not a ZIP"):
        cio.load_state(p)


def test_a_foreign_zip_is_refused(tmp_path):
    p = tmp_path / "other.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match=r"other\.zip.*ZIP archive but not a cnnlab file"):
        cio.load_state(p)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_files_are_refused(tmp_path, keep):
    path, _ = _state(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:max(4, int(len(data) * keep))])
    with pytest.raises(ValueError, match=r"s\.cnnlab.*(truncated|damaged)"):
        cio.load_state(path)


def test_every_single_bit_flip_is_refused(tmp_path):
    path, _ = _state(tmp_path)
    data = path.read_bytes()
    for pos in range(len(data)):
        flipped = bytearray(data)
        flipped[pos] ^= 1 << (pos % 8)
        path.write_bytes(bytes(flipped))
        with pytest.raises(ValueError, match=r"s\.cnnlab"):
            cio.load_state(path)


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json")), zf.read("arrays.npz")


def _repack(path, manifest, npz_bytes):
    """Write a container whose outer checksum is valid again (to reach the inner checks)."""
    path.write_bytes(cio._pack(json.dumps(manifest).encode(), npz_bytes))


def test_zip_crc_catches_a_changed_member_even_with_a_valid_outer_checksum(tmp_path):
    path, _ = _state(tmp_path)
    data = bytearray(path.read_bytes())
    pos = data.index(b"\x93NUMPY") + 200          # inside the first array's payload
    data[pos] ^= 0xFF
    path.write_bytes(cio._seal(bytes(data)))
    with pytest.raises(ValueError, match=r"s\.cnnlab.*damaged"):
        cio.load_state(path)


def test_array_checksum_catches_a_changed_array(tmp_path):
    path, arrays = _state(tmp_path)
    manifest, _ = _members(path)
    changed = dict(arrays, **{"b/y": np.array([1.5, -2.5])})
    buf = bytes_io.BytesIO()
    np.savez(buf, **changed)
    _repack(path, manifest, buf.getvalue())
    with pytest.raises(ValueError, match=r"array 'b/y' does not match its SHA-256"):
        cio.load_state(path)


def test_missing_and_extra_arrays_and_wrong_shapes_are_refused(tmp_path):
    path, arrays = _state(tmp_path)
    manifest, npz_bytes = _members(path)
    buf = bytes_io.BytesIO()
    np.savez(buf, **{k: v for k, v in arrays.items() if k != "c"})
    _repack(path, manifest, buf.getvalue())
    with pytest.raises(ValueError, match="arrays missing from arrays.npz: c"):
        cio.load_state(path)
    m2 = json.loads(json.dumps(manifest))
    del m2["arrays"]["c"]
    _repack(path, m2, npz_bytes)
    with pytest.raises(ValueError, match="does not list: c"):
        cio.load_state(path)
    m3 = json.loads(json.dumps(manifest))
    m3["arrays"]["a/x"]["shape"] = [4, 3]
    _repack(path, m3, npz_bytes)
    with pytest.raises(ValueError, match=r"array 'a/x' is <f4 of shape \[3, 4\]"):
        cio.load_state(path)


@pytest.mark.parametrize("version, message", [
    (2, r"format version 2 was written by a newer cnnlab .*reads format versions 1"),
    (0, "unknown format version 0"), ("1", "unknown format version '1'")])
def test_format_versions(tmp_path, version, message):
    path, _ = _state(tmp_path)
    manifest, npz_bytes = _members(path)
    manifest["format_version"] = version
    _repack(path, manifest, npz_bytes)
    with pytest.raises(ValueError, match=message):
        cio.load_state(path)


def test_wrong_format_name_is_refused(tmp_path):
    path, _ = _state(tmp_path)
    with pytest.raises(ValueError, match="holds format 'cnnlab-state'; expected 'cnnlab-network'"):
        cio.load(path)


def test_pickled_arrays_are_never_loaded(tmp_path):
    path, _ = _state(tmp_path)
    manifest, _ = _members(path)
    obj = np.array([{"code": "boom"}], dtype=object)
    buf = bytes_io.BytesIO()
    np.savez(buf, **{"a/x": obj, "b/y": np.zeros(2), "c": np.zeros(3, np.int64)})
    _repack(path, manifest, buf.getvalue())
    with pytest.raises(ValueError, match=r"s\.cnnlab.*(damaged|pickle)"):
        cio.load_state(path)


# ---- atomic writes ---------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["fsync", "replace", "savez"])
def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch, step):
    path, arrays = _state(tmp_path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(f"disk full during {step}")

    target = {"fsync": (cio.os, "fsync"), "replace": (cio.os, "replace"),
              "savez": (cio.np, "savez")}[step]
    monkeypatch.setattr(*target, boom)
    with pytest.raises(OSError, match="disk full"):
        cio.save_state(path, {"z": np.ones(5)}, {"epoch": 9})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["s.cnnlab"]       # no temporary file left behind
    assert cio.load_state(path)[1]["epoch"] == 3
