"""Feature preprocessing: standardisation, min-max scaling and quantile clipping.

Each transformer learns per-feature statistics in ``fit`` and applies them in
``transform``; ``fit``, ``transform``, ``fit_transform``, ``inverse_transform``,
``get_params``/``set_params`` and the fitted attributes follow scikit-learn's
transformers of the same names, so they can be used inside scikit-learn pipelines.

float32 and float64 inputs keep their dtype; other numeric inputs become float64.
Fitted statistics are kept in float64. ``get_state()`` / ``from_state()`` turn a fitted
transformer into (JSON config, arrays) and back, which is how :func:`lepton.save` stores
them (kinds ``"standard_scaler"``, ``"minmax_scaler"``, ``"quantile_clipper"``).
"""

import numpy as np

from lepton import _validation as _v
from lepton._params import ParamsMixin
from lepton.exceptions import NotFittedError
from lepton.io import (MAX_UNITS, _require, _require_config, _require_keys, _require_params,
                       register)

__all__ = ["StandardScaler", "MinMaxScaler", "QuantileClipper", "NotFittedError"]


class _Transformer(ParamsMixin):
    """Shared input checks, parameter handling and state (de)serialisation."""

    # Names of the fitted ndarray attributes saved by get_state(), in order.
    _state_arrays = ()

    # --- input checks ------------------------------------------------------------------
    def _validate_X(self, X, reset):
        name = type(self).__name__
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"X cannot be converted to a numeric array: {exc}") from None
        if arr.dtype.kind == "c":  # casting would drop the imaginary part silently
            raise ValueError(f"Complex data not supported\n{arr!r}\n")
        if arr.dtype.kind not in "biuf":
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"X must hold numbers, got an array of dtype {arr.dtype}") \
                    from None
        if arr.ndim != 2:
            hint = (" Reshape your data either using array.reshape(-1, 1) if your data has a "
                    "single feature or array.reshape(1, -1) if it contains a single sample."
                    if arr.ndim == 1 else "")
            raise ValueError(f"Expected a 2D array (n_samples, n_features), got a "
                             f"{arr.ndim}D array of shape {arr.shape} instead.{hint}")
        if arr.shape[0] == 0:
            raise ValueError(f"Found array with 0 sample(s) (shape={arr.shape}) while a "
                             f"minimum of 1 is required by {name}.")
        if arr.shape[1] == 0:
            raise ValueError(f"Found array with 0 feature(s) (shape={arr.shape}) while a "
                             f"minimum of 1 is required by {name}.")
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
        if not np.isfinite(arr).all():
            what = "NaN" if np.isnan(arr).any() else "infinity"
            raise ValueError(f"Input X contains {what}. {name} needs finite values; remove "
                             f"or impute them first.")
        if not reset:
            self._check_fitted()
            if arr.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {arr.shape[1]} features, but {name} is expecting "
                                 f"{self.n_features_in_} features as input.")
        return arr

    def _check_fitted(self):
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. "
                                 f"Call 'fit' with appropriate arguments before using this "
                                 f"estimator.")

    def _set_fitted(self, n_features, n_samples_seen, **stats):
        """Store what ``fit`` learnt once it is known to be finite, so usable and savable;
        on error nothing is set (X near the float64 limit can give e.g. a variance beyond it)."""
        for name, value in stats.items():
            if value is not None and not np.isfinite(value).all():
                bad = np.flatnonzero(~np.isfinite(value)).tolist()
                raise ValueError(
                    f"X has values too large for {type(self).__name__}: the fitted {name} of "
                    f"feature(s) {bad[:10]} overflows float64. Divide X by a constant first.")
        self.__dict__.update(stats, n_features_in_=n_features, n_samples_seen_=n_samples_seen)
        return self

    def _output(self, X):
        """Array to write results into: X itself when copy=False allows it."""
        if not getattr(self, "copy", True) and X.flags.writeable:
            return X
        return X.copy()

    def fit_transform(self, X, y=None, **fit_params):
        """Fit to ``X``, then return ``X`` transformed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored; accepted for pipeline compatibility.
        **fit_params : dict
            Passed to ``fit``.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
        """
        return self.fit(X, y, **fit_params).transform(X)

    # --- state -------------------------------------------------------------------------
    def _extra_config(self):
        return {}

    def get_state(self):
        """Return the fitted state as ``(config, arrays)``.

        Returns
        -------
        config : dict
            JSON-serialisable: ``{"params": constructor parameters, "n_features_in_": int,
            ...}``.
        arrays : dict of str to ndarray
            The fitted per-feature statistics (float64, shape ``(n_features_in_,)``).
        """
        self._check_fitted()
        params = {k: (list(v) if isinstance(v, tuple) else v)
                  for k, v in self.get_params().items()}
        config = {"params": params, "n_features_in_": int(self.n_features_in_),
                  **self._extra_config()}
        arrays = {name: np.array(getattr(self, name), dtype=np.float64)
                  for name in self._state_arrays if getattr(self, name) is not None}
        return config, arrays

    @classmethod
    def from_state(cls, config, arrays):
        """Rebuild a fitted transformer from the output of :meth:`get_state`.

        Parameters
        ----------
        config : dict
            The configuration returned by ``get_state``.
        arrays : dict of str to ndarray
            The arrays returned by ``get_state``.

        Returns
        -------
        transformer : instance of this class, fitted

        Raises
        ------
        ValueError
            If an entry is missing or has the wrong type, shape or dtype.
        """
        _require_keys(config, ("params", "n_features_in_", "n_samples_seen_"))
        params = _require_params(config, cls)
        params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}
        self = cls(**params)
        self._check_params()
        n = _require_config(config, "n_features_in_", int, low=1, high=MAX_UNITS)
        _require_keys(arrays, self._expected_arrays(), (), "array")
        for name in self._state_arrays:
            if name in self._expected_arrays():
                value = _require(arrays, name, shape=(n,), dtype=np.float64, finite=True)
                setattr(self, name, value.copy())
            else:
                setattr(self, name, None)
        self.n_features_in_ = n
        self._restore_extra(config)
        return self

    def _expected_arrays(self):
        return self._state_arrays

    def _restore_extra(self, config):
        pass

    # io registry protocol: the same as get_state / from_state.
    def _lepton_state(self):
        return self.get_state()

    @classmethod
    def _from_lepton_state(cls, config, arrays):
        return cls.from_state(config, arrays)


