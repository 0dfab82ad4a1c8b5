"""Bad arguments to the Python API raise a clear TypeError / ValueError that names the
argument, before any native code runs, and leave the object as it was.

Organised by the class of failure: every int / real / bool parameter of every public class
against the values it must refuse; every scaler against complex and huge input; every metric
(and ``score``) against scalars, wrong lengths and NaN; sample weights against every kind of
bad weight, in every place that takes them.  (The kernel wrappers: test_bad_input_kernels.py.)
"""
import doctest
import re
import warnings

import numpy as np
import pytest

import lepton
from lepton import Dense, Dropout, MLPClassifier, MLPRegressor, Model, Trainer
from lepton import metrics as M
from lepton.callbacks import EarlyStopping
from lepton.preprocessing import MinMaxScaler, QuantileClipper, StandardScaler
from lepton.schedules import (CosineAnnealing, ExponentialDecay, InverseScaling,
                              ReduceLROnPlateau, StepDecay)

from _helpers import classifier

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4))
Y = np.arange(40) % 3                 # class labels
YR = X[:, 0] - 2 * X[:, 1]            # regression target
P = np.full((40, 3), 0.1) + 0.7 * np.eye(3)[Y]   # probabilities for log_loss


def _fit(**kw):
    Trainer(classifier(4)).fit(X, Y, **{"epochs": 1, **kw})


def _est(cls, **params):
    """A tiny estimator fit (quiet); bad params raise before training."""
    params = {"hidden_layer_sizes": (4,), "max_iter": 1, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(**params).fit(X, Y if cls is MLPClassifier else YR)


def _set_state(t):
    tr = Trainer(classifier(4))
    n = tr.model.n_params
    tr.set_optimizer_state({"t": t, "m": np.zeros(n), "v": np.zeros(n)})


ESTIMATORS = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}


def _cases(table, kind):
    """pytest params: one per (parameter, bad value) pair the parameter must refuse."""
    params = []
    for pid, (call, name, allowed) in table.items():
        for vid, (value, exc) in BAD[kind].items():
            if vid not in allowed:
                params.append(pytest.param(call, name, value, exc, id=f"{pid}-{vid}"))
    return params


BAD = {
    "int": {"huge": (2**70, ValueError), "negative": (-1, ValueError),
            "float": (1.5, TypeError), "str": ("3", TypeError), "bool": (True, TypeError),
            "none": (None, TypeError)},
    "real": {"nan": (float("nan"), ValueError), "inf": (float("inf"), ValueError),
             "-inf": (float("-inf"), ValueError), "huge_int": (10**400, ValueError),
             "str": ("0.5", TypeError), "complex": (0.5j, TypeError),
             "bool": (True, TypeError), "none": (None, TypeError)},
    "bool": {"int1": (1, TypeError), "int0": (0, TypeError), "str": ("yes", TypeError),
             "float": (1.0, TypeError), "none": (None, TypeError)},
}

# ------------------------------------------------------------------ int parameters
INT_PARAMS = {
    "Dense.units": (lambda v: Dense(v), "units", ()),
    "Model.input_dim": (lambda v: Model([Dense(2)], input_dim=v), "input_dim", ()),
    "Model.seed": (lambda v: Model([Dense(2)], input_dim=3, seed=v), "seed", ()),
    "Model.predict.batch_size": (lambda v: classifier(4).predict(X, batch_size=v), "batch_size",
                                 ("none",)),
    "Trainer.seed": (lambda v: Trainer(classifier(4), seed=v), "seed", ()),
    "Trainer.fit.epochs": (lambda v: _fit(epochs=v), "epochs", ()),
    "Trainer.fit.batch_size": (lambda v: _fit(batch_size=v), "batch_size", ()),
    "Trainer.fit.verbose": (lambda v: _fit(verbose=v), "verbose", ()),
    "Trainer.set_optimizer_state.t": (_set_state, "t", ()),
    "StepDecay.step_size": (lambda v: StepDecay(v), "step_size", ()),
    "CosineAnnealing.t_max": (lambda v: CosineAnnealing(v), "t_max", ()),
    "ReduceLROnPlateau.patience": (lambda v: ReduceLROnPlateau(patience=v), "patience", ()),
    "EarlyStopping.patience": (lambda v: EarlyStopping(patience=v), "patience", ()),
    "classification_report.digits": (lambda v: M.classification_report(Y, Y, digits=v),
                                     "digits", ()),
}
for _n, _cls in ESTIMATORS.items():
    for _p, _ok in (("max_iter", ()), ("n_iter_no_change", ()), ("batch_size", ()),
                    ("max_fun", ()), ("random_state", ("none",)), ("verbose", ("bool",))):
        INT_PARAMS[f"{_n}.{_p}"] = ((lambda v, c=_cls, p=_p: _est(c, **{p: v})), _p, _ok)
    INT_PARAMS[f"{_n}.hidden_layer_sizes"] = (
        (lambda v, c=_cls: _est(c, hidden_layer_sizes=(4, v))), "hidden_layer_sizes", ())


