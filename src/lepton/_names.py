"""String names <-> native codes for activations, losses and optimizers.

The codes match the ``cpdef enum`` values in ``_core.pxd``; every public entry point takes
the strings and turns them into codes here, so an unknown name fails in one place with one
message.
"""

ACTIVATIONS = {
    "identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4, "elu": 5,
    "gelu": 6, "softplus": 7, "softmax": 8,
}
# scikit-learn spells identity "identity" and sigmoid "logistic"; accept both.
ACTIVATION_ALIASES = {"linear": "identity", "logistic": "sigmoid", "none": "identity"}

LOSSES = {
    "softmax_cross_entropy": 0, "binary_cross_entropy": 1, "mse": 2, "mae": 3, "huber": 4,
}
LOSS_ALIASES = {
    "cross_entropy": "softmax_cross_entropy", "categorical_cross_entropy": "softmax_cross_entropy",
    "log_loss": "softmax_cross_entropy", "bce": "binary_cross_entropy",
    "mean_squared_error": "mse", "mean_absolute_error": "mae",
}

OPTIMIZERS = {"sgd": 0, "momentum": 1, "nesterov": 2, "adam": 3, "adamw": 4}

# Default extra parameter of parametrised activations (leaky_relu slope, elu alpha).
ACTIVATION_PARAM = {"leaky_relu": 0.01, "elu": 1.0}


def _lookup(kind, table, aliases, name):
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a string, got {type(name).__name__}: {name!r}")
    key = name.strip().lower()
    key = aliases.get(key, key)
    if key not in table:
        raise ValueError(f"unknown {kind} {name!r}; expected one of {sorted(table)}")
    return key


def activation_name(name):
    """Canonical activation name for ``name`` (raises ValueError if unknown)."""
    return _lookup("activation", ACTIVATIONS, ACTIVATION_ALIASES, name)


def loss_name(name):
    """Canonical loss name for ``name`` (raises ValueError if unknown)."""
    return _lookup("loss", LOSSES, LOSS_ALIASES, name)


def loss_code(name):
    """Native code of a loss name."""
    return LOSSES[loss_name(name)]


def optimizer_name(name):
    """Canonical optimizer name for ``name`` (raises ValueError if unknown)."""
    return _lookup("optimizer", OPTIMIZERS, {}, name)


def optimizer_code(name):
    """Native code of an optimizer name."""
    return OPTIMIZERS[optimizer_name(name)]
