"""lepton.io on hostile files: every crafted file is refused with one clear ValueError and
within a small memory budget; saves killed at random moments leave no temporary files.

The crafted files are loaded in ONE child process (a loop over the corpus) so that its peak
memory can be measured (VmHWM) and capped (RLIMIT_AS) without touching pytest's.
"""
import copy
import errno
import io as _stdio
import json
import os
import re
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pytest

import lepton
from lepton import io

from _helpers import child_env

MEMORY_BUDGET_MB = 200  # peak RSS of the loading child over its baseline

# ----------------------------------------------------------------------------- base files


def _fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = rng.integers(0, 3, 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: 3 epochs
        est = lepton.MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0,
                                   dropout=0.1).fit(X, y)
    est.metadata_ = {"task": "classification", "target": "y", "source": "test",
                     "feature_names": ["a", "b", "c", "d"], "train_seconds": 0.1}
    return est, lepton.StandardScaler().fit(X)


def _saved(folder, obj, **extra):
    """(file bytes, metadata, arrays) of ``lepton.save(obj, ...)``."""
    path = folder / "base.npz"
    io.save(obj, path, **extra)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays.pop("__lepton__").tobytes())
    return _Base(path.read_bytes(), meta, arrays)


def _npz(meta, arrays, meta_bytes=None):
    """An .npz written like lepton's, with any metadata (NaN allowed) and arrays."""
    raw = meta_bytes if meta_bytes is not None else json.dumps(meta).encode()
    buf = _stdio.BytesIO()
    np.savez(buf, __lepton__=np.frombuffer(raw, dtype=np.uint8), **arrays)
    return buf.getvalue()


def _edit(b, fn):
    meta, arrays = copy.deepcopy(b.meta), {k: v.copy() for k, v in b.arrays.items()}
    fn(meta, arrays)
    return _npz(meta, arrays)


def _fitted_edit(key, value):
    return lambda m, a: m["config"]["fitted"].__setitem__(key, value)


def _array_edit(name, fn):
    def edit(m, a):
        a["obj/" + name] = fn(a["obj/" + name])
        m["arrays"][name] = {"dtype": a["obj/" + name].dtype.str,
                             "shape": list(a["obj/" + name].shape)}
    return edit


def _with_nan(arr, pos=0):
    arr = arr.astype(arr.dtype if arr.dtype.kind == "f" else np.float64)
    arr.flat[pos] = np.nan
    return arr


def _extra(name):
    """Attach a scaler under ``name`` (an injection when the name shadows something)."""
    def edit(m, a):
        item = copy.deepcopy(m["extra"]["pre"]["items"][0])
        m["extra"][name] = {"list": False, "items": [item]}
        for k in [k for k in a if k.startswith("extra/pre/0/")]:
            a[k.replace("extra/pre/", f"extra/{name}/")] = a[k]
    return edit


def _zip(members, compression=zipfile.ZIP_STORED):
    buf = _stdio.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": wanted here
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def _npy(arr=None, header=None):
    out = _stdio.BytesIO()
    if header is None:
        np.save(out, arr)
        return out.getvalue()
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue() + (b"" if arr is None else arr.tobytes())


def _patch_central(data, name, **fields):
    """Rewrite fields of ``name``'s central directory record (sizes, flags, method)."""
    data = bytearray(data)
    pos = data.find(b"PK\x01\x02")
    offsets = {"flags": (8, "<H"), "method": (10, "<H"), "compress_size": (20, "<I"),
               "file_size": (24, "<I")}
    while pos != -1:
        n = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46:pos + 46 + n] == name.encode():
            for field, value in fields.items():
                off, fmt = offsets[field]
                struct.pack_into(fmt, data, pos + off, value)
            return bytes(data)
        pos = data.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(name)


