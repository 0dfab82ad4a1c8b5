"""scikit-learn compatible multilayer perceptrons trained by lepton's native kernels.

:class:`MLPClassifier` and :class:`MLPRegressor` take the same parameters, with the same
defaults, as scikit-learn's estimators of the same names, expose the same fitted attributes and
methods, and reproduce their training procedure (initialisation, batches, losses, learning-rate
rules, stopping rule).  They add lepton's extras: every lepton activation, ``dropout``,
``class_weight`` (classifier), ``dtype`` and ``n_threads``; the optimizer state is kept across
``warm_start`` fits and ``partial_fit`` calls.

scikit-learn is not needed to use them; when it is installed they work with its ``clone``,
``Pipeline``, ``GridSearchCV`` and ``cross_val_score`` and pass its ``check_estimator``.

Modules: ``_mlp`` (the two estimators), ``_base`` (their shared scikit-learn policy: parameter
checks, initialisation, batch order, loss scaling, stopping rule), ``_net`` (the network and
the training engine configured for that policy), ``_state`` (saving and loading).
"""
from lepton.estimators._mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
