"""Input validation for training: X, y, sample and class weights, checked before any
native code runs.  Every function returns new arrays (or the caller's own when already in
the right form) and never modifies its arguments.
"""
import numbers

import numpy as np

from lepton import _validation as _v
from lepton._native.dispatch import core as _core

CE, BCE = "softmax_cross_entropy", "binary_cross_entropy"


def _numeric_array(x, name, hint=""):
    """``x`` as an ndarray of numbers (bool, int or float), without copying an ndarray."""
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must contain numbers, got dtype {arr.dtype}{hint}")
    return arr


def as_matrix(X, n_features, dtype, name="X"):
    """X as a finite, C-contiguous 2-D array of ``dtype`` with ``n_features`` columns."""
    arr = _numeric_array(X, name)
    if arr.ndim != 2:
        if arr.ndim == 1:
            raise ValueError(f"Expected 2D array, got 1D array instead: {name}.shape = "
                             f"{arr.shape}. Reshape your data using {name}.reshape(-1, 1) if "
                             f"it has a single feature or {name}.reshape(1, -1) if it contains "
                             f"a single sample.")
        raise ValueError(f"Expected 2D array, got {arr.ndim}D array instead ({name})")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has 0 samples; at least 1 is required")
    if arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features, but the model expects "
                         f"{n_features}")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not _core.all_finite_array(arr):
        raise ValueError(f"Input {name} contains NaN or infinity")
    return arr


def _as_numeric(y, name):
    arr = _numeric_array(y, name, "; encode class labels as integers 0..n_classes-1")
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"Input {name} contains NaN or infinity")
    return arr


def targets(y, n, loss, n_outputs, dtype, name="y"):
    """``(Y, labels)``: targets as an (n, n_outputs) matrix for the loss, and integer class
    labels (n,) for classification metrics / class weights (None for regression and
    multi-label BCE)."""
    arr = _as_numeric(y, name)
    if arr.shape[0] != n:
        raise ValueError(f"X has {n} samples, but {name} has {arr.shape[0]}")
    K = n_outputs
    if loss == CE:
        if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1 and K > 1):
            lab = arr.reshape(-1)
            if lab.dtype.kind == "f" and np.any(lab != np.round(lab)):
                raise ValueError(f"{name} must hold integer class indices 0..{K - 1} for "
                                 f"softmax_cross_entropy, got non-integer values")
            labels = lab.astype(np.int64, copy=False)
            lo, hi = labels.min(), labels.max()
            if lo < 0 or hi >= K:
                v = lo if lo < 0 else hi
                raise ValueError(f"{name} contains class index {v}, but the model has {K} "
                                 f"outputs (valid: 0..{K - 1})")
            Y = np.zeros((n, K), dtype=dtype)
            Y[np.arange(n), labels] = 1
            return Y, labels
        if arr.shape[1] != K:
            raise ValueError(f"{name} has {arr.shape[1]} columns, but the model has {K} outputs")
        if np.any(arr < 0) or np.any(arr > 1):
            raise ValueError(f"{name} as a one-hot/probability matrix must be in [0, 1]")
        if not np.allclose(arr.sum(axis=1), 1.0, rtol=0, atol=1e-3):
            raise ValueError(f"rows of {name} (one-hot/probabilities) must sum to 1")
        return np.ascontiguousarray(arr, dtype=dtype), np.argmax(arr, axis=1)
    if arr.ndim == 1:
        if K != 1:
            raise ValueError(f"{name} is 1-D, but the model has {K} outputs; pass y of shape "
                             f"(n, {K})")
        arr = arr.reshape(n, 1)
    elif arr.shape[1] != K:
        raise ValueError(f"{name} has {arr.shape[1]} columns, but the model has {K} outputs")
    if loss == BCE:
        if np.any(arr < 0) or np.any(arr > 1):
            raise ValueError(f"{name} must be in [0, 1] for binary_cross_entropy (0/1 labels "
                             f"or probabilities)")
        Y = np.ascontiguousarray(arr, dtype=dtype)
        labels = (arr[:, 0] > 0.5).astype(np.int64) if K == 1 else None
        return Y, labels
    return np.ascontiguousarray(arr, dtype=dtype), None


def sample_weights(sample_weight, class_weight, labels, n, n_classes, dtype):
    """Per-row weights (n,) = sample_weight * class_weight[label] in ``dtype``, or None if
    neither (the native loss multiplies each row's loss by its weight as it is)."""
    if class_weight is None:
        return _v.check_sample_weight(sample_weight, n, dtype=dtype)
    sw = _v.check_sample_weight(sample_weight, n)
    if labels is None:
        raise ValueError("class_weight needs class labels: use it with "
                         "softmax_cross_entropy or single-output binary_cross_entropy")
    cw = class_weights(class_weight, labels, n_classes)
    with np.errstate(over="ignore"):  # an overflow is reported by check_weight_values
        sw = cw[labels] if sw is None else sw * cw[labels]
    name = "sample_weight (after class_weight)" if sample_weight is not None else "class_weight"
    return np.ascontiguousarray(_v.check_weight_values(sw, dtype, name))


def class_weights(class_weight, labels, n_classes, names=None):
    """Weight per class (n_classes,) from "balanced" or a {class index: weight} dict.

    The one class-weight rule of lepton (Trainer and estimators).  "balanced" gives each
    class present in ``labels`` ``n_samples / (n_classes_present * count)`` (scikit-learn's
    ``compute_class_weight`` when every class is present); a class without samples keeps
    weight 1 (it weighs no row).  ``names[i]`` labels class i in error messages.
    """
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be 'balanced' or a dict, got {class_weight!r}")
        counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
        present = counts > 0
        w = np.ones(n_classes)
        w[present] = labels.shape[0] / (present.sum() * counts[present])
        return w
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be 'balanced' or a dict, got "
                        f"{type(class_weight).__name__}")
    w = np.ones(n_classes)
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) \
                or not 0 <= key < n_classes:
            raise ValueError(f"class_weight key {key!r} is not a class index 0..{n_classes - 1}")
        name = key if names is None else names[int(key)]
        w[int(key)] = _v.check_real(value, f"class_weight[{name!r}]", min=0)
    return w
