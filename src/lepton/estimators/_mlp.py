"""MLPClassifier and MLPRegressor: scikit-learn's parameters and fitted attributes over
lepton's training engine (see :mod:`lepton.estimators`)."""
import numpy as np

from lepton import _sklcompat as skc
from lepton import _validation as _v
from lepton import io as _io
from lepton.estimators._base import _BaseMLP
from lepton.estimators._docs import _ATTRS_DOC, _PARAMS_DOC
from lepton.metrics import accuracy_score, r2_score
from lepton._serial import serialised

__all__ = ["MLPClassifier", "MLPRegressor"]


@_io.register("mlp_classifier")
class MLPClassifier(_BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier (drop-in for scikit-learn's).

    Minimises the log-loss with Adam or SGD.  Binary targets use one logistic output,
    multiclass targets a softmax, multilabel indicator targets one logistic output per label.

    Parameters
    ----------{_PARAMS_DOC}
    class_weight : dict, 'balanced' or None, default=None
        lepton extra: weights ``{{class_label: weight}}`` multiplying the sample weights;
        'balanced' uses ``n_samples / (n_classes * np.bincount(y))``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multilabel targets, the label indices 0..n_labels-1).
{_ATTRS_DOC}
    See Also
    --------
    MLPRegressor : The regressor.
    lepton.convert.from_sklearn : Load the weights of a fitted scikit-learn MLP.

    Examples
    --------
    >>> from lepton import MLPClassifier
    >>> from lepton.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=50, random_state=0)
    >>> clf.fit(X / 16, y).score(X / 16, y) > 0.95
    True
    """

    _estimator_type = "classifier"
    _real_targets = False

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, class_weight=None, dtype=None, n_threads=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.class_weight = class_weight
        self.dtype = dtype
        self.n_threads = n_threads

    # ------------------------------------------------------------------ hooks of _BaseMLP
    def _out_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _stratify(self):
        return self._label_binarizer.y_type_ != "multilabel-indicator"

    def _encode_targets(self, X, y, incremental, first_pass, classes=None):
        y = skc.check_y(y, X.shape[0], estimator_name=self._name(), numeric=False)
        if y.ndim == 2 and y.shape[1] == 1:
            y = skc.column_or_1d(y, warn=True)
        fresh = not hasattr(self, "classes_") or (not self.warm_start and not incremental)
        if fresh and classes is None:
            lb = skc.LabelBinarizer().fit(y)  # check_classification_targets(y) included
            if lb.y_type_ != "multilabel-indicator" and len(lb.classes_) < 2:
                raise ValueError(f"{self._name()} needs samples of at least 2 classes in the "
                                 "data, but the data contains only one class: "
                                 f"{lb.classes_[0]!r}.")
            self._label_binarizer, self.classes_ = lb, lb.classes_
            return lb.transform(y), y
        # partial_fit and warm_start: the same target-type check as fit's.
        y_type = skc.check_classification_targets(y)
        if fresh and y_type == "multilabel-indicator":
            lb = skc.LabelBinarizer().fit(y)
        elif fresh:  # the first partial_fit: all classes are given
            lb = skc.LabelBinarizer().fit(None, classes=classes)
            if len(lb.classes_) < 2:
                raise ValueError(f"{self._name()} needs at least 2 classes, got classes="
                                 f"{classes!r}.")
        else:
            lb = self._label_binarizer
        if lb.y_type_ == "multilabel-indicator" or y.ndim == 2:
            if y.ndim != 2 or y.shape[1] != len(lb.classes_):
                raise ValueError(f"y has shape {y.shape}, but {self._name()} was fitted on "
                                 f"a multilabel target with {len(lb.classes_)} labels.")
        elif self.warm_start and not incremental:
            found = skc.unique_labels(y)
            if set(found.tolist()) != set(lb.classes_.tolist()):
                raise ValueError("warm_start can only be used where `y` has the same "
                                 "classes as in the previous call to fit. Previously got "
                                 f"{lb.classes_}, `y` has {found}")
        elif len(np.setdiff1d(skc.unique_labels(y), lb.classes_)):
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{lb.classes_}. 'y' has {skc.unique_labels(y)}.")
        self._label_binarizer, self.classes_ = lb, lb.classes_
        return lb.transform(y), y

    def _apply_class_weight(self, y, sw, incremental):
        if self.class_weight is None:
            return sw
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            raise ValueError("class_weight is not supported for multilabel targets; pass "
                             "sample_weight instead.")
        if incremental and isinstance(self.class_weight, str):
            raise ValueError(f"class_weight {self.class_weight!r} is not supported for "
                             "partial_fit (each call sees only part of the data); pass a dict "
                             "computed on the full target instead.")
        cw = skc.compute_class_weight(self.class_weight, self.classes_, y)
        w = cw[np.searchsorted(self.classes_, y)]
        with np.errstate(over="ignore"):  # an overflow is reported by check_weight_values
            out = w if sw is None else sw * w
        return _v.check_weight_values(out, np.float64, "sample_weight (after class_weight)")

    def _score_outputs(self, out, y, sample_weight):
        return skc.accuracy(y, self._label_binarizer.inverse_transform(out), sample_weight)

    def _loss_outputs(self, out, y, sample_weight):
        # scikit-learn's log-loss: probabilities clipped to [eps, 1 - eps], summed over
        # outputs (both sides of each logistic output), averaged over samples.
        Y = self._label_binarizer.transform(y)
        eps = np.finfo(out.dtype).eps
        p = np.clip(out.astype(np.float64), eps, 1 - eps)
        per = -(Y * np.log(p)).sum(axis=1)
        if self.out_activation_ == "logistic":
            per -= ((1 - Y) * np.log(1 - p)).sum(axis=1)
        return float(np.average(per, weights=sample_weight))

    # ------------------------------------------------------------------ public API
    @serialised()
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 indicator matrix for multilabel classification.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : MLPClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @serialised()
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        classes : array-like of shape (n_classes,), default=None
            All classes across calls; required on the first call (for a multilabel
            indicator y, the label indices ``range(n_labels)``), optional afterwards.

        Returns
        -------
        self : MLPClassifier
            The updated estimator.
        """
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                                 f"partial_fit, was: {self.classes_!r}")
        return self._fit(X, y, sample_weight=sample_weight, incremental=True,
                         classes=classes if first else None)

    def predict(self, X):
        """Predict class labels (an indicator matrix for multilabel targets).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The predicted classes.
        """
        out = self._forward(X)  # checks fitted-ness before _label_binarizer is touched
        return self._label_binarizer.inverse_transform(out)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_`` (for multilabel targets,
            the probability of each label).
        """
        out = self._forward(X)
        if out.shape[1] == 1:
            p = out[:, 0]
            return np.stack([1 - p, p], axis=1)
        return out

    def predict_log_proba(self, X):
        """Log of the probability estimates, ``log(predict_proba(X))``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        p = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(p, out=p)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on the given data (subset accuracy for multilabel targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)

    @classmethod
    def from_sklearn(cls, est, *, dtype=None):
        """A fitted lepton MLPClassifier with the weights of a fitted scikit-learn one.

        Parameters
        ----------
        est : sklearn.neural_network.MLPClassifier
            A fitted scikit-learn classifier.
        dtype : {None, 'float32', 'float64'}, default=None
            Precision of the lepton network (None: that of ``est.coefs_``).

        Returns
        -------
        clf : MLPClassifier
        """
        from lepton.convert import estimator_from_sklearn
        return estimator_from_sklearn(cls, est, dtype=dtype)


