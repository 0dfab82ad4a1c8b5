"""lepton.io: round trips, atomic writes, and rejection of damaged or foreign files."""
import io as _stdio
import json
import os
import pathlib
import pickle
import zipfile

import numpy as np
import pytest

from lepton import io
from lepton.preprocessing import MinMaxScaler, QuantileClipper, StandardScaler


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(30, 4))


@pytest.fixture
def fitted(X):
    return [StandardScaler().fit(X), MinMaxScaler((-1, 1)).fit(X),
            QuantileClipper(0.1, 0.9).fit(X)]


def _same(a, b, X):
    assert type(a) is type(b) and a.get_params() == b.get_params()
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def _npz_bytes(entries):
    buf = _stdio.BytesIO()
    np.savez(buf, **entries)
    return buf.getvalue()


def _meta_entry(meta):
    return np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)


def _rewrite(path, edit):
    """Rewrite a saved file with ``edit(meta, arrays)`` applied, keeping it well formed."""
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays.pop("__lepton__").tobytes())
    edit(meta, arrays)
    pathlib.Path(path).write_bytes(_npz_bytes({"__lepton__": _meta_entry(meta), **arrays}))


def _invalid(path, match=""):
    with pytest.raises(ValueError, match="is not a valid lepton file: .*" + match) as info:
        io.load(path)
    assert str(path) in str(info.value)
    return info.value


# ------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("i", range(3))
def test_round_trip_each_preprocessor(tmp_path, fitted, X, i):
    path = tmp_path / "t.lepton"
    io.save(fitted[i], path)
    _same(io.load(path), fitted[i], X)
    assert io.read_metadata(path)["kind"] == ["standard_scaler", "minmax_scaler",
                                              "quantile_clipper"][i]


def test_file_layout(tmp_path, fitted):
    path = tmp_path / "s.npz"
    io.save(fitted[0], path)
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
    assert names == ["__lepton__.npy", "obj/mean_.npy", "obj/scale_.npy", "obj/var_.npy"]
    with np.load(path, allow_pickle=False) as npz:  # every entry loads without pickle
        meta = json.loads(npz["__lepton__"].tobytes().decode("utf-8"))
        assert npz["__lepton__"].dtype == np.uint8
        for k in npz.files:
            assert npz[k].dtype != object
    assert meta["format"] == "lepton" and meta["format_version"] == 1
    assert meta["kind"] == "standard_scaler" and meta["config"]["n_features_in_"] == 4
    from lepton import __version__
    assert meta["lepton_version"] == __version__


def test_list_and_extras(tmp_path, fitted, X):
    path = tmp_path / "list.lepton"
    io.save(fitted, path)
    loaded = io.load(path)
    assert isinstance(loaded, list) and len(loaded) == 3
    for a, b in zip(loaded, fitted):
        _same(a, b, X)

    io.save(fitted[0], path, preprocessing=fitted[1:], clipper=fitted[2], nothing=None)
    main = io.load(path)
    _same(main, fitted[0], X)
    assert isinstance(main.preprocessing, list) and len(main.preprocessing) == 2
    for a, b in zip(main.preprocessing, fitted[1:]):
        _same(a, b, X)
    _same(main.clipper, fitted[2], X)
    assert not hasattr(main, "nothing")

    io.save(fitted[0], path, preprocessing=[])
    assert io.load(path).preprocessing == []
    with pytest.raises(TypeError, match="single object"):
        io.save(fitted, path, preprocessing=fitted)
    with pytest.raises(ValueError, match="public identifiers"):
        io.save(fitted[0], path, _hidden=fitted)


@pytest.mark.parametrize("name", ["model", "model.lepton", "model.npz", "weird name.v2"])
@pytest.mark.parametrize("as_path", [False, True])
def test_path_is_used_exactly(tmp_path, fitted, name, as_path):
    target = tmp_path / name
    io.save(fitted[0], target if as_path else str(target))
    assert sorted(os.listdir(tmp_path)) == [name]  # no ".npz" appended, no temp left
    assert isinstance(io.load(target if as_path else str(target)), StandardScaler)


def test_overwrite_and_permissions(tmp_path, fitted):
    path = tmp_path / "m.lepton"
    io.save(fitted[0], path)
    io.save(fitted[1], path)
    assert isinstance(io.load(path), MinMaxScaler)
    mode = os.stat(path).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # not mkstemp's 0600


# ----------------------------------------------------------------------- registry

class _Thing:
    def __init__(self, values, label="x", fail=False):
        self.values, self.label, self.fail = values, label, fail

    def _lepton_state(self):
        if self.fail:
            raise RuntimeError("state failed mid-way")
        return {"label": self.label, "n": int(self.values.shape[0])}, {"values": self.values}

    @classmethod
    def _from_lepton_state(cls, config, arrays):
        n = io._require_config(config, "n", int)
        label = io._require_config(config, "label", str)
        return cls(io._require(arrays, "values", shape=(n, None), dtype=(np.float32,
                                                                            np.float64)),
                   label)


io.register("test_thing")(_Thing)


