"""Classification metrics (accuracy, precision / recall / F-scores, confusion matrix,
report, log loss); see :mod:`lepton.metrics`."""
import numbers
import warnings

import numpy as np

from lepton import _validation as _v
from lepton.metrics._checks import (  # noqa: F401  (UndefinedMetricWarning is public here)
    UndefinedMetricWarning, _as_array, _as_labels, _assert_finite, _check_lengths,
    _check_targets, _encode, _type_of_target)

__all__ = [
    "accuracy_score", "confusion_matrix", "precision_recall_fscore_support",
    "precision_score", "recall_score", "f1_score", "fbeta_score", "classification_report",
    "log_loss",
]

_AVERAGES = (None, "micro", "macro", "weighted", "samples")


def _average(values, weights=None, normalize=True):
    if normalize:
        return np.average(values, weights=weights)
    return np.dot(values, weights) if weights is not None else np.sum(values)


# ---------------------------------------------------------------- classification metrics

def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Accuracy classification score.

    For multilabel indicator input this is subset accuracy: a sample counts as correct only
    when its whole row of predicted labels matches.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        Ground-truth labels, or a 0/1 label indicator matrix.
    y_pred : array-like of the same shape
        Predicted labels.
    normalize : bool, default=True
        Return the fraction of correct samples; if False, their (weighted) count.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    score : float
    """
    normalize = _v.check_bool(normalize, "normalize")
    y_type, _, y_true, y_pred, sample_weight = _check_targets(y_true, y_pred, sample_weight)
    if y_type == "multilabel-indicator":
        score = ~np.any((y_true != 0) != (y_pred != 0), axis=1)
    else:
        score = y_true == y_pred
    return float(_average(score, sample_weight, normalize))


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    """Compute the confusion matrix ``C``: ``C[i, j]`` counts samples of class i predicted j.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like of shape (n_classes,), default=None
        Classes that index the matrix, in this order; samples whose true or predicted label
        is not listed are ignored. Default: all labels present, sorted.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    normalize : {"true", "pred", "all"}, default=None
        Normalise over true labels (rows), predicted labels (columns) or all samples.

    Returns
    -------
    C : ndarray of shape (n_classes, n_classes)
        int64 counts, or float64 when weighted by float weights or normalised.
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be one of 'true', 'pred', 'all' or None, "
                         f"got {normalize!r}")
    y_type, present, y_true, y_pred, sample_weight = _check_targets(y_true, y_pred,
                                                                    sample_weight)
    if y_type not in ("binary", "multiclass"):
        raise ValueError(f"{y_type} is not supported by confusion_matrix; pass 1-D labels")
    if labels is None:
        labels = present
    else:
        labels = _as_labels(labels, y_true)
        if not np.isin(y_true, labels).any():
            raise ValueError("At least one label specified must be in y_true")
    if sample_weight is None:
        sample_weight = np.ones(y_true.shape[0], dtype=np.int64)
    n = len(labels)
    t, p = _encode(y_true, labels), _encode(y_pred, labels)
    keep = (t >= 0) & (p >= 0)
    # Integer weights keep an exact integer matrix, as scikit-learn does.
    dtype = np.int64 if sample_weight.dtype.kind in "biu" else np.float64
    cm = np.zeros((n, n), dtype=dtype)
    np.add.at(cm, (t[keep], p[keep]), sample_weight[keep].astype(dtype))
    if normalize is not None:
        with np.errstate(all="ignore"):
            if normalize == "true":
                cm = cm / cm.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                cm = cm / cm.sum(axis=0, keepdims=True)
            else:
                cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    if cm.shape == (1, 1):
        warnings.warn("A single label was found in 'y_true' and 'y_pred'. For the confusion "
                      "matrix to have the correct shape, use the 'labels' parameter to pass "
                      "all known labels.", UserWarning, stacklevel=2)
    return cm


def _check_zero_division(zero_division):
    if isinstance(zero_division, str) and zero_division == "warn":
        return np.float64(0.0)
    # Real numbers only (np.isnan would fail on huge ints; complex 1+0j == 1).
    if isinstance(zero_division, numbers.Real) and not isinstance(zero_division, (bool, np.bool_)):
        if zero_division != zero_division:  # NaN
            return np.nan
        if zero_division in (0, 1):
            return np.float64(zero_division)
    raise ValueError(f"zero_division must be 'warn', 0, 1 or np.nan, got {zero_division!r}")


