"""Saved models in the ``lepton`` command: loading and checking them, feeding them data.

A model file is user input like a data file: :func:`load_model` checks everything the
command later reads from the loaded object (its type, its preprocessing steps, the free-form
``metadata_`` that ``lepton train`` writes, extra objects attached by the file), so that a
damaged or hand-edited file is one clear error naming the file, never a traceback.

Two kinds of model files are read, both through public API only: a :class:`lepton.Model`
saved by ``lepton train`` (``lepton.save(model, path, metadata=...)``: the task, target,
feature names, class labels and training settings in the file's ``metadata``), and an
MLPClassifier / MLPRegressor saved with ``lepton.save`` (as earlier versions of ``lepton
train`` did): ``coefs_``, ``classes_``, ``n_features_in_``, ``get_params()``, ``predict``.
"""
import numbers
import os

import numpy as np

from lepton.cli import _data as data
from lepton.cli._data import DataError
from lepton.cli._parser import UsageError

# Extra objects the command attaches to a model (lepton.io.save(..., preprocessing=...)).
_EXTRAS = ("preprocessing", "target_preprocessing")


def load_model(path, with_metadata=False):
    """Load and check a model file for the command.

    Parameters
    ----------
    path : str
    with_metadata : bool, optional
        Also return the file's metadata (:func:`lepton.io.read_metadata`).

    Returns
    -------
    model : MLPClassifier, MLPRegressor or Model
        Its ``preprocessing`` / ``target_preprocessing`` are lists (possibly empty) and its
        ``metadata_`` a checked dict (possibly empty).
    metadata : dict
        Only with ``with_metadata``.

    Raises
    ------
    DataError, ValueError
        Naming ``path``, for a missing, unreadable or invalid file.
    """
    from lepton import io

    if not os.path.exists(path):
        raise DataError(f"no such model file: {path}")
    if os.path.isdir(path):
        raise DataError(f"{path} is a directory, not a model file")
    try:
        meta = io.read_metadata(path)
        obj = io.load(path)
    except (ValueError, OSError, MemoryError):
        raise  # io names the file and the reason
    except RecursionError:
        raise DataError(f"{path!r} is not a valid lepton file: its metadata is nested too "
                        "deeply") from None
    except Exception as exc:  # io should report these as ValueError; name the file anyway
        raise DataError(f"{path!r} is not a valid lepton file ({type(exc).__name__}: "
                        f"{exc})") from None
    _check_model(obj, meta, path)
    return (obj, meta) if with_metadata else obj


def _invalid(path, reason):
    return DataError(f"{path!r} is not a valid lepton model: {reason}")


def _check_model(obj, meta, path):
    from lepton.estimators import MLPClassifier, MLPRegressor
    from lepton.model import Model

    if not isinstance(obj, (MLPClassifier, MLPRegressor, Model)):
        raise DataError(f"{path} holds a {type(obj).__name__}, not a model")
    extras = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
    for key in extras:
        # A file can attach any object under any name: refuse names that would replace
        # one of the model's own attributes (methods included).
        if key not in _EXTRAS and (key.startswith("_") or key.endswith("_")
                                   or hasattr(type(obj), key)):
            raise _invalid(path, f"the extra object {data.shorten(key)!r} would replace the "
                                 "model's own attribute")
    for key, method in zip(_EXTRAS, ("transform", "inverse_transform")):
        steps = getattr(obj, key, None)
        steps = [] if steps is None else steps
        if not isinstance(steps, list) or not all(callable(getattr(s, method, None))
                                                  for s in steps):
            raise _invalid(path, f"{key!r} must be a list of preprocessing steps")
        setattr(obj, key, steps)
    if is_estimator(obj):
        if not isinstance(obj.n_features_in_, numbers.Integral) or obj.n_features_in_ < 1:
            raise _invalid(path, "n_features_in_ must be a positive integer")
        if is_classifier(obj) and (
                not isinstance(obj.classes_, np.ndarray) or obj.classes_.ndim != 1):
            raise _invalid(path, "classes must be a 1-D array")
    meta_ = getattr(obj, "metadata_", None)
    meta_ = {} if meta_ is None else meta_
    if not isinstance(meta_, dict):
        raise _invalid(path, "metadata must be a JSON object")
    for key in ("target", "task", "source"):
        value = meta_.get(key)
        if key == "target" and isinstance(value, numbers.Integral) and \
                not isinstance(value, bool):
            meta_ = {**meta_, key: str(value)}  # CSV column names are strings
        elif value is not None and not isinstance(value, str):
            raise _invalid(path, f"metadata entry {key!r} must be a string")
    for key in ("trainer", "fit"):
        if meta_.get(key) is not None and not isinstance(meta_[key], dict):
            raise _invalid(path, f"metadata entry {key!r} must be a JSON object")
    if not is_estimator(obj) and meta_.get("classes") is not None:
        _check_classes(meta_["classes"], obj, path)
    names = meta_.get("feature_names")
    n_in = model_inputs(obj)
    if names is not None and not (isinstance(names, list) and len(names) == n_in and all(
            isinstance(n, str) for n in names)):
        raise _invalid(path, f"metadata entry 'feature_names' must be a list of {n_in} "
                             "column names")
    try:
        obj.metadata_ = meta_
    except AttributeError:  # a Model may not take new attributes: the metadata is empty
        pass