def _bomb(member, prefix, size, others):
    """A zip whose ``member`` is ``prefix`` + ``size`` spaces, deflated (~1000:1)."""
    buf = _stdio.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in others:
            zf.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        with zf.open(member, "w", force_zip64=True) as f:
            f.write(prefix)
            chunk = b" " * (1 << 22)
            for _ in range(size // len(chunk)):
                f.write(chunk)
    return buf.getvalue()


# ----------------------------------------------------------------------------- the corpus

N_TRUNCATIONS = 24
N_FLIPS = 40
BOMB_BYTES = 1 << 25  # 32 MiB of spaces deflate to ~32 KiB


def _model_file(layers, input_dim, n_params):
    meta = {"format": "lepton", "format_version": 1, "lepton_version": "0", "kind": "model",
            "config": {"layers": layers, "input_dim": input_dim, "dtype": "float32",
                       "seed": 0},
            "arrays": {"params": {"dtype": "<f4", "shape": [n_params]}}, "extra": {}}
    return _npz(meta, {"obj/params": np.zeros(n_params, np.float32)})


class _Base:
    """A saved estimator (with a scaler attached) to derive crafted files from."""

    def __init__(self, data, meta, arrays):
        self.data, self.meta, self.arrays = data, meta, arrays
        self.members = [(k + ".npy", _npy(v)) for k, v in arrays.items()]
        self.meta_json = json.dumps(meta).encode()
        self.meta_npy = _npy(np.frombuffer(self.meta_json, np.uint8))


_DENSE = {"type": "Dense", "units": 12000, "activation": "identity", "init": "auto",
          "use_bias": True}

def _meta_edit(**values):
    return lambda m, a: m["config"]["metadata"].update(values)


def _param_edit(**values):
    return lambda m, a: m["config"]["params"].update(values)


def _spec_edit(**values):
    return lambda m, a: m["arrays"]["params"].update(values)


def _header(descr, shape):
    return {"descr": descr, "fortran_order": False, "shape": shape}


NAN, INF = float("nan"), float("inf")

# name -> function(_Base) -> file bytes.  Every one must be refused.
_EDITS = {
    # sizes declared beyond the stored arrays or any sane limit
    "model-dense-12000": lambda b: _model_file([_DENSE], 12000, 10),
    "model-units-1e12": lambda b: _model_file([dict(_DENSE, units=10**12)], 4, 10),
    "model-5000-layers": lambda b: _model_file([dict(_DENSE, units=1)] * 5000, 1, 10),
    "layer-units-1e12": lambda b: _edit(b, _fitted_edit("layer_units", [4, 10**12, 3])),
    "npy-header-2**40": lambda b: _zip([("__lepton__.npy", b.meta_npy), (
        "obj/params.npy", _npy(np.zeros(4, np.float32), _header("<f4", (1 << 40,))))]),
    "npy-header-negative": lambda b: _zip([("__lepton__.npy", b.meta_npy), (
        "obj/params.npy", _npy(None, _header("<f4", (-1,))))]),
    # zip bombs and archive-level lies
    "bomb-params-deflated": lambda b: _bomb(
        "obj/params.npy", _npy(None, _header("<f4", (BOMB_BYTES // 4,))), BOMB_BYTES,
        [m for m in b.members if m[0] != "obj/params.npy"] + [("__lepton__.npy",
                                                                b.meta_npy)]),
    "bomb-json-spaces": lambda b: _bomb(
        "__lepton__.npy", _npy(None, _header("|u1", (len(b.meta_json) + BOMB_BYTES,)))
        + b.meta_json, BOMB_BYTES, b.members),
    "bomb-stored-size-lie": lambda b: _patch_central(
        b.data, "obj/params.npy", compress_size=0xFFFFFFF0, file_size=0xFFFFFFF0),
    "bomb-deflated-size-lie": lambda b: _patch_central(
        _zip([("__lepton__.npy", b.meta_npy)] + b.members, zipfile.ZIP_DEFLATED),
        "obj/params.npy", file_size=0xFFFFFFF0),
    "json-2MiB-stored": lambda b: _zip([("__lepton__.npy", _npy(np.frombuffer(
        b.meta_json + b" " * (2 << 20), np.uint8)))] + b.members),
    "json-nested-100000": lambda b: _npz(None, {}, b"[" * 100000 + b"]" * 100000),
    "json-nested-in-config": lambda b: _edit(b, _meta_edit(deep=json.loads("[" * 70
                                                                            + "]" * 70))),
    "json-1MiB-of-lists": lambda b: _edit(b, lambda m, a: m.update(pad=[[]] * 250_000)),
    "json-nan": lambda b: _edit(b, _meta_edit(x=NAN)),
    "too-many-members": lambda b: _zip([(f"m{i}.npy", b"") for i in range(10_001)]),
    "duplicate-member": lambda b: _zip([("__lepton__.npy", b.meta_npy)] + b.members
                                       + b.members[:1]),
    "encrypted-member": lambda b: _patch_central(b.data, "obj/params.npy", flags=1),
    "bzip2-member": lambda b: _patch_central(b.data, "obj/params.npy", method=12),
    "object-dtype": lambda b: _zip([("__lepton__.npy", b.meta_npy), (
        "obj/params.npy", _npy(None, _header("|O", (2,))) + b"\0" * 16)]),
    "structured-dtype": lambda b: _edit(b, _array_edit("params", lambda p: np.zeros(
        len(p), dtype=[("a", "<f4")]))),
    "complex-dtype": lambda b: _edit(b, _array_edit("params",
                                                    lambda p: p.astype(np.complex64))),
    # attribute injection
    "extra-_net": lambda b: _edit(b, _extra("_net")),
    "extra-predict": lambda b: _edit(b, _extra("predict")),
    "extra-__class__": lambda b: _edit(b, _extra("__class__")),
    "extra-classes_": lambda b: _edit(b, _extra("classes_")),
    "extra-hidden_layer_sizes": lambda b: _edit(b, _extra("hidden_layer_sizes")),
    "meta-key-_net": lambda b: _edit(b, lambda m, a: m.update(_net=1)),
    "config-key-_net": lambda b: _edit(b, lambda m, a: m["config"].update(_net=1)),
    "fitted-key-_net": lambda b: _edit(b, _fitted_edit("_net", 1)),
    "param-__class__": lambda b: _edit(b, _param_edit(__class__="x")),
    "array-_net": lambda b: _edit(b, lambda m, a: (
        a.update({"obj/_net": np.zeros(1)}),
        m["arrays"].update(_net={"dtype": "<f8", "shape": [1]}))),
    # poisoned state
    "optimizer_step-neg": lambda b: _edit(b, _fitted_edit("optimizer_step", -1)),
    "lr-nan": lambda b: _edit(b, _fitted_edit("lr", NAN)),
    "lr-inf": lambda b: _edit(b, _fitted_edit("lr", INF)),
    "lr-neg": lambda b: _edit(b, _fitted_edit("lr", -1.0)),
    "dropout_seed-neg": lambda b: _edit(b, _fitted_edit("dropout_seed", -1)),
    "dropout_seed-2**70": lambda b: _edit(b, _fitted_edit("dropout_seed", 2**70)),
    "n_iter_-neg": lambda b: _edit(b, _fitted_edit("n_iter_", -1)),
    "no_improvement-2**70": lambda b: _edit(b, _fitted_edit("no_improvement_count", 2**70)),
    "loss_-nan": lambda b: _edit(b, _fitted_edit("loss_", NAN)),
    "dropout-1.5": lambda b: _edit(b, _fitted_edit("dropout", [1.5])),
    "optimizer_m-nan": lambda b: _edit(b, _array_edit("optimizer_m", _with_nan)),
    "optimizer_v-neg": lambda b: _edit(b, _array_edit("optimizer_v", lambda v: v - 1)),
    "params-nan": lambda b: _edit(b, _array_edit("params", _with_nan)),
    "params-inf": lambda b: _edit(b, _array_edit("params", lambda p: p + np.float32(INF))),
    "loss_curve-nan": lambda b: _edit(b, _array_edit("loss_curve", _with_nan)),
    "classes-nan": lambda b: _edit(b, _array_edit("classes", _with_nan)),
    "classes-duplicate": lambda b: _edit(b, _array_edit("classes", lambda c: c * 0)),
    "learning_rate_init-nan": lambda b: _edit(b, _param_edit(learning_rate_init=NAN)),
    "alpha-inf": lambda b: _edit(b, _param_edit(alpha=INF)),
    "momentum-2": lambda b: _edit(b, _param_edit(momentum=2.0)),
    "scaler-mean-inf": lambda b: _edit(b, lambda m, a: a.update(
        {"extra/pre/0/mean_": a["extra/pre/0/mean_"] + INF})),
    "scaler-n_samples-neg": lambda b: _edit(b, lambda m, a: m["extra"]["pre"]["items"][0][
        "config"].update(n_samples_seen_=-1)),
    # schema violations
    "metadata-feature_names-5": lambda b: _edit(b, _meta_edit(feature_names=5)),
    "metadata-target-list": lambda b: _edit(b, _meta_edit(target=[1])),
    "metadata-task-3": lambda b: _edit(b, _meta_edit(task=3)),
    "config-list": lambda b: _edit(b, lambda m, a: m.update(config=[1, 2])),
    "fitted-list": lambda b: _edit(b, lambda m, a: m["config"].update(fitted=[1])),
    "params-list": lambda b: _edit(b, lambda m, a: m["config"].update(params=[1])),
    "layer_units-str": lambda b: _edit(b, _fitted_edit("layer_units", ["4", "5", "3"])),
    "layer_units-bool": lambda b: _edit(b, _fitted_edit("layer_units", [True, 5, 3])),
    "spec-shape-str": lambda b: _edit(b, _spec_edit(shape="3")),
    "spec-shape-neg": lambda b: _edit(b, _spec_edit(shape=[-1])),
    "spec-dtype-int": lambda b: _edit(b, _spec_edit(dtype=5)),
    "kind-int": lambda b: _edit(b, lambda m, a: m.update(kind=7)),
    "format_version-true": lambda b: _edit(b, lambda m, a: m.update(format_version=True)),
    "lepton_version-int": lambda b: _edit(b, lambda m, a: m.update(lepton_version=3)),
    "extra-list-flag-str": lambda b: _edit(b, lambda m, a: m["extra"]["pre"].update(
        list="yes")),
    "extra-items-str": lambda b: _edit(b, lambda m, a: m["extra"]["pre"].update(items="x")),
    "class_weight-pairs-int": lambda b: _edit(b, _param_edit(class_weight={"__pairs__": 5})),
    "list-items-dict": lambda b: _edit(b, lambda m, a: (m.update(kind="list", items={}),
                                                        m.pop("arrays"))),
    "meta-not-object": lambda b: _npz(None, {}, b"[1, 2]"),
    "meta-not-utf8": lambda b: _npz(None, {}, b"\xff\xfe{"),
}


def _crafted(b):
    """name -> file bytes: truncations, bit flips (which may load), then ``_EDITS``."""
    files = {}
    for i, cut in enumerate(np.linspace(1, len(b.data) - 1, N_TRUNCATIONS).astype(int)):
        files[f"truncate-{i:02d}"] = b.data[:cut]
    for i, pos in enumerate(np.linspace(0, len(b.data) - 1, N_FLIPS).astype(int)):
        bad = bytearray(b.data)
        bad[pos] ^= 1 << (i % 8)
        files[f"flip-{i:02d}"] = bytes(bad)
    files.update((name, make(b)) for name, make in _EDITS.items())
    return files


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    est, scaler = _fitted()
    return _saved(tmp_path_factory.mktemp("base"), est, pre=[scaler])


@pytest.fixture(scope="module")
def corpus(base):
    return _crafted(base)


# Peak RSS of the loop over the baseline after warm-up: Linux resets the high-water mark
# (VmHWM) on "echo 5 > /proc/self/clear_refs"; elsewhere ru_maxrss (which includes the
# imports' peak, so it is a weaker check) is used.
_CHILD = """
import json, os, resource, sys
from lepton import io

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))

folder, names = sys.argv[1], json.loads(sys.argv[2])
io.load(os.path.join(folder, "base.npz"))  # every import and code path warmed up
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base, peak = status("VmRSS:"), lambda: status("VmHWM:")
except OSError:
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
# A guard, not the measure: a regression fails with MemoryError, not an OOM kill.
vm = status("VmSize:") * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), vm + (1 << 30)))
out = {}
for name in names:
    try:
        obj = io.load(os.path.join(folder, name))
        out[name] = ["ok", type(obj).__name__]
    except BaseException as exc:
        out[name] = [type(exc).__name__, str(exc)[:300]]
print(json.dumps({"results": out, "peak_mb": (peak() - base) / 1024}))
"""


def _child_env():
    return child_env(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


@pytest.fixture(scope="module")
def results(base, corpus, tmp_path_factory):
    """Load every crafted file in one child process: {name: (outcome, message)}, peak MB."""
    folder = tmp_path_factory.mktemp("crafted")
    (folder / "base.npz").write_bytes(base.data)
    for name, data in corpus.items():
        (folder / name).write_bytes(data)
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(folder),
                           json.dumps(list(corpus))], capture_output=True, text=True,
                          env=_child_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["results"], out["peak_mb"]


def _names():
    # The corpus names without building it (pytest collects parameters before fixtures).
    return [f"truncate-{i:02d}" for i in range(N_TRUNCATIONS)] + \
        [f"flip-{i:02d}" for i in range(N_FLIPS)] + list(_EDITS)


def test_corpus_names_match(corpus):
    assert sorted(corpus) == sorted(_names())


def test_base_file_loads(base, tmp_path):
    path = tmp_path / "base.npz"
    path.write_bytes(base.data)
    est = io.load(path)
    assert est.pre[0].n_features_in_ == 4 and est.metadata_["target"] == "y"


@pytest.mark.parametrize("name", _names())
def test_crafted_file_is_refused(results, name):
    outcome, message = results[0][name]
    if outcome == "ok":  # a flipped bit in bytes nothing checks (a timestamp, padding)
        assert name.startswith("flip-"), f"{name} loaded as a {message}"
        return
    assert outcome == "ValueError", f"{name}: {outcome}: {message}"
    assert "is not a valid lepton file: " in message, message


def test_crafted_files_stay_within_memory_budget(results):
    assert results[1] < MEMORY_BUDGET_MB, f"peak {results[1]:.0f} MB over baseline"


@pytest.mark.parametrize("name, reason", [
    ("model-dense-12000", r"array 'params' has shape \(10,\), expected \(144012000,\)"),
    ("model-units-1e12", "'units' must be in"),
    ("bomb-params-deflated", "zip bomb"),
    ("bomb-json-spaces", "zip bomb"),
    ("bomb-stored-size-lie", "past the end of the file"),
    ("json-2MiB-stored", "more than the 1048576 allowed"),
    ("json-nested-100000", "nested more than 64 levels"),
    ("npy-header-2**40", "declares shape"),
    ("object-dtype", "pickled objects"),
    ("extra-predict", "would shadow MLPClassifier.predict"),
    ("extra-_net", "public identifiers"),
    ("extra-hidden_layer_sizes", "would replace the attribute"),
    ("optimizer_step-neg", "'optimizer_step' must be >= 0, got -1"),
    ("lr-nan", "metadata holds NaN"),
    ("lr-inf", "'lr' must be a finite number"),
    ("dropout_seed-neg", "'dropout_seed' must be >= 0, got -1"),
    ("dropout_seed-2**70", "'dropout_seed' must fit in 64 bits"),
    ("optimizer_v-neg", "'optimizer_v' contains negative values"),
    ("optimizer_m-nan", "'optimizer_m' contains non-finite"),
    ("classes-nan", "'classes' contains non-finite"),
    ("metadata-feature_names-5", "metadata_ entry 'feature_names' must be list, got 5"),
    ("metadata-target-list", "metadata_ entry 'target' must be str or int or null"),
    ("too-many-members", "10001 archive members"),
    ("meta-key-_net", r"unknown entries \['_net'\]"),
    ("param-__class__", r"unknown MLPClassifier parameters \['__class__'\]"),
])
def test_refusals_say_what_is_wrong(results, name, reason):
    assert re.search(reason, results[0][name][1]), results[0][name]


# ----------------------------------------------------------------------- killed saves

def _tmpfile_supported(folder):
    if not hasattr(os, "O_TMPFILE"):
        return False
    try:
        os.close(os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600))
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_killed_saves_leave_no_temporary_files(tmp_path):
    """30 SIGKILLs at random moments of a save loop: the destination always loads, and no
    hidden temporary file is ever left behind (O_TMPFILE: the file has no name while it is
    written)."""
    if not _tmpfile_supported(tmp_path):
        pytest.skip("no O_TMPFILE here: the named-temporary fallback can leave files")
    # One warm child forks a saver per kill: 30 fresh interpreters would take ~20 s.
    script = textwrap.dedent("""
        import os, random, signal, sys, time
        import numpy as np
        from lepton import io
        from lepton.preprocessing import StandardScaler
        dest = sys.argv[1]
        scaler = StandardScaler().fit(np.random.default_rng(0).normal(size=(2, 1_000_000)))
        io.save(scaler, dest)  # 24 MB: a save takes tens of milliseconds
        rng = random.Random(0)
        for _ in range(30):
            pid = os.fork()
            if pid == 0:
                try:
                    while True:
                        io.save(scaler, dest)
                finally:
                    os._exit(1)
            time.sleep(rng.uniform(0.005, 0.12))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        print("done")
    """)
    dest = tmp_path / "model.npz"
    proc = subprocess.run([sys.executable, "-c", script, str(dest)], capture_output=True,
                          text=True, env=_child_env(), timeout=120)
    assert proc.returncode == 0 and "done" in proc.stdout, proc.stderr[-3000:]
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    assert io.load(dest).n_features_in_ == 1_000_000


@pytest.mark.parametrize("failure", ["no O_TMPFILE", "no linkat from /proc"])
def test_save_falls_back_to_a_named_temporary_file(tmp_path, monkeypatch, failure):
    """Where O_TMPFILE or linking it is not supported, save() writes a named temporary
    file as before: same result, same permissions, nothing left behind."""
    real_open, real_link = os.open, os.link
    tmpfile = getattr(os, "O_TMPFILE", 0)

    def open_(path, flags, *args, **kwargs):
        if tmpfile and flags & tmpfile == tmpfile:
            raise OSError(errno.EOPNOTSUPP, "not supported")
        return real_open(path, flags, *args, **kwargs)

    def link(src, dst, **kwargs):
        if str(src).startswith("/proc/self/fd/"):
            raise OSError(errno.EXDEV, "cross-device link")
        return real_link(src, dst, **kwargs)

    if failure == "no O_TMPFILE":
        monkeypatch.setattr(io.os, "open", open_)
    else:
        monkeypatch.setattr(io.os, "link", link)
    scaler = lepton.StandardScaler().fit(np.arange(12.0).reshape(4, 3))
    path = tmp_path / "s.npz"
    io.save(scaler, path)
    io.save(scaler, path)  # over an existing file too
    assert sorted(os.listdir(tmp_path)) == ["s.npz"]
    np.testing.assert_array_equal(io.load(path).mean_, scaler.mean_)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
