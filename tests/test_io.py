"""Saving and loading: bit-exact round trips for every layer type, every damaged-file case
refused with a ValueError naming the file, atomic writes, and no pickle anywhere."""
from __future__ import annotations

import io as bytes_io
import json
import os
import zipfile

import numpy as np
import pytest

import cnnlab as cl
import cnnlab.container as container
import cnnlab.io as cio


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


def test_saved_files_get_the_usual_permissions(tmp_path):
    path, _ = _state(tmp_path)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


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
    path.write_bytes(container._pack(json.dumps(manifest).encode(), npz_bytes))


def test_zip_crc_catches_a_changed_member_even_with_a_valid_outer_checksum(tmp_path):
    path, _ = _state(tmp_path)
    data = bytearray(path.read_bytes())
    pos = data.index(b"\x93NUMPY") + 200          # inside the first array's payload
    data[pos] ^= 0xFF
    path.write_bytes(container._seal(bytes(data)))
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

    target = {"fsync": (container.os, "fsync"), "replace": (container.os, "replace"),
              "savez": (container.np, "savez")}[step]
    monkeypatch.setattr(*target, boom)
    with pytest.raises(OSError, match="disk full"):
        cio.save_state(path, {"z": np.ones(5)}, {"epoch": 9})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["s.cnnlab"]       # no temporary file left behind
    assert cio.load_state(path)[1]["epoch"] == 3


# ---- networks --------------------------------------------------------------------------------

BACKEND = "reference"


def _every_layer_classification():
    return [
        cl.ImageInput((8, 8, 2), normalization="zscore"),
        cl.Convolution2D(3, 4, padding=1, padding_value="replicate", dilation=1,
                         weight_learn_rate_factor=0.5),
        cl.BatchNormalization(), cl.ReLU(), cl.CrossChannelNormalization(3),
        cl.LeakyReLU(0.1), cl.MaxPooling2D(2, stride=2),
        cl.TransposedConvolution2D(2, 3, stride=2, cropping=0), cl.ClippedReLU(6),
        cl.AveragePooling2D(2, stride=2), cl.Tanh(), cl.Dropout(0.2),
        cl.Convolution2D(1, 4, groups=1, weights_initializer=lambda shape: np.ones(shape)),
        cl.Sigmoid(), cl.GlobalAveragePooling2D(), cl.FullyConnected(3), cl.Softmax(),
        cl.Classification(classes=["ant", "bee", "cat"])]


def _every_layer_regression():
    return [cl.ImageInput((6, 6, 1), normalization="rescale-zero-one"),
            cl.Convolution2D(3, 2, padding="same"), cl.GlobalMaxPooling2D(),
            cl.FullyConnected(2, bias=[0.5, -0.5]), cl.Regression()]


def _trained(layers, seed=3):
    """A network whose parameters, normalization statistics and running statistics have all
    moved away from their initial values (one training step by hand)."""
    net = cl.Network(layers, seed=seed, backend=BACKEND)
    rng = np.random.default_rng(seed)
    h, w, c = net.input_size
    x = rng.standard_normal((4, h, w, c)).astype(np.float32)
    net.fit_normalization(x)
    if isinstance(net.loss_layer, cl.Classification):
        labels = np.array([0, 1, 2, 1])
    else:
        labels = rng.standard_normal((4, 2))
    net.loss_and_gradients(x, labels)
    for _, _, value in net.parameters():
        value += 0.01 * rng.standard_normal(value.shape).astype(value.dtype)
    return net, x


def _assert_identical(a, b):
    assert [type(la) for la in a.layers] == [type(lb) for lb in b.layers]
    assert a.names == b.names and a.input_size == b.input_size and a.dtype == b.dtype
    for la, lb in zip(a.layers, b.layers):
        assert la.config() == lb.config() or "custom" in json_dumps(la.config())
        for store in ("params", "state"):
            da, db = getattr(la, store), getattr(lb, store)
            assert sorted(da) == sorted(db), (la.name, store)
            for key in da:
                assert da[key].dtype == db[key].dtype and da[key].shape == db[key].shape
                assert np.array_equal(da[key], db[key]), (la.name, key)
    assert a.rng.bit_generator.state == b.rng.bit_generator.state


