"""Saving fitted estimators with :func:`lepton.save` (no pickle) and loading them back.

The file keeps everything ``predict``, ``score`` and further training need: parameters,
architecture, classes, feature names, training history and the optimizer state, plus the
free-form JSON ``metadata_`` dict (the ``lepton`` command stores the target column and task).
"""
import numbers

import numpy as np

from lepton import _names
from lepton import _sklcompat as skc
from lepton.io import (MAX_LAYERS, MAX_UNITS, _require, _require_config, _require_keys,
                       _require_list, _require_params)

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
        pairs = value["__pairs__"]
        if not (isinstance(pairs, list) and all(isinstance(p, list) and len(p) == 2
                                                 for p in pairs)):
            raise ValueError(f"'__pairs__' must be a list of [key, value] pairs, got "
                             f"{str(pairs)[:80]}")
        return {(tuple(k) if isinstance(k, list) else k): v for k, v in pairs}
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


# Keys of the ``fitted`` config, and the types of the ``metadata_`` keys the ``lepton``
# command reads back (other ``metadata_`` keys are the user's, free-form JSON).
_FITTED_KEYS = _FITTED_SCALARS + ("layer_units", "activation", "out_activation", "dropout",
                                  "dropout_seed", "dtype", "lr", "no_improvement_count",
                                  "optimizer_step")
_METADATA_TYPES = {"task": str, "target": (str, int, type(None)), "source": str,
                   "created_by": str, "train_seconds": (int, float)}


def _check_metadata(metadata):
    for key, types in _METADATA_TYPES.items():
        _require_config(metadata, key, types, optional=True, low=0, what="metadata_ entry")
    if metadata.get("feature_names") is not None:
        _require_list(metadata, "feature_names", str, what="metadata_ entry")


def from_state(cls, config, arrays):
    """Rebuild a fitted estimator of class ``cls`` from :func:`get_state` output.

    Every entry is checked (types, ranges, finiteness, sizes against the arrays) before the
    network is built, so a poisoned file fails here, not on the next ``partial_fit``.
    """
    _require_keys(config, ("params", "fitted"), ("metadata",))
    params = _require_params(config, cls, allow_inf=("n_iter_no_change",))
    fitted = _require_config(config, "fitted", dict)
    classifier = cls._estimator_type == "classifier"
    _require_keys(fitted, _FITTED_KEYS + (("y_type",) if classifier else ()),
                  what="fitted entry")
    metadata = _require_config(config, "metadata", dict, optional=True, default={})
    _check_metadata(metadata)
    units = _require_list(fitted, "layer_units", int, min_len=2, max_len=MAX_LAYERS + 1,
                          low=1, high=MAX_UNITS)
    dtype = np.dtype(_require_config(fitted, "dtype", str, choices=("float32", "float64")))
    act = _names.activation_name(_require_config(fitted, "activation", str))
    out = _names.activation_name(_require_config(fitted, "out_activation", str))
    expected_out = ("softmax", "sigmoid") if classifier else ("identity",)
    if out not in expected_out:
        raise ValueError(f"a {cls.__name__} cannot have output activation {out!r}")
    dropout = _require_list(fitted, "dropout", (int, float), min_len=len(units) - 2,
                            max_len=len(units) - 2, low=0, high=1)
    if any(d >= 1 for d in dropout):
        raise ValueError("dropout rates must be in [0, 1)")
    seed = _require_config(fitted, "dropout_seed", int, low=0)
    step = _require_config(fitted, "optimizer_step", int, low=0)
    lr = _require_config(fitted, "lr", (int, float), low=0)
    no_improvement = _require_config(fitted, "no_improvement_count", int, low=0)
    scalars = {name: _require_config(fitted, name, (int, type(None)), low=0)
               for name in ("n_iter_", "t_")}
    scalars["loss_"] = _require_config(fitted, "loss_", (int, float, type(None)))
    for name in ("best_loss_", "best_validation_score_"):  # start at +-inf before a fit
        scalars[name] = _require_config(fitted, name, (int, float, type(None)),
                                        allow_inf=True)
    # Arrays: sizes from the checked config, values finite, before anything is built.
    names = ("params", "optimizer_m", "optimizer_v", "loss_curve")
    _require_keys(arrays, names + (("classes",) if classifier else ()),
                  ("validation_scores", "feature_names"), "array")
    n_params = sum(a * b + b for a, b in zip(units[:-1], units[1:]))
    flat = _require(arrays, "params", shape=(n_params,), dtype=dtype, finite=True)
    m = _require(arrays, "optimizer_m", shape=(n_params,), dtype=dtype, finite=True)
    v = _require(arrays, "optimizer_v", shape=(n_params,), dtype=dtype, finite=True,
                 nonnegative=True)
    curve = _require(arrays, "loss_curve", shape=(None,), dtype=np.float64, finite=True)
    scores = None
    if "validation_scores" in arrays:  # NaN is a legitimate score of a diverged epoch
        scores = _require(arrays, "validation_scores", shape=(None,), dtype=np.float64)
    feature_names = None
    if "feature_names" in arrays:
        feature_names = _require(arrays, "feature_names", shape=(units[0],))
        if feature_names.dtype.kind != "U":
            raise ValueError("array 'feature_names' must hold strings")
    if classifier:
        classes = _require(arrays, "classes", shape=(None,), finite=True)
        y_type = _require_config(fitted, "y_type", str,
                                 choices=("binary", "multiclass", "multilabel-indicator"))
        n_out = units[-1]
        ok = len(classes) == n_out if y_type != "binary" else (len(classes) == 2
                                                               and n_out == 1)
        if not ok:
            raise ValueError(f"'classes' ({classes.shape}) does not match {n_out} outputs")
        if len(np.unique(classes)) != len(classes) or np.any(np.sort(classes) != classes):
            raise ValueError("'classes' must be sorted and unique")

    params = {k: _from_json(v) for k, v in params.items()}
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    est = cls(**params)
    est._validate_params()  # the hyper-parameters a later fit / partial_fit would use
    W = [np.zeros((a, b)) for a, b in zip(units[:-1], units[1:])]
    est._adopt_weights(W, [np.zeros(b) for b in units[1:]], act, out, dtype.type,
                       dropout=[float(d) for d in dropout], seed=seed)
    est._net.model.params[...] = flat
    est._snapshot_best()
    est._net.set_optimizer_state(m, v, step)
    for name, value in scalars.items():
        setattr(est, name, value)
    est._lr = float(lr)
    est._no_improvement_count = no_improvement
    est.loss_curve_ = [float(x) for x in curve]
    est.validation_scores_ = None if scores is None else [float(x) for x in scores]
    est.n_features_in_ = units[0]
    if feature_names is not None:
        est.feature_names_in_ = np.asarray(feature_names, dtype=object)
    if classifier:
        lb = skc.LabelBinarizer()
        lb.y_type_, lb.classes_ = y_type, classes
        est._label_binarizer, est.classes_ = lb, classes
    if metadata:
        est.metadata_ = metadata
    return est
