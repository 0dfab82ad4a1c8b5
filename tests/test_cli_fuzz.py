"""The ``lepton`` command never prints a traceback, whatever file or option it is given.

A corpus of bad data files, bad model files and bad options runs through the command's
entry point in-process (fast); a handful also run as real ``python -m lepton`` processes.
Each must exit non-zero with one ``lepton: error: ...`` line as the last line of stderr.
"""
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from lepton.cli import main

from _helpers import child_env

MAX_LINE = 600  # characters of an error line; long lists must be abbreviated


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def rewrite_model(src, dst, edit):
    """Copy the model file ``src`` to ``dst`` after ``edit(meta, arrays)`` changed its
    parsed metadata and arrays (in place; it may also return new metadata text)."""
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("__lepton__").tobytes().decode("utf-8"))
    text = edit(meta, arrays)
    text = json.dumps(meta) if text is None else text
    arrays["__lepton__"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    np.savez(dst, **arrays)
    return dst


def nested(depth):
    return "[" * depth + "]" * depth


def deep_metadata(meta, arrays):
    text = json.dumps(meta)
    return text.replace('"metadata": {', '"metadata": {"deep": ' + nested(100_000) + ", ", 1)


def deep_extra(meta, arrays):
    return json.dumps(meta)[:-1] + ', "more": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 \
        + "}"


def inject_extra(name, list_=True):
    """Attach a copy of the file's first preprocessing step under the extra name ``name``."""
    def edit(meta, arrays):
        entry = meta["extra"]["preprocessing"]["items"][0]
        meta["extra"][name] = {"list": list_, "items": [entry]}
        for key in list(arrays):
            if key.startswith("extra/preprocessing/0/"):
                arrays[key.replace("preprocessing", name, 1)] = arrays[key]
    return edit


def set_meta(path, value):
    """Set metadata entry ``path`` (keys, or list indices, separated by '.') to ``value``."""
    def edit(meta, arrays):
        node = meta
        *parents, last = (int(k) if k.isdigit() else k for k in path.split("."))
        for key in parents:
            node = node[key]
        node[last] = value
    return edit


def save_estimator(path, X, y):
    """An MLPClassifier file as earlier ``lepton train`` versions wrote them: the estimator,
    its ``metadata_`` and its preprocessing, saved with ``lepton.save``."""
    import warnings

    import lepton

    scaler = lepton.StandardScaler().fit(X)
    est = lepton.MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        est.fit(scaler.transform(X), y)
    est.metadata_ = {"task": "classification", "target": "y", "feature_names": None,
                     "source": "good.npz", "created_by": "lepton train"}
    lepton.save(est, path, preprocessing=[scaler])
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    good = write_npz(d / "good.npz", X=X, y=y)
    with open(d / "good.csv", "w") as f:
        f.write("a,b,c,label\n")
        for row, v in zip(X, y):
            f.write(",".join(f"{x:.4f}" for x in row) + f",{'yn'[v]}\n")
    raw = good.read_bytes()
    files = {}

    def put(name, content):
        path = d / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        files[name] = path
        return path

    # ---- data files
    put("truncated.npz", raw[: len(raw) // 2])
    put("truncated_head.npz", raw[:10])
    put("garbage.npz", b"PK\x03\x04" + rng.bytes(400))
    put("binary.npz", rng.bytes(1000))
    put("text.npz", "a,b\n1,2\n")
    put("empty.npz", b"")
    np.save(d / "array.npy", X)
    put("renamed.npz", (d / "array.npy").read_bytes())
    files["zero_rows.npz"] = write_npz(d / "zero_rows.npz", X=np.zeros((0, 3)), y=np.zeros(0))
    files["zero_cols.npz"] = write_npz(d / "zero_cols.npz", X=np.zeros((5, 0)), y=np.zeros(5))
    files["no_x.npz"] = write_npz(d / "no_x.npz", A=X)
    files["x_1d.npz"] = write_npz(d / "x_1d.npz", X=X[:, 0], y=y)
    files["x_text.npz"] = write_npz(d / "x_text.npz", X=X.astype(str), y=y)
    files["x_object.npz"] = write_npz(d / "x_object.npz", X=X.astype(object), y=y)
    files["y_object.npz"] = write_npz(d / "y_object.npz", X=X, y=y.astype(object))
    files["y_short.npz"] = write_npz(d / "y_short.npz", X=X, y=y[:5])
    files["y_2d.npz"] = write_npz(d / "y_2d.npz", X=X, y=X)
    files["y_nan.npz"] = write_npz(d / "y_nan.npz", X=X, y=np.where(y, np.nan, 1.0))
    files["y_struct.npz"] = write_npz(d / "y_struct.npz", X=X,
                                      y=np.zeros(60, dtype=[("a", "i4"), ("b", "f8")]))
    files["x_nan.npz"] = write_npz(d / "x_nan.npz", X=np.where(X > 1, np.nan, X), y=y)
    files["x_inf.npz"] = write_npz(d / "x_inf.npz", X=np.where(X > 1, np.inf, X), y=y)
    files["x_huge.npz"] = write_npz(d / "x_huge.npz", X=np.where(X > 0, 1e308, -1e308), y=y)
    files["one_class.npz"] = write_npz(d / "one_class.npz", X=X, y=np.zeros(60))
    with zipfile.ZipFile(d / "foreign.npz", "w") as z:
        z.writestr("X.npy", b"not a numpy array")
        z.writestr("y.txt", b"hello")
    files["foreign.npz"] = d / "foreign.npz"
    np.savez_compressed(d / "compressed.npz", X=rng.normal(size=(500, 20)), y=np.arange(500))
    damaged = bytearray((d / "compressed.npz").read_bytes())
    for i in range(200, len(damaged) - 200, 97):
        damaged[i] ^= 0x5A
    put("crc_damaged.npz", bytes(damaged))
    put("header_only.csv", "a,b,label\n")
    put("empty.csv", "")
    put("blank_lines.csv", "\n \n\t\n")
    put("ragged.csv", "a,b,label\n1,2,x\n3,4\n5,6,7,8\n")
    put("ragged_text.csv", "this is just text\nwith, some commas, here\nand more\n")
    put("non_numeric.csv", "a,b,label\n1,x,0\n2,3,1\n")
    put("empty_cell.csv", "a,b,label\n1,,0\n2,3,1\n")
    put("nan.csv", "a,b,label\n" + "".join(f"{i},nan,{i % 2}\n" for i in range(20)))
    put("inf.csv", "a,b,label\n" + "".join(f"{i},-inf,{i % 2}\n" for i in range(20)))
    put("huge.csv", "a,b,label\n" + "".join(f"{(-1) ** i * 1e308},{i},{i % 2}\n"
                                            for i in range(20)))
    put("overflow.csv", "a,b,label\n" + "".join(f"1e309,{i},{i % 2}\n" for i in range(20)))
    put("huge_target.csv", "a,b,t\n" + "".join(f"{i},{i * 2},{(-1) ** i * 1e308 * 0.7}\n"
                                               for i in range(20)))
    put("target_missing.csv", "a,b,label\n1,2,x\n3,4,\n5,6,y\n")
    put("singletons.csv", "a,label\n" + "".join(f"{i},c{i}\n" for i in range(5)))
    put("single_column.csv", "a\n1\n2\n")
    put("dup_header.csv", "a,a,label\n1,2,0\n")
    put("empty_name.csv", "a,,label\n1,2,0\n")
    put("binary.csv", rng.bytes(3000))
    put("nul.csv", b"a,b,label\n1,\x00,0\n")
    put("latin1.csv", "a,b,label\n1,2,caf\xe9\n".encode("latin-1"))
    put("zip.csv", raw)
    put("npy.csv", (d / "array.npy").read_bytes())
    put("long_field.csv", "a,b,label\n" + "1" * 200_000 + ",2,0\n")
    put("unterminated_quote.csv", 'a,b,label\n1,"2,0\n3,4,1\n')
    (d / "a_directory.csv").mkdir()
    files["a_directory.csv"] = d / "a_directory.csv"
    files["missing.csv"] = d / "does_not_exist.csv"
    files["not_a_dir.csv"] = d / "good.csv" / "inner.csv"
    if os.geteuid() != 0:  # root reads any file
        unreadable = put("unreadable.csv", "a,b\n1,2\n")
        unreadable.chmod(0)

    # ---- model files
    model = d / "model.npz"
    assert main(["train", str(good), "--layers", "4", "--epochs", "1", "-q", "--save",
                 str(model)]) == 0
    mraw = model.read_bytes()
    models = {}

    def mput(name, content):
        models[name] = put(name, content)

    mput("m_truncated.npz", mraw[: len(mraw) // 2])
    mput("m_garbage.npz", rng.bytes(2000))
    mput("m_empty.npz", b"")
    mput("m_text.npz", "{}")
    mput("m_csv.npz", "a,b\n1,2\n")
    models["m_data.npz"] = good  # an .npz, but not a lepton file
    models["m_directory"] = files["a_directory.csv"]
    models["m_missing.npz"] = d / "no_model.npz"
    edits = {  # of the lepton.Model file that `lepton train` writes
        "m_deep_metadata.npz": deep_metadata,
        "m_deep_extra.npz": deep_extra,
        "m_target_list.npz": set_meta("metadata.target", ["x", "y"]),
        "m_target_dict.npz": set_meta("metadata.target", {"a": 1}),
        "m_features_str.npz": set_meta("metadata.feature_names", "abc"),
        "m_features_ints.npz": set_meta("metadata.feature_names", [1, 2, 3]),
        "m_features_many.npz": set_meta("metadata.feature_names",
                                        [f"f{i}" for i in range(10_000)]),
        "m_metadata_int.npz": set_meta("metadata", 5),
        "m_source_list.npz": set_meta("metadata.source", [1] * 1000),
        "m_classes_one.npz": set_meta("metadata.classes", ["a"]),
        "m_classes_many.npz": set_meta("metadata.classes", list(range(10_000))),
        "m_classes_same.npz": set_meta("metadata.classes", ["a", "a"]),
        "m_classes_mixed.npz": set_meta("metadata.classes", [1, "a"]),
        "m_classes_nested.npz": set_meta("metadata.classes", [[1], [2]]),
        "m_classes_str.npz": set_meta("metadata.classes", "ab"),
        "m_trainer_list.npz": set_meta("metadata.trainer", [1, 2]),
        "m_fit_str.npz": set_meta("metadata.fit", "x"),
        "m_version.npz": set_meta("format_version", 99),
        "m_version_bool.npz": set_meta("format_version", True),
        "m_format.npz": set_meta("format", "other"),
        "m_kind.npz": set_meta("kind", "no_such_kind"),
        "m_kind_scaler.npz": set_meta("kind", "standard_scaler"),
        "m_units.npz": set_meta("config.layers.0.units", 10 ** 12),
        "m_units_neg.npz": set_meta("config.layers.0.units", -4),
        "m_layers_str.npz": set_meta("config.layers", "big"),
        "m_unknown_param.npz": set_meta("config.evil", 1),
        "m_extra_not_dict.npz": set_meta("extra", [1, 2]),
        "m_extra_predict.npz": inject_extra("predict"),
        "m_extra_net.npz": inject_extra("_net"),
        "m_extra_metadata.npz": inject_extra("metadata_"),
        "m_extra_classes.npz": inject_extra("classes_"),
        "m_extra_features.npz": inject_extra("n_features_in_", list_=False),
        "m_arrays_manifest.npz": set_meta("arrays.params", {"dtype": "<f8", "shape": [1]}),
        "m_meta_text.npz": lambda meta, arrays: "not json at all",
        "m_meta_list.npz": lambda meta, arrays: "[1, 2, 3]",
        "m_meta_utf8.npz": lambda meta, arrays: "\udcff",
    }
    estimator = save_estimator(d / "estimator.npz", X, y)
    for name, edit in {  # of an MLPClassifier file, as earlier versions wrote them
            "e_target_list.npz": set_meta("config.metadata.target", ["x", "y"]),
            "e_features_ints.npz": set_meta("config.metadata.feature_names", [1, 2, 3]),
            "e_metadata_int.npz": set_meta("config.metadata", 5),
            "e_units.npz": set_meta("config.fitted.layer_units", [3, 10 ** 12, 1]),
            "e_params.npz": set_meta("config.params.hidden_layer_sizes", "big"),
            "e_unknown_param.npz": set_meta("config.params.evil", 1),
            "e_extra_net.npz": inject_extra("_net")}.items():
        models[name] = rewrite_model(estimator, d / name, edit)
    for name, edit in edits.items():
        if name == "m_meta_utf8.npz":
            with np.load(model) as z:
                arrays = {k: z[k] for k in z.files}
            arrays["__lepton__"] = np.frombuffer(b"\xff\xfe{", dtype=np.uint8)
            np.savez(d / name, **arrays)
            models[name] = d / name
            continue
        models[name] = rewrite_model(model, d / name, edit)
    with np.load(model) as z:
        arrays = {k: z[k] for k in z.files}
    np.savez(d / "m_pickled.npz", **arrays, evil=np.array([{"a": 1}], dtype=object))
    models["m_pickled.npz"] = d / "m_pickled.npz"
    arrays["__lepton__"] = arrays["__lepton__"].astype(np.float64)
    np.savez(d / "m_meta_float.npz", **arrays)
    models["m_meta_float.npz"] = d / "m_meta_float.npz"
    return {"dir": d, "files": files, "models": models, "model": model, "good": good,
            "good_csv": d / "good.csv", "estimator": estimator}


DATA_CASES = ["truncated.npz", "truncated_head.npz", "garbage.npz", "binary.npz", "text.npz",
              "empty.npz", "renamed.npz", "zero_rows.npz", "zero_cols.npz", "no_x.npz",
              "x_1d.npz", "x_text.npz", "x_object.npz", "y_object.npz", "y_short.npz",
              "y_2d.npz", "y_nan.npz", "y_struct.npz", "x_nan.npz", "x_inf.npz",
              "x_huge.npz", "one_class.npz", "foreign.npz", "crc_damaged.npz",
              "header_only.csv", "empty.csv", "blank_lines.csv", "ragged.csv",
              "ragged_text.csv", "non_numeric.csv", "empty_cell.csv", "nan.csv", "inf.csv",
              "huge.csv", "overflow.csv", "target_missing.csv",
              "singletons.csv", "single_column.csv", "dup_header.csv", "empty_name.csv",
              "binary.csv", "nul.csv", "latin1.csv", "zip.csv", "npy.csv", "long_field.csv",
              "unterminated_quote.csv", "a_directory.csv", "missing.csv", "not_a_dir.csv",
              "unreadable.csv"]

# Data files that are bad for prediction too (a bad target alone is not).
PREDICT_CASES = ["truncated.npz", "garbage.npz", "text.npz", "empty.npz", "renamed.npz",
                 "zero_rows.npz", "zero_cols.npz", "no_x.npz", "x_1d.npz", "x_text.npz",
                 "x_object.npz", "y_object.npz", "y_short.npz", "y_struct.npz", "x_nan.npz",
                 "x_huge.npz", "foreign.npz", "crc_damaged.npz", "ragged.csv", "empty.csv",
                 "binary.csv", "non_numeric.csv", "zip.csv", "a_directory.csv"]

MODEL_CASES = ["m_truncated.npz", "m_garbage.npz", "m_empty.npz", "m_text.npz", "m_csv.npz",
               "m_data.npz", "m_directory", "m_missing.npz", "m_deep_metadata.npz",
               "m_deep_extra.npz", "m_target_list.npz", "m_target_dict.npz",
               "m_features_str.npz", "m_features_ints.npz", "m_features_many.npz",
               "m_metadata_int.npz", "m_source_list.npz", "m_classes_one.npz",
               "m_classes_many.npz", "m_classes_same.npz", "m_classes_mixed.npz",
               "m_classes_nested.npz", "m_classes_str.npz", "m_trainer_list.npz",
               "m_fit_str.npz", "m_version.npz",
               "m_version_bool.npz", "m_format.npz", "m_kind.npz", "m_kind_scaler.npz",
               "m_units.npz", "m_units_neg.npz", "m_layers_str.npz", "m_unknown_param.npz",
               "m_extra_not_dict.npz", "m_extra_predict.npz", "m_extra_net.npz",
               "m_extra_metadata.npz", "m_extra_classes.npz", "m_extra_features.npz",
               "m_arrays_manifest.npz", "m_meta_text.npz",
               "m_meta_list.npz", "m_meta_utf8.npz", "m_pickled.npz", "m_meta_float.npz",
               "e_target_list.npz", "e_features_ints.npz", "e_metadata_int.npz",
               "e_units.npz", "e_params.npz", "e_unknown_param.npz", "e_extra_net.npz"]

OPTION_CASES = [
    ["--epochs", "-1"], ["--epochs", "0"], ["--epochs", "99999999999999999999999"],
    ["--epochs", "ten"], ["--epochs", "1e3"], ["--epochs", ""],
    ["--batch-size", "0"], ["--batch-size", "-3"], ["--batch-size", "1" + "0" * 30],
    ["--batch-size", "x"],
    ["--threads", "0"], ["--threads", "-2"], ["--threads", "100000000"], ["--threads", "two"],
    ["--lr", "-1"], ["--lr", "0"], ["--lr", "nan"], ["--lr", "inf"], ["--lr", "1e999"],
    ["--lr", "fast"], ["--l2", "-1"], ["--l2", "nan"],
    ["--activation", "swish"], ["--optimizer", "rmsprop"], ["--dtype", "float16"],
    ["--layers", "a,b"], ["--layers", ""], ["--layers", ","], ["--layers", "0"],
    ["--layers", "-5"], ["--layers", "1e3"], ["--layers", "99999999999"],
    ["--layers", "1000000,1000000,1000000"],
    ["--dropout", "1"], ["--dropout", "-0.1"], ["--dropout", "nan"], ["--dropout", "x"],
    ["--dropout", "0.1,0.2,0.3"],
    ["--seed", "-1"], ["--seed", str(2 ** 32)], ["--seed", "s"],
    ["--test-size", "0"], ["--test-size", "1"], ["--test-size", "nan"],
    ["--validation-split", "1"], ["--validation-split", "-0.5"],
    ["--patience", "0"], ["--validation-split", "0", "--early-stopping"],
    ["--task", "clustering"], ["--target", "no_such_column"],
    ["--save", ""], ["--save", "{dir}"], ["--save", "{dir}/no/such/dir/m.npz"],
    ["--plot", ""], ["--plot", "{dir}/no/such/dir/c.png"],
    ["--no-such-option"], ["extra_positional", "another"],
    # options checked by the lepton API (usage errors quoting its message)
    ["--optimizer", "momentum", "--momentum", "1"], ["--beta1", "1"], ["--beta2", "-0.1"],
    ["--eps", "0"], ["--weight-decay", "-1"], ["--clip-norm", "0"], ["--loss-scale", "0"],
    ["--loss", "huber", "--huber-delta", "0"], ["--schedule", "step", "--gamma", "0"],
    ["--schedule", "step", "--step-size", "0"], ["--schedule", "exponential", "--gamma", "-1"],
    ["--schedule", "cosine", "--t-max", "0"], ["--schedule", "cosine", "--eta-min", "-1"],
    ["--schedule", "invscaling", "--power-t", "-1"], ["--schedule", "plateau", "--factor", "1"],
    ["--schedule", "plateau", "--min-lr", "-1"], ["--early-stopping", "--min-delta", "-1"],
    # options that do not apply, or that contradict the data
    ["--momentum", "0.5"], ["--beta1", "0.5", "--optimizer", "sgd"], ["--huber-delta", "1"],
    ["--gamma", "0.5"], ["--t-max", "3"], ["--min-delta", "0.1"],
    ["--loss", "mse", "--task", "classification"],
    ["--loss", "softmax_cross_entropy", "--task", "regression"],
    ["--early-stopping", "--monitor", "val_r2"],
    ["--task", "regression", "--class-weight", "balanced"],
    ["--class-weight", "7:1"], ["--class-weight", "x"],
    ["--class-weight", "1:-1"], ["--sample-weight", "nope"], ["--sample-weight", "y"],
    ["--schedule", "warmup"], ["--loss", "hinge"], ["--init", "zeros"], ["--monitor", "acc"],
]

OTHER_CASES = [
    ["frobnicate"], ["evaluate"], ["predict"], ["info"], ["predict", "{model}"],
    ["bench", "--rounds", "0"], ["bench", "--threads", "0"], ["bench", "--rounds", "x"],
    ["predict", "{model}", "{good}", "-o", "{dir}/no/such/dir/p.csv"],
    ["predict", "{model}", "{good}", "-o", "{dir}"],
    ["evaluate", "{model}", "{good_csv}", "--target", "nope"],
    ["evaluate", "{model}", "{dir}/x_huge.npz"],
    ["predict", "{model}", "{dir}/zero_cols.npz"],
    ["predict", "{model}", "{dir}/ragged.csv"],
]


def run_main(argv, capsys):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def check_error(status, err, what):
    assert status not in (0, None), (what, status, err)
    assert "Traceback" not in err, (what, err)
    lines = err.strip().splitlines()
    assert lines, (what, "nothing on stderr")
    assert lines[-1].startswith("lepton: error: "), (what, err)
    assert len(lines[-1]) <= MAX_LINE, (what, len(lines[-1]), lines[-1][:200])


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv("LEPTON_DEBUG", raising=False)


def _fill(args, corpus):
    names = {"dir": corpus["dir"], "model": corpus["model"], "good": corpus["good"],
             "good_csv": corpus["good_csv"]}
    return [str(a).format(**names) for a in args]


def test_bad_data_files(corpus, capsys):
    for name in DATA_CASES:
        if name not in corpus["files"]:
            continue  # e.g. the unreadable file, as root
        path = corpus["files"][name]
        status, _, err = run_main(["train", path, "-q", "--epochs", "1", "--layers", "4"],
                                  capsys)
        check_error(status, err, ("train", name))
        if name in PREDICT_CASES:
            status, _, err = run_main(["predict", corpus["model"], path], capsys)
            check_error(status, err, ("predict", name))


def test_bad_model_files(corpus, capsys):
    for name in MODEL_CASES:
        path = corpus["models"][name]
        for argv in (["info", path], ["predict", path, corpus["good"]],
                     ["evaluate", path, corpus["good"]]):
            status, _, err = run_main(argv, capsys)
            check_error(status, err, (argv[0], name))


@pytest.mark.parametrize("options", OPTION_CASES, ids=lambda o: " ".join(o)[:40])
def test_bad_train_options(corpus, options, capsys):
    argv = ["train", corpus["good"], "-q", "--layers", "4", "--epochs", "1"]
    status, _, err = run_main(argv + _fill(options, corpus), capsys)
    check_error(status, err, options)


@pytest.mark.parametrize("argv", OTHER_CASES, ids=lambda o: " ".join(o)[:40])
def test_bad_commands(corpus, argv, capsys):
    status, _, err = run_main(_fill(argv, corpus), capsys)
    check_error(status, err, argv)


def test_known_messages(corpus, capsys):
    """The specific messages of the known cases name the real cause."""
    f, m = corpus["files"], corpus["models"]
    expected = [
        (["train", f["text.npz"]], "is not an .npz archive"),
        (["train", f["renamed.npz"]], "single .npy array, not an .npz archive"),
        (["train", f["truncated.npz"]], "damaged or truncated"),
        (["train", f["garbage.npz"]], "damaged or truncated"),
        (["train", f["zero_rows.npz"]], "has no rows"),
        (["train", f["header_only.csv"]], "no data rows"),
        (["train", f["huge.csv"]], "too large"),
        (["train", f["huge.csv"], "--no-standardize"], "too large"),
        (["train", f["huge_target.csv"], "--task", "regression"], "too large"),
        (["train", f["x_object.npz"]], "pickled"),
        (["train", f["zip.csv"]], "not a CSV text file"),
        (["train", f["a_directory.csv"]], "is a directory"),
        (["info", m["m_deep_metadata.npz"]], "m_deep_metadata.npz"),
        (["info", m["m_extra_predict.npz"]], "m_extra_predict.npz"),
        (["info", m["m_target_list.npz"]], "m_target_list.npz"),
        (["train", corpus["good"], "--save", corpus["dir"]], "is a directory"),
    ]
    for argv, fragment in expected:
        status, _, err = run_main(argv, capsys)
        check_error(status, err, argv)
        assert fragment in err.strip().splitlines()[-1], (argv, fragment, err)


def test_unexpected_exception_is_one_line(monkeypatch, capsys):
    """A bug (any exception type) is still one line naming command, file and type."""
    from lepton.cli import _data as _cli_data

    def boom(path):
        raise KeyError("internal")
    monkeypatch.setattr(_cli_data, "read_data", boom)
    status, _, err = run_main(["train", "some.csv"], capsys)
    check_error(status, err, "KeyError")
    assert "KeyError" in err and "'lepton train'" in err and "some.csv" in err

    monkeypatch.setenv("LEPTON_DEBUG", "1")  # developers get the traceback
    with pytest.raises(KeyError):
        main(["train", "some.csv"])


def test_interrupt_and_warnings_are_one_line(monkeypatch, capsys):
    import warnings

    from lepton.cli import _data as _cli_data

    def interrupted(path):
        raise KeyboardInterrupt
    monkeypatch.setattr(_cli_data, "read_data", interrupted)
    status, _, err = run_main(["train", "some.csv"], capsys)
    assert status == 130 and err.strip() == "lepton: interrupted"

    def warns(path):
        warnings.warn("overflow encountered\nin square", RuntimeWarning)
        raise ValueError("bad values")
    monkeypatch.setattr(_cli_data, "read_data", warns)
    status, _, err = run_main(["train", "some.csv"], capsys)
    assert status == 1
    assert err.strip().splitlines() == ["lepton: warning: overflow encountered in square",
                                        "lepton: error: bad values"]


def test_long_label_lists_are_abbreviated(tmp_path, capsys):
    from lepton.cli._data import abbreviate
    from lepton.cli._errors import one_line

    assert abbreviate(range(300)) == "[0, 1, 2, ..., 299] (300 labels)"
    assert abbreviate([1, 2]) == "[1, 2]"
    line = one_line(ValueError(f"unseen labels: {list(range(300))}; known: {list(range(9))}"))
    assert line == ("unseen labels: [0, 1, 2, ..., 299] (300 items); known: "
                    "[0, 1, 2, 3, 4, 5, 6, 7, 8]")
    assert len(one_line("x" * 5000)) <= 400


def test_split_keeps_every_class_in_training(tmp_path, capsys):
    # 300 classes of 2 samples: every class must stay in training (it used to fail with
    # "previously unseen labels" and a 1.9 KB error line).
    path = tmp_path / "many.csv"
    path.write_text("a,y\n" + "".join(f"{i},{i % 300}\n" for i in range(600)))
    status, out, err = run_main(["train", path, "--task", "classification", "--epochs", "1",
                                 "--layers", "4", "-q"], capsys)
    assert status == 0, err
    assert "300 classes" in out


def test_plot_path_semantics(tmp_path):
    from lepton.cli._plot import plot_path

    assert plot_path(str(tmp_path)) == str(tmp_path / "training_curves.png")
    assert plot_path(str(tmp_path / "new") + os.sep) == str(tmp_path / "new" /
                                                             "training_curves.png")
    assert plot_path(str(tmp_path / "curves")) == str(tmp_path / "curves")
    assert plot_path(str(tmp_path / "c.pdf")) == str(tmp_path / "c.pdf")


@pytest.mark.parametrize("target, written", [
    ("{dir}", "{dir}/training_curves.png"), ("{dir}/curves", "{dir}/curves"),
    ("{dir}/c.svg", "{dir}/c.svg")])
def test_plot_writes_the_reported_file(corpus, tmp_path, capsys, target, written):
    pytest.importorskip("matplotlib")
    target, written = (s.format(dir=tmp_path) for s in (target, written))
    status, out, err = run_main(["train", corpus["good"], "-q", "--epochs", "2", "--layers",
                                 "4", "--plot", target], capsys)
    assert status == 0, err
    assert f"saved training curves to {written}" in out
    assert os.path.isfile(written)
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(written)]


@pytest.mark.slow
def test_subprocess_never_shows_a_traceback(corpus):
    """A few cases through a real process: nothing escapes to the interpreter."""
    env = child_env()
    env.pop("LEPTON_DEBUG", None)
    f, m = corpus["files"], corpus["models"]
    cases = [["train", f["truncated.npz"]], ["train", f["binary.csv"]],
             ["train", f["huge.csv"]], ["info", m["m_deep_metadata.npz"]],
             ["predict", m["m_extra_predict.npz"], corpus["good"]],
             ["train", "--layers", "a,b"]]
    for argv in cases:
        proc = subprocess.run([sys.executable, "-m", "lepton", *map(str, argv)],
                              capture_output=True, text=True, env=env, timeout=120)
        check_error(proc.returncode, proc.stderr, argv)
        assert len(proc.stderr.strip().splitlines()) == 1, (argv, proc.stderr)


def test_help_documents_lepton_debug(capsys):
    assert main(["--help"]) == 0
    assert "LEPTON_DEBUG=1" in capsys.readouterr().out
    assert main(["train", "--help"]) == 0
    assert "LEPTON_DEBUG=1" in capsys.readouterr().out


def test_corpus_sources_are_valid(corpus, capsys):
    # The undamaged models and data work: the failures above come from the damage only.
    for model in (corpus["model"], corpus["estimator"]):
        for argv in (["info", model], ["predict", model, corpus["good"]],
                     ["evaluate", model, corpus["good"]]):
            status, _, err = run_main(argv, capsys)
            assert status == 0, (argv, err)