@pytest.mark.parametrize("call,name,value,exc", _cases(INT_PARAMS, "int"))
def test_int_parameters(call, name, value, exc):
    with pytest.raises(exc, match=re.escape(name)):
        call(value)


# ------------------------------------------------------------------ real parameters
def _huber(**kw):
    return Trainer(Model([Dense(1)], input_dim=4), loss="huber", **kw)


REAL_PARAMS = {
    "Dropout.rate": (lambda v: Dropout(v), "rate", ()),
    "Trainer.fit.validation_split": (lambda v: _fit(validation_split=v), "validation_split",
                                     ()),
    "Trainer.fit.class_weight": (lambda v: _fit(class_weight={0: v}), "class_weight", ()),
    "Trainer.loss_param": (lambda v: _huber(loss_param=v), "loss_param", ("none",)),
    "StepDecay.gamma": (lambda v: StepDecay(2, gamma=v), "gamma", ()),
    "ExponentialDecay.gamma": (lambda v: ExponentialDecay(v), "gamma", ()),
    "CosineAnnealing.eta_min": (lambda v: CosineAnnealing(5, eta_min=v), "eta_min", ()),
    "InverseScaling.power_t": (lambda v: InverseScaling(v), "power_t", ()),
    "ReduceLROnPlateau.factor": (lambda v: ReduceLROnPlateau(factor=v), "factor", ()),
    "ReduceLROnPlateau.min_delta": (lambda v: ReduceLROnPlateau(min_delta=v), "min_delta",
                                    ()),
    "ReduceLROnPlateau.min_lr": (lambda v: ReduceLROnPlateau(min_lr=v), "min_lr", ()),
    "EarlyStopping.min_delta": (lambda v: EarlyStopping(min_delta=v), "min_delta", ()),
    "QuantileClipper.lower": (lambda v: QuantileClipper(lower=v).fit(X), "lower", ()),
    "QuantileClipper.upper": (lambda v: QuantileClipper(upper=v).fit(X), "upper", ()),
    "MinMaxScaler.feature_range": (lambda v: MinMaxScaler(feature_range=(v, 1)).fit(X),
                                   "feature_range", ()),
    "fbeta_score.beta": (lambda v: M.fbeta_score(Y, Y, beta=v, average="macro"), "beta",
                         ("inf", "huge_int")),
    "MLPClassifier.class_weight": (lambda v: _est(MLPClassifier, class_weight={0: v}),
                                   "class_weight", ()),
}
for _p in ("lr", "momentum", "beta1", "beta2", "eps", "l2", "weight_decay", "clip_norm",
           "loss_scale"):
    REAL_PARAMS[f"Trainer.{_p}"] = ((lambda v, p=_p: Trainer(classifier(4), **{p: v})), _p,
                                    ("none",) if _p == "clip_norm" else ())
for _n, _cls in ESTIMATORS.items():
    for _p in ("alpha", "learning_rate_init", "power_t", "tol", "momentum",
               "validation_fraction", "beta_1", "beta_2", "epsilon", "dropout"):
        REAL_PARAMS[f"{_n}.{_p}"] = ((lambda v, c=_cls, p=_p: _est(c, **{p: v})), _p,
                                     ("inf", "huge_int") if _p == "tol" else ())


@pytest.mark.parametrize("call,name,value,exc", _cases(REAL_PARAMS, "real"))
def test_real_parameters(call, name, value, exc):
    with pytest.raises(exc, match=re.escape(name)):
        call(value)


