"""The ``lepton`` command, run as a user runs it: through its entry point in this process
(fast), and a few times as ``python -m lepton ...`` in a subprocess."""
import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import lepton

from _helpers import SRC, child_env


def run(*args, cwd=None):
    env = child_env()   # the subprocess imports the same lepton as this test
    env.pop("LEPTON_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "lepton", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def cli(*args):
    """``lepton ARGS`` in this process (no interpreter start-up), as ``run`` reports it."""
    from lepton.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv("LEPTON_DEBUG", raising=False)


def assert_error(proc, code, *fragments):
    """One line on stderr, ``lepton: error: ...``, no traceback, the given exit status."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("lepton: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.RandomState(0)
    n = 240
    X = rng.normal(size=(n, 4))
    species = np.array(["setosa", "versicolor", "virginica"])[
        (X[:, 0] + X[:, 1] > 0.3).astype(int) + (X[:, 2] > 0.8).astype(int)]
    price = 3 * X[:, 0] - 2 * X[:, 1] ** 2 + 50 + rng.normal(scale=0.1, size=n)
    with open(d / "flowers.csv", "w") as f:
        f.write("sepal_len,sepal_wid,petal_len,petal_wid,species\n")
        for row, s in zip(X, species):
            f.write(",".join(f"{v:.5f}" for v in row) + f",{s}\n")
    with open(d / "houses.csv", "w") as f:
        f.write("a,b,c,d,price\n")
        for row, p in zip(X, price):
            f.write(",".join(f"{v:.5f}" for v in row) + f",{p:.4f}\n")
    np.savez(d / "arrays.npz", X=X, y=(X[:, 0] > 0).astype(int))
    (d / "text.csv").write_text("a,b,label\n1,2,x\n3,oops,y\n4,5,x\n")
    (d / "ragged.csv").write_text("a,b,label\n1,2,x\n3,4\n")
    (d / "empty.csv").write_text("")
    (d / "three.csv").write_text("a,b,c\n1,2,3\n")
    return d


def test_train_on_embedded_digits_with_no_arguments(tmp_path):
    proc = run("train", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "digits" in out and "1797 samples" in out and "10 classes" in out
    for word in ("precision", "recall", "f1-score", "support", "macro avg", "weighted avg",
                 "Confusion matrix"):
        assert word in out
    acc = float(re.search(r"^accuracy: ([0-9.]+)$", out, re.M).group(1))
    assert acc > 0.9
    assert re.search(r"training: \d+ epochs in [0-9.]+ s \([0-9,]+ samples/s\)", out)
    # The confusion matrix: one row per digit, counts summing to the test set size.
    rows = [line.split() for line in out.splitlines() if re.match(r"^\s+\d\s+(\d+\s+){9}\d+$",
                                                                  line)]
    assert len(rows) == 10 and sum(int(v) for r in rows for v in r[1:]) == 360
    # tqdm's progress bar with loss and validation metrics goes to stderr.
    assert "epoch" in proc.stderr and "loss=" in proc.stderr and "val_acc=" in proc.stderr
    assert os.listdir(tmp_path) == []  # nothing written unless asked


def test_train_save_then_info_predict_evaluate(files, tmp_path):
    model = tmp_path / "flowers.npz"
    proc = cli("train", files / "flowers.csv", "--target", "species", "--layers", "32,16",
               "--epochs", "40", "--seed", "1", "--clip-outliers", "--save", model, "-q")
    assert proc.returncode == 0, proc.stderr
    assert "3 classes" in proc.stdout and "setosa" in proc.stdout and model.exists()
    # The labels are stored with the model (it predicts class indices 0..2).
    assert lepton.io.read_metadata(model)["metadata"]["classes"] == ["setosa", "versicolor",
                                                                      "virginica"]
    assert proc.stderr == ""  # --quiet: no progress bar

    info = cli("info", model)
    assert info.returncode == 0, info.stderr
    for text in ("format: lepton version 1", "model: lepton.Model", "4 -> 32 (relu) -> 16 (relu) "
                 "-> 3 (softmax)", "parameters: 739", "dtype: float32",
                 "trainer: loss=softmax_cross_entropy, optimizer=adam, lr=0.001",
                 "training: 40 epochs of 40, batch 32",
                 "classes (3): setosa, versicolor, virginica", "target: 'species'",
                 "QuantileClipper", "StandardScaler", "sepal_len"):
        assert text in info.stdout, (text, info.stdout)

    pred = cli("predict", model, files / "flowers.csv")
    assert pred.returncode == 0, pred.stderr
    labels = pred.stdout.split()
    assert len(labels) == 240 and set(labels) <= {"setosa", "versicolor", "virginica"}
    with open(files / "flowers.csv") as f:
        truth = [row["species"] for row in csv.DictReader(f)]
    assert np.mean(np.array(labels) == np.array(truth)) > 0.85

    out_csv = tmp_path / "pred.csv"
    pred = cli("predict", model, files / "flowers.csv", "-o", out_csv, "--proba")
    assert pred.returncode == 0 and "240 predictions" in pred.stdout
    with open(out_csv) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["predicted_species", "proba_setosa", "proba_versicolor",
                       "proba_virginica"]
    assert [r[0] for r in rows[1:]] == labels
    assert all(abs(sum(map(float, r[1:])) - 1) < 1e-4 for r in rows[1:])

    ev = cli("evaluate", model, files / "flowers.csv")
    assert ev.returncode == 0, ev.stderr
    assert "target 'species'" in ev.stdout and "macro avg" in ev.stdout
    assert float(re.search(r"accuracy: ([0-9.]+)", ev.stdout).group(1)) > 0.85

    # Feature columns are matched by name: reordered columns give the same predictions.
    with open(files / "flowers.csv") as f:
        rows = list(csv.reader(f))
    order = [4, 2, 0, 3, 1]
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("\n".join(",".join(r[i] for i in order) for r in rows) + "\n")
    again = cli("predict", model, shuffled)
    assert again.stdout.split() == labels


def test_regression_with_plot_and_early_stopping(files, tmp_path):
    pytest.importorskip("matplotlib")
    model, plot = tmp_path / "houses.npz", tmp_path / "curves.png"
    proc = cli("train", files / "houses.csv", "--target", "price", "--layers", "32",
               "--epochs", "300", "--early-stopping", "--patience", "5", "--lr", "0.01",
               "--optimizer", "nesterov", "--save", model, "--plot", plot)
    assert proc.returncode == 0, proc.stderr
    assert "regression" in proc.stdout and "R^2:" in proc.stdout and "RMSE:" in proc.stdout
    assert "val_r2=" in proc.stderr
    epochs = int(re.search(r"training: (\d+) epochs", proc.stdout).group(1))
    assert epochs < 300  # early stopping ended training
    assert f"early stopping at epoch {epochs} (no val_loss improvement for 5 epochs)" in \
        proc.stdout
    assert f"early stopping at epoch {epochs}: 100%" in proc.stderr  # the bar ends full
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ev = cli("evaluate", model, files / "houses.csv")
    assert ev.returncode == 0, ev.stderr
    assert float(re.search(r"R\^2:\s+([-0-9.]+)", ev.stdout).group(1)) > 0.8
    pred = cli("predict", model, files / "houses.csv")
    values = np.array(pred.stdout.split(), dtype=float)
    assert values.shape == (240,) and 40 < values.mean() < 60  # original units, not scaled
    info = cli("info", model)
    assert "lepton.Model" in info.stdout and "target preprocessing: StandardScaler()" in \
        info.stdout


def test_npz_data(files, tmp_path):
    model = tmp_path / "m.npz"
    proc = cli("train", files / "arrays.npz", "--epochs", "5", "--task", "classification",
               "--save", model, "-q", "--dtype", "float64", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    assert "2 classes" in proc.stdout
    info = cli("info", model)
    assert "dtype: float64" in info.stdout and "inputs: 4 features" in info.stdout
    pred = cli("predict", model, files / "arrays.npz")
    assert pred.returncode == 0 and len(pred.stdout.split()) == 240


@pytest.mark.parametrize("args, code, fragment", [
    (["train", "{d}/missing.csv"], 1, "no such file"),
    (["train", "{d}/flowers.csv", "--target", "colour"], 1, "column 'colour' not found"),
    (["train", "{d}/text.csv", "--target", "label"], 1, "column 'b' is not numeric"),
    (["train", "{d}/ragged.csv"], 1, "has 2 fields"),
    (["train", "{d}/empty.csv"], 1, "is empty"),
    (["train", "{d}/flowers.csv", "--target", "species", "--task", "regression"], 1,
     "numeric target"),
    (["train", "{d}/three.csv"], 1, "single class (3)"),
    (["train", "--layers", "0,3"], 2, "--layers"),
    (["train", "--lr", "-1"], 2, "--lr"),
    (["train", "--epochs", "many"], 2, "--epochs"),
    (["train", "--dropout", "1.5"], 2, "--dropout"),
    (["train", "--validation-split", "0", "--early-stopping"], 2, "--validation-split"),
    (["train", "--optimizer", "rmsprop"], 2, "--optimizer"),
    (["train", "--no-such-option"], 2, "unrecognized arguments"),
    (["frobnicate"], 2, "invalid choice"),
    (["predict", "{d}/nope.npz", "{d}/flowers.csv"], 1, "no such model file"),
    (["info", "{d}/flowers.csv"], 1, "not a valid lepton file"),
    (["evaluate"], 2, "required"),
])
def test_errors_are_one_line(files, args, code, fragment):
    assert_error(cli(*[a.format(d=files) for a in args]), code, fragment)


def test_model_and_data_mismatch_errors(files, tmp_path):
    model = tmp_path / "flowers.npz"
    assert cli("train", files / "flowers.csv", "--target", "species", "--epochs", "2", "-q",
               "--save", model).returncode == 0
    assert_error(cli("predict", model, files / "houses.csv"), 1, "lacks 4 feature column(s)",
                 "sepal_len")
    assert_error(cli("evaluate", model, files / "text.csv"), 1, "'species' not found")
    assert_error(cli("predict", model, files / "arrays.npz", "--proba", "-o",
                     tmp_path / "no" / "dir.csv"), 1, "cannot write")
    npz_model = tmp_path / "arrays_model.npz"
    assert cli("train", files / "arrays.npz", "--epochs", "2", "-q", "--save",
               npz_model).returncode == 0
    np.savez(tmp_path / "five.npz", X=np.zeros((3, 5)), y=np.zeros(3))
    assert_error(cli("predict", npz_model, tmp_path / "five.npz"), 1,
                 "has 5 feature columns, but the model expects 4")
    reg = tmp_path / "houses.npz"
    assert cli("train", files / "houses.csv", "--epochs", "2", "-q", "--save",
               reg).returncode == 0
    assert_error(cli("predict", reg, files / "houses.csv", "--proba"), 2, "classifier")


def test_plot_without_matplotlib_is_a_clear_error(files, tmp_path):
    # Simulate a missing matplotlib with an import blocker on the subprocess's path.
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('blocked for this test')\n")
    env_path = str(blocker) + os.pathsep + SRC
    proc = subprocess.run([sys.executable, "-m", "lepton", "train", "--plot",
                           str(tmp_path / "c.png")], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=env_path), timeout=300)
    assert_error(proc, 1, "needs matplotlib")


@pytest.mark.slow
def test_bench_and_entry_points():
    proc = cli("bench", "--rounds", "1", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    assert "lepton" in proc.stdout and "numpy" in proc.stdout.lower()
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"lepton {lepton.__version__}"
    helptext = run()
    assert helptext.returncode == 0 and "train" in helptext.stdout

def test_main_function_returns_status(capsys):
    from lepton.__main__ import main  # what the console script `lepton` calls

    assert main(["--version"]) == 0
    assert main(["info", "/nonexistent/model.npz"]) == 1
    assert main(["train", "--epochs", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("lepton: error: ") for e in err)


# ---------------------------------------------------------------- every option reaches the API
def trained(path):
    """(Model, metadata) of a file saved by ``lepton train``, after checking it trained."""
    model = lepton.load(path)
    meta = lepton.io.read_metadata(path)["metadata"]
    assert isinstance(model, lepton.Model) and model.metadata_ == meta
    initial = lepton.Model.from_config(model.config())  # same seed: the initial weights
    assert np.all(np.isfinite(model.params)) and not np.array_equal(model.params,
                                                                    initial.params)
    return model, meta


def train_tiny(files, path, *options, data="arrays.npz"):
    proc = cli("train", files / data, "--layers", "8", "--epochs", "4", "--save", path,
               *options)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.parametrize("options, expected", [
    (["--optimizer", "sgd", "--lr", "0.05"], {"optimizer": "sgd", "lr": 0.05}),
    (["--optimizer", "momentum", "--momentum", "0.8"],
     {"optimizer": "momentum", "momentum": 0.8}),
    (["--optimizer", "nesterov", "--momentum", "0.7", "--clip-norm", "1.5"],
     {"optimizer": "nesterov", "momentum": 0.7, "clip_norm": 1.5}),
    (["--optimizer", "adam", "--beta1", "0.8", "--beta2", "0.99", "--eps", "1e-6"],
     {"optimizer": "adam", "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}),
    (["--optimizer", "adamw", "--weight-decay", "0.01", "--l2", "0"],
     {"optimizer": "adamw", "weight_decay": 0.01, "l2": 0.0}),
], ids=lambda v: v[1] if isinstance(v, list) else None)
def test_every_optimizer_reaches_the_trainer(files, tmp_path, options, expected):
    train_tiny(files, tmp_path / "m.npz", "-q", *options)
    _, meta = trained(tmp_path / "m.npz")
    assert {k: meta["trainer"][k] for k in expected} == expected


@pytest.mark.parametrize("options, schedule", [
    ([], {"type": "Constant"}),
    (["--schedule", "step", "--step-size", "2", "--gamma", "0.5"],
     {"type": "StepDecay", "step_size": 2, "gamma": 0.5}),
    (["--schedule", "exponential", "--gamma", "0.9"],
     {"type": "ExponentialDecay", "gamma": 0.9}),
    (["--schedule", "cosine", "--eta-min", "1e-5"],
     {"type": "CosineAnnealing", "t_max": 4, "eta_min": 1e-5}),
    (["--schedule", "invscaling", "--power-t", "0.25"],
     {"type": "InverseScaling", "power_t": 0.25}),
    (["--schedule", "plateau", "--factor", "0.5", "--plateau-patience", "1", "--min-lr",
      "1e-5", "--monitor", "val_accuracy", "--min-delta", "0.01"],
     {"type": "ReduceLROnPlateau", "factor": 0.5, "patience": 1, "min_delta": 0.01,
      "monitor": "val_accuracy", "min_lr": 1e-5}),
], ids=lambda v: v["type"] if isinstance(v, dict) else None)
def test_every_schedule_reaches_the_trainer(files, tmp_path, options, schedule):
    proc = train_tiny(files, tmp_path / "m.npz", *options)
    _, meta = trained(tmp_path / "m.npz")
    assert meta["trainer"]["schedule"] == schedule
    if schedule["type"] == "Constant":
        assert "lr=" not in proc.stderr
    else:  # the bar shows the scheduled rate
        assert "lr=" in proc.stderr and schedule["type"] in proc.stdout
    if schedule["type"] == "StepDecay":  # epochs 0-1 at 0.001, 2-3 at 0.0005
        assert "lr=0.0005" in proc.stderr.splitlines()[-1]


def test_network_loss_and_fit_options_reach_the_api(files, tmp_path):
    path = tmp_path / "m.npz"
    train_tiny(files, path, "--layers", "6,5", "--activation", "tanh", "--init",
               "lecun_normal", "--no-bias", "--dropout", "0.2,0.1", "--dtype", "float64",
               "--loss", "huber", "--huber-delta", "0.5", "--loss-scale", "2",
               "--batch-size", "16", "--no-shuffle", "--seed", "3", "--threads", "1", "-q",
               data="houses.csv")
    model, meta = trained(path)
    dense = dict(activation="tanh", init="lecun_normal", use_bias=False)
    assert model.layers == [lepton.Dense(6, **dense), lepton.Dropout(0.2),
                            lepton.Dense(5, **dense), lepton.Dropout(0.1),
                            lepton.Dense(1, activation="identity", init="lecun_normal",
                                         use_bias=False)]
    assert model.dtype == np.float64 and model.seed == 3
    assert {k: meta["trainer"][k] for k in ("loss", "loss_param", "loss_scale", "n_threads",
                                            "seed")} == \
        {"loss": "huber", "loss_param": 0.5, "loss_scale": 2.0, "n_threads": 1, "seed": 3}
    assert {k: meta["fit"][k] for k in ("epochs", "epochs_run", "batch_size", "shuffle")} == \
        {"epochs": 4, "epochs_run": 4, "batch_size": 16, "shuffle": False}
    assert meta["task"] == "regression" and "classes" not in meta


def test_weights_reach_fit(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3))
    label = np.where(X[:, 0] > 0.4, "b", "a")
    weight = np.where(label == "b", 5.0, 1.0)
    data = tmp_path / "w.csv"
    data.write_text("x0,x1,w,x2,label\n" + "".join(
        f"{r[0]:.4f},{r[1]:.4f},{wi},{r[2]:.4f},{lab}\n" for r, wi, lab in
        zip(X, weight, label)))
    params = []
    for options in ([], ["--sample-weight", "w"], ["--class-weight", "b:5"],
                    ["--class-weight", "balanced"]):
        path = tmp_path / "m.npz"
        proc = cli("train", data, "--layers", "4", "--epochs", "3", "-q", "--save", path,
                   *options)
        assert proc.returncode == 0, proc.stderr
        model, meta = trained(path)
        params.append(model.params.copy())
        assert meta["fit"]["sample_weight"] == ("w" if options[:1] == ["--sample-weight"]
                                                else None)
        info = cli("info", path)
        assert ("inputs: 4 features" if not options[:1] == ["--sample-weight"] else
                "inputs: 3 features (x0, x1, x2)") in info.stdout
    assert json.dumps(meta["fit"]["class_weight"]) == '"balanced"'
    # Weights change training: each weighted run differs from the unweighted one.
    assert all(not np.array_equal(params[0], p) for p in params[1:])


def test_numeric_labels_round_trip(tmp_path):
    # Labels that are not 0..K-1: the model stores them and answers with them.
    rng = np.random.RandomState(1)
    X = rng.normal(size=(200, 2))
    y = np.array([3, 7, 12])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)]
    data = tmp_path / "nums.csv"
    data.write_text("a,b,label\n" + "".join(f"{a:.4f},{b:.4f},{c}\n" for (a, b), c in
                                            zip(X, y)))
    model = tmp_path / "m.npz"
    proc = cli("train", data, "--layers", "16", "--epochs", "40", "-q", "--save", model,
               "--lr", "0.01")
    assert proc.returncode == 0, proc.stderr
    assert lepton.load(model).metadata_["classes"] == [3, 7, 12]
    pred = cli("predict", model, data, "--proba")
    rows = [line.split(",") for line in pred.stdout.split()]
    assert rows[0] == ["predicted_label", "proba_3", "proba_7", "proba_12"]
    assert np.mean(np.array([r[0] for r in rows[1:]], dtype=int) == y) > 0.9
    ev = cli("evaluate", model, data)
    assert re.search(r"^\s+12\s", ev.stdout, re.M)  # a report row of label 12
    assert float(re.search(r"accuracy: ([0-9.]+)", ev.stdout).group(1)) > 0.9


def test_early_stopping_on_the_training_loss(files, tmp_path):
    path = tmp_path / "m.npz"
    proc = train_tiny(files, path, "--early-stopping", "--monitor", "loss",
                      "--validation-split", "0", "--patience", "1", "--min-delta", "100",
                      "--epochs", "50")
    assert "training: 2 epochs" in proc.stdout
    assert "early stopping at epoch 2 (no loss improvement for 1 epochs), weights of epoch " \
           "1 restored" in proc.stdout
    assert "early stopping at epoch 2: 100%" in proc.stderr
    es = lepton.io.read_metadata(path)["metadata"]["fit"]["early_stopping"]
    assert es == {"monitor": "loss", "patience": 1, "min_delta": 100.0,
                  "restore_best_weights": True, "stopped_epoch": 1, "best_epoch": 0}


def test_train_help_lists_the_option_groups():
    out = cli("train", "--help").stdout
    for group in ("network:", "optimization:", "learning-rate schedule:", "loss:",
                  "data and validation:", "output:"):
        assert "\n" + group in out, group
    for option in ("--init", "--optimizer {sgd,momentum,nesterov,adam,adamw}", "--beta2",
                   "--weight-decay", "--clip-norm", "--schedule", "--t-max", "--power-t",
                   "--plateau-patience", "--huber-delta", "--class-weight", "--sample-weight",
                   "--min-delta", "--restore-best"):
        assert option in out, option


def test_api_errors_are_usage_errors(files):
    assert_error(cli("train", files / "arrays.npz", "--optimizer", "momentum", "--momentum",
                     "1.5"), 2, "--momentum: momentum must be a number in [0, 1), got 1.5")
    assert_error(cli("train", "--beta1", "0.5", "--optimizer", "sgd"), 2,
                 "--beta1 applies to --optimizer adam/adamw")
    assert_error(cli("train", "--loss", "huber", "--huber-delta", "-1"), 2, "--huber-delta:")


def test_files_of_earlier_versions_still_work(files, tmp_path):
    # Earlier `lepton train` saved MLPClassifier / MLPRegressor estimators: read through
    # their public attributes.
    import warnings

    from lepton.cli import _data as _cli_data

    table = _cli_data.read_data(str(files / "flowers.csv"))
    X, y, names, _ = _cli_data.select(table, "species")
    scaler = lepton.StandardScaler().fit(X)
    clf = lepton.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    reg = lepton.MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    price = 3 * X[:, 0] + 50
    price_scaler = lepton.StandardScaler().fit(price.reshape(-1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        clf.fit(scaler.transform(X), y)
        reg.fit(scaler.transform(X), price_scaler.transform(price.reshape(-1, 1)).ravel())
    for est, target, task in ((clf, "species", "classification"), (reg, "a", "regression")):
        est.metadata_ = {"task": task, "target": target, "feature_names": names,
                         "source": "flowers.csv", "created_by": "lepton train"}
    lepton.save(clf, tmp_path / "clf.npz", preprocessing=[scaler])
    lepton.save(reg, tmp_path / "reg.npz", preprocessing=[scaler],
                target_preprocessing=[price_scaler])
    info = cli("info", tmp_path / "clf.npz")
    assert info.returncode == 0, info.stderr
    for text in ("estimator: MLPClassifier", "architecture: 4 -> 8 (relu) -> 3 (softmax)",
                 "parameters: 67", "dtype: float64", "classes (3): setosa, versicolor",
                 "training: 30 epochs", "preprocessing: StandardScaler()"):
        assert text in info.stdout, (text, info.stdout)
    pred = cli("predict", tmp_path / "clf.npz", files / "flowers.csv", "--proba")
    assert pred.stdout.splitlines()[0] == ("predicted_species,proba_setosa,proba_versicolor,"
                                           "proba_virginica")
    ev = cli("evaluate", tmp_path / "clf.npz", files / "flowers.csv")
    assert ev.returncode == 0 and "setosa" in ev.stdout, ev.stderr
    assert "estimator: MLPRegressor" in cli("info", tmp_path / "reg.npz").stdout
    houses = tmp_path / "flowers_a.csv"  # the regressor's target: a column named 'a'
    houses.write_text("\n".join(["sepal_len,sepal_wid,petal_len,petal_wid,a"] + [
        ",".join(f"{v:.6f}" for v in row) + f",{p:.6f}" for row, p in zip(X, price)]) + "\n")
    values = np.array(cli("predict", tmp_path / "reg.npz", houses).stdout.split(), float)
    assert 40 < values.mean() < 60  # original units, not standardised
    ev = cli("evaluate", tmp_path / "reg.npz", houses)
    assert ev.returncode == 0 and "R^2:" in ev.stdout, ev.stderr
