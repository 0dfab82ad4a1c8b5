"""Exceptions lepton raises beyond the built-in ones."""

__all__ = ["DivergenceError", "NotFittedError"]


class DivergenceError(FloatingPointError, ValueError):
    """Training diverged: a loss, or the update a step would make, is not finite.

    The step that diverged is not applied, so the model keeps the last finite weights and
    optimizer state.  A ``ValueError`` too, like scikit-learn's error for the same event.
    """


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator or transformer was called before ``fit``.

    A ValueError and an AttributeError, like scikit-learn's exception of the same name;
    when scikit-learn is loaded, the estimators raise a class deriving from both this one
    and scikit-learn's, so either ``except`` clause catches it.
    """
