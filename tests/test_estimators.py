"""lepton.MLPClassifier / MLPRegressor: scikit-learn compatibility and lepton's extras.

The strongest check is numerical: with the same random_state, lepton draws the same initial
weights and batches as scikit-learn and applies the same losses, learning-rate rules and
stopping rule, so in float64 both follow the same trajectory up to rounding.
"""
import contextlib
import pickle
import time
import warnings

import numpy as np
import pytest

from lepton import _sklcompat
from lepton._testing import expect_threads
from lepton.estimators import MLPClassifier, MLPRegressor

try:
    import sklearn
    from sklearn.utils.estimator_checks import parametrize_with_checks
except ImportError:  # the sklearn-dependent tests are skipped
    sklearn = None

needs_sklearn = pytest.mark.skipif(sklearn is None, reason="scikit-learn not installed")


@contextlib.contextmanager
def _quiet():
    """Silence ConvergenceWarning (short max_iter on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _sklcompat.ConvergenceWarning)
        yield


# ---------------------------------------------------------------------------- check_estimator
if sklearn is not None:
    # max_iter=100 is what scikit-learn's own test-suite uses for its MLPs; no check is
    # expected to fail.  scikit-learn warns that the estimators do not inherit from its
    # BaseEstimator: on purpose, scikit-learn is not a dependency.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not inherit from")
        _checks = parametrize_with_checks([MLPClassifier(max_iter=100),
                                           MLPRegressor(max_iter=100)])

    @_checks
    def test_sklearn_check_estimator(estimator, check):
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            check(estimator)


# ---------------------------------------------------------------------------- same as sklearn
SAME_AS_SKLEARN = [
    dict(),
    dict(batch_size=77, alpha=0.01),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.2, power_t=0.3),
    dict(solver="sgd", nesterovs_momentum=False, momentum=0.5, learning_rate_init=0.05),
    dict(solver="sgd", momentum=0.0, learning_rate_init=0.1, shuffle=False),
    dict(activation="tanh", hidden_layer_sizes=(16, 8)),
    dict(activation="logistic", beta_1=0.8, beta_2=0.99, epsilon=1e-6),
    dict(activation="identity", batch_size=500),
]


@needs_sklearn
@pytest.mark.parametrize("params", SAME_AS_SKLEARN, ids=lambda p: str(p) or "defaults")
def test_classifier_follows_sklearn(digits, params):
    from sklearn.neural_network import MLPClassifier as SkMLP

    X, y = digits
    kw = dict(dict(hidden_layer_sizes=(24,), max_iter=6, random_state=3), **params)
    with _quiet():
        sk = SkMLP(**kw).fit(X, y)
        le = MLPClassifier(**kw).fit(X, y)
    assert le.n_iter_ == sk.n_iter_ and le.t_ == sk.t_
    np.testing.assert_allclose(le.loss_curve_, sk.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(le.predict_proba(X), sk.predict_proba(X), atol=1e-10)
    for a, b in zip(le.coefs_ + le.intercepts_, sk.coefs_ + sk.intercepts_):
        np.testing.assert_allclose(a, b, atol=1e-10)


@needs_sklearn
@pytest.mark.parametrize("kind", ["binary", "multilabel", "weighted", "regression",
                                  "regression-2d", "adaptive", "early-stopping-regressor"])
def test_targets_follow_sklearn(digits, kind):
    from sklearn.neural_network import MLPClassifier as SkC, MLPRegressor as SkR

    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), max_iter=8, random_state=0)
    fit_kw = {}
    if kind == "binary":
        pair = (SkC, MLPClassifier, np.where(y > 4, "big", "small"))
    elif kind == "multilabel":
        pair = (SkC, MLPClassifier, np.stack([y > 4, y % 2 == 0, y == 7], axis=1).astype(int))
    elif kind == "weighted":
        pair = (SkC, MLPClassifier, y)
        kw["batch_size"] = 100
        fit_kw["sample_weight"] = np.random.RandomState(0).randint(0, 4, len(y))
    elif kind == "regression":
        pair = (SkR, MLPRegressor, y.astype(float))
    elif kind == "regression-2d":
        pair = (SkR, MLPRegressor, np.stack([y, X[:, 20] * 3], axis=1))
    elif kind == "adaptive":
        # A large tol makes the rule fire quickly: the rate is divided by 5 twice.
        pair = (SkC, MLPClassifier, y)
        kw.update(solver="sgd", learning_rate="adaptive", tol=0.5, n_iter_no_change=2,
                  max_iter=12)
    else:
        # The validation split differs from scikit-learn's (no sklearn at run time), so only
        # the mechanics are compared: scores recorded, best weights restored.
        reg = MLPRegressor(**kw, early_stopping=True, n_iter_no_change=2, tol=0.5)
        with _quiet():
            reg.fit(X, y.astype(float))
        assert len(reg.validation_scores_) == reg.n_iter_ <= 8
        assert reg.best_loss_ is None
        assert reg.best_validation_score_ == max(reg.validation_scores_)
        return
    Sk, Le, target = pair
    with _quiet():
        sk = Sk(**kw).fit(X, target, **fit_kw)
        le = Le(**kw).fit(X, target, **fit_kw)
    assert le.n_iter_ == sk.n_iter_
    assert le.out_activation_ == sk.out_activation_ and le.n_outputs_ == sk.n_outputs_
    np.testing.assert_allclose(le.loss_curve_, sk.loss_curve_, rtol=1e-10)
    if Sk is SkC:
        np.testing.assert_array_equal(le.predict(X), sk.predict(X))
        np.testing.assert_array_equal(le.classes_, sk.classes_)
        np.testing.assert_allclose(le.predict_proba(X), sk.predict_proba(X), atol=1e-10)
    else:
        np.testing.assert_allclose(le.predict(X), sk.predict(X), atol=1e-9)


def test_stopping_rule_and_convergence_warning(digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    with pytest.warns(_sklcompat.ConvergenceWarning, match="Maximum iterations"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3
    # tol so large that no epoch after the first "improves": the count passes
    # n_iter_no_change=4 at epoch 6.
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, tol=100.0, n_iter_no_change=4,
                        random_state=0).fit(X, y)
    assert clf.n_iter_ == 6
    assert clf.best_loss_ == min(clf.loss_curve_)


@needs_sklearn
def test_convergence_warning_is_sklearns_when_sklearn_is_loaded(digits):
    from sklearn.exceptions import ConvergenceWarning, NotFittedError

    X, y = digits
    with pytest.warns(ConvergenceWarning) as record:
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(X[:50], y[:50])
    assert any(isinstance(w.message, _sklcompat.ConvergenceWarning) for w in record)
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    with pytest.raises(_sklcompat.NotFittedError):
        MLPRegressor().predict(X)


# ---------------------------------------------------------------------------- sklearn tools
@needs_sklearn
def test_clone_pipeline_gridsearch_cross_val(digits):
    from sklearn.base import clone, is_classifier, is_regressor
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = digits
    X, y = X[:600], y[:600]
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=30, batch_size=32, random_state=0,
                        dropout=0.1)
    assert is_classifier(clf) and is_regressor(MLPRegressor())
    c = clone(clf)
    assert c.get_params() == clf.get_params() and not hasattr(c, "coefs_")
    with _quiet():
        pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
        assert pipe.score(X, y) > 0.95
        scores = cross_val_score(clf, X, y, cv=3)
        assert scores.shape == (3,) and scores.mean() > 0.75
        grid = GridSearchCV(clf, {"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(16,), (32,)]},
                            cv=2).fit(X, y)
    assert grid.best_estimator_.n_iter_ > 0
    assert set(grid.cv_results_["param_alpha"]) == {1e-4, 1e-2}
    with _quiet():
        r2 = cross_val_score(MLPRegressor(hidden_layer_sizes=(16,), max_iter=50, batch_size=32,
                                          random_state=0), X, X[:, 20] + X[:, 30], cv=3)
    assert r2.mean() > 0.5


def test_get_set_params_and_repr():
    clf = MLPClassifier(hidden_layer_sizes=(7,), alpha=0.5)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (7,) and params["max_fun"] == 15000
    assert {"dropout", "class_weight", "dtype", "n_threads"} <= set(params)
    assert "loss" in MLPRegressor().get_params()
    assert clf.set_params(max_iter=5) is clf and clf.max_iter == 5
    with pytest.raises(ValueError, match="Invalid parameter 'bogus'"):
        clf.set_params(bogus=1)
    assert repr(clf) == "MLPClassifier(hidden_layer_sizes=(7,), alpha=0.5, max_iter=5)"


# ---------------------------------------------------------------------------- targets
def test_target_kinds_and_output_shapes(digits):
    X, y = digits
    X, y = X[:400], y[:400]
    cases = [
        (MLPClassifier, y, "softmax", 10, (400,), (400, 10)),
        (MLPClassifier, np.where(y > 4, "big", "small"), "logistic", 1, (400,), (400, 2)),
        (MLPClassifier, np.stack([y > 4, y % 2 == 0], axis=1), "logistic", 2, (400, 2),
         (400, 2)),
        (MLPRegressor, y.astype(float), "identity", 1, (400,), None),
        (MLPRegressor, np.stack([y, -y], axis=1).astype(float), "identity", 2, (400, 2), None),
    ]
    for Est, target, out, n_out, pred_shape, proba_shape in cases:
        with _quiet():
            est = Est(hidden_layer_sizes=(16,), max_iter=30, batch_size=32,
                      random_state=0).fit(X, target)
        assert est.out_activation_ == out and est.n_outputs_ == n_out
        assert est.n_layers_ == 3 and est.n_features_in_ == 64
        pred = est.predict(X)
        assert pred.shape == pred_shape
        if proba_shape:
            proba = est.predict_proba(X)
            assert proba.shape == proba_shape
            if target.ndim == 1:
                np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-12)
                np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], pred)
                np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba))
            assert 0.5 < est.score(X, target) <= 1
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier(max_iter=1).fit(X, X[:, 20] + 0.5)
    with pytest.raises(ValueError, match="one class"):
        MLPClassifier(max_iter=1).fit(X, np.zeros(len(X)))


def test_float32_is_preserved(digits):
    X, y = digits
    X32 = X.astype(np.float32)
    with _quiet():
        clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(X32, y)
        reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(X32, y)
        forced = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, dtype="float64",
                               random_state=0).fit(X32, y)
        forced32 = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, dtype="float32",
                                 random_state=0).fit(X, y)
        ints = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5).fit((X * 16).astype(int), y)
    assert all(c.dtype == np.float32 for c in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X32).dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32  # the model's dtype decides
    assert reg.predict(X32).dtype == np.float32
    assert forced.coefs_[0].dtype == np.float64 and forced.predict_proba(X32).dtype == np.float64
    assert forced32.coefs_[0].dtype == np.float32
    assert ints.coefs_[0].dtype == np.float64
    # float32 training tracks float64 training closely.
    np.testing.assert_allclose(clf.predict_proba(X), forced.predict_proba(X), atol=1e-3)


# ---------------------------------------------------------------------------- state
def test_partial_fit_and_warm_start_keep_optimizer_state(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), shuffle=False, random_state=0, tol=0.0)
    with _quiet():
        ref = MLPClassifier(max_iter=4, **kw).fit(X, y)
        inc = MLPClassifier(max_iter=2, **kw).fit(X, y)
        inc.partial_fit(X, y)
        inc.partial_fit(X, y)
        warm = MLPClassifier(max_iter=2, warm_start=True, **kw).fit(X, y)
        warm.fit(X, y)
    # Same Adam moments and step count as 4 uninterrupted epochs: the same weights.
    n_batches = 4 * int(np.ceil(len(X) / 200))
    for est in (inc, warm):
        assert est._net.optimizer_state[2] == n_batches
        np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-12)
    assert inc.n_iter_ == 1 and inc.t_ == 4 * len(X) and len(inc.loss_curve_) == 4
    np.testing.assert_allclose(inc.loss_curve_, ref.loss_curve_, rtol=1e-12)


def test_partial_fit_classes(digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X[:100], y[:100])
    clf.partial_fit(X[:100], y[:100], classes=np.arange(12))
    np.testing.assert_array_equal(clf.classes_, np.arange(12))
    clf.partial_fit(X[y < 3], y[y < 3])  # a subset of the classes is fine
    with pytest.raises(ValueError, match="not in `self.classes_`"):
        clf.partial_fit(X[:10], y[:10] + 20)
    with pytest.raises(ValueError, match="early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(X, y)


def test_pickle_and_lepton_save(tmp_path, digits):
    import lepton.io

    X, y = digits
    with _quiet():
        clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0,
                            dropout=0.2).fit(X, np.array(list("abcdefghij"))[y])
    for other in (pickle.loads(pickle.dumps(clf)),
                  (lepton.io.save(clf, tmp_path / "m.npz"), lepton.io.load(tmp_path / "m.npz"))[1]):
        np.testing.assert_array_equal(other.predict_proba(X), clf.predict_proba(X))
        np.testing.assert_array_equal(other.classes_, clf.classes_)
        assert other.get_params() == clf.get_params()
        assert other.loss_curve_ == clf.loss_curve_
    # Loaded estimators continue training exactly like the original (optimizer state too).
    loaded = lepton.io.load(tmp_path / "m.npz")
    with _quiet():
        clf.partial_fit(X, np.array(list("abcdefghij"))[y])
        loaded.partial_fit(X, np.array(list("abcdefghij"))[y])
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_coefs_are_live_views(digits):
    X, y = digits
    with _quiet():
        reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    before = reg.predict(X)
    reg.intercepts_[-1][0] += 1.0  # in place: the model sees it
    np.testing.assert_allclose(reg.predict(X), before + 1.0)
    reg.coefs_ = [np.zeros_like(c) for c in reg.coefs_]  # replaced: pushed into the model
    np.testing.assert_allclose(reg.predict(X), reg.intercepts_[-1][0])


# ---------------------------------------------------------------------------- validation
def test_parameter_and_input_errors(digits):
    X, y = digits
    with pytest.raises(NotImplementedError, match="lbfgs"):
        MLPClassifier(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="lbfgs"):  # also a ValueError, like sklearn's
        MLPClassifier(solver="lbfgs").fit(X, y)
    with pytest.raises(NotImplementedError, match="poisson"):
        MLPRegressor(loss="poisson").fit(X, y)
    bad = [dict(alpha=-1), dict(activation="softmax"), dict(activation="swish"),
           dict(hidden_layer_sizes=(0,)), dict(batch_size=0), dict(dropout=1.0),
           dict(dropout=[0.1, 0.2]), dict(learning_rate="fast"), dict(dtype="float16"),
           dict(n_threads=0), dict(momentum=2.0), dict(class_weight="heavy")]
    for params in bad:
        with pytest.raises(ValueError):
            MLPClassifier(max_iter=1, **params).fit(X[:50], y[:50])
    with pytest.raises(_sklcompat.NotFittedError, match="not fitted yet"):
        MLPClassifier().predict_proba(X)
    with _quiet():
        clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 63 features, but MLPClassifier is expecting "
                                         "64 features as input"):
        clf.predict(X[:, 1:])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(np.full((2, 64), np.nan))
    with pytest.raises(ValueError, match="2D array"):
        clf.predict(X[0])
    with pytest.raises(ValueError, match="sample_weight"):
        MLPClassifier().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="non-zero"):
        MLPClassifier().fit(X, y, sample_weight=np.zeros(len(y)))


# ---------------------------------------------------------------------------- lepton extras
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "sigmoid", "identity",
                                        "leaky_relu", "elu", "gelu", "softplus"])
def test_all_activations_train(digits, activation):
    X, y = digits
    with _quiet():
        clf = MLPClassifier(hidden_layer_sizes=(32,), activation=activation, max_iter=20,
                            batch_size=64, learning_rate_init=0.003, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_dropout_class_weight_sample_weight(digits):
    X, y = digits
    with _quiet():
        kw = dict(hidden_layer_sizes=(32, 16), max_iter=10, batch_size=64, random_state=0)
        a = MLPClassifier(dropout=[0.3, 0.0], **kw).fit(X, y)
        b = MLPClassifier(dropout=[0.3, 0.0], **kw).fit(X, y)
        c = MLPClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))  # reproducible
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))
    assert a.score(X, y) > 0.9
    # Imbalanced binary task: "balanced" (or a dict) raises the minority class's recall.
    rare = (y == 3)
    kw = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with _quiet():
        plain = MLPClassifier(**kw).fit(X, rare)
        balanced = MLPClassifier(class_weight="balanced", **kw).fit(X, rare)
        as_dict = MLPClassifier(class_weight={True: 9.0}, **kw).fit(X, rare)
        as_sw = MLPClassifier(**kw).fit(X, rare, sample_weight=np.where(rare, 9.0, 1.0))

    def recall(m):
        return (m.predict(X)[rare] == 1).mean()
    assert recall(balanced) > recall(plain) and recall(as_dict) > recall(plain)
    np.testing.assert_allclose(as_dict.predict_proba(X), as_sw.predict_proba(X), atol=1e-12)


def test_thread_count_does_not_change_results(digits):
    X, y = digits
    fits = []
    for n in (1, 2):
        with _quiet(), (expect_threads() if n > 1 else contextlib.nullcontext()):
            # batches of 600 x 256 units: large enough for the threaded GEMMs
            fits.append(MLPClassifier(hidden_layer_sizes=(256,), batch_size=600, max_iter=3,
                                      random_state=0, n_threads=n).fit(X, y))
    np.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])


def test_feature_names_with_pandas(digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    df = pd.DataFrame(X[:, :5], columns=[f"f{i}" for i in range(5)])
    with _quiet():
        clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X[:, :5])
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(df.rename(columns={"f0": "zz"}))


# ---------------------------------------------------------------------------- digits
@pytest.mark.slow
@needs_sklearn
def test_digits_accuracy_matches_sklearn(digits):
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier as SkMLP

    X, y = digits
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    kw = dict(hidden_layer_sizes=(64,), solver="adam", max_iter=200, random_state=0)
    with _quiet():
        t0 = time.perf_counter()
        sk = SkMLP(**kw).fit(X_tr, y_tr)
        t_sk = time.perf_counter() - t0
        t0 = time.perf_counter()
        le = MLPClassifier(**kw).fit(X_tr, y_tr)
        t_le = time.perf_counter() - t0
    acc_sk, acc_le = sk.score(X_te, y_te), le.score(X_te, y_te)
    print(f"\ndigits test accuracy: lepton {acc_le:.4f} ({le.n_iter_} epochs, {t_le:.3f} s), "
          f"scikit-learn {acc_sk:.4f} ({sk.n_iter_} epochs, {t_sk:.3f} s); "
          f"fit time ratio sklearn/lepton = {t_sk / t_le:.1f}x")
    assert acc_le >= acc_sk - 0.01
