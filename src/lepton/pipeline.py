"""A pipeline of lepton transformers and a final lepton model or estimator, saved and loaded
safely as one file.

:class:`Pipeline` follows scikit-learn's ``Pipeline`` for what a fitted chain needs (fit,
predict, predict_proba, score, transform, ``named_steps``, nested ``get_params`` /
``set_params``), without depending on scikit-learn.  ``lepton.save`` also accepts a
scikit-learn ``Pipeline`` whose steps are all lepton objects: it is stored as this class
and loads as one.
"""
from lepton import io

__all__ = ["Pipeline", "make_pipeline"]


def _check_steps(steps):
    if not isinstance(steps, (list, tuple)) or not steps:
        raise TypeError(f"steps must be a non-empty list of (name, estimator) tuples, got "
                        f"{type(steps).__name__ if not isinstance(steps, (list, tuple)) else '[]'}")
    names = []
    for i, step in enumerate(steps):
        if not (isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str)):
            raise TypeError(f"steps[{i}] must be a (name, estimator) tuple, got {step!r}")
        name, obj = step
        if not name or "__" in name or name in names:
            raise ValueError(f"step names must be unique, non-empty and free of '__'; "
                             f"got {name!r}")
        names.append(name)
        if i < len(steps) - 1 and obj not in (None, "passthrough") and not (
                callable(getattr(obj, "transform", None))):
            raise TypeError(f"all intermediate steps must be transformers (with a transform "
                            f"method); step {name!r} is a {type(obj).__name__}")
    return list(steps)


