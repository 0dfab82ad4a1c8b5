"""scikit-learn compatibility without depending on scikit-learn.

Input validation, target typing, label binarisation, sample weights, the stratified split used
by ``early_stopping`` and the exception classes used by lepton's estimators, written with
NumPy only.  Messages follow scikit-learn's word for word where its own checks
(``check_estimator``) match on them.

scikit-learn is never imported here at module level.  The warning and error classes are
lepton's own unless scikit-learn has already been imported by the running program: then an
instance of a class deriving from BOTH scikit-learn's and lepton's class is raised, so
``except sklearn.exceptions.NotFittedError`` and ``warnings.filterwarnings(...,
category=sklearn.exceptions.ConvergenceWarning)`` keep working.  (A program that can name
scikit-learn's class has imported scikit-learn, so checking ``sys.modules`` is enough and
never costs a one-second import.)
"""
import sys
import warnings

import numpy as np

from lepton._data import class_weights
from lepton._validation import type_of_target
from lepton.exceptions import NotFittedError


class ConvergenceWarning(UserWarning):
    """Training stopped at ``max_iter`` before the stopping criterion was met."""


class DataConversionWarning(UserWarning):
    """The input was converted to another shape or type (e.g. a column vector ``y``)."""


class InvalidParameterError(ValueError, TypeError):
    """An estimator parameter has an invalid type or value (raised by ``fit``)."""


class UnsupportedParameterError(NotImplementedError, ValueError):
    """A scikit-learn parameter value that lepton does not implement (yet)."""


_LEPTON_CLASSES = {"NotFittedError": NotFittedError, "ConvergenceWarning": ConvergenceWarning,
                   "DataConversionWarning": DataConversionWarning,
                   "InvalidParameterError": InvalidParameterError}
_SK_MODULES = {"InvalidParameterError": "sklearn.utils._param_validation"}


def __getattr__(name):
    # PEP 562: the scikit-learn flavoured classes are built on first use; defining them here
    # (not in a closure) keeps them picklable by name, e.g. from joblib workers.
    if name.startswith("_Sk") and name[3:] in _LEPTON_CLASSES:
        import importlib

        base = name[3:]
        sk_mod = importlib.import_module(_SK_MODULES.get(base, "sklearn.exceptions"))
        cls = type(base, (getattr(sk_mod, base), _LEPTON_CLASSES[base]),
                   {"__module__": __name__, "__qualname__": name})
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def error_class(name):
    """Class to raise for ``name``: lepton's, or a subclass of scikit-learn's too."""
    if "sklearn" in sys.modules:
        try:
            return getattr(sys.modules[__name__], "_Sk" + name)
        except (ImportError, AttributeError):  # an old scikit-learn without that class
            pass
    return _LEPTON_CLASSES[name]


# ---------------------------------------------------------------------------- arrays
def _is_sparse(x):
    return type(x).__module__.startswith("scipy.sparse") and hasattr(x, "toarray")


def _is_dataframe(x):
    return hasattr(x, "columns") and hasattr(x, "iloc") and hasattr(x, "dtypes")


def feature_names(X):
    """Column names of a DataFrame-like ``X`` if they are all strings, else None."""
    if not _is_dataframe(X):
        return None
    names = np.asarray(list(X.columns), dtype=object)
    kinds = {isinstance(n, str) for n in names}
    if kinds == {True}:
        return names
    if len(kinds) > 1:
        raise TypeError("Feature names are only supported if all input features have string "
                        f"names, but your input has {sorted({type(n).__name__ for n in names})} "
                        "as feature name / column name types. Convert them all to strings, "
                        "e.g. with X.columns = X.columns.astype(str).")
    return None