def test_custom_registered_class(tmp_path):
    path = tmp_path / "thing"
    thing = _Thing(np.arange(6, dtype=np.float32).reshape(3, 2), label="héllo")
    io.save(thing, path, parts=[_Thing(np.zeros((1, 1)))])
    back = io.load(path)
    assert back.label == "héllo" and back.values.dtype == np.float32
    np.testing.assert_array_equal(back.values, thing.values)
    assert back.parts[0].values.shape == (1, 1)
    # the loader's own checks surface as invalid-file errors naming the array
    _rewrite(path, lambda meta, arrays: meta.update(config={"label": "a", "n": 4}))
    _invalid(path, r"object \('test_thing'\): array 'values' has shape \(3, 2\), "
                   r"expected \(4, n\)")


def test_register_checks():
    with pytest.raises(ValueError, match="kind must be"):
        io.register("")
    with pytest.raises(ValueError, match="kind must be"):
        io.register("list")
    with pytest.raises(TypeError, match="does not implement _lepton_state"):
        io.register("test_nothing")(type("Nothing", (), {}))
    with pytest.raises(ValueError, match="already registered by"):
        io.register("standard_scaler")(_Thing)
    assert io.register("test_thing")(_Thing) is _Thing  # same class again is fine


def test_save_rejects_unsavable(tmp_path):
    with pytest.raises(TypeError, match="not registered with lepton.io.register"):
        io.save(object(), tmp_path / "x")
    with pytest.raises(TypeError, match="not JSON serialisable"):
        io.save(_Thing(np.zeros(2), label=object()), tmp_path / "x")
    with pytest.raises(TypeError, match="dtype object"):
        io.save(_Thing(np.array([1, "a"], dtype=object)), tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="directory does not exist"):
        io.save(_Thing(np.zeros(2)), tmp_path / "missing" / "x")
    with pytest.raises(IsADirectoryError):
        io.save(_Thing(np.zeros(2)), tmp_path)
    assert os.listdir(tmp_path) == []


def test_require_helper():
    arrays = {"a": np.zeros((2, 3), dtype=np.float32), "o": np.array([None], dtype=object)}
    assert io._require(arrays, "a", shape=(2, None), dtype="float32") is arrays["a"]
    assert io._require(arrays, "a", dtype=(np.float64, np.float32)) is arrays["a"]
    with pytest.raises(ValueError, match="missing array 'b'"):
        io._require(arrays, "b")
    with pytest.raises(ValueError, match=r"shape \(2, 3\), expected \(3, n\)"):
        io._require(arrays, "a", shape=(3, None))
    with pytest.raises(ValueError, match=r"expected \(6,\)"):
        io._require(arrays, "a", shape=(6,))
    with pytest.raises(ValueError, match="dtype float32, expected float64"):
        io._require(arrays, "a", dtype=np.float64)
    with pytest.raises(ValueError, match="plain numeric array"):
        io._require(arrays, "o")
    with pytest.raises(ValueError, match="config entry 'n' must be int"):
        io._require_config({"n": True}, "n", int)
    assert io._require_config({}, "n", int, optional=True, default=3) == 3


# ------------------------------------------------------------------------- atomicity

def _snapshot(tmp_path):
    return {p.name: p.read_bytes() for p in tmp_path.iterdir()}


def test_failing_state_leaves_existing_file(tmp_path, fitted):
    path = tmp_path / "keep.lepton"
    io.save(fitted[0], path)
    before = _snapshot(tmp_path)
    with pytest.raises(RuntimeError, match="mid-way"):
        io.save(fitted[0], path, preprocessing=[fitted[1], _Thing(np.zeros(1), fail=True)])
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()])
def test_failing_write_leaves_existing_file_and_no_temp(tmp_path, fitted, monkeypatch, exc):
    path = tmp_path / "keep.lepton"
    io.save(fitted[0], path)
    before = _snapshot(tmp_path)

    def half_write(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise exc

    monkeypatch.setattr(io.np, "savez", half_write)
    with pytest.raises(type(exc)):
        io.save(fitted[1], path)
    assert _snapshot(tmp_path) == before


def test_failing_rename_removes_temp(tmp_path, fitted, monkeypatch):
    path = tmp_path / "keep.lepton"
    io.save(fitted[0], path)
    before = _snapshot(tmp_path)

    def no_replace(src, dst):
        raise PermissionError("denied")

    monkeypatch.setattr(io.os, "replace", no_replace)
    with pytest.raises(PermissionError):
        io.save(fitted[1], path)
    assert _snapshot(tmp_path) == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root ignores directory permissions")
def test_read_only_directory(tmp_path, fitted):
    path = tmp_path / "keep.lepton"
    io.save(fitted[0], path)
    before = _snapshot(tmp_path)
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(PermissionError):
            io.save(fitted[1], path)
    finally:
        tmp_path.chmod(0o755)
    assert _snapshot(tmp_path) == before


# ------------------------------------------------------------------- invalid files

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        io.load(tmp_path / "nope.lepton")


def test_truncated_file(tmp_path, fitted):
    path = tmp_path / "t.lepton"
    io.save(fitted, path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 1, 10, 3):
        path.write_bytes(data[:cut])
        _invalid(path)


def test_empty_text_and_foreign_files(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"")
    _invalid(path, "the file is empty")
    path.write_text("hello, I am a text file\n")
    _invalid(path, "not an .npz")
    path.write_bytes(pickle.dumps({"a": 1}))
    _invalid(path, "not an .npz")
    with path.open("wb") as f:
        np.save(f, np.arange(3))  # a lone .npy array
    _invalid(path, "not an .npz")
    path.write_bytes(_npz_bytes({"weights": np.arange(3), "bias": np.ones(2)}))
    _invalid(path, "no '__lepton__' metadata")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "not numpy")
    _invalid(path, "no '__lepton__' metadata")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__lepton__.npy", "garbage that is not an npy header")
    _invalid(path)
    with zipfile.ZipFile(path, "w"):
        pass  # an empty zip archive
    _invalid(path, "no '__lepton__' metadata")


