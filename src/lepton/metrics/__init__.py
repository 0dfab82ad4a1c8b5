"""Classification and regression metrics, computed with NumPy only.

Every function here matches the scikit-learn function of the same name (argument names,
defaults, results, warnings) for the arguments lepton supports, so that numbers reported
by lepton can be compared with scikit-learn's directly; scikit-learn is not needed.

Classification targets may be 1-D label arrays (numbers or strings, binary or multiclass)
or 2-D 0/1 label-indicator matrices (multilabel).

Modules: ``_classification`` and ``_regression`` hold the metrics, ``_checks`` the input
checks they share.
"""
from lepton.metrics._checks import UndefinedMetricWarning
from lepton.metrics._classification import (accuracy_score, classification_report,
                                            confusion_matrix, f1_score, fbeta_score, log_loss,
                                            precision_recall_fscore_support, precision_score,
                                            recall_score)
from lepton.metrics._regression import mean_absolute_error, mean_squared_error, r2_score

__all__ = [
    "UndefinedMetricWarning", "accuracy_score", "confusion_matrix",
    "precision_recall_fscore_support", "precision_score", "recall_score", "f1_score",
    "fbeta_score", "classification_report", "log_loss", "mean_squared_error",
    "mean_absolute_error", "r2_score",
]