@register("standard_scaler")
class StandardScaler(_Transformer):
    """Standardise features: ``z = (x - mean) / std``, with statistics learnt in ``fit``.

    Parameters
    ----------
    copy : bool, default=True
        If False, transform float32/float64 C arrays in place where possible.
    with_mean : bool, default=True
        Subtract the mean.
    with_std : bool, default=True
        Divide by the (population) standard deviation. Features that are constant (variance
        within rounding error of zero) keep scale 1, so they map to 0 instead of dividing by
        zero.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,) or None
        Per-feature mean (None when both ``with_mean`` and ``with_std`` are False).
    var_ : ndarray of shape (n_features,) or None
        Per-feature variance (None when ``with_std=False``).
    scale_ : ndarray of shape (n_features,) or None
        Per-feature divisor, ``sqrt(var_)`` with 1 for constant features (None when
        ``with_std=False``).
    n_features_in_ : int
        Number of features seen in ``fit``.
    n_samples_seen_ : int or float
        Number of samples (or total sample weight) seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from lepton.preprocessing import StandardScaler
    >>> StandardScaler().fit_transform(np.array([[0.0, 1.0], [2.0, 1.0]]))
    array([[-1.,  0.],
           [ 1.,  0.]])
    """

    _state_arrays = ("mean_", "var_", "scale_")

    def __init__(self, *, copy=True, with_mean=True, with_std=True):
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def _check_params(self):
        for name in ("copy", "with_mean", "with_std"):
            _v.check_bool(getattr(self, name), name)

    def fit(self, X, y=None, sample_weight=None):
        """Compute the per-feature mean and standard deviation of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (finite values).
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights for a weighted mean and variance.

        Returns
        -------
        self : StandardScaler
        """
        self._check_params()
        X = self._validate_X(X, reset=True)
        n, n_features = X.shape
        w = _v.check_sample_weight(sample_weight, n)
        count = n if w is None else float(w.sum())
        if not (self.with_mean or self.with_std):
            return self._set_fitted(n_features, count, mean_=None, var_=None, scale_=None)
        X64 = X.astype(np.float64, copy=False)  # float64 accumulators, as scikit-learn
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
            mean = np.average(X64, axis=0, weights=w)
            if not self.with_std:
                return self._set_fitted(n_features, count, mean_=mean, var_=None, scale_=None)
            # Corrected two-pass variance (Chan, Golub & LeVeque), like scikit-learn.
            d = X64 - mean
            if w is None:
                correction, var = d.sum(axis=0), (d ** 2).sum(axis=0)
            else:
                correction, var = w @ d, w @ d ** 2
            var = (var - correction ** 2 / count) / count
            eps = np.finfo(np.float64).eps
            # A feature is constant when its variance is within the error bound of the
            # two-pass algorithm; dividing by its tiny std would only amplify rounding noise.
            constant = var <= count * eps * var + (count * mean * eps) ** 2
            scale = np.sqrt(var)
        scale[constant] = 1.0
        return self._set_fitted(n_features, count, mean_=mean, var_=var, scale_=scale)

    def _expected_arrays(self):
        if not (self.with_mean or self.with_std):
            return ()
        return ("mean_", "var_", "scale_") if self.with_std else ("mean_",)

    def _extra_config(self):
        return {"n_samples_seen_": self.n_samples_seen_}

    def _restore_extra(self, config):
        self.n_samples_seen_ = _require_config(config, "n_samples_seen_", (int, float), low=0)
        if self.scale_ is not None and (self.scale_ <= 0).any():
            raise ValueError("array 'scale_' must be positive")

    def transform(self, X, copy=None):
        """Standardise ``X`` with the statistics learnt in ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to transform.
        copy : bool, default=None
            Overrides the ``copy`` parameter for this call.

        Returns
        -------
        X_tr : ndarray of shape (n_samples, n_features)
            float32 if ``X`` is float32, else float64.
        """
        X = self._validate_X(X, reset=False)
        out = self._output_for(X, copy)
        if self.with_mean:
            out -= self.mean_.astype(X.dtype)
        if self.with_std:
            out /= self.scale_.astype(X.dtype)
        return out

    def inverse_transform(self, X, copy=None):
        """Undo :meth:`transform`: ``x = z * scale + mean``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Standardised data.
        copy : bool, default=None
            Overrides the ``copy`` parameter for this call.

        Returns
        -------
        X_orig : ndarray of shape (n_samples, n_features)
        """
        X = self._validate_X(X, reset=False)
        out = self._output_for(X, copy)
        if self.with_std:
            out *= self.scale_.astype(X.dtype)
        if self.with_mean:
            out += self.mean_.astype(X.dtype)
        return out

    def _output_for(self, X, copy):
        if _v.check_bool(copy, "copy", allow_none=True) is None:
            return self._output(X)
        return X if not copy and X.flags.writeable else X.copy()


