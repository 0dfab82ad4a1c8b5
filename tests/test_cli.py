"""The ``lepton`` command, run as a user runs it: ``python -m lepton ...`` in a subprocess."""
import csv
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import lepton

# Make the subprocess import the same lepton as this test (in-tree build or installed).
_SRC = os.path.dirname(os.path.dirname(os.path.abspath(lepton.__file__)))


def run(*args, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = _SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("LEPTON_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "lepton", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


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
    proc = run("train", files / "flowers.csv", "--target", "species", "--layers", "32,16",
               "--epochs", "40", "--seed", "1", "--clip-outliers", "--save", model, "-q")
    assert proc.returncode == 0, proc.stderr
    assert "3 classes" in proc.stdout and "setosa" in proc.stdout and model.exists()
    assert proc.stderr == ""  # --quiet: no progress bar

    info = run("info", model)
    assert info.returncode == 0, info.stderr
    for text in ("format: lepton version 1", "MLPClassifier", "4 -> 32 (relu) -> 16 (relu) -> "
                 "3 (softmax)", "parameters: 739", "dtype: float32",
                 "classes (3): setosa, versicolor, virginica", "target: 'species'",
                 "QuantileClipper", "StandardScaler", "sepal_len"):
        assert text in info.stdout, (text, info.stdout)

    pred = run("predict", model, files / "flowers.csv")
    assert pred.returncode == 0, pred.stderr
    labels = pred.stdout.split()
    assert len(labels) == 240 and set(labels) <= {"setosa", "versicolor", "virginica"}
    with open(files / "flowers.csv") as f:
        truth = [row["species"] for row in csv.DictReader(f)]
    assert np.mean(np.array(labels) == np.array(truth)) > 0.85

    out_csv = tmp_path / "pred.csv"
    pred = run("predict", model, files / "flowers.csv", "-o", out_csv, "--proba")
    assert pred.returncode == 0 and "240 predictions" in pred.stdout
    with open(out_csv) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["predicted_species", "proba_setosa", "proba_versicolor",
                       "proba_virginica"]
    assert [r[0] for r in rows[1:]] == labels
    assert all(abs(sum(map(float, r[1:])) - 1) < 1e-4 for r in rows[1:])

    ev = run("evaluate", model, files / "flowers.csv")
    assert ev.returncode == 0, ev.stderr
    assert "target 'species'" in ev.stdout and "macro avg" in ev.stdout
    assert float(re.search(r"accuracy: ([0-9.]+)", ev.stdout).group(1)) > 0.85

    # Feature columns are matched by name: reordered columns give the same predictions.
    with open(files / "flowers.csv") as f:
        rows = list(csv.reader(f))
    order = [4, 2, 0, 3, 1]
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("\n".join(",".join(r[i] for i in order) for r in rows) + "\n")
    again = run("predict", model, shuffled)
    assert again.stdout.split() == labels


def test_regression_with_plot_and_early_stopping(files, tmp_path):
    pytest.importorskip("matplotlib")
    model, plot = tmp_path / "houses.npz", tmp_path / "curves.png"
    proc = run("train", files / "houses.csv", "--target", "price", "--layers", "32",
               "--epochs", "300", "--early-stopping", "--patience", "5", "--lr", "0.01",
               "--optimizer", "nesterov", "--save", model, "--plot", plot)
    assert proc.returncode == 0, proc.stderr
    assert "regression" in proc.stdout and "R^2:" in proc.stdout and "RMSE:" in proc.stdout
    assert "val_r2=" in proc.stderr
    epochs = int(re.search(r"training: (\d+) epochs", proc.stdout).group(1))
    assert epochs < 300  # early stopping ended training
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ev = run("evaluate", model, files / "houses.csv")
    assert ev.returncode == 0, ev.stderr
    assert float(re.search(r"R\^2:\s+([-0-9.]+)", ev.stdout).group(1)) > 0.8
    pred = run("predict", model, files / "houses.csv")
    values = np.array(pred.stdout.split(), dtype=float)
    assert values.shape == (240,) and 40 < values.mean() < 60  # original units, not scaled
    info = run("info", model)
    assert "MLPRegressor" in info.stdout and "target preprocessing: StandardScaler()" in \
        info.stdout


def test_npz_data(files, tmp_path):
    model = tmp_path / "m.npz"
    proc = run("train", files / "arrays.npz", "--epochs", "5", "--task", "classification",
               "--save", model, "-q", "--dtype", "float64", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    assert "2 classes" in proc.stdout
    info = run("info", model)
    assert "dtype: float64" in info.stdout and "inputs: 4 features" in info.stdout
    pred = run("predict", model, files / "arrays.npz")
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
    assert_error(run(*[a.format(d=files) for a in args]), code, fragment)


def test_model_and_data_mismatch_errors(files, tmp_path):
    model = tmp_path / "flowers.npz"
    assert run("train", files / "flowers.csv", "--target", "species", "--epochs", "2", "-q",
               "--save", model).returncode == 0
    assert_error(run("predict", model, files / "houses.csv"), 1, "lacks 4 feature column(s)",
                 "sepal_len")
    assert_error(run("evaluate", model, files / "text.csv"), 1, "'species' not found")
    assert_error(run("predict", model, files / "arrays.npz", "--proba", "-o",
                     tmp_path / "no" / "dir.csv"), 1, "cannot write")
    npz_model = tmp_path / "arrays_model.npz"
    assert run("train", files / "arrays.npz", "--epochs", "2", "-q", "--save",
               npz_model).returncode == 0
    np.savez(tmp_path / "five.npz", X=np.zeros((3, 5)), y=np.zeros(3))
    assert_error(run("predict", npz_model, tmp_path / "five.npz"), 1,
                 "has 5 feature columns, but the model expects 4")
    reg = tmp_path / "houses.npz"
    assert run("train", files / "houses.csv", "--epochs", "2", "-q", "--save",
               reg).returncode == 0
    assert_error(run("predict", reg, files / "houses.csv", "--proba"), 2, "classifier")


def test_plot_without_matplotlib_is_a_clear_error(files, tmp_path):
    # Simulate a missing matplotlib with an import blocker on the subprocess's path.
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('blocked for this test')\n")
    env_path = str(blocker) + os.pathsep + _SRC
    proc = subprocess.run([sys.executable, "-m", "lepton", "train", "--plot",
                           str(tmp_path / "c.png")], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=env_path), timeout=300)
    assert_error(proc, 1, "needs matplotlib")


def test_bench_and_entry_points():
    proc = run("bench", "--rounds", "1", "--threads", "1")
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