def _check_set_wise_labels(y_type, present, average, labels, pos_label):
    if average not in _AVERAGES and average != "binary":
        raise ValueError(f"average has to be one of {_AVERAGES + ('binary',)}, "
                         f"got {average!r}")
    if average == "binary":
        if y_type == "binary":
            if pos_label not in present.tolist() and len(present) >= 2:
                raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should "
                                 f"be one of {present.tolist()}")
            return [pos_label]
        options = [a for a in _AVERAGES if not (a == "samples" and y_type == "multiclass")]
        raise ValueError(f"Target is {y_type} but average='binary'. Please choose another "
                         f"average setting, one of {options!r}.")
    if pos_label not in (None, 1):
        warnings.warn(f"Note that pos_label (set to {pos_label!r}) is ignored when average != "
                      f"'binary' (got {average!r}). You may use labels=[pos_label] to specify "
                      f"a single positive class.", UserWarning, stacklevel=3)
    return labels


def _label_counts(y_type, y_true, y_pred, labels, sample_weight, samplewise):
    """Per-label (or per-sample) true-positive, predicted and true totals."""
    if y_type != "multilabel-indicator":
        if samplewise:
            raise ValueError("Samplewise metrics are not available outside of multilabel "
                             "classification.")
        labels = _as_labels(labels, y_true)
        n = len(labels)
        t, p = _encode(y_true, labels), _encode(y_pred, labels)
        w = sample_weight

        def count(idx, mask):
            return np.bincount(idx[mask], weights=None if w is None else w[mask], minlength=n)

        return count(t, (t >= 0) & (t == p)), count(p, p >= 0), count(t, t >= 0)
    n_cols = y_true.shape[1]
    labels = np.asarray(labels)
    if not np.array_equal(labels, np.arange(n_cols)):
        if labels.dtype.kind not in "iu":
            raise ValueError(f"labels must be column indices for multilabel targets, got "
                             f"{labels!r}")
        if labels.max() > n_cols - 1:
            raise ValueError(f"All labels must be in [0, n labels) for multilabel targets. "
                             f"Got {labels.max()} > {n_cols - 1}")
        if labels.min() < 0:
            raise ValueError(f"All labels must be in [0, n labels) for multilabel targets. "
                             f"Got {labels.min()} < 0")
        y_true, y_pred = y_true[:, labels], y_pred[:, labels]
    t, p = y_true != 0, y_pred != 0
    axis = 1 if samplewise else 0
    if sample_weight is None:
        return (np.count_nonzero(t & p, axis=axis), np.count_nonzero(p, axis=axis),
                np.count_nonzero(t, axis=axis))
    w = sample_weight[:, None]
    return (((t & p) * w).sum(axis=axis), (p * w).sum(axis=axis), (t * w).sum(axis=axis))


def _warn_prf(average, modifier, msg_start, result_size):
    axis0, axis1 = ("label", "sample") if average == "samples" else ("sample", "label")
    where = "due to" if result_size == 1 else f"in {axis1}s with"
    warnings.warn(f"{msg_start} ill-defined and being set to 0.0 {where} no {modifier} "
                  f"{axis0}s. Use `zero_division` parameter to control this behavior.",
                  UndefinedMetricWarning, stacklevel=4)


def _prf_divide(numerator, denominator, metric, modifier, average, warn_for, zero_division):
    mask = denominator == 0
    denominator = np.asarray(denominator, dtype=np.float64).copy()
    denominator[mask] = 1  # avoid inf/nan; masked entries are replaced below
    result = np.asarray(numerator, dtype=np.float64) / denominator
    if not mask.any():
        return result
    result[mask] = _check_zero_division(zero_division)
    if zero_division == "warn" and metric in warn_for:
        _warn_prf(average, modifier, f"{metric.capitalize()} is", result.shape[0])
    return result


def _nanaverage(a, weights=None):
    if a.shape[0] == 0:
        return np.nan
    mask = np.isnan(a)
    if mask.all():
        return np.nan
    if weights is None:
        return np.mean(a[~mask])
    a, weights = a[~mask], np.asarray(weights)[~mask]
    try:
        return np.average(a, weights=weights)
    except ZeroDivisionError:  # every weight is zero: fall back to a plain mean
        return np.average(a)