@register("minmax_scaler")
class MinMaxScaler(_Transformer):
    """Scale each feature linearly to ``feature_range`` using its min and max from ``fit``.

    Parameters
    ----------
    feature_range : tuple (min, max), default=(0, 1)
        Desired range of the transformed data.
    copy : bool, default=True
        If False, transform float32/float64 arrays in place where possible.
    clip : bool, default=False
        Clip transformed values of unseen data to ``feature_range``.

    Attributes
    ----------
    data_min_, data_max_ : ndarray of shape (n_features,)
        Per-feature minimum and maximum seen in ``fit``.
    data_range_ : ndarray of shape (n_features,)
        ``data_max_ - data_min_``.
    scale_ : ndarray of shape (n_features,)
        Per-feature multiplier; constant features get ``max - min`` of the range (their
        data range is treated as 1).
    min_ : ndarray of shape (n_features,)
        Per-feature offset: ``X_tr = X * scale_ + min_``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    n_samples_seen_ : int
        Number of samples seen in ``fit``.
    """

    _state_arrays = ("data_min_", "data_max_", "data_range_", "scale_", "min_")

    def __init__(self, feature_range=(0, 1), *, copy=True, clip=False):
        self.feature_range = feature_range
        self.copy = copy
        self.clip = clip

    def _check_params(self):
        fr = self.feature_range
        if not (isinstance(fr, (tuple, list)) and len(fr) == 2):
            raise ValueError(f"feature_range must be a tuple (min, max) of finite numbers, "
                             f"got {fr!r}")
        for i, v in enumerate(fr):
            _v.check_real(v, f"feature_range[{i}]")
        if fr[0] >= fr[1]:
            raise ValueError(f"Minimum of desired feature range must be smaller than "
                             f"maximum. Got {tuple(fr)}.")
        if not np.isfinite(float(fr[1]) - float(fr[0])):
            raise ValueError(f"feature_range {tuple(fr)} is too wide: max - min overflows "
                             f"float64.")
        _v.check_bool(self.copy, "copy")
        _v.check_bool(self.clip, "clip")

    def fit(self, X, y=None):
        """Compute the per-feature minimum and maximum of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (finite values).
        y : None
            Ignored.

        Returns
        -------
        self : MinMaxScaler
        """
        self._check_params()
        X = self._validate_X(X, reset=True)
        lo, hi = self.feature_range
        data_min = X.min(axis=0).astype(np.float64)
        data_max = X.max(axis=0).astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
            data_range = data_max - data_min
            rng = data_range.copy()
            rng[rng < 10 * np.finfo(np.float64).eps] = 1.0  # constant feature: no division by 0
            scale = (hi - lo) / rng
            offset = lo - data_min * scale
        if np.isfinite(data_range).all() and not (scale > 0).all():
            raise ValueError(f"feature_range {tuple(self.feature_range)} is too narrow for the "
                             f"range of X: the scale underflows to 0. Divide X by a constant "
                             f"first.")
        return self._set_fitted(X.shape[1], X.shape[0], data_min_=data_min,
                                data_max_=data_max, data_range_=data_range, scale_=scale,
                                min_=offset)

    def _extra_config(self):
        return {"n_samples_seen_": int(self.n_samples_seen_)}

    def _restore_extra(self, config):
        self.n_samples_seen_ = _require_config(config, "n_samples_seen_", int, low=0)
        if (self.scale_ <= 0).any():
            raise ValueError("array 'scale_' must be positive")

    def transform(self, X):
        """Scale ``X`` to ``feature_range``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to transform.

        Returns
        -------
        X_tr : ndarray of shape (n_samples, n_features)
            float32 if ``X`` is float32, else float64.
        """
        X = self._validate_X(X, reset=False)
        out = self._output(X)
        out *= self.scale_.astype(X.dtype)
        out += self.min_.astype(X.dtype)
        if self.clip:
            np.clip(out, self.feature_range[0], self.feature_range[1], out=out)
        return out

    def inverse_transform(self, X):
        """Undo :meth:`transform`: ``x = (x_tr - min_) / scale_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Scaled data.

        Returns
        -------
        X_orig : ndarray of shape (n_samples, n_features)
        """
        X = self._validate_X(X, reset=False)
        out = self._output(X)
        out -= self.min_.astype(X.dtype)
        out /= self.scale_.astype(X.dtype)
        return out


