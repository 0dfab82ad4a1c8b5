"""Models and estimators carry their preprocessing: applied wherever they read X, saved and
loaded with them; lepton.Pipeline (and scikit-learn Pipelines of lepton steps) round-trip."""
import csv
import pickle
import warnings

import numpy as np
import pytest

import lepton
from lepton.exceptions import NotFittedError

from test_cli import cli, files  # noqa: F401  (the CLI's data fixture)


def _data(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * 40 + 500      # far from standardised
    y = (X[:, 0] + X[:, 1] > 1000).astype(int)
    t = 0.05 * X[:, 0] - 0.02 * X[:, 2] + 7.0
    return X, y, t


def _model(d=6, out=2, head="softmax"):
    return lepton.Model([lepton.Dense(16, activation="tanh"), lepton.Dense(out, activation=head)],
                        input_dim=d, dtype="float64", seed=0)


def test_model_predict_and_trainer_apply_the_preprocessing():
    X, y, _ = _data()
    scaler = lepton.StandardScaler().fit(X)
    m = _model()
    m.preprocessing = [scaler]
    bare = _model()
    bare.params[...] = m.params
    np.testing.assert_array_equal(m.predict(X), bare.predict(scaler.transform(X)))
    tr = lepton.Trainer(m, lr=0.05, seed=1)
    tr2 = lepton.Trainer(bare, lr=0.05, seed=1)
    tr.fit(X, y, epochs=3, batch_size=32, validation_data=(X[:50], y[:50]))
    tr2.fit(scaler.transform(X), y, epochs=3, batch_size=32,
            validation_data=(scaler.transform(X[:50]), y[:50]))
    np.testing.assert_array_equal(m.params, bare.params)
    assert tr.evaluate(X, y) == tr2.evaluate(scaler.transform(X), y)
    assert tr.evaluate(X, y)["accuracy"] > 0.9


def test_target_preprocessing_trains_scaled_and_predicts_in_original_units():
    X, _, t = _data()
    xs = lepton.StandardScaler().fit(X)
    ts = lepton.StandardScaler().fit(t.reshape(-1, 1))
    m = _model(out=1, head="identity")
    m.preprocessing, m.target_preprocessing = [xs], [ts]
    lepton.Trainer(m, loss="mse", lr=0.01).fit(X, t, epochs=60, batch_size=32)
    pred = m.predict(X)[:, 0]
    assert abs(pred.mean() - t.mean()) < 0.2 * t.std()        # original units, not z-scores
    assert 1 - np.mean((pred - t) ** 2) / t.var() > 0.9


def test_preprocessing_is_saved_copied_and_pickled_with_the_model(tmp_path):
    X, y, t = _data()
    m = _model(out=1, head="identity")
    m.preprocessing = [lepton.QuantileClipper().fit(X), lepton.StandardScaler().fit(X)]
    m.target_preprocessing = lepton.StandardScaler().fit(t.reshape(-1, 1))   # one step
    want = m.predict(X)
    lepton.save(m, tmp_path / "m.npz")
    for other in (lepton.load(tmp_path / "m.npz"), m.copy(), pickle.loads(pickle.dumps(m))):
        assert [type(s).__name__ for s in other.preprocessing] == ["QuantileClipper",
                                                                   "StandardScaler"]
        np.testing.assert_array_equal(other.predict(X), want)
    # Explicit extras still win for that file.
    lepton.save(m, tmp_path / "bare.npz", preprocessing=[], target_preprocessing=[])
    assert lepton.load(tmp_path / "bare.npz").preprocessing == []


@pytest.mark.parametrize("steps, exc, match", [
    ([lepton.StandardScaler()], NotFittedError, "not fitted"),
    ([lepton.StandardScaler().fit(np.ones((3, 4)))], ValueError, "fitted on 4 features"),
    ([object()], TypeError, "no transform method"),
    ("scale", TypeError, "list of fitted transformers"),
])
def test_bad_preprocessing_is_refused(steps, exc, match):
    m = _model()
    with pytest.raises(exc, match=match):
        m.preprocessing = steps
    assert m.preprocessing == []


def test_estimators_apply_attached_preprocessing_and_keep_it_in_files(tmp_path):
    X, y, t = _data()
    scaler = lepton.StandardScaler().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = lepton.MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
        clf.fit(scaler.transform(X), y)
    raw = clf.predict_proba(scaler.transform(X))
    clf.preprocessing = [scaler]
    np.testing.assert_array_equal(clf.predict_proba(X), raw)
    assert clf.score(X, y) > 0.9
    lepton.save(clf, tmp_path / "clf.npz")
    back = lepton.load(tmp_path / "clf.npz")
    np.testing.assert_array_equal(back.predict_proba(X), raw)
    with pytest.raises(ValueError, match="target_preprocessing is for regression"):
        clf.target_preprocessing = [lepton.StandardScaler().fit(t.reshape(-1, 1))]

    ts = lepton.StandardScaler().fit(t.reshape(-1, 1))
    reg = lepton.MLPRegressor(hidden_layer_sizes=(16,), max_iter=200, random_state=0)
    reg.fit(scaler.transform(X), ts.transform(t.reshape(-1, 1)).ravel())
    reg.preprocessing, reg.target_preprocessing = [scaler], [ts]
    assert reg.score(X, t) > 0.9                         # predictions in original units
    lepton.save(reg, tmp_path / "reg.npz")
    back = lepton.load(tmp_path / "reg.npz")
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))


