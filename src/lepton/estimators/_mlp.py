"""scikit-learn compatible multilayer perceptrons trained by lepton's native kernels.

:class:`MLPClassifier` and :class:`MLPRegressor` take the same parameters, with the same
defaults, as scikit-learn's estimators of the same names, expose the same fitted attributes and
methods, and reproduce their training procedure (initialisation, batches, losses, learning-rate
rules, stopping rule).  They add lepton's extras: every lepton activation, ``dropout``,
``class_weight`` (classifier), ``dtype`` and ``n_threads``; the optimizer state is kept across
``warm_start`` fits and ``partial_fit`` calls.

scikit-learn is not needed to use them; when it is installed they work with its ``clone``,
``Pipeline``, ``GridSearchCV`` and ``cross_val_score`` and pass its ``check_estimator``.
"""
import numpy as np

from lepton import _sklcompat as skc
from lepton import io as _io
from lepton._mlp_base import _BaseMLP

__all__ = ["MLPClassifier", "MLPRegressor"]

_PARAMS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.

    activation : str, default='relu'
        Activation of the hidden layers: 'identity', 'logistic' (= 'sigmoid'), 'tanh',
        'relu' (scikit-learn's four), or lepton's 'leaky_relu', 'elu', 'gelu' (tanh
        approximation), 'softplus'.

    solver : {'adam', 'sgd'}, default='adam'
        The stochastic optimizer.  'lbfgs' (scikit-learn's third choice) is not supported yet
        and raises an error at fit time.

    alpha : float, default=0.0001
        Strength of the L2 penalty, ``alpha / (2 * batch weight) * sum of squared weights``
        added to each batch loss (biases are not penalised).

    batch_size : int or 'auto', default='auto'
        Mini-batch size; 'auto' is ``min(200, n_samples)``.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of solver='sgd' (as in scikit-learn): 'invscaling' sets it to
        ``learning_rate_init / (t + 1) ** power_t`` after each epoch, t being the number of
        samples seen; 'adaptive' divides it by 5 each time ``n_iter_no_change`` epochs fail to
        improve by ``tol``.

    learning_rate_init : float, default=0.001
        The initial learning rate.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs.

    shuffle : bool, default=True
        Whether to shuffle the samples before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the early-stopping split and dropout.  With
        the same int, lepton draws the same initial weights and batches as scikit-learn.

    tol : float, default=1e-4
        Training stops when the loss (or validation score with ``early_stopping``) has not
        improved by ``tol`` for ``n_iter_no_change`` consecutive epochs.

    verbose : bool, default=False
        Print the loss after each epoch.

    warm_start : bool, default=False
        Reuse the previous solution (and, unlike scikit-learn, the optimizer's moment
        estimates) as the starting point of the next ``fit``.

    momentum : float, default=0.9
        Momentum of solver='sgd'.

    nesterovs_momentum : bool, default=True
        Whether solver='sgd' uses Nesterov's momentum.

    early_stopping : bool, default=False
        Set aside ``validation_fraction`` of the training data and stop when the validation
        score stops improving; the best weights are kept.

    validation_fraction : float, default=0.1
        Fraction of the training data used for early stopping.

    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.

    epsilon : float, default=1e-8
        Adam's numerical-stability term.

    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping.

    max_fun : int, default=15000
        Only used by solver='lbfgs' (not supported); accepted for compatibility.

    dropout : float or list of float, default=0.0
        lepton extra: dropout rate after each hidden layer (one float for all, or one per
        hidden layer), applied during training only.

    dtype : {None, 'float32', 'float64'}, default=None
        lepton extra: precision of the network.  None follows the training data: float32 input
        gives a float32 network (about twice as fast), anything else float64.

    n_threads : int or None, default=None
        lepton extra: threads used by the kernels (None: ``lepton.get_num_threads()``;
        -1: all processors).
"""

_ATTRS_DOC = """
    loss_ : float
        The loss of the last epoch (mean over its batches, penalty included).

    best_loss_ : float or None
        The lowest epoch loss (None with ``early_stopping``).

    loss_curve_ : list of float
        The loss of each epoch.

    validation_scores_ : list of float or None
        Validation score after each epoch with ``early_stopping``, else None.

    best_validation_score_ : float or None
        Best validation score with ``early_stopping``, else None.

    t_ : int
        Number of training samples seen.

    coefs_ : list of ndarray
        ``coefs_[i]`` is the (n_in, n_out) weight matrix of layer i (a view of the network's
        parameters: writing into it changes the model).

    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer i.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of str
        Column names seen during fit, when X was a DataFrame with string column names.

    n_iter_ : int
        Number of epochs run by the last ``fit`` (1 after ``partial_fit``).

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Output activation: 'softmax', 'logistic' or 'identity'.
"""


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

    def _encode_targets(self, X, y, incremental, first_pass):
        y = skc.check_y(y, X.shape[0], estimator_name=self._name(), numeric=False)
        if y.ndim == 2 and y.shape[1] == 1:
            y = skc.column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            lb = skc.LabelBinarizer().fit(y)
            if lb.y_type_ != "multilabel-indicator" and len(lb.classes_) < 2:
                raise ValueError(f"{self._name()} needs samples of at least 2 classes in the "
                                 "data, but the data contains only one class: "
                                 f"{lb.classes_[0]!r}.")
            self._label_binarizer = lb
            self.classes_ = lb.classes_
        else:
            classes = skc.unique_labels(y)
            if self._label_binarizer.y_type_ == "multilabel-indicator" or y.ndim == 2:
                if y.ndim != 2 or y.shape[1] != len(self.classes_):
                    raise ValueError(f"y has shape {y.shape}, but {self._name()} was fitted on "
                                     f"a multilabel target with {len(self.classes_)} labels.")
            elif self.warm_start and not incremental:
                if set(classes.tolist()) != set(self.classes_.tolist()):
                    raise ValueError("warm_start can only be used where `y` has the same "
                                     "classes as in the previous call to fit. Previously got "
                                     f"{self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {classes}.")
        return self._label_binarizer.transform(y), y

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
        out = w if sw is None else sw * w
        if not out.any():
            raise ValueError("Sample weights (after class_weight) must contain at least one "
                             "non-zero number.")
        return out

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
            All classes across calls; required on the first call (unless y is a multilabel
            indicator matrix), optional afterwards.

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
        if first:
            if skc.type_of_target(np.asarray(y)) == "multilabel-indicator":
                lb = skc.LabelBinarizer().fit(y)
            else:
                lb = skc.LabelBinarizer().fit(None, classes=classes)
                if len(lb.classes_) < 2:
                    raise ValueError(f"{self._name()} needs at least 2 classes, got classes="
                                     f"{classes!r}.")
            self._label_binarizer = lb
            self.classes_ = lb.classes_
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

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
        return skc.accuracy(np.asarray(y), self.predict(X), sample_weight)

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
    >>> reg = MLPRegressor((32,), max_iter=300, random_state=0).fit(X, y)
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

    def _encode_targets(self, X, y, incremental, first_pass):
        y = skc.check_y(y, X.shape[0], estimator_name=self._name(), numeric=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = skc.column_or_1d(y, warn=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
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
            The predicted values (in the network's dtype).
        """
        out = self._forward(X)
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
        return skc.r2(np.asarray(y), self.predict(X), sample_weight)

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