def _check_classes(classes, model, path):
    """The class labels of a Model file: one per class of its output layer, all distinct
    and of one kind (strings, numbers or booleans)."""
    n = n_classes(model)
    if n is None:
        raise _invalid(path, f"metadata entry 'classes' is given, but the model's output "
                             f"layer ({model.output_activation}) is not a classifier's")
    if not isinstance(classes, list) or len(classes) != n:
        raise _invalid(path, f"metadata entry 'classes' must be a list of the model's {n} "
                             "class labels")
    kinds = {"str" if isinstance(c, str) else "bool" if isinstance(c, bool) else
             "number" if isinstance(c, numbers.Real) else "other" for c in classes}
    if len(kinds) != 1 or "other" in kinds:
        raise _invalid(path, "metadata entry 'classes' must hold labels of one kind: all "
                             "strings, all numbers or all booleans")
    if len(set(classes)) != n:
        raise _invalid(path, "metadata entry 'classes' has repeated labels")


def n_classes(model):
    """Classes a Model's output layer tells apart (softmax / sigmoid heads), else None."""
    head, k = model.output_activation, model.output_dim
    if head == "softmax" or (head == "sigmoid" and k > 1):
        return k
    return 2 if head == "sigmoid" else None


def is_classifier(obj):
    """True for a loaded MLPClassifier."""
    from lepton.estimators import MLPClassifier

    return isinstance(obj, MLPClassifier)


def model_classes(obj):
    """The class labels (ndarray) of a classifier: ``classes_`` of an estimator, the
    ``classes`` that ``lepton train`` stored with a Model; None when there are none."""
    if is_estimator(obj):
        return obj.classes_ if is_classifier(obj) else None
    classes = model_meta(obj).get("classes")
    return None if classes is None else np.asarray(classes)


def is_estimator(obj):
    """True for a loaded MLPClassifier / MLPRegressor, False for a :class:`~lepton.Model`."""
    from lepton.estimators import MLPClassifier, MLPRegressor

    return isinstance(obj, (MLPClassifier, MLPRegressor))


def model_meta(obj):
    """The checked ``metadata_`` dict of a model from :func:`load_model`."""
    meta = getattr(obj, "metadata_", None)
    return meta if isinstance(meta, dict) else {}