# ------------------------------------------------------------------ bool parameters
BOOL_PARAMS = {
    "Trainer.fit.shuffle": (lambda v: _fit(shuffle=v), "shuffle", ()),
    "Dense.use_bias": (lambda v: Dense(2, use_bias=v), "use_bias", ()),
    "EarlyStopping.restore_best_weights": (
        lambda v: EarlyStopping(restore_best_weights=v), "restore_best_weights", ()),
    "StandardScaler.transform.copy": (
        lambda v: StandardScaler().fit(X).transform(X, copy=v), "copy", ("none",)),
    "accuracy_score.normalize": (lambda v: M.accuracy_score(Y, Y, normalize=v), "normalize",
                                 ()),
    "log_loss.normalize": (lambda v: M.log_loss(Y, P, normalize=v), "normalize", ()),
    "classification_report.output_dict": (
        lambda v: M.classification_report(Y, Y, output_dict=v), "output_dict", ()),
    "r2_score.force_finite": (lambda v: M.r2_score(YR, YR, force_finite=v), "force_finite",
                              ()),
    "load_digits.return_X_y": (lambda v: lepton.load_digits(return_X_y=v), "return_X_y", ()),
    "load_digits.as_float32": (lambda v: lepton.load_digits(as_float32=v), "as_float32", ()),
}
for _cls, _names in ((StandardScaler, ("copy", "with_mean", "with_std")),
                     (MinMaxScaler, ("copy", "clip")), (QuantileClipper, ("copy",))):
    for _p in _names:
        BOOL_PARAMS[f"{_cls.__name__}.{_p}"] = (
            (lambda v, c=_cls, p=_p: c(**{p: v}).fit(X)), _p, ())
for _n, _cls in ESTIMATORS.items():
    for _p in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
        BOOL_PARAMS[f"{_n}.{_p}"] = ((lambda v, c=_cls, p=_p: _est(c, **{p: v})), _p, ())


@pytest.mark.parametrize("call,name,value,exc", _cases(BOOL_PARAMS, "bool"))
def test_bool_parameters(call, name, value, exc):
    with pytest.raises(exc, match=re.escape(name)):
        call(value)


@pytest.mark.parametrize("pid", ["Trainer.fit.shuffle", "Dense.use_bias",
                                 "MLPClassifier.warm_start", "StandardScaler.with_mean"])
def test_numpy_bools_are_bools(pid):
    call, _, _ = BOOL_PARAMS[pid]
    call(np.False_)


def test_model_dtype_none_is_refused():
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64', got None"):
        Model([Dense(2)], input_dim=3, dtype=None)


# ------------------------------------------------------------------ scalers
SCALERS = [StandardScaler, MinMaxScaler, QuantileClipper]


@pytest.mark.parametrize("cls", SCALERS)
def test_scalers_refuse_complex_input(cls):
    Xc = X + 1j
    with pytest.raises(ValueError, match="Complex data not supported"):
        cls().fit(Xc)
    fitted = cls().fit(X)
    with pytest.raises(ValueError, match="Complex data not supported"):
        fitted.transform(Xc)


HUGE = {
    "+-1e308": np.array([[1e308, 1.0], [-1e308, 2.0], [0.0, 3.0]]),
    "max both signs": np.array([[np.finfo(np.float64).max, 0.0],
                                [-np.finfo(np.float64).max, 1.0]]),
    "constant 1e306": np.full((1000, 2), 1e306),
    "float32 max": np.array([[3e38, 1.0], [-3e38, 2.0]], dtype=np.float32),
}


@pytest.mark.parametrize("cls", SCALERS)
@pytest.mark.parametrize("data", HUGE.values(), ids=HUGE.keys())
def test_scalers_on_huge_values_give_finite_savable_statistics_or_raise(cls, data, tmp_path):
    t = cls().fit(np.ones((3, 2)))
    before = t.get_state()
    try:
        t.fit(data)
    except ValueError as exc:
        assert "too large" in str(exc) and cls.__name__ in str(exc)
        after = t.get_state()   # a failed fit leaves the old statistics
        assert after[0] == before[0]
        assert all(np.array_equal(after[1][k], before[1][k]) for k in before[1])
        return
    for value in t.get_state()[1].values():
        assert np.isfinite(value).all()
    lepton.save(t, tmp_path / "t.npz")
    loaded = lepton.load(tmp_path / "t.npz")
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(loaded.transform(data), t.transform(data))


def test_standard_scaler_never_returns_huge_data_unscaled():
    data = HUGE["+-1e308"]
    try:
        out = StandardScaler().fit_transform(data)
    except ValueError:
        return
    assert np.abs(out).max() < 10