def precision_recall_fscore_support(y_true, y_pred, *, beta=1.0, labels=None, pos_label=1,
                                    average=None, warn_for=("precision", "recall", "f-score"),
                                    sample_weight=None, zero_division="warn"):
    """Compute precision, recall, F-beta score and support for each class (or averaged).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        Ground-truth labels, or a 0/1 label indicator matrix.
    y_pred : array-like of the same shape
        Predicted labels.
    beta : float, default=1.0
        Weight of recall in the F-score (``beta > 1`` favours recall).
    labels : array-like, default=None
        Labels to report (and average over, except for ``average="micro"`` on all labels);
        labels absent from the data get zero counts. Default: all labels present, sorted.
    pos_label : int, float, bool or str, default=1
        The positive class when ``average="binary"``; ignored otherwise.
    average : {"binary", "micro", "macro", "weighted", "samples"} or None, default=None
        None returns per-label scores. "binary": the ``pos_label`` class only; "micro":
        global counts; "macro": unweighted mean over labels; "weighted": mean weighted by
        support; "samples" (multilabel only): mean over samples.
    warn_for : tuple of str, default=("precision", "recall", "f-score")
        Metrics that warn when ill-defined and ``zero_division="warn"``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    zero_division : {"warn", 0, 1, np.nan}, default="warn"
        Value used where a ratio divides by zero ("warn": 0 plus an UndefinedMetricWarning).

    Returns
    -------
    precision, recall, fbeta_score : float or ndarray of shape (n_labels,)
    support : ndarray of int or float of shape (n_labels,), or None when averaged
        Number (or weight) of true samples per label.
    """
    _check_zero_division(zero_division)
    beta = _v.check_real(beta, "beta", min=0, finite=False)
    y_type, present, y_true, y_pred, sample_weight = _check_targets(y_true, y_pred,
                                                                    sample_weight)
    labels = _check_set_wise_labels(y_type, present, average, labels, pos_label)
    if labels is None:
        labels = present
    elif y_type != "multilabel-indicator":
        labels = _as_labels(labels, y_true)
    samplewise = average == "samples"
    tp_sum, pred_sum, true_sum = _label_counts(y_type, y_true, y_pred, labels, sample_weight,
                                               samplewise)
    if average == "micro":
        tp_sum, pred_sum, true_sum = (np.array([s.sum()]) for s in (tp_sum, pred_sum, true_sum))

    precision = _prf_divide(tp_sum, pred_sum, "precision", "predicted", average, warn_for,
                            zero_division)
    recall = _prf_divide(tp_sum, true_sum, "recall", "true", average, warn_for, zero_division)
    if np.isposinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        # (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp), written with the sums to stay exact.
        beta2 = beta ** 2
        denom = beta2 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
        f_score = _prf_divide((1 + beta2) * tp_sum.astype(np.float64), denom, "f-score",
                              "true nor predicted", average, warn_for, zero_division)

    if average is None:
        return precision, recall, f_score, true_sum
    weights = {"weighted": true_sum, "samples": sample_weight}.get(average)
    return (float(_nanaverage(precision, weights)), float(_nanaverage(recall, weights)),
            float(_nanaverage(f_score, weights)), None)


_PRF_DOC = """
    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        Ground-truth labels, or a 0/1 label indicator matrix.
    y_pred : array-like of the same shape
        Predicted labels.{beta}
    labels : array-like, default=None
        Labels to include; see :func:`precision_recall_fscore_support`.
    pos_label : int, float, bool or str, default=1
        The positive class when ``average="binary"``.
    average : {{"binary", "micro", "macro", "weighted", "samples"}} or None, default="binary"
        Averaging; None returns one score per label.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    zero_division : {{"warn", 0, 1, np.nan}}, default="warn"
        Value used where the ratio divides by zero.

    Returns
    -------
    score : float, or ndarray of shape (n_labels,) when ``average=None``
"""


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                    sample_weight=None, zero_division="warn"):
    p, _, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        warn_for=("precision",), sample_weight=sample_weight, zero_division=zero_division)
    return p


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                 sample_weight=None, zero_division="warn"):
    _, r, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        warn_for=("recall",), sample_weight=sample_weight, zero_division=zero_division)
    return r


def fbeta_score(y_true, y_pred, *, beta, labels=None, pos_label=1, average="binary",
                sample_weight=None, zero_division="warn"):
    _, _, f, _ = precision_recall_fscore_support(
        y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label, average=average,
        warn_for=("f-score",), sample_weight=sample_weight, zero_division=zero_division)
    return f


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
             sample_weight=None, zero_division="warn"):
    return fbeta_score(y_true, y_pred, beta=1, labels=labels, pos_label=pos_label,
                       average=average, sample_weight=sample_weight,
                       zero_division=zero_division)