def model_features(obj):
    """Feature names the model was trained on, or None."""
    meta = model_meta(obj)
    if meta.get("feature_names"):
        return list(meta["feature_names"])
    names = getattr(obj, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def model_inputs(obj):
    """Number of input features of the model."""
    if is_estimator(obj):
        return obj.n_features_in_
    return obj.input_dim


def model_dtype(obj):
    """numpy dtype of the model's weights (and inputs)."""
    return np.asarray(obj.coefs_[0]).dtype if is_estimator(obj) else np.dtype(obj.dtype)


def architecture(obj):
    """``[n_inputs, (units, activation, dropout rate), ...]`` of a Model or estimator."""
    if is_estimator(obj):
        units = [c.shape[1] for c in obj.coefs_]
        drops = obj.get_params().get("dropout") or 0.0
        drops = list(drops) if isinstance(drops, (list, tuple)) else [drops] * (len(units) - 1)
        acts = [obj.activation] * (len(units) - 1) + [obj.out_activation_]
        return [obj.coefs_[0].shape[0]] + list(zip(units, acts, drops + [0.0]))
    from lepton import Dense

    layers = [obj.input_dim]
    for layer in obj.layers:
        if isinstance(layer, Dense):
            layers.append((layer.units, layer.activation, 0.0))
        else:  # a Dropout: it follows a Dense layer
            layers[-1] = layers[-1][:2] + (layer.rate,)
    return layers


def n_params(obj):
    """Number of weights and biases."""
    if is_estimator(obj):
        return sum(int(np.size(a)) for a in [*obj.coefs_, *obj.intercepts_])
    return obj.n_params


def model_outputs(obj, X, names, source):
    """(predictions, probabilities or None, task) of a loaded estimator or Model.

    Classifiers predict their class labels; regressors predict in the target's original
    units.  The model applies its own preprocessing (and undoes its target scaling).
    """
    Xt = X
    for step in obj.preprocessing:   # only to name an overflow before the model sees it
        Xt = step.transform(Xt)
    dtype = model_dtype(obj)
    data.check_magnitude(Xt, names, source, float(np.finfo(dtype).max),
                         f"after the model's preprocessing it does not fit the model's "
                         f"{dtype.name} inputs")
    del Xt
    if is_estimator(obj):
        if is_classifier(obj):
            proba = obj.predict_proba(X)
            return obj.predict(X), proba, "classification"
        return np.asarray(obj.predict(X), dtype=np.float64), None, "regression"
    pred, proba = decode(obj.predict(X), obj.output_activation, model_classes(obj))
    if proba is None:
        return np.asarray(pred, dtype=np.float64), None, "regression"
    return pred, proba, "classification"


def decode(out, head, labels=None):
    """(predictions, class probabilities or None) from a Model's outputs.

    Parameters
    ----------
    out : ndarray of shape (n_samples, n_outputs)
    head : str
        The output layer's activation: softmax or sigmoid heads classify (one sigmoid unit:
        two classes; several with ``labels``: one-vs-rest scores), others regress.
    labels : ndarray, optional
        Class labels by output index; predictions are indices without them.

    Returns
    -------
    pred : ndarray
        Labels (or indices) for a classifier; the outputs (1-D for one output) otherwise.
    proba : ndarray or None
    """
    if head == "sigmoid" and out.shape[1] == 1:
        index = (out[:, 0] > 0.5).astype(np.int64)
        proba = np.column_stack([1 - out[:, 0], out[:, 0]])
    elif head == "softmax" or (head == "sigmoid" and labels is not None):
        index, proba = out.argmax(axis=1), out
    else:
        return (out[:, 0] if out.shape[1] == 1 else out), None
    return (index if labels is None else np.asarray(labels)[index]), proba


def read_inputs(obj, path, target, need_target):
    """(X, y or None, target name, feature names, source) of a data file for a model."""
    table = data.read_data(path)
    meta = model_meta(obj)
    features = model_features(obj)
    if target is None and table.X is None:
        target = meta.get("target")
        if target not in table.columns:
            target = None if not need_target else target
    if need_target and target is None and table.X is None:
        raise UsageError("--target is needed: the model does not record its target column "
                         "(see 'lepton evaluate --help')")
    X, y, names, target = data.select(table, target, features, need_target=need_target)
    n_in = model_inputs(obj)
    if X.shape[1] != n_in:
        raise DataError(f"{table.source} has {X.shape[1]} feature columns, but the model "
                        f"expects {n_in}")
    return X, y, target, names, table.source