@register("quantile_clipper")
class QuantileClipper(_Transformer):
    """Clip outliers: limit each feature to its ``[lower, upper]`` quantiles from ``fit``.

    A simple denoising step for heavy-tailed features: values beyond the training data's
    quantiles are replaced by the quantile values. There is no ``inverse_transform``
    (clipping discards information).

    Parameters
    ----------
    lower : float, default=0.01
        Lower quantile, in [0, 1).
    upper : float, default=0.99
        Upper quantile, in (0, 1], greater than ``lower``.
    copy : bool, default=True
        If False, clip float32/float64 arrays in place where possible.

    Attributes
    ----------
    lower_bound_, upper_bound_ : ndarray of shape (n_features,)
        Per-feature clipping bounds (``numpy.quantile`` with linear interpolation).
    n_features_in_ : int
        Number of features seen in ``fit``.
    n_samples_seen_ : int
        Number of samples seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from lepton.preprocessing import QuantileClipper
    >>> X = np.arange(101, dtype=float).reshape(-1, 1)
    >>> QuantileClipper(lower=0.1, upper=0.9).fit(X).transform([[-5.0], [50.0], [500.0]])
    array([[10.],
           [50.],
           [90.]])
    """

    _state_arrays = ("lower_bound_", "upper_bound_")

    def __init__(self, lower=0.01, upper=0.99, *, copy=True):
        self.lower = lower
        self.upper = upper
        self.copy = copy

    def _check_params(self):
        for name in ("lower", "upper"):
            _v.check_real(getattr(self, name), name, min=0, max=1)
        if self.lower >= self.upper:
            raise ValueError(f"lower must be smaller than upper, got lower={self.lower} and "
                             f"upper={self.upper}")
        _v.check_bool(self.copy, "copy")

    def fit(self, X, y=None):
        """Learn the per-feature ``lower`` and ``upper`` quantiles of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (finite values).
        y : None
            Ignored.

        Returns
        -------
        self : QuantileClipper
        """
        self._check_params()
        X = self._validate_X(X, reset=True)
        X64 = X.astype(np.float64, copy=False)
        q = [self.lower, self.upper]
        with np.errstate(over="ignore", invalid="ignore"):
            bounds = np.quantile(X64, q, axis=0)
        if not np.isfinite(bounds).all():
            # Interpolating between two values of opposite sign near the float64 limit
            # overflows; halving is exact and the true quantile lies between two values.
            bounds = np.quantile(X64 * 0.5, q, axis=0) * 2.0
        return self._set_fitted(X.shape[1], X.shape[0], lower_bound_=bounds[0],
                                upper_bound_=bounds[1])

    def _extra_config(self):
        return {"n_samples_seen_": int(self.n_samples_seen_)}

    def _restore_extra(self, config):
        self.n_samples_seen_ = _require_config(config, "n_samples_seen_", int, low=0)
        if (self.lower_bound_ > self.upper_bound_).any():
            raise ValueError("lower_bound_ must not exceed upper_bound_")

    def transform(self, X):
        """Clip each feature of ``X`` to the bounds learnt in ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to clip.

        Returns
        -------
        X_clipped : ndarray of shape (n_samples, n_features)
            float32 if ``X`` is float32, else float64.
        """
        X = self._validate_X(X, reset=False)
        out = self._output(X)
        np.clip(out, self.lower_bound_.astype(X.dtype), self.upper_bound_.astype(X.dtype),
                out=out)
        return out