# ------------------------------------------------------------------ metrics and score
@pytest.fixture(scope="module")
def fitted():
    return {"clf": _est(MLPClassifier), "reg": _est(MLPRegressor)}


CLASSIFICATION = {
    "accuracy_score": M.accuracy_score,
    "confusion_matrix": M.confusion_matrix,
    "precision_recall_fscore_support": M.precision_recall_fscore_support,
    "precision_score": lambda t, p, **kw: M.precision_score(t, p, average="macro", **kw),
    "recall_score": lambda t, p, **kw: M.recall_score(t, p, average="macro", **kw),
    "f1_score": lambda t, p, **kw: M.f1_score(t, p, average="macro", **kw),
    "fbeta_score": lambda t, p, **kw: M.fbeta_score(t, p, beta=2, average="macro", **kw),
    "classification_report": M.classification_report,
    # log_loss takes probabilities: one-hot rows of the predicted labels (or the scalar).
    "log_loss": lambda t, p, **kw: M.log_loss(
        t, np.eye(3)[np.asarray(p, dtype=int)] * 0.8 + 0.2 / 3, labels=[0, 1, 2], **kw),
    "MLPClassifier.score": "clf",
}
REGRESSION = {"mean_squared_error": M.mean_squared_error,
              "mean_absolute_error": M.mean_absolute_error, "r2_score": M.r2_score,
              "MLPRegressor.score": "reg"}
METRICS = {**{k: (v, Y) for k, v in CLASSIFICATION.items()},
           **{k: (v, YR) for k, v in REGRESSION.items()}}


def _metric(key, fitted):
    f, y = METRICS[key]
    if isinstance(f, str):   # an estimator's score(X, y): y_pred comes from predict(X)
        est = fitted[f]
        return (lambda t, p, sample_weight=None: est.score(X[:len(p)], t,
                                                           sample_weight=sample_weight)), y
    return f, y


def _nan_target(y):
    y = y.astype(float)
    y[3] = np.nan
    return y


METRIC_FAILURES = {
    "scalar": (lambda y: (y[0], y[:1]), {}, "y_true|y_pred|Expected array-like"),
    "wrong length": (lambda y: (y[:-1], y), {}, "inconsistent numbers of samples"),
    "NaN target": (lambda y: (_nan_target(y), y), {}, "NaN"),
    "zero weights": (lambda y: (y, y), {"sample_weight": np.zeros(40)}, "sample_weight"),
    "weights sum overflows": (lambda y: (y, y), {"sample_weight": np.full(40, 1e308)},
                              "sample_weight"),
    "negative weight": (lambda y: (y, y), {"sample_weight": -np.ones(40)}, "sample_weight"),
    "weights length": (lambda y: (y, y), {"sample_weight": np.ones(39)}, "sample_weight"),
}


@pytest.mark.parametrize("failure", METRIC_FAILURES)
@pytest.mark.parametrize("key", METRICS)
def test_metrics_and_score_reject_bad_input(key, failure, fitted):
    f, y = _metric(key, fitted)
    make, kw, match = METRIC_FAILURES[failure]
    y_true, y_pred = make(y)
    if failure == "scalar" and isinstance(METRICS[key][0], str):
        y_pred = y[:1]
    with pytest.raises(ValueError, match=match):
        f(y_true, y_pred, **kw)


# ------------------------------------------------------------------ sample weights
BAD_WEIGHTS = {
    "negative": (np.where(np.arange(40) == 5, -1.0, 1.0), ValueError),
    "NaN": (np.where(np.arange(40) == 5, np.nan, 1.0), ValueError),
    "inf": (np.where(np.arange(40) == 5, np.inf, 1.0), ValueError),
    "all zero": (np.zeros(40), ValueError),
    "sum overflows": (np.full(40, 1e308), ValueError),
    "scalar overflows": (1e308, ValueError),
    "wrong length": (np.ones(39), ValueError),
    "2-D": (np.ones((40, 1)), ValueError),
    "complex": (np.ones(40) + 1j, TypeError),
    "strings": (np.array(["1"] * 40), TypeError),
    "scalar string": ("1", TypeError),
}
WEIGHT_PLACES = {
    "Trainer.fit": lambda sw: _fit(sample_weight=sw),
    "Trainer.evaluate": lambda sw: Trainer(classifier(4)).evaluate(X, Y, sample_weight=sw),
    "MLPClassifier.fit": lambda sw: MLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(
        X, Y, sample_weight=sw),
    "MLPRegressor.partial_fit": lambda sw: MLPRegressor(hidden_layer_sizes=(4,)).partial_fit(
        X, YR, sample_weight=sw),
    "StandardScaler.fit": lambda sw: StandardScaler().fit(X, sample_weight=sw),
    "accuracy_score": lambda sw: M.accuracy_score(Y, Y, sample_weight=sw),
    "r2_score": lambda sw: M.r2_score(YR, YR, sample_weight=sw),
}


