"""Input checks shared by lepton's metric functions (private)."""
import numpy as np

from lepton._validation import check_sample_weight, type_of_target


class UndefinedMetricWarning(UserWarning):
    """Warning raised when a metric is ill-defined (e.g. precision with nothing predicted)."""


def _as_array(y, name):
    if y is None or isinstance(y, (str, bytes)):
        raise ValueError(f"{name} must be an array-like of labels or values, got {y!r}")
    arr = np.asarray(y)
    if arr.ndim == 0:
        raise ValueError(f"Expected array-like (array or non-string sequence) for {name}, got "
                         f"{y!r}")
    if arr.dtype == object:
        flat = arr.ravel()
        if flat.size and all(isinstance(v, str) for v in flat):
            arr = arr.astype(str)
        else:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must hold numbers or strings; got objects such "
                                 f"as {flat[0]!r}") from None
    if arr.dtype.kind not in "biufU":
        raise ValueError(f"{name} must hold numbers or strings, got dtype {arr.dtype}")
    return arr


def _assert_finite(arr, name):
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        what = "NaN" if np.isnan(arr).any() else "infinity"
        raise ValueError(f"Input {name} contains {what}.")


def _check_lengths(**arrays):
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {detail}.")


def _type_of_target(y, name):
    """'binary', 'multiclass', 'multilabel-indicator', or an unsupported type's name."""
    if y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] == 0):
        raise ValueError(f"{name} must be 1-D (labels) or a 2-D label indicator matrix; "
                         f"got an array of shape {y.shape}")
    if y.shape[0] == 0:
        raise ValueError(f"Found empty input array ({name}) while a minimum of 1 sample "
                         f"is required.")
    _assert_finite(y, name)
    return type_of_target(y)


def _same_label_kind(a, b, what):
    if (a.dtype.kind == "U") != (b.dtype.kind == "U"):
        raise ValueError(f"Mix of label input types (string and number) in {what}: "
                         f"got {np.unique(a)} and {np.unique(b)}.")


def _check_targets(y_true, y_pred, sample_weight=None):
    """Validate a pair of classification targets.

    Returns (type, sorted present labels, y_true, y_pred, sample_weight); column vectors
    become 1-D, 'binary' with more than two labels overall becomes 'multiclass'.
    """
    y_true = _as_array(y_true, "y_true")
    y_pred = _as_array(y_pred, "y_pred")
    _check_lengths(y_true=y_true, y_pred=y_pred)
    types = {_type_of_target(y_true, "y_true"), _type_of_target(y_pred, "y_pred")}
    # dtype=None: integer weights stay integers (exact confusion matrices).
    sample_weight = check_sample_weight(sample_weight, y_true.shape[0], dtype=None)
    if types == {"binary", "multiclass"}:
        types = {"multiclass"}
    if len(types) > 1:
        t, p = _type_of_target(y_true, "y_true"), _type_of_target(y_pred, "y_pred")
        raise ValueError(f"Classification metrics can't handle a mix of {t} and {p} targets")
    y_type = types.pop()
    if y_type not in ("binary", "multiclass", "multilabel-indicator"):
        raise ValueError(f"{y_type} is not supported: classification metrics expect class "
                         f"labels (integers or strings) or a 0/1 label indicator matrix.")
    if y_type == "multilabel-indicator":
        if y_true.shape[1] != y_pred.shape[1]:
            raise ValueError("Multi-label binary indicator input with different numbers of "
                             f"labels: {y_true.shape[1]} != {y_pred.shape[1]}")
        labels = np.arange(y_true.shape[1])
    else:
        y_true, y_pred = y_true.ravel(), y_pred.ravel()
        _same_label_kind(y_true, y_pred, "y_true and y_pred")
        labels = np.union1d(y_true, y_pred)
        if y_type == "binary" and len(labels) > 2:
            y_type = "multiclass"
    return y_type, labels, y_true, y_pred, sample_weight


def _encode(y, labels):
    """Position of each element of ``y`` in ``labels`` (any order); -1 where absent."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    pos = np.minimum(np.searchsorted(sorted_labels, y), len(labels) - 1)
    return np.where(sorted_labels[pos] == y, order[pos], -1)


def _as_labels(labels, like):
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D list of class labels, got {labels!r}")
    _same_label_kind(like, labels, "labels and targets")
    return labels
