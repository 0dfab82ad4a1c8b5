"""lepton.metrics against scikit-learn on random and edge-case inputs."""
import warnings

import numpy as np
import pytest

from lepton import metrics as M

S = pytest.importorskip("sklearn.metrics")


def _call(module, name, args, kwargs):
    """Result (or the exception type) and the ill-defined-metric warning messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = getattr(module, name)(*args, **kwargs)
        except ValueError as exc:
            out = exc
    msgs = [str(w.message) for w in caught if w.category.__name__ == "UndefinedMetricWarning"]
    return out, msgs


def _assert_same(ours, theirs):
    if isinstance(theirs, Exception):
        assert isinstance(ours, ValueError), f"sklearn raised {theirs!r}, lepton returned {ours!r}"
    elif isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    elif theirs is None:
        assert ours is None
    elif isinstance(theirs, str):
        assert ours == theirs
    elif isinstance(theirs, dict):
        assert ours.keys() == theirs.keys()
        for k in theirs:
            _assert_same(ours[k], theirs[k])
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.shape == theirs.shape
        if theirs.dtype.kind in "iu":
            assert ours.dtype.kind in "iu"
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15, equal_nan=True)
    else:
        assert type(ours) is float or isinstance(ours, (int, np.integer)), type(ours)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15, equal_nan=True)


def check(name, *args, **kwargs):
    ours, our_warnings = _call(M, name, args, kwargs)
    theirs, their_warnings = _call(S, name, args, kwargs)
    _assert_same(ours, theirs)
    assert our_warnings == their_warnings
    return ours


# ------------------------------------------------------------------------ target makers

def _labels(rng, n, k, values=None):
    y = rng.integers(0, k, n)
    return y if values is None else np.asarray(values)[y]


CASES = {
    "binary01": lambda r: (_labels(r, 40, 2), _labels(r, 40, 2)),
    "binary_str": lambda r: (_labels(r, 30, 2, ["neg", "pos"]), _labels(r, 30, 2, ["neg", "pos"])),
    "binary_pm1": lambda r: (_labels(r, 30, 2, [-1, 1]), _labels(r, 30, 2, [-1, 1])),
    "multiclass": lambda r: (_labels(r, 60, 4), _labels(r, 60, 4)),
    # class 4 is never predicted and class 5 never true: ill-defined precision / recall.
    "missing_classes": lambda r: (_labels(r, 50, 5), _labels(r, 50, 4) + (r.random(50) < .1)),
    "multiclass_str": lambda r: (_labels(r, 45, 3, ["cat", "dog", "emu"]),
                                 _labels(r, 45, 3, ["cat", "dog", "emu"])),
    "one_class_pred": lambda r: (_labels(r, 20, 3), np.zeros(20, dtype=int)),
}
ML_CASES = {
    "multilabel": lambda r: (r.integers(0, 2, (40, 4)), r.integers(0, 2, (40, 4))),
    # an all-zero column and rows without any label: zero divisions per label and sample.
    "multilabel_sparse": lambda r: ((r.random((30, 5)) < .2) * np.array([1, 1, 1, 1, 0]),
                                    (r.random((30, 5)) < .2).astype(int)),
}
ZERO_DIVISION = ["warn", 0, 1, np.nan]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("case", list(CASES) + list(ML_CASES))
@pytest.mark.parametrize("weighted", [False, True])
def test_accuracy(rng, case, weighted):
    yt, yp = {**CASES, **ML_CASES}[case](rng)
    sw = rng.random(len(yt)) if weighted else None
    for normalize in (True, False):
        check("accuracy_score", yt, yp, normalize=normalize, sample_weight=sw)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted", "binary"])
@pytest.mark.parametrize("zero_division", ZERO_DIVISION)
def test_prf_multiclass(rng, case, average, zero_division):
    yt, yp = CASES[case](rng)
    sw = rng.random(len(yt)) * 2
    kw = dict(average=average, zero_division=zero_division)
    if average == "binary" and case == "binary_str":
        kw["pos_label"] = "pos"
    check("precision_recall_fscore_support", yt, yp, **kw)
    check("precision_recall_fscore_support", yt, yp, sample_weight=sw, beta=2.0, **kw)
    # The single-score functions warn only about their own metric.
    for name in ("precision_score", "recall_score", "f1_score"):
        check(name, yt, yp, **kw)
    check("fbeta_score", yt, yp, beta=0.5, sample_weight=sw, **kw)


@pytest.mark.parametrize("case", list(ML_CASES))
@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted", "samples"])
@pytest.mark.parametrize("zero_division", ZERO_DIVISION)
def test_prf_multilabel(rng, case, average, zero_division):
    yt, yp = ML_CASES[case](rng)
    sw = rng.random(len(yt))
    kw = dict(average=average, zero_division=zero_division)
    check("precision_recall_fscore_support", yt, yp, **kw)
    check("precision_recall_fscore_support", yt, yp, sample_weight=sw, **kw)
    for name in ("precision_score", "recall_score", "f1_score"):
        check(name, yt, yp, **kw)
    check("f1_score", yt, yp, average=average, labels=[3, 0, 1])


@pytest.mark.parametrize("labels", [[2, 0], [0, 1, 2, 3, 7], [3, 1, 2, 0], [9]])
@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_prf_labels_argument(rng, labels, average):
    yt, yp = CASES["multiclass"](rng)
    check("precision_recall_fscore_support", yt, yp, labels=labels, average=average,
          zero_division=0)
    check("f1_score", yt, yp, labels=labels, average=average)


def test_prf_binary_edge_cases():
    # pos_label absent from both arrays: everything is ill-defined.
    check("precision_recall_fscore_support", [0, 0, 0], [0, 0, 0], average="binary")
    check("f1_score", [0, 0, 0], [0, 0, 0], zero_division=1)
    check("recall_score", [1, 1, 0], [0, 0, 0])
    check("precision_score", [1, 1, 0], [0, 0, 0], zero_division=np.nan)
    check("precision_score", [2, 2, 3], [2, 3, 3], pos_label=3)
    # a pos_label that is not one of two present labels is an error.
    check("f1_score", [0, 1, 1], [1, 1, 0], pos_label=2)
    check("f1_score", ["a", "b"], ["a", "b"])
    # all sample weights zero
    check("f1_score", [0, 1, 2], [0, 2, 2], average="weighted", sample_weight=[0, 0, 0])
    check("fbeta_score", [0, 1, 1, 0], [0, 1, 0, 0], beta=0)
    check("fbeta_score", [0, 1, 1, 0], [0, 1, 0, 0], beta=np.inf)
    with pytest.warns(UserWarning, match="pos_label"):
        M.f1_score([0, 1, 2], [0, 1, 1], average="macro", pos_label=2)


@pytest.mark.parametrize("case", list(CASES))
def test_confusion_matrix(rng, case):
    yt, yp = CASES[case](rng)
    labels = np.unique(np.concatenate([yt, yp]))
    for normalize in (None, "true", "pred", "all"):
        check("confusion_matrix", yt, yp, normalize=normalize)
        check("confusion_matrix", yt, yp, sample_weight=rng.random(len(yt)), normalize=normalize)
    check("confusion_matrix", yt, yp, sample_weight=rng.integers(0, 3, len(yt)))
    check("confusion_matrix", yt, yp, labels=labels[::-1])
    check("confusion_matrix", yt, yp, labels=labels[:2])
    ours = M.confusion_matrix(yt, yp)
    assert ours.dtype == np.int64
    with pytest.warns(UserWarning, match="single label"):
        M.confusion_matrix([1, 1], [1, 1])


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="At least one label"):
        M.confusion_matrix([0, 1], [0, 1], labels=[5])
    with pytest.raises(ValueError, match="multilabel"):
        M.confusion_matrix(np.eye(3, dtype=int), np.eye(3, dtype=int))
    with pytest.raises(ValueError, match="normalize"):
        M.confusion_matrix([0, 1], [0, 1], normalize="rows")


@pytest.mark.parametrize("case", list(CASES) + list(ML_CASES))
def test_classification_report(rng, case):
    yt, yp = {**CASES, **ML_CASES}[case](rng)
    check("classification_report", yt, yp)
    check("classification_report", yt, yp, digits=4, zero_division=0)
    check("classification_report", yt, yp, sample_weight=rng.random(len(yt)), output_dict=True)
    check("classification_report", yt, yp, output_dict=True, zero_division=np.nan)
    labels = np.unique(np.concatenate([yt.ravel(), yp.ravel()])) if yt.ndim == 1 else \
        np.arange(yt.shape[1])
    names = [f"class {i} long name" for i in range(len(labels))]
    check("classification_report", yt, yp, target_names=names)
    check("classification_report", yt, yp, labels=labels[:2], target_names=names[:2])


def test_classification_report_target_names_mismatch():
    with pytest.raises(ValueError, match="target_names"):
        M.classification_report([0, 1, 2], [0, 1, 1], target_names=["a", "b"])


@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_loss(rng, n_classes, dtype):
    y = rng.integers(0, n_classes, 50)
    y[:n_classes] = np.arange(n_classes)
    p = rng.dirichlet(np.ones(n_classes), 50).astype(dtype)
    p[0] = np.eye(n_classes)[1]  # exact 0 and 1: exercises the clipping
    sw = rng.random(50)
    check("log_loss", y, p)
    check("log_loss", y, p, sample_weight=sw, normalize=False)
    check("log_loss", np.array(list("abcde"))[y], p)
    if n_classes == 2:
        check("log_loss", y, p[:, 1])
        check("log_loss", np.eye(2, dtype=int)[y], p)
    # a class absent from y_true must be named through labels.
    y_missing = np.where(y == n_classes - 1, 0, y)
    check("log_loss", y_missing, p, labels=np.arange(n_classes))


def test_log_loss_errors():
    with pytest.raises(ValueError, match="only one label"):
        M.log_loss([1, 1], [[0.1, 0.9], [0.2, 0.8]])
    with pytest.raises(ValueError, match="different number of classes"):
        M.log_loss([0, 1, 2], [[0.1, 0.9], [0.2, 0.8], [0.5, 0.5]])
    with pytest.raises(ValueError, match="greater than 1"):
        M.log_loss([0, 1], [[0.1, 1.9], [0.2, 0.8]])
    with pytest.raises(ValueError, match="NaN"):
        M.log_loss([0, 1], [[np.nan, 1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="not belonging"):
        M.log_loss([0, 3], [[0.1, 0.9], [0.2, 0.8]], labels=[0, 1])
    with pytest.warns(UserWarning, match="sum to one"):
        M.log_loss([0, 1], [[0.1, 0.1], [0.2, 0.8]])


@pytest.mark.parametrize("shape", [(30,), (30, 1), (30, 3)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_regression(rng, shape, dtype):
    y = rng.normal(size=shape).astype(dtype)
    p = (y + rng.normal(scale=0.5, size=shape)).astype(dtype)
    sw = rng.random(shape[0])
    mos = ["uniform_average", "raw_values"] + ([[0.2, 0.3, 0.5]] if shape[-1:] == (3,) else [])
    for name in ("mean_squared_error", "mean_absolute_error", "r2_score"):
        for mo in mos + (["variance_weighted"] if name == "r2_score" else []):
            for weights in (None, sw):
                ours, theirs = (getattr(mod, name)(y, p, sample_weight=weights, multioutput=mo)
                                for mod in (M, S))
                tol = 1e-5 if dtype == np.float32 else 1e-12
                np.testing.assert_allclose(ours, theirs, rtol=tol)
                assert isinstance(ours, np.ndarray) == isinstance(theirs, np.ndarray)


def test_r2_edge_cases():
    check("r2_score", [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    check("r2_score", [1.0, 1.0, 1.0], [1.0, 2.0, 1.0])
    check("r2_score", [1.0, 1.0, 1.0], [1.0, 2.0, 1.0], force_finite=False)
    check("r2_score", [[1.0, 2], [1, 3], [1, 4]], [[1.0, 2], [2, 3], [1, 5]],
          multioutput="raw_values")
    check("r2_score", [[1.0, 2], [1, 2]], [[1.0, 2], [2, 3]], multioutput="variance_weighted")
    with pytest.warns(M.UndefinedMetricWarning, match="less than two samples"):
        assert np.isnan(M.r2_score([1.0], [2.0]))


@pytest.mark.parametrize("name", ["accuracy_score", "f1_score", "confusion_matrix"])
def test_classification_input_errors(name):
    f = getattr(M, name)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        f([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        f([], [])
    with pytest.raises(ValueError, match="contains NaN"):
        f([0.0, np.nan], [0, 1])
    with pytest.raises(ValueError, match="mix of"):
        f([0, 1, 2], np.eye(3, dtype=int))
    with pytest.raises(ValueError, match="continuous is not supported"):
        f([0.5, 1.5], [0.5, 1.5])
    with pytest.raises(ValueError, match="string and number"):
        f(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="sample_weight"):
        f([0, 1], [0, 1], sample_weight=[1.0])


def test_prf_argument_errors():
    with pytest.raises(ValueError, match="average has to be one of"):
        M.f1_score([0, 1], [0, 1], average="mean")
    with pytest.raises(ValueError, match="Target is multiclass but average='binary'"):
        M.f1_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="zero_division"):
        M.f1_score([0, 1], [0, 1], zero_division=0.5)
    with pytest.raises(ValueError, match="Samplewise"):
        M.f1_score([0, 1, 2], [0, 1, 2], average="samples")
    with pytest.raises(ValueError, match=r"All labels must be in \[0, n labels\)"):
        M.f1_score(np.eye(3, dtype=int), np.eye(3, dtype=int), average="macro", labels=[0, 5])
    with pytest.raises(ValueError, match="beta"):
        M.fbeta_score([0, 1], [0, 1], beta=-1)


def test_regression_input_errors():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        M.mean_squared_error([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="different number of output"):
        M.mean_squared_error(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="contains infinity"):
        M.mean_absolute_error([1.0, np.inf], [1.0, 2.0])
    with pytest.raises(ValueError, match="0 sample"):
        M.r2_score([], [])
    with pytest.raises(ValueError, match="multioutput"):
        M.mean_squared_error([1.0, 2.0], [1.0, 2.0], multioutput="variance_weighted")
    with pytest.raises(ValueError, match="equally many custom weights"):
        M.mean_squared_error(np.ones((3, 2)), np.ones((3, 2)), multioutput=[1, 2, 3])
    with pytest.raises(ValueError, match="must be numeric"):
        M.mean_squared_error(["a", "b"], [1.0, 2.0])


def test_returns_python_floats():
    assert type(M.accuracy_score([0, 1], [0, 1])) is float
    assert type(M.f1_score([0, 1], [0, 1])) is float
    assert type(M.log_loss([0, 1], [0.2, 0.7])) is float
    assert type(M.mean_squared_error([0.0, 1], [0, 1])) is float
    assert type(M.r2_score([0.0, 1, 2], [0, 1, 3])) is float