@pytest.mark.parametrize("place", WEIGHT_PLACES)
@pytest.mark.parametrize("bad", BAD_WEIGHTS)
def test_bad_sample_weights(place, bad):
    sw, exc = BAD_WEIGHTS[bad]
    with pytest.raises(exc, match="sample_weight"):
        WEIGHT_PLACES[place](sw)


@pytest.mark.parametrize("sw,match", [
    (np.full(40, 1e39), "too large for float32"),     # finite, but not in float32
    (np.full(40, 1e-50), "too small for float32"),    # every weight rounds to 0
])
def test_trainer_weights_must_fit_the_model_dtype(sw, match):
    with pytest.raises(ValueError, match=match):
        _fit(sample_weight=sw)
    _fit(sample_weight=sw / sw[0])   # rescaled: fine


def test_class_weight_overflowing_the_weights_is_refused():
    with pytest.raises(ValueError, match=r"sample_weight \(after class_weight\)"):
        _fit(sample_weight=np.full(40, 1e300), class_weight={0: 1e10})


# ------------------------------------------------------------------ targets, state, warnings
def test_partial_fit_refuses_a_regression_target_like_fit():
    y = RNG.standard_normal(40)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifier().fit(X, y)
    clf = MLPClassifier(hidden_layer_sizes=(4,))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert not hasattr(clf, "classes_")   # nothing was set: classes are needed again
    clf.partial_fit(X, Y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        clf.partial_fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_estimators_refuse_complex_targets(cls):
    with pytest.raises(ValueError, match="Complex data not supported"):
        cls(hidden_layer_sizes=(4,), max_iter=1).fit(X, (Y if cls is MLPClassifier else YR)
                                                     + 1j)


def test_bad_input_leaves_a_fitted_estimator_unchanged():
    clf = _est(MLPClassifier)
    params = clf._net.model.params.copy()
    state = (clf.n_features_in_, clf.classes_.copy(), clf.n_iter_)
    X5 = np.hstack([X, X[:, :1]])
    y_str = np.array(list("ab") * 20)
    for args, kw in [((X5, y_str), {"sample_weight": np.zeros(40)}),   # new shape, classes
                     ((X5, Y), {"sample_weight": -np.ones(40)}),
                     ((X, RNG.standard_normal(40)), {})]:
        with pytest.raises(ValueError):
            clf.fit(*args, **kw)
        assert (clf.n_features_in_, clf.n_iter_) == (state[0], state[2])
        np.testing.assert_array_equal(clf.classes_, state[1])
        np.testing.assert_array_equal(clf._net.model.params, params)
    clf.predict(X)   # still usable


def test_predict_warns_when_finite_input_overflows():
    model = Model([Dense(3)], input_dim=4)
    model.params[...] = 3e38
    with pytest.warns(RuntimeWarning, match="overflow encountered in predict"):
        out = model.predict(np.ones((2, 4), dtype=np.float32))
    assert not np.isfinite(out).all()
    reg = _est(MLPRegressor, dtype="float32")
    reg.coefs_[0][...] = 3e38
    with pytest.warns(RuntimeWarning, match="overflow encountered in predict"):
        reg.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        classifier(4).predict(X)   # nothing to warn about


def test_docstring_examples_match_behaviour():
    # The example passes hidden_layer_sizes by name (the first parameter is ``loss``).
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for test in finder.find(MLPRegressor, "MLPRegressor", globs={}):
            runner.run(test)
    assert runner.failures == 0 and runner.tries > 0
    # partial_fit needs classes on the first call, multilabel targets included.
    assert "unless y is a multilabel" not in MLPClassifier.partial_fit.__doc__
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(X, np.eye(4, dtype=int)[np.arange(40) % 4][:, :3])
