"""The shared parameter and attribute sections of the estimators' docstrings."""

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
