"""Shared machinery of :class:`lepton.MLPClassifier` and :class:`lepton.MLPRegressor`.

The training loop reproduces scikit-learn's ``BaseMultilayerPerceptron._fit_stochastic``:
the same weight initialisation and shuffling streams drawn from ``random_state``, the same
batches, loss (data loss + ``alpha / (2 * batch weight) * sum W**2``), learning-rate rules
and stopping rule (``tol`` / ``n_iter_no_change`` on the training loss, or on the validation
score with ``early_stopping``).  What differs is where the work happens: every range of
mini-batches is ONE call into lepton's native training step.

scikit-learn is optional: nothing here imports it at module level.  ``get_params`` /
``set_params``, ``__sklearn_tags__`` / ``_more_tags`` and ``__sklearn_is_fitted__`` make
``clone``, ``Pipeline``, ``GridSearchCV`` and ``cross_val_score`` work without inheriting from
scikit-learn's classes.
"""
import contextlib
import numbers
import time
import warnings

import numpy as np

from lepton import _names
from lepton import _sklcompat as skc
from lepton import _validation as _v
from lepton.estimators._net import _Net
from lepton._params import ParamsMixin
from lepton._steps import CarriesPreprocessing
from lepton.datasets import split_indices

_SOLVERS = ("adam", "sgd")
_LR_SCHEDULES = ("constant", "invscaling", "adaptive")
_DTYPES = {None: None, "float32": np.float32, "float64": np.float64}
# scikit-learn's names for the output activations (``out_activation_``) -> lepton's.
_OUT_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "softmax": "softmax"}


