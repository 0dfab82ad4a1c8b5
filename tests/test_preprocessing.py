"""lepton.preprocessing: results against scikit-learn, dtypes, checks and state."""
import json

import numpy as np
import pytest

from lepton.preprocessing import MinMaxScaler, NotFittedError, QuantileClipper, StandardScaler

ALL = [StandardScaler, MinMaxScaler, QuantileClipper]


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=3.0, scale=[1.0, 10.0, 0.1, 5.0, 2.0], size=(40, 5))
    X[:, 3] = 7.0  # a constant feature
    return X


def _sk(name):
    return getattr(pytest.importorskip("sklearn.preprocessing"), name)


@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_standard_scaler_matches_sklearn(X, with_mean, with_std, weighted):
    sw = np.random.default_rng(1).random(len(X)) if weighted else None
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(X, sample_weight=sw)
    theirs = _sk("StandardScaler")(with_mean=with_mean, with_std=with_std).fit(
        X, sample_weight=sw)
    for attr in ("mean_", "var_", "scale_"):
        a, b = getattr(ours, attr), getattr(theirs, attr)
        assert (a is None) == (b is None), attr
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    if with_mean or with_std:  # otherwise scikit-learn counts rows even when weighted
        np.testing.assert_allclose(ours.n_samples_seen_, theirs.n_samples_seen_)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)), X, atol=1e-12)


def test_standard_scaler_constant_and_near_constant_features():
    X = np.array([[1e8, 5.0, 0.0], [1e8 + 1e-7, 5.0, 1.0], [1e8, 5.0, 2.0]])
    ours = StandardScaler().fit(X)
    theirs = _sk("StandardScaler")().fit(X)
    np.testing.assert_array_equal(ours.scale_[:2], [1.0, 1.0])  # left at scale 1
    np.testing.assert_allclose(ours.scale_, theirs.scale_)
    Xt = ours.transform(X)
    np.testing.assert_array_equal(Xt[:, 1], 0.0)
    assert np.isfinite(Xt).all()


@pytest.mark.parametrize("feature_range", [(0, 1), (-1, 1), (2.5, 10)])
@pytest.mark.parametrize("clip", [False, True])
def test_minmax_scaler_matches_sklearn(X, feature_range, clip):
    ours = MinMaxScaler(feature_range, clip=clip).fit(X)
    theirs = _sk("MinMaxScaler")(feature_range=feature_range, clip=clip).fit(X)
    for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(theirs, attr), rtol=1e-12)
    X_new = X * 1.5 - 2  # values outside the training range: clip matters
    np.testing.assert_allclose(ours.transform(X_new), theirs.transform(X_new), atol=1e-12)
    Xt = ours.transform(X)
    np.testing.assert_allclose(Xt.min(axis=0)[[0, 1, 2, 4]], feature_range[0], atol=1e-12)
    np.testing.assert_allclose(Xt.max(axis=0)[[0, 1, 2, 4]], feature_range[1], atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(Xt), X, atol=1e-10)


def test_quantile_clipper(X):
    Xo = X.copy()
    Xo[0, 0], Xo[1, 1] = 1e6, -1e6  # outliers
    clipper = QuantileClipper(lower=0.05, upper=0.95).fit(Xo)
    np.testing.assert_array_equal(clipper.lower_bound_, np.quantile(Xo, 0.05, axis=0))
    np.testing.assert_array_equal(clipper.upper_bound_, np.quantile(Xo, 0.95, axis=0))
    Xc = clipper.transform(Xo)
    assert Xc[0, 0] == clipper.upper_bound_[0] and Xc[1, 1] == clipper.lower_bound_[1]
    inside = (Xo >= clipper.lower_bound_) & (Xo <= clipper.upper_bound_)
    np.testing.assert_array_equal(Xc[inside], Xo[inside])
    assert not hasattr(clipper, "inverse_transform")
    full = QuantileClipper(lower=0.0, upper=1.0).fit(Xo)
    np.testing.assert_array_equal(full.transform(Xo), Xo)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8, bool])
def test_dtype(cls, dtype, X):
    Xd = (np.abs(X) * 3).astype(dtype)
    t = cls().fit(Xd)
    out = t.transform(Xd)
    expected = dtype if dtype in (np.float32, np.float64) else np.float64
    assert out.dtype == expected
    if hasattr(t, "inverse_transform"):
        assert t.inverse_transform(out).dtype == expected
    ref = cls().fit(Xd.astype(np.float64)).transform(Xd.astype(np.float64))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", ALL)
def test_fit_transform_equals_fit_then_transform(cls, X):
    np.testing.assert_array_equal(cls().fit_transform(X), cls().fit(X).transform(X))


@pytest.mark.parametrize("cls", ALL)
def test_copy_semantics(cls, X):
    X64 = X.copy()
    out = cls().fit(X64).transform(X64)
    np.testing.assert_array_equal(X64, X)  # input untouched by default
    t = cls(copy=False).fit(X64)
    out_inplace = t.transform(X64)
    assert out_inplace is X64
    np.testing.assert_allclose(out_inplace, out)
    ro = X.copy()
    ro.flags.writeable = False
    assert not np.shares_memory(t.transform(ro), ro)  # read-only input: copied