def check_array(X, *, estimator_name, dtype=None, name="X"):
    """Validate a 2-D numeric ``X`` and return it as a C-contiguous float array.

    ``dtype``: None keeps float32 and float64 input and turns anything else into float64; a
    NumPy dtype forces it.  Sparse matrices are densified (lepton's kernels are dense).
    """
    if X is None:
        raise ValueError(f"{estimator_name} requires {name} to be passed, but {name} is None.")
    if _is_sparse(X):
        X = X.toarray()
    elif _is_dataframe(X):
        X = X.to_numpy()
    if isinstance(X, np.ndarray) and X.dtype.kind in "fiub":
        arr = X
    else:
        # np.asarray raises TypeError "float() argument must be a string or a real number"
        # for non-numeric objects, which is what users and scikit-learn's checks expect.
        arr = np.asarray(X)
        if arr.dtype.kind == "c":
            raise ValueError(f"Complex data not supported\n{arr!r}\n")
        if arr.dtype.kind in "OUS":
            try:
                arr = arr.astype(np.float64)
            except ValueError as exc:
                raise ValueError(f"{name} must contain only numbers: {exc}") from None
    if arr.dtype.kind == "c":
        raise ValueError(f"Complex data not supported\n{arr!r}\n")
    if arr.ndim == 0:
        raise ValueError(f"Expected 2D array, got scalar array instead:\narray={arr!r}.\n"
                         "Reshape your data either using array.reshape(-1, 1) if your data has "
                         "a single feature or array.reshape(1, -1) if it contains a single "
                         "sample.")
    if arr.ndim == 1:
        raise ValueError(f"Expected 2D array, got 1D array instead:\narray={arr!r}.\n"
                         "Reshape your data either using array.reshape(-1, 1) if your data has "
                         "a single feature or array.reshape(1, -1) if it contains a single "
                         "sample.")
    if arr.ndim > 2:
        raise ValueError(f"Found array with dim {arr.ndim}, while dim <= 2 is required by "
                         f"{estimator_name}.")
    if arr.shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={arr.shape}) while a minimum of "
                         f"1 is required by {estimator_name}.")
    if arr.shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum "
                         f"of 1 is required by {estimator_name}.")
    if dtype is None:
        dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64
    arr = np.ascontiguousarray(arr, dtype=dtype)
    assert_all_finite(arr, name=name, estimator_name=estimator_name)
    return arr


def assert_all_finite(a, *, name, estimator_name=None):
    """Raise ValueError naming NaN or infinity if ``a`` holds any (a cheap sum first)."""
    # Summing is one pass without a temporary; only if it is not finite do we look closer.
    if a.dtype.kind == "f" and not np.isfinite(np.sum(a, dtype=np.float64)):
        if np.isnan(a).any():
            extra = ""
            if estimator_name and name == "X":
                extra = (f"\n{estimator_name} does not accept missing values encoded as NaN. "
                         "Impute them first, e.g. with sklearn.impute.SimpleImputer, or drop "
                         "the samples that contain them.")
            raise ValueError(f"Input {name} contains NaN.{extra}")
        if not np.isfinite(a).all():
            raise ValueError(f"Input {name} contains infinity or a value too large for "
                             f"{a.dtype!r}.")


