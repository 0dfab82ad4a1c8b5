"""Regression metrics (private module; import them from :mod:`lepton.metrics`).

Same arguments and results as scikit-learn's functions of the same names.
"""
import warnings

import numpy as np

from lepton.metrics._checks import (UndefinedMetricWarning, _as_array, _assert_finite,
                                   _check_lengths)
from lepton._validation import check_bool, check_sample_weight


def _check_reg_targets(y_true, y_pred, sample_weight, multioutput, allowed):
    y_true, y_pred = _as_array(y_true, "y_true"), _as_array(y_pred, "y_pred")
    arrays = {"y_true": y_true, "y_pred": y_pred}
    for name, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    for name, a in arrays.items():
        if a.ndim not in (1, 2):
            raise ValueError(f"{name} must be 1-D or 2-D (n_samples, n_outputs), got shape "
                             f"{a.shape}")
        if a.shape[0] == 0:
            raise ValueError(f"Found array with 0 sample(s) in {name} while a minimum of 1 "
                             f"is required.")
        _assert_finite(a, name)
    _check_lengths(y_true=y_true, y_pred=y_pred)
    y_true = y_true.reshape(len(y_true), -1)
    y_pred = y_pred.reshape(len(y_pred), -1)
    if y_true.shape[1] != y_pred.shape[1]:
        raise ValueError(f"y_true and y_pred have different number of output "
                         f"({y_true.shape[1]}!={y_pred.shape[1]})")
    sample_weight = check_sample_weight(sample_weight, y_true.shape[0], dtype=None)
    # Same precision rule as scikit-learn: float32 stays float32, anything else float64.
    floats = [a.dtype for a in (y_true, y_pred, sample_weight) if a is not None
              and a.dtype.kind == "f"]
    dtype = np.result_type(*floats) if floats else np.float64
    y_true, y_pred = y_true.astype(dtype, copy=False), y_pred.astype(dtype, copy=False)
    if sample_weight is not None:
        sample_weight = sample_weight.astype(dtype, copy=False)
    if isinstance(multioutput, str):
        if multioutput not in allowed:
            raise ValueError(f"Allowed 'multioutput' string values are {allowed}. You "
                             f"provided multioutput={multioutput!r}")
    elif multioutput is not None:
        multioutput = np.asarray(multioutput, dtype=np.float64)
        if y_true.shape[1] == 1:
            raise ValueError("Custom weights are useful only in multi-output cases.")
        if multioutput.ndim != 1 or multioutput.shape[0] != y_true.shape[1]:
            raise ValueError(f"There must be equally many custom weights "
                             f"({multioutput.size}) as outputs ({y_true.shape[1]}).")
    return y_true, y_pred, sample_weight, multioutput


_REG_DOC = """
    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground-truth target values.
    y_pred : array-like of the same shape
        Predicted values.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    multioutput : {{"raw_values", "uniform_average"}} or array-like of shape (n_outputs,), \
default="uniform_average"
        "raw_values" returns one error per output; "uniform_average" their mean; an array
        gives the weights of a weighted mean.

    Returns
    -------
    loss : float, or ndarray of shape (n_outputs,) with ``multioutput="raw_values"``
        {best}
"""


def _reduce_outputs(output_errors, multioutput):
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return output_errors
        multioutput = None
    return float(np.average(output_errors, weights=multioutput))


def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    y_true, y_pred, sample_weight, multioutput = _check_reg_targets(
        y_true, y_pred, sample_weight, multioutput, ("raw_values", "uniform_average"))
    errors = np.average((y_true - y_pred) ** 2, axis=0, weights=sample_weight)
    return _reduce_outputs(errors, multioutput)


def mean_absolute_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    y_true, y_pred, sample_weight, multioutput = _check_reg_targets(
        y_true, y_pred, sample_weight, multioutput, ("raw_values", "uniform_average"))
    errors = np.average(np.abs(y_pred - y_true), axis=0, weights=sample_weight)
    return _reduce_outputs(errors, multioutput)


mean_squared_error.__doc__ = "Mean squared error regression loss.\n" + _REG_DOC.format(
    best="Non-negative; the best value is 0.0.")
mean_absolute_error.__doc__ = "Mean absolute error regression loss.\n" + _REG_DOC.format(
    best="Non-negative; the best value is 0.0.")


def r2_score(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average",
             force_finite=True):
    """R^2 (coefficient of determination) regression score.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground-truth target values.
    y_pred : array-like of the same shape
        Predicted values.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    multioutput : {"raw_values", "uniform_average", "variance_weighted"}, array-like or \
None, default="uniform_average"
        How to combine the scores of several outputs: one score each, their mean, a mean
        weighted by each output's variance, or a mean with the given weights.
    force_finite : bool, default=True
        For a constant ``y_true``, return 1.0 (perfect prediction) or 0.0 instead of NaN or
        -inf.

    Returns
    -------
    z : float, or ndarray of shape (n_outputs,) with ``multioutput="raw_values"``
        At most 1.0; 0.0 for always predicting the mean; can be arbitrarily negative.
        NaN (with an UndefinedMetricWarning) with fewer than two samples.
    """
    force_finite = check_bool(force_finite, "force_finite")
    y_true, y_pred, sample_weight, multioutput = _check_reg_targets(
        y_true, y_pred, sample_weight, multioutput,
        ("raw_values", "uniform_average", "variance_weighted"))
    if y_pred.shape[0] < 2:
        warnings.warn("R^2 score is not well-defined with less than two samples.",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    weight = 1.0 if sample_weight is None else sample_weight[:, None]
    numerator = np.sum(weight * (y_true - y_pred) ** 2, axis=0)
    mean = np.average(y_true, axis=0, weights=sample_weight)
    denominator = np.sum(weight * (y_true - mean) ** 2, axis=0)
    nonzero_den = denominator != 0
    if not force_finite:
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 1 - numerator / denominator
    else:
        nonzero_num = numerator != 0
        scores = np.ones(y_true.shape[1], dtype=numerator.dtype)
        valid = nonzero_den & nonzero_num
        scores[valid] = 1 - numerator[valid] / denominator[valid]
        # A constant target predicted imperfectly: 0 rather than -inf.
        scores[nonzero_num & ~nonzero_den] = 0.0
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return scores
        if multioutput == "variance_weighted" and nonzero_den.any():
            multioutput = denominator
        else:
            multioutput = None
    return float(np.average(scores, weights=multioutput))
