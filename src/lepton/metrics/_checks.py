"""Input checks shared by lepton's metric functions (private)."""
import numpy as np


class UndefinedMetricWarning(UserWarning):
    """Warning raised when a metric is ill-defined (e.g. precision with nothing predicted)."""


def _as_array(y, name):
    if y is None or isinstance(y, (str, bytes)):
        raise ValueError(f"{name} must be an array-like of labels or values, got {y!r}")
    arr = np.asarray(y)
    if arr.dtype == object:
        flat = arr.ravel()
        if flat.size and all(isinstance(v, str) for v in flat):
            arr = arr.astype(str)
        else:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must hold numbers or strings; got objects such "
                                 f"as {flat[0]!r}") from None
    if arr.dtype.kind not in "biufU":
        raise ValueError(f"{name} must hold numbers or strings, got dtype {arr.dtype}")
    return arr


def _assert_finite(arr, name):
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        what = "NaN" if np.isnan(arr).any() else "infinity"
        raise ValueError(f"Input {name} contains {what}.")


def _check_lengths(**arrays):
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {detail}.")


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    sw = _as_array(sample_weight, "sample_weight")
    if sw.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be numeric, got dtype {sw.dtype}")
    if sw.ndim != 1:
        raise ValueError(f"sample_weight must be 1-D, got an array of shape {sw.shape}")
    if sw.shape[0] != n_samples:
        raise ValueError(f"sample_weight has {sw.shape[0]} entries, but there are "
                         f"{n_samples} samples; expected one weight per sample.")
    _assert_finite(sw, "sample_weight")
    if not sw.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sw