def column_or_1d(y, *, warn=False):
    """Ravel a column vector ``y`` (warning like scikit-learn when ``warn``)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        if warn:
            warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                          "change the shape of y to (n_samples, ), for example using ravel().",
                          error_class("DataConversionWarning"), stacklevel=4)
        return y.ravel()
    if y.ndim == 1:
        return y
    raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")


def check_y(y, n_samples, *, estimator_name, numeric):
    """Validate a target: present, right length, 1-D or 2-D, finite when numeric."""
    if y is None:
        raise ValueError(f"{estimator_name} requires y to be passed, but the target y is None.")
    if _is_sparse(y):
        y = y.toarray()
    elif hasattr(y, "to_numpy"):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(f"y should be a 1d or 2d array, got an array of shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise ValueError("Found input variables with inconsistent numbers of samples: "
                         f"[{n_samples}, {y.shape[0]}]")
    if y.ndim == 2 and y.shape[1] == 0:
        raise ValueError(f"y has 0 columns (shape={y.shape}); expected at least one target.")
    if numeric:
        if y.dtype.kind == "c":
            raise ValueError("Complex data not supported")
        if y.dtype.kind not in "fiub":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"y must be numeric for regression: {exc}") from None
        if y.dtype.kind == "f":
            assert_all_finite(y, name="y")
    elif y.dtype.kind == "f":
        assert_all_finite(y, name="y")
    elif y.dtype == object:
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in y.ravel()):
            raise ValueError("Input y contains NaN.")
    return y


# ---------------------------------------------------------------------------- targets
def check_classification_targets(y):
    """The type of target ``y``, if a classifier can learn it (else scikit-learn's error)."""
    if np.asarray(y).dtype.kind == "c":
        raise ValueError("Complex data not supported")
    y_type = type_of_target(y)
    if y_type in ("continuous", "continuous-multioutput", "unknown"):
        raise ValueError(f"Unknown label type: {y_type}. Classifiers need discrete class "
                         "labels (ints or strings); for real-valued targets use MLPRegressor.")
    if y_type == "multiclass-multioutput":
        raise ValueError("Multioutput target data is not supported with label binarization: "
                         "only single-output or 0/1 multilabel targets.")
    return y_type


class LabelBinarizer:
    """Class labels <-> indicator matrix, as scikit-learn's ``LabelBinarizer`` (0/1 labels).

    Binary targets use ONE column (1 = ``classes_[1]``), multiclass one column per class,
    multilabel indicator targets pass through.
    """

    def fit(self, y, classes=None):
        """Learn the classes of ``y`` (or take ``classes`` as given)."""
        self.y_type_ = check_classification_targets(y if classes is None else classes)
        if classes is not None and self.y_type_ != "multilabel-indicator":
            self.y_type_ = "multiclass" if len(np.unique(classes)) > 2 else "binary"
        if self.y_type_ == "multilabel-indicator":
            y = np.asarray(y)
            self.classes_ = np.arange(y.shape[1])
        else:
            source = np.asarray(y if classes is None else classes)
            self.classes_ = np.unique(source)
        return self

    def transform(self, y):
        """Indicator matrix (n, n_outputs) of ``y``; labels outside ``classes_`` raise."""
        y = np.asarray(y)
        if self.y_type_ == "multilabel-indicator":
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(f"y has shape {y.shape}, but the classifier was fitted on a "
                                 f"multilabel target with {len(self.classes_)} columns.")
            return (y > 0).astype(np.float64)
        if y.ndim == 2:
            raise ValueError(f"y has shape {y.shape}: expected a 1-D array of class labels "
                             "like the one this classifier was fitted with.")
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        unknown = self.classes_[idx] != y
        if np.any(unknown):
            raise ValueError(f"y contains previously unseen labels: "
                             f"{sorted(np.unique(y[unknown]).tolist())}; known classes: "
                             f"{self.classes_.tolist()}")
        if len(self.classes_) <= 2:
            return (idx == len(self.classes_) - 1).astype(np.float64)[:, None]
        out = np.zeros((y.shape[0], len(self.classes_)))
        out[np.arange(y.shape[0]), idx] = 1.0
        return out

    def inverse_transform(self, scores):
        """Labels from output activations: threshold 0.5 (binary, multilabel) or argmax."""
        if self.y_type_ == "multilabel-indicator":
            return (scores > 0.5).astype(np.intp)
        if self.y_type_ == "binary" or scores.shape[1] == 1:
            return self.classes_[(scores.reshape(-1) > 0.5).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]


def unique_labels(y):
    """Sorted distinct labels of a 1-D ``y`` (columns of an indicator matrix)."""
    y = np.asarray(y)
    if y.ndim == 2:
        return np.arange(y.shape[1])
    return np.unique(y)


def compute_class_weight(class_weight, classes, y):
    """Per-class weights for labels ``classes`` (sorted) and targets ``y``: lepton's one rule
    (``lepton._data.class_weights``) with scikit-learn's parameter errors."""
    if class_weight is None:
        return np.ones(len(classes))
    if isinstance(class_weight, dict):
        known = set(classes.tolist())
        unknown = [c for c in class_weight if c not in known]
        if unknown:
            raise ValueError(f"class_weight has labels {unknown} that are not classes of y; "
                             f"the classes are {classes.tolist()}.")
        class_weight = {i: class_weight[c] for i, c in enumerate(classes.tolist())
                        if c in class_weight}
    elif not (isinstance(class_weight, str) and class_weight == "balanced"):
        what = repr(class_weight) if isinstance(class_weight, str) else type(class_weight).__name__
        raise InvalidParameterError("class_weight must be None, 'balanced' or a dict "
                                    f"{{label: weight}}, got {what}.")
    return class_weights(class_weight, np.searchsorted(classes, y), len(classes),
                         names=classes.tolist())


# ---------------------------------------------------------------------------- splits
# ---------------------------------------------------------------------------- metrics
def accuracy(y_true, y_pred, sample_weight=None):
    """Accuracy (subset accuracy for 2-D indicator targets), optionally weighted."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    ok = np.all(y_true == y_pred, axis=1) if y_true.ndim == 2 else y_true == y_pred
    return float(np.average(ok, weights=sample_weight))


def r2(y_true, y_pred, sample_weight=None):
    """Coefficient of determination, averaged uniformly over outputs (scikit-learn's r2)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim == 1:
        y_true = y_true[:, None]
    if y_pred.ndim == 1:
        y_pred = y_pred[:, None]
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, float)
    w = w[:, None]
    num = (w * (y_true - y_pred) ** 2).sum(axis=0)
    mean = (w * y_true).sum(axis=0) / w.sum()
    den = (w * (y_true - mean) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # scikit-learn's conventions for a constant target: 1 if predicted exactly, else 0.
        score = np.where(den != 0, 1 - num / np.where(den != 0, den, 1),
                         np.where(num == 0, 1.0, 0.0))
    return float(np.mean(score))