precision_score.__doc__ = "Precision ``tp / (tp + fp)``: how many predicted positives are right.\n" \
    + _PRF_DOC.format(beta="")
recall_score.__doc__ = "Recall ``tp / (tp + fn)``: how many true positives are found.\n" \
    + _PRF_DOC.format(beta="")
f1_score.__doc__ = "F1 score, the harmonic mean of precision and recall.\n" \
    + _PRF_DOC.format(beta="")
fbeta_score.__doc__ = "F-beta score, the weighted harmonic mean of precision and recall.\n" \
    + _PRF_DOC.format(beta="\n    beta : float\n        Weight of recall (``beta > 1`` "
                      "favours recall).")


def classification_report(y_true, y_pred, *, labels=None, target_names=None,
                          sample_weight=None, digits=2, output_dict=False,
                          zero_division="warn"):
    """Build a text report (or dict) of precision, recall, F1 and support per class.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_labels)
        Ground-truth and predicted labels (or label indicator matrices).
    labels : array-like of shape (n_labels,), default=None
        Labels to include in the report. Default: all labels present, sorted.
    target_names : list of str, default=None
        Display names matching ``labels``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    digits : int, default=2
        Digits shown for floating point values (ignored with ``output_dict``).
    output_dict : bool, default=False
        Return a dict ``{label: {"precision": ..., "recall": ..., "f1-score": ...,
        "support": ...}, ...}`` instead of a string.
    zero_division : {"warn", 0, 1, np.nan}, default="warn"
        Value used where a ratio divides by zero.

    Returns
    -------
    report : str or dict
        The same layout as ``sklearn.metrics.classification_report``: one row per label,
        then "accuracy" (or "micro avg"), "macro avg" and "weighted avg" ("samples avg" too
        for multilabel input).
    """
    digits = _v.check_int(digits, "digits", min=0, max=100)   # float64 shows < 20
    output_dict = _v.check_bool(output_dict, "output_dict")
    y_type, present, y_true, y_pred, sample_weight = _check_targets(y_true, y_pred,
                                                                    sample_weight)
    labels_given = labels is not None
    labels = np.asarray(labels) if labels_given else present
    micro_is_accuracy = y_type in ("multiclass", "binary") and (
        not labels_given or set(labels.tolist()) >= set(present.tolist()))
    if target_names is not None and len(labels) != len(target_names):
        if labels_given:
            warnings.warn(f"labels size, {len(labels)}, does not match size of target_names, "
                          f"{len(target_names)}", UserWarning, stacklevel=2)
        else:
            raise ValueError(f"Number of classes, {len(labels)}, does not match size of "
                             f"target_names, {len(target_names)}. Try specifying the labels "
                             f"parameter")
    if target_names is None:
        target_names = ["%s" % label for label in labels]

    headers = ["precision", "recall", "f1-score", "support"]
    common = dict(labels=labels, sample_weight=sample_weight, zero_division=zero_division)
    p, r, f1, s = precision_recall_fscore_support(y_true, y_pred, average=None, **common)
    rows = list(zip(target_names, p, r, f1, s))
    averages = ("micro", "macro", "weighted") + (
        ("samples",) if y_type == "multilabel-indicator" else ())

    if output_dict:
        report = {row[0]: dict(zip(headers, [float(v) for v in row[1:]])) for row in rows}
    else:
        width = max(max(len(cn) for cn in target_names), len("weighted avg"), digits)
        head_fmt = "{:>{width}s} " + " {:>9}" * len(headers)
        report = head_fmt.format("", *headers, width=width) + "\n\n"
        row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
        for row in rows:
            report += row_fmt.format(*row, width=width, digits=digits)
        report += "\n"

    for average in averages:
        heading = "accuracy" if average == "micro" and micro_is_accuracy else average + " avg"
        avg_p, avg_r, avg_f1, _ = precision_recall_fscore_support(y_true, y_pred,
                                                                  average=average, **common)
        avg = [avg_p, avg_r, avg_f1, np.sum(s)]
        if output_dict:
            report[heading] = dict(zip(headers, [float(v) for v in avg]))
        elif heading == "accuracy":
            fmt = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f}" + " {:>9}\n"
            report += fmt.format(heading, "", "", *avg[2:], width=width, digits=digits)
        else:
            report += row_fmt.format(heading, *avg, width=width, digits=digits)
    if output_dict and "accuracy" in report:
        report["accuracy"] = report["accuracy"]["precision"]
    return report