def test_garbled_array_bytes(tmp_path, fitted):
    path = tmp_path / "g.lepton"
    io.save(fitted[0], path)
    data = bytearray(path.read_bytes())
    pos = data.find(fitted[0].mean_.tobytes())
    assert pos > 0
    data[pos + 3] ^= 0xFF
    path.write_bytes(bytes(data))
    _invalid(path, "array 'obj/mean_' is damaged")


def test_garbled_anywhere_never_crashes(tmp_path, fitted, X):
    """Flipping any byte gives either the same object back or a clear ValueError."""
    path = tmp_path / "g.lepton"
    io.save(fitted[1], path)
    data = path.read_bytes()
    for pos in np.linspace(0, len(data) - 1, 97).astype(int):
        bad = bytearray(data)
        bad[pos] ^= 0x5A
        path.write_bytes(bytes(bad))
        try:
            back = io.load(path)
        except ValueError as exc:
            assert "is not a valid lepton file" in str(exc)
        else:  # only bytes zipfile does not check (timestamps, ...) can change unnoticed
            _same(back, fitted[1], X)


@pytest.mark.parametrize("edit, match", [
    (lambda m, a: m.update(format_version=2), "unsupported format_version 2.*newer lepton"),
    (lambda m, a: m.update(format_version="1"), "format_version must be an integer"),
    (lambda m, a: m.update(format="other"), "does not declare format 'lepton'"),
    (lambda m, a: m.update(kind="no_such_kind"), "unknown kind 'no_such_kind'"),
    (lambda m, a: m.update(config=[1, 2]), "'config' must be a JSON object"),
    (lambda m, a: a.pop("obj/mean_"), "array 'mean_' listed in the metadata is missing"),
    (lambda m, a: a.update({"obj/mean_": a["obj/mean_"].astype("f4")}), "metadata says"),
    (lambda m, a: a.update({"obj/mean_": a["obj/mean_"][:2]}), "metadata says"),
    (lambda m, a: a.update({"obj/extra": np.zeros(2)}), "unexpected entries"),
    (lambda m, a: m["arrays"].pop("var_") and a.pop("obj/var_"), "missing array 'var_'"),
    (lambda m, a: m["config"].pop("n_features_in_"), "missing config entry 'n_features_in_'"),
    (lambda m, a: m.update(extra={"pre": {"items": "x"}}), "malformed extra entry 'pre'"),
])
def test_tampered_metadata_and_arrays(tmp_path, fitted, edit, match):
    path = tmp_path / "t.lepton"
    io.save(fitted[0], path)
    _rewrite(path, edit)
    _invalid(path, match)


def test_bad_metadata_encoding(tmp_path, fitted):
    path = tmp_path / "t.lepton"
    io.save(fitted[0], path)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    for meta, match in [(np.frombuffer(b"\xff\xfe{", np.uint8), "not valid UTF-8 JSON"),
                        (np.frombuffer(b"[1, 2]", np.uint8), "does not declare format"),
                        (np.arange(4, dtype=np.int32), "must be a 1-D uint8 array")]:
        path.write_bytes(_npz_bytes({**arrays, "__lepton__": meta}))
        _invalid(path, match)


def _mark(path):
    """Would run if a pickled object in a file were ever unpickled."""
    pathlib.Path(path).write_text("unpickled!")
    return 0


class _Booby:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return _mark, (self.marker,)


def test_pickled_object_array_is_rejected_without_unpickling(tmp_path, fitted):
    path = tmp_path / "p.lepton"
    marker = tmp_path / "marker"
    io.save(fitted[0], path)

    def plant(meta, arrays):
        booby = np.empty(4, dtype=object)
        booby[:] = [_Booby(str(marker))] * 4
        arrays["obj/mean_"] = booby  # np.savez pickles object arrays
        meta["arrays"]["mean_"] = {"dtype": "|O", "shape": [4]}

    _rewrite(path, plant)
    with zipfile.ZipFile(path) as zf:
        assert b"_Booby" in zf.read("obj/mean_.npy") or b"_mark" in zf.read("obj/mean_.npy")
    _invalid(path, "pickled objects")
    assert not marker.exists()