def json_dumps(value):
    return json.dumps(value, default=str)


@pytest.mark.parametrize("make", [_every_layer_classification, _every_layer_regression])
def test_round_trip_is_bit_exact_for_every_layer_type(tmp_path, make):
    net, x = _trained(make())
    path = tmp_path / "net.cnnlab"
    assert cio.save(net, path) == path
    back = cio.load(path)
    assert back.backend == BACKEND
    _assert_identical(net, back)
    assert np.array_equal(net.predict(x), back.predict(x))
    # same Generator state: the next dropout masks are the same too
    assert np.array_equal(net.forward(x, training=True), back.forward(x, training=True))


def test_every_layer_class_is_covered():
    covered = {type(layer).__name__ for layer in _every_layer_classification()
               + _every_layer_regression() + _trained_graph()[0].layers}
    assert covered == set(cio.layer_registry())


def test_float64_network_round_trip(tmp_path):
    net = cl.Network(_every_layer_regression(), seed=1, dtype="float64", backend=BACKEND)
    cio.save(net, tmp_path / "n.cnnlab")
    back = cio.load(tmp_path / "n.cnnlab", backend="reference")
    assert back.dtype == np.float64
    _assert_identical(net, back)


def test_manifest_contents(tmp_path):
    net, _ = _trained(_every_layer_regression())
    cio.save(net, tmp_path / "n.cnnlab")
    manifest, _ = _members(tmp_path / "n.cnnlab")
    assert manifest["format"] == "cnnlab-network" and manifest["format_version"] == 1
    assert manifest["dtype"] == "float32" and manifest["input_size"] == [6, 6, 1]
    assert manifest["layers"][1]["class"] == "Convolution2D"
    assert manifest["layers"][1]["config"]["padding"] == "same"
    assert "conv_1/weights" in manifest["arrays"] and "imageinput/min" in manifest["arrays"]
    assert len(manifest["arrays"]["conv_1/weights"]["sha256"]) == 64


def _rewrite_manifest(path, edit):
    manifest, npz_bytes = _members(path)
    edit(manifest)
    _repack(path, manifest, npz_bytes)


def test_unknown_layer_class_is_refused_without_importing_anything(tmp_path):
    net, _ = _trained(_every_layer_regression())
    path = tmp_path / "n.cnnlab"
    cio.save(net, path)

    def edit(m):
        m["layers"][2]["class"] = "os.system"
    _rewrite_manifest(path, edit)
    with pytest.raises(ValueError, match=r"n\.cnnlab.*layer 3 has unknown layer class "
                                         r"'os\.system'"):
        cio.load(path)


def test_bad_config_shape_mismatch_and_missing_arrays_are_refused(tmp_path):
    net, _ = _trained(_every_layer_regression())
    path = tmp_path / "n.cnnlab"
    cio.save(net, path)
    original = path.read_bytes()

    def more_filters(m):
        m["layers"][1]["config"]["num_filters"] = 3
    _rewrite_manifest(path, more_filters)
    with pytest.raises(ValueError, match=r"array 'conv_1/weights' has shape \(3, 3, 1, 2\); "
                                         r"Convolution2D layer 'conv_1' needs \(3, 3, 1, 3\)"):
        cio.load(path)

    path.write_bytes(original)

    def bad_option(m):
        m["layers"][1]["config"]["stride"] = "fast"
    _rewrite_manifest(path, bad_option)
    with pytest.raises(ValueError, match=r"layer 2 \(Convolution2D\) cannot be built"):
        cio.load(path)

    path.write_bytes(original)

    def drop_param(m):
        m["layers"][3]["params"] = ["weights"]
    _rewrite_manifest(path, drop_param)
    with pytest.raises(ValueError, match=r"has parameters \['bias', 'weights'\], the file "
                                         r"\['weights'\]"):
        cio.load(path)

    path.write_bytes(original)

    def drop_state(m):
        m["layers"][0]["state"] = ["min"]
    _rewrite_manifest(path, drop_state)
    with pytest.raises(ValueError, match=r"arrays that belong to no layer parameter or state: "
                                         r"imageinput/max"):
        cio.load(path)


