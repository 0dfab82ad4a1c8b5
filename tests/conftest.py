"""Fixtures shared by several test modules (plain helpers: _helpers.py).

Markers (registered in pyproject.toml): ``build`` for tests that build lepton (a serial
build, a wheel), ``slow`` for tests taking more than a few seconds.  ``python -m pytest``
runs everything; ``python -m pytest -m "not slow and not build"`` is the fast loop.
"""
import pytest

from lepton.datasets import load_digits


@pytest.fixture(scope="module")
def digits():
    """The embedded UCI digits as ``(X / 16, y)``: features in [0, 1], float64."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def digits_split(digits):
    """``(X_train, X_test, y_train, y_test)``: scikit-learn's 75/25 split of :func:`digits`
    with ``random_state=0`` (skips without scikit-learn)."""
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = digits
    return tuple(model_selection.train_test_split(X, y, test_size=0.25, random_state=0))