def _is_real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_int(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


# Real-valued parameters and their ranges (as scikit-learn's, finite but tol).
_REAL_PARAMS = {
    "alpha": dict(min=0), "learning_rate_init": dict(min=0, min_open=True),
    "power_t": dict(min=0), "tol": dict(min=0, finite=False), "momentum": dict(min=0, max=1),
    "validation_fraction": dict(min=0, max=1, max_open=True),
    "beta_1": dict(min=0, max=1, max_open=True), "beta_2": dict(min=0, max=1, max_open=True),
    "epsilon": dict(min=0, min_open=True),
}


class _BaseMLP(ParamsMixin, CarriesPreprocessing):
    """Base class: parameters, validation, the stochastic training loop and prediction.

    ``preprocessing`` (fitted input transformers, attached after construction or restored
    by :func:`lepton.load`) is applied wherever the estimator reads X; see
    :mod:`lepton._steps`.
    """

    _estimator_type = None  # "classifier" / "regressor", for scikit-learn < 1.6

    # ------------------------------------------------------------------ scikit-learn glue
    def __sklearn_is_fitted__(self):
        return hasattr(self, "_net")

    def __sklearn_tags__(self):
        from sklearn.utils import (ClassifierTags, InputTags, RegressorTags, TargetTags,
                                   Tags)

        is_clf = self._estimator_type == "classifier"
        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=True),
            transformer_tags=None,
            classifier_tags=ClassifierTags(multi_label=True) if is_clf else None,
            regressor_tags=None if is_clf else RegressorTags(),
            # Sparse input is accepted (densified: lepton's kernels are dense).
            input_tags=InputTags(sparse=True),
        )

    def _more_tags(self):
        # scikit-learn < 1.6 reads these instead of __sklearn_tags__.
        return {"multilabel": self._estimator_type == "classifier", "requires_y": True,
                "X_types": ["2darray", "sparse"]}

    def __getstate__(self):
        state = self.__dict__.copy()
        # coefs_ / intercepts_ are views into the network's flat buffer: rebuilt on load.
        state.pop("coefs_", None)
        state.pop("intercepts_", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_net" in state:
            self._bind_views()

    def _bind_views(self):
        self.coefs_ = list(self._net.coefs)
        self.intercepts_ = list(self._net.intercepts)
        self._views = (self.coefs_, tuple(self.coefs_), tuple(self.intercepts_))

    def _sync_weights(self):
        """Push coefs_ / intercepts_ into the network if the user replaced them."""
        coefs, c0, i0 = self._views
        if (self.coefs_ is coefs and len(self.coefs_) == len(c0)
                and all(a is b for a, b in zip(self.coefs_, c0))
                and len(self.intercepts_) == len(i0)
                and all(a is b for a, b in zip(self.intercepts_, i0))):
            return
        net = self._net
        if len(self.coefs_) != len(net.coefs) or len(self.intercepts_) != len(net.coefs):
            raise ValueError(f"coefs_ and intercepts_ must hold {len(net.coefs)} arrays each "
                             f"(one per layer), got {len(self.coefs_)} and "
                             f"{len(self.intercepts_)}.")
        for i, (W, b) in enumerate(zip(self.coefs_, self.intercepts_)):
            W, b = np.asarray(W), np.asarray(b)
            if W.shape != net.coefs[i].shape or b.shape != net.intercepts[i].shape:
                raise ValueError(f"layer {i}: coefs_ has shape {W.shape} and intercepts_ "
                                 f"{b.shape}, expected {net.coefs[i].shape} and "
                                 f"{net.intercepts[i].shape}.")
            net.coefs[i][...] = W
            net.intercepts[i][...] = b
        self._bind_views()

    # lepton.io registry protocol: ``lepton.save(est, path)`` / ``lepton.load(path)``.
    def _lepton_state(self):
        from lepton.estimators._state import get_state
        return get_state(self)

    @classmethod
    def _from_lepton_state(cls, config, arrays):
        from lepton.estimators._state import from_state
        return from_state(cls, config, arrays)

    # ------------------------------------------------------------------ validation
    def _name(self):
        return type(self).__name__

    def _bad(self, name, expected, value):
        return skc.error_class("InvalidParameterError")(
            f"The {name!r} parameter of {self._name()} must be {expected}. Got {value!r} "
            "instead.")

    def _validate_params(self):
        """Check every parameter; return the canonical hidden sizes, activation, dropout."""
        p = self.get_params()
        if p["solver"] == "lbfgs":
            raise skc.UnsupportedParameterError(
                "solver='lbfgs' is not supported by lepton yet; use solver='adam' (the "
                "default) or solver='sgd'.")
        self._param("solver", _v.check_choice, "a str among {'adam', 'sgd', 'lbfgs'}",
                    choices=_SOLVERS)
        hidden = p["hidden_layer_sizes"]
        if _is_int(hidden):
            hidden = [hidden]
        sizes = f"an int or a sequence of ints in [1, {_v.MAX_UNITS}]"
        try:
            hidden = [h for h in hidden]
        except TypeError:
            raise self._bad("hidden_layer_sizes", sizes, hidden) from None
        if not all(_is_int(h) for h in hidden):
            raise self._bad("hidden_layer_sizes", sizes, hidden)
        if any(h <= 0 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {list(hidden)}.")
        if any(h > _v.MAX_UNITS for h in hidden):
            raise self._bad("hidden_layer_sizes", sizes, p["hidden_layer_sizes"])
        hidden = [int(h) for h in hidden]
        try:
            act = _names.activation_name(p["activation"])
        except (TypeError, ValueError):
            act = None
        if act is None or act == "softmax":
            names = sorted(set(_names.ACTIVATIONS) - {"softmax"} | {"logistic"})
            raise self._bad("activation", f"a str among {names}", p["activation"])
        for name, limits in _REAL_PARAMS.items():
            self._param(name, _v.check_real, _v.expect_real(**limits), **limits)
        for name in ("max_iter", "max_fun"):
            self._param(name, _v.check_int, _v.expect_int(1), min=1)
        if not (_is_real(p["n_iter_no_change"]) and p["n_iter_no_change"] == np.inf):
            self._param("n_iter_no_change", _v.check_int, _v.expect_int(1) + " or inf", min=1)
        if not (isinstance(p["batch_size"], str) and p["batch_size"] == "auto"):
            self._param("batch_size", _v.check_int, "'auto' or " + _v.expect_int(1), min=1)
        self._param("learning_rate", _v.check_choice, f"a str among {set(_LR_SCHEDULES)}",
                    choices=_LR_SCHEDULES)
        for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
            self._param(name, _v.check_bool, "an instance of 'bool'")
        if not isinstance(p["verbose"], (bool, np.bool_)):
            self._param("verbose", _v.check_int, "a bool or " + _v.expect_int(0), min=0)
        self._param("dtype", _v.check_choice, "None, 'float32' or 'float64'",
                    choices=tuple(_DTYPES))
        if p["n_threads"] is not None and not (_is_int(p["n_threads"])
                                               and (p["n_threads"] >= 1
                                                    or p["n_threads"] == -1)):
            raise self._bad("n_threads", "None, -1 or a positive int", p["n_threads"])
        self._param("random_state", _v.check_random_state,
                    f"{_v.expect_int(0, _v.SEED_MAX)}, an instance of "
                    "'numpy.random.mtrand.RandomState' or None")
        dropout = p["dropout"]
        rates = "a float in [0, 1) or one per hidden layer"
        if _is_real(dropout):
            dropout = [dropout] * len(hidden)
        elif isinstance(dropout, str):
            raise self._bad("dropout", rates, dropout)
        else:
            try:
                dropout = list(dropout)
            except TypeError:
                raise self._bad("dropout", rates, dropout) from None
            if len(dropout) != len(hidden):
                raise ValueError(f"dropout has {len(dropout)} rates but there are "
                                 f"{len(hidden)} hidden layers; give one rate per hidden "
                                 "layer or a single float.")
        try:
            dropout = [_v.check_real(d, "dropout", min=0, max=1, max_open=True)
                       for d in dropout]
        except ValueError:  # ArgumentTypeError too
            raise self._bad("dropout", rates, p["dropout"]) from None
        return hidden, act, dropout

    def _param(self, name, check, expected, **limits):
        """``check(value, name, **limits)`` on parameter ``name``; scikit-learn's
        InvalidParameterError ("must be <expected>. Got ...") when it fails."""
        value = getattr(self, name)
        try:
            return check(value, name, **limits)
        except ValueError:  # ArgumentTypeError too
            raise self._bad(name, expected, value) from None

    def _step_dims(self):
        if not hasattr(self, "_net"):
            return None, None
        return self.n_features_in_, self._net.layer_units[-1]

    def _check_X(self, X, reset):
        """Validate X (after the attached ``preprocessing``); on ``reset`` record
        n_features_in_ / feature_names_in_ (those of X as given)."""
        names = skc.feature_names(X)
        if self.preprocessing:
            X = self._transform_inputs(X)
        if reset:
            dtype = _DTYPES[self.dtype]
        else:
            dtype = self._net.dtype
            self._check_feature_names(names)
        X = skc.check_array(X, estimator_name=self._name(), dtype=dtype)
        if reset:
            self.n_features_in_ = X.shape[1]
            if names is not None:
                self.feature_names_in_ = names
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {self._name()} is expecting "
                             f"{self.n_features_in_} features as input.")
        return X

    def _check_feature_names(self, names):
        fitted = getattr(self, "feature_names_in_", None)
        if fitted is None and names is not None:
            warnings.warn(f"X has feature names, but {self._name()} was fitted without "
                          "feature names", UserWarning, stacklevel=4)
        elif fitted is not None and names is None:
            warnings.warn(f"X does not have valid feature names, but {self._name()} was "
                          "fitted with feature names", UserWarning, stacklevel=4)
        elif fitted is not None and (len(fitted) != len(names) or np.any(fitted != names)):
            raise ValueError("The feature names should match those that were passed during "
                             f"fit.\nFitted with: {list(fitted)}\nGot: {list(names)}")

    def _check_fitted(self):
        if not hasattr(self, "_net"):
            raise skc.error_class("NotFittedError")(
                f"This {self._name()} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator.")

    # ------------------------------------------------------------------ forward
    def _forward(self, X, check_input=True):
        """Output activations (n, n_outputs) of the network, in the model dtype."""
        if check_input:
            self._check_fitted()
            X = self._check_X(X, reset=False)
        self._sync_weights()
        return self._net.predict(np.ascontiguousarray(X, dtype=self._net.dtype))

    # ------------------------------------------------------------------ training
    def _net_options(self, dropout):
        return dict(dropout=dropout, solver=self.solver, momentum=self.momentum,
                    nesterov=self.nesterovs_momentum, beta_1=self.beta_1, beta_2=self.beta_2,
                    epsilon=self.epsilon, n_threads=self.n_threads)

    def _set_net(self, units, act, out_activation, dtype, dropout, seed):
        """Create the network; set the attributes that describe it."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_layers_ = len(units)
        self.n_outputs_ = units[-1]
        self.out_activation_ = out_activation
        self._net = _Net(units, act, _OUT_ACTIVATIONS[out_activation], dtype, seed=seed,
                         **self._net_options(dropout))
        self._lr = float(self.learning_rate_init)
        self._no_improvement_count = 0

    def _snapshot_best(self):
        self._best_coefs = [c.copy() for c in self._net.coefs]
        self._best_intercepts = [b.copy() for b in self._net.intercepts]

    def _initialize(self, hidden, act, dropout, n_features, n_outputs, dtype, rng):
        """First fit: attributes, network and scikit-learn's weight initialisation."""
        units = [n_features] + hidden + [n_outputs]
        seed = int(rng.randint(np.iinfo(np.int32).max)) if any(dropout) else 0
        self._set_net(units, act, self._out_activation(), dtype, dropout, seed)
        # scikit-learn's _init_coef: U(-b, b), b = sqrt(factor / (fan_in + fan_out)), weights
        # then biases, layer by layer from the same stream (so random_state reproduces it).
        factor = 2.0 if act == "sigmoid" else 6.0
        for i in range(len(units) - 1):
            bound = np.sqrt(factor / (units[i] + units[i + 1]))
            self._net.coefs[i][...] = rng.uniform(-bound, bound, (units[i], units[i + 1]))
            self._net.intercepts[i][...] = rng.uniform(-bound, bound, units[i + 1])
        self._bind_views()
        self._snapshot_best()
        self.loss_curve_ = []
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _adopt_weights(self, coefs, intercepts, act, out, dtype, dropout=None, seed=0):
        """Make this estimator fitted with the given weights (from_sklearn, load).

        ``out`` is lepton's name of the output activation.
        """
        units = [coefs[0].shape[0]] + [W.shape[1] for W in coefs]
        dropout = [0.0] * (len(units) - 2) if dropout is None else dropout
        sk_out = {v: k for k, v in _OUT_ACTIVATIONS.items()}[out]
        self._set_net(units, act, sk_out, dtype, dropout, seed)
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            self._net.coefs[i][...] = W
            self._net.intercepts[i][...] = b
        self._bind_views()
        self._snapshot_best()

    def _fit(self, X, y, sample_weight=None, incremental=False, *, validation_data=None,
             callback=None, classes=None):
        """fit / partial_fit (``classes``: those of a first partial_fit).  Private extras,
        used by the ``lepton`` command:

        validation_data : (X_val, y_val), optional
            Held-out data scored after every epoch; with ``early_stopping`` it replaces the
            internal ``validation_fraction`` split.
        callback : callable, optional
            ``callback(est, logs)`` after every epoch, logs = {"epoch", "loss", "val_score",
            "val_loss", "lr", "time"} (val_* None without validation data); returning True
            stops training.
        """
        hidden, act, dropout = self._validate_params()
        first_pass = not hasattr(self, "_net") or (not self.warm_start and not incremental)
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        with self._unchanged_on_error():
            X = self._check_X(X, reset=first_pass)
            Y, y_raw = self._encode_targets(X, y, incremental, first_pass, classes)
            sw = _v.check_sample_weight(sample_weight, X.shape[0])
            sw = self._apply_class_weight(y_raw, sw, incremental)
            if not first_pass:
                self._check_compatible(hidden, Y.shape[1])
        rng = _v.check_random_state(self.random_state)
        if first_pass:
            self._initialize(hidden, act, dropout, X.shape[1], Y.shape[1], X.dtype, rng)
        else:
            # Parameters may have changed since the last fit (set_params): the optimizer
            # state survives unless the optimizer itself changed.
            self._net.reconfigure(**self._net_options(dropout))
            self._bind_views()
            if not incremental:
                self._lr = float(self.learning_rate_init)  # a new fit restarts the schedule
        dtype = self._net.dtype
        X = np.ascontiguousarray(X, dtype=dtype)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        val = None
        if validation_data is not None:
            X_val, y_val = validation_data
            X_val = self._check_X(X_val, reset=False)
            y_val = np.asarray(y_val)
            if len(y_val) != len(X_val):
                raise ValueError(f"validation_data has {len(X_val)} samples in X but "
                                 f"{len(y_val)} in y")
            val = (X_val, y_val, None)
        self._fit_stochastic(X, Y, y_raw, sw, rng, incremental, val, callback)
        return self

    @contextlib.contextmanager
    def _unchanged_on_error(self):
        """Undo the attributes that input validation set (n_features_in_, classes_, ...)
        when it fails, so bad input leaves a fitted estimator as it was."""
        before = dict(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _check_compatible(self, hidden, n_outputs):
        units = self._net.layer_units
        if units[1:-1] != hidden or units[-1] != n_outputs:
            raise ValueError(f"{self._name()} was fitted with layer sizes {units}; warm_start "
                             "and partial_fit need the same hidden_layer_sizes and outputs, "
                             f"got hidden {hidden} and {n_outputs} outputs. Use "
                             "warm_start=False to train a new network.")

    def _batch_size(self, n):
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going "
                          "to be clipped", UserWarning, stacklevel=4)
        return int(np.clip(self.batch_size, 1, n))

    def _fit_stochastic(self, X, Y, y_raw, sw, rng, incremental, val, callback):
        early_stopping = self.early_stopping
        if early_stopping and self.validation_scores_ is None:
            # early_stopping switched on between warm-started fits.
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
        elif not early_stopping and self.best_loss_ is None:
            self.best_loss_ = np.inf
        if early_stopping and val is None:
            stratify = y_raw if self._stratify() else None
            tr, va = split_indices(X.shape[0], self.validation_fraction, rng, stratify)
            if va.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            val = (X[va], y_raw[va], None if sw is None else sw[va])
            X, Y = X[tr], Y[tr]
            sw = None if sw is None else sw[tr]
            if sw is not None and not sw.any():
                raise ValueError("Sample weights of the training part (after setting aside "
                                 "the validation set) are all zero.")
        n = X.shape[0]
        bs = self._batch_size(n)
        sample_idx = np.arange(n, dtype=np.intp)
        self.n_iter_ = 0
        try:
            for _ in range(self.max_iter):
                if self.shuffle:
                    # scikit-learn's utils.shuffle: a shuffled arange indexes the order.
                    order = np.arange(n)
                    rng.shuffle(order)
                    sample_idx = sample_idx[order]
                t0 = time.perf_counter()
                lr = self._lr
                loss = self._run_epoch(X, Y, sw, sample_idx if self.shuffle else None, bs)
                seconds = time.perf_counter() - t0
                self.n_iter_ += 1
                self.loss_ = loss
                self.t_ += n
                self.loss_curve_.append(loss)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
                score = val_loss = None
                if val is not None:
                    score, val_loss = self._validation_metrics(*val)
                self._update_no_improvement_count(early_stopping, score)
                stop = callback is not None and callback(self, {
                    "epoch": self.n_iter_, "loss": loss, "val_score": score,
                    "val_loss": val_loss, "lr": lr, "time": seconds})
                if self.solver == "sgd" and self.learning_rate == "invscaling":
                    self._lr = float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t
                if stop:
                    break
                if self._no_improvement_count > self.n_iter_no_change:
                    what = ("Validation score" if early_stopping else "Training loss")
                    msg = ("%s did not improve more than tol=%f for %d consecutive epochs."
                           % (what, self.tol, self.n_iter_no_change))
                    if self._trigger_stopping(msg):
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and "
                                  "the optimization hasn't converged yet." % self.max_iter,
                                  skc.error_class("ConvergenceWarning"), stacklevel=3)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", UserWarning, stacklevel=3)
        if early_stopping:
            for dst, src in zip(self._net.coefs + self._net.intercepts,
                                self._best_coefs + self._best_intercepts):
                dst[...] = src

    def _trigger_stopping(self, msg):
        """scikit-learn's rule: stop, or with sgd + 'adaptive' divide the rate by 5."""
        if self.solver != "sgd" or self.learning_rate != "adaptive":
            if self.verbose:
                print(msg + " Stopping.")
            return True
        if self._lr <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self._lr /= 5.0
        if self.verbose:
            print(msg + " Setting learning rate to %f" % self._lr)
        return False

    def _run_epoch(self, X, Y, sw, perm, bs):
        """One pass over X in batches of bs; returns scikit-learn's epoch loss."""
        n = X.shape[0]
        n_full, rem = divmod(n, bs)
        alpha = float(self.alpha)
        total = 0.0
        if sw is None:
            # Batches of equal size share the L2 scale alpha / batch size: one native call for
            # all full batches, one for the short last batch.
            groups = [(0, n_full, bs)] if n_full else []
            if rem:
                groups.append((n_full, 1, rem))
            for b0, nb, rows in groups:
                losses = self._train(X, Y, None, perm, bs, b0, nb, alpha / rows)
                total += float(np.sum(losses)) * rows
            return total / n
        # Weighted: scikit-learn normalises each batch by its weight sum s (loss, gradient and
        # L2 term); lepton's loss divides by the row count, so weights become w * rows / s.
        order = perm if perm is not None else np.arange(n)
        w_eff = np.empty(n, dtype=self._net.dtype)
        for b in range(n_full + (1 if rem else 0)):
            idx = order[b * bs:(b + 1) * bs]
            s = float(np.sum(sw[idx]))
            if s == 0:
                continue  # nothing to learn from this batch (scikit-learn would get NaN)
            w_eff[idx] = sw[idx] * (len(idx) / s)
            total += float(self._train(X, Y, w_eff, perm, bs, b, 1, alpha / s)[0]) * len(idx)
        return total / n

    def _train(self, X, Y, sw, perm, bs, b0, nb, l2):
        """Batches b0 .. b0+nb-1 in one native call; scikit-learn's loss of each batch."""
        return self._net.train(X, Y, sw, perm, bs, b0, nb, self._lr, l2)

    def _update_no_improvement_count(self, early_stopping, score):
        if early_stopping:
            self.validation_scores_.append(score)
            if self.verbose:
                print("Validation score: %f" % score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._snapshot_best()
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _validation_metrics(self, X, y, sample_weight):
        """(score, loss) on held-out data: accuracy or R^2 (NaN if outputs are not finite),
        and scikit-learn's loss without the penalty."""
        out = self._forward(X, check_input=False)
        if not np.isfinite(out).all():
            return np.nan, np.nan
        return (self._score_outputs(out, y, sample_weight),
                self._loss_outputs(out, y, sample_weight))