def log_loss(y_true, y_pred, *, normalize=True, sample_weight=None, labels=None):
    """Log loss (cross-entropy) of predicted class probabilities.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        True labels, or a 0/1 indicator matrix whose columns are the classes.
    y_pred : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in sorted label order; a 1-D array holds the
        probability of the positive (larger) class of a binary problem. Values are
        clipped to ``[eps, 1 - eps]`` with ``eps`` the machine epsilon of their dtype.
    normalize : bool, default=True
        Return the mean loss per sample; if False, the (weighted) sum.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    labels : array-like, default=None
        All class labels, when ``y_true`` does not contain every class.

    Returns
    -------
    loss : float
    """
    normalize = _v.check_bool(normalize, "normalize")
    y_prob = _as_array(y_pred, "y_pred")
    if y_prob.dtype.kind not in "biuf":
        raise ValueError(f"y_pred must hold probabilities (numbers), got dtype {y_prob.dtype}")
    if y_prob.dtype not in (np.float16, np.float32, np.float64):
        y_prob = y_prob.astype(np.float64)
    if y_prob.ndim not in (1, 2) or y_prob.shape[0] == 0:
        raise ValueError(f"y_pred must be a non-empty 1-D or 2-D array of probabilities, got "
                         f"shape {y_prob.shape}")
    _assert_finite(y_prob, "y_pred")
    if y_prob.max() > 1:
        raise ValueError(f"y_prob contains values greater than 1: {y_prob.max()}")
    if y_prob.min() < 0:
        raise ValueError(f"y_prob contains values lower than 0: {y_prob.min()}")
    y = _as_array(y_true, "y_true")
    _check_lengths(y_true=y, y_pred=y_prob)
    sample_weight = _v.check_sample_weight(sample_weight, y_prob.shape[0], dtype=None)
    if _type_of_target(y, "y_true") == "multilabel-indicator" and labels is None:
        onehot, classes = (y != 0).astype(np.int64), np.arange(y.shape[1])
    else:
        if y.ndim == 2 and y.shape[1] != 1:
            raise ValueError(f"y_true must be 1-D labels here, got shape {y.shape}")
        y = y.ravel()
        if labels is not None:
            labels = _as_labels(labels, y)
            classes = np.unique(labels)
            if not np.array_equal(classes, labels):
                warnings.warn(f"Labels passed were {labels}. But this function assumes labels "
                              f"are ordered lexicographically. Pass the ordered "
                              f"labels={classes.tolist()} and ensure that the columns of "
                              f"y_prob correspond to this ordering.", UserWarning, stacklevel=2)
            missing = ~np.isin(y, labels)
            if missing.any():
                raise ValueError(f"y_true contains values {set(y[missing].tolist())} not "
                                 f"belonging to the passed labels {labels}.")
        else:
            classes = np.unique(y)
        if len(classes) == 1:
            if labels is None:
                raise ValueError(f"y_true contains only one label ({classes[0]}). Please "
                                 f"provide the list of all expected class labels explicitly "
                                 f"through the labels argument.")
            raise ValueError(f"The labels array needs to contain at least two labels, got "
                             f"{classes}.")
        onehot = (y[:, None] == classes[None, :]).astype(np.int64)
    if y_prob.ndim == 1:
        y_prob = y_prob[:, None]
    if y_prob.shape[1] == 1:
        y_prob = np.concatenate([1 - y_prob, y_prob], axis=1)
    eps = np.finfo(y_prob.dtype).eps
    if not np.all(np.isclose(y_prob.sum(axis=1), 1, rtol=np.sqrt(eps))):
        warnings.warn("The y_prob values do not sum to one. Make sure to pass probabilities.",
                      UserWarning, stacklevel=2)
    if len(classes) != y_prob.shape[1]:
        if labels is None:
            raise ValueError(f"y_true and y_prob contain different number of classes: "
                             f"{len(classes)} vs {y_prob.shape[1]}. Please provide the true "
                             f"labels explicitly through the labels argument. Classes found "
                             f"in y_true: {classes}")
        raise ValueError(f"The number of classes in labels is different from that in y_prob. "
                         f"Classes found in labels: {classes}")
    y_prob = np.clip(y_prob, eps, 1 - eps)
    onehot = onehot.astype(y_prob.dtype)
    # xlogy: a zero label contributes 0 whatever the probability.
    loss = -np.sum(np.where(onehot == 0, 0, onehot * np.log(y_prob)), axis=1)
    return float(_average(loss, sample_weight, normalize))