@_io.register("mlp_regressor")
class MLPRegressor(_BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor (drop-in for scikit-learn's).

    Minimises the squared error (``0.5 * mean((y - prediction) ** 2)``) with Adam or SGD; the
    output layer is linear, with one unit per target column.

    Parameters
    ----------
    loss : {{'squared_error'}}, default='squared_error'
        The loss.  scikit-learn's 'poisson' is not supported yet.
{_PARAMS_DOC}
    Attributes
    ----------{_ATTRS_DOC}
    See Also
    --------
    MLPClassifier : The classifier.

    Examples
    --------
    >>> import numpy as np
    >>> from lepton import MLPRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, (500, 3))
    >>> y = X[:, 0] - 2 * X[:, 1] ** 2
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.9
    True
    """

    _estimator_type = "regressor"

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, dtype=None, n_threads=None):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.dtype = dtype
        self.n_threads = n_threads

    def _validate_params(self):
        if self.loss == "poisson":
            raise skc.UnsupportedParameterError(
                "loss='poisson' is not supported by lepton yet; use loss='squared_error'.")
        if self.loss != "squared_error":
            raise self._bad("loss", "a str among {'squared_error', 'poisson'}", self.loss)
        return super()._validate_params()

    # ------------------------------------------------------------------ hooks of _BaseMLP
    def _out_activation(self):
        return "identity"

    def _stratify(self):
        return False

    def _encode_targets(self, X, y, incremental, first_pass, classes=None):
        y = skc.check_y(y, X.shape[0], estimator_name=self._name(), numeric=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = skc.column_or_1d(y, warn=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.target_preprocessing:   # train in the transformed target space
            Y = np.asarray(self._transform_targets(Y), dtype=np.float64)
            y = Y[:, 0] if y.ndim == 1 else Y
        return Y.astype(np.float64, copy=False), y

    def _apply_class_weight(self, y, sw, incremental):
        return sw

    def _score_outputs(self, out, y, sample_weight):
        return skc.r2(y, out, sample_weight)

    def _loss_outputs(self, out, y, sample_weight):
        # scikit-learn's squared_error: half the mean squared error over samples and outputs.
        err = (out.astype(np.float64) - np.asarray(y, np.float64).reshape(len(out), -1)) ** 2
        return float(0.5 * np.average(err, weights=sample_weight, axis=0).mean())

    # ------------------------------------------------------------------ public API
    @serialised()
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : MLPRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @serialised()
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : MLPRegressor
            The updated estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The predicted values (in the network's dtype), mapped back through the inverse
            of the attached ``target_preprocessing`` if any.
        """
        out = self._forward(X)
        if self.target_preprocessing:
            out = np.ascontiguousarray(self._restore_targets(out), dtype=out.dtype)
        return out[:, 0].copy() if out.shape[1] == 1 else out

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of the prediction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R^2, averaged uniformly over targets.
        """
        return r2_score(y, self.predict(X), sample_weight=sample_weight)

    @classmethod
    def from_sklearn(cls, est, *, dtype=None):
        """A fitted lepton MLPRegressor with the weights of a fitted scikit-learn one.

        Parameters
        ----------
        est : sklearn.neural_network.MLPRegressor
            A fitted scikit-learn regressor.
        dtype : {None, 'float32', 'float64'}, default=None
            Precision of the lepton network (None: that of ``est.coefs_``).

        Returns
        -------
        reg : MLPRegressor
        """
        from lepton.convert import estimator_from_sklearn
        return estimator_from_sklearn(cls, est, dtype=dtype)