@pytest.mark.parametrize("cls", ALL)
def test_input_errors(cls, X):
    t = cls()
    name = cls.__name__
    with pytest.raises(NotFittedError, match=f"This {name} instance is not fitted yet"):
        t.transform(X)
    with pytest.raises(ValueError, match="Expected a 2D array.*reshape"):
        t.fit(X[:, 0])
    with pytest.raises(ValueError, match="Expected a 2D array"):
        t.fit(X[None])
    with pytest.raises(ValueError, match=f"0 sample.*required by {name}"):
        t.fit(X[:0])
    with pytest.raises(ValueError, match="0 feature"):
        t.fit(X[:, :0])
    with pytest.raises(ValueError, match="must hold numbers"):
        t.fit([["a", "b"], ["c", "d"]])
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        t.fit(bad)
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        t.fit(bad)
    t.fit(X)
    with pytest.raises(ValueError, match=f"X has 4 features, but {name} is expecting 5 "
                                         f"features as input."):
        t.transform(X[:, :4])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        t.transform(np.full((2, 5), np.nan))
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)


@pytest.mark.parametrize("cls, params, match", [
    (StandardScaler, {"with_mean": "yes"}, "with_mean must be True or False"),
    (MinMaxScaler, {"feature_range": (1, 0)}, "Minimum of desired feature range must be "
                                              "smaller than maximum"),
    (MinMaxScaler, {"feature_range": (0, 1, 2)}, "feature_range must be a tuple"),
    (QuantileClipper, {"lower": 0.9, "upper": 0.1}, "lower must be smaller than upper"),
    (QuantileClipper, {"upper": 1.5}, r"upper must be a number in \[0, 1\]"),
])
def test_bad_parameters(cls, params, match, X):
    with pytest.raises(ValueError, match=match):
        cls(**params).fit(X)


def test_standard_scaler_bad_sample_weight(X):
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        StandardScaler().fit(X, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        StandardScaler().fit(X, sample_weight=-np.ones(len(X)))


@pytest.mark.parametrize("t", [
    StandardScaler(), StandardScaler(with_mean=False), StandardScaler(with_std=False),
    StandardScaler(with_mean=False, with_std=False), MinMaxScaler(feature_range=(-2, 3),
                                                                  clip=True),
    QuantileClipper(lower=0.1, upper=0.8)])
def test_state_round_trip(t, X):
    t.fit(X)
    config, arrays = t.get_state()
    config = json.loads(json.dumps(config))  # what a file can hold
    assert all(a.dtype == np.float64 and a.shape == (5,) for a in arrays.values())
    u = type(t).from_state(config, arrays)
    assert u.get_params() == t.get_params()
    assert u.n_features_in_ == 5 and u.n_samples_seen_ == t.n_samples_seen_
    np.testing.assert_array_equal(u.transform(X), t.transform(X))
    for name in t._state_arrays:
        a, b = getattr(t, name), getattr(u, name)
        assert (a is None) == (b is None)


def test_from_state_rejects_bad_state(X):
    config, arrays = StandardScaler().fit(X).get_state()
    with pytest.raises(ValueError, match="missing array 'scale_'"):
        StandardScaler.from_state(config, {k: v for k, v in arrays.items() if k != "scale_"})
    with pytest.raises(ValueError, match=r"array 'mean_' has shape \(4,\), expected \(5,\)"):
        StandardScaler.from_state(config, {**arrays, "mean_": arrays["mean_"][:4]})
    with pytest.raises(ValueError, match="dtype float32, expected float64"):
        StandardScaler.from_state(config, {**arrays, "var_": arrays["var_"].astype("f4")})
    with pytest.raises(ValueError, match="non-finite"):
        StandardScaler.from_state(config, {**arrays, "mean_": arrays["mean_"] * np.nan})
    with pytest.raises(ValueError, match="scale_' must be positive"):
        StandardScaler.from_state(config, {**arrays, "scale_": -arrays["scale_"]})
    with pytest.raises(ValueError, match="n_features_in_"):
        StandardScaler.from_state({**config, "n_features_in_": "5"}, arrays)
    with pytest.raises(ValueError, match="unknown StandardScaler parameters"):
        StandardScaler.from_state({**config, "params": {"center": True}}, arrays)
    with pytest.raises(ValueError, match="with_std must be True or False"):
        StandardScaler.from_state({**config, "params": {"with_std": 1}}, arrays)
    with pytest.raises(NotFittedError):
        StandardScaler().get_state()


def test_params_and_sklearn_compatibility(X):
    t = MinMaxScaler(feature_range=(-1, 1))
    assert t.get_params() == {"feature_range": (-1, 1), "copy": True, "clip": False}
    assert repr(t) == "MinMaxScaler(feature_range=(-1, 1))"
    assert t.set_params(clip=True) is t and t.clip
    with pytest.raises(ValueError, match="Invalid parameter 'bogus'"):
        t.set_params(bogus=1)
    sk_base = pytest.importorskip("sklearn.base")
    sk_pipeline = pytest.importorskip("sklearn.pipeline")
    clone = sk_base.clone(t)
    assert clone.get_params() == t.get_params() and clone is not t
    pipe = sk_pipeline.make_pipeline(QuantileClipper(), StandardScaler())
    out = pipe.fit_transform(X)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