def test_save_refuses_what_is_not_a_network(tmp_path):
    with pytest.raises(TypeError, match="expected a cnnlab Network"):
        cio.save([cl.ReLU()], tmp_path / "x.cnnlab")


def test_save_is_atomic_for_networks(tmp_path, monkeypatch):
    net, _ = _trained(_every_layer_regression())
    path = tmp_path / "n.cnnlab"
    cio.save(net, path)
    before = path.read_bytes()
    net.layers[1].params["weights"] += 1
    monkeypatch.setattr(container.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("no space")))
    with pytest.raises(OSError, match="no space"):
        cio.save(net, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["n.cnnlab"]


def test_loading_uses_no_pickle(monkeypatch, tmp_path):
    """np.load is always called with allow_pickle=False."""
    net, _ = _trained(_every_layer_regression())
    cio.save(net, tmp_path / "n.cnnlab")
    calls = []
    real = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return real(*args, **kwargs)

    monkeypatch.setattr(container.np, "load", spy)
    cio.load(tmp_path / "n.cnnlab")
    assert calls == [False]


# ---- layer graphs ------------------------------------------------------------------------------

def _trained_graph():
    """A concatenation of a branch and the image, then a residual 1x1 convolution around
    it; one training step taken (so batch norm's running statistics have moved)."""
    g = cl.LayerGraph([cl.ImageInput((6, 6, 2)), cl.Convolution2D(3, 2, padding=1, has_bias=False),
                       cl.BatchNormalization(), cl.ReLU(), cl.DepthConcatenation(2),
                       cl.Convolution2D(1, 4), cl.Addition(2), cl.FullyConnected(3),
                       cl.Softmax(), cl.Classification()])
    g.connect("imageinput", "depthcat_1/in2").connect("depthcat_1", "add_1/in2")
    x = np.random.default_rng(0).standard_normal((4, 6, 6, 2))
    net = cl.Network(g, seed=3, dtype="float64", backend="reference")
    net.fit_normalization(x)
    net.loss_and_gradients(x, [0, 1, 2, 0])
    return net, x


def test_a_layer_graph_round_trips_bit_exact(tmp_path):
    net, x = _trained_graph()
    path = cl.save(net, tmp_path / "graph.cnnlab")
    back = cl.load(path)
    assert back.is_graph and back.names == net.names
    assert back.connections == net.connections
    assert ("depthcat_1", "add_1/in2") in back.connections
    for (la, ka, va), (lb, kb, vb) in zip(net.parameters(), back.parameters()):
        assert (la.name, ka) == (lb.name, kb) and va.dtype == vb.dtype
        np.testing.assert_array_equal(va, vb)
    for la, lb in zip(net.layers, back.layers):
        for key in la.state:
            np.testing.assert_array_equal(la.state[key], lb.state[key])
    assert np.array_equal(back.predict(x), net.predict(x))      # bit for bit
    assert repr(back) == repr(net)


def test_damaged_graph_connections_are_refused(tmp_path):
    net, _ = _trained_graph()
    path = cl.save(net, tmp_path / "graph.cnnlab")
    manifest, npz = _members(path)
    manifest["connections"] = [c for c in manifest["connections"] if c[1] != "add_1/in2"]
    _repack(path, manifest, npz)
    with pytest.raises(ValueError, match=r"do not form a network: .*input 'add_1/in2' is not "
                                         r"connected"):
        cl.load(path)
    manifest["connections"] = "relu_1 -> add_1"
    _repack(path, manifest, npz)
    with pytest.raises(ValueError, match="connections are not a list"):
        cl.load(path)
