"""Saving fitted estimators with :func:`lepton.save` (no pickle) and loading them back.

The file keeps everything ``predict``, ``score`` and further training need: parameters,
architecture, classes, feature names, training history and the optimizer state, plus the
free-form JSON ``metadata_`` dict (the ``lepton`` command stores the target column and task).
"""
import numbers

import numpy as np

from lepton import _names
from lepton import _sklcompat as skc
from lepton.io import _require, _require_config

_FITTED_SCALARS = ("n_iter_", "t_", "loss_", "best_loss_", "best_validation_score_")


def _jsonable(value):
    """A JSON-friendly copy of a parameter value (tuples -> lists, NumPy scalars -> Python)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        # JSON object keys are strings: class labels (often ints) are kept as pairs.
        return {"__pairs__": [[_jsonable(k), _jsonable(v)] for k, v in value.items()]}
    return value


def _from_json(value):
    if isinstance(value, dict) and set(value) == {"__pairs__"}:
        return {(tuple(k) if isinstance(k, list) else k): v for k, v in value["__pairs__"]}
    return value


def _label_array(values, what):
    arr = np.asarray(values)
    if arr.dtype == object:
        if not all(isinstance(v, str) for v in arr.ravel()):
            raise TypeError(f"cannot save {what} of mixed or non-string object types")
        arr = arr.astype(str)
    return arr


def get_state(est):
    """``(config, arrays)`` of a fitted estimator, for the lepton.io registry."""
    est._check_fitted()
    est._sync_weights()
    params = {}
    for name, value in est.get_params().items():
        if name == "random_state" and not (value is None or isinstance(value, numbers.Integral)):
            value = None  # a RandomState instance cannot be stored; its draws are done anyway
        params[name] = _jsonable(value)
    net = est._net
    m, v, step = net.optimizer_state
    fitted = {name: _jsonable(getattr(est, name, None)) for name in _FITTED_SCALARS}
    fitted.update(layer_units=list(net.layer_units), activation=net._config["activation"],
                  out_activation=net._config["out_activation"],
                  dropout=list(net._config["dropout"]), dropout_seed=net._config["seed"],
                  dtype=net.dtype.name,
                  lr=float(est._lr), no_improvement_count=int(est._no_improvement_count),
                  optimizer_step=int(step))
    arrays = {"params": net.model.params.copy(), "optimizer_m": m.copy(),
              "optimizer_v": v.copy(),
              "loss_curve": np.asarray(est.loss_curve_, dtype=np.float64)}
    if est.validation_scores_ is not None:
        arrays["validation_scores"] = np.asarray(est.validation_scores_, dtype=np.float64)
    if est._estimator_type == "classifier":
        fitted["y_type"] = est._label_binarizer.y_type_
        arrays["classes"] = _label_array(est.classes_, "classes_")
    if getattr(est, "feature_names_in_", None) is not None:
        arrays["feature_names"] = _label_array(est.feature_names_in_, "feature_names_in_")
    config = {"params": params, "fitted": fitted,
              "metadata": _jsonable_meta(getattr(est, "metadata_", None))}
    return config, arrays


def _jsonable_meta(meta):
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise TypeError(f"metadata_ must be a dict, got {type(meta).__name__}")
    return meta


def from_state(cls, config, arrays):
    """Rebuild a fitted estimator of class ``cls`` from :func:`get_state` output."""
    params = _require_config(config, "params", dict)
    fitted = _require_config(config, "fitted", dict)
    metadata = _require_config(config, "metadata", dict, optional=True, default={})
    unknown = set(params) - set(cls._get_param_names())
    if unknown:
        raise ValueError(f"unknown {cls.__name__} parameters {sorted(unknown)}")
    params = {k: _from_json(v) for k, v in params.items()}
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    est = cls(**params)
    units = _require_config(fitted, "layer_units", list)
    if len(units) < 2 or not all(isinstance(u, int) and u >= 1 for u in units):
        raise ValueError(f"layer_units must be positive ints, got {units!r}")
    dtype = _require_config(fitted, "dtype", str)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    act = _names.activation_name(_require_config(fitted, "activation", str))
    out = _names.activation_name(_require_config(fitted, "out_activation", str))
    expected_out = ("identity",) if cls._estimator_type == "regressor" else ("softmax",
                                                                             "sigmoid")
    if out not in expected_out:
        raise ValueError(f"a {cls.__name__} cannot have output activation {out!r}")
    dropout = _require_config(fitted, "dropout", list)
    if len(dropout) != len(units) - 2 or not all(isinstance(d, (int, float)) and 0 <= d < 1
                                                 for d in dropout):
        raise ValueError(f"dropout must hold {len(units) - 2} rates in [0, 1)")
    n_params = sum(a * b + b for a, b in zip(units[:-1], units[1:]))
    flat = _require(arrays, "params", shape=(n_params,), dtype=np.dtype(dtype))
    if not np.all(np.isfinite(flat)):
        raise ValueError("'params' contains non-finite values")
    W = [np.zeros((a, b)) for a, b in zip(units[:-1], units[1:])]
    est._adopt_weights(W, [np.zeros(b) for b in units[1:]], act, out, np.dtype(dtype).type,
                       dropout=[float(d) for d in dropout],
                       seed=_require_config(fitted, "dropout_seed", int))
    est._net.model.params[...] = flat
    est._snapshot_best()
    m = _require(arrays, "optimizer_m", shape=(n_params,), dtype=np.dtype(dtype))
    v = _require(arrays, "optimizer_v", shape=(n_params,), dtype=np.dtype(dtype))
    step = _require_config(fitted, "optimizer_step", int)
    est._net.set_optimizer_state(m, v, step)
    for name in _FITTED_SCALARS:
        value = fitted.get(name)
        if value is not None and not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number or null, got {value!r}")
        setattr(est, name, value)
    est._lr = float(_require_config(fitted, "lr", (int, float)))
    est._no_improvement_count = _require_config(fitted, "no_improvement_count", int)
    curve = _require(arrays, "loss_curve")
    if curve.ndim != 1:
        raise ValueError("'loss_curve' must be 1-D")
    est.loss_curve_ = [float(x) for x in curve]
    scores = arrays.get("validation_scores")
    est.validation_scores_ = None if scores is None else [float(x) for x in np.ravel(scores)]
    est.n_features_in_ = units[0]
    names = arrays.get("feature_names")
    if names is not None:
        if np.shape(names) != (units[0],):
            raise ValueError(f"'feature_names' must have shape ({units[0]},)")
        est.feature_names_in_ = np.asarray(names, dtype=object)
    if cls._estimator_type == "classifier":
        classes = _require(arrays, "classes")
        y_type = _require_config(fitted, "y_type", str)
        if y_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"unknown y_type {y_type!r}")
        n_out = units[-1]
        ok = (len(classes) == n_out if y_type != "binary" else len(classes) == 2 and n_out == 1)
        if classes.ndim != 1 or not ok:
            raise ValueError(f"'classes' ({classes.shape}) does not match {n_out} outputs")
        lb = skc.LabelBinarizer()
        lb.y_type_, lb.classes_ = y_type, classes
        est._label_binarizer, est.classes_ = lb, classes
    if metadata:
        est.metadata_ = metadata
    return est
