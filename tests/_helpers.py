"""Plain helpers shared by several test modules (fixtures live in conftest.py).

Import them as ``from _helpers import ...``: pytest puts this directory on ``sys.path``.
"""
import os

import numpy as np

import lepton
from lepton import Dense, Dropout, Model

#: The directory holding the ``lepton`` package under test (in-tree build or installed).
SRC = os.path.dirname(os.path.dirname(os.path.abspath(lepton.__file__)))


def child_env(**extra):
    """``os.environ`` (plus ``extra``) for a child Python that imports the same lepton."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = SRC + os.pathsep + os.environ.get("PYTHONPATH", "")
    return env


def randn(rng, shape, dtype, scale=3.0):
    """``scale`` * standard normal values of ``dtype``."""
    return (scale * rng.standard_normal(shape)).astype(dtype)


def targets(rng, loss, shape, dtype):
    """Targets as the loss kernels take them: one-hot rows (softmax cross-entropy), 0/1
    (binary cross-entropy), or :func:`randn` values (regression)."""
    rows, cols = shape
    if loss == "softmax_cross_entropy":
        y = np.zeros(shape)
        if cols:
            y[np.arange(rows), rng.integers(0, cols, rows)] = 1
        return y.astype(dtype)
    if loss == "binary_cross_entropy":
        return rng.random(shape).round().astype(dtype)
    return randn(rng, shape, dtype)


def blobs(n=120, seed=0):
    """Three separable Gaussian classes in 4 features: ``(X, y)``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.standard_normal((n, 4)) + 2.0 * np.eye(3, 4)[y]
    return X, y


def classifier(hidden=32, *, dropout=0.0, dtype="float32", seed=0):
    """A 4-``hidden``(relu)-3(softmax) Model, with Dropout after the hidden layer if asked."""
    layers = [Dense(hidden, activation="relu")]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(3, activation="softmax"))
    return Model(layers, input_dim=4, dtype=dtype, seed=seed)