@io.register("pipeline")
class Pipeline:
    """Transformers applied in order, then a final estimator (or lepton Model).

    Parameters
    ----------
    steps : list of (str, object) tuples
        Named steps; every step but the last must have ``transform`` (``None`` or
        ``"passthrough"`` skips a step).

    Attributes
    ----------
    named_steps : dict
        Step name -> object.

    Examples
    --------
    >>> import lepton
    >>> X, y = lepton.load_digits(return_X_y=True)
    >>> pipe = lepton.make_pipeline(lepton.StandardScaler(),
    ...                             lepton.MLPClassifier(max_iter=30, random_state=0))
    >>> pipe.fit(X, y).score(X, y) > 0.95
    True
    """

    _lepton_parts = ("steps",)

    def __init__(self, steps):
        _check_steps(steps)
        self.steps = steps          # as given (scikit-learn's clone relies on it)

    # ---------------------------------------------------------------- structure
    @property
    def named_steps(self):
        """Step name -> step object."""
        return dict(self.steps)

    def __len__(self):
        return len(self.steps)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Pipeline(self.steps[index])
        if isinstance(index, str):
            return self.named_steps[index]
        return self.steps[index][1]

    def __repr__(self):
        return f"Pipeline(steps={self.steps!r})"

    @property
    def _final(self):
        return self.steps[-1][1]

    def _transformers(self):
        return [obj for _, obj in self.steps[:-1] if obj not in (None, "passthrough")]

    def _transform_upto_final(self, X):
        for obj in self._transformers():
            X = obj.transform(X)
        return X

    def __getattr__(self, name):
        # Fitted attributes of the final step (classes_, n_iter_, ...); n_features_in_ of
        # the first.  Only public names ending in "_".
        if name.startswith("_") or not name.endswith("_") or "steps" not in self.__dict__:
            raise AttributeError(name)
        if name in ("n_features_in_", "feature_names_in_"):
            return getattr(self.steps[0][1] if len(self.steps) > 1 else self._final, name)
        return getattr(self._final, name)

    # ---------------------------------------------------------------- parameters
    def get_params(self, deep=True):
        """Parameters of the pipeline (and, with ``deep``, ``<step>__<param>`` of each
        step and the steps themselves by name)."""
        out = {"steps": self.steps}
        if deep:
            for name, obj in self.steps:
                out[name] = obj
                if hasattr(obj, "get_params"):
                    for key, value in obj.get_params(deep=True).items():
                        out[f"{name}__{key}"] = value
        return out

    def set_params(self, **params):
        """Set ``steps``, a step by name, or ``<step>__<param>``; returns self."""
        if "steps" in params:
            self.steps = _check_steps(params.pop("steps"))
        names = [n for n, _ in self.steps]
        nested = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in names:
                raise ValueError(f"Invalid parameter {key!r} for Pipeline: no step named "
                                 f"{name!r} (steps: {names}).")
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                steps = list(self.steps)
                steps[names.index(name)] = (name, value)
                self.steps = _check_steps(steps)
        for name, sub in nested.items():
            self.named_steps[name].set_params(**sub)
        return self

    # ---------------------------------------------------------------- fit / predict
    def fit(self, X, y=None, **fit_params):
        """Fit each transformer on the output of the previous ones, then the final step.

        ``fit_params`` named ``<step>__<param>`` go to that step's ``fit``.
        """
        per_step = {name: {} for name, _ in self.steps}
        for key, value in fit_params.items():
            name, sep, sub = key.partition("__")
            if not sep or name not in per_step:
                raise ValueError(f"Pipeline.fit does not accept parameter {key!r}; pass "
                                 f"<step>__<param>")
            per_step[name][sub] = value
        for name, obj in self.steps[:-1]:
            if obj in (None, "passthrough"):
                continue
            if callable(getattr(obj, "fit_transform", None)):
                X = obj.fit_transform(X, y, **per_step[name])
            else:
                X = obj.fit(X, y, **per_step[name]).transform(X)
        final_name, final = self.steps[-1]
        if final not in (None, "passthrough"):
            final.fit(X, y, **per_step[final_name])
        return self

    def _delegate(self, method, X, *args, **kwargs):
        fn = getattr(self._final, method, None)
        if not callable(fn):
            raise AttributeError(f"the final step {type(self._final).__name__} has no "
                                 f"{method} method")
        return fn(self._transform_upto_final(X), *args, **kwargs)

    def predict(self, X):
        """Predictions of the final step on the transformed X."""
        return self._delegate("predict", X)

    def predict_proba(self, X):
        """Class probabilities of the final step on the transformed X."""
        return self._delegate("predict_proba", X)

    def predict_log_proba(self, X):
        """Log class probabilities of the final step on the transformed X."""
        return self._delegate("predict_log_proba", X)

    def score(self, X, y, sample_weight=None):
        """Score of the final step on the transformed X."""
        return self._delegate("score", X, y, sample_weight=sample_weight)

    def transform(self, X):
        """X through every step (the final one included, which must be a transformer)."""
        X = self._transform_upto_final(X)
        if self._final in (None, "passthrough"):
            return X
        return self._final.transform(X)

    # ---------------------------------------------------------------- lepton.io
    def _lepton_state(self):
        return {"names": [n for n, _ in self.steps]}, {}

    def _lepton_get_part(self, name):
        return [obj for _, obj in self.steps]

    def _lepton_set_part(self, name, objects):
        names = [n for n, _ in self.steps]
        if len(objects) != len(names):
            raise ValueError(f"the file names {len(names)} steps but holds {len(objects)}")
        self.steps = _check_steps(list(zip(names, objects)))

    def _lepton_check_parts(self):
        if any(obj is None for _, obj in self.steps):
            raise ValueError("the file names steps it does not hold")
        _check_steps(self.steps)

    @classmethod
    def _from_lepton_state(cls, config, arrays):
        io._require_keys(config, ("names",), ())
        io._require_keys(arrays, (), (), "array")
        names = io._require_list(config, "names", str, min_len=1, max_len=io.MAX_LAYERS)
        pipe = cls.__new__(cls)
        # The steps themselves come next from the file's "steps" part (_lepton_set_part).
        pipe.steps = [(n, None) for n in names]
        return pipe


def make_pipeline(*steps):
    """A :class:`Pipeline` naming each step by its lower-cased class name."""
    named, seen = [], {}
    for obj in steps:
        base = type(obj).__name__.lower()
        seen[base] = seen.get(base, 0) + 1
        named.append((base, obj))
    counts = {}
    out = []
    for base, obj in named:
        if seen[base] > 1:
            counts[base] = counts.get(base, 0) + 1
            base = f"{base}-{counts[base]}"
        out.append((base, obj))
    return Pipeline(out)


def _from_sklearn(pipe):
    """scikit-learn Pipeline -> lepton Pipeline (for lepton.save)."""
    return Pipeline(list(pipe.steps))


io.register_foreign("sklearn.pipeline", "Pipeline", _from_sklearn)