def test_a_model_saved_by_the_cli_predicts_like_the_cli_from_python(files, tmp_path):  # noqa: F811
    path = tmp_path / "flowers.npz"
    proc = cli("train", files / "flowers.csv", "--target", "species", "--layers", "16",
               "--epochs", "30", "--clip-outliers", "--save", path, "-q")
    assert proc.returncode == 0, proc.stderr
    pred = cli("predict", path, files / "flowers.csv", "--proba", "-o", tmp_path / "p.csv")
    assert pred.returncode == 0, pred.stderr
    with open(tmp_path / "p.csv") as f:
        rows = list(csv.reader(f))[1:]
    with open(files / "flowers.csv") as f:
        X = np.array([[float(v) for v in r[:4]] for r in list(csv.reader(f))[1:]])
    model = lepton.load(path)
    assert [type(s).__name__ for s in model.preprocessing] == ["QuantileClipper",
                                                               "StandardScaler"]
    proba = model.predict(X)                            # raw inputs, as the CLI read them
    np.testing.assert_allclose(proba, np.array([[float(v) for v in r[1:]] for r in rows]),
                               atol=1e-5)


def test_pipeline_fits_predicts_and_round_trips(tmp_path):
    X, y, _ = _data()
    pipe = lepton.make_pipeline(lepton.StandardScaler(),
                                lepton.MLPClassifier(hidden_layer_sizes=(16,), max_iter=300,
                                                     random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9 and list(pipe.classes_) == [0, 1]
    assert pipe.n_features_in_ == 6 and list(pipe.named_steps) == ["standardscaler",
                                                                    "mlpclassifier"]
    lepton.save(pipe, tmp_path / "p.npz")
    back = lepton.load(tmp_path / "p.npz")
    assert isinstance(back, lepton.Pipeline)
    np.testing.assert_array_equal(back.predict_proba(X), pipe.predict_proba(X))
    pipe.set_params(mlpclassifier__alpha=0.5)
    assert pipe[-1].alpha == 0.5 and pipe.get_params()["mlpclassifier__alpha"] == 0.5


def test_scikit_learn_pipeline_of_lepton_steps_round_trips(tmp_path):
    sk_pipeline = pytest.importorskip("sklearn.pipeline")
    X, y, _ = _data()
    pipe = sk_pipeline.make_pipeline(lepton.StandardScaler(),
                                     lepton.MLPClassifier(hidden_layer_sizes=(8,), max_iter=20,
                                                          random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
    lepton.save(pipe, tmp_path / "sk.npz")
    back = lepton.load(tmp_path / "sk.npz")
    assert isinstance(back, lepton.Pipeline)
    np.testing.assert_array_equal(back.predict(X), pipe.predict(X))
    from sklearn.base import clone
    assert isinstance(clone(back), lepton.Pipeline)


def test_pipeline_bad_input():
    with pytest.raises(TypeError, match="non-empty list"):
        lepton.Pipeline([])
    with pytest.raises(TypeError, match="must be transformers"):
        lepton.Pipeline([("a", lepton.MLPClassifier()), ("b", lepton.MLPClassifier())])
    with pytest.raises(ValueError, match="unique"):
        lepton.Pipeline([("a", lepton.StandardScaler()), ("a", lepton.MLPClassifier())])
    with pytest.raises(TypeError, match="cannot save"):
        lepton.save(lepton.Pipeline([("a", "passthrough"), ("m", _model())]), "/tmp/x.npz")


def test_a_pipeline_file_without_its_steps_is_invalid(tmp_path):
    import json
    import zipfile
    X, y, _ = _data()
    pipe = lepton.make_pipeline(lepton.StandardScaler(), _model())
    pipe.steps[0][1].fit(X)
    lepton.save(pipe, tmp_path / "p.npz")
    with zipfile.ZipFile(tmp_path / "p.npz") as z:
        members = {n: z.read(n) for n in z.namelist()}
    meta = json.loads(np.load(tmp_path / "p.npz")["__lepton__"].tobytes())
    meta["extra"] = {}
    arrays = {n[:-4]: np.load(tmp_path / "p.npz")[n[:-4]] for n in members
              if not n.startswith("extra/") and n != "__lepton__.npy"}
    arrays["__lepton__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="not a valid lepton file: Pipeline: the file names "
                                         "steps it does not hold"):
        lepton.load(tmp_path / "bad.npz")
